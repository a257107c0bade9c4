"""Editor cells -> rows -> submission TOML: cell conversion and a TOML round trip through tomllib."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pandas as pd
import pytest

from core.budgets import PAPER_TABLE
from demo.table_editor import (
    paper_rows,
    rows_from_frame,
    submission_data,
    submission_toml,
    table_budget,
)
from leaderboard.submission import submission_problems


def test_paper_rows_are_table_1() -> None:
    rows = rows_from_frame(pd.DataFrame(paper_rows(), columns=["threshold", "mask"]))
    assert [(r["threshold"], r["mask"]) for r in rows] == list(zip(PAPER_TABLE.thresholds, PAPER_TABLE.masks))


def test_cells_become_numbers_empty_rows_drop_and_text_stays_for_the_validator() -> None:
    frame = pd.DataFrame(
        [[np.float64(0.1), " 0.5 "], [None, math.nan], ["", ""], [0.05, "half"], [0.0, None]],
        columns=["threshold", "mask"],
    )
    rows = rows_from_frame(frame)
    assert rows == [
        {"threshold": 0.1, "mask": 0.5},
        {"threshold": 0.05, "mask": "half"},
        {"threshold": 0.0, "mask": None},
    ]
    assert type(rows[0]["threshold"]) is float
    assert rows_from_frame(None) == []


def test_segment_samples_from_a_number_box_is_an_integer() -> None:
    assert table_budget([], 0.13, 1000.0, "mean_abs")["segment_samples"] == 1000
    assert table_budget([], 0.13, 999.5, "mean_abs")["segment_samples"] == 999.5  # left for the validator


@pytest.mark.parametrize("text", ['plain', 'quote " and back\\slash', "tab\tnew\nline", "ünïcødé ◆", "#not a comment"])
def test_toml_round_trip_keeps_every_value(text: str) -> None:
    budget = table_budget([{"threshold": 0.1, "mask": 1}, {"threshold": 1e-05, "mask": 0.25}], 0.13, 1000.0, "rms")
    data = submission_data("t1", f"A {text}, B", text, "https://example.org/x", budget)
    assert submission_problems(data) == []
    parsed = tomllib.loads(submission_toml(data))
    assert parsed == data
    assert submission_problems(parsed, "t1") == []


def test_empty_link_is_left_out() -> None:
    data = submission_data(" t2 ", "A", "d", "  ", table_budget([], 0.1, 1000, "rms"))
    assert "link" not in data and data["name"] == "t2"
    assert "link" not in submission_toml({**data, "budget": {**data["budget"], "rows": []}})


def test_toml_keeps_a_band_limit() -> None:
    budget = {**table_budget([{"threshold": 0.0, "mask": 1}], 0.13, 1000, "mean_abs"), "band_limit_hz": 4000}
    data = submission_data("t3", "A", "d", "", budget)
    assert tomllib.loads(submission_toml(data)) == data
