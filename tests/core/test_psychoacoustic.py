"""Psychoacoustic model 1: a pure tone's threshold has the model's two-slope shape, silence and
zero padding give finite thresholds, and the STFT projection pulls noise under the threshold."""

import math

import pytest
import soundfile as sf
import torch

from core.budgets.psychoacoustic import (
    HOP,
    N_FFT,
    allowed_power,
    bark,
    masking_threshold_db,
    power_of,
    project_under_threshold,
    quiet_threshold_db,
    stft,
)
from core.data import EMBEDDED_ROOT

FREQS = torch.fft.rfftfreq(N_FFT, 1 / 16000, dtype=torch.float64)
Z = bark(FREQS)


@pytest.fixture(scope="module")
def speech() -> torch.Tensor:
    """Eight real 1-s clips of the shipped sample, [8, 16000]."""
    paths = sorted(EMBEDDED_ROOT.glob("*/*.flac"))[::40][:8]
    return torch.stack([torch.from_numpy(sf.read(p, dtype="float32")[0]) for p in paths])


def test_a_tone_masks_with_the_two_slope_spread():
    t = torch.arange(16000) / 16000
    threshold, _ = masking_threshold_db((0.5 * torch.sin(2 * math.pi * 1000 * t))[None])
    column = threshold[0, :, 10]  # a frame well inside the clip
    k = int(torch.argmax(column))
    assert abs(FREQS[k] - 1000) < 16000 / N_FFT
    # Tonal masker at 96 dB (plus its two neighbours' power), offset -6.025 - 0.275 z.
    p_tm = float(column[k]) + 6.025 + 0.275 * float(Z[k])
    assert 96 < p_tm < 98.5
    for dz, slope in [(-1.0, 27.0), (-2.0, 27.0), (1.0, 27 - 0.37 * (p_tm - 40)), (2.0, 27 - 0.37 * (p_tm - 40))]:
        j = int(torch.searchsorted(Z, Z[k] + dz))
        expected = float(column[k]) - slope * abs(float(Z[j] - Z[k]))
        assert float(column[j]) == pytest.approx(expected, abs=0.5), dz
    # Far from the tone, the threshold in quiet takes over; never below it.
    assert (threshold[0] >= quiet_threshold_db(FREQS)[:, None] - 1e-9).all()


def test_silence_and_zero_padding_give_finite_thresholds():
    t = torch.arange(16000) / 16000
    padded = torch.cat([0.3 * torch.sin(2 * math.pi * 500 * t[:4000]), torch.zeros(12000)])
    threshold, peak = masking_threshold_db(torch.stack([torch.zeros(16000), padded]))
    assert torch.isfinite(threshold).all() and torch.isfinite(peak).all()
    ath = quiet_threshold_db(FREQS)
    finite = torch.isfinite(ath)
    # A silent clip has no maskers: its threshold is the threshold in quiet.
    assert torch.allclose(threshold[0][finite], ath[finite][:, None].expand(-1, threshold.shape[2]))
    assert threshold.shape == (2, N_FFT // 2 + 1, 16000 // HOP + 1)


def test_batches_and_chunks_do_not_change_the_threshold(speech):
    whole, peak = masking_threshold_db(speech)
    chunked, _ = masking_threshold_db(speech, chunk=7)
    one, one_peak = masking_threshold_db(speech[3:4])
    assert torch.allclose(whole, chunked, rtol=0, atol=1e-9) and torch.allclose(whole[3:4], one, rtol=0, atol=1e-9)
    assert peak[3] == one_peak[0]


def test_projection_pulls_noise_under_the_threshold(speech):
    threshold, peak = masking_threshold_db(speech)
    allowed = allowed_power(threshold, peak, margin_db=0.0)
    noise = (torch.rand(speech.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1) * 0.02
    before = power_of(stft(noise))
    projected = project_under_threshold(noise, allowed, iterations=10)
    after = power_of(stft(projected))
    assert projected.shape == noise.shape and projected.dtype == noise.dtype
    assert (before > allowed).double().mean() > 0.5
    # Overlap-add makes the projection approximate: most bins end under the threshold, and
    # the power left above it is a small fraction of the noise's power.
    assert (after > allowed * 10**0.1).double().mean() < 0.1
    assert (after - allowed).clamp(min=0).sum() < 2e-3 * after.sum()
    # Noise already far under the threshold is left as it was.
    quiet = noise * 1e-6
    assert torch.allclose(project_under_threshold(quiet, allowed), quiet, atol=1e-12)
