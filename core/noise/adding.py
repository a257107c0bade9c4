"""Adding 16-kHz noise to a recording at the recording's own rate, within the budget.

Noise is made on a recording's 16-kHz mono windows; a recording at another rate gets it
resampled (a soxr stream, block by block) and clamped again to the 16-kHz eps held at that
rate, since resampling changes the waveform's peaks. The folder tool streams it per block
(`NoiseAtRate`, `noisy_block`, `eps_held`); `core.protect_audio` adds it at once (`add_noise`).
"""

from __future__ import annotations

import numpy as np
import soxr
import torch

from core import SAMPLE_RATE_HZ
from core.budgets.base import Budget, eps_in_batches
from core.data.audio_io import fix_length
from core.data.windows import split_windows, stitch

def eps_16k(budget: Budget, audio: np.ndarray) -> np.ndarray:
    """The budget eps [T] of a file's 16 kHz mono audio, over the same windows the noise saw."""
    return stitch(eps_in_batches(budget, torch.from_numpy(split_windows(audio))).numpy(), len(audio))

class NoiseAtRate:
    """The 16-kHz noise of one file at the file's own rate, taken block by block in order.

    Resampled with a soxr stream (quality "HQ": the same samples as one call on the whole
    noise), so a long file's noise never exists at its own rate all at once; past the end of
    the noise it gives zeros (resampling may round the length down by a sample)."""

    FEED_SAMPLES = 1 << 16

    def __init__(self, noise_16k: np.ndarray, sample_rate_hz: int) -> None:
        self._noise = noise_16k
        self._fed = 0
        self._buffer = np.zeros(0)
        self._stream = None
        if sample_rate_hz != SAMPLE_RATE_HZ:
            self._stream = soxr.ResampleStream(SAMPLE_RATE_HZ, sample_rate_hz, 1, dtype="float64", quality="HQ")

    def take(self, n: int) -> np.ndarray:
        """The next `n` samples [n] float64."""
        pieces, held = [self._buffer], len(self._buffer)
        while held < n and self._fed <= len(self._noise):
            chunk = self._noise[self._fed : self._fed + self.FEED_SAMPLES].astype(np.float64)
            self._fed += self.FEED_SAMPLES
            last = self._fed >= len(self._noise)
            out = chunk if self._stream is None else self._stream.resample_chunk(chunk, last=last)
            pieces.append(out)
            held += len(out)
            if last:
                self._fed = len(self._noise) + 1  # exhausted: zeros from here on
        joined = np.concatenate(pieces)
        self._buffer = joined[n:]
        return fix_length(joined[:n], n)

def add_noise(original: np.ndarray, noise_16k: np.ndarray, eps: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """original [n, channels] plus the 16-kHz noise, resampled to `sample_rate_hz` and clamped
    to the 16-kHz `eps` held at that rate, on every channel; clipped to [-1, 1]."""
    n = original.shape[0]
    return noisy_block(original, NoiseAtRate(noise_16k, sample_rate_hz).take(n), eps_held(eps, n, sample_rate_hz))

def noisy_block(original: np.ndarray, noise: np.ndarray, held: np.ndarray) -> np.ndarray:
    """original [n, channels] plus noise [n] clamped to +-held [n] on every channel, clipped
    to [-1, 1]: one block of a protected file."""
    return np.clip(original + np.clip(noise, -held, held)[:, None], -1.0, 1.0)

def eps_held(eps_16k_values: np.ndarray, n: int, sample_rate_hz: int, start: int = 0) -> np.ndarray:
    """The 16-kHz eps [T16] held at another rate, for that rate's samples start .. start + n:
    [n], each sample taking the eps at or just before its own time."""
    at = (np.arange(start, start + n, dtype=np.int64) * SAMPLE_RATE_HZ) // sample_rate_hz
    return eps_16k_values[np.minimum(at, len(eps_16k_values) - 1)]

