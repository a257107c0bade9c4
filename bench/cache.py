"""A content-addressed cache of finished work (noise, victim results), so an interrupted
or repeated run reuses what is done. Keys are hashes of everything the result depends on,
one per cache format still read (core.hashing.cache_keys), newest first."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from core.atomic import atomic_path, remove_stale_temporaries, write_text_atomic


class Cache:
    """JSON results under root/<kind>/<key>.json and tensor files under root/<kind>/<key>.pt.

    `archive`: a second cache of JSON results only (the thief matrix's cells, committed in
    bench/results/cells, outlive the machine that computed them): JSON is read from it when
    the cache lacks it, and every JSON result read or written is also kept there."""

    def __init__(self, root: str | Path, archive: str | Path | None = None) -> None:
        self.root = Path(root)
        remove_stale_temporaries(self.root)  # what killed runs left half-written
        self.archive = Cache(archive) if archive is not None else None

    def path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / f"{key}{suffix}"

    def find(self, kind: str, keys: tuple[str, ...], suffix: str) -> Path | None:
        """The entry stored under the first of `keys` that has one, as a path under keys[0]
        (an entry found under an older format's key is linked there, and stays where it was
        for code that still reads that format); None when there is none."""
        newest = self.path(kind, keys[0], suffix)
        for key in keys:
            path = self.path(kind, key, suffix)
            if path.is_file():
                if path != newest:
                    try:
                        os.link(path, newest)
                    except FileExistsError:
                        pass
                    except OSError:  # a file system without hard links
                        with atomic_path(newest) as tmp:
                            shutil.copyfile(path, tmp)
                return newest
        return None

    def get_json(self, kind: str, keys: tuple[str, ...]) -> Any | None:
        """The stored value, or None when there is none or it cannot be read (a damaged
        file is reported on stderr and then counts as missing, so the work is redone)."""
        path = self.find(kind, keys, ".json")
        if path is None:
            return self.archive.get_json(kind, keys) if self.archive is not None else None
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            print(f"cache: {path} cannot be read ({err}); computing it again", file=sys.stderr)
            return None
        if self.archive is not None and self.archive.find(kind, keys, ".json") is None:
            self.archive.put_json(kind, keys[0], value)
        return value

    def put_json(self, kind: str, key: str, value: Any) -> None:
        write_text_atomic(self.path(kind, key, ".json"), json.dumps(value, indent=1))
        if self.archive is not None:
            self.archive.put_json(kind, key, value)
