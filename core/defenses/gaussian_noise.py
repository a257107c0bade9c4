"""GaussianNoise: add white Gaussian noise at a fixed SNR per clip (drown the perturbation)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.defenses.base import Defense
from core.numbers import is_finite_number


def mix_at_snr(x: torch.Tensor, noise: torch.Tensor, snr_db: float | torch.Tensor) -> torch.Tensor:
    """x + noise, the noise scaled per clip so that each clip's SNR is snr_db (a number, or
    one per clip [N]); scaled by the measured powers, not the expected ones, so silent clips
    get no noise. x, noise [N, T]; computed in float32, returned in x's dtype."""
    signal = x.to(torch.float32)
    snr_db = torch.as_tensor(snr_db, dtype=torch.float32, device=x.device).reshape(-1, 1)
    signal_power = signal.pow(2).mean(dim=1, keepdim=True)
    noise_power = noise.pow(2).mean(dim=1, keepdim=True).clamp_min(torch.finfo(torch.float32).tiny)
    scale = torch.sqrt(signal_power / noise_power / 10 ** (snr_db / 10))
    return (signal + scale * noise).to(x.dtype)


def add_gaussian_noise(x: torch.Tensor, snr_db: float, generator: torch.Generator) -> torch.Tensor:
    """Add white noise to [N, T] clips so that each clip's SNR is exactly snr_db.

    The noise is drawn on the CPU from `generator` (so a seed gives the same noise on any
    device); see `mix_at_snr`. Same shape, dtype and device as x.
    """
    if x.ndim != 2:
        raise ValueError(f"waveforms must be [N, T], got {tuple(x.shape)}")
    if not is_finite_number(snr_db):
        raise ValueError(f"gaussian_noise snr_db must be a finite number in dB, got {snr_db!r}")
    noise = torch.randn(x.shape, generator=generator, dtype=torch.float32).to(x.device)
    return mix_at_snr(x, noise, snr_db)


@dataclass(frozen=True)
class GaussianNoise(Defense):
    """White noise at snr_db per clip (default 30 dB: "noise_30db"), seeded by `seed`."""

    snr_db: float = 30.0
    seed: int = 0

    def __post_init__(self) -> None:
        s = self.snr_db
        if not is_finite_number(s):
            raise ValueError(f"gaussian_noise snr_db must be a finite number in dB, got {s!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"gaussian_noise seed must be a non-negative integer, got {self.seed!r}")

    @property
    def name(self) -> str:
        return f"noise_{self.snr_db:g}db"

    def transform(self, x: torch.Tensor, sample_rate_hz: int) -> torch.Tensor:
        return add_gaussian_noise(x, self.snr_db, torch.Generator().manual_seed(self.seed))
