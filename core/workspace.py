"""Where min-min's per-window arrays live: in memory, or in memory-mapped files on disk.

A folder of recordings becomes windows [W, 16000], and min-min keeps eps and the noise of the
same shape beside them (and, for the masking budget, a power limit per STFT bin): about
272 KB per 1-s window, 27 GB for 100,000 windows. In memory that is the process's own memory;
in a folder on disk each array is a `.npy` file mapped into the address space, so the
operating system pages it in and out as min-min walks through the batches, and the process's
own (anonymous) memory stays that of a batch. Same arithmetic, same results; only where the
bytes sit differs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch


class Workspace:
    """Allocates named zero-filled arrays: in memory (`folder` None) or as `<folder>/<name>.npy`
    memory maps (created on first use; `remove`, or leaving a `with` block, deletes the folder
    and everything in it)."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = None if folder is None else Path(folder)

    @property
    def on_disk(self) -> bool:
        return self.folder is not None

    def zeros(self, name: str, shape: tuple[int, ...], dtype: np.dtype | type = np.float32) -> np.ndarray:
        """A zero-filled array; on disk a fresh `<name>.npy` replaces any earlier one."""
        if self.folder is None:
            return np.zeros(shape, dtype)
        self.folder.mkdir(parents=True, exist_ok=True)
        return np.lib.format.open_memmap(self.folder / f"{name}.npy", mode="w+", dtype=dtype, shape=shape)

    def tensor(
        self, name: str, shape: tuple[int, ...], device: torch.device, dtype: torch.dtype = torch.float32
    ) -> torch.Tensor:
        """A zero tensor on `device`; on the CPU backed by `zeros` (a GPU holds its own)."""
        if torch.device(device).type != "cpu" or self.folder is None:
            return torch.zeros(shape, dtype=dtype, device=device)
        return torch.from_numpy(self.zeros(name, shape, torch.empty(0, dtype=dtype).numpy().dtype))

    def path(self, name: str) -> Path:
        """A file in the folder for data the caller writes itself (on disk only)."""
        if self.folder is None:
            raise ValueError("an in-memory workspace has no files")
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / name

    def remove(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


IN_MEMORY = Workspace()
