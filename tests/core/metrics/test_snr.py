"""Properties of core.metrics.snr: known values, clipping, band edges, degenerate clips."""

import json
import math
from dataclasses import asdict

import numpy as np
import pytest
import torch

from core.budgets import ConstantBudget, MaskTable, SegmentMask
from core.metrics.snr import (
    MAX_SNR_DB,
    MIN_SNR_DB,
    band_snr_db,
    budget_bands,
    linf,
    segment_levels,
    segmental_snr_db,
    snr_db,
)

THRESHOLDS = (0.1, 0.08, 0.05, 0.03, 0.01)


@pytest.fixture
def clean() -> np.ndarray:
    return 0.1 * np.random.default_rng(0).standard_normal((3, 4000))


def _segment_with_level(k: int, samples: int = 1000) -> np.ndarray:
    """k samples at 0.5, the rest 0: mean |x| is exactly k / 2000 (dyadic values, exact sums)."""
    seg = np.zeros(samples)
    seg[:k] = 0.5
    return seg


# --- known values ---------------------------------------------------------------------


def test_snr_of_ten_percent_noise_is_20_db(clean: np.ndarray) -> None:
    np.testing.assert_allclose(snr_db(clean, 1.1 * clean), 20.0, atol=1e-9)


def test_torch_input_equals_numpy_input(clean: np.ndarray) -> None:
    protected = clean + 0.01
    as_torch = snr_db(torch.from_numpy(clean).float(), torch.from_numpy(protected).float())
    np.testing.assert_allclose(as_torch, snr_db(clean, protected), atol=1e-4)


def test_linf_is_largest_absolute_noise_sample(clean: np.ndarray) -> None:
    protected = clean.copy()
    protected[1, 17] -= 0.25
    np.testing.assert_allclose(linf(clean, protected), [0.0, 0.25, 0.0])


def test_segmental_snr_equals_snr_when_every_segment_has_the_same_snr(clean: np.ndarray) -> None:
    np.testing.assert_allclose(segmental_snr_db(clean, 1.1 * clean, 1000), 20.0, atol=1e-9)


def test_segmental_snr_clips_each_segment_before_averaging() -> None:
    clean = np.full((1, 2000), 0.5)
    noise = np.concatenate([np.full(1000, 0.5 * 10 ** (-50 / 20)), np.full(1000, 0.5 * 10 ** (30 / 20))])
    # Segment SNRs are +50 and -30 dB, clipped to 35 and -10: mean 12.5 (unclipped: 10).
    got = segmental_snr_db(clean, clean + noise, 1000, min_db=-10.0, max_db=35.0)
    np.testing.assert_allclose(got, [12.5], atol=1e-9)


def test_segmental_snr_drops_the_trailing_partial_segment() -> None:
    clean = np.full((1, 2500), 0.5)
    protected = 1.1 * clean
    protected[0, 2000:] += 10.0
    np.testing.assert_allclose(segmental_snr_db(clean, protected, 1000), [20.0], atol=1e-9)


# --- degenerate clips -------------------------------------------------------------------


def test_identical_pair_gets_the_cap(clean: np.ndarray) -> None:
    assert np.all(snr_db(clean, clean) == MAX_SNR_DB)
    assert np.all(segmental_snr_db(clean, clean, 1000, max_db=35.0) == 35.0)
    assert all(b.snr_db in (None, MAX_SNR_DB) for b in band_snr_db(clean, clean, THRESHOLDS))


def test_all_zero_pair_is_finite_and_capped() -> None:
    zeros = np.zeros((2, 4000))
    assert np.all(snr_db(zeros, zeros) == MAX_SNR_DB)
    assert np.all(np.isfinite(segmental_snr_db(zeros, zeros)))
    assert np.all(linf(zeros, zeros) == 0.0)
    last = band_snr_db(zeros, zeros, THRESHOLDS)[-1]
    assert (last.segments, last.snr_db) == (8, MAX_SNR_DB)


def test_silent_clean_with_noise_is_very_negative_but_finite() -> None:
    zeros = np.zeros((1, 16000))
    noisy = np.full((1, 16000), 0.01)
    assert snr_db(zeros, noisy)[0] == MIN_SNR_DB
    assert segmental_snr_db(zeros, noisy, min_db=-10.0)[0] == -10.0
    assert band_snr_db(zeros, noisy, THRESHOLDS)[-1].snr_db == MIN_SNR_DB


# --- levels and bands ---------------------------------------------------------------------


def test_segment_levels_mean_abs_and_rms() -> None:
    x = np.array([[0.3, -0.3, 0.0, 0.0, 1.0, -1.0, 1.0, -1.0, 0.5]])
    np.testing.assert_allclose(segment_levels(x, 4, "mean_abs"), [[0.15, 1.0]])
    np.testing.assert_allclose(segment_levels(x, 4, "rms"), [[math.sqrt(0.045), 1.0]])


def test_band_edges_use_strict_greater_than() -> None:
    # Levels 0.2, 0.1, 0.09, 0.08, 0.05, 0.03, 0.01, 0.0: four of them exactly on a threshold.
    ks = (400, 200, 180, 160, 100, 60, 20, 0)
    clean = np.concatenate([_segment_with_level(k) for k in ks])[None]
    assert segment_levels(clean, 1000).tolist() == [[k / 2000 for k in ks]]
    bands = band_snr_db(clean, 1.1 * clean, THRESHOLDS)
    assert [b.segments for b in bands] == [1, 2, 1, 1, 1, 2]


def test_rms_level_selects_bands_by_rms() -> None:
    clean = _segment_with_level(40)[None]  # mean |x| 0.02, RMS exactly 0.1
    by_mean = band_snr_db(clean, 1.1 * clean, THRESHOLDS, level="mean_abs")
    by_rms = band_snr_db(clean, 1.1 * clean, THRESHOLDS, level="rms")
    assert [b.segments for b in by_mean] == [0, 0, 0, 0, 1, 0]
    assert [b.segments for b in by_rms] == [0, 1, 0, 0, 0, 0]


def test_band_snr_pools_energies_over_segments_of_all_clips() -> None:
    clean = np.stack([_segment_with_level(200), _segment_with_level(190)])  # both in band 1
    noise = np.stack([np.full(1000, 0.01), np.full(1000, 0.03)])
    band = band_snr_db(clean, clean + noise, THRESHOLDS)[1]
    expected = 10 * math.log10(np.square(clean).sum() / np.square(noise).sum())
    assert band.segments == 2
    assert band.snr_db == pytest.approx(expected)


def test_bands_are_labelled_and_json_ready() -> None:
    bands = band_snr_db(np.full((1, 1000), 0.5), np.full((1, 1000), 0.55), THRESHOLDS)
    assert [b.label for b in bands] == [
        "A > 0.1",
        "0.08 < A <= 0.1",
        "0.05 < A <= 0.08",
        "0.03 < A <= 0.05",
        "0.01 < A <= 0.03",
        "A <= 0.01",
    ]
    assert (bands[0].lower, bands[0].upper, bands[-1].lower, bands[-1].upper) == (0.1, None, None, 0.01)
    assert bands[0].snr_db == pytest.approx(20.0)
    assert bands[1].segments == 0 and bands[1].snr_db is None
    json.dumps([asdict(b) for b in bands], allow_nan=False)


# --- batching ---------------------------------------------------------------------------


def test_batch_equals_one_by_one(clean: np.ndarray) -> None:
    protected = clean + 0.02 * np.random.default_rng(1).standard_normal(clean.shape)
    for metric in (snr_db, linf, segmental_snr_db):
        batched = metric(clean, protected)
        singles = np.concatenate([metric(clean[i : i + 1], protected[i : i + 1]) for i in range(3)])
        np.testing.assert_allclose(batched, singles, rtol=1e-12)


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda c: snr_db(c, c[:, :-1]), "one shape"),
        (lambda c: snr_db(c[0], c[0]), r"\[N, T\]"),
        (lambda c: snr_db(np.full_like(c, np.nan), c), "finite"),
        (lambda c: segmental_snr_db(c, c, segment_samples=5000), "segment_samples"),
        (lambda c: segmental_snr_db(c, c, segment_samples=0), "segment_samples"),
        (lambda c: segmental_snr_db(c, c, segment_samples=10.0), "segment_samples"),
        (lambda c: segmental_snr_db(c, c, min_db=35.0, max_db=35.0), "min_db"),
        (lambda c: segment_levels(c, 1000, "peak"), "level"),
        (lambda c: band_snr_db(c, c, (0.01, 0.1)), "thresholds"),
        (lambda c: band_snr_db(c, c, ()), "thresholds"),
    ],
)
def test_bad_arguments_raise_value_error(clean: np.ndarray, call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call(clean)


# --- which bands a budget reports ------------------------------------------------------


def test_budget_bands_are_the_tables_thresholds_but_the_last() -> None:
    table = MaskTable((0.2, 0.05, 0.0), (1.0, 0.5, 0.1))
    assert budget_bands(SegmentMask(0.1, table, segment_samples=500, level="rms")) == ([0.2, 0.05], 500, "rms")
    one_row = MaskTable((0.0,), (1.0,))
    assert budget_bands(SegmentMask(0.1, one_row)) == ([0.0], 1000, "mean_abs")


@pytest.mark.parametrize("budget", [ConstantBudget(0.08), None])
def test_budget_bands_without_a_table_are_the_papers(budget) -> None:
    assert budget_bands(budget) == (list(THRESHOLDS), 1000, "mean_abs")
