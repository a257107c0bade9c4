"""A user's own recordings: one folder per class, split train/test deterministically.

Files named like Speech Commands (`<speaker>_nohash_<n>.wav`) are split by speaker, so no
speaker is on both sides; other files are split by a hash of their clip ID.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from core.data.clips import ClipSet
from core.data.speech_commands import (
    build_clipset,
    check_test_percent,
    hash_percent,
    resolve_classes,
    speaker_of,
)

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")


def list_audio_files(root: str | Path, extensions: Sequence[str] = AUDIO_EXTENSIONS) -> list[str]:
    """Sorted paths (relative to `root`, with '/') of audio files anywhere under `root`.

    Extensions match case-insensitively; hidden files and folders (starting with '.') are
    skipped, since they are editor or OS leftovers, not recordings.
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"audio root {root} is not a folder; expected a folder of audio files")
    wanted = tuple(e.lower() for e in extensions)
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if path.is_file() and path.suffix.lower() in wanted and not any(p.startswith(".") for p in rel.parts):
            found.append(rel.as_posix())
    return sorted(found)


def split_of(clip_id: str, test_percent: int = 20) -> str:
    """Return "test" or "train" for a clip: by speaker when named `<speaker>_nohash_...`, else by clip ID."""
    check_test_percent(test_percent)
    key = speaker_of(clip_id) if "_nohash_" in PurePosixPath(clip_id).name else clip_id
    return "test" if hash_percent(key) < test_percent else "train"


def load_class_folders(
    root: str | Path,
    classes: Sequence[str] | None = None,
    extensions: Sequence[str] = AUDIO_EXTENSIONS,
    test_percent: int = 20,
    progress: bool = True,
) -> dict[str, ClipSet]:
    """Load root/<class>/**/<file> into {"train": ClipSet, "test": ClipSet} of 1 s, 16 kHz clips.

    Args:
        root: folder with one subfolder per class (hidden folders are skipped).
        classes: class folder names in label order; default: all, sorted.
        extensions: audio file extensions to include.
        test_percent: share of speakers (or clips) in the test split, 0-100.
        progress: show a progress bar while reading.
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"class-folder root {root} is not a folder; expected root/<class>/<audio files>")
    check_test_percent(test_percent)
    available = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    names = resolve_classes(available, classes, root)
    items: dict[str, list[tuple[str, int]]] = {"train": [], "test": []}
    for label, name in enumerate(names):
        files = list_audio_files(root / name, extensions)
        if not files:
            raise ValueError(f"class folder {root / name} holds no files with extensions {list(extensions)}")
        for rel in files:
            clip_id = f"{name}/{rel}"
            items[split_of(clip_id, test_percent)].append((clip_id, label))
    return {
        split: build_clipset(root, sorted(pairs), names, progress, f"loading {split}")
        for split, pairs in items.items()
    }
