"""Defenses: transforms a data thief could apply to a protected training set."""

from __future__ import annotations

from typing import Any

from core.defenses.base import Defense
from core.defenses.resample import ResampleRoundTrip, resample_round_trip
from core.registry import Registry

DEFENSES: Registry = Registry("defense")


@DEFENSES.register("resample")
def _resample(spec: dict[str, Any]) -> Defense:
    unknown = set(spec) - {"via_hz"}
    if unknown:
        raise ValueError(f"defense 'resample' has unknown key(s) {sorted(unknown)}; allowed: ['via_hz']")
    return ResampleRoundTrip(via_hz=int(spec.get("via_hz", 8000)))


def defense_from_dict(spec: dict[str, Any]) -> Defense:
    """Build a defense from config data, e.g. `{kind = "resample", via_hz = 8000}`."""
    if "kind" not in spec:
        raise ValueError(f"defense needs a 'kind'; expected one of: {', '.join(DEFENSES.names())}")
    return DEFENSES.get(spec["kind"])({k: v for k, v in spec.items() if k != "kind"})


__all__ = ["DEFENSES", "Defense", "ResampleRoundTrip", "defense_from_dict", "resample_round_trip"]
