"""The scoring protocol: `protocol.toml` (data) + a submission's budget -> one BenchConfig.

The protocol is a bench config that includes `bench/configs/_base.toml`, read through
`bench.config`, so generation settings live in one place and the cache is shared with
bench runs (a submission equal to a bench config reuses its noise and victims).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.config import BenchConfig
from core.config import from_dict, read_merged
from core.data.ten_words import ten_words_root
from core.hashing import stable_hash

PROTOCOL_VERSION = 2
"""The protocol this code implements; every entry records the version it was scored under.
Version 1 (M5 and the log-mel CNN, without a thief and after resampling) lives on in entries'
`history` and in the rendered tables' superseded section."""
KNOWN_VERSIONS = (1, 2)
PROTECTION_BAR = 0.25
"""The worst-case peak accuracy an entry must not exceed to be ranked: the best thief stays
within 15 points of chance (10%) while clean victims reach 81-86%. Ranked entries are then
ordered by how little they are heard (leaderboard/README.md, "Ranking rule")."""


def protects(worst_case_peak: float, bar: float = PROTECTION_BAR) -> bool:
    """Whether a worst-case peak clears the bar (inclusive: exactly at the bar protects)."""
    return worst_case_peak <= bar


PROTOCOL_FILE = Path(__file__).with_name("protocol.toml")
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = REPO_ROOT / "runs" / "cache"
"""The bench's cache, so noise and victims computed by bench runs are reused."""

QUICK: dict[str, dict[str, Any]] = {
    "data": {"source": "embedded", "root": "", "max_train_per_class": 4, "max_test_per_class": 2},
    "generation": {"steps": 2, "train_steps": 2, "min_rounds": 1, "max_rounds": 1},
    "victims": {"epochs": 1},
    "metrics": {"max_perceptual_clips": 4},
}
"""Smoke-test overrides (the embedded sample, 4 + 2 clips per class, 1 round, 1 epoch):
seconds on a CPU, meaningless numbers. Never used for the real leaderboard."""


def protocol_data(path: Path = PROTOCOL_FILE) -> dict[str, Any]:
    """The protocol file merged with its include, without the `[protocol]` table; raises
    ValueError when the file's version is not the one this code implements."""
    data = read_merged(path)
    meta = data.pop("protocol", {})
    if meta != {"version": PROTOCOL_VERSION}:
        raise ValueError(
            f"{path}: [protocol] must be exactly {{version = {PROTOCOL_VERSION}}} for this code, got {meta!r}"
        )
    return data


def protocol_config(
    budget: dict[str, Any],
    generation: dict[str, Any] | None = None,
    data_root: str | Path | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    path: Path = PROTOCOL_FILE,
    repo_root: Path = REPO_ROOT,
) -> BenchConfig:
    """The BenchConfig that scores `budget`.

    Args:
        budget: a validated submission's `[budget]` table.
        generation: its `[generation]` choices, merged over the protocol's recipe.
        data_root: the 10-word set's folder (relative: to `repo_root`); None finds it
            (core.data.ten_words.ten_words_root; scoring checks it is there).
        overrides: {section: {key: value}} merged into the protocol (tests: QUICK).
        path: the protocol file.
        repo_root: what a relative data root is relative to.
    """
    data = protocol_data(path)
    for section, values in (overrides or {}).items():
        data[section] = {**data.get(section, {}), **values}
    if data_root is not None or data["data"]["source"] == "speech_commands":
        root = ten_words_root(data_root)
        root = root if root.is_absolute() else (repo_root / root).resolve()
        data["data"] = {**data["data"], "source": "speech_commands", "root": str(root)}
    data["budget"] = budget
    data["generation"] = {**data["generation"], **(generation or {})}
    return from_dict(BenchConfig, data, "")


def protocol_hash(cfg: BenchConfig) -> str:
    """Hash of the scoring settings (not the budget, not where the data folder is): entries
    with equal hashes and data fingerprints were scored the same way. Pass the config made
    without a submission's generation choices: those are the submission's, not the protocol's."""
    settings = cfg.to_dict()
    for key in ("name", "description", "budget"):
        settings.pop(key)
    settings["data"].pop("root")
    return stable_hash(settings)
