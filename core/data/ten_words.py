"""The leaderboard's data: Speech Commands v0.02's companion test set, its ten core words.

4,074 clips (16 kHz mono 16-bit WAV, 1 s, 239 speakers) in the official layout,
<word>/<speaker>_nohash_<n>.wav. Anyone can build it from the official archive with

    python -m core.data fetch speech-commands-10

which downloads `speech_commands_test_set_v0.02.tar.gz`, keeps the files named in the
manifest shipped beside this module (`speech_commands_10.sha1`, `sha1sum` format: the
SHA-1 and path of every clip) and checks every one. `ten_words_root` finds the set for the
leaderboard in a fixed order (see its docstring). The clips are Pete Warden's (2018,
arXiv:1804.03209), licensed CC BY 4.0.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path, PurePosixPath

from core.data.speech_commands import DOWNLOAD_MARKER, download_file, staged_download

TEN_WORDS_URL = "http://download.tensorflow.org/data/speech_commands_test_set_v0.02.tar.gz"
MANIFEST = Path(__file__).with_name("speech_commands_10.sha1")
FOLDER_NAME = "speech_commands_v0.02_test10"
DATA_ENV = "UNLEARNABLE_AUDIO_DATA"
"""An environment variable naming the set's folder."""
SHARED_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / FOLDER_NAME
"""Where a checkout beside a `shared/` folder finds the set (this project's own machines)."""
FETCH_COMMAND = "python -m core.data fetch speech-commands-10"
ATTRIBUTION = (
    "# Speech Commands v0.02, companion test set, 10 core words\n\n"
    "Built by `{command}` from {url}, every clip checked against its SHA-1 in\n"
    "core/data/speech_commands_10.sha1. Recordings from Google's Speech Commands dataset v0.02\n"
    "(Pete Warden, 2018, arXiv:1804.03209), licensed CC BY 4.0:\n"
    "https://creativecommons.org/licenses/by/4.0/\n"
)


def cache_root() -> Path:
    """The user cache folder the set is fetched into by default ($XDG_CACHE_HOME or ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "unlearnable-audio" / FOLDER_NAME


def read_manifest(path: Path | None = None) -> dict[str, str]:
    """{relative path: SHA-1 hex} from a `sha1sum`-format file (default MANIFEST)."""
    path = path if path is not None else MANIFEST
    entries = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        digest, _, rel = line.partition("  ")
        if len(digest) != 40 or not rel:
            raise ValueError(f"{path}:{number}: expected '<sha1>  <path>', got {line!r}")
        entries[rel] = digest
    return entries


def ten_words_root(explicit: str | Path | None = None) -> Path:
    """The set's folder, looked for in this order: `explicit` (a --data-root), the folder in
    ${DATA_ENV}, SHARED_ROOT where it exists, else `cache_root()`, where a fetch puts it
    (which may not hold it yet: `check_ten_words` says so before any work)."""
    if explicit is not None:
        return Path(explicit)
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    if SHARED_ROOT.is_dir():
        return SHARED_ROOT
    return cache_root()


def check_ten_words(root: Path) -> None:
    """ValueError naming every place looked and the command that fetches the set, unless
    `root` holds it (a folder of word folders)."""
    if not (root.is_dir() and any(p.is_dir() for p in root.iterdir())):
        raise ValueError(
            f"the 10-word Speech Commands set is not at {root} (looked at --data-root, ${DATA_ENV}, "
            f"{SHARED_ROOT}, then {cache_root()}); fetch it (about 112 MB) with `{FETCH_COMMAND}`"
        )


def fetch_ten_words(
    dest: str | Path | None = None, url: str = TEN_WORDS_URL, manifest: Path | None = None, progress: bool = True
) -> Path:
    """Download the archive at `url`, keep the files of `manifest` (default MANIFEST) under
    `dest` (default `cache_root()`), each checked against its SHA-1; returns `dest`.

    Idempotent: a `dest` holding the completion marker is left alone. Everything is written
    into a temporary folder beside `dest` and renamed into place only when every file is
    present and matches, so a failed or interrupted fetch never leaves a set that looks
    complete. Raises ValueError naming what is missing or differs.
    """
    dest = Path(dest) if dest is not None else cache_root()
    if (dest / DOWNLOAD_MARKER).is_file():
        return dest
    wanted = read_manifest(manifest if manifest is not None else MANIFEST)
    with staged_download(dest, url) as (archive_path, folder):
        download_file(url, archive_path, progress)
        found, wrong = _extract(archive_path, url, wanted, folder)
        missing = sorted(set(wanted) - found - set(wrong))
        if missing or wrong:
            problems = [f"{len(missing)} file(s) missing (first: {missing[:3]})"] if missing else []
            problems += [f"{len(wrong)} file(s) differ from their SHA-1 (first: {sorted(wrong)[:3]})"] if wrong else []
            raise ValueError(f"the archive from {url} does not hold the 10-word set: {'; '.join(problems)}")
        (folder / "README.md").write_text(ATTRIBUTION.format(command=FETCH_COMMAND, url=url), encoding="utf-8")
    return dest


def _extract(archive_path: Path, url: str, wanted: dict[str, str], folder: Path) -> tuple[set[str], list[str]]:
    """Write the archive's members named in `wanted` under `folder`; returns (the paths found
    and matching, the paths found with another SHA-1). Other members are skipped unread, and
    no member name is ever used as a path unless the manifest names it."""
    found, wrong = set(), []
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            for member in archive:
                rel = PurePosixPath(member.name.removeprefix("./")).as_posix()
                if rel not in wanted or not member.isfile():
                    continue
                data = archive.extractfile(member).read()
                if hashlib.sha1(data).hexdigest() != wanted[rel]:
                    wrong.append(rel)
                    continue
                target = folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                found.add(rel)
    except tarfile.TarError as err:
        raise ValueError(f"download from {url} is not a readable .tar.gz ({err})") from err
    return found, wrong
