"""LogMelCNN: a small 2-D CNN on log-mel spectrograms, for cross-architecture checks.

The mel front end is plain torch (STFT + a triangular HTK-mel filterbank), so the model
needs no torchaudio and stays differentiable with respect to the waveform.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from core import SAMPLE_RATE_HZ


def _hz_to_mel(f: torch.Tensor) -> torch.Tensor:
    return 2595.0 * torch.log10(1.0 + f / 700.0)


def _mel_to_hz(m: torch.Tensor) -> torch.Tensor:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(n_fft: int, n_mels: int, sample_rate_hz: int, f_min_hz: float = 20.0) -> torch.Tensor:
    """Triangular HTK-mel filters: [n_fft // 2 + 1, n_mels]."""
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


class LogMelCNN(nn.Module):
    """log(mel(|STFT|^2) + 1e-6) -> 3 conv blocks -> global average -> linear.

    Args:
        n_classes: output classes.
        n_mels: mel bands (default 40); n_fft 400 (25 ms), hop 160 (10 ms) at 16 kHz.
        n_channels: channels of the first block (doubled per block).
    Input: [N, T] or [N, 1, T] waveforms. Output: [N, n_classes] logits.
    """

    def __init__(
        self,
        n_classes: int,
        n_mels: int = 40,
        n_channels: int = 16,
        n_fft: int = 400,
        hop_samples: int = 160,
        sample_rate_hz: int = SAMPLE_RATE_HZ,
    ) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.hop_samples = hop_samples
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.register_buffer("filters", mel_filterbank(n_fft, n_mels, sample_rate_hz), persistent=False)
        c = n_channels
        blocks, c_in = [], 1
        for c_out in (c, 2 * c, 4 * c):
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c_out
        self.features = nn.Sequential(*blocks)
        self.fc = nn.Linear(c_in, n_classes)
        self.log_floor = math.log(1e-6)

    def log_mel(self, x: torch.Tensor) -> torch.Tensor:
        """[N, T] waveforms -> [N, n_mels, frames] log-mel energies."""
        spec = torch.stft(x, self.n_fft, self.hop_samples, window=self.window, return_complex=True)
        power = spec.real.square() + spec.imag.square()
        return torch.log(torch.einsum("nft,fm->nmt", power, self.filters) + 1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3:
            x = x.squeeze(1)
        features = self.features(self.log_mel(x).unsqueeze(1))
        return self.fc(features.mean(dim=(-2, -1)))
