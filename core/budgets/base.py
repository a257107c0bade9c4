"""The budget interface: a per-sample, per-time-step L-inf bound on the noise."""

from __future__ import annotations

from typing import Any, Protocol

import torch

from core.numbers import is_finite_number
from core.workspace import IN_MEMORY, Workspace


class Budget(Protocol):
    """Maps clean clips to the noise bound eps(x, t).

    `eps(x)` takes clean waveforms [N, T] and returns eps [N, T] (same device and dtype),
    every value in [0, eps_max]. The noise must satisfy |delta[n, t]| <= eps[n, t].
    `band_limit_hz`: None, or the frequency above which min-min removes the noise's
    spectrum before each clip to eps (core.budgets.band).
    """

    @property
    def eps_max(self) -> float: ...

    @property
    def band_limit_hz(self) -> float | None: ...

    def eps(self, x: torch.Tensor) -> torch.Tensor: ...

    def to_dict(self) -> dict[str, Any]: ...


EPS_BATCH_CLIPS = 256
"""Clips whose eps is computed at a time: a budget's intermediates (levels, masks, envelopes)
are several copies of what they are given, which for an hour of 1-s windows is gigabytes."""


def eps_in_batches(
    budget: Budget, x: torch.Tensor, batch: int = EPS_BATCH_CLIPS, workspace: Workspace = IN_MEMORY
) -> torch.Tensor:
    """budget.eps(x) [N, T] in a tensor of its own (free to change in place, from `workspace`),
    computed `batch` clips at a time (eps is per clip, so the result is the same; the memory is
    that of one batch's intermediates)."""
    eps = workspace.tensor("eps", tuple(x.shape), x.device, x.dtype)
    for lo in range(0, len(x), batch):
        eps[lo : lo + batch] = budget.eps(x[lo : lo + batch])
    return eps


def noise_power_limit(
    budget: Budget, x: torch.Tensor, batch: int = EPS_BATCH_CLIPS, workspace: Workspace = IN_MEMORY
) -> torch.Tensor | None:
    """Allowed noise power per STFT bin [N, F, frames] for clips x when the budget limits it
    (the masking budget, which then also has `shape(delta, limit)`); None for L-inf budgets.
    Computed `batch` clips at a time into a tensor from `workspace`."""
    method = getattr(budget, "noise_power_limit", None)
    if method is None:
        return None
    first = method(x[:batch])
    limit = workspace.tensor("limit", (len(x), *first.shape[1:]), x.device, first.dtype)
    limit[: len(first)] = first
    for lo in range(batch, len(x), batch):
        limit[lo : lo + batch] = method(x[lo : lo + batch])
    return limit


def check_waveforms(x: torch.Tensor) -> None:
    """Raise ValueError unless x is a floating [N, T] batch."""
    if x.ndim != 2:
        raise ValueError(f"waveforms must be [N, T], got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"waveforms must be floating point, got {x.dtype}")


def check_eps(name: str, value: float, upper: float = 1.0) -> float:
    """Validate an epsilon: a finite number in (0, upper]."""
    if not is_finite_number(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    value = float(value)
    if not (0.0 < value <= upper):
        raise ValueError(f"{name} must lie in (0, {upper}], got {value}")
    return value
