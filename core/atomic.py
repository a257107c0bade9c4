"""Atomic file writes: a file is either complete or untouched, never half-written."""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success fsync it and rename it over `path`.

    Parent folders are created. On any error the temporary file is removed and `path` is
    left as it was. The result gets the umask's usual permissions (mkstemp's 0600 would
    hide a protected dataset from whoever it is shared with).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        _fsync(tmp)  # the data on disk before the name points at it: a crash leaves old or new
        os.replace(tmp, path)
        _fsync(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


STALE_AFTER_S = 3600.0
"""A temporary file of atomic_path older than this belongs to a killed run (a live write
takes seconds), so it may be removed."""


TEMPORARY_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")
"""atomic_path's temporary names: mkstemp's '.<name>.' prefix, 8 random characters, '.tmp'."""


def remove_stale_temporaries(folder: str | Path, older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Delete atomic_path's temporary files (.<name>.<random>.tmp) under `folder` that are
    older than `older_than_s`: what killed runs leave behind. Returns what was removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    now = time.time()
    removed = []
    for tmp in folder.rglob(".*.tmp"):
        try:
            ours = TEMPORARY_NAME.fullmatch(tmp.name) is not None
            if ours and tmp.is_file() and now - tmp.stat().st_mtime > older_than_s:
                tmp.unlink()
                removed.append(tmp)
        except FileNotFoundError:  # another process finished or removed it meanwhile
            continue
    return removed


def _fsync(path: Path) -> None:
    """Flush a file's or a folder's contents to disk (folders: where the OS allows it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        if not path.is_dir():
            raise
    finally:
        os.close(fd)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write `text` to `path` atomically, as UTF-8 whatever the locale."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(text.encode("utf-8"))
