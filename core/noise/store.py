"""Noise on disk, keyed by clip ID: saved once, looked up by ID, never by loader order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from core.atomic import atomic_path
from core.noise.distributed import Ranks, all_gather, gather_rows
from core.workspace import IN_MEMORY, Workspace


def save_noise(path: str | Path, ids: tuple[str, ...] | list[str], delta: torch.Tensor, meta: dict[str, Any]) -> None:
    """Write delta [N, T] with its N clip IDs and JSON-like meta, atomically (temp + rename)."""
    if delta.ndim != 2 or delta.shape[0] != len(ids):
        raise ValueError(f"delta must be [N={len(ids)}, T], got {tuple(delta.shape)}")
    with atomic_path(path) as tmp:
        torch.save({"ids": list(ids), "delta": delta.detach().cpu().contiguous(), "meta": meta}, tmp)


def save_noise_shards(
    path: str | Path, ids: list[str], delta: torch.Tensor, meta: dict[str, Any], ranks: Ranks, workspace: Workspace = IN_MEMORY
) -> torch.Tensor | None:
    """`save_noise` of every rank's rows (`ids` and `delta` are this rank's) by rank 0, the
    others waiting until the file exists; returns all the noise on rank 0 (gathered into
    `workspace`), None elsewhere (in one process: saves and returns `delta`)."""
    every = gather_rows(delta, ranks, workspace)
    every_id = [i for part in all_gather(list(ids), ranks) for i in part]
    if every is not None:
        save_noise(path, every_id, every, meta)
    ranks.barrier()
    return every


class CorruptNoiseFile(ValueError):
    """A noise file that cannot be read back (cut short, overwritten, not a noise file)."""


def load_noise(path: str | Path, ids: tuple[str, ...] | list[str]) -> tuple[torch.Tensor, dict[str, Any]]:
    """The stored delta rows for `ids`, in that order, and the stored meta.

    Loaded with weights_only=True: nothing in the file is executed. Memory-mapped: `ids` that
    are a run of the stored ones in stored order (a whole folder, a rank's share) come back as
    a view of the file, read as they are used; others are copied. Raises CorruptNoiseFile
    when the file cannot be read as noise, KeyError naming the first requested ID it lacks.
    """
    try:
        stored = torch.load(Path(path), map_location="cpu", weights_only=True, mmap=True)
        stored_ids, delta, meta = stored["ids"], stored["delta"], stored["meta"]
        if not isinstance(delta, torch.Tensor) or delta.ndim != 2 or delta.shape[0] != len(stored_ids):
            raise ValueError(f"delta of shape {getattr(delta, 'shape', None)} for {len(stored_ids)} IDs")
    except Exception as err:  # whatever torch.load and a damaged archive raise
        raise CorruptNoiseFile(f"{path} cannot be read as noise ({type(err).__name__}: {err})") from None
    position = {clip_id: i for i, clip_id in enumerate(stored_ids)}
    missing = [i for i in ids if i not in position]
    if missing:
        raise KeyError(f"{path}: no noise for {len(missing)} clip(s), e.g. {missing[0]!r}")
    rows = torch.tensor([position[i] for i in ids], dtype=torch.long)
    if len(rows) and torch.equal(rows, torch.arange(rows[0], rows[0] + len(rows))):
        return delta[rows[0] : rows[0] + len(rows)], meta
    return delta[rows], meta
