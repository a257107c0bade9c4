"""Entries: one JSON file per scored submission; their schema check and the folder layout.

Numbers are JSON numbers, never strings; the only nulls are a clean reference's perceptual
figures (there is no noise to score) and empty amplitude bands. An entry's top-level scoring
fields are its latest scoring; scorings under earlier protocol versions are kept, whole, in
`history` (oldest first), so a protocol change never overwrites a published figure.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.atomic import write_text_atomic
from core.numbers import is_finite_number
from leaderboard.protocol import KNOWN_VERSIONS
from leaderboard.submission import NAME_PATTERN, budget_problems, generation_problems

LEADERBOARD_ROOT = Path(__file__).resolve().parent
"""The real leaderboard folder. Every function takes its root as an argument; tests pass tmp_path."""

SCORING_KEYS = (
    "scores", "protocol_version", "protocol_hash", "package_version", "git_commit",
    "data_fingerprint", "date", "scoring_seconds", "device",
)  # fmt: skip
"""One scoring: what `history` keeps of each earlier protocol version's run."""
ENTRY_KEYS = ("name", "authors", "description", "link", "budget", "submission_sha256", *SCORING_KEYS)
OPTIONAL_KEYS = ("generation", "history", "computed")
"""`generation`: the submission's generation choices, when it made any; `computed` (required
from protocol 2): where the figures were computed, see `computed_problems`."""
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


def scoring_of(entry: dict[str, Any], version: int) -> dict[str, Any] | None:
    """The entry as it stood under protocol `version`: its identity with that version's
    scoring (the current one or one from `history`); None if it was never scored so."""
    if entry["protocol_version"] == version:
        return entry
    for old in entry.get("history", []):
        if old["protocol_version"] == version:
            return {**{k: v for k, v in entry.items() if k not in (*SCORING_KEYS, "history", "computed")}, **old}
    return None


def scoring_versions(entries: list[dict[str, Any]]) -> list[int]:
    """Every protocol version any entry was scored under, newest first."""
    found = {e["protocol_version"] for e in entries} | {h["protocol_version"] for e in entries for h in e.get("history", [])}
    return sorted(found, reverse=True)


def entry_problems(entry: Any) -> list[str]:
    """Every schema problem of one entry (keys, types, numbers as numbers); [] when valid."""
    if not isinstance(entry, dict):
        return [f"entry: must be a JSON object, got {type(entry).__name__}"]
    clean = isinstance(entry.get("budget"), dict) and entry["budget"].get("kind") == "none"
    problems = exact_keys(entry, "", ENTRY_KEYS, OPTIONAL_KEYS)
    problems += scoring_problems(entry, "", clean)
    if isinstance(entry.get("protocol_version"), int) and entry["protocol_version"] >= 2 and "computed" not in entry:
        problems.append("computed: missing (required from protocol version 2)")
    if "computed" in entry:
        problems += computed_problems(entry["computed"])
    history = entry.get("history", [])
    if not isinstance(history, list):
        problems.append(f"history: must be a list of earlier scorings, got {history!r}")
        history = []
    versions = []
    for where, old in each_object(history, "history", SCORING_KEYS, problems):
        problems += scoring_problems(old, where, clean)
        versions.append(old.get("protocol_version"))
    if isinstance(entry.get("protocol_version"), int) and all(isinstance(v, int) for v in versions):
        if versions != sorted(set(versions)) or (versions and versions[-1] >= entry["protocol_version"]):
            problems.append(f"history: versions must rise, each below the current {entry['protocol_version']}, got {versions}")
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
    if "generation" in entry:
        problems += generation_problems(entry["generation"], entry.get("budget"))
    check.pattern("submission_sha256", HEX64)
    return problems


def scoring_problems(scoring: dict[str, Any], where: str, clean: bool) -> list[str]:
    """The fields of one scoring (an entry's own, or one in its `history`)."""
    problems: list[str] = []
    check = _Checker(scoring, where, problems)
    check.of("protocol_version", int)
    if isinstance(scoring.get("protocol_version"), int) and scoring["protocol_version"] not in KNOWN_VERSIONS:
        problems.append(f"{where}protocol_version: must be one of {KNOWN_VERSIONS}, got {scoring['protocol_version']}")
    check.pattern("protocol_hash", HEX16)
    check.of("package_version", str)
    check.of("git_commit", str, nullable=True)
    check.pattern("data_fingerprint", HEX16)
    check.of("date", str)
    if isinstance(scoring.get("date"), str):
        try:
            datetime.fromisoformat(scoring["date"])
        except ValueError:
            problems.append(f"{where}date: must be an ISO 8601 date-time, got {scoring['date']!r}")
    check.number("scoring_seconds", low=0.0)
    check.of("device", str)
    if "scores" in scoring:
        problems += [where + p for p in scores_problems(scoring["scores"], clean)]
    return problems


COMPUTED_KEYS = ("noise", "victims")


def computed_problems(computed: Any) -> list[str]:
    """`computed`: {"noise": context or null (no noise), "victims": [distinct contexts]}, each
    context as bench.run.computed_on writes it (device kind, torch version, threads, ...):
    where the figures came from, which may be a cache filled by an earlier run."""
    if not isinstance(computed, dict):
        return [f"computed: must be an object, got {computed!r}"]
    problems = exact_keys(computed, "computed.", COMPUTED_KEYS)
    contexts = ([computed["noise"]] if computed.get("noise") is not None else []) + list(computed.get("victims") or [])
    if not isinstance(computed.get("victims"), list) or not computed["victims"]:
        problems.append(f"computed.victims: must be a non-empty list, got {computed.get('victims')!r}")
    for context in contexts:
        if not isinstance(context, dict) or not isinstance(context.get("device"), str) or not isinstance(context.get("torch"), str):
            problems.append(f"computed: each context needs 'device' and 'torch' strings, got {context!r}")
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
    for where, band in each_object(bands, "scores.band_snr_db", BAND_KEYS, problems):
        band_check = _Checker(band, where, problems)
        band_check.of("label", str)
        band_check.number("lower", nullable=True)
        band_check.number("upper", nullable=True)
        band_check.of("segments", int)
        band_check.number("snr_db", nullable=True)
    return problems


def each_object(
    items: list[Any], where: str, keys: tuple[str, ...], problems: list[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path prefix, item) for each item of a list that must hold objects with exactly
    `keys`; a non-object or a key problem is appended to `problems`."""
    for i, item in enumerate(items):
        at = f"{where}[{i}]."
        if not isinstance(item, dict):
            problems.append(f"{at[:-1]}: must be an object, got {item!r}")
            continue
        problems += exact_keys(item, at, keys)
        yield at, item


def exact_keys(data: dict[str, Any], where: str, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[str]:
    problems = [f"{where}{k}: missing" for k in keys if k not in data]
    allowed = set(keys) | set(optional)
    return problems + [f"{where}{k}: unknown key; expected {list(keys) + list(optional)}" for k in sorted(set(data) - allowed)]


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
