"""The bundled surrogate and the shipped assets: loading, noise within budget, error-minimizing, sizes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from core.budgets import ConstantBudget, SegmentMask
from core.data import read_audio
from core.protect import eps_16k, split_windows
from demo.examples import CLEAN, SHIPPED_CONFIGS, read_index
from demo.surrogate import (
    ASSETS_DIR,
    NoiseSettings,
    load_surrogate,
    predict_label,
    protect_waveform,
)
from tests.demo.factory import speech_clip

MAX_ASSETS_BYTES = 3_000_000


def loss(surrogate, audio: np.ndarray, label: int) -> float:
    windows = torch.from_numpy(split_windows(audio.astype(np.float32)))
    with torch.no_grad():
        return float(F.cross_entropy(surrogate.model(windows), torch.full((len(windows),), label)))


def test_checkpoint_loads_as_a_frozen_ten_word_classifier() -> None:
    surrogate = load_surrogate()
    assert len(surrogate.classes) == 10 and "yes" in surrogate.classes
    assert not surrogate.model.training
    assert not any(p.requires_grad for p in surrogate.model.parameters())


def test_missing_checkpoint_names_the_build_command(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="demo.build_assets"):
        load_surrogate(tmp_path / "none.pt", tmp_path / "none.json")


@pytest.mark.parametrize(
    "budget",
    [ConstantBudget(0.02), SegmentMask(eps_max=0.13), SegmentMask(eps_max=0.13, band_limit_hz=4000)],
    ids=["constant", "mask", "mask_below_4khz"],
)
def test_noise_is_within_budget_and_lowers_the_loss(budget) -> None:
    surrogate = load_surrogate()
    audio = speech_clip(2.3)
    label = surrogate.classes.index("stop")
    noise = protect_waveform(surrogate, audio, budget, label)
    assert noise.shape == audio.shape and noise.dtype == np.float32
    assert np.all(np.abs(noise) <= eps_16k(budget, audio) + 1e-7)
    assert loss(surrogate, audio + noise, label) < 0.5 * loss(surrogate, audio, label)
    power = np.abs(np.fft.rfft(noise.astype(np.float64))) ** 2
    share_above_4khz = power[np.fft.rfftfreq(len(noise), 1 / 16000) > 4000].sum() / power.sum()
    assert share_above_4khz < 0.05 if budget.band_limit_hz else share_above_4khz > 0.2


def test_same_seed_same_noise_other_seed_other_noise() -> None:
    surrogate, audio, budget = load_surrogate(), speech_clip(1.0), ConstantBudget(0.05)
    a = protect_waveform(surrogate, audio, budget, 0, NoiseSettings(steps=3, seed=1))
    b = protect_waveform(surrogate, audio, budget, 0, NoiseSettings(steps=3, seed=1))
    c = protect_waveform(surrogate, audio, budget, 0, NoiseSettings(steps=3, seed=2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_settings_and_labels_are_validated() -> None:
    with pytest.raises(ValueError, match="steps"):
        NoiseSettings(steps=0)
    with pytest.raises(ValueError, match="step_fraction"):
        NoiseSettings(step_fraction=1.5)
    with pytest.raises(ValueError, match="label"):
        protect_waveform(load_surrogate(), speech_clip(1.0), ConstantBudget(0.05), 10)


def test_surrogate_recognises_most_shipped_examples() -> None:
    surrogate = load_surrogate()
    examples = read_index().examples
    hits = sum(surrogate.classes[predict_label(surrogate, read_audio(e.clean))] == e.word for e in examples)
    assert hits >= len(examples) // 2


def test_shipped_assets_are_complete_and_small() -> None:
    index = read_index()
    assert set(index.budgets) == set(SHIPPED_CONFIGS) and len(index.examples) >= 6
    for example in index.examples:
        assert example.clean.is_file()
        assert set(example.protected) == set(SHIPPED_CONFIGS) - {CLEAN}
        assert all(path.is_file() for path in example.protected.values())
        assert set(example.metrics) == set(SHIPPED_CONFIGS)
    info = json.loads((ASSETS_DIR / "surrogate_m5.json").read_text())
    assert info["model"] == "m5" and info["test_accuracy"] > 0.3
    assert sum(f.stat().st_size for f in ASSETS_DIR.rglob("*") if f.is_file()) < MAX_ASSETS_BYTES
