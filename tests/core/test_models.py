"""Models: parameter counts, shapes, input layouts."""

import pytest
import torch

from core.models import M5, MODELS, LogMel, LogMelCNN, build_model
from core.models.log_mel import mel_filterbank
from core.models.m5 import strided_conv_polyphase


def test_m5_parameter_count_matches_the_tutorial():
    # The tutorial's M5 (32 channels): 25,290 parameters for 10 classes, 25,485 for 13.
    assert sum(p.numel() for p in M5(10).parameters()) == 25_290
    assert sum(p.numel() for p in M5(13).parameters()) == 25_485


def test_m5_pool_then_relu_equals_tutorial_order():
    torch.manual_seed(0)
    model = M5(10).eval()
    x = torch.randn(4, 16000) * 0.1
    h = x.unsqueeze(1)
    pool = torch.nn.MaxPool1d(4)
    for conv, bn in ((model.conv1, model.bn1), (model.conv2, model.bn2), (model.conv3, model.bn3), (model.conv4, model.bn4)):
        h = pool(torch.relu(bn(conv(h))))
    reference = model.fc1(torch.nn.functional.avg_pool1d(h, h.shape[-1]).squeeze(-1))
    assert torch.allclose(model(x), reference, atol=1e-5)
    # A length the polyphase form cannot take falls back to the direct convolution.
    odd = torch.randn(2, 16001) * 0.1
    assert model(odd).shape == (2, 10)


def test_polyphase_first_conv_matches_the_strided_conv_and_its_gradients():
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(1, 8, kernel_size=80, stride=16)
    x = (torch.randn(3, 1600) * 0.1).requires_grad_(True)
    direct = conv(x.unsqueeze(1))
    (g_direct,) = torch.autograd.grad(direct.square().sum(), x)
    poly = strided_conv_polyphase(x, conv)
    (g_poly,) = torch.autograd.grad(poly.square().sum(), x)
    assert torch.allclose(direct, poly, atol=1e-6)
    assert torch.allclose(g_direct, g_poly, atol=1e-5)


@pytest.mark.parametrize("name", MODELS.names())
def test_models_accept_both_layouts_and_give_logits(name):
    torch.manual_seed(0)
    model = build_model(name, 7).eval()
    x = torch.randn(3, 16000) * 0.1
    assert model(x).shape == (3, 7)
    assert torch.allclose(model(x), model(x.unsqueeze(1)))


@pytest.mark.parametrize("name", MODELS.names())
def test_models_are_differentiable_in_the_waveform(name):
    model = build_model(name, 3)
    x = (torch.randn(2, 16000) * 0.1).requires_grad_(True)
    model(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_unknown_model_lists_known_ones():
    with pytest.raises(ValueError, match="unknown model 'resnet'.*logmel_cnn, m5"):
        build_model("resnet", 10)


def test_logmel_cnn_is_unchanged_by_the_shared_front_end():
    # The formula LogMelCNN computed inline before LogMel existed, applied to its own layers.
    torch.manual_seed(0)
    model = LogMelCNN(10)
    x = torch.randn(4, 16000) * 0.1

    def reference(waveforms):
        spec = torch.stft(waveforms, 400, 160, window=torch.hann_window(400), return_complex=True)
        power = spec.real.square() + spec.imag.square()
        log_mel = torch.log(torch.einsum("nft,fm->nmt", power, mel_filterbank(400, 40, 16000)) + 1e-6)
        return model.fc(model.features(log_mel.unsqueeze(1)).mean(dim=(-2, -1))), log_mel

    with torch.no_grad():
        for train in (True, False):
            model.train(train)
            expected, log_mel = reference(x)
            assert torch.equal(model(x), expected)
            assert torch.equal(model.log_mel(x), log_mel)
    # Same checkpoint keys as before: the front end adds no saved state.
    assert {k.split(".")[0] for k in model.state_dict()} == {"features", "fc"}


def test_log_mel_shape_and_floor():
    front_end = LogMel()
    out = front_end(torch.zeros(2, 1, 16000))
    assert out.shape == (2, 40, 101)
    assert torch.allclose(out, torch.full_like(out, front_end.log_floor))  # silence sits on the floor


@pytest.mark.parametrize("name", [n for n in MODELS.names() if isinstance(getattr(build_model(n, 2), "front_end", None), LogMel)])
def test_spec_augment_hook_acts_in_training_mode_only(name):
    torch.manual_seed(0)
    model = build_model(name, 3)
    calls = []

    class Shift(torch.nn.Module):  # an nn.Module hook (as SpecAugment is) becomes a submodule
        def forward(self, log_mel):
            calls.append(self.training)
            return log_mel + 1.0

    x = torch.randn(2, 16000) * 0.1
    with torch.no_grad():
        plain = model.eval()(x)
        model.front_end.spec_augment = Shift()
        assert torch.equal(model(x), plain) and calls == []
        assert torch.equal(model.front_end(x), LogMel()(x))
        model.train()
        assert torch.equal(model.front_end(x), LogMel()(x) + 1.0)
    assert calls == [True]


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_mels": 0}, "n_mels must be a positive integer, got 0"), ({"hop_samples": 500}, "hop_samples must be <= n_fft"), ({"f_min_hz": 9000.0}, "f_min_hz")],
)
def test_log_mel_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LogMel(**kwargs)
