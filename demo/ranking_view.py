"""The leaderboard for the page: ranked entries as a sortable DataFrame (the trade-off plot is
the leaderboard's own, `leaderboard.figure`).

Both come from `leaderboard.ranking.rank_entries` over `leaderboard.entries.valid_entries`,
the code that renders LEADERBOARD.md, so the page and the file never disagree on order.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from leaderboard.ranking import PARETO_MARK, Row, peak_of, protection_label, score_columns


SUMMARY_COLUMNS = ("Rank", "Pareto", "Submission", "Worst-case peak %", "PESQ-WB", "STOI", "SNR median dB")
"""The columns shown by default: the ranking figure and what it is ranked by fit a phone or a
laptop screen without scrolling; every cell is one toggle away (`ranking_frame(detail=True)`)."""


def ranking_frame(rows: list[Row], detail: bool = False) -> pd.DataFrame:
    """One line per entry, numbers as numbers (percent for accuracies) so columns sort;
    SUMMARY_COLUMNS only, or (detail) the budget, every victim / thief cell, date and note too."""
    entries = [r.entry for r in rows]
    columns = score_columns(entries)
    records = []
    for row in rows:
        e, s = row.entry, row.entry["scores"]
        record: dict[str, Any] = {
            "Rank": row.rank,
            "Pareto": PARETO_MARK if row.pareto else "",
            "Submission": e["name"],
            "Budget": protection_label(e),
            "Worst-case peak %": _percent(s["worst_case_peak"]),
        }
        for victim, defense in columns:
            record[f"{victim} / {defense} peak %"] = _percent(peak_of(e, victim, defense))
        record |= {
            "PESQ-WB": _round(s["pesq_wb_mean"], 2),
            "STOI": _round(s["stoi_mean"], 3),
            "SNR median dB": _round(s["snr_db_median"], 1),
            "Scored": e["date"][:10],
            "Note": row.note,
        }
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    return frame if detail or frame.empty else frame[list(SUMMARY_COLUMNS)]


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
