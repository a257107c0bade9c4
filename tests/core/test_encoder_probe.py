"""EncoderProbe: SimCLR pretraining then a linear probe; one accuracy per checkpoint, learns a
separable toy task, deterministic under a seed, validates settings; its parts behave."""

import pytest
import torch

from core.defenses import DEFENSES, EncoderProbe, defense_from_dict
from core.defenses.encoder_probe import last_linear, nt_xent, pretrain, random_views, representations
from core.models import build_model
from core.train import VictimConfig, VictimResult


def tone_task(n_per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes: 440 Hz vs 3 kHz tones with random phase and level, 0.5 s long."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(8000) / 16000
    xs, ys = [], []
    for label, hz in enumerate((440.0, 3000.0)):
        phase = torch.rand(n_per_class, 1, generator=g) * 6.28
        level = 0.1 + 0.3 * torch.rand(n_per_class, 1, generator=g)
        xs.append(level * torch.sin(2 * torch.pi * hz * t + phase))
        ys.append(torch.full((n_per_class,), label))
    return torch.cat(xs), torch.cat(ys)


def run(probe: EncoderProbe, model: str = "m5", seed: int = 0, victim_epochs: int = 10) -> VictimResult:
    x, y = tone_task(8, 0)
    tx, ty = tone_task(8, 1)
    victim = VictimConfig(model=model, epochs=victim_epochs)
    return probe.train(x, y, tx, ty, 2, victim, seed=seed, progress=False)


def test_one_accuracy_per_checkpoint_and_learns_separable_task():
    result = run(EncoderProbe(epochs=3, embed_dim=8, batch_size=8, probe_every=2))
    assert isinstance(result, VictimResult)
    assert len(result.test_accuracy) == 2  # after epoch 2 and after the last (3)
    assert result.peak == max(result.test_accuracy) >= 0.9 and result.seconds > 0


def test_epochs_default_to_the_victims():
    result = run(EncoderProbe(embed_dim=8, batch_size=8, probe_every=1), victim_epochs=2)
    assert len(result.test_accuracy) == 2  # one probe per SSL epoch, two victim epochs


def test_deterministic_under_seed():
    x, _ = tone_task(4, 0)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(random_views(x, g1), random_views(x, g2))
    probe = EncoderProbe(epochs=1, embed_dim=8, batch_size=4)
    (a, loss_a), (b, loss_b), (c, _) = (next(pretrain(x, "m5", probe, seed)) for seed in (5, 5, 6))
    assert loss_a == loss_b
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.fc1.weight, c.fc1.weight)


@pytest.mark.parametrize("model, dim", [("m5", 64), ("logmel_cnn", 64)])
def test_representation_is_the_last_linear_input(model, dim):
    torch.manual_seed(0)
    net = build_model(model, 8).eval()
    x = torch.randn(3, 16000) * 0.1
    z = representations(net, x, batch_size=2)
    assert z.shape == (3, dim)
    with torch.no_grad():
        assert torch.allclose(last_linear(net)(z), net(x), atol=1e-5)
    assert not last_linear(net)._forward_pre_hooks  # the hook is removed


def test_nt_xent_prefers_matched_views():
    g = torch.Generator().manual_seed(0)
    z1 = torch.randn(16, 8, generator=g)
    z2 = z1 + 0.1 * torch.randn(16, 8, generator=g)
    shuffled = z2[torch.roll(torch.arange(16), 1)]
    assert nt_xent(z1, z2, 0.2) < nt_xent(z1, shuffled, 0.2)
    assert nt_xent(z1, z2, 0.2).ndim == 0


def test_views_keep_shape_and_differ():
    x, _ = tone_task(3, 0)
    g = torch.Generator().manual_seed(0)
    a, b = random_views(x, g), random_views(x, g)
    assert a.shape == x.shape and a.dtype == x.dtype and not torch.equal(a, b)


def test_registry_and_validation():
    assert "encoder_probe" in DEFENSES.names()
    built = defense_from_dict({"kind": "encoder_probe", "epochs": 3, "temperature": 0.5})
    assert built == EncoderProbe(epochs=3, temperature=0.5) and built.name == "ssl_probe"
    for field, bad in [("epochs", 0), ("embed_dim", 2.0), ("batch_size", 1), ("probe_every", True)]:
        with pytest.raises(ValueError, match=f"encoder_probe {field}"):
            EncoderProbe(**{field: bad})
    for field, bad in [("temperature", 0.0), ("lr", -1e-3), ("weight_decay", -1.0), ("temperature", "0.1")]:
        with pytest.raises(ValueError, match=f"encoder_probe {field}"):
            EncoderProbe(**{field: bad})
