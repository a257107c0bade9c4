"""BCResNet: parameter counts, shapes, gradients, train/eval behaviour, SpecAugment hook."""

import pytest
import torch

from core.models import MODELS, BCResNet, LogMel, build_model
from core.models.bc_resnet import BCResBlock, SubSpectralNorm

# 0.25 s clips (26 frames) keep every test well under a second on one core.
SHORT_SAMPLES = 4000


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_match_the_paper():
    # Kim et al. (2021) Table 2: BC-ResNet-1 9.2k, BC-ResNet-2 27.3k parameters (12 classes).
    assert n_params(BCResNet(12)) == 9_232
    assert n_params(BCResNet(12, tau=2)) == 27_284
    assert n_params(BCResNet(10)) == 9_166
    assert n_params(build_model("bc_resnet", 10)) == 9_166


def test_registered_with_a_log_mel_front_end():
    assert "bc_resnet" in MODELS
    model = build_model("bc_resnet", 10)
    assert isinstance(model.front_end, LogMel) and model.front_end.n_mels == 40
    # The front end holds no learned or saved state: checkpoints are the network's weights only.
    assert not any(key.startswith("front_end.") for key in model.state_dict())


@pytest.mark.parametrize("n_samples", [SHORT_SAMPLES, 16000])
def test_output_shape_for_both_layouts(n_samples):
    torch.manual_seed(0)
    model = BCResNet(7).eval()
    x = torch.randn(3, n_samples) * 0.1
    out = model(x)
    assert out.shape == (3, 7)
    assert torch.allclose(out, model(x.unsqueeze(1)))


def test_batched_equals_one_by_one_in_eval_mode():
    torch.manual_seed(0)
    model = BCResNet(5).eval()
    x = torch.randn(3, SHORT_SAMPLES) * 0.1
    one_by_one = torch.cat([model(x[i : i + 1]) for i in range(3)])
    assert torch.allclose(model(x), one_by_one, atol=1e-5)


def test_gradient_reaches_the_waveform_and_every_parameter():
    torch.manual_seed(0)
    model = BCResNet(4)
    x = (torch.randn(2, SHORT_SAMPLES) * 0.1).requires_grad_(True)
    model(x).square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in model.parameters())


def test_training_mode_is_stochastic_and_eval_mode_deterministic():
    torch.manual_seed(0)
    model = BCResNet(4)
    x = torch.randn(4, SHORT_SAMPLES) * 0.1
    running_mean = model.head[1].running_mean.clone()
    with torch.no_grad():
        a, b = model.train()(x), model(x)
    assert not torch.allclose(a, b)  # channel dropout in each block's 1-D part
    assert not torch.equal(model.head[1].running_mean, running_mean)  # batch statistics updated
    model.eval()
    running_mean = model.head[1].running_mean.clone()
    with torch.no_grad():
        assert torch.equal(model(x), model(x))
    assert torch.equal(model.head[1].running_mean, running_mean)


def test_spec_augment_hook_runs_in_training_mode_only():
    torch.manual_seed(0)
    model = BCResNet(4)
    seen = []

    def silence_high_bands(log_mel: torch.Tensor) -> torch.Tensor:
        seen.append(log_mel.shape)
        return torch.cat([log_mel[:, :20], torch.zeros_like(log_mel[:, 20:])], dim=1)

    x = torch.randn(2, SHORT_SAMPLES) * 0.1
    model.eval()
    with torch.no_grad():
        plain = model(x)
        model.front_end.spec_augment = silence_high_bands
        assert torch.equal(model(x), plain) and seen == []
        model.train()
        model(x)
    assert seen == [torch.Size([2, 40, 1 + SHORT_SAMPLES // 160])]


def test_sub_spectral_norm_normalises_each_band_on_its_own():
    torch.manual_seed(0)
    norm = SubSpectralNorm(3, sub_bands=5).train()
    # Give every band its own scale and offset; one shared BatchNorm would leave them unequal.
    scale = torch.arange(1.0, 11.0).repeat_interleave(2).view(1, 1, 20, 1)
    x = torch.randn(8, 3, 20, 6) * scale + scale
    out = norm(x).view(8, 3, 5, 4, 6)
    assert torch.allclose(out.mean(dim=(0, 3, 4)), torch.zeros(3, 5), atol=1e-5)
    assert torch.allclose(out.var(dim=(0, 3, 4), unbiased=False), torch.ones(3, 5), atol=1e-3)


def test_blocks_stride_frequency_and_keep_time():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 20, 13)
    assert BCResBlock(8, 8, stride_f=1, dilation_t=8, sub_bands=5, dropout=0.1)(x).shape == (2, 8, 20, 13)
    assert BCResBlock(8, 12, stride_f=2, dilation_t=2, sub_bands=5, dropout=0.1)(x).shape == (2, 12, 10, 13)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tau": 0}, "tau must be a positive integer, got 0"),
        ({"sub_bands": 1.5}, "sub_bands must be a positive integer"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
        ({"n_mels": 48}, "n_mels=48 gives .* not divisible into sub_bands=5"),
        ({"n_mels": 8, "sub_bands": 1}, "n_mels must leave >= 5 bins"),
    ],
)
def test_invalid_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BCResNet(10, **kwargs)
