"""Equalize: every clip's long-term spectrum brought to the training set's average (a thief
normalizing away the recording channel, as cepstral mean normalization does in speech front
ends). It undoes any static filter on a clip: a microphone's colour, an EQ, a protection that
filters each class its own way."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from core.defenses.base import Defense
from core.numbers import is_finite_number

N_FFT = 512
MAX_GAIN_DB = 30.0
"""The largest boost or cut per frequency: a silent clip (or band) is not blown up."""
_TINY = 1e-10


def long_term_spectrum_db(x: torch.Tensor, n_fft: int = N_FFT) -> torch.Tensor:
    """[N, T] -> [N, n_fft // 2 + 1]: each clip's mean power per STFT bin over its frames, in dB
    (the power mean weighs loud frames most, so silence barely moves it)."""
    window = torch.hann_window(n_fft, device=x.device)
    spec = torch.stft(x.float(), n_fft, n_fft // 4, window=window, return_complex=True)
    return 10 * torch.log10(spec.abs().pow(2).mean(-1) + _TINY)


def equalize(x: torch.Tensor, sample_rate_hz: int, smooth_hz: float = 250.0) -> torch.Tensor:
    """[N, T] -> [N, T] (same dtype, device): each clip through a zero-phase filter whose gain is
    the set's mean long-term spectrum minus the clip's (dB), both smoothed over `smooth_hz` and
    the gain held within +-MAX_GAIN_DB; so every clip ends with about the set's average
    spectral envelope. Zero-padded before the FFT so the filter does not wrap around."""
    if x.ndim != 2:
        raise ValueError(f"waveforms must be [N, T], got {tuple(x.shape)}")
    nyquist_hz = sample_rate_hz / 2
    if not 0 < smooth_hz < nyquist_hz:
        raise ValueError(f"equalize smooth_hz must lie in (0, {nyquist_hz:g}) for sample_rate_hz={sample_rate_hz}, got {smooth_hz}")
    if len(x) == 0:
        return x
    clip_db = long_term_spectrum_db(x)
    width = max(1, round(smooth_hz / (sample_rate_hz / N_FFT))) | 1  # odd, so the average is centred
    smoothed = F.avg_pool1d(clip_db[:, None], width, stride=1, padding=width // 2, count_include_pad=False)[:, 0]
    gain_db = (smoothed.mean(0, keepdim=True) - smoothed).clamp(-MAX_GAIN_DB, MAX_GAIN_DB)
    t = x.shape[1]
    n = t + N_FFT  # the gain's impulse response is about N_FFT samples long
    spectrum = torch.fft.rfft(x.float(), n=n, dim=1)
    gain = F.interpolate(gain_db[:, None], size=spectrum.shape[1], mode="linear", align_corners=True)[:, 0]
    return torch.fft.irfft(spectrum * 10 ** (gain / 20), n=n, dim=1)[:, :t].to(x.dtype)


@dataclass(frozen=True)
class Equalize(Defense):
    """Each clip's long-term spectrum brought to the training set's average, `smooth_hz` the
    resolution of that envelope ("equalize"). The Nyquist bound needs the sample rate, so it
    is checked in transform."""

    smooth_hz: float = 250.0

    def __post_init__(self) -> None:
        if not is_finite_number(self.smooth_hz) or self.smooth_hz <= 0:
            raise ValueError(f"equalize smooth_hz must be a positive finite number in Hz, got {self.smooth_hz!r}")

    @property
    def name(self) -> str:
        return "equalize"

    def transform(self, x: torch.Tensor, sample_rate_hz: int) -> torch.Tensor:
        return equalize(x, sample_rate_hz, self.smooth_hz)
