"""The bundled surrogate: loading, noise within budget that lowers its loss, seeds, validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from core.budgets import ConstantBudget, SegmentMask
from core.data import load_embedded
from core.data.windows import split_windows, stitch
from core.noise.adding import eps_16k
from core.surrogate import NoiseSettings, fixed_surrogate_noise, load_surrogate


def speech_clip(seconds: float) -> np.ndarray:
    """Real speech at 16 kHz: embedded test clips one after another, repeated or cut."""
    audio = load_embedded()["test"].waveforms[:8].reshape(-1).numpy()
    return np.resize(audio, int(seconds * 16_000)).astype(np.float32)


def protect_waveform(surrogate, audio, budget, label, settings=NoiseSettings()):
    windows = torch.from_numpy(split_windows(audio))
    eps = budget.eps(windows)
    noise = fixed_surrogate_noise(surrogate, windows, eps, label, settings, budget.band_limit_hz)
    return stitch(noise.numpy(), len(audio))


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
