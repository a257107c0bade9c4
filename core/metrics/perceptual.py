"""Perceptual quality of protected clips: PESQ wide-band (P.862.2) and STOI.

Both metrics are full-reference: the clean clip is the reference, the protected clip is
the degraded one. Conventions for clips the underlying libraries cannot score:
  * an identical pair gets the metric's maximum (PESQ_WB_MAX, STOI_MAX) without calling
    the library, so silent identical pairs are defined too;
  * otherwise a pair is marked invalid (`valid` False) when the clean clip is silent
    (energy <= ENERGY_FLOOR: there is no speech to judge), when PESQ finds no utterance or
    hits its NaN failure on an all-zero degraded signal, or when STOI keeps fewer than 30
    frames after dropping silent ones (pystoi would return a meaningless 1e-5).
Invalid clips are counted, never averaged; nothing returned is NaN.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pesq as pesq_lib
import pystoi
from tqdm import tqdm

from core.metrics.snr import ENERGY_FLOOR, ArrayLike, as_pair

PESQ_WB_MAX = 4.643888473510742
"""PESQ-WB of identical signals: the P.862.2 mapping of the top raw score 4.5."""

STOI_MAX = 1.0
"""STOI (and extended STOI) of identical signals."""

PESQ_MIN_DURATION_S = 0.25
"""PESQ refuses shorter signals."""

ScoreOne = Callable[[np.ndarray, np.ndarray], float | None]


@dataclass(frozen=True)
class PerceptualScores:
    """Per-clip scores of one metric and which clips could be scored.

    Attributes:
        values: [N] float64 scores; where `valid` is False the entry is a 0.0 placeholder
            that means nothing (never NaN, so arrays stay JSON- and sum-safe).
        valid: [N] bool, True where the clip was scored.
    """

    values: np.ndarray
    valid: np.ndarray

    def __post_init__(self) -> None:
        assert self.values.shape == self.valid.shape and self.values.ndim == 1
        assert np.isfinite(self.values).all()

    @property
    def count(self) -> int:
        """Number of clips that were scored."""
        return int(self.valid.sum())

    def mean(self) -> float | None:
        """Mean over the valid clips; None when no clip could be scored."""
        return float(self.values[self.valid].mean()) if self.count else None


def _is_silent(x: np.ndarray) -> bool:
    return float(np.square(x).sum()) <= ENERGY_FLOOR


def _pesq_wb_one(clean: np.ndarray, protected: np.ndarray, sample_rate_hz: int) -> float | None:
    """PESQ-WB of one pair, or None where it is undefined (see module docstring)."""
    if np.array_equal(clean, protected):
        return PESQ_WB_MAX
    if _is_silent(clean):
        return None
    try:
        return float(pesq_lib.pesq(sample_rate_hz, clean, protected, "wb"))
    except pesq_lib.NoUtterancesError:
        return None
    except ValueError:
        # pesq's C core turns an all-zero (or ~1e-30) degraded signal into NaN and fails
        # converting it; sample rate and length are checked up front, so this is that case.
        return None


def _stoi_one(
    clean: np.ndarray, protected: np.ndarray, sample_rate_hz: int, extended: bool
) -> float | None:
    """STOI of one pair, or None where it is undefined (see module docstring)."""
    if np.array_equal(clean, protected):
        return STOI_MAX
    if _is_silent(clean):
        return None
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Not enough STFT frames", category=RuntimeWarning)
        try:
            return float(pystoi.stoi(clean, protected, sample_rate_hz, extended=extended))
        except RuntimeWarning:
            return None


def _score_batch(
    score_one: ScoreOne, clean: np.ndarray, protected: np.ndarray, progress: bool, desc: str
) -> PerceptualScores:
    """Score every pair with `score_one`, one clip at a time.

    No process pool: on the 2-core dev box two processes were slower (PESQ 67 -> 78 ms per
    clip; the two cores deliver one core's throughput), so the simple loop stays.
    """
    pairs = tqdm(zip(clean, protected), total=len(clean), desc=desc, disable=not progress)
    results = [score_one(c, p) for c, p in pairs]
    valid = np.array([r is not None for r in results], dtype=bool)
    values = np.array([0.0 if r is None else r for r in results], dtype=np.float64)
    return PerceptualScores(values, valid)


def pesq_wb(
    clean: ArrayLike,
    protected: ArrayLike,
    sample_rate_hz: int = 16000,
    progress: bool = False,
) -> PerceptualScores:
    """PESQ wide-band (MOS-LQO, about 1.04 to 4.64) per clip.

    Args:
        clean, protected: [N, T] batches at `sample_rate_hz`, T >= 0.25 s.
        sample_rate_hz: must be 16000 (wide-band PESQ is defined only there).
        progress: show a tqdm bar over clips.
    """
    return pair_pesq_wb(*as_pair(clean, protected), sample_rate_hz, progress)


def pair_pesq_wb(c: np.ndarray, p: np.ndarray, sample_rate_hz: int = 16000, progress: bool = False) -> PerceptualScores:
    """`pesq_wb` of a pair `as_pair` has checked."""
    if sample_rate_hz != 16000:
        raise ValueError(f"sample_rate_hz must be 16000 for wide-band PESQ, got {sample_rate_hz}")
    min_samples = int(PESQ_MIN_DURATION_S * sample_rate_hz)
    if c.shape[1] < min_samples:
        raise ValueError(
            f"clips must have at least {min_samples} samples ({PESQ_MIN_DURATION_S} s) for PESQ, "
            f"got T={c.shape[1]}"
        )
    score_one = partial(_pesq_wb_one, sample_rate_hz=sample_rate_hz)
    return _score_batch(score_one, c, p, progress, "PESQ-WB")


def stoi(
    clean: ArrayLike,
    protected: ArrayLike,
    sample_rate_hz: int = 16000,
    extended: bool = False,
    progress: bool = False,
) -> PerceptualScores:
    """STOI (or extended STOI) per clip, about 0 to 1; pystoi resamples to 10 kHz itself.

    Args:
        clean, protected: [N, T] batches at `sample_rate_hz`.
        sample_rate_hz: sample rate of both batches, > 0.
        extended: compute extended STOI (Jensen and Taal 2016) instead.
        progress: show a tqdm bar over clips.
    """
    return pair_stoi(*as_pair(clean, protected), sample_rate_hz, extended, progress)


def pair_stoi(
    c: np.ndarray, p: np.ndarray, sample_rate_hz: int = 16000, extended: bool = False, progress: bool = False
) -> PerceptualScores:
    """`stoi` of a checked pair."""
    if isinstance(sample_rate_hz, bool) or not isinstance(sample_rate_hz, int) or sample_rate_hz <= 0:
        raise ValueError(f"sample_rate_hz must be a positive int, got {sample_rate_hz!r}")
    score_one = partial(_stoi_one, sample_rate_hz=sample_rate_hz, extended=extended)
    return _score_batch(score_one, c, p, progress, "STOI")
