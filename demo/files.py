"""Where the demo writes what it serves: one fresh folder per request, old ones removed."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import numpy as np

from core import SAMPLE_RATE_HZ
from core.data import write_audio_atomic

MAX_AGE_S = 3600.0
"""Request folders older than this are deleted. Gradio copies every file it serves into its
own cache when the handler returns, so an hour leaves ample margin."""


def request_dir(out_root: Path, max_age_s: float = MAX_AGE_S) -> Path:
    """A new folder under `out_root` for one request's files, after removing stale ones."""
    out_root.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in out_root.iterdir():
        if old.is_dir() and now - old.stat().st_mtime > max_age_s:
            shutil.rmtree(old, ignore_errors=True)
    folder = out_root / uuid.uuid4().hex
    folder.mkdir()
    return folder


def write_wav(path: Path, samples: np.ndarray, sample_rate_hz: int = SAMPLE_RATE_HZ) -> Path:
    """16-bit PCM WAV (clipped to [-1, 1]), the format every browser plays."""
    write_audio_atomic(path, samples, sample_rate_hz, subtype="PCM_16", format="WAV")
    return path
