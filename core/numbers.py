"""What every validator means by "a number": one definition, so that all of them refuse
the same things (bools, strings, NaN, infinities, integers too large for a float)."""

from __future__ import annotations

import math


def is_finite_number(value: object) -> bool:
    """True for an int or float (not a bool) that is finite as a float. A 400-digit integer
    is not: math.isfinite would raise OverflowError on it rather than answer."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
