"""ResampleRoundTrip: down- then up-sample (the poster's 16k -> 8k -> 16k defense)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soxr
import torch

from core.defenses.base import Defense


def resample_round_trip(x: torch.Tensor, sample_rate_hz: int, via_hz: int, quality: str = "HQ") -> torch.Tensor:
    """Resample [N, T] clips to `via_hz` and back with soxr; same shape, dtype and device.

    soxr treats the columns of a 2-D array as channels, so the whole batch goes in one call.
    Content above via_hz / 2 (most of the noise's energy for white-ish noise) is removed.
    """
    if x.ndim != 2:
        raise ValueError(f"waveforms must be [N, T], got {tuple(x.shape)}")
    if not 0 < via_hz < sample_rate_hz:
        raise ValueError(f"via_hz must lie in (0, {sample_rate_hz}), got {via_hz}")
    frames = np.ascontiguousarray(x.detach().cpu().numpy().T, dtype=np.float32)
    down = soxr.resample(frames, sample_rate_hz, via_hz, quality=quality)
    up = soxr.resample(down, via_hz, sample_rate_hz, quality=quality)
    t = x.shape[1]
    up = up[:t] if up.shape[0] >= t else np.pad(up, ((0, t - up.shape[0]), (0, 0)))
    return torch.from_numpy(np.ascontiguousarray(up.T)).to(device=x.device, dtype=x.dtype)


@dataclass(frozen=True)
class ResampleRoundTrip(Defense):
    """Resample to via_hz and back: the poster's 8 kHz (named plain "resample", as in the
    leaderboard's entries), or another rate such as 11,025 Hz ("resample_11025")."""

    via_hz: int = 8000

    def __post_init__(self) -> None:
        if isinstance(self.via_hz, bool) or not isinstance(self.via_hz, int) or self.via_hz <= 0:
            raise ValueError(f"resample via_hz must be a positive integer in Hz, got {self.via_hz!r}")

    @property
    def name(self) -> str:
        return "resample" if self.via_hz == 8000 else f"resample_{self.via_hz}"

    def transform(self, x: torch.Tensor, sample_rate_hz: int) -> torch.Tensor:
        return resample_round_trip(x, sample_rate_hz, self.via_hz)
