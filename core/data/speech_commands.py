"""Google Speech Commands on disk: listing, speaker-disjoint splits, loading and downloading.

Layout: root/<word>/<speaker>_nohash_<n>.wav (or .flac), with optional
root/validation_list.txt and root/testing_list.txt naming clips as `right/bb05582b_nohash_3.wav`.
The `_background_noise_` folder (and any folder starting with '_' or '.') is never a class.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import tempfile
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import torch
from tqdm import tqdm

from core.data.audio_io import load_clips
from core.data.clips import ClipSet

SPEECH_COMMANDS_URL = "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz"
CLIP_EXTENSIONS = (".wav", ".flac")
VALIDATION_LIST = "validation_list.txt"
TESTING_LIST = "testing_list.txt"
DOWNLOAD_MARKER = ".download_complete"
"""Written into the dataset folder only after a complete download and extraction."""

_NOHASH = "_nohash_"


def speaker_of(clip_id: str) -> str:
    """The speaker hash of a clip: its file name before `_nohash_`.

    `yes/0a7c2a8d_nohash_0.wav` -> `0a7c2a8d`.
    """
    name = PurePosixPath(clip_id).name
    if _NOHASH not in name:
        raise ValueError(
            f"clip id {clip_id!r} has no '{_NOHASH}' in its file name; expected <speaker>_nohash_<n>.wav"
        )
    return name.split(_NOHASH, 1)[0]


def hash_percent(key: str) -> int:
    """A stable bucket in [0, 100) for `key`: int(sha1(key), 16) % 100."""
    return int(hashlib.sha1(key.encode()).hexdigest(), 16) % 100


def check_test_percent(test_percent: int) -> None:
    """Raise ValueError unless `test_percent` is an int in [0, 100]."""
    if not isinstance(test_percent, int) or not 0 <= test_percent <= 100:
        raise ValueError(f"test_percent must be an int in [0, 100], got {test_percent!r}")


def hash_split(clip_id: str, test_percent: int = 20) -> str:
    """Return "test" if the clip's speaker hashes below `test_percent`, else "train".

    All clips of a speaker land on the same side, so the split is speaker-disjoint.
    """
    check_test_percent(test_percent)
    return "test" if hash_percent(speaker_of(clip_id)) < test_percent else "train"


def word_folders(root: Path) -> list[str]:
    """Sorted class folder names under `root`, skipping `_background_noise_` and hidden folders."""
    return sorted(p.name for p in root.iterdir() if p.is_dir() and p.name[0] not in "_.")


def resolve_classes(available: Sequence[str], classes: Sequence[str] | None, root: Path) -> tuple[str, ...]:
    """`classes` as a tuple (the user's order), or all of `available`; unknown names raise."""
    if classes is None:
        return tuple(available)
    if isinstance(classes, str) or not classes or len(set(classes)) != len(classes):
        raise ValueError(f"classes={classes!r} for {root}: expected a non-empty list of distinct names")
    unknown = [c for c in classes if c not in available]
    if unknown:
        raise ValueError(
            f"unknown class(es) {unknown} in {root}; expected names from: {', '.join(available)}"
        )
    return tuple(classes)


def _read_list(path: Path) -> set[str]:
    """Clip IDs in an official list file, without extension (so .flac copies still match)."""
    lines = path.read_text().splitlines()
    return {str(PurePosixPath(line.strip()).with_suffix("")) for line in lines if line.strip()}


def list_speech_commands(
    root: str | Path, classes: Sequence[str] | None = None, test_percent: int = 20
) -> dict[str, list[tuple[str, int]]]:
    """Split the clips under `root` into {"train": [(clip_id, label), ...], "test": [...]}.

    With root/testing_list.txt the official lists decide ("validation" is added when
    validation_list.txt exists; train is every other clip); without it the speaker hash
    split with `test_percent` does. Labels index into the class tuple: all word folders
    sorted, or `classes` in the order given. Clip IDs are sorted within each split.
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"Speech Commands root {root} is not a folder; expected root/<word>/*.wav")
    names = resolve_classes(word_folders(root), classes, root)
    clips = sorted(
        (f"{word}/{p.name}", label)
        for label, word in enumerate(names)
        for p in (root / word).iterdir()
        if p.is_file() and p.suffix.lower() in CLIP_EXTENSIONS
    )
    testing, validation = root / TESTING_LIST, root / VALIDATION_LIST
    if not testing.is_file():
        if validation.is_file():
            raise ValueError(f"{root} has {VALIDATION_LIST} but no {TESTING_LIST}; expected both or neither")
        splits: dict[str, list[tuple[str, int]]] = {"train": [], "test": []}
        for clip_id, label in clips:
            splits[hash_split(clip_id, test_percent)].append((clip_id, label))
        return splits
    lists = {"test": _read_list(testing)}
    if validation.is_file():
        lists["validation"] = _read_list(validation)
    on_disk = {str(PurePosixPath(c).with_suffix("")) for c, _ in clips}
    for split, listed in lists.items():
        missing = sorted(c for c in listed if c.split("/", 1)[0] in names and c not in on_disk)
        if missing:
            raise ValueError(
                f"{root}: {len(missing)} {split} clip(s) listed but not on disk, e.g. {missing[0]!r}; "
                f"expected every listed clip of the chosen classes to exist"
            )
    splits = {"train": [], **{split: [] for split in lists}}
    for clip_id, label in clips:
        stem = str(PurePosixPath(clip_id).with_suffix(""))
        split = next((s for s, listed in lists.items() if stem in listed), "train")
        splits[split].append((clip_id, label))
    return splits


def build_clipset(
    root: Path, items: Sequence[tuple[str, int]], classes: tuple[str, ...], progress: bool, desc: str
) -> ClipSet:
    """Read `items` ((clip_id, label) with IDs relative to `root`) into a fixed-length ClipSet."""
    waveforms = load_clips([root / clip_id for clip_id, _ in items], progress=progress, desc=desc)
    return ClipSet(
        waveforms=torch.from_numpy(waveforms),
        labels=torch.tensor([label for _, label in items], dtype=torch.int64),
        ids=tuple(clip_id for clip_id, _ in items),
        classes=classes,
    )


def load_speech_commands(
    root: str | Path,
    classes: Sequence[str] | None = None,
    splits: Sequence[str] = ("train", "test"),
    progress: bool = True,
) -> dict[str, ClipSet]:
    """Load the requested splits of a Speech Commands folder as 1 s, 16 kHz ClipSets."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"Speech Commands root {root} is not a folder; expected root/<word>/*.wav")
    listing = list_speech_commands(root, classes)
    unknown = [s for s in splits if s not in listing]
    if unknown:
        raise ValueError(f"splits {unknown} not available in {root}; expected some of {sorted(listing)}")
    names = resolve_classes(word_folders(root), classes, root)
    return {s: build_clipset(root, listing[s], names, progress, f"loading {s}") for s in splits}


def _check_members(archive: tarfile.TarFile, source: str) -> None:
    """Reject members that would land outside the extraction folder."""
    for member in archive.getmembers():
        parts = PurePosixPath(member.name).parts
        if member.name.startswith(("/", "\\")) or ".." in parts:
            raise ValueError(
                f"archive {source} has unsafe member {member.name!r}; expected relative paths without '..'"
            )


def download_file(url: str, target: Path, progress: bool) -> None:
    """Stream `url` into `target` with a byte progress bar."""
    with urllib.request.urlopen(url) as response, target.open("wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc="downloading", disable=not progress) as bar:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                bar.update(len(chunk))


def download_speech_commands(
    dest_dir: str | Path, url: str = SPEECH_COMMANDS_URL, progress: bool = True
) -> Path:
    """Download and extract the Speech Commands .tar.gz into `dest_dir`; returns `dest_dir`.

    Idempotent: a `dest_dir` holding the completion marker is left alone. The archive is
    extracted into a temporary folder beside `dest_dir` and renamed into place, so an
    interrupted run never leaves a half-extracted dataset that looks complete.
    """
    dest = Path(dest_dir)
    if (dest / DOWNLOAD_MARKER).is_file():
        return dest
    with staged_download(dest, url) as (archive_path, extracted):
        download_file(url, archive_path, progress)
        try:
            with tarfile.open(archive_path, "r:gz") as archive:
                _check_members(archive, url)
                archive.extractall(extracted, filter="data")
        except tarfile.TarError as err:
            raise ValueError(f"download from {url} is not a readable .tar.gz ({err})") from err
    return dest


@contextmanager
def staged_download(dest: Path, url: str) -> Iterator[tuple[Path, Path]]:
    """(where to save the archive, a folder to fill) in a temporary folder beside `dest`; on
    success the folder gets DOWNLOAD_MARKER and is renamed to `dest`, and the temporary files
    go either way, so a failed or interrupted run never leaves a dataset that looks complete.
    ValueError when `dest` exists and is neither empty nor a completed download."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ValueError(f"{dest} exists and is not a completed download; expected a new or empty folder")
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.partial-"))
    try:
        folder = work / "extracted"
        folder.mkdir()
        yield work / "archive.tar.gz", folder
        (folder / DOWNLOAD_MARKER).write_text(url + "\n")
        if dest.exists():
            dest.rmdir()
        folder.rename(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
