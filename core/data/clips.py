"""ClipSet: a labelled set of fixed-length clips held in memory, addressed by stable IDs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch

from core import SAMPLE_RATE_HZ


@dataclass(frozen=True)
class ClipSet:
    """Clips as one tensor, with labels and stable IDs.

    Attributes:
        waveforms: [N, T] float32 in [-1, 1], mono at `sample_rate_hz`.
        labels: [N] int64 class indices into `classes`.
        ids: N stable clip IDs: the clip's path relative to its dataset root, with '/'.
            Noise is stored and looked up by these IDs, never by position.
        classes: class names; label k means classes[k].
        sample_rate_hz: sample rate of `waveforms`.
    """

    waveforms: torch.Tensor
    labels: torch.Tensor
    ids: tuple[str, ...]
    classes: tuple[str, ...]
    sample_rate_hz: int = SAMPLE_RATE_HZ

    def __post_init__(self) -> None:
        n = len(self.ids)
        if self.waveforms.ndim != 2 or self.waveforms.shape[0] != n:
            raise ValueError(f"waveforms must be [N={n}, T], got {tuple(self.waveforms.shape)}")
        if self.labels.shape != (n,):
            raise ValueError(f"labels must be [N={n}], got {tuple(self.labels.shape)}")
        if len(set(self.ids)) != n:
            raise ValueError("clip ids must be unique")
        if n and (int(self.labels.min()) < 0 or int(self.labels.max()) >= len(self.classes)):
            raise ValueError(f"labels must lie in [0, {len(self.classes)})")

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, indices: torch.Tensor | list[int]) -> ClipSet:
        """The clips at `indices`, in that order."""
        idx = torch.as_tensor(indices, dtype=torch.long)
        return ClipSet(
            waveforms=self.waveforms[idx],
            labels=self.labels[idx],
            ids=tuple(self.ids[i] for i in idx.tolist()),
            classes=self.classes,
            sample_rate_hz=self.sample_rate_hz,
        )

    def with_waveforms(self, waveforms: torch.Tensor) -> ClipSet:
        """The same clips (IDs, labels) with other waveforms, e.g. protected or defended ones."""
        return ClipSet(waveforms, self.labels, self.ids, self.classes, self.sample_rate_hz)

    def index_of(self, ids: list[str] | tuple[str, ...]) -> torch.Tensor:
        """Positions of `ids` in this set; raises KeyError naming the first missing ID."""
        pos = {clip_id: i for i, clip_id in enumerate(self.ids)}
        missing = [i for i in ids if i not in pos]
        if missing:
            raise KeyError(f"{len(missing)} clip id(s) not in this set, e.g. {missing[0]!r}")
        return torch.tensor([pos[i] for i in ids], dtype=torch.long)

    def fingerprint(self) -> str:
        """SHA-256 over IDs, labels, classes and samples: equal data, equal fingerprint."""
        h = hashlib.sha256()
        h.update("\n".join(self.classes).encode())
        h.update("\n".join(self.ids).encode())
        h.update(self.labels.numpy().tobytes())
        h.update(self.waveforms.contiguous().numpy().tobytes())
        return h.hexdigest()
