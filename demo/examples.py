"""The shipped examples: a few embedded test clips, protected ahead of time under each config.

`demo/build_assets.py` writes them as 16-bit FLAC under `assets/examples/` with an
`index.json` that records the budgets they were made with and their metrics, so the
"Listen and compare" tab only reads files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo.compare import Metrics
ASSETS_DIR = Path(__file__).resolve().parent / "assets"
EXAMPLES_DIR = ASSETS_DIR / "examples"
INDEX_FILE = EXAMPLES_DIR / "index.json"
CLEAN = "clean"
"""The config without noise: protected = clean."""
SHIPPED_CONFIGS = (CLEAN, "constant_008", "dynamic_013", "dynamic_018_inband")
"""Bench configs the examples are precomputed for (bench/configs/<name>.toml)."""


@dataclass(frozen=True)
class Example:
    """One example clip.

    Attributes:
        name: its embedded clip ID without extension, e.g. "yes/0a7c2a8d_nohash_0".
        word: its class.
        clean: path of the clean 1-s clip.
        protected: config name -> path of the protected clip (every config but clean).
        metrics: config name -> `pair_metrics` of (clean, protected file as shipped).
    """

    name: str
    word: str
    clean: Path
    protected: dict[str, Path]
    metrics: dict[str, Metrics]


@dataclass(frozen=True)
class ExampleIndex:
    """All shipped examples, the budget of each config ({} for clean) and the noise settings."""

    budgets: dict[str, dict[str, Any]]
    examples: tuple[Example, ...]
    noise: dict[str, Any]

    def example(self, name: str) -> Example:
        """The example called `name`; ValueError listing the known ones otherwise."""
        for example in self.examples:
            if example.name == name:
                return example
        known = ", ".join(e.name for e in self.examples)
        raise ValueError(f"unknown example {name!r}; expected one of: {known}")


def read_index(path: Path = INDEX_FILE) -> ExampleIndex:
    """Read `index.json`; file names in it are relative to its folder.

    Raises ValueError when it is missing (run `python -m demo.build_assets`).
    """
    if not path.is_file():
        raise ValueError(f"example index {path} is missing; build it with `python -m demo.build_assets`")
    data = json.loads(path.read_text(encoding="utf-8"))
    folder = path.parent
    examples = tuple(
        Example(
            name=clip["name"],
            word=clip["word"],
            clean=folder / clip["clean"],
            protected={config: folder / file for config, file in clip["protected"].items()},
            metrics=clip["metrics"],
        )
        for clip in data["clips"]
    )
    return ExampleIndex(budgets=data["budgets"], examples=examples, noise=data["noise"])
