"""Submissions: a small TOML file naming a budget, validated with every problem reported.

A submission is data only: it is parsed as TOML, never executed or unpickled. Validation
collects every problem (with its field path) before raising one ValueError, so a submitter
fixes the file in one pass instead of one error per try.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.budgets import band_limit_problem, budget_from_dict, table_problems
from core.budgets.segment_mask import LEVELS
from core.models import surrogate_names
from core.numbers import is_finite_number
from core.registry import Registry

MAX_FILE_BYTES = 64 * 1024
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
CLEAN_REFERENCE = "clean_reference"
"""The only submission allowed a `kind = "none"` budget (no noise: the clean baseline)."""
EPS_LIMIT = 0.25
MAX_ROWS = 16
SEGMENT_SAMPLES_RANGE = (80, 16000)
MAX_TEXT_CHARS = 2000
MARGIN_DB_LIMIT = 60
MAX_ITERATIONS = 10
"""A masking budget's projection passes per step: each pass is an STFT round trip of every
noise batch, so more would blow the protocol's time budget."""

TOP_REQUIRED = {"name", "authors", "description", "budget"}
TOP_OPTIONAL = {"link", "generation"}
MAX_REM_STEPS = 4
"""REM's inner PGD steps: each costs one more forward and backward pass per noise step."""
GENERATION_CHOICES = ("augment", "rem_radius", "rem_steps", "surrogate")
"""The generation options a submission may choose (MinMinConfig's augment, rem_radius and
rem_steps, and the surrogate; left out, the protocol's base recipe). Victims, thieves and data
stay the protocol's, so every entry's scores stay comparable."""


@dataclass(frozen=True)
class Submission:
    """A validated submission; `budget` is the TOML `[budget]` table as written."""

    name: str
    authors: tuple[str, ...]
    description: str
    link: str | None
    budget: dict[str, Any]
    generation: dict[str, Any] = field(default_factory=dict)


def load_submission(path: str | Path) -> tuple[Submission, bytes]:
    """Read and validate a submission file; returns it with the exact bytes read.

    Raises ValueError listing every problem, one per line, each naming its field.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"submission file {path} does not exist")
    raw = path.read_bytes()
    data, problems = parse_bytes(raw)
    if data is not None:
        problems = submission_problems(data, path.name.removesuffix(".toml"))
    if problems:
        raise ValueError(format_problems(f"submission {path}", problems))
    return from_data(data), raw


def parse_bytes(raw: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    """(TOML data, []) or (None, [the one reason the bytes are not a readable submission])."""
    if len(raw) > MAX_FILE_BYTES:
        return None, [f"file: must be at most {MAX_FILE_BYTES} bytes, got {len(raw)}"]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return None, [f"file: must be UTF-8 text, got an invalid byte at offset {err.start}"]
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as err:
        return None, [f"file: must be valid TOML, got: {err}"]


def format_problems(what: str, problems: list[str]) -> str:
    return f"{what} has {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems)


def from_data(data: dict[str, Any]) -> Submission:
    return Submission(
        name=data["name"],
        authors=tuple(data["authors"]),
        description=data["description"],
        link=data.get("link"),
        budget=data["budget"],
        generation=data.get("generation", {}),
    )


def submission_problems(data: dict[str, Any], stem: str | None = None) -> list[str]:
    """Every problem with parsed submission data; [] when valid. `stem`: the file name
    without `.toml`, which must equal `name` (None skips that check)."""
    problems = key_problems(data, "", TOP_REQUIRED, TOP_OPTIONAL)
    name = data.get("name")
    if "name" in data:
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            problems.append(f"name: must match {NAME_PATTERN.pattern} (a safe file name), got {name!r}")
        elif stem is not None and name != stem:
            problems.append(f"name: must equal the file name stem {stem!r}, got {name!r}")
    if "authors" in data:
        authors = data["authors"]
        if not isinstance(authors, list) or not authors:
            problems.append(f"authors: must be a non-empty list of strings, got {authors!r}")
        else:
            for i, author in enumerate(authors):
                problems += text_problems(f"authors[{i}]", author, max_chars=200)
    if "description" in data:
        problems += text_problems("description", data["description"], MAX_TEXT_CHARS)
    if "link" in data:
        link = data["link"]
        problems += text_problems("link", link, max_chars=500)
        if isinstance(link, str) and not link.startswith(("https://", "http://")):
            problems.append(f"link: must start with https:// or http://, got {link!r}")
    if "budget" in data:
        problems += budget_problems(data["budget"], name)
    if "generation" in data:
        problems += generation_problems(data["generation"], data.get("budget"))
    return problems


def generation_problems(generation: Any, budget: Any = None) -> list[str]:
    """Every problem with a `[generation]` table (see GENERATION_CHOICES); `budget` bounds
    REM's radius when it is a valid table."""
    if not isinstance(generation, dict):
        return [f"generation: must be a table, got {generation!r}"]
    problems = key_problems(generation, "generation.", set(), set(GENERATION_CHOICES))
    if isinstance(budget, dict) and budget.get("kind") == "none" and generation:
        problems.append("generation: a kind = \"none\" budget makes no noise; remove [generation]")
    if "augment" in generation and not isinstance(generation["augment"], bool):
        problems.append(f"generation.augment: must be true or false, got {generation['augment']!r}")
    if "rem_radius" in generation:
        radius, bound = generation["rem_radius"], _bound(budget)
        if not is_finite_number(radius) or not 0.0 <= radius < (bound if bound is not None else EPS_LIMIT):
            limit = f"the budget's bound {bound:g}" if bound is not None else EPS_LIMIT
            problems.append(f"generation.rem_radius: must be a number with 0 <= rem_radius < {limit}, got {radius!r}")
    if "rem_steps" in generation:
        steps = generation["rem_steps"]
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_REM_STEPS:
            problems.append(f"generation.rem_steps: must be an integer in 1..{MAX_REM_STEPS}, got {steps!r}")
    if "surrogate" in generation:
        surrogate = generation["surrogate"]
        try:
            if not isinstance(surrogate, str):
                raise ValueError(f"must be a string, got {surrogate!r}")
            surrogate_names(surrogate)
        except ValueError as err:
            problems.append(f"generation.surrogate: {err}")
    return problems


def _bound(budget: Any) -> float | None:
    """A budget table's largest |delta| (eps or eps_max) when it names a usable one."""
    if not isinstance(budget, dict):
        return None
    bound = budget.get("eps_max", budget.get("eps"))
    return float(bound) if is_finite_number(bound) and bound > 0 else None


def budget_problems(budget: Any, name: Any = None) -> list[str]:
    """Every problem with a `[budget]` table; `name` is the submission's (for kind none)."""
    if not isinstance(budget, dict):
        return [f"budget: must be a table, got {budget!r}"]
    kind = budget.get("kind")
    if "kind" not in budget:
        return [f"budget.kind: missing; expected one of {CHECKS.names()}"]
    if not isinstance(kind, str) or kind not in CHECKS:
        return [f"budget.kind: must be one of {CHECKS.names()}, got {kind!r}"]
    problems = CHECKS.get(kind)(budget)
    if kind == "none" and name != CLEAN_REFERENCE:
        problems.append(f"budget.kind: 'none' is reserved for the {CLEAN_REFERENCE!r} submission, got name {name!r}")
    if not problems and kind != "none":
        try:
            budget_from_dict(budget)  # the library agrees: the bench will accept it
        except ValueError as err:
            problems.append(f"budget: {err}")
    return problems


CHECKS: Registry[Callable[[dict[str, Any]], list[str]]] = Registry("budget kind")


@CHECKS.register("none")
def _none(budget: dict[str, Any]) -> list[str]:
    return key_problems(budget, "budget.", {"kind"}, set())


@CHECKS.register("constant")
def _constant(budget: dict[str, Any]) -> list[str]:
    return key_problems(budget, "budget.", {"kind", "eps"}, {"band_limit_hz"}) + field_problems(budget)


@CHECKS.register("segment_mask")
def _segment_mask(budget: dict[str, Any]) -> list[str]:
    required = {"kind", "rows", "eps_max", "segment_samples", "level"}
    return key_problems(budget, "budget.", required, {"band_limit_hz"}) + field_problems(budget)


@CHECKS.register("envelope")
def _envelope(budget: dict[str, Any]) -> list[str]:
    optional = {"rows", "window_samples", "band_limit_hz"}
    return key_problems(budget, "budget.", {"kind", "eps_max"}, optional) + field_problems(budget)


@CHECKS.register("masking")
def _masking(budget: dict[str, Any]) -> list[str]:
    optional = {"eps_max", "iterations", "band_limit_hz"}
    return key_problems(budget, "budget.", {"kind", "margin_db"}, optional) + field_problems(budget)


def field_problems(budget: dict[str, Any]) -> list[str]:
    """Each present field checked by its rule in FIELD_CHECKS: a field has one rule in every
    budget kind that takes it (which kind takes which field is `key_problems`' business)."""
    return [p for key, check in FIELD_CHECKS.items() if key in budget for p in check(budget[key])]


def margin_problems(margin: Any) -> list[str]:
    if not is_finite_number(margin) or not -MARGIN_DB_LIMIT <= margin <= MARGIN_DB_LIMIT:
        return [f"budget.margin_db: must be a number of dB in [-{MARGIN_DB_LIMIT}, {MARGIN_DB_LIMIT}], got {margin!r}"]
    return []


def iterations_problems(n: Any) -> list[str]:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_ITERATIONS:
        return [f"budget.iterations: must be an integer in 1..{MAX_ITERATIONS} (projection passes per step), got {n!r}"]
    return []


def level_problems(level: Any) -> list[str]:
    return [] if level in LEVELS else [f"budget.level: must be one of {list(LEVELS)}, got {level!r}"]


def samples_problems(field: str, n: Any) -> list[str]:
    lo, hi = SEGMENT_SAMPLES_RANGE
    if isinstance(n, bool) or not isinstance(n, int) or not lo <= n <= hi:
        return [f"{field}: must be an integer in {lo}..{hi}, got {n!r}"]
    return []


def band_problems(band_limit_hz: Any) -> list[str]:
    """`band_limit_hz`, checked by core's rule."""
    problem = band_limit_problem(band_limit_hz)
    return [] if problem is None else [f"budget.band_limit_hz: {problem}"]


def rows_problems(rows: Any) -> list[str]:
    """Row structure here; threshold/mask values via core's `table_problems` (one rule set)."""
    if not isinstance(rows, list):
        return [f"budget.rows: must be a list of {{threshold, mask}} tables, got {rows!r}"]
    problems = []
    if not 1 <= len(rows) <= MAX_ROWS:
        problems.append(f"budget.rows: must hold 1 to {MAX_ROWS} rows, got {len(rows)}")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            problems.append(f"budget.rows[{i}]: must be a table {{threshold, mask}}, got {row!r}")
        else:
            problems += key_problems(row, f"budget.rows[{i}].", {"threshold", "mask"}, set())
    if problems or not rows:
        return problems  # values are only comparable once every row has both keys
    found = table_problems(tuple(r["threshold"] for r in rows), tuple(r["mask"] for r in rows))
    return [_with_path(p) for p in found]


def _with_path(problem: str) -> str:
    """core's 'rows[1].mask must be ...' -> 'budget.rows[1].mask: must be ...'."""
    if problem.startswith("rows["):
        field, rest = problem.split(" ", 1)
        return f"budget.{field}: {rest}"
    return f"budget.rows: {problem}"


def key_problems(data: dict[str, Any], where: str, required: set[str], optional: set[str]) -> list[str]:
    """Missing and unknown keys of one table, each named with its path."""
    allowed = sorted(required | optional)
    problems = [f"{where}{k}: missing (required)" for k in sorted(required - set(data))]
    problems += [f"{where}{k}: unknown key; allowed: {allowed}" for k in sorted(set(data) - required - optional)]
    return problems


def text_problems(field: str, value: Any, max_chars: int) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return [f"{field}: must be a non-empty string, got {value!r}"]
    if len(value) > max_chars:
        return [f"{field}: must be at most {max_chars} characters, got {len(value)}"]
    return []


def eps_problems(field: str, value: Any) -> list[str]:
    if not is_finite_number(value) or not 0.0 < value <= EPS_LIMIT:
        return [f"{field}: must be a number with 0 < {field.split('.')[-1]} <= {EPS_LIMIT}, got {value!r}"]
    return []


FIELD_CHECKS: dict[str, Callable[[Any], list[str]]] = {
    "eps": lambda v: eps_problems("budget.eps", v),
    "eps_max": lambda v: eps_problems("budget.eps_max", v),
    "segment_samples": lambda v: samples_problems("budget.segment_samples", v),
    "window_samples": lambda v: samples_problems("budget.window_samples", v),
    "level": level_problems,
    "rows": rows_problems,
    "margin_db": margin_problems,
    "iterations": iterations_problems,
    "band_limit_hz": band_problems,
}
"""The rule of every budget field a submission may hold, by name."""
