"""The leaderboard's rendered files, written from its entries: both tables and the trade-off
figure (the one module that takes both, so that ranking and figure need not know each other)."""

from __future__ import annotations

from pathlib import Path

from core.atomic import atomic_path, write_text_atomic
from leaderboard.entries import valid_entries
from leaderboard.figure import FIGURE_FILE, tradeoff_figure
from leaderboard.protocol import PROTECTION_BAR
from leaderboard.ranking import latest_scorings, rank_entries, rendered_files


def write_tables(root: Path, bar: float = PROTECTION_BAR) -> None:
    """Re-render both tables from every entry under `root`, atomically, and the trade-off plot
    of the latest protocol's entries (`tradeoff_figure`; a picture, so `verify` does not
    compare it byte for byte); raises ValueError if any entry fails the schema."""
    entries = valid_entries(root)
    for name, text in rendered_files(entries, bar).items():
        write_text_atomic(Path(root) / name, text)
    rows = rank_entries(latest_scorings(entries)[1], bar) if entries else []
    if rows:
        with atomic_path(Path(root) / FIGURE_FILE) as tmp:
            tradeoff_figure(rows, tmp)
