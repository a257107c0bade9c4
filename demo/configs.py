"""The Listen tab's configurations: the shipped ones, then every leaderboard entry with a noise budget.

An entry appears as "entry: NAME". Its budget is the entry's own; when it equals a shipped
config's (paper_dynamic_013 is dynamic_013), the precomputed examples of that config serve it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.budgets import Budget, budget_from_dict
from demo.examples import ExampleIndex
from leaderboard.entries import valid_entries

ENTRY_PREFIX = "entry: "


def config_names(index: ExampleIndex, root: Path) -> list[str]:
    """The shipped configs, then "entry: NAME" per entry with a noise budget. Entries that
    fail the schema are left out here (the Leaderboard tab says why)."""
    try:
        entries = valid_entries(root)
    except ValueError:
        entries = []
    return list(index.budgets) + [ENTRY_PREFIX + e["name"] for e in entries if e["budget"]["kind"] != "none"]


def config_budget(config: str, index: ExampleIndex, root: Path) -> Budget | None:
    """The budget of a config name; None for one without noise.

    Raises ValueError (a message for the page) for an unknown name or unreadable entries.
    """
    spec: dict[str, Any] | None = index.budgets.get(config)
    if spec is None and config and config.startswith(ENTRY_PREFIX):
        try:
            entries = valid_entries(root)
        except ValueError as err:
            raise ValueError(f"The leaderboard entries cannot be read: {err}") from None
        spec = next((e["budget"] for e in entries if e["name"] == config.removeprefix(ENTRY_PREFIX)), None)
    if spec is None:
        raise ValueError(f"Unknown configuration {config!r}; pick one from the list.")
    return budget_from_dict(spec) if spec and spec["kind"] != "none" else None


def shipped_config(budget: Budget, index: ExampleIndex) -> str | None:
    """The shipped config whose budget is exactly `budget`, if any."""
    for name, spec in index.budgets.items():
        if spec and budget_from_dict(spec).to_dict() == budget.to_dict():
            return name
    return None
