"""Ranking and the rendered tables (LEADERBOARD.md, leaderboard.csv), derived from entries only.

Rule: among entries that protect (worst-case peak accuracy at most the protection bar), the
higher mean PESQ-WB (the less audible noise) ranks higher; equal PESQ-WB goes to the lower
worst-case peak. Entries above the bar and the clean reference follow, unranked. The Pareto
front (worst-case peak vs PESQ-WB) is marked.
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import dataclass
from typing import Any

from core.budgets import budget_from_dict
from leaderboard.entries import scoring_of, scoring_versions
from leaderboard.protocol import PROTECTION_BAR, PROTOCOL_VERSION, protects

MARKDOWN_FILE = "LEADERBOARD.md"
CSV_FILE = "leaderboard.csv"
PARETO_MARK = "◆"


@dataclass(frozen=True)
class Row:
    """One entry's place: rank (None: unranked), Pareto membership and why it is unranked."""

    entry: dict[str, Any]
    rank: int | None
    pareto: bool
    note: str


def _wcp(e: dict[str, Any]) -> float:
    return e["scores"]["worst_case_peak"]


def _pesq(e: dict[str, Any]) -> float | None:
    return e["scores"]["pesq_wb_mean"]


def _order(e: dict[str, Any]) -> tuple[float, float, str]:
    """Higher PESQ-WB first, then lower worst-case peak, then name (only for a stable order)."""
    return (-_pesq(e), _wcp(e), e["name"])


def _num(x: Any) -> str:
    """A CSV cell: the shortest exact repr of a number (JSON's), empty for None."""
    return "" if x is None else json.dumps(x)


def pareto_front(entries: list[dict[str, Any]]) -> set[str]:
    """Names of entries with a PESQ-WB that no other entry dominates: none is at least as
    good on both worst-case peak (lower) and PESQ-WB (higher) and strictly better on one."""
    scored = [e for e in entries if _pesq(e) is not None]

    def dominates(a: dict[str, Any], b: dict[str, Any]) -> bool:
        no_worse = _wcp(a) <= _wcp(b) and _pesq(a) >= _pesq(b)
        return no_worse and (_wcp(a) < _wcp(b) or _pesq(a) > _pesq(b))

    return {e["name"] for e in scored if not any(dominates(o, e) for o in scored if o is not e)}


def rank_entries(entries: list[dict[str, Any]], bar: float = PROTECTION_BAR) -> list[Row]:
    """Ranked entries first (rank 1 is best; exact ties share a rank), then the unranked:
    those above the bar, closest to it first, and the clean reference."""
    front = pareto_front(entries)
    scored = [e for e in entries if _pesq(e) is not None]
    ranked = sorted((e for e in scored if protects(_wcp(e), bar)), key=_order)
    above = sorted((e for e in scored if not protects(_wcp(e), bar)), key=lambda e: (_wcp(e), -_pesq(e), e["name"]))
    unscored = sorted((e for e in entries if _pesq(e) is None), key=lambda e: e["name"])
    rows: list[Row] = []
    for i, e in enumerate(ranked):
        tied = i > 0 and _order(e)[:2] == _order(ranked[i - 1])[:2]
        rows.append(Row(e, rows[-1].rank if tied else i + 1, e["name"] in front, ""))
    rows += [Row(e, None, e["name"] in front, f"worst-case peak above {100 * bar:g}%") for e in above]
    rows += [Row(e, None, False, "clean reference") for e in unscored]  # the schema allows no other
    return rows


def scored_under(entries: list[dict[str, Any]], version: int) -> list[dict[str, Any]]:
    """Each entry as it stood under protocol `version` (see entries.scoring_of), if it was
    scored so: only figures of one version are ever ranked together."""
    return [s for e in entries if (s := scoring_of(e, version)) is not None]


def latest_scorings(entries: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
    """(the newest protocol version any entry was scored under, those entries' scorings
    under it): what a viewer that shows one table (the demo) shows."""
    version = (scoring_versions(entries) or [PROTOCOL_VERSION])[0]
    return version, scored_under(entries, version)


def score_columns(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every (victim, defense) pair any entry has, sorted: one peak-accuracy column each."""
    return sorted({(a["victim"], a["defense"]) for e in entries for a in e["scores"]["accuracy"]})


def peak_of(entry: dict[str, Any], victim: str, defense: str) -> float | None:
    """Peak accuracy of (victim, defense) averaged over seeds; None if the entry lacks it."""
    peaks = [a["peak"] for a in entry["scores"]["accuracy"] if (a["victim"], a["defense"]) == (victim, defense)]
    return sum(peaks) / len(peaks) if peaks else None


def budget_label(budget: dict[str, Any]) -> str:
    band = f", noise below {budget['band_limit_hz']:g} Hz" if "band_limit_hz" in budget else ""
    if budget["kind"] == "constant":
        return f"constant, eps {budget['eps']:g}{band}"
    if budget["kind"] == "segment_mask":
        return (
            f"mask table, {len(budget['rows'])} rows, eps_max {budget['eps_max']:g}, "
            f"{budget['segment_samples']}-sample {budget['level']} segments{band}"
        )
    if budget["kind"] == "envelope":
        rows = f"{len(budget['rows'])} rows" if "rows" in budget else "the paper's table"
        return f"amplitude envelope, {rows}, eps_max {budget['eps_max']:g}{band}"
    if budget["kind"] == "masking":
        cap = budget_from_dict(budget).eps_max  # the library's default when the file leaves it out
        return f"masking threshold {budget['margin_db']:+g} dB, L-inf cap {cap:g}{band}"
    return "none (clean)"


def recipe_label(generation: dict[str, Any]) -> str:
    """A submission's generation choices in words ('' for the protocol's base recipe)."""
    parts = []
    if generation.get("augment"):
        parts.append("made through augmentation (EOT)")
    if generation.get("rem_radius"):
        parts.append(f"REM radius {generation['rem_radius']:g}, {generation.get('rem_steps', 2)} steps")
    if "surrogate" in generation:
        parts.append(f"surrogate {generation['surrogate']}")
    return "; ".join(parts)


def protection_label(entry: dict[str, Any]) -> str:
    """An entry's budget and, when it chose any, its generation choices, in words."""
    recipe = recipe_label(entry.get("generation", {}))
    return budget_label(entry["budget"]) + (f"; {recipe}" if recipe else "")


def _fmt(value: float | None, spec: str, scale: float = 1.0) -> str:
    return "–" if value is None else format(scale * value, spec)


def _cell(text: str, table: bool = True) -> str:
    """One line of submitted text made inert in Markdown: HTML escaped (no `<script>` or
    other tags reach the rendered page), '|' escaped inside table cells, where it splits
    columns."""
    line = html.escape(" ".join(text.split()), quote=False)
    return line.replace("|", "\\|") if table else line


def _csv_text(text: str) -> str:
    """Submitted text for a CSV cell that a spreadsheet will not run: a leading =, +, -, @,
    tab or carriage return (a formula, e.g. =HYPERLINK(...)) gets a ' before it (OWASP)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _url(link: str) -> str:
    """A link that cannot end the Markdown link, split the table row early or open a tag."""
    for char, code in ((" ", "%20"), (")", "%29"), ("|", "%7C"), ("<", "%3C"), (">", "%3E"), ('"', "%22")):
        link = link.replace(char, code)
    return link


def render_markdown(entries: list[dict[str, Any]], bar: float = PROTECTION_BAR) -> str:
    """The ranked tables as Markdown, the current protocol's first, then each superseded
    version's (figures of one version are never ranked against another's); deterministic, so
    `verify` can compare it byte for byte."""
    current = scored_under(entries, PROTOCOL_VERSION)
    lines = [
        "# Unlearnable audio leaderboard",
        "",
        (
            f"Rendered by `python -m leaderboard render` from `entries/*.json`; do not edit by hand. "
            f"Protocol version {PROTOCOL_VERSION}. Entries that protect (worst-case peak accuracy <= "
            f"{100 * bar:g}%; chance is 10%) are ranked by mean PESQ-WB, higher (less audible) first; "
            f"ties go to the lower worst-case peak. "
            f"{PARETO_MARK} marks the Pareto front (worst-case peak vs PESQ-WB). See README.md."
        ),
        "",
    ]
    if not entries:
        return "\n".join(lines + ["_No entries yet: see README.md, \"How to submit\"._"]) + "\n"
    lines += _table_lines(current, bar)
    awaiting = sorted(e["name"] for e in entries if scoring_of(e, PROTOCOL_VERSION) is None)
    if awaiting:
        lines += ["", f"Not yet scored under protocol {PROTOCOL_VERSION}: {', '.join(awaiting)} (their figures under earlier protocols follow)."]
    for version in (v for v in scoring_versions(entries) if v < PROTOCOL_VERSION):
        lines += ["", f"## Protocol version {version} (superseded)", ""]
        lines += _table_lines(scored_under(entries, version), bar)
    lines += ["", "## Submissions", ""]
    lines += [f"- **{e['name']}**: {_cell(e['description'], table=False)}" for e in sorted(entries, key=lambda e: e["name"])]
    return "\n".join(lines) + "\n"


def _table_lines(entries: list[dict[str, Any]], bar: float) -> list[str]:
    """One ranked Markdown table of entries scored under one protocol version."""
    if not entries:
        return ["_No entry scored under this protocol yet._"]
    columns = score_columns(entries)
    head = ["Rank", "Pareto", "Submission", "Budget", "Worst-case peak %"]
    head += [f"{v} / {d} peak %" for v, d in columns] + ["PESQ-WB", "STOI", "SNR median dB", "Authors", "Scored", "Note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for row in rank_entries(entries, bar):
        e, s = row.entry, row.entry["scores"]
        name = f"[{e['name']}]({_url(e['link'])})" if e["link"] else e["name"]
        cells = [str(row.rank) if row.rank else "–", PARETO_MARK if row.pareto else "", name, protection_label(e)]
        cells += [_fmt(s["worst_case_peak"], ".1f", 100)] + [_fmt(peak_of(e, v, d), ".1f", 100) for v, d in columns]
        cells += [_fmt(s["pesq_wb_mean"], ".2f"), _fmt(s["stoi_mean"], ".3f"), _fmt(s["snr_db_median"], ".1f")]
        cells += [_cell(", ".join(e["authors"])), e["date"][:10], row.note]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_csv(entries: list[dict[str, Any]], bar: float = PROTECTION_BAR) -> str:
    """The same rankings as CSV, one row per entry and protocol version (newest version
    first, ranked within it), full-precision numbers (empty cell: no value)."""
    by_version = [(v, rank_entries(scored_under(entries, v), bar)) for v in scoring_versions(entries)]
    columns = score_columns([r.entry for _, rows in by_version for r in rows])
    head = ["rank", "pareto", "name", "authors", "budget_kind", "eps_max", "generation", "worst_case_peak"]
    head += [f"peak_{v}_{d}" for v, d in columns]
    head += ["pesq_wb_mean", "stoi_mean", "snr_db_median", "protocol_version", "date", "link", "note"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(head)
    for row in (r for _, rows in by_version for r in rows):
        e, s, b = row.entry, row.entry["scores"], row.entry["budget"]
        cells = ["" if row.rank is None else row.rank, str(row.pareto).lower(), e["name"], _csv_text("; ".join(e["authors"]))]
        cells += [b["kind"], _num(b.get("eps_max", b.get("eps"))), recipe_label(e.get("generation", {})), _num(s["worst_case_peak"])]
        cells += [_num(peak_of(e, v, d)) for v, d in columns]
        cells += [_num(s["pesq_wb_mean"]), _num(s["stoi_mean"]), _num(s["snr_db_median"])]
        cells += [e["protocol_version"], e["date"], _csv_text(e["link"] or ""), row.note]
        writer.writerow(cells)
    return out.getvalue()


def rendered_files(entries: list[dict[str, Any]], bar: float = PROTECTION_BAR) -> dict[str, str]:
    """{file name: text} of every rendered file."""
    return {MARKDOWN_FILE: render_markdown(entries, bar), CSV_FILE: render_csv(entries, bar)}
