"""Shared helpers for the data tests: tiny generated audio files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


def write_clip(
    path: Path,
    num_samples: int = 16_000,
    sample_rate_hz: int = 16_000,
    seed: int = 0,
    subtype: str = "PCM_16",
) -> np.ndarray:
    """Write quiet noise on the 16-bit grid (so PCM_16 round-trips exactly); return the samples."""
    rng = np.random.default_rng(seed)
    samples = (rng.integers(-3000, 3000, num_samples) / 32768).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, sample_rate_hz, subtype=subtype)
    return samples


@pytest.fixture
def make_clip() -> Callable[..., np.ndarray]:
    """`make_clip(path, num_samples=16000, sample_rate_hz=16000, seed=0, subtype="PCM_16")`."""
    return write_clip
