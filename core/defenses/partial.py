"""PartialProtection: the thief's training set is only partly protected, because the owner
protected some of the recordings or the thief mixes in clean ones of its own."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.defenses.base import Defense
from core.numbers import is_finite_number


def mix_clean(poisoned: torch.Tensor, clean: torch.Tensor, poison_rate: float, seed: int) -> torch.Tensor:
    """A copy of `poisoned` [N, T] in which a seeded random round((1 - poison_rate) * N)
    clips are replaced by their clean originals (row i of `clean`)."""
    if poisoned.shape != clean.shape:
        raise ValueError(f"poisoned and clean clips must have one shape, got {tuple(poisoned.shape)} and {tuple(clean.shape)}")
    n_clean = round((1.0 - poison_rate) * len(poisoned))
    chosen = torch.randperm(len(poisoned), generator=torch.Generator().manual_seed(seed))[:n_clean]
    out = poisoned.clone()
    out[chosen.to(poisoned.device)] = clean[chosen.to(clean.device)].to(poisoned)
    return out


@dataclass(frozen=True)
class PartialProtection(Defense):
    """Train on a mix: a share `poison_rate` in (0, 1] of the clips protected, the rest clean
    (which clips: seeded by `seed`)."""

    poison_rate: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        rate = self.poison_rate
        if not (is_finite_number(rate) and 0 < rate <= 1):
            raise ValueError(f"partial poison_rate must lie in (0, 1], got {rate!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"partial seed must be an integer, got {self.seed!r}")

    @property
    def name(self) -> str:
        return f"poison_{100 * self.poison_rate:g}pct"

    def prepare(self, poisoned: torch.Tensor, clean: torch.Tensor, sample_rate_hz: int) -> torch.Tensor:
        return mix_clean(poisoned, clean, self.poison_rate, self.seed)
