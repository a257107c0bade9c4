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


def _layout(lengths: list[int]) -> tuple[int, list[int]]:
    """Where packing puts recordings of these lengths: the number of windows, and each
    recording's first sample in the flattened windows (each starts a window of its own)."""
    starts, at = [], 0
    for n in lengths:
        starts.append(at)
        at += window_count(n) * CLIP_SAMPLES
    return at // CLIP_SAMPLES, starts


def pack_windows(recordings: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Every recording's windows in one array [W, CLIP_SAMPLES] (each last window zero-padded),
    and the recordings again as views into it: min-min's input and the recordings' audio are
    then one copy in memory, not two (an hour of 16-kHz audio is 230 MB)."""
    count, starts = _layout([len(a) for a in recordings])
    windows = np.zeros((count, CLIP_SAMPLES), dtype=np.float32)
    flat, views = windows.reshape(-1), []
    for audio, at in zip(recordings, starts):
        flat[at : at + len(audio)] = audio
        views.append(flat[at : at + len(audio)])
    return windows, views


def held_samples(lengths: list[int]) -> np.ndarray:
    """[W, CLIP_SAMPLES] bool, True where `pack_windows` put a recording's sample (of recordings
    with these lengths) and False on the zero padding, where noise would never be written."""
    count, starts = _layout(lengths)
    held = np.zeros((count, CLIP_SAMPLES), dtype=bool)
    flat = held.reshape(-1)
    for n, at in zip(lengths, starts):
        flat[at : at + n] = True
    return held
