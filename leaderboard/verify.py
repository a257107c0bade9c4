"""Check a leaderboard folder: submissions valid, entries match their submissions and the
schema, all entries comparable, and the rendered tables exactly what the entries give."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from leaderboard.entries import (
    entry_paths,
    entry_problems,
    read_entry,
    scoring_versions,
    submission_paths,
    submissions_dir,
)
from leaderboard.protocol import PROTECTION_BAR
from leaderboard.ranking import rendered_files, scored_under
from leaderboard.submission import load_submission

RENDER_HINT = "run `python -m leaderboard render`"


def verify(root: Path, bar: float = PROTECTION_BAR) -> list[str]:
    """Every mismatch under `root`, one message each; [] when the folder is consistent.
    Submissions without an entry are fine (not scored yet)."""
    root = Path(root)
    problems: list[str] = []
    for path in submission_paths(root):
        try:
            load_submission(path)
        except ValueError as err:
            problems.append(str(err))
    entries: list[dict[str, Any]] = []
    for path in entry_paths(root):
        found = entry_mismatches(root, path)
        problems += [f"entries/{path.name}: {p}" for p in found]
        if not found:
            entries.append(read_entry(path))
    problems += comparability_problems(entries)
    for name, text in rendered_files(entries, bar).items():
        path = root / name
        if not path.is_file():
            problems.append(f"{name}: missing; {RENDER_HINT}")
        elif path.read_bytes() != text.encode("utf-8"):
            problems.append(f"{name}: differs from what the entries render to; {RENDER_HINT} (never edit it by hand)")
    return problems


def entry_mismatches(root: Path, path: Path) -> list[str]:
    """Schema problems of one entry file, and whether it matches its submission."""
    try:
        entry = read_entry(path)
    except ValueError as err:
        return [str(err)]
    problems = entry_problems(entry)
    if problems:
        return problems
    if entry["name"] != path.stem:
        return [f"name {entry['name']!r} must equal the file stem {path.stem!r}"]
    submission_path = submissions_dir(root) / f"{path.stem}.toml"
    if not submission_path.is_file():
        return [f"its submission {submission_path.relative_to(root)} does not exist"]
    raw = submission_path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    if sha != entry["submission_sha256"]:
        problems.append(f"submission_sha256 {entry['submission_sha256']} != {sha}, the SHA-256 of {submission_path.name}; rescore it")
    try:
        submission, _ = load_submission(submission_path)
    except ValueError:
        return problems  # reported with the submissions
    for key in ("budget", "description", "link"):
        if entry[key] != getattr(submission, key):
            problems.append(f"{key} differs from {submission_path.name}: {entry[key]!r} != {getattr(submission, key)!r}")
    if entry.get("generation", {}) != submission.generation:
        problems.append(f"generation differs from {submission_path.name}: {entry.get('generation', {})!r} != {submission.generation!r}")
    if entry["authors"] != list(submission.authors):
        problems.append(f"authors differ from {submission_path.name}: {entry['authors']!r} != {list(submission.authors)!r}")
    return problems


def comparability_problems(entries: list[dict[str, Any]]) -> list[str]:
    """Scorings under one protocol version (current or in `history`) must share its settings
    and data, or the ranking compares apples with oranges (e.g. one scored with --data-root on
    another copy of the set)."""
    problems = []
    for version in sorted(scoring_versions(entries)):
        same = scored_under(entries, version)
        for key in ("protocol_hash", "data_fingerprint"):
            groups: dict[str, list[str]] = {}
            for e in same:
                groups.setdefault(e[key], []).append(e["name"])
            if len(groups) > 1:
                listing = "; ".join(f"{value}: {', '.join(names)}" for value, names in sorted(groups.items()))
                problems.append(f"protocol version {version} entries disagree on {key} ({listing}); rescore them alike")
    return problems
