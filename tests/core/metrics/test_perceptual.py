"""Properties of core.metrics.perceptual and core.metrics.summarize on real speech."""

import json
import warnings

import numpy as np
import pesq as pesq_lib
import pytest

from core.data import EMBEDDED_ROOT
from core.metrics import summarize
from core.metrics.perceptual import (
    PESQ_WB_MAX,
    STOI_MAX,
    PerceptualScores,
    pesq_wb,
    stoi,
)

YES_DIR = EMBEDDED_ROOT / "yes"
THRESHOLDS = (0.1, 0.08, 0.05, 0.03, 0.01)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """Three real 1-s, 16 kHz 'yes' clips from the shipped sample, [3, 16000] float32."""
    import soundfile as sf

    paths = sorted(YES_DIR.glob("*.flac"))[:3]
    clips = [sf.read(p, dtype="float32")[0] for p in paths]
    assert all(c.shape == (16000,) for c in clips)
    return np.stack(clips)


def _noisy(clean: np.ndarray, std: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return clean + std * rng.standard_normal(clean.shape).astype(np.float32)


def test_pesq_wb_max_is_what_pesq_gives_identical_speech(speech: np.ndarray) -> None:
    assert pesq_lib.pesq(16000, speech[0], speech[0], "wb") == pytest.approx(PESQ_WB_MAX, abs=1e-6)


def test_identical_speech_scores_the_maximum(speech: np.ndarray) -> None:
    for scores, top in ((pesq_wb(speech, speech), PESQ_WB_MAX), (stoi(speech, speech), STOI_MAX)):
        assert scores.valid.all()
        np.testing.assert_allclose(scores.values, top)


def test_more_noise_scores_lower(speech: np.ndarray) -> None:
    clean = speech[:1]
    for metric in (pesq_wb, stoi):
        light = metric(clean, _noisy(clean, 0.001)).mean()
        heavy = metric(clean, _noisy(clean, 0.01)).mean()
        top = metric(clean, clean).mean()
        assert top > light > heavy


def test_silent_clips_are_defined_and_never_nan(speech: np.ndarray) -> None:
    zeros = np.zeros(16000, dtype=np.float32)
    clean = np.stack([speech[0], zeros, zeros, speech[1]])
    protected = np.stack([_noisy(speech[0], 0.003), zeros, np.full(16000, 0.01, np.float32), zeros])
    for metric, top in ((pesq_wb, PESQ_WB_MAX), (stoi, STOI_MAX)):
        scores = metric(clean, protected)
        assert np.isfinite(scores.values).all()
        assert scores.valid[:3].tolist() == [True, True, False]  # silent clean + noise: unscored
        assert scores.values[1] == top  # identical silent pair
        assert np.isfinite(scores.mean())
    # Speech degraded to silence: PESQ cannot score it, STOI calls it unintelligible.
    assert not pesq_wb(clean[3:], protected[3:]).valid[0]
    assert stoi(clean[3:], protected[3:]).values[0] == pytest.approx(0.0, abs=1e-6)


def test_stoi_with_too_little_speech_is_invalid_not_1e_minus_5(speech: np.ndarray) -> None:
    burst = np.zeros((1, 16000), dtype=np.float32)
    burst[0, 8000:8800] = speech[0, 6000:6800]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = stoi(burst, _noisy(burst, 1e-4))
    assert not scores.valid[0]


def test_mean_averages_valid_clips_only() -> None:
    scores = PerceptualScores(np.array([2.0, 0.0, 4.0]), np.array([True, False, True]))
    assert (scores.mean(), scores.count) == (3.0, 2)
    assert PerceptualScores(np.zeros(2), np.zeros(2, bool)).mean() is None


def test_batch_equals_one_by_one(speech: np.ndarray) -> None:
    protected = _noisy(speech, 0.002)
    for metric in (pesq_wb, stoi):
        batched = metric(speech, protected)
        singles = [metric(speech[i : i + 1], protected[i : i + 1]).values[0] for i in range(3)]
        np.testing.assert_array_equal(batched.values, singles)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda s: pesq_wb(s, s, sample_rate_hz=8000), "sample_rate_hz"),
        (lambda s: pesq_wb(s[:, :3000], s[:, :3000]), "at least 4000 samples"),
        (lambda s: stoi(s, s, sample_rate_hz=0), "sample_rate_hz"),
        (lambda s: summarize(s, s, THRESHOLDS, max_perceptual_clips=0), "max_perceptual_clips"),
    ],
)
def test_bad_arguments_raise_value_error(speech: np.ndarray, call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call(speech)


def test_summarize_is_json_ready_and_draws_clips_by_seed(speech: np.ndarray) -> None:
    protected = _noisy(speech, 0.002)
    result = summarize(speech, protected, THRESHOLDS, max_perceptual_clips=2, seed=3)
    json.dumps(result, allow_nan=False)
    assert result["clips"] == 3 and result["perceptual_clips_drawn"] == 2
    assert result["pesq_wb_clips"] == 2 and result["stoi_clips"] == 2
    assert 1.0 < result["pesq_wb_mean"] < PESQ_WB_MAX
    assert len(result["band_snr_db"]) == len(THRESHOLDS) + 1
    assert summarize(speech, protected, THRESHOLDS, max_perceptual_clips=2, seed=3) == result


def test_summarize_without_perceptual_keeps_the_keys(speech: np.ndarray) -> None:
    result = summarize(speech, speech, THRESHOLDS, perceptual=False)
    assert result["snr_db_mean"] == 100.0 and result["linf_max"] == 0.0
    assert (result["pesq_wb_mean"], result["pesq_wb_clips"], result["stoi_mean"]) == (None, 0, None)
    json.dumps(result, allow_nan=False)


def test_summarize_checks_its_input_once(monkeypatch):
    """summarize validates (converts, checks finiteness) each batch once, then runs every metric
    on the checked arrays; the public metrics each check their own input."""
    from core.metrics import snr as snr_module

    calls = []
    real = snr_module.as_batch
    monkeypatch.setattr(snr_module, "as_batch", lambda x, name: calls.append(name) or real(x, name))
    clean = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 16000))
    summarize(clean, clean + 0.01, [0.1, 0.01], perceptual=True)
    assert calls == ["clean", "protected"]
