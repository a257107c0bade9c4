"""Metrics of one protected recording against its original, as the folder tool's manifest and
`core.protect_audio` report them: on the 16-kHz mono audio, capped in length."""

from __future__ import annotations

import numpy as np

from core import SAMPLE_RATE_HZ
from core.metrics.perceptual import pesq_wb, stoi
from core.metrics.snr import linf, snr_db

METRIC_MAX_S = 30.0
"""Metrics look at the first 30 s of a recording: PESQ and STOI on hour-long files take minutes."""
PESQ_MIN_SAMPLES = SAMPLE_RATE_HZ // 4
"""PESQ needs a quarter second; a shorter recording gets None."""


def recording_metrics(clean_16k: np.ndarray, protected_16k: np.ndarray, perceptual: bool) -> dict[str, float | None]:
    """SNR, L-inf, PESQ-WB and STOI on the first METRIC_MAX_S seconds (None where undefined)."""
    n = min(len(clean_16k), len(protected_16k), int(METRIC_MAX_S * SAMPLE_RATE_HZ))
    c, p = clean_16k[None, :n], protected_16k[None, :n]
    scores = {"snr_db": float(snr_db(c, p)[0]), "linf": float(linf(c, p)[0]), "pesq_wb": None, "stoi": None}
    if perceptual:
        scores["pesq_wb"] = pesq_wb(c, p).mean() if n >= PESQ_MIN_SAMPLES else None
        scores["stoi"] = stoi(c, p).mean()
    return scores
