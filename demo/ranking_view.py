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


def tradeoff_figure(rows: list[Row], path: Path) -> None:
    """Worst-case peak accuracy (lower is better) against PESQ-WB (higher is better), one
    numbered point per entry with noise (names in a key beside the plot, so labels never
    collide), the Pareto front filled, the axes zoomed to those entries; the protection bar
    and the clean reference as lines, or as a note at the edge when they lie outside."""
    scored = [r for r in rows if r.entry["scores"]["pesq_wb_mean"] is not None]
    clean = [r for r in rows if r.entry["scores"]["pesq_wb_mean"] is None]
    fig = Figure(figsize=(8.5, 4.5))  # not pyplot: no global figure registry to leak into
    ax = fig.add_axes((0.08, 0.12, 0.58, 0.78))
    ys = [100 * r.entry["scores"]["worst_case_peak"] for r in scored]
    xs = [r.entry["scores"]["pesq_wb_mean"] for r in scored]
    low, high = (min(ys), max(ys)) if ys else (0.0, 100.0)
    pad = max(3.0, 0.1 * (high - low))
    ax.set_ylim(max(0.0, low - pad), min(100.0, high + pad))
    if xs:
        ax.set_xlim(min(xs) - 0.1, max(xs) + 0.1)
    key = []
    for number, row in enumerate(scored, 1):
        x, y = row.entry["scores"]["pesq_wb_mean"], 100 * row.entry["scores"]["worst_case_peak"]
        ax.scatter(x, y, s=40, color="tab:red" if row.pareto else "white", edgecolors="tab:red", zorder=3)
        ax.annotate(str(number), (x, y), textcoords="offset points", xytext=(5, 3), fontsize=8)
        key.append(f"{number}  {row.entry['name']}")
    lines = [(100 * PROTECTION_BAR, "protection bar (ranked: on or below)", "tab:green", ":")]
    lines += [(100 * r.entry["scores"]["worst_case_peak"], f"{r.entry['name']} (no noise)", "0.4", "--") for r in clean]
    bottom, top = ax.get_ylim()
    for y, text, colour, style in lines:
        if bottom <= y <= top:
            ax.axhline(y, color=colour, ls=style, lw=1)
            ax.annotate(f"{text} {y:.1f}%", (0.99, y), xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=8, color=colour)
        else:
            edge = "above" if y > top else "below"
            ax.annotate(f"{text} at {y:.1f}%: {edge} the plot", (0.01, 0.98 if y > top else 0.02), xycoords="axes fraction",
                        va="top" if y > top else "bottom", fontsize=8, color=colour)  # fmt: skip
    fig.text(0.68, 0.9, "\n".join(key), va="top", fontsize=8, family="monospace")
    ax.set(xlabel="PESQ-WB (higher: closer to clean)", ylabel="worst-case peak accuracy %")
    ax.set_title(f"lower: more unlearnable; filled: Pareto front ({PARETO_MARK})", fontsize=9)
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=100)
