"""The small Speech Commands sample shipped inside the package, for quick runs and tests.

1,040 real clips (10 words, 838 train / 202 test, speaker-disjoint), stored as FLAC under
`core/data/embedded/`; see its README.md for attribution (CC BY 4.0) and how they were chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from core.data.clips import ClipSet
from core.data.speech_commands import load_speech_commands

EMBEDDED_ROOT = Path(__file__).resolve().parent / "embedded"
"""Folder of the shipped sample, in the Speech Commands layout (root/<word>/<clip>.flac)."""


def load_embedded(classes: Sequence[str] | None = None, progress: bool = False) -> dict[str, ClipSet]:
    """The shipped sample as {"train": ClipSet, "test": ClipSet} (speaker hash split, 20% test)."""
    return load_speech_commands(EMBEDDED_ROOT, classes=classes, splits=("train", "test"), progress=progress)
