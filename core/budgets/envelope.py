"""Envelope: the poster's dynamic epsilon without steps.

eps(x, t) follows a smoothed amplitude envelope of the clip: the mean |x| over a window
centred on t (the paper's segment level, sliding instead of in fixed blocks), mapped to a
mask by linear interpolation between a MaskTable's (threshold, mask) points, times eps_max.
So a loud syllable's bound rises and falls with it, with no 1000-sample block edges in the
bound (or, after min-min fills it, in the noise); eps_max stays the L-inf cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from core.budgets.band import band_limit_entry, check_band_limit
from core.budgets.base import check_eps, check_waveforms
from core.budgets.mask_table import PAPER_TABLE, MaskTable


def amplitude_envelope(x: torch.Tensor, window_samples: int) -> torch.Tensor:
    """Mean |x| over `window_samples` centred on each sample: [N, T] -> [N, T] float64.

    Near the clip's ends the window holds only the samples the clip has (no zero padding
    pulls the level down). float64, like segment_levels, so levels compare exactly.
    """
    a = x.double().abs()
    t = a.shape[1]
    cumulative = torch.nn.functional.pad(a.cumsum(1), (1, 0))
    start = torch.arange(t, device=x.device) - window_samples // 2
    lo, hi = start.clamp(0, t), (start + window_samples).clamp(0, t)
    return (cumulative[:, hi] - cumulative[:, lo]) / (hi - lo).to(a.dtype)


def interpolated_mask(table: MaskTable, level: torch.Tensor) -> torch.Tensor:
    """Mask of each level (any shape), linear between the table's (threshold, mask) points
    and constant beyond its first and last threshold; a one-row table is a constant mask."""
    xs = torch.tensor(table.thresholds[::-1], dtype=level.dtype, device=level.device)
    ys = torch.tensor(table.masks[::-1], dtype=level.dtype, device=level.device)
    if len(xs) == 1:
        return ys.expand_as(level).clone()
    level = level.clamp(xs[0], xs[-1])
    right = torch.searchsorted(xs, level.contiguous(), right=True).clamp(1, len(xs) - 1)
    x0, x1, y0, y1 = xs[right - 1], xs[right], ys[right - 1], ys[right]
    return y0 + (level - x0) / (x1 - x0) * (y1 - y0)


@dataclass(frozen=True)
class Envelope:
    """eps(x, t) = interpolated_mask(table, amplitude_envelope(x)[t]) * eps_max.

    Args:
        eps_max: the L-inf cap, reached where the envelope is at or above the table's first
            threshold.
        table: (threshold, mask) points of the level-to-mask curve; the paper's Table 1 by
            default, so a level of 0.1 or more gets eps_max and silence gets 0.0385 * eps_max.
        window_samples: envelope window (the paper's segment: 1000 samples, 62.5 ms).
        band_limit_hz: generate the noise below this frequency (core.budgets.band).
    """

    eps_max: float
    table: MaskTable = field(default=PAPER_TABLE)
    window_samples: int = 1000
    band_limit_hz: float | None = None

    def __post_init__(self) -> None:
        check_eps("eps_max", self.eps_max)
        check_band_limit(self.band_limit_hz)
        if isinstance(self.window_samples, bool) or not isinstance(self.window_samples, int):
            raise ValueError(f"window_samples must be an integer, got {self.window_samples!r}")
        if self.window_samples < 1:
            raise ValueError(f"window_samples must be >= 1, got {self.window_samples}")

    def eps(self, x: torch.Tensor) -> torch.Tensor:
        check_waveforms(x)
        level = amplitude_envelope(x, self.window_samples)
        return (interpolated_mask(self.table, level) * self.eps_max).to(x.dtype)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "envelope",
            "eps_max": float(self.eps_max),
            "window_samples": self.window_samples,
            "rows": self.table.to_rows(),
            "band_limit_hz": band_limit_entry(self.band_limit_hz),
        }
