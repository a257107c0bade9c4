"""The bench's view of data: a config's train and test ClipSets, capped per class if asked."""

from __future__ import annotations

import hashlib

import torch

from bench.config import DataConfig
from core.data import (
    ClipSet,
    download_speech_commands,
    load_class_folders,
    load_embedded,
    load_speech_commands,
)


def load_split(cfg: DataConfig, progress: bool = True) -> tuple[ClipSet, ClipSet]:
    """(train, test) for a data config; downloads Speech Commands first when asked."""
    classes = list(cfg.classes) or None
    if cfg.source == "embedded":
        splits = load_embedded(classes, progress=progress)
    elif cfg.source == "speech_commands":
        root = download_speech_commands(cfg.root, progress=progress) if cfg.download else cfg.root
        splits = load_speech_commands(root, classes, progress=progress)
    else:
        splits = load_class_folders(cfg.root, classes, progress=progress)
    return (
        cap_per_class(splits["train"], cfg.max_train_per_class),
        cap_per_class(splits["test"], cfg.max_test_per_class),
    )


def cap_per_class(clips: ClipSet, per_class: int) -> ClipSet:
    """At most `per_class` clips of each class, chosen by SHA-1 of the clip ID (stable, spread
    over speakers), kept in their original order. 0 keeps everything."""
    if per_class <= 0:
        return clips
    keep: list[int] = []
    for label in range(len(clips.classes)):
        members = [i for i in range(len(clips)) if int(clips.labels[i]) == label]
        members.sort(key=lambda i: hashlib.sha1(clips.ids[i].encode()).hexdigest())
        keep += members[:per_class]
    return clips.subset(torch.tensor(sorted(keep), dtype=torch.long))


def data_fingerprint(train: ClipSet, test: ClipSet) -> str:
    """One SHA-256 over both splits (first 16 hex digits)."""
    return hashlib.sha256((train.fingerprint() + test.fingerprint()).encode()).hexdigest()[:16]
