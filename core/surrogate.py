"""The bundled surrogate: a small M5 trained on the embedded sample, and noise made against it.

Protecting one recording cannot afford a full min-min run (surrogate training alternating
with noise updates), so the surrogate stays fixed: the noise is `steps` signed-gradient
descent steps on CE(f(x + delta), y) against pretrained weights, the noise half of min-min.
Every function here takes a recording's 1-s windows (`core.data.windows.split_windows`), so a
caller cuts a recording once and uses the windows for the label, the noise and the
confidence alike. `python -m demo.build_assets` trains the checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from core.models import build_model
from core.noise import descend
from core.noise.minmin import Shape

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
def predict_label(surrogate: Surrogate, windows: torch.Tensor) -> int:
    """Class the surrogate gives a whole recording: mean softmax over its 1-s windows [K, T]."""
    return int(surrogate.model(windows).softmax(-1).mean(0).argmax())


@torch.no_grad()
def label_confidence(surrogate: Surrogate, windows: torch.Tensor, label: int) -> float:
    """Mean softmax probability of `label` over a recording's 1-s windows [K, T]: what the
    noise raises (error-minimizing noise makes the surrogate sure of the label)."""
    return float(surrogate.model(windows).softmax(-1)[:, label].mean())


def fixed_surrogate_noise(
    surrogate: Surrogate,
    windows: torch.Tensor,
    eps: torch.Tensor,
    label: int,
    settings: NoiseSettings = NoiseSettings(),
    band_limit_hz: float | None = None,
    shape: Shape | None = None,
) -> torch.Tensor:
    """Error-minimizing noise [K, T] for one recording's windows [K, T], |noise| <= eps [K, T].

    Args:
        surrogate: the fixed classifier the noise makes confident.
        windows, eps: the recording's 1-s windows and the budget's eps on them.
        label: class index every window is pushed towards.
        settings: descent steps, step size and seed.
        band_limit_hz: keep the noise below this frequency (None: the whole band).
        shape: a budget's further projection at every step (the masking budget's per-bin
            power limit; see core.noise.minmin.project).
    """
    if not 0 <= label < len(surrogate.classes):
        raise ValueError(f"label must lie in [0, {len(surrogate.classes)}), got {label}")
    generator = torch.Generator().manual_seed(settings.seed)
    start = (torch.rand(windows.shape, generator=generator) * 2 - 1) * eps
    y = torch.full((len(windows),), label, dtype=torch.long)
    return descend(surrogate.model, windows, y, start, eps, settings.step_fraction, settings.steps, band_limit_hz, shape=shape)
