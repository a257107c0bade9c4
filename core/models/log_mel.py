"""LogMel: a plain-torch log-mel front end shared by the spectrogram models.

STFT + a triangular HTK-mel filterbank, no torchaudio, so every model built on it stays
differentiable with respect to the waveform (noise is optimised through it). A training-time
hook (`spec_augment`) lets a thief's SpecAugment act on the log-mel energies of any model
that exposes its front end as `model.front_end`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from core import SAMPLE_RATE_HZ

# Added to the mel power before the log, so silence maps to log(1e-6) ~ -13.8, not -inf.
LOG_FLOOR = 1e-6


def _hz_to_mel(f: torch.Tensor) -> torch.Tensor:
    return 2595.0 * torch.log10(1.0 + f / 700.0)


def _mel_to_hz(m: torch.Tensor) -> torch.Tensor:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(n_fft: int, n_mels: int, sample_rate_hz: int, f_min_hz: float = 20.0) -> torch.Tensor:
    """Triangular HTK-mel filters: [n_fft // 2 + 1, n_mels], float32, peak 1 (not area-normalised)."""
    freqs = torch.linspace(0.0, sample_rate_hz / 2, n_fft // 2 + 1, dtype=torch.float64)
    edges_mel = torch.linspace(
        _hz_to_mel(torch.tensor(f_min_hz, dtype=torch.float64)).item(),
        _hz_to_mel(torch.tensor(sample_rate_hz / 2, dtype=torch.float64)).item(),
        n_mels + 2,
        dtype=torch.float64,
    )
    edges = _mel_to_hz(edges_mel)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (freqs[:, None] - lower) / (centre - lower)
    falling = (upper - freqs[:, None]) / (upper - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0.0).float()


class LogMel(nn.Module):
    """Waveforms -> log(mel(|STFT|^2) + 1e-6), with an optional training-time augmentation.

    Args:
        n_mels: mel bands (default 40).
        n_fft: STFT size and Hann window length in samples (default 400, 25 ms at 16 kHz).
        hop_samples: STFT hop in samples (default 160, 10 ms at 16 kHz).
        sample_rate_hz: input sample rate (default 16 kHz).
        f_min_hz: lower edge of the lowest mel filter (default 20 Hz).
    Input: [N, T] or [N, 1, T] waveforms. Output: [N, n_mels, 1 + T // hop_samples] log-mel
    energies (centred STFT, reflect padding), 101 frames for a 1 s clip.

    Attributes:
        spec_augment: None (default) or a map [N, n_mels, frames] -> same shape, applied only
            in training mode, so evaluation and noise generation in eval mode never see it.
    """

    def __init__(
        self,
        n_mels: int = 40,
        n_fft: int = 400,
        hop_samples: int = 160,
        sample_rate_hz: int = SAMPLE_RATE_HZ,
        f_min_hz: float = 20.0,
    ) -> None:
        super().__init__()
        for name, value in (("n_mels", n_mels), ("n_fft", n_fft), ("hop_samples", hop_samples), ("sample_rate_hz", sample_rate_hz)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"LogMel {name} must be a positive integer, got {value!r}")
        if hop_samples > n_fft:
            raise ValueError(f"LogMel hop_samples must be <= n_fft ({n_fft}), got {hop_samples}")
        if not 0.0 <= f_min_hz < sample_rate_hz / 2:
            raise ValueError(f"LogMel f_min_hz must be in [0, {sample_rate_hz / 2}) Hz, got {f_min_hz}")
        self.n_mels = n_mels
        self.n_fft = n_fft
        self.hop_samples = hop_samples
        # Non-persistent: derived from the settings, so checkpoints hold only learned weights.
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.register_buffer("filters", mel_filterbank(n_fft, n_mels, sample_rate_hz, f_min_hz), persistent=False)
        self.log_floor = math.log(LOG_FLOOR)
        self.spec_augment: Callable[[torch.Tensor], torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3:
            x = x.squeeze(1)
        spec = torch.stft(x, self.n_fft, self.hop_samples, window=self.window, return_complex=True)
        power = spec.real.square() + spec.imag.square()
        log_mel = torch.log(torch.einsum("nft,fm->nmt", power, self.filters) + LOG_FLOOR)
        if self.training and self.spec_augment is not None:
            log_mel = self.spec_augment(log_mel)
        return log_mel

    def extra_repr(self) -> str:
        return f"n_mels={self.n_mels}, n_fft={self.n_fft}, hop_samples={self.hop_samples}"
