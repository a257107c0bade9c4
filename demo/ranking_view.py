"""The leaderboard for the page: ranked entries as a sortable DataFrame, and a trade-off plot.

Both come from `leaderboard.ranking.rank_entries` over `leaderboard.entries.valid_entries`,
the code that renders LEADERBOARD.md, so the page and the file never disagree on order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from leaderboard.protocol import PROTECTION_BAR
from leaderboard.ranking import PARETO_MARK, Row, peak_of, protection_label, score_columns


def ranking_frame(rows: list[Row]) -> pd.DataFrame:
    """One line per entry, numbers as numbers (percent for accuracies) so columns sort."""
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
    return pd.DataFrame.from_records(records)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def tradeoff_figure(rows: list[Row], path: Path) -> None:
    """Worst-case peak accuracy (lower is better) against PESQ-WB (higher is better), one
    point per scored entry, the Pareto front filled; the clean reference and the protection
    bar (ranked entries lie on or below it) as lines."""
    fig = Figure(figsize=(7, 4.5))  # not pyplot: no global figure registry to leak into
    ax = fig.add_subplot()
    ax.axhline(100 * PROTECTION_BAR, color="tab:green", ls=":", lw=1)
    ax.annotate(f"protection bar {100 * PROTECTION_BAR:g}% (ranked: on or below, by PESQ-WB)", (0.99, 100 * PROTECTION_BAR),
                xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=8, color="tab:green")  # fmt: skip
    for row in rows:
        e, s = row.entry, row.entry["scores"]
        accuracy = 100 * s["worst_case_peak"]
        if s["pesq_wb_mean"] is None:
            ax.axhline(accuracy, color="0.5", ls="--", lw=1)
            ax.annotate(f"{e['name']} (no noise)", (0.01, accuracy), xycoords=("axes fraction", "data"),
                        va="bottom", fontsize=8, color="0.4")  # fmt: skip
            continue
        ax.scatter(s["pesq_wb_mean"], accuracy, s=40, color="tab:red" if row.pareto else "white",
                   edgecolors="tab:red", zorder=3)  # fmt: skip
        ax.annotate(e["name"], (s["pesq_wb_mean"], accuracy), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.set(xlabel="PESQ-WB (higher: closer to clean)", ylabel="worst-case peak accuracy %")
    ax.set_title(f"lower: more unlearnable; filled: Pareto front ({PARETO_MARK})", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
