"""Victim training: learns a separable task, deterministic under a seed, validates config."""

import pytest
import torch

from core.train import VictimConfig, train_victim


def tone_task(n_per_class: int, seed: int):
    """Two classes: 440 Hz vs 2 kHz tones with random phase and level."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(16000) / 16000
    xs, ys = [], []
    for label, hz in enumerate((440.0, 2000.0)):
        phase = torch.rand(n_per_class, 1, generator=g) * 6.28
        level = 0.1 + 0.3 * torch.rand(n_per_class, 1, generator=g)
        xs.append(level * torch.sin(2 * torch.pi * hz * t + phase))
        ys.append(torch.full((n_per_class,), label))
    return torch.cat(xs), torch.cat(ys)


def test_victim_learns_and_reports_per_epoch_accuracy():
    x, y = tone_task(16, 0)
    tx, ty = tone_task(8, 1)
    result = train_victim(x, y, tx, ty, 2, VictimConfig(epochs=3, batch_size=8), seed=0, progress=False)
    assert len(result.test_accuracy) == 3
    assert result.peak == max(result.test_accuracy) and result.final == result.test_accuracy[-1]
    assert result.peak >= 0.9
    assert set(result.to_dict()) == {"seed", "peak", "final", "test_accuracy", "seconds"}


def test_victim_is_deterministic_under_a_seed():
    x, y = tone_task(8, 0)
    a = train_victim(x, y, x, y, 2, VictimConfig(epochs=2, batch_size=8), seed=5, progress=False)
    b = train_victim(x, y, x, y, 2, VictimConfig(epochs=2, batch_size=8), seed=5, progress=False)
    assert a.test_accuracy == b.test_accuracy


@pytest.mark.parametrize(("kwargs", "field"), [({"epochs": 0}, "epochs"), ({"batch_size": 0}, "batch_size"), ({"lr": 0.0}, "lr")])
def test_victim_config_validation(kwargs, field):
    with pytest.raises(ValueError, match=field):
        VictimConfig(**kwargs)
