"""A content-addressed cache of finished work (noise, victim results), so an interrupted
or repeated run reuses what is done. Keys are hashes of everything the result depends on."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class Cache:
    """JSON results under root/<kind>/<key>.json and tensor files under root/<kind>/<key>.pt."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / f"{key}{suffix}"

    def get_json(self, kind: str, key: str) -> Any | None:
        path = self.path(kind, key, ".json")
        if not path.is_file():
            return None
        return json.loads(path.read_text())

    def put_json(self, kind: str, key: str, value: Any) -> None:
        write_text_atomic(self.path(kind, key, ".json"), json.dumps(value, indent=1))


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
