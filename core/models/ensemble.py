"""Several surrogates as one model, so min-min's noise is made against all of them at once."""

from __future__ import annotations

import torch
from torch import nn


class Ensemble(nn.Module):
    """Members' logits averaged. Min-min trains every member on the same batches (one loss on
    the averaged logits) and its noise must lower the loss of their consensus, so a shortcut
    that only one architecture picks up (M5's raw-waveform filters, say) is not enough."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least 2 members, got {len(members)}")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(x) for member in self.members]).mean(0)
