"""The bundled surrogate: a small M5 trained on the embedded sample, and protecting a waveform with it.

The demo cannot afford a full min-min run (surrogate training alternating with noise
updates) per request, so it keeps the surrogate fixed: the noise is `steps` signed-gradient
descent steps on CE(f(x + delta), y) against pretrained weights, the noise half of min-min.
Long audio is cut into 1-s windows (core.protect's windows, the last one zero-padded) and
all windows are updated as one batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.budgets import Budget
from core.models import build_model
from core.noise import descend
from core.protect import split_windows, stitch

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
CHECKPOINT = ASSETS_DIR / "surrogate_m5.pt"
"""state_dict of the bundled M5 (loaded with weights_only=True: data, never code)."""
CHECKPOINT_INFO = ASSETS_DIR / "surrogate_m5.json"
"""Its model name, class list and how it was trained."""


@dataclass(frozen=True)
class Surrogate:
    """A frozen classifier in eval mode and the names of its classes."""

    model: nn.Module
    classes: tuple[str, ...]


@dataclass(frozen=True)
class NoiseSettings:
    """Signed-gradient descent on delta against the fixed surrogate.

    Attributes:
        steps: descent steps on delta.
        step_fraction: each step's size as a fraction of eps(x, t).
        seed: seeds the uniform random start inside the budget (same seed, same noise).
    """

    steps: int = 20
    step_fraction: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps must be a positive integer, got {self.steps!r}")
        if not 0.0 < self.step_fraction <= 1.0:
            raise ValueError(f"step_fraction must lie in (0, 1], got {self.step_fraction}")


def load_surrogate(checkpoint: Path = CHECKPOINT, info: Path = CHECKPOINT_INFO) -> Surrogate:
    """The bundled surrogate, frozen and in eval mode on the CPU.

    Raises ValueError naming the file when the checkpoint or its JSON is missing (run
    `python -m demo.build_assets`).
    """
    for path in (checkpoint, info):
        if not path.is_file():
            raise ValueError(f"surrogate file {path} is missing; build it with `python -m demo.build_assets`")
    meta = json.loads(info.read_text(encoding="utf-8"))
    classes = tuple(meta["classes"])
    model = build_model(meta["model"], len(classes))
    model.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
    model.eval().requires_grad_(False)
    return Surrogate(model, classes)


@torch.no_grad()
def predict_label(surrogate: Surrogate, audio: np.ndarray) -> int:
    """Class the surrogate gives a whole recording: mean softmax over its 1-s windows.

    Args: audio: [T] mono float32 at 16 kHz, T >= 1.
    """
    windows = torch.from_numpy(split_windows(audio))
    return int(surrogate.model(windows).softmax(-1).mean(0).argmax())


@torch.no_grad()
def label_confidence(surrogate: Surrogate, audio: np.ndarray, label: int) -> float:
    """Mean softmax probability of `label` over the recording's 1-s windows: what the noise
    raises (error-minimizing noise makes the surrogate sure of the label)."""
    windows = torch.from_numpy(split_windows(audio))
    return float(surrogate.model(windows).softmax(-1)[:, label].mean())


def protect_waveform(
    surrogate: Surrogate,
    audio: np.ndarray,
    budget: Budget,
    label: int,
    settings: NoiseSettings = NoiseSettings(),
) -> np.ndarray:
    """Error-minimizing noise [T] for one recording, |noise| <= the budget's eps everywhere.

    Args:
        surrogate: the fixed classifier the noise makes confident.
        audio: [T] mono float32 at 16 kHz, T >= 1.
        budget: eps(x, t), evaluated on the recording's 1-s windows (as `core.protect` does).
        label: class index every window is pushed towards.
        settings: descent steps, step size and seed.
    """
    if not 0 <= label < len(surrogate.classes):
        raise ValueError(f"label must lie in [0, {len(surrogate.classes)}), got {label}")
    windows = torch.from_numpy(split_windows(audio))
    eps = budget.eps(windows)
    generator = torch.Generator().manual_seed(settings.seed)
    start = (torch.rand(windows.shape, generator=generator) * 2 - 1) * eps
    y = torch.full((len(windows),), label, dtype=torch.long)
    delta = descend(
        surrogate.model, windows, y, start, eps, settings.step_fraction, settings.steps, budget.band_limit_hz
    )
    return stitch(delta.numpy(), len(audio))
