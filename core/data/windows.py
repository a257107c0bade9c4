"""A recording as 1-s windows: what min-min, the budgets and the surrogate see.

A recording's 16-kHz mono samples [T] are cut into ceil(T / CLIP_SAMPLES) windows, the last one
zero-padded; noise made on the windows is stitched back and the padding dropped. The folder
tool, `core.protect_audio` and the demo all cut here, so the three agree on every window.
"""

from __future__ import annotations

import numpy as np

from core import CLIP_SAMPLES
from core.data.audio_io import fix_length

WINDOWS_FORMAT = 2
"""How windows become min-min's input, part of the folder tool's noise key. 2: noise only where
it is written (none in the padding of a file's last window, none above the file's Nyquist);
1 optimized noise there too, which the written file then lost."""


def window_count(num_samples: int, window_samples: int = CLIP_SAMPLES) -> int:
    """Windows needed to cover `num_samples` (ceiling division)."""
    return -(-num_samples // window_samples)


def split_windows(audio: np.ndarray, window_samples: int = CLIP_SAMPLES) -> np.ndarray:
    """[T] -> [ceil(T / window_samples), window_samples], the last window zero-padded (T >= 1)."""
    count = window_count(len(audio), window_samples)
    return fix_length(audio, count * window_samples).reshape(count, window_samples)


def stitch(windows: np.ndarray, num_samples: int) -> np.ndarray:
    """Inverse of `split_windows`: [K, W] -> [num_samples], padding dropped."""
    return windows.reshape(-1)[:num_samples]


def window_ids(name: str, count: int) -> list[str]:
    """Noise IDs of a recording's windows: `<name>#<index>`, unique when names are."""
    return [f"{name}#{k}" for k in range(count)]


def pack_windows(recordings: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Every recording's windows in one array [W, CLIP_SAMPLES] (each last window zero-padded),
    and the recordings again as views into it: min-min's input and the recordings' audio are
    then one copy in memory, not two (an hour of 16-kHz audio is 230 MB)."""
    counts = [window_count(len(a)) for a in recordings]
    windows = np.zeros((sum(counts), CLIP_SAMPLES), dtype=np.float32)
    flat, views, at = windows.reshape(-1), [], 0
    for audio, k in zip(recordings, counts):
        flat[at : at + len(audio)] = audio
        views.append(flat[at : at + len(audio)])
        at += k * CLIP_SAMPLES
    return windows, views


def held_samples(lengths: list[int]) -> np.ndarray:
    """[W, CLIP_SAMPLES] bool, True where `pack_windows` put a recording's sample (of recordings
    with these lengths) and False on the zero padding, where noise would never be written."""
    counts = [window_count(n) for n in lengths]
    held = np.zeros((sum(counts), CLIP_SAMPLES), dtype=bool)
    flat, at = held.reshape(-1), 0
    for n, k in zip(lengths, counts):
        flat[at : at + n] = True
        at += k * CLIP_SAMPLES
    return held
