"""LowPass: a zero-phase low-pass filter (a thief keeping only the speech band)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from core.defenses.base import Defense
from core.numbers import is_finite_number


def lowpass(x: torch.Tensor, sample_rate_hz: int, cutoff_hz: float, transition_hz: float = 200.0) -> torch.Tensor:
    """Zero-phase low-pass of [N, T] clips by an FFT-domain mask; same shape, dtype, device.

    The mask is 1 below cutoff_hz - transition_hz / 2, 0 above cutoff_hz + transition_hz / 2
    and a raised cosine between (-6 dB at cutoff_hz): a real, even frequency response, so no
    phase shift and no delay. Clips are zero-padded before the FFT so the filter's short
    impulse response (about 4 / transition_hz seconds) does not wrap around the clip.
    """
    if x.ndim != 2:
        raise ValueError(f"waveforms must be [N, T], got {tuple(x.shape)}")
    nyquist_hz = sample_rate_hz / 2
    if not 0 < cutoff_hz < nyquist_hz:
        raise ValueError(
            f"lowpass cutoff_hz must lie in (0, sample_rate_hz / 2) = (0, {nyquist_hz:g}) "
            f"for sample_rate_hz={sample_rate_hz}, got {cutoff_hz}"
        )
    if not transition_hz > 0:
        raise ValueError(f"lowpass transition_hz must be positive, got {transition_hz}")
    t = x.shape[1]
    pad = math.ceil(4 * sample_rate_hz / transition_hz)
    n_fft = t + pad
    spectrum = torch.fft.rfft(x.to(torch.float32), n=n_fft, dim=1)
    freqs_hz = torch.fft.rfftfreq(n_fft, d=1 / sample_rate_hz, device=x.device)
    # Position within the transition band, 0 at its start and 1 at its end.
    ramp = ((freqs_hz - (cutoff_hz - transition_hz / 2)) / transition_hz).clamp(0.0, 1.0)
    mask = 0.5 * (1 + torch.cos(torch.pi * ramp))
    return torch.fft.irfft(spectrum * mask, n=n_fft, dim=1)[:, :t].to(x.dtype)


@dataclass(frozen=True)
class LowPass(Defense):
    """Zero-phase low-pass at cutoff_hz (default 4000 Hz: telephone-ish band, "lowpass_4000").
    The Nyquist bound needs the sample rate, so it is checked in transform."""

    cutoff_hz: float = 4000.0

    def __post_init__(self) -> None:
        c = self.cutoff_hz
        if not is_finite_number(c) or c <= 0:
            raise ValueError(f"lowpass cutoff_hz must be a positive finite number in Hz, got {c!r}")

    @property
    def name(self) -> str:
        return f"lowpass_{self.cutoff_hz:g}"

    def transform(self, x: torch.Tensor, sample_rate_hz: int) -> torch.Tensor:
        return lowpass(x, sample_rate_hz, self.cutoff_hz)
