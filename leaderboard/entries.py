"""Entries: one JSON file per scored submission; their schema check and the folder layout.

Numbers are JSON numbers, never strings; the only nulls are a clean reference's perceptual
figures (there is no noise to score) and empty amplitude bands.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from core.atomic import write_text_atomic
from core.numbers import is_finite_number
from leaderboard.protocol import KNOWN_VERSIONS
from leaderboard.submission import NAME_PATTERN, budget_problems

LEADERBOARD_ROOT = Path(__file__).resolve().parent
"""The real leaderboard folder. Every function takes its root as an argument; tests pass tmp_path."""

ENTRY_KEYS = (
    "name", "authors", "description", "link", "budget", "scores", "protocol_version",
    "protocol_hash", "submission_sha256", "package_version", "git_commit", "data_fingerprint",
    "date", "scoring_seconds", "device",
)  # fmt: skip
SCORE_KEYS = ("accuracy", "worst_case_peak", "pesq_wb_mean", "stoi_mean", "snr_db_median", "band_snr_db")
ACCURACY_KEYS = ("victim", "defense", "seed", "peak", "final")
BAND_KEYS = ("label", "lower", "upper", "segments", "snr_db")
HEX16, HEX64 = re.compile(r"^[0-9a-f]{16}$"), re.compile(r"^[0-9a-f]{64}$")


def submissions_dir(root: Path) -> Path:
    return Path(root) / "submissions"


def entries_dir(root: Path) -> Path:
    return Path(root) / "entries"


def submission_paths(root: Path) -> list[Path]:
    """Every `submissions/*.toml` (TEMPLATE.toml.example does not match)."""
    return sorted(submissions_dir(root).glob("*.toml"))


def entry_paths(root: Path) -> list[Path]:
    return sorted(entries_dir(root).glob("*.json"))


def read_entry(path: Path) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"entry {path} is not valid UTF-8 JSON: {err}") from None


def valid_entries(root: Path) -> list[dict[str, Any]]:
    """Every entry under `root`; raises ValueError naming each invalid one (nothing renders
    from a half-valid folder)."""
    entries, problems = [], []
    for path in entry_paths(root):
        entry = read_entry(path)
        problems += [f"{path.name}: {p}" for p in entry_problems(entry)]
        entries.append(entry)
    if problems:
        raise ValueError("invalid entries:\n" + "\n".join(f"  - {p}" for p in problems))
    return entries


def write_entry(root: Path, entry: dict[str, Any]) -> Path:
    """Write entries/<name>.json atomically; refuses an entry that fails the schema."""
    problems = entry_problems(entry)
    if problems:
        raise ValueError("refusing to write an invalid entry:\n" + "\n".join(f"  - {p}" for p in problems))
    path = entries_dir(root) / f"{entry['name']}.json"
    write_text_atomic(path, json.dumps(entry, indent=1, ensure_ascii=False) + "\n")
    return path


def worst_case_peak(accuracy: list[dict[str, Any]]) -> float:
    """Max over (victim, defense) of the peak accuracy averaged over seeds."""
    groups: dict[tuple[str, str], list[float]] = {}
    for row in accuracy:
        groups.setdefault((row["victim"], row["defense"]), []).append(row["peak"])
    return max(sum(v) / len(v) for v in groups.values())


def entry_problems(entry: Any) -> list[str]:
    """Every schema problem of one entry (keys, types, numbers as numbers); [] when valid."""
    if not isinstance(entry, dict):
        return [f"entry: must be a JSON object, got {type(entry).__name__}"]
    problems = exact_keys(entry, "", ENTRY_KEYS)
    check = _Checker(entry, "", problems)
    if isinstance(entry.get("name"), str) and not NAME_PATTERN.fullmatch(entry["name"]):
        problems.append(f"name: must match {NAME_PATTERN.pattern}, got {entry['name']!r}")
    check.of("name", str)
    authors = entry.get("authors")
    if "authors" in entry and not (isinstance(authors, list) and authors and all(isinstance(a, str) for a in authors)):
        problems.append(f"authors: must be a non-empty list of strings, got {authors!r}")
    check.of("description", str)
    check.of("link", str, nullable=True)
    if "budget" in entry:
        problems += budget_problems(entry["budget"], entry.get("name"))
    check.of("protocol_version", int)
    if isinstance(entry.get("protocol_version"), int) and entry["protocol_version"] not in KNOWN_VERSIONS:
        problems.append(f"protocol_version: must be one of {KNOWN_VERSIONS}, got {entry['protocol_version']}")
    check.pattern("protocol_hash", HEX16)
    check.pattern("submission_sha256", HEX64)
    check.of("package_version", str)
    check.of("git_commit", str, nullable=True)
    check.pattern("data_fingerprint", HEX16)
    check.of("date", str)
    if isinstance(entry.get("date"), str):
        try:
            datetime.fromisoformat(entry["date"])
        except ValueError:
            problems.append(f"date: must be an ISO 8601 date-time, got {entry['date']!r}")
    check.number("scoring_seconds", low=0.0)
    check.of("device", str)
    if "scores" in entry:
        budget = entry.get("budget")
        problems += scores_problems(entry["scores"], clean=isinstance(budget, dict) and budget.get("kind") == "none")
    return problems


def scores_problems(scores: Any, clean: bool) -> list[str]:
    """The `scores` object; perceptual figures may be null only for a clean reference."""
    if not isinstance(scores, dict):
        return [f"scores: must be an object, got {scores!r}"]
    problems = exact_keys(scores, "scores.", SCORE_KEYS)
    check = _Checker(scores, "scores.", problems)
    accuracy = scores.get("accuracy")
    if not isinstance(accuracy, list) or not accuracy:
        problems.append(f"scores.accuracy: must be a non-empty list, got {accuracy!r}")
        accuracy = []
    rows_ok = True
    for i, row in enumerate(accuracy):
        where = f"scores.accuracy[{i}]."
        if not isinstance(row, dict):
            problems.append(f"{where[:-1]}: must be an object, got {row!r}")
            rows_ok = False
            continue
        before = len(problems)
        problems += exact_keys(row, where, ACCURACY_KEYS)
        row_check = _Checker(row, where, problems)
        row_check.of("victim", str)
        row_check.of("defense", str)
        row_check.of("seed", int)
        row_check.number("peak", 0.0, 1.0)
        row_check.number("final", 0.0, 1.0)
        rows_ok = rows_ok and len(problems) == before
    check.number("worst_case_peak", 0.0, 1.0)
    if rows_ok and accuracy and is_number(scores.get("worst_case_peak")):
        expected = worst_case_peak(accuracy)
        if not math.isclose(scores["worst_case_peak"], expected, rel_tol=0, abs_tol=1e-12):
            problems.append(f"scores.worst_case_peak: must equal the max peak over victims x defenses ({expected!r}), got {scores['worst_case_peak']!r}")
    check.number("pesq_wb_mean", nullable=clean)
    check.number("stoi_mean", nullable=clean)
    check.number("snr_db_median", nullable=clean)
    bands = scores.get("band_snr_db")
    if not isinstance(bands, list):
        problems.append(f"scores.band_snr_db: must be a list, got {bands!r}")
        bands = []
    for i, band in enumerate(bands):
        where = f"scores.band_snr_db[{i}]."
        if not isinstance(band, dict):
            problems.append(f"{where[:-1]}: must be an object, got {band!r}")
            continue
        problems += exact_keys(band, where, BAND_KEYS)
        band_check = _Checker(band, where, problems)
        band_check.of("label", str)
        band_check.number("lower", nullable=True)
        band_check.number("upper", nullable=True)
        band_check.of("segments", int)
        band_check.number("snr_db", nullable=True)
    return problems


def exact_keys(data: dict[str, Any], where: str, keys: tuple[str, ...]) -> list[str]:
    problems = [f"{where}{k}: missing" for k in keys if k not in data]
    return problems + [f"{where}{k}: unknown key; expected {list(keys)}" for k in sorted(set(data) - set(keys))]


def is_number(value: Any) -> bool:
    return is_finite_number(value)


class _Checker:
    """Appends a problem for each present field of `data` that has the wrong type."""

    def __init__(self, data: dict[str, Any], where: str, problems: list[str]) -> None:
        self.data, self.where, self.problems = data, where, problems

    def of(self, key: str, kind: type, nullable: bool = False) -> None:
        if key not in self.data or (nullable and self.data[key] is None):
            return
        value = self.data[key]
        if type(value) is not kind:
            self.problems.append(f"{self.where}{key}: must be {kind.__name__}{' or null' if nullable else ''}, got {value!r}")

    def pattern(self, key: str, regex: re.Pattern[str]) -> None:
        value = self.data.get(key)
        if key in self.data and (not isinstance(value, str) or not regex.fullmatch(value)):
            self.problems.append(f"{self.where}{key}: must match {regex.pattern}, got {value!r}")

    def number(self, key: str, low: float = -math.inf, high: float = math.inf, nullable: bool = False) -> None:
        if key not in self.data or (nullable and self.data[key] is None):
            return
        value = self.data[key]
        if not is_number(value) or not low <= value <= high:
            bounds = "" if (low, high) == (-math.inf, math.inf) else f" in [{low}, {high}]"
            self.problems.append(f"{self.where}{key}: must be a finite number{bounds}{' or null' if nullable else ''}, got {value!r}")
