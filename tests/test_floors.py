"""The house's floors: core at the bottom, bench on it, leaderboard on bench, demo on top.
No module imports a package above its own (read from the source, lazy imports included)."""

from __future__ import annotations

import ast

import pytest

from tests.paths import REPO_ROOT

FLOORS = ("core", "bench", "leaderboard", "demo")


def imported_packages(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("floor", FLOORS)
def test_no_module_imports_a_higher_floor(floor):
    above = set(FLOORS[FLOORS.index(floor) + 1 :])
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(imported_packages(path.read_text(encoding="utf-8")) & above)
        for path in (REPO_ROOT / floor).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
