"""Training-time thieves: augmentation, PGD adversarial training, partial protection."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from core.defenses import AdversarialTraining, PartialProtection, TrainingAugment, defense_from_dict
from core.defenses.adversarial import pgd_attack
from core.defenses.augment import mask_bands, speed_and_shift
from core.defenses.partial import mix_clean
from core.models import build_model
from core.train import VictimConfig


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_speed_and_shift_moves_and_stretches_the_waveform():
    x = torch.arange(100, dtype=torch.float32)[None].repeat(3, 1)
    out = speed_and_shift(x, torch.tensor([1.0, 1.0, 2.0]), torch.tensor([0.0, 10.0, 0.0]))
    assert torch.allclose(out[0], x[0])
    assert torch.all(out[1, :10] == 0) and torch.allclose(out[1, 10:], x[1, :90])  # delayed, zeros before
    assert torch.allclose(out[2, :50], 2 * x[2, :50]) and torch.all(out[2, 50:] == 0)  # twice as fast


def test_spec_augment_masks_whole_bands_with_the_clip_mean():
    features = torch.randn(4, 40, 101, generator=gen())
    masked = mask_bands(features, 1, count=2, max_width=8, generator=gen(2))
    changed_rows = (masked != features).all(dim=2)  # a masked mel band is changed in every frame
    assert changed_rows.any() and changed_rows.sum(1).max() <= 16
    assert torch.equal(masked == features, (masked == features).all(dim=2, keepdim=True).expand_as(features))


def test_augment_is_random_per_batch_but_fixed_by_the_generator():
    aug = TrainingAugment()
    model = build_model("m5", 3)
    x, y = torch.randn(8, 16000, generator=gen()) * 0.1, torch.arange(8) % 3
    a, ta = aug(model, x, y, 3, gen(5))
    b, tb = aug(model, x, y, 3, gen(5))
    c, _ = aug(model, x, y, 3, gen(6))
    assert torch.equal(a, b) and torch.equal(ta, tb) and not torch.equal(a, c)
    assert a.shape == x.shape and a.abs().max() <= 1.0
    assert ta.shape == (8, 3) and torch.allclose(ta.sum(1), torch.ones(8))  # mixup: soft targets


def test_augment_switches_on_spec_augment_only_where_there_is_a_log_mel_front_end():
    logmel, m5 = build_model("logmel_cnn", 2), build_model("m5", 2)
    TrainingAugment().setup(logmel, gen())
    TrainingAugment().setup(m5, gen())
    assert logmel.front_end.spec_augment is not None
    assert TrainingAugment(spec_augment=False).batch_hook() is not None
    fresh = build_model("logmel_cnn", 2)
    TrainingAugment(spec_augment=False).setup(fresh, gen())
    assert fresh.front_end.spec_augment is None


class Linear(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 2)
        self.bn = nn.BatchNorm1d(2)

    def forward(self, x):
        return self.bn(self.fc(x))


def test_pgd_raises_the_loss_within_the_ball_and_leaves_the_model_as_it_was():
    torch.manual_seed(0)
    model = Linear().train()
    x, y = torch.rand(16, 64) * 0.5, torch.arange(16) % 2
    stats = model.bn.running_mean.clone()
    adv = pgd_attack(model, x, y, eps_linf=0.05, steps=5, step_size=0.02, generator=gen())
    assert model.training and torch.equal(model.bn.running_mean, stats)
    assert (adv - x).abs().max() <= 0.05 + 1e-6
    model.eval()
    rand = x + (torch.rand(x.shape, generator=gen(3)) * 2 - 1) * 0.05
    with torch.no_grad():
        assert F.cross_entropy(model(adv), y) > F.cross_entropy(model(rand), y) > 0


def test_adversarial_hook_keeps_labels_and_names_its_radius():
    thief = AdversarialTraining(eps_linf=0.01, steps=1)
    x, y = torch.randn(4, 16000) * 0.1, torch.tensor([0, 1, 0, 1])
    out, target = thief(build_model("m5", 2), x, y, 2, gen())
    assert torch.equal(target, y) and (out - x).abs().max() <= 0.01 + 1e-6 and thief.name == "adv_pgd_0.01"


def test_partial_protection_replaces_the_right_share_with_clean_clips():
    poisoned, clean = torch.ones(10, 5), torch.zeros(10, 5)
    out = mix_clean(poisoned, clean, 0.8, seed=0)
    assert (out.sum(1) == 0).sum() == 2 and (out.sum(1) == 5).sum() == 8
    assert torch.equal(out, mix_clean(poisoned, clean, 0.8, seed=0))
    assert not torch.equal(out, mix_clean(poisoned, clean, 0.8, seed=1))
    assert torch.equal(PartialProtection(1.0).prepare(poisoned, clean, 16000), poisoned)
    assert PartialProtection(0.5).name == "poison_50pct"


@pytest.mark.parametrize("rate", [0.0, -0.1, 1.5, float("nan"), True, "0.5"])
def test_poison_rate_outside_zero_one_is_refused(rate):
    with pytest.raises(ValueError, match="poison_rate must lie in \\(0, 1\\]"):
        defense_from_dict({"kind": "partial", "poison_rate": rate})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "jpeg"}, "unknown defense 'jpeg'"),
        ({"kind": "partial", "rate": 0.5}, "unknown key"),
        ({"kind": "adversarial", "eps_linf": 0}, "eps_linf must lie in"),
        ({"kind": "adversarial", "steps": 0}, "steps must be a positive integer"),
        ({"kind": "augment", "speed": 1.5}, "speed is out of range"),
        ({"kind": "augment", "noise_snr_db": [30, 10]}, "noise_snr_db"),
    ],
)
def test_bad_thief_settings_are_refused_by_name(spec, message):
    with pytest.raises(ValueError, match=message):
        defense_from_dict(spec)


@pytest.mark.parametrize("spec", [{"kind": "augment"}, {"kind": "adversarial", "steps": 1}])
def test_training_thieves_train_a_victim_deterministically(spec):
    thief = defense_from_dict(spec)
    x, y = torch.randn(16, 16000, generator=gen()) * 0.1, torch.arange(16) % 2
    runs = [thief.train(x, y, x, y, 2, VictimConfig(model="logmel_cnn", epochs=1, batch_size=8), 3, progress=False) for _ in range(2)]
    assert runs[0].test_accuracy == runs[1].test_accuracy and len(runs[0].test_accuracy) == 1
