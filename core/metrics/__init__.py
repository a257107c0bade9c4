"""Metrics on (clean, protected) clip pairs, and `summarize` for JSON-ready results.

Waveform metrics live in `snr`, perceptual ones (PESQ-WB, STOI) in `perceptual`; see those
modules for the conventions on silent clips and identical pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import numpy as np

from core.metrics.perceptual import PerceptualScores, pair_pesq_wb, pair_stoi, pesq_wb, stoi
from core.metrics.snr import (
    ArrayLike,
    BandSNR,
    as_pair,
    band_snr_db,
    budget_bands,
    linf,
    pair_band_snr_db,
    pair_linf,
    pair_segmental_snr_db,
    pair_snr_db,
    segment_levels,
    segmental_snr_db,
    snr_db,
)

__all__ = [
    "BandSNR",
    "PerceptualScores",
    "band_snr_db",
    "budget_bands",
    "linf",
    "pesq_wb",
    "segment_levels",
    "segmental_snr_db",
    "snr_db",
    "stoi",
    "summarize",
]


def _perceptual_indices(n: int, max_clips: int | None, seed: int) -> np.ndarray:
    """All clip indices, or `max_clips` of them drawn without replacement under `seed`, sorted."""
    if max_clips is None:
        return np.arange(n)
    if isinstance(max_clips, bool) or not isinstance(max_clips, int) or max_clips < 1:
        raise ValueError(f"max_perceptual_clips must be None or an int >= 1, got {max_clips!r}")
    if max_clips >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_clips, replace=False))


def summarize(
    clean: ArrayLike,
    protected: ArrayLike,
    thresholds: Sequence[float],
    segment_samples: int = 1000,
    level: str = "mean_abs",
    perceptual: bool = True,
    max_perceptual_clips: int | None = None,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, object]:
    """All metrics of a protected set as plain floats, ints, None and lists (JSON-ready).

    SNR statistics are over all N clips (dB values averaged as dB). PESQ-WB and STOI are
    computed on all clips, or on `max_perceptual_clips` of them chosen at random under
    `seed` (they are slow), and averaged over the clips they could score; `*_clips` keys
    say how many that was. With `perceptual=False` their means are None and counts 0.

    Args:
        clean, protected: [N, T] batches at 16 kHz.
        thresholds, segment_samples, level: the amplitude bands, see `band_snr_db`.
        perceptual: compute PESQ-WB and STOI.
        max_perceptual_clips: cap on clips scored perceptually; None scores all.
        seed: seed of the clip draw.
        progress: show tqdm bars for the perceptual metrics.
    """
    c, p = as_pair(clean, protected)  # checked once here; the pair_* forms take it as it is
    snr = pair_snr_db(c, p)
    result: dict[str, object] = {
        "clips": int(c.shape[0]),
        "snr_db_mean": float(snr.mean()),
        "snr_db_median": float(np.median(snr)),
        "segmental_snr_db_mean": float(pair_segmental_snr_db(c, p, segment_samples).mean()),
        "linf_max": float(pair_linf(c, p).max()),
        "band_snr_db": [asdict(b) for b in pair_band_snr_db(c, p, thresholds, segment_samples, level)],
        "perceptual_clips_drawn": 0,
        "pesq_wb_mean": None,
        "pesq_wb_clips": 0,
        "stoi_mean": None,
        "stoi_clips": 0,
    }
    if perceptual:
        idx = _perceptual_indices(c.shape[0], max_perceptual_clips, seed)
        pesq_scores = pair_pesq_wb(c[idx], p[idx], progress=progress)
        stoi_scores = pair_stoi(c[idx], p[idx], progress=progress)
        result.update(
            perceptual_clips_drawn=int(idx.size),
            pesq_wb_mean=pesq_scores.mean(),
            pesq_wb_clips=pesq_scores.count,
            stoi_mean=stoi_scores.mean(),
            stoi_clips=stoi_scores.count,
        )
    return result
