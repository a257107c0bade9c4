"""Ranking, Pareto front and the rendered tables, on hand-made entries."""

from __future__ import annotations

import csv
import io

from leaderboard.ranking import (
    protection_label,
    PARETO_MARK,
    budget_label,
    pareto_front,
    rank_entries,
    render_csv,
    render_markdown,
)
from tests.leaderboard.factory import make_entry

ENTRIES = [
    make_entry("loud", worst=0.10, pesq=1.05),  # the best protection, but the most audible
    make_entry("quiet", worst=0.60, pesq=2.0),  # the least audible, but it does not protect
    make_entry("middle", worst=0.20, pesq=1.2),
    make_entry("middle_better", worst=0.15, pesq=1.2),  # tie on PESQ-WB, wins on accuracy
    make_entry("dominated", worst=0.22, pesq=1.1),
    make_entry("at_the_bar", worst=0.25, pesq=1.5),  # exactly at the bar still protects
    make_entry("clean_reference", worst=0.85, pesq=None, kind="none"),
]


def test_protecting_entries_rank_by_pesq_then_worst_case_and_the_rest_follow():
    rows = rank_entries(ENTRIES, bar=0.25)
    assert [(r.entry["name"], r.rank) for r in rows] == [
        ("at_the_bar", 1),
        ("middle_better", 2),
        ("middle", 3),
        ("dominated", 4),
        ("loud", 5),
        ("quiet", None),
        ("clean_reference", None),
    ]
    assert rows[5].note == "worst-case peak above 25%" and rows[6].note == "clean reference"


def test_bar_is_a_parameter():
    assert rank_entries(ENTRIES, bar=0.7)[0].entry["name"] == "quiet"  # the least audible
    strict = rank_entries(ENTRIES, bar=0.12)
    assert [(r.entry["name"], r.rank) for r in strict][:2] == [("loud", 1), ("middle_better", None)]


def test_exact_ties_share_a_rank():
    rows = rank_entries([make_entry("b", 0.2, 1.2), make_entry("a", 0.2, 1.2), make_entry("c", 0.2, 1.1)])
    assert [(r.entry["name"], r.rank) for r in rows] == [("a", 1), ("b", 1), ("c", 3)]


def test_pareto_front_excludes_dominated_and_unscored():
    assert pareto_front(ENTRIES) == {"loud", "middle_better", "at_the_bar", "quiet"}
    flags = {r.entry["name"]: r.pareto for r in rank_entries(ENTRIES)}
    assert flags["loud"] and not flags["middle"] and not flags["clean_reference"]


def test_markdown_marks_front_and_lists_every_entry():
    md = render_markdown(ENTRIES)
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(ENTRIES)
    assert table[0].startswith("| Rank | Pareto | Submission |") and "m5 / resample peak %" in table[0]
    assert table[1].startswith(f"| 1 | {PARETO_MARK} | at_the_bar |") and "| 25.0 |" in table[1]
    assert table[-1].startswith("| – |  | clean_reference |") and "clean reference" in table[-1]
    assert render_markdown(ENTRIES) == md  # deterministic


def test_markdown_escapes_cells_and_links():
    e = make_entry("linked", 0.2, 1.5)
    e["authors"] = ["A | B", "C\nD"]
    e["link"] = "https://example.org/x"
    md = render_markdown([e])
    assert "[linked](https://example.org/x)" in md and "A \\| B, C D" in md


def test_submitted_text_is_inert_in_markdown_html_and_spreadsheets():
    e = make_entry("hostile", 0.2, 1.5)
    e["authors"] = ['=HYPERLINK("http://evil.example","x")']
    e["description"] = "<script>alert(1)</script> & <b>bold</b>"
    e["link"] = 'https://example.org/"><script>'
    md = render_markdown([e])
    assert "<script>" not in md and "<b>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in md
    assert "(https://example.org/%22%3E%3Cscript%3E)" in md
    (row,) = csv.DictReader(io.StringIO(render_csv([e])))
    assert row["authors"] == '\'=HYPERLINK("http://evil.example","x")'
    plain = make_entry("plain", 0.2, 1.5)
    (row,) = csv.DictReader(io.StringIO(render_csv([plain])))
    assert row["authors"] == "; ".join(plain["authors"])  # ordinary text untouched


def test_csv_has_numbers_at_full_precision():
    e = make_entry("precise", 0.123456789, 1.23456789)
    rows = list(csv.DictReader(io.StringIO(render_csv([e, make_entry("clean_reference", 0.9, None, "none")]))))
    assert rows[0]["rank"] == "1" and rows[0]["pareto"] == "true"
    assert float(rows[0]["worst_case_peak"]) == 0.123456789 and float(rows[0]["pesq_wb_mean"]) == 1.23456789
    assert rows[0]["peak_m5_resample"] == "0.123456789" and rows[0]["eps_max"] == "0.08"
    assert rows[1]["rank"] == "" and rows[1]["pesq_wb_mean"] == "" and rows[1]["budget_kind"] == "none"


def test_empty_leaderboard_renders():
    assert "No entries yet" in render_markdown([])
    assert render_csv([]).count("\n") == 1


def test_budget_label_names_a_band_limit():
    table = {"kind": "segment_mask", "eps_max": 0.13, "segment_samples": 1000, "level": "mean_abs", "rows": [{}] * 6}
    assert budget_label(table) == "mask table, 6 rows, eps_max 0.13, 1000-sample mean_abs segments"
    assert budget_label({**table, "band_limit_hz": 4000.0}).endswith("segments, noise below 4000 Hz")
    assert budget_label({"kind": "constant", "eps": 0.08, "band_limit_hz": 3400.5}) == "constant, eps 0.08, noise below 3400.5 Hz"


def test_protection_label_adds_the_generation_choices():
    entry = make_entry("eot", 0.3, 1.5)
    assert protection_label(entry) == "constant, eps 0.08"
    entry["generation"] = {"augment": True, "rem_radius": 0.02, "surrogate": "m5+bc_resnet"}
    assert protection_label(entry) == "constant, eps 0.08; made through augmentation (EOT); REM radius 0.02, 2 steps; surrogate m5+bc_resnet"
    assert "made through augmentation (EOT)" in render_markdown([entry])
    assert "made through augmentation (EOT)" in render_csv([entry])
