"""SegmentMask: the poster's dynamic epsilon, a per-segment bound chosen by loudness.

Each clip is cut into fixed segments; a segment's level (mean |x| as in the paper, or RMS)
picks a mask value from a MaskTable, and mask * eps_max is that segment's L-inf bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from core.budgets.band import band_limit_entry, check_band_limit
from core.budgets.base import check_eps, check_waveforms
from core.budgets.mask_table import PAPER_TABLE, MaskTable

LEVELS = ("mean_abs", "rms")


def segment_levels(x: torch.Tensor, segment_samples: int, level: str = "mean_abs") -> torch.Tensor:
    """Level of each segment: [N, T] -> [N, ceil(T / segment_samples)].

    A trailing partial segment is measured over the samples it has. Levels are computed in
    float64 so that a level exactly on a threshold compares as the table says (strict `>`),
    not as float32 rounding of a 1000-sample sum happens to fall.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    x = x.double()
    n, t = x.shape
    segments = -(-t // segment_samples)
    padded = torch.nn.functional.pad(x, (0, segments * segment_samples - t))
    per_segment = padded.view(n, segments, segment_samples)
    counts = torch.full((segments,), float(segment_samples), dtype=x.dtype, device=x.device)
    counts[-1] = t - (segments - 1) * segment_samples
    if level == "mean_abs":
        return per_segment.abs().sum(-1) / counts
    return (per_segment.square().sum(-1) / counts).sqrt()


@dataclass(frozen=True)
class SegmentMask:
    """eps(x, t) = table.mask(level of t's segment) * eps_max.

    Args:
        eps_max: bound of the loudest band (the paper: 0.13).
        table: thresholds and masks; the paper's Table 1 by default.
        segment_samples: segment length in samples (the paper: 1000 at 16 kHz).
        level: "mean_abs" (the paper) or "rms".
        band_limit_hz: generate the noise below this frequency (core.budgets.band); None:
            the full band (the paper).
    """

    eps_max: float
    table: MaskTable = field(default=PAPER_TABLE)
    segment_samples: int = 1000
    level: str = "mean_abs"
    band_limit_hz: float | None = None

    def __post_init__(self) -> None:
        check_eps("eps_max", self.eps_max)
        check_band_limit(self.band_limit_hz)
        if isinstance(self.segment_samples, bool) or not isinstance(self.segment_samples, int):
            raise ValueError(f"segment_samples must be an integer, got {self.segment_samples!r}")
        if self.segment_samples < 1:
            raise ValueError(f"segment_samples must be >= 1, got {self.segment_samples}")
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {self.level!r}")

    def segment_eps(self, x: torch.Tensor) -> torch.Tensor:
        """Bound per segment: [N, T] -> [N, S]."""
        check_waveforms(x)
        levels = segment_levels(x, self.segment_samples, self.level)
        return (self.table.mask_of(levels) * self.eps_max).to(x.dtype)

    def eps(self, x: torch.Tensor) -> torch.Tensor:
        per_segment = self.segment_eps(x)
        return per_segment.repeat_interleave(self.segment_samples, dim=1)[:, : x.shape[1]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "segment_mask",
            "eps_max": float(self.eps_max),
            "segment_samples": self.segment_samples,
            "level": self.level,
            "rows": self.table.to_rows(),
            "band_limit_hz": band_limit_entry(self.band_limit_hz),
        }
