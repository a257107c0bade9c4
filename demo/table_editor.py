"""The mask table editor's data: editor rows -> a budget table -> a leaderboard submission TOML.

Validation is the leaderboard's own (`leaderboard.submission`), so what the editor accepts
is exactly what `python -m leaderboard validate` accepts; this module only converts the
editor's cells and writes the TOML text (tomllib reads TOML but does not write it).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from core.budgets import PAPER_TABLE

COLUMNS = ("threshold", "mask")


def paper_rows() -> list[list[float]]:
    """The paper's Table 1 as editor rows [[threshold, mask], ...]."""
    return [[t, m] for t, m in zip(PAPER_TABLE.thresholds, PAPER_TABLE.masks)]


def _cell(value: Any) -> Any:
    """A number from an editor cell (numbers, numeric text); None for an empty cell; other
    text unchanged, so the validator names it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            return text
    if hasattr(value, "item"):  # numpy scalars from the DataFrame
        value = value.item()
    return value


def rows_from_frame(frame: pd.DataFrame | list[list[Any]] | None) -> list[dict[str, Any]]:
    """Editor rows as `[{threshold, mask}, ...]`; rows with both cells empty are dropped,
    a row with one empty cell keeps None there (the validator reports it)."""
    if frame is None:
        return []
    records = frame.values.tolist() if isinstance(frame, pd.DataFrame) else frame
    rows = []
    for record in records:
        cells = [_cell(v) for v in list(record)[: len(COLUMNS)]]
        cells += [None] * (len(COLUMNS) - len(cells))
        if any(c is not None for c in cells):
            rows.append(dict(zip(COLUMNS, cells)))
    return rows


def _integer(value: Any) -> Any:
    """Integral floats (gr.Number gives floats) as int; anything else unchanged."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def table_budget(rows: list[dict[str, Any]], eps_max: Any, segment_samples: Any, level: Any) -> dict[str, Any]:
    """The `[budget]` table of a segment mask submission (unvalidated)."""
    return {
        "kind": "segment_mask",
        "eps_max": eps_max,
        "segment_samples": _integer(segment_samples),
        "level": level,
        "rows": rows,
    }


def submission_data(name: str, authors: str, description: str, link: str, budget: dict[str, Any]) -> dict[str, Any]:
    """Submission data from the form: authors comma-separated, an empty link left out."""
    data = {
        "name": (name or "").strip(),
        "authors": [a.strip() for a in (authors or "").split(",") if a.strip()],
        "description": (description or "").strip(),
        "budget": budget,
    }
    if (link or "").strip():
        data["link"] = link.strip()
    return data


def _toml_value(value: Any) -> str:
    """A TOML literal. JSON string escapes (\\", \\\\, \\n, \\uXXXX) are valid TOML basic
    strings, and repr() of a finite float (0.1, 1e-05) is a valid TOML float."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"TOML submissions hold finite numbers only, got {value!r}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise ValueError(f"cannot write {value!r} ({type(value).__name__}) into a submission")


def submission_toml(data: dict[str, Any]) -> str:
    """The TOML text of valid submission data, laid out like the template."""
    lines = [
        "# Exported by the unlearnable-audio demo's mask table editor.",
        "# Check and score it with: python -m leaderboard validate / submit <this file>",
        f"name = {_toml_value(data['name'])}",
        f"authors = [{', '.join(_toml_value(a) for a in data['authors'])}]",
        f"description = {_toml_value(data['description'])}",
    ]
    if "link" in data:
        lines.append(f"link = {_toml_value(data['link'])}")
    budget = data["budget"]
    lines += ["", "[budget]"]
    keys = ("kind", "eps_max", "segment_samples", "level", "band_limit_hz")
    lines += [f"{key} = {_toml_value(budget[key])}" for key in keys if key in budget]
    lines.append("rows = [")
    for row in budget["rows"]:
        lines.append(f"  {{ threshold = {_toml_value(row['threshold'])}, mask = {_toml_value(row['mask'])} }},")
    lines.append("]")
    return "\n".join(lines) + "\n"
