"""The defense interface: a transform a data thief applies to the whole training set."""

from __future__ import annotations

from typing import Protocol

import torch


class Defense(Protocol):
    """Maps waveforms [N, T] at `sample_rate_hz` to waveforms of the same shape."""

    name: str

    def __call__(self, x: torch.Tensor, sample_rate_hz: int) -> torch.Tensor: ...
