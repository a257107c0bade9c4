"""The defense interface: what a data thief does with a protected training set.

A thief has two moves, each with a default, and a defense overrides the one it changes:
- `prepare`: the training set the thief trains on. Transforms (codecs, filters, resampling,
  denoising) override `transform` and apply it to the protected clips; a partial-protection
  thief mixes protected and clean clips.
- `train`: how the thief trains a victim on it. By default plain `train_victim`; training-time
  augmentation and adversarial training pass a batch hook to it; an encoder thief replaces it.
"""

from __future__ import annotations

import torch

from core.train import BatchHook, VictimConfig, VictimResult, train_victim


class Defense:
    """A thief's move against a protected training set. Subclasses are frozen dataclasses
    whose fields are the defense's parameters (validated in __post_init__), so equal
    settings compare equal and `name` labels the matrix row."""

    @property
    def name(self) -> str:
        raise NotImplementedError

    def transform(self, x: torch.Tensor, sample_rate_hz: int) -> torch.Tensor:
        """Waveforms [N, T] -> [N, T] on the same device and dtype; identity by default."""
        return x

    def __call__(self, x: torch.Tensor, sample_rate_hz: int) -> torch.Tensor:
        return self.transform(x, sample_rate_hz)

    def prepare(self, poisoned: torch.Tensor, clean: torch.Tensor, sample_rate_hz: int) -> torch.Tensor:
        """The training set [N, T] the thief trains on, given the protected clips and the
        clean originals (row i of each is the same clip; only a mix of the two may use clean)."""
        return self.transform(poisoned, sample_rate_hz)

    def batch_hook(self) -> BatchHook | None:
        """What the thief does to each training batch (None: nothing)."""
        return None

    def train(
        self,
        train_x: torch.Tensor,
        train_y: torch.Tensor,
        test_x: torch.Tensor,
        test_y: torch.Tensor,
        n_classes: int,
        victim: VictimConfig,
        seed: int,
        progress: bool = True,
        desc: str = "victim",
    ) -> VictimResult:
        """Train the thief's model on (train_x, train_y); clean-test accuracy per epoch."""
        return train_victim(
            train_x, train_y, test_x, test_y, n_classes, victim, seed,
            progress=progress, desc=desc, batch_hook=self.batch_hook(),
        )  # fmt: skip
