"""ConstantBudget: the same L-inf bound everywhere (the classic unlearnable-examples budget)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from core.budgets.band import band_limit_entry, check_band_limit
from core.budgets.base import check_eps, check_waveforms


@dataclass(frozen=True)
class ConstantBudget:
    """|delta[n, t]| <= eps_linf for every sample and time step; with `band_limit_hz`, the
    noise is also generated below that frequency (core.budgets.band)."""

    eps_linf: float
    band_limit_hz: float | None = None

    def __post_init__(self) -> None:
        check_eps("eps_linf", self.eps_linf)
        check_band_limit(self.band_limit_hz)

    @property
    def eps_max(self) -> float:
        return float(self.eps_linf)

    def eps(self, x: torch.Tensor) -> torch.Tensor:
        check_waveforms(x)
        return torch.full_like(x, float(self.eps_linf))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "constant", "eps": float(self.eps_linf), "band_limit_hz": band_limit_entry(self.band_limit_hz)}
