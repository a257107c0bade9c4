"""Make min-min noise from windows and labels: seed, surrogate, generation and its record.

The one orchestration of `core.noise.minmin.generate` that the folder tool (`core.protect`)
and the bench (`bench.run`) share; each keeps only its own storage (the folder's noise file,
the bench's cache). `check_memory` refuses, before any work, a CPU run that would not fit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core import CLIP_SAMPLES
from core.budgets.base import Budget
from core.models import build_surrogate
from core.noise.distributed import Ranks, all_gather
from core.noise.minmin import MinMinConfig, generate
from core.workspace import IN_MEMORY, Workspace

WINDOW_BYTES_IN_MINMIN = 4 * CLIP_SAMPLES * 4 + CLIP_SAMPLES
"""Memory min-min holds per window: the windows, eps, the noise and one transient copy (a
round's checkpoint) in float32, and the padding mask (one byte a sample)."""
BATCH_BYTES_PER_WINDOW = 2 * 2**20
"""Memory per window of a noise batch: the surrogate's activations and their gradients
(measured about 1.8 MB for M5 on 1-s windows)."""


def make_noise(
    x: torch.Tensor | np.ndarray,
    labels: torch.Tensor | list[int],
    n_classes: int,
    budget: Budget,
    minmin: MinMinConfig,
    surrogate: str,
    device: torch.device,
    progress: bool = True,
    valid: np.ndarray | None = None,
    cutoffs_hz: np.ndarray | None = None,
    checkpoint: Path | None = None,
    on_round: Callable[[dict], None] | None = None,
    ranks: Ranks = Ranks(),
    workspace: Workspace = IN_MEMORY,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """Min-min noise [W, T] (on the CPU) for windows x [W, T] with their labels, and its record
    (rounds, history, seconds, device, recipe). A fresh surrogate is seeded with minmin.seed;
    `valid` [W, T] and `cutoffs_hz` [W] confine the noise to what is written, `checkpoint` lets
    a killed run resume from its last round, `on_round` hears each round (minmin.generate).
    Under torchrun (`ranks`), x and what goes with it are this rank's shard, and so is the noise.
    `workspace` holds min-min's eps and noise (core.workspace; x may be memory-mapped too)."""
    y = torch.as_tensor(labels, dtype=torch.long)  # long also when a rank holds no clips
    classes = set().union(*all_gather({int(c) for c in y.tolist()}, ranks))
    if len(classes) < 2:
        raise ValueError(f"min-min noise needs clips of at least 2 classes, got {len(classes)}")
    torch.set_flush_denormal(True)  # denormal input gradients once tripled a min-min step on CPU
    torch.manual_seed(minmin.seed)
    model = build_surrogate(surrogate, n_classes).to(device)
    start = time.perf_counter()
    result = generate(
        model,
        torch.as_tensor(x).to(device),
        y.to(device),
        budget,
        minmin,
        n_classes=n_classes,
        progress=progress,
        on_round=on_round,
        valid=None if valid is None else torch.from_numpy(valid).to(device),
        cutoffs_hz=None if cutoffs_hz is None else torch.from_numpy(cutoffs_hz),
        checkpoint=checkpoint,
        ranks=ranks,
        workspace=workspace,
    )
    record = {
        "rounds": result.rounds,
        "history": result.history,
        "seconds": time.perf_counter() - start,
        "device": str(device),
        "ranks": ranks.world,
        "surrogate": surrogate,
        "budget": budget.to_dict(),
        "minmin": minmin.to_dict(),
    }
    return result.delta.cpu(), record


def check_memory(n_windows: int, minmin: MinMinConfig, device: torch.device | str) -> None:
    """ValueError, before any work, when min-min over `n_windows` windows on the CPU would
    need more memory than the machine has available (an out-of-memory kill would repeat on
    every resume). Silent where /proc/meminfo is absent or the noise is made on a GPU."""
    if not fits_in_memory(n_windows, minmin, device):
        need, available = memory_need(n_windows, minmin), available_memory_bytes()
        raise ValueError(
            f"min-min over {n_windows} windows ({n_windows / 3600:.1f} h of audio) needs about {need / 2**30:.1f} GiB "
            f"and this machine has {available / 2**30:.1f} GiB available; keep its arrays on disk (--work disk), "
            "protect the folder in parts, or use a machine with more memory"
        )


def fits_in_memory(n_windows: int, minmin: MinMinConfig, device: torch.device | str) -> bool:
    """Whether `check_memory` passes: on a GPU, where /proc/meminfo is absent, or when the
    machine has the memory available."""
    available = available_memory_bytes()
    return torch.device(device).type != "cpu" or available is None or memory_need(n_windows, minmin) <= available


def memory_need(n_windows: int, minmin: MinMinConfig) -> int:
    """Bytes min-min over `n_windows` windows holds in memory on the CPU (arrays and one batch)."""
    return n_windows * WINDOW_BYTES_IN_MINMIN + min(n_windows, minmin.noise_batch_size) * BATCH_BYTES_PER_WINDOW


def available_memory_bytes() -> int | None:
    """MemAvailable of /proc/meminfo (Linux), in bytes; None where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
