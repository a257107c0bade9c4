"""The leaderboard's trade-off plot: worst-case peak accuracy against PESQ-WB, one point per
entry, the Pareto front filled. Written beside LEADERBOARD.md as `tradeoff.png` by every
render (`leaderboard.render.write_tables`) and drawn in the demo's Leaderboard tab."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from leaderboard.protocol import PROTECTION_BAR
from leaderboard.ranking import PARETO_MARK, Row

FIGURE_FILE = "tradeoff.png"


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
    fig.savefig(path, dpi=100, format="png")
