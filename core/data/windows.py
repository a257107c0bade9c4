"""A recording as 1-s windows: what min-min, the budgets and the surrogate see.

A recording's 16-kHz mono samples [T] are cut into ceil(T / CLIP_SAMPLES) windows, the last one
zero-padded; noise made on the windows is stitched back and the padding dropped. The folder
tool, `core.protect_audio` and the demo all cut here, so the three agree on every window.
"""

from __future__ import annotations

import numpy as np

from core import CLIP_SAMPLES
from core.data.audio_io import fix_length
from core.workspace import IN_MEMORY, Workspace

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
    packer = WindowPacker()
    for audio in recordings:
        packer.add(audio)
    return packer.finish()


class WindowPacker:
    """`pack_windows` one recording at a time, as a folder is read. In a workspace on disk each
    recording's windows are appended to `windows.f32` there as it arrives and the file is
    memory-mapped at the end, so the recordings never sit in memory all at once; in memory
    they are kept and packed at the end (the packed copy replaces them)."""

    FILE = "windows.f32"

    def __init__(self, workspace: Workspace = IN_MEMORY) -> None:
        self.workspace = workspace
        self.lengths: list[int] = []
        self.kept: list[np.ndarray] = []
        self.file = open(workspace.path(self.FILE), "wb") if workspace.on_disk else None  # noqa: SIM115 (closed in finish)

    def add(self, audio: np.ndarray) -> None:
        self.lengths.append(len(audio))
        if self.file is None:
            self.kept.append(audio)
        else:
            split_windows(np.asarray(audio, dtype=np.float32)).tofile(self.file)

    def finish(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """(windows [W, CLIP_SAMPLES], each recording as a view into them), in the order added."""
        count, starts = _layout(self.lengths)
        if self.file is None:
            windows = np.zeros((count, CLIP_SAMPLES), dtype=np.float32)
            flat = windows.reshape(-1)
            for audio, at in zip(self.kept, starts):
                flat[at : at + len(audio)] = audio
            self.kept = []
        else:
            self.file.close()
            path = self.workspace.path(self.FILE)
            windows = np.memmap(path, np.float32, "r+", shape=(count, CLIP_SAMPLES)) if count else np.zeros((0, CLIP_SAMPLES), np.float32)
        flat = windows.reshape(-1)
        return windows, [flat[at : at + n] for n, at in zip(self.lengths, starts)]


def held_samples(lengths: list[int], workspace: Workspace = IN_MEMORY) -> np.ndarray:
    """[W, CLIP_SAMPLES] bool, True where `pack_windows` put a recording's sample (of recordings
    with these lengths) and False on the zero padding, where noise would never be written."""
    count, starts = _layout(lengths)
    held = workspace.zeros("held", (count, CLIP_SAMPLES), bool)
    flat = held.reshape(-1)
    for n, at in zip(lengths, starts):
        flat[at : at + n] = True
    return held
