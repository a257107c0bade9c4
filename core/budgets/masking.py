"""Masking: a psychoacoustic budget. The noise's power in every STFT bin stays under the clean
clip's masking threshold (core.budgets.psychoacoustic) plus a margin in dB, with an L-inf cap.

How it is enforced, and why a projection: min-min already projects after every signed-gradient
step (onto the L-inf box and the band limit); this budget adds one more projection, each STFT
bin of the noise scaled down to its allowed power (phases kept), `iterations` passes per step.
A penalty (Qin et al.'s second stage) would need a weight to tune per budget and would not
bound the result; the projection bounds it up to overlap-add leakage, which repeated steps
keep shrinking (each step re-projects).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from core.budgets.band import band_limit_entry, check_band_limit
from core.budgets.base import check_eps, check_waveforms
from core.budgets.psychoacoustic import allowed_power, masking_threshold_db, project_under_threshold
from core.numbers import is_finite_number

FINAL_ITERATIONS = 10
"""Projection passes for the finished noise (what is written): overlap-add leakage shrinks
with every pass (tests/core/test_psychoacoustic.py pins how far 10 passes get)."""
CLIPS_PER_CHUNK = 64
"""Clips per masking-threshold computation (bounds the float64 STFT's memory)."""


@dataclass(frozen=True)
class Masking:
    """|delta| <= eps_max, and delta's power per STFT bin <= the masking threshold + margin_db.

    Args:
        margin_db: dB above (positive) or below (negative) the masking threshold that the
            noise may reach in each bin; 0 is the model's "just masked" level.
        eps_max: the L-inf cap.
        iterations: projection passes per min-min step (overlap-add makes one pass inexact).
        band_limit_hz: generate the noise below this frequency (core.budgets.band).
    """

    margin_db: float = 0.0
    eps_max: float = 0.1
    iterations: int = 1
    band_limit_hz: float | None = None

    def __post_init__(self) -> None:
        check_eps("eps_max", self.eps_max)
        check_band_limit(self.band_limit_hz)
        if not (is_finite_number(self.margin_db) and -60 <= self.margin_db <= 60):
            raise ValueError(f"margin_db must be a number of dB in [-60, 60], got {self.margin_db!r}")
        if isinstance(self.iterations, bool) or not isinstance(self.iterations, int) or self.iterations < 1:
            raise ValueError(f"iterations must be a positive integer, got {self.iterations!r}")

    def eps(self, x: torch.Tensor) -> torch.Tensor:
        check_waveforms(x)
        return torch.full_like(x, float(self.eps_max))

    def noise_power_limit(self, x: torch.Tensor) -> torch.Tensor:
        """Allowed noise power per STFT bin of each clip [N, F, frames] (float32, x's device)."""
        check_waveforms(x)
        parts = []
        for chunk in x.split(CLIPS_PER_CHUNK):
            threshold, peak = masking_threshold_db(chunk)
            parts.append(allowed_power(threshold, peak, self.margin_db).float())
        return torch.cat(parts)

    def shape(self, delta: torch.Tensor, limit: torch.Tensor, final: bool = False) -> torch.Tensor:
        """delta [B, T] projected under its clips' `noise_power_limit` [B, F, frames]:
        `iterations` passes during min-min, FINAL_ITERATIONS (or more) for the noise it returns."""
        passes = max(self.iterations, FINAL_ITERATIONS) if final else self.iterations
        return project_under_threshold(delta, limit, passes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "masking",
            "margin_db": float(self.margin_db),
            "eps_max": float(self.eps_max),
            "iterations": self.iterations,
            "band_limit_hz": band_limit_entry(self.band_limit_hz),
        }
