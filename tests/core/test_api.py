"""`core.protect_audio`: one recording in memory, any rate and channel count, within budget."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import core
from core.budgets import ConstantBudget, SegmentMask
from core.budgets.band import written_cutoff
from core.data import load_embedded


def speech(seconds: float, rate: int = 16_000, channels: int = 0) -> np.ndarray:
    """Embedded speech resampled to `rate`; [T] (channels 0) or [T, channels], louder on the left."""
    import soxr

    audio = load_embedded()["test"].waveforms[:6].reshape(-1).numpy().astype(np.float64)
    audio = soxr.resample(np.resize(audio, int(seconds * 16_000)), 16_000, rate)
    return audio if channels == 0 else np.stack([audio * (1.0 - 0.2 * c) for c in range(channels)], axis=1)


def test_the_readme_example_protects_stereo_at_its_own_rate_within_budget():
    wav, rate = speech(2.5, 44_100, channels=2), 44_100
    result = core.protect_audio(wav, rate)
    assert result.audio.shape == wav.shape and result.audio.dtype == wav.dtype and result.sample_rate == rate
    assert result.eps.shape == (len(wav),) and float(result.eps.max()) == pytest.approx(0.13, abs=1e-6)
    assert np.all(np.abs(result.noise) <= result.eps[:, None] + 1e-9)
    np.testing.assert_allclose(result.audio - wav, result.noise)
    assert result.label in core.surrogate.load_surrogate().classes
    before, after = result.confidence
    assert after > before
    assert set(result.metrics) == {"snr_db", "linf", "pesq_wb", "stoi"} and result.metrics["pesq_wb"] > 1.0


def test_same_seed_same_audio_and_mono_in_mono_out():
    wav = speech(1.3).astype(np.float32)
    budget = ConstantBudget(0.02)
    a = core.protect_audio(wav, 16_000, budget=budget, label="yes", perceptual=False)
    b = core.protect_audio(torch.from_numpy(wav), 16_000, budget=budget, label="yes", perceptual=False)
    assert a.audio.shape == wav.shape and a.audio.dtype == np.float32 and a.label == "yes"
    np.testing.assert_array_equal(a.audio, b.audio)
    assert core.protect_audio(torch.from_numpy(wav.astype(np.float64)), 16_000, budget=budget, perceptual=False).audio.dtype == np.float64
    c = core.protect_audio(wav, 16_000, budget=budget, label="yes", settings=core.surrogate.NoiseSettings(seed=1), perceptual=False)
    assert not np.array_equal(a.audio, c.audio)
    assert a.metrics["pesq_wb"] is None


def test_a_low_rate_recording_gets_noise_only_where_its_band_reaches():
    """An 8-kHz file keeps nothing above 4 kHz, so the noise is made below 4 kHz: the 16-kHz
    noise min-min optimized is the noise the file holds."""
    wav = speech(2.0, 8_000)
    result = core.protect_audio(wav, 8_000, budget=SegmentMask(0.13), perceptual=False)
    assert result.audio.shape == wav.shape and np.abs(result.noise).max() > 0.01
    assert written_cutoff(None, 8_000) == 4000.0 and written_cutoff(3000.0, 8_000) == 3000.0
    assert written_cutoff(5000.0, 8_000) == 4000.0 and written_cutoff(3000.0, 44_100) == 3000.0
    assert written_cutoff(None, 44_100) is None


@pytest.mark.parametrize(
    ("wav", "rate", "match"),
    [
        (np.zeros((2, 16_000)), 16_000, r"looks like \[channels, samples\]"),
        (np.zeros(0), 16_000, "samples > 0"),
        (np.zeros(16_000, dtype=np.int16), 16_000, "floating-point"),
        (np.full(16_000, np.nan), 16_000, "NaN or inf"),
        (np.full(16_000, 1.5), 16_000, "beyond full scale"),
        (np.zeros(16_000), 0, "sample_rate must be a positive integer"),
        (np.zeros(16_000), 16_000.0, "sample_rate must be a positive integer"),
    ],
)
def test_bad_input_gets_a_clear_error(wav, rate, match):
    with pytest.raises(ValueError, match=match):
        core.protect_audio(wav, rate)


def test_an_unknown_label_is_refused_naming_the_classes():
    with pytest.raises(ValueError, match=r"unknown label 'banana'; expected one of \['"):
        core.protect_audio(speech(1.0), 16_000, label="banana")


def test_the_readme_python_example_runs_as_written(tmp_path, monkeypatch):
    import re
    import runpy

    import soundfile as sf

    from tests.paths import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    (snippet,) = [s for s in re.findall(r"```python\n(.*?)```", readme, re.S) if "protect_audio" in s]
    sf.write(tmp_path / "clip.flac", speech(1.2, 22_050, channels=2), 22_050)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "example.py").write_text(snippet)
    runpy.run_path(str(tmp_path / "example.py"))
    written, rate = sf.read(tmp_path / "clip_protected.flac")
    assert rate == 22_050 and written.shape == (int(1.2 * 22_050), 2)
