"""Min-min noise: budget respected, the poster's x + delta defect caught, determinism."""

import pytest
import torch
from torch import nn

from core.budgets import ConstantBudget, Envelope, SegmentMask
from core.models import Ensemble, build_model, build_surrogate
from core.budgets.band import band_limit
from core.noise import MinMinConfig, descend, generate, project
from core.noise.minmin import _classwise_round, adversarial_view
from core.workspace import IN_MEMORY, Workspace


def linear_surrogate(t: int) -> nn.Module:
    """Two-class linear model logits = [0, w.x]: the sign of its input gradient depends on
    the label only (never on x), so the correct min-min delta is -eps * sign(grad)."""
    torch.manual_seed(1)
    model = nn.Linear(t, 2, bias=False)
    with torch.no_grad():
        model.weight[0].zero_()
        model.weight[1] = torch.randn(t) * 1e-3  # small, so softmax never saturates to a zero gradient
    return model.requires_grad_(False)


def expected_delta(model: nn.Module, y: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    w_sign = model.weight[1].sign()
    # y = 1: grad = (p1 - 1) w, so descent moves along +sign(w); y = 0: along -sign(w).
    direction = torch.where(y[:, None] == 1, w_sign, -w_sign)
    return direction * eps


def speech_like(n: int, t: int) -> torch.Tensor:
    torch.manual_seed(2)
    envelope = torch.rand(n, t // 100).repeat_interleave(100, dim=1) * 0.4
    return torch.randn(n, t).clamp(-1, 1) * envelope


def defective_descend(model, x, y, delta, eps, step_fraction, steps):
    """The poster's defect: x + delta handed over where delta belonged."""
    return descend(model, x, y, x + delta, eps, step_fraction, steps)


@pytest.mark.parametrize("budget", [ConstantBudget(0.05), SegmentMask(0.13, segment_samples=100), Envelope(0.13, window_samples=100)])
def test_descend_gives_minus_eps_sign_grad_uncorrelated_with_x(budget):
    x = speech_like(16, 1000)
    y = torch.arange(16) % 2
    model = linear_surrogate(1000)
    eps = budget.eps(x)
    delta = descend(model, x, y, torch.zeros_like(x), eps, step_fraction=0.1, steps=20)
    assert torch.allclose(delta, expected_delta(model, y, eps))
    corr = torch.corrcoef(torch.stack([delta.flatten(), x.flatten()]))[0, 1]
    assert abs(corr) < 0.05


def test_the_x_plus_delta_defect_would_be_caught():
    x = speech_like(16, 1000)
    y = torch.arange(16) % 2
    model = linear_surrogate(1000)
    eps = ConstantBudget(0.05).eps(x)
    # The defect carries x into delta at every call (once per round); three rounds:
    delta = torch.zeros_like(x)
    for _ in range(3):
        delta = defective_descend(model, x, y, delta, eps, 0.1, 5)
    assert not torch.allclose(delta, expected_delta(model, y, eps))
    corr = torch.corrcoef(torch.stack([delta.flatten(), x.flatten()]))[0, 1]
    assert corr > 0.3


def test_generate_with_fixed_surrogate_gives_exact_error_minimizing_noise():
    x = speech_like(12, 1000)
    y = torch.arange(12) % 2
    model = linear_surrogate(1000)
    budget = SegmentMask(0.13, segment_samples=100)
    config = MinMinConfig(steps=20, step_fraction=0.1, train_steps=0, min_rounds=3, max_rounds=3, noise_batch_size=5)
    result = generate(model, x, y, budget, config, progress=False)
    assert result.rounds == 3
    assert torch.allclose(result.delta, expected_delta(model, y, budget.eps(x)))


@pytest.mark.parametrize("classwise", [False, True])
def test_generate_respects_budget_and_range_and_is_deterministic(classwise, tmp_path):
    """...and keeping its arrays in memory-mapped files (core.workspace) changes nothing."""
    x = speech_like(20, 8000) * 2.4  # some samples near +-1, so the [-1, 1] clamp matters
    x = x.clamp(-1, 1)
    y = torch.arange(20) % 4
    budget = SegmentMask(0.13, segment_samples=500)
    config = MinMinConfig(steps=3, train_steps=2, max_rounds=2, batch_size=8, noise_batch_size=8, classwise=classwise, seed=3)

    def run(workspace=IN_MEMORY):
        torch.manual_seed(0)
        return generate(build_model("m5", 4), x, y, budget, config, n_classes=4, progress=False, workspace=workspace)

    a, b = run(), run(Workspace(tmp_path / "work"))
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["delta.npy", "eps.npy"]
    eps = budget.eps(x)
    assert (a.delta.abs() <= eps + 1e-7).all()
    assert ((x + a.delta).abs() <= 1.0 + 1e-7).all()
    assert a.delta.abs().max() > 0
    assert torch.equal(a.delta, b.delta)
    assert [r["accuracy"] for r in a.history] == [r["accuracy"] for r in b.history]
    if classwise:
        assert a.class_delta.shape == (4, 8000)
        assert torch.allclose(a.delta, project(a.class_delta[y], x, eps))


def test_stop_rule_honours_min_rounds():
    x = speech_like(8, 1000)
    y = torch.arange(8) % 2
    config = MinMinConfig(steps=2, train_steps=0, target_accuracy=0.01, min_rounds=2, max_rounds=5)
    result = generate(linear_surrogate(1000), x, y, ConstantBudget(0.05), config, progress=False)
    assert result.rounds == 2
    early = generate(linear_surrogate(1000), x, y, ConstantBudget(0.05), MinMinConfig(steps=2, train_steps=0, target_accuracy=0.01, max_rounds=5), progress=False)
    assert early.rounds == 1


def test_noise_first_updates_the_noise_before_any_training():
    x = speech_like(8, 8000)
    y = torch.arange(8) % 2

    def weights_after(noise_first: bool, rounds: int) -> list[torch.Tensor]:
        torch.manual_seed(0)
        model = build_model("m5", 2)
        config = MinMinConfig(steps=1, train_steps=2, min_rounds=rounds, max_rounds=rounds, batch_size=4, noise_first=noise_first)
        generate(model, x, y, ConstantBudget(0.05), config, progress=False)
        return [p.detach().clone() for p in model.parameters()]

    torch.manual_seed(0)
    initial = [p.detach().clone() for p in build_model("m5", 2).parameters()]
    assert all(torch.equal(a, b) for a, b in zip(weights_after(True, 1), initial, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(weights_after(False, 1), initial, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(weights_after(True, 2), initial, strict=True))


def test_to_dict_writes_every_option_out():
    """Off options too (cache format 3; core.hashing.as_format reads format 2's keys)."""
    assert MinMinConfig().to_dict()["noise_first"] is False and MinMinConfig().to_dict()["augment"] is False
    assert MinMinConfig(noise_first=True).to_dict()["noise_first"] is True
    assert MinMinConfig(augment=True).to_dict()["augment"] is True


def test_classwise_round_differentiates_through_the_view():
    """Class-wise noise takes the same view (EOT, REM) as sample-wise: with time reversal as
    the view, each class's delta for a linear surrogate is the reversed exact one."""
    x = speech_like(8, 1000)
    y = torch.arange(8) % 2
    model = linear_surrogate(1000)
    eps = ConstantBudget(0.05).eps(x)
    config = MinMinConfig(steps=20, noise_batch_size=8, step_fraction=0.1)
    start = torch.zeros(2, 1000)
    no_shape = lambda sl, final=False: None  # noqa: E731
    plain = _classwise_round(model, x, y, eps, start, 0.05, None, None, config, None, no_shape)
    flipped = _classwise_round(model, x, y, eps, start, 0.05, None, None, config, lambda i, t: (i.flip(1), t), no_shape)
    exact = expected_delta(model, torch.arange(2), torch.full((2, 1000), 0.05))
    assert torch.allclose(plain, exact) and torch.allclose(flipped, exact.flip(1))


def test_descend_differentiates_through_the_view():
    """With a view (here: time reversal), the exact min-min delta of a linear surrogate is the
    reversed one: the gradient reaches delta through the transform."""
    x = speech_like(8, 1000)
    y = torch.arange(8) % 2
    model = linear_surrogate(1000)
    eps = ConstantBudget(0.05).eps(x)
    delta = descend(model, x, y, torch.zeros_like(x), eps, 0.1, 20, view=lambda inputs, yb: (inputs.flip(1), yb))
    assert torch.allclose(delta, expected_delta(model, y, eps).flip(1))


def test_augment_draws_fresh_transforms_and_stays_deterministic_and_in_budget():
    x = speech_like(16, 8000)
    y = torch.arange(16) % 4
    budget = SegmentMask(0.13, segment_samples=500)

    def run(augment: bool, seed: int = 3):
        torch.manual_seed(0)
        config = MinMinConfig(steps=3, train_steps=2, max_rounds=2, batch_size=8, noise_batch_size=8, augment=augment, seed=seed)
        return generate(build_model("m5", 4), x, y, budget, config, n_classes=4, progress=False).delta

    eot, again, plain = run(True), run(True), run(False)
    assert torch.equal(eot, again) and not torch.equal(eot, plain)
    assert (eot.abs() <= budget.eps(x) + 1e-7).all() and eot.abs().max() > 0


def test_an_ensemble_surrogate_descends_on_its_members_consensus():
    """Two linear surrogates averaged are the linear surrogate of their mean weights, so the
    exact min-min delta follows the sign of the mean, not of either member."""
    x = speech_like(8, 1000)
    y = torch.arange(8) % 2
    first, second = linear_surrogate(1000), linear_surrogate(1000)
    with torch.no_grad():
        second.weight[1] = -0.5 * first.weight[1] + torch.randn(1000) * 1e-3
    ensemble = Ensemble([first, second])
    mean = linear_surrogate(1000)
    with torch.no_grad():
        mean.weight[1] = (first.weight[1] + second.weight[1]) / 2
    eps = ConstantBudget(0.05).eps(x)
    delta = descend(ensemble, x, y, torch.zeros_like(x), eps, 0.1, 20)
    assert torch.allclose(delta, expected_delta(mean, y, eps))
    assert not torch.allclose(delta, expected_delta(first, y, eps)) and not torch.allclose(delta, expected_delta(second, y, eps))


def test_surrogate_names_build_single_models_and_ensembles():
    assert isinstance(build_surrogate("m5+logmel_cnn", 4), Ensemble) and len(build_surrogate("m5+logmel_cnn", 4).members) == 2
    assert not isinstance(build_surrogate("m5", 4), Ensemble)
    assert build_surrogate("m5+bc_resnet", 4)(torch.zeros(2, 16000)).shape == (2, 4)
    for bad, message in (("m5+vgg", "unknown model 'vgg'"), ("m5+m5", "names a model twice")):
        with pytest.raises(ValueError, match=message):
            build_surrogate(bad, 4)


def test_the_rem_view_raises_the_loss_within_its_radius_and_passes_the_gradient_on():
    """REM's inner PGD: on a linear surrogate the worst perturbation is radius * sign of the
    loss gradient; the view adds it as a constant, so d(loss)/d(delta) is the gradient at
    the moved point."""
    x = speech_like(8, 1000) * 0.5
    y = torch.arange(8) % 2
    model = linear_surrogate(1000)
    view = adversarial_view(model, radius=0.02, steps=2)
    delta = torch.zeros_like(x, requires_grad=True)
    moved, targets = view(x + delta, y)
    r = (moved - x).detach()
    assert torch.equal(targets, y) and r.abs().max() <= 0.02 + 1e-7
    assert torch.allclose(r, -expected_delta(model, y, torch.full_like(x, 0.02)), atol=1e-6)  # uphill, to the boundary
    plain = torch.nn.functional.cross_entropy(model(x), y)
    loss = torch.nn.functional.cross_entropy(model(moved), y)
    assert loss > plain
    (grad,) = torch.autograd.grad(loss, delta)
    at_moved = (x + r).requires_grad_(True)
    (expected,) = torch.autograd.grad(torch.nn.functional.cross_entropy(model(at_moved), y), at_moved)
    assert torch.allclose(grad, expected)


def test_rem_generation_is_deterministic_in_budget_and_keyed():
    x = speech_like(16, 8000)
    y = torch.arange(16) % 4
    budget = SegmentMask(0.13, segment_samples=500)

    def run(radius: float):
        torch.manual_seed(0)
        config = MinMinConfig(steps=2, train_steps=2, max_rounds=1, batch_size=8, noise_batch_size=8, rem_radius=radius, rem_steps=1)
        return generate(build_model("m5", 4), x, y, budget, config, n_classes=4, progress=False).delta

    rem, again, plain = run(0.03), run(0.03), run(0.0)
    assert torch.equal(rem, again) and not torch.equal(rem, plain)
    assert (rem.abs() <= budget.eps(x) + 1e-7).all() and rem.abs().max() > 0
    assert MinMinConfig(rem_radius=0.03).to_dict()["rem_radius"] == 0.03 and MinMinConfig().to_dict()["rem_radius"] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"steps": 0}, "steps"), ({"step_fraction": 0.0}, "step_fraction"), ({"min_rounds": 3, "max_rounds": 2}, "min_rounds"),
        ({"target_accuracy": 1.5}, "target_accuracy"), ({"rem_radius": -0.01}, "rem_radius"), ({"rem_radius": 1.0}, "rem_radius"),
        ({"rem_steps": 0}, "rem_steps"),
    ],
)  # fmt: skip
def test_config_validation(kwargs, field):
    with pytest.raises(ValueError, match=field):
        MinMinConfig(**kwargs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_generate_on_cuda_matches_budget():
    x = speech_like(16, 8000).cuda()
    y = (torch.arange(16) % 2).cuda()
    budget = SegmentMask(0.13, segment_samples=500)
    torch.manual_seed(0)
    result = generate(build_model("m5", 2).cuda(), x, y, budget, MinMinConfig(steps=2, max_rounds=1), progress=False)
    assert result.delta.is_cuda
    assert (result.delta.abs() <= budget.eps(x) + 1e-7).all()


def _share_above(delta: torch.Tensor, cutoff_hz: float) -> float:
    power = torch.fft.rfft(delta.double(), dim=-1).abs() ** 2
    above = torch.fft.rfftfreq(delta.shape[-1], 1 / 16000) > cutoff_hz
    return float(power[:, above].sum() / power.sum())


@pytest.mark.parametrize("classwise", [False, True])
def test_band_limited_budget_keeps_the_noise_below_its_cutoff(classwise):
    """The budget's band limit reaches every projection: sign steps alone would spread the
    noise over the whole band (about half its energy above 4 kHz)."""
    x = speech_like(16, 8000)
    y = torch.arange(16) % 4
    config = MinMinConfig(steps=3, train_steps=2, max_rounds=2, batch_size=8, noise_batch_size=8, classwise=classwise)

    def noise(band_limit_hz):
        torch.manual_seed(0)
        budget = SegmentMask(0.13, segment_samples=500, band_limit_hz=band_limit_hz)
        return generate(build_model("m5", 4), x, y, budget, config, n_classes=4, progress=False).delta, budget

    limited, budget = noise(4000.0)
    full, _ = noise(None)
    assert (limited.abs() <= budget.eps(x) + 1e-7).all()  # the L-inf bound stays exact
    assert limited.abs().max() > 0.05
    assert _share_above(full, 4000.0) > 0.3
    assert _share_above(limited, 4000.0) < 0.05
    assert _share_above(noise(2000.0)[0], 2000.0) < 0.05


def test_band_limit_takes_one_cutoff_per_row():
    t = torch.arange(1600, dtype=torch.float64) / 16000
    tone = torch.sin(2 * torch.pi * 3000 * t).repeat(2, 1)
    out = band_limit(tone, torch.tensor([1000.0, 8000.0]))
    assert out[0].abs().max() < 1e-5 and torch.allclose(out[1], tone[1], atol=1e-5)
    with pytest.raises(ValueError, match="per-row cut-offs"):
        band_limit(tone, torch.tensor([1000.0]))


def test_noise_is_optimized_only_where_it_is_written():
    """Padding gets no noise and each clip's noise stays below its file's Nyquist, so the
    surrogate learns from nothing the written files lose (issue: short and 8 kHz clips)."""
    x = speech_like(16, 8000)
    y = torch.arange(16) % 4
    valid = torch.ones_like(x)
    valid[::2, 3200:] = 0  # every other clip is 0.2 s of audio and padding
    cutoffs = torch.tensor([4000.0, 8000.0]).repeat(8)  # and every other one an 8 kHz file
    config = MinMinConfig(steps=3, train_steps=2, max_rounds=2, batch_size=8, noise_batch_size=8)
    torch.manual_seed(0)
    budget = SegmentMask(0.13, segment_samples=500)
    delta = generate(build_model("m5", 4), x, y, budget, config, n_classes=4, progress=False, valid=valid, cutoffs_hz=cutoffs).delta
    assert delta[::2, 3200:].abs().max() == 0 and delta[::2, :3200].abs().max() > 0.01
    assert _share_above(delta[::2], 4000.0) < 0.05 and _share_above(delta[1::2], 4000.0) > 0.3
    assert (delta.abs() <= budget.eps(x) + 1e-7).all()


@pytest.mark.parametrize("augment", [False, True])
def test_a_killed_generation_resumes_from_its_last_round_with_the_same_result(tmp_path, augment):
    """A run killed after round 1 and started again from its checkpoint ends with exactly the
    noise and history of an uninterrupted run (surrogate, optimizer, batch order and every
    random generator restored); a checkpoint that does not fit is replaced."""
    x = speech_like(12, 8000)
    y = torch.arange(12) % 3
    budget = SegmentMask(0.13, segment_samples=500)
    config = MinMinConfig(steps=2, train_steps=3, min_rounds=3, max_rounds=3, batch_size=5, noise_batch_size=8, augment=augment, seed=4)

    def run(checkpoint=None, on_round=None):
        torch.manual_seed(0)
        return generate(build_model("m5", 3), x, y, budget, config, n_classes=3, progress=False, checkpoint=checkpoint, on_round=on_round)

    whole = run()
    path = tmp_path / "noise.checkpoint.pt"

    def kill_after_first(record):
        if record["round"] == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(path, kill_after_first)
    assert path.is_file()
    resumed = run(path)
    assert torch.equal(resumed.delta, whole.delta)
    assert [r["accuracy"] for r in resumed.history] == [r["accuracy"] for r in whole.history] and resumed.rounds == 3
    path.write_bytes(b"cut short")
    assert torch.equal(run(path).delta, whole.delta)


def test_eps_in_batches_and_batched_accuracy_equal_the_whole_computation():
    """What lets min-min hold an hour of windows: eps a batch at a time, x + delta added a
    batch at a time; both give exactly the figures of the whole computation."""
    from core.budgets.base import eps_in_batches
    from core.train import accuracy_on

    g = torch.Generator().manual_seed(0)
    x = (torch.rand(37, 16000, generator=g) - 0.5) * 0.4
    budget = SegmentMask(0.13, segment_samples=1000)
    eps = eps_in_batches(budget, x, batch=5)
    assert torch.equal(eps, budget.eps(x)) and eps.data_ptr() != x.data_ptr()
    torch.manual_seed(0)
    model = build_model("m5", 3).eval()
    y, delta = torch.arange(37) % 3, (torch.rand(37, 16000, generator=g) - 0.5) * 0.1
    assert accuracy_on(model, x, y, 8, delta) == accuracy_on(model, x + delta, y, 8)


def test_a_cut_off_at_or_above_nyquist_leaves_the_noise_untouched():
    delta = torch.randn(3, 1000)
    assert band_limit(delta, torch.full((3,), 8000.0)) is delta
    assert not torch.equal(band_limit(delta, torch.tensor([8000.0, 4000.0, 8000.0])), delta)
