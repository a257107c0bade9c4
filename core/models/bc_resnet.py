"""BCResNet: Broadcasted Residual Learning on log-mel spectrograms (Kim et al., Interspeech 2021).

"Broadcasted Residual Learning for Efficient Keyword Spotting": each block runs a frequency-wise
depthwise conv (2-D part, normalised per sub-band by SubSpectral Normalization), averages out
frequency, runs a temporal depthwise conv on the 1-D result (dilated more in later stages) and
broadcasts it back over frequency as a residual. The layout follows the authors' reference
code (Qualcomm-AI-research/bcresnet): stages of 2, 2, 4, 4 blocks with 8, 12, 16, 20 x tau
channels, frequency stride 2 in the head and at the start of stages 2 and 3, time dilation
1, 2, 4, 8, and a 5x5 depthwise + 1x1 classifier head. Its front end is the shared `LogMel`,
so a thief's SpecAugment hook reaches it as `model.front_end.spec_augment`.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from core import SAMPLE_RATE_HZ
from core.models.log_mel import LogMel


class SubSpectralNorm(nn.Module):
    """Batch norm with separate statistics and affine terms per frequency sub-band.

    Splits the frequency axis (dim 2 of [N, C, F, T]) into `sub_bands` equal bands and
    normalises each (channel, band) pair on its own, so low and high frequencies are not
    forced onto one scale. F must be divisible by `sub_bands`.
    """

    def __init__(self, n_channels: int, sub_bands: int) -> None:
        super().__init__()
        self.sub_bands = sub_bands
        self.norm = nn.BatchNorm2d(n_channels * sub_bands)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, f, t = x.shape
        assert f % self.sub_bands == 0, f"{f} frequency bins do not split into {self.sub_bands} sub-bands"
        return self.norm(x.reshape(n, c * self.sub_bands, f // self.sub_bands, t)).reshape(n, c, f, t)


class BCResBlock(nn.Module):
    """One broadcasted-residual block: [N, C_in, F, T] -> [N, C_out, F / stride_f, T].

    A transition block (C_in != C_out) first maps channels with a 1x1 conv and drops the
    identity shortcut, as in the paper; the others add it.
    """

    def __init__(self, c_in: int, c_out: int, stride_f: int, dilation_t: int, sub_bands: int, dropout: float) -> None:
        super().__init__()
        self.transition = c_in != c_out
        layers: list[nn.Module] = []
        if self.transition:
            layers += [nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
        # 2-D part: a 3x1 depthwise conv over frequency, normalised per sub-band, no activation.
        layers += [
            nn.Conv2d(c_out, c_out, (3, 1), (stride_f, 1), (1, 0), groups=c_out, bias=False),
            SubSpectralNorm(c_out, sub_bands),
        ]
        self.f2 = nn.Sequential(*layers)
        # 1-D part on the frequency-averaged map: a dilated 1x3 depthwise conv over time,
        # swish, pointwise conv; its output is broadcast back over frequency.
        self.f1 = nn.Sequential(
            nn.Conv2d(c_out, c_out, (1, 3), padding=(0, dilation_t), dilation=(1, dilation_t), groups=c_out, bias=False),
            nn.BatchNorm2d(c_out),
            nn.SiLU(),
            nn.Conv2d(c_out, c_out, 1, bias=False),
            nn.Dropout2d(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        two_d = self.f2(x)
        out = two_d + self.f1(two_d.mean(dim=2, keepdim=True))
        if not self.transition:
            out = out + x
        return F.relu(out)


class BCResNet(nn.Module):
    """LogMel -> 5x5 conv head -> 12 BC-ResBlocks in 4 stages -> depthwise + 1x1 classifier.

    BC-ResNet-tau: tau = 1 (the default) has 9,166 parameters for 10 classes and 9,232 for 12
    (the paper's 9.2k); tau = 2 has 27,154 and 27,284 (the paper's 27.3k). The last 1x1 conv
    of the reference code is written as `fc`, a linear layer on the pooled features (same map).
    In eval mode (test accuracy, min-min noise steps) dropout and SpecAugment are off.

    Args:
        n_classes: output classes.
        tau: width multiplier; stage widths are 8, 12, 16, 20 x tau, head 16 tau, last 32 tau.
        n_mels: mel bands of the front end (default 40). Frequency is strided by 2 three
            times, and each strided size must split into `sub_bands`; 40 gives 20, 10, 5.
        sub_bands: SubSpectral Normalization bands (default 5, the paper's).
        dropout: channel dropout at the end of each block's 1-D part (default 0.1).
        n_fft, hop_samples, sample_rate_hz: front-end settings (400, 160, 16 kHz: 25 ms
            windows, 10 ms hop, 101 frames per second).
    Input: [N, T] or [N, 1, T] waveforms. Output: [N, n_classes] logits.
    """

    stage_blocks = (2, 2, 4, 4)
    stage_widths = (8, 12, 16, 20)  # x tau
    stage_strides_f = (1, 2, 2, 1)
    stage_dilations_t = (1, 2, 4, 8)

    def __init__(
        self,
        n_classes: int,
        tau: int = 1,
        n_mels: int = 40,
        sub_bands: int = 5,
        dropout: float = 0.1,
        n_fft: int = 400,
        hop_samples: int = 160,
        sample_rate_hz: int = SAMPLE_RATE_HZ,
    ) -> None:
        super().__init__()
        for name, value in (("n_classes", n_classes), ("tau", tau), ("sub_bands", sub_bands)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"BCResNet {name} must be a positive integer, got {value!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"BCResNet dropout must be in [0, 1), got {dropout}")
        freq_bins = -(-n_mels // 2)  # after the head's stride 2 (kernel 5, padding 2)
        for stride_f in self.stage_strides_f:
            freq_bins = -(-freq_bins // stride_f)
            if freq_bins % sub_bands:
                raise ValueError(
                    f"BCResNet n_mels={n_mels} gives {freq_bins} frequency bins inside the network, "
                    f"not divisible into sub_bands={sub_bands}; use a multiple of {8 * sub_bands}"
                )
        if freq_bins < 5:
            raise ValueError(f"BCResNet n_mels must leave >= 5 bins for the 5x5 classifier, got {n_mels}")

        self.front_end = LogMel(n_mels, n_fft, hop_samples, sample_rate_hz)
        c_head = 16 * tau
        self.head = nn.Sequential(
            nn.Conv2d(1, c_head, 5, (2, 1), 2, bias=False), nn.BatchNorm2d(c_head), nn.ReLU()
        )
        blocks: list[nn.Module] = []
        c_in = c_head
        for n_blocks, width, stride_f, dilation_t in zip(
            self.stage_blocks, self.stage_widths, self.stage_strides_f, self.stage_dilations_t
        ):
            c_out = width * tau
            for i in range(n_blocks):
                blocks.append(BCResBlock(c_in, c_out, stride_f if i == 0 else 1, dilation_t, sub_bands, dropout))
                c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        c_last = 32 * tau
        # The 5x5 depthwise conv with no frequency padding folds the last 5 bins into 1.
        self.classifier = nn.Sequential(
            nn.Conv2d(c_in, c_in, 5, padding=(0, 2), groups=c_in, bias=False),
            nn.Conv2d(c_in, c_last, 1, bias=False),
            nn.BatchNorm2d(c_last),
            nn.ReLU(),
        )
        self.fc = nn.Linear(c_last, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(self.front_end(x).unsqueeze(1))  # [N, 16 tau, n_mels / 2, frames]
        h = self.classifier(self.blocks(h))  # [N, 32 tau, F', frames]
        return self.fc(h.mean(dim=(-2, -1)))
