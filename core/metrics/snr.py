"""Waveform distortion of protected clips: SNR, segmental SNR, Linf and SNR per amplitude band.

All functions take batched (clean, protected) pairs, [N, T] numpy arrays or torch tensors,
work in float64 numpy and return one value per clip (or per band). The noise is
`protected - clean`.

Conventions that keep every result finite, even for silent clips and identical pairs:
  * energies (sums of squares) are clamped below at ENERGY_FLOOR before dividing;
  * noise energy at or below ENERGY_FLOOR counts as no noise: the SNR is MAX_SNR_DB, so an
    identical pair scores MAX_SNR_DB even when the clean clip is silent;
  * every SNR is clipped to [MIN_SNR_DB, MAX_SNR_DB], so a silent clean clip with audible
    noise gets a very negative but finite SNR.
Segments are fixed, non-overlapping runs of `segment_samples`; a trailing partial segment
is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from core.budgets.mask_table import PAPER_TABLE, band_bounds
from core.budgets.segment_mask import segment_levels as budget_segment_levels

ArrayLike = np.ndarray | torch.Tensor

ENERGY_FLOOR = 1e-10
"""Sums of squares below this are treated as this (about -100 dB for a 1-s clip)."""

MAX_SNR_DB = 100.0
"""SNR of a pair whose noise energy is at or below ENERGY_FLOOR (e.g. identical clips)."""

MIN_SNR_DB = -100.0
"""Lowest SNR reported (e.g. a silent clean clip with audible noise)."""


def as_batch(x: ArrayLike, name: str) -> np.ndarray:
    """`x` as a finite float64 numpy array [N, T] with N, T >= 1; raises ValueError otherwise."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty [N, T] batch, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, found NaN or inf")
    return arr


def as_pair(clean: ArrayLike, protected: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Both batches as float64 numpy arrays of one shape [N, T]; raises ValueError otherwise."""
    c, p = as_batch(clean, "clean"), as_batch(protected, "protected")
    if c.shape != p.shape:
        raise ValueError(f"clean and protected must have one shape, got {c.shape} and {p.shape}")
    return c, p


def ratio_db(signal_energy: np.ndarray, noise_energy: np.ndarray) -> np.ndarray:
    """10 log10(signal / noise) under the module's floor and cap conventions, elementwise."""
    signal = np.maximum(signal_energy, ENERGY_FLOOR)
    noise = np.maximum(noise_energy, ENERGY_FLOOR)
    db = np.clip(10.0 * np.log10(signal / noise), MIN_SNR_DB, MAX_SNR_DB)
    return np.where(noise_energy <= ENERGY_FLOOR, MAX_SNR_DB, db)


def snr_db(clean: ArrayLike, protected: ArrayLike) -> np.ndarray:
    """Whole-clip SNR in dB, [N]: 10 log10(sum clean^2 / sum noise^2)."""
    return pair_snr_db(*as_pair(clean, protected))


def pair_snr_db(c: np.ndarray, p: np.ndarray) -> np.ndarray:
    """`snr_db` of a pair `as_pair` has checked (each public metric checks its input once;
    `core.metrics.summarize` checks once and calls the pair_* forms)."""
    return ratio_db(np.square(c).sum(axis=1), np.square(p - c).sum(axis=1))


def linf(clean: ArrayLike, protected: ArrayLike) -> np.ndarray:
    """Largest absolute noise sample per clip, [N]: max |protected - clean|."""
    return pair_linf(*as_pair(clean, protected))


def pair_linf(c: np.ndarray, p: np.ndarray) -> np.ndarray:
    """`linf` of a checked pair."""
    return np.abs(p - c).max(axis=1)


def _segments(x: np.ndarray, segment_samples: int) -> np.ndarray:
    """[N, T] -> [N, S, segment_samples], S = T // segment_samples (trailing partial dropped)."""
    if isinstance(segment_samples, bool) or not isinstance(segment_samples, int | np.integer):
        raise ValueError(f"segment_samples must be an int, got {segment_samples!r}")
    n, t = x.shape
    if not 1 <= segment_samples <= t:
        raise ValueError(f"segment_samples must lie in [1, T={t}], got {segment_samples}")
    s = t // segment_samples
    return x[:, : s * segment_samples].reshape(n, s, segment_samples)


def segment_levels(x: ArrayLike, segment_samples: int, level: str = "mean_abs") -> np.ndarray:
    """Amplitude level of every full segment, [N, S]: mean |x| ("mean_abs") or RMS ("rms").

    The measure is the budget's own (`core.budgets.segment_levels`), so a segment falls in
    the same band here as when its eps was chosen; a trailing partial segment is dropped.
    """
    batch = as_batch(x, "x")
    full = _segments(batch, segment_samples).shape[1] * segment_samples
    return budget_segment_levels(torch.from_numpy(batch[:, :full]), segment_samples, level).numpy()


def segmental_snr_db(
    clean: ArrayLike,
    protected: ArrayLike,
    segment_samples: int = 1000,
    min_db: float = -10.0,
    max_db: float = 35.0,
) -> np.ndarray:
    """Segmental SNR in dB, [N]: per-segment SNR clipped to [min_db, max_db], averaged per clip.

    The clipping is the usual one: silent segments would otherwise dominate the mean.
    """
    return pair_segmental_snr_db(*as_pair(clean, protected), segment_samples, min_db, max_db)


def pair_segmental_snr_db(
    c: np.ndarray, p: np.ndarray, segment_samples: int = 1000, min_db: float = -10.0, max_db: float = 35.0
) -> np.ndarray:
    """`segmental_snr_db` of a checked pair."""
    if not min_db < max_db:
        raise ValueError(f"min_db must be below max_db, got min_db={min_db}, max_db={max_db}")
    clean_energy = np.square(_segments(c, segment_samples)).sum(axis=-1)
    noise_energy = np.square(_segments(p - c, segment_samples)).sum(axis=-1)
    return np.clip(ratio_db(clean_energy, noise_energy), min_db, max_db).mean(axis=1)


@dataclass(frozen=True)
class BandSNR:
    """SNR pooled over all segments whose clean level A lies in lower < A <= upper.

    Attributes:
        label: the band as text, e.g. "0.08 < A <= 0.1".
        lower: exclusive lower bound; None for the lowest band (unbounded).
        upper: inclusive upper bound; None for the highest band (unbounded).
        segments: number of segments in the band, over all clips.
        snr_db: 10 log10(sum clean energy / sum noise energy) over those segments;
            None when the band holds no segment.
    """

    label: str
    lower: float | None
    upper: float | None
    segments: int
    snr_db: float | None


def _check_thresholds(thresholds: Sequence[float]) -> np.ndarray:
    t = np.asarray(thresholds, dtype=np.float64)
    if t.ndim != 1 or t.size == 0 or not np.isfinite(t).all() or np.any(np.diff(t) >= 0):
        raise ValueError(
            f"thresholds must be a non-empty, finite, strictly decreasing sequence, got {thresholds!r}"
        )
    return t


def budget_bands(budget: object) -> tuple[list[float], int, str]:
    """(thresholds, segment_samples, level) of the amplitude bands to report a budget's SNR
    in (bench, leaderboard and demo alike): its mask table's thresholds but the last (the
    last row covers everything below the row above it), or, for a budget without a table
    (constant, or None), the paper's Table 1 bands in 1000-sample mean |x| segments."""
    table = getattr(budget, "table", PAPER_TABLE)
    return (
        list(table.thresholds[:-1]) or [0.0],
        getattr(budget, "segment_samples", 1000),
        getattr(budget, "level", "mean_abs"),
    )


def band_snr_db(
    clean: ArrayLike,
    protected: ArrayLike,
    thresholds: Sequence[float],
    segment_samples: int = 1000,
    level: str = "mean_abs",
) -> list[BandSNR]:
    """SNR per amplitude band, pooled over the segments of all clips.

    Band k holds the segments with thresholds[k] < A <= thresholds[k-1] (strict `>` against
    each threshold, as in the mask table), so a level equal to a threshold falls in the
    lower band. There are len(thresholds) + 1 bands, highest level first.

    Args:
        clean, protected: [N, T] batches.
        thresholds: strictly decreasing level thresholds, e.g. (0.1, 0.08, 0.05, 0.03, 0.01).
        segment_samples: segment length in samples.
        level: "mean_abs" or "rms", see `segment_levels`.
    """
    return pair_band_snr_db(*as_pair(clean, protected), thresholds, segment_samples, level)


def pair_band_snr_db(
    c: np.ndarray, p: np.ndarray, thresholds: Sequence[float], segment_samples: int = 1000, level: str = "mean_abs"
) -> list[BandSNR]:
    """`band_snr_db` of a checked pair."""
    t = _check_thresholds(thresholds)
    full = _segments(c, segment_samples).shape[1] * segment_samples
    levels = budget_segment_levels(torch.from_numpy(c[:, :full]), segment_samples, level).numpy()
    band = np.sum(levels[..., None] <= t, axis=-1).ravel()
    n_bands = t.size + 1
    counts = np.bincount(band, minlength=n_bands)
    clean_energy = np.square(_segments(c, segment_samples)).sum(axis=-1).ravel()
    noise_energy = np.square(_segments(p - c, segment_samples)).sum(axis=-1).ravel()
    snr = ratio_db(
        np.bincount(band, weights=clean_energy, minlength=n_bands),
        np.bincount(band, weights=noise_energy, minlength=n_bands),
    )
    return [
        BandSNR(label, lower, upper, int(counts[k]), float(snr[k]) if counts[k] else None)
        for k, (label, lower, upper) in enumerate(band_bounds(t.tolist()))
    ]
