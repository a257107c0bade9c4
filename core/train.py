"""Victim training: fit a fresh model on a (possibly poisoned) training set, test each epoch
on the clean test set, and report per-epoch, peak and final accuracy."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Protocol

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from core.models import build_model


@dataclass(frozen=True)
class VictimConfig:
    """How a victim is trained (defaults: the reference M5 recipe).

    Attributes:
        model: a name in core.models.MODELS.
        epochs: passes over the training set.
        batch_size: training batch.
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
    """

    model: str = "m5"
    epochs: int = 20
    batch_size: int = 64
    lr: float = 0.01
    weight_decay: float = 1e-4

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"victim {name} must be a positive integer, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"victim lr must be > 0, got {self.lr}")

    def to_dict(self) -> dict:
        return asdict(self)


class BatchHook(Protocol):
    """A thief's training-time move (augmentation, adversarial examples).

    `setup` is called once on the fresh model (e.g. to switch on SpecAugment in its front end,
    drawing from `generator`); `__call__` maps a training batch x [B, T], y [B] int64 to (inputs, targets), where
    targets are class indices [B] or class probabilities [B, C] (mixup), with randomness
    drawn from `generator` (CPU) so a victim seed fixes everything.
    """

    def setup(self, model: nn.Module, generator: torch.Generator) -> None: ...

    def __call__(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, n_classes: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]: ...


@dataclass(frozen=True)
class VictimResult:
    """Clean-test accuracy after each epoch, and its peak and final values."""

    test_accuracy: tuple[float, ...]
    seconds: float
    seed: int

    @property
    def peak(self) -> float:
        return max(self.test_accuracy)

    @property
    def final(self) -> float:
        return self.test_accuracy[-1]

    def to_dict(self) -> dict:
        return {
            "seed": self.seed,
            "peak": self.peak,
            "final": self.final,
            "test_accuracy": list(self.test_accuracy),
            "seconds": self.seconds,
        }


def train_victim(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    n_classes: int,
    config: VictimConfig,
    seed: int,
    progress: bool = True,
    desc: str = "victim",
    batch_hook: BatchHook | None = None,
) -> VictimResult:
    """Train a fresh `config.model` on (train_x, train_y); test on (test_x, test_y) each epoch.

    Tensors: x [N, T] float, y [N] int64, all on one device (the model goes there too).
    `batch_hook` (a thief's augmentation or adversarial examples) rewrites every training
    batch. Deterministic on CPU for a given seed.
    """
    device = train_x.device
    torch.manual_seed(seed)
    model = build_model(config.model, n_classes).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(seed)
    hook_generator = torch.Generator().manual_seed(seed + 1_000_003)  # apart from the batch order
    if batch_hook is not None:
        batch_hook.setup(model, hook_generator)
    accuracies: list[float] = []
    start = time.perf_counter()
    bar = tqdm(range(config.epochs), desc=desc, unit="epoch", disable=not progress, leave=False)
    for _ in bar:
        model.train()
        perm = torch.randperm(len(train_x), generator=generator).to(device)
        for lo in range(0, len(perm), config.batch_size):
            idx = perm[lo : lo + config.batch_size]
            if len(idx) < 2:  # batch norm cannot train on a single clip
                continue
            inputs, targets = train_x[idx], train_y[idx]
            if batch_hook is not None:
                inputs, targets = batch_hook(model, inputs, targets, n_classes, hook_generator)
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(inputs), targets).backward()
            optimizer.step()
        accuracies.append(accuracy_on(model, test_x, test_y))
        bar.set_postfix(test_acc=f"{accuracies[-1]:.3f}")
    return VictimResult(tuple(accuracies), time.perf_counter() - start, seed)


@torch.no_grad()
def accuracy_on(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 256, delta: torch.Tensor | None = None
) -> float:
    """Fraction of x (x + delta when given, added a batch at a time, so no second copy of
    x exists) classified as y, batched; one host transfer."""
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.long, device=x.device)
    for lo in range(0, len(x), batch_size):
        inputs = x[lo : lo + batch_size] if delta is None else x[lo : lo + batch_size] + delta[lo : lo + batch_size]
        correct += (model(inputs).argmax(-1) == y[lo : lo + batch_size]).sum()
    model.train(was_training)
    return correct.item() / max(len(x), 1)
