"""LogMelCNN: a small 2-D CNN on log-mel spectrograms, for cross-architecture checks.

The mel front end (`front_end`, a `LogMel`) is plain torch (STFT + a triangular HTK-mel
filterbank), so the model needs no torchaudio and stays differentiable with respect to the
waveform; its `spec_augment` hook acts on the log-mel energies in training mode.
"""

from __future__ import annotations

import torch
from torch import nn

from core import SAMPLE_RATE_HZ
from core.models.log_mel import LogMel


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
        self.front_end = LogMel(n_mels, n_fft, hop_samples, sample_rate_hz)
        c = n_channels
        blocks, c_in = [], 1
        for c_out in (c, 2 * c, 4 * c):
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c_out
        self.features = nn.Sequential(*blocks)
        self.fc = nn.Linear(c_in, n_classes)

    def log_mel(self, x: torch.Tensor) -> torch.Tensor:
        """[N, T] waveforms -> [N, n_mels, frames] log-mel energies (`front_end(x)`, augmented in training mode)."""
        return self.front_end(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.features(self.front_end(x).unsqueeze(1))
        return self.fc(features.mean(dim=(-2, -1)))
