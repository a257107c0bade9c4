"""Masking budget: config data, validation, and min-min noise that stays under the clean clips'
masking threshold (up to overlap-add leakage) as well as under its L-inf cap."""

import dataclasses

import pytest
import soundfile as sf
import torch

from core.budgets import ConstantBudget, Masking, budget_from_dict
from core.budgets.psychoacoustic import power_of, stft
from core.data import EMBEDDED_ROOT
from core.models import build_model
from core.noise import MinMinConfig, generate


@pytest.fixture(scope="module")
def clips() -> tuple[torch.Tensor, torch.Tensor]:
    """Eight real clips of two words from the shipped sample, with labels."""
    xs, ys = [], []
    for label, word in enumerate(("yes", "no")):
        for path in sorted((EMBEDDED_ROOT / word).glob("*.flac"))[:4]:
            xs.append(torch.from_numpy(sf.read(path, dtype="float32")[0]))
            ys.append(label)
    return torch.stack(xs), torch.tensor(ys)


def test_config_data_and_validation():
    budget = budget_from_dict({"kind": "masking", "margin_db": -3, "eps_max": 0.05, "band_limit_hz": 4000})
    assert budget == Masking(margin_db=-3.0, eps_max=0.05, band_limit_hz=4000)
    assert budget_from_dict(budget.to_dict()) == budget
    assert torch.equal(budget.eps(torch.zeros(2, 10)), torch.full((2, 10), 0.05))
    for bad, message in [
        ({"margin_db": "0"}, "margin_db must be a number"),
        ({"margin_db": 100}, "margin_db must be a number"),
        ({"margin_db": 0, "iterations": 0}, "iterations must be a positive integer"),
        ({"margin_db": 0, "eps_max": 2}, "eps_max must lie in"),
        ({"eps_max": 0.1}, "missing \\['margin_db'\\]"),
    ]:
        with pytest.raises(ValueError, match=message):
            budget_from_dict({"kind": "masking", **bad})


def test_minmin_noise_stays_under_the_masking_threshold(clips):
    x, y = clips
    budget = Masking(margin_db=0.0, eps_max=0.1, iterations=2)
    config = MinMinConfig(steps=5, train_steps=2, max_rounds=2, batch_size=4, noise_batch_size=4, seed=0)

    def run(b):
        torch.manual_seed(0)
        return generate(build_model("m5", 2), x, y, b, config, n_classes=2, progress=False).delta

    masked, loud = run(budget), run(ConstantBudget(0.1))
    limit = budget.noise_power_limit(x).double()
    power = power_of(stft(masked))
    assert masked.abs().max() <= 0.1 + 1e-7 and masked.abs().max() > 0
    assert (power > limit * 10**0.1).double().mean() < 0.1  # bins more than 1 dB over
    assert (power - limit).clamp(min=0).sum() < 0.01 * power.sum()
    snr = lambda d: 10 * torch.log10(x.pow(2).sum() / d.pow(2).sum())  # noqa: E731
    assert snr(masked) > snr(loud) + 10
    torch.manual_seed(0)  # class-wise: one pattern per class, shaped under each clip's own threshold
    classwise = generate(build_model("m5", 2), x, y, budget, dataclasses.replace(config, classwise=True), n_classes=2, progress=False)
    power = power_of(stft(classwise.delta))
    assert classwise.class_delta.shape == (2, x.shape[1]) and classwise.delta.abs().max() > 0
    assert (power > limit * 10**0.1).double().mean() < 0.1
    assert (power - limit).clamp(min=0).sum() < 0.01 * power.sum()
