"""The "See it work" tab: a model trained on protected clips fails on clean ones.

Unlearnability is a property of a training set, so the tab trains on one: two fresh M5 victims
(the bench's victim recipe, `core.train.train_victim`) on the embedded sample's 838 training
clips, one on the clips as they are and one on the same clips protected, both tested after
every epoch on the 202 clean test clips. The protection is class-wise min-min noise under the
paper's mask table (`dynamic_013_classwise`: one noise pattern per word, clamped to each clip's
own eps), made once by `python -m demo.build_assets` and shipped as 10 x 16,000 samples, so a
visitor's run starts at once. The same build stores 20-epoch curves (CURVES_FILE), shown before
anyone presses a button.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure

from core.budgets import budget_from_dict
from core.budgets.base import eps_in_batches
from core.data import ClipSet, load_embedded
from core.noise import project
from core.train import VictimConfig, train_victim
from demo.examples import ASSETS_DIR

CLASS_NOISE_FILE = ASSETS_DIR / "learning" / "classwise_noise.pt"
CURVES_FILE = ASSETS_DIR / "learning" / "curves.json"
CHANCE = 0.1
LIVE_EPOCHS = (1, 10)
"""The live run's epoch range: one epoch of both victims, data loading included, took 12-14 s
on this project's 2-core machine with four other runs on it; the clean victim passes 50%
after about 7 epochs (the precomputed curves)."""


@dataclass(frozen=True)
class Curves:
    """Clean-test accuracy after each epoch of the victim trained on clean and on protected clips."""

    clean: tuple[float, ...]
    protected: tuple[float, ...]

    def to_dict(self) -> dict[str, list[float]]:
        return {"clean": list(self.clean), "protected": list(self.protected)}


def protect_set(train: ClipSet, class_noise: torch.Tensor, budget_spec: dict[str, Any]) -> torch.Tensor:
    """The training clips plus their class's noise, clamped to each clip's eps and to [-1, 1]."""
    x = train.waveforms
    eps = eps_in_batches(budget_from_dict(budget_spec), x)
    return x + project(class_noise[train.labels], x, eps)


@lru_cache(maxsize=1)
def _live_data(noise_file: Path = CLASS_NOISE_FILE) -> tuple[ClipSet, ClipSet, torch.Tensor]:
    """(train, test, protected training clips), built once per process."""
    stored = torch.load(noise_file, weights_only=True)
    data = load_embedded(progress=False)
    train = data["train"]
    if tuple(stored["classes"]) != train.classes:
        raise ValueError(f"{noise_file} holds noise for classes {stored['classes']}, not the embedded {list(train.classes)}")
    budget = json.loads(stored["budget"])
    return train, data["test"], protect_set(train, stored["noise"].float(), budget)


def train_pair(epochs: int, seed: int = 0, noise_file: Path = CLASS_NOISE_FILE, progress: bool = True) -> Curves:
    """Train the two victims for `epochs` epochs with `seed`; their per-epoch clean-test accuracy."""
    train, test, protected = _live_data(noise_file)
    victim = VictimConfig(epochs=epochs)
    runs = {
        kind: train_victim(x, train.labels, test.waveforms, test.labels, len(train.classes), victim, seed,
                           progress=progress, desc=f"victim on {kind} clips")
        for kind, x in (("clean", train.waveforms), ("protected", protected))
    }
    return Curves(runs["clean"].test_accuracy, runs["protected"].test_accuracy)


def read_curves(path: Path = CURVES_FILE) -> tuple[Curves, dict[str, Any]]:
    """The precomputed curves and how they were made."""
    data = json.loads(path.read_text())
    return Curves(tuple(data["curves"]["clean"]), tuple(data["curves"]["protected"])), data["settings"]


def reading(curves: Curves) -> str:
    """One sentence that reads the two curves."""
    clean, protected = max(curves.clean), max(curves.protected)
    epochs = len(curves.clean)
    if clean < 0.3:
        return (
            f"After {epochs} epoch(s) neither model has learned much yet (clean **{clean:.0%}**, protected "
            f"**{protected:.0%}**, chance {CHANCE:.0%}); train for more epochs: the clean model passes 50% after about 7."
        )
    verdict = (
        "it learned almost nothing that works on real speech"
        if protected < 0.3
        else "the protection held it well below the clean model"
        if protected < clean - 0.2
        else "here the protection did not hold"
    )
    return (
        f"Over {epochs} epoch(s), the model trained on the clean clips reached **{clean:.0%}** on clean test clips; "
        f"the same model trained on the protected clips reached **{protected:.0%}** (chance is {CHANCE:.0%}): {verdict}."
    )


def curves_figure(curves: Curves, path: Path) -> Path:
    """Both curves on one axis (epoch, clean-test accuracy in %), with chance marked; a PNG
    (untitled: the image's label names it, and a title would sit under that label)."""
    fig = Figure(figsize=(6.4, 3.6))  # not pyplot: no global figure registry to leak into
    ax = fig.subplots()
    for label, values, style in (("trained on clean clips", curves.clean, "o-"), ("trained on protected clips", curves.protected, "s-")):
        ax.plot(range(1, len(values) + 1), [100 * v for v in values], style, label=label)
    ax.axhline(100 * CHANCE, color="grey", linestyle=":", label="chance (10 words)")
    ax.set(xlabel="epoch", ylabel="accuracy on clean test clips (%)", ylim=(0, 100), xlim=(0.5, len(curves.clean) + 0.5))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
