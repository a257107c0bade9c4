"""TrainingAugment: a thief who augments every training batch afresh (random per batch, not
a fixed preprocessing), as keyword-spotting recipes do: speed, time shift, noise, gain, mixup,
and SpecAugment on models with a log-mel front end.

Min-min noise is a shortcut tied to exact sample positions and levels; augmentation moves
and rescales it every epoch, so this measures whether the shortcut survives that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.defenses.base import Defense
from core.defenses.gaussian_noise import mix_at_snr
from core.numbers import is_finite_number
from core.train import BatchHook


def uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    """n draws from U(low, high) on the CPU generator."""
    return low + (high - low) * torch.rand(n, generator=generator)


def speed_and_shift(x: torch.Tensor, factor: torch.Tensor, shift_samples: torch.Tensor) -> torch.Tensor:
    """Play each clip `factor` times as fast (pitch moves with it, as with tape) and delay it
    by `shift_samples` (negative: earlier); linear interpolation, zeros outside the clip.

    x [B, T]; factor, shift_samples [B] (on any device; moved to x's). Same shape out.
    """
    b, t = x.shape
    pos = torch.arange(t, device=x.device, dtype=x.dtype)[None] - shift_samples.to(x)[:, None]
    pos = pos * factor.to(x)[:, None]
    inside = (pos >= 0) & (pos <= t - 1)
    pos = pos.clamp(0, t - 1)
    lo = pos.floor().long().clamp(max=t - 2)
    frac = pos - lo
    out = x.gather(1, lo) * (1 - frac) + x.gather(1, lo + 1) * frac
    return out * inside


def mask_bands(features: torch.Tensor, dim: int, count: int, max_width: int, generator: torch.Generator) -> torch.Tensor:
    """SpecAugment masks: `count` random bands of width 0..max_width along `dim` (1: mel
    bands, 2: frames) of [B, M, F] features, each set to that clip's mean value."""
    b, size = features.shape[0], features.shape[dim]
    idx = torch.arange(size, device=features.device)
    keep = torch.ones(b, size, dtype=torch.bool, device=features.device)
    for _ in range(count):
        width = torch.randint(0, max_width + 1, (b,), generator=generator)
        start = (torch.rand(b, generator=generator) * (size - width + 1)).long()
        band = (idx[None] >= start[:, None].to(idx)) & (idx[None] < (start + width)[:, None].to(idx))
        keep &= ~band
    shape = (b, size, 1) if dim == 1 else (b, 1, size)
    mean = features.mean(dim=(1, 2), keepdim=True)
    return torch.where(keep.view(shape), features, mean)


class SpecAugment(nn.Module):
    """Frequency and time masks on [B, M, F] log-mel features (Park et al., 2019), drawn
    from `generator`; set as `model.front_end.spec_augment` (applied in training only)."""

    def __init__(self, generator: torch.Generator, freq_masks: int, max_mels: int, time_masks: int, max_frames: int) -> None:
        super().__init__()
        self.generator = generator
        self.settings = (freq_masks, max_mels, time_masks, max_frames)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        freq_masks, max_mels, time_masks, max_frames = self.settings
        features = mask_bands(features, 1, freq_masks, max_mels, self.generator)
        return mask_bands(features, 2, time_masks, max_frames, self.generator)


@dataclass(frozen=True)
class TrainingAugment(Defense):
    """Random augmentation of every training batch, freshly drawn each time.

    Args:
        speed: playback speed drawn from U(1 - speed, 1 + speed) per clip (0.1: +-10%).
        shift_ms: time shift drawn from U(-shift_ms, shift_ms) per clip.
        gain_db: gain drawn from U(-gain_db, gain_db) per clip.
        noise_probability: share of clips that get white noise ...
        noise_snr_db: ... at an SNR drawn from U(noise_snr_db[0], noise_snr_db[1]).
        mixup_alpha: mixup with lambda ~ Beta(alpha, alpha) over a shuffled batch (0: off).
        spec_augment: 2 frequency masks of up to 8 mel bands and 2 time masks of up to 10
            frames (100 ms) on models with a log-mel front end (no effect on M5).
    """

    speed: float = 0.1
    shift_ms: float = 100.0
    gain_db: float = 6.0
    noise_probability: float = 0.5
    noise_snr_db: tuple[float, float] = (10.0, 30.0)
    mixup_alpha: float = 0.2
    spec_augment: bool = True
    sample_rate_hz: int = 16_000

    def __post_init__(self) -> None:
        checks = {
            "speed": 0.0 <= self.speed < 1.0,
            "shift_ms": 0.0 <= self.shift_ms < 1000.0,
            "gain_db": 0.0 <= self.gain_db <= 40.0,
            "noise_probability": 0.0 <= self.noise_probability <= 1.0,
            "mixup_alpha": self.mixup_alpha >= 0.0,
        }
        for name, ok in checks.items():
            value = getattr(self, name)
            if not is_finite_number(value) or not ok:
                raise ValueError(f"augment {name} is out of range: {value!r}")
        low_high = tuple(self.noise_snr_db)
        if len(low_high) != 2 or not all(is_finite_number(v) for v in low_high) or low_high[0] > low_high[1]:
            raise ValueError(f"augment noise_snr_db must be [low, high] in dB with low <= high, got {self.noise_snr_db!r}")
        object.__setattr__(self, "noise_snr_db", (float(low_high[0]), float(low_high[1])))

    @property
    def name(self) -> str:
        return "augment"

    def batch_hook(self) -> BatchHook:
        return self

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        front_end = getattr(model, "front_end", None)
        if self.spec_augment and front_end is not None and hasattr(front_end, "spec_augment"):
            front_end.spec_augment = SpecAugment(generator, 2, 8, 2, 10)

    def __call__(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, n_classes: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        b = len(x)
        shift = uniform(b, -self.shift_ms, self.shift_ms, generator) * self.sample_rate_hz / 1000
        x = speed_and_shift(x, uniform(b, 1 - self.speed, 1 + self.speed, generator), shift)
        noisy = torch.rand(b, generator=generator) < self.noise_probability
        snr_db = uniform(b, *self.noise_snr_db, generator)
        noise = torch.randn(x.shape, generator=generator).to(x)
        x = torch.where(noisy.to(x.device)[:, None], mix_at_snr(x, noise, snr_db), x)
        x = x * 10 ** (uniform(b, -self.gain_db, self.gain_db, generator).to(x)[:, None] / 20)
        x = x.clamp(-1.0, 1.0)
        target = F.one_hot(y, n_classes).to(x.dtype)
        if self.mixup_alpha > 0:
            lam = _beta(self.mixup_alpha, generator)
            perm = torch.randperm(b, generator=generator).to(x.device)
            x = lam * x + (1 - lam) * x[perm]
            target = lam * target + (1 - lam) * target[perm]
        return x, target


def _beta(alpha: float, generator: torch.Generator) -> float:
    """One Beta(alpha, alpha) draw fixed by the CPU generator (torch's Beta sampler takes
    no generator, so numpy's, seeded from it, draws it)."""
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    return float(np.random.default_rng(seed).beta(alpha, alpha))
