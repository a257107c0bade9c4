"""The entry schema: keys, types, numbers as numbers, known protocol, consistent worst case."""

from __future__ import annotations

import pytest

from leaderboard.entries import SCORING_KEYS, entry_problems, scoring_of, valid_entries, write_entry
from leaderboard.submission import from_data
from leaderboard.submit import build_entry, defense_of
from tests.leaderboard.factory import make_entry


def test_hand_made_entry_is_valid():
    assert entry_problems(make_entry("ok", 0.4, 1.2)) == []
    assert entry_problems(make_entry("clean_reference", 0.9, None, "none")) == []


def scoring(entry):
    return {k: entry[k] for k in SCORING_KEYS}


def test_an_entry_with_history_is_valid_and_reads_per_version():
    entry = make_entry("ok", 0.4, 1.2)
    v1 = scoring(entry)
    entry.update(protocol_version=2, computed={"noise": {"device": "cpu", "torch": "2.13.0"}, "victims": [{"device": "cpu", "torch": "2.13.0"}]})
    entry["scores"] = {**entry["scores"], "pesq_wb_mean": 2.5}
    entry["history"] = [v1]
    assert entry_problems(entry) == []
    assert scoring_of(entry, 1)["scores"]["pesq_wb_mean"] == 1.2 and scoring_of(entry, 1)["name"] == "ok"
    assert scoring_of(entry, 2) is entry and scoring_of(make_entry("new", 0.4, 1.2), 2) is None


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda e: e["scores"].__setitem__("pesq_wb_mean", "1.2"), "scores.pesq_wb_mean: must be a finite number"),
        (lambda e: e["scores"].__setitem__("pesq_wb_mean", None), "scores.pesq_wb_mean: must be a finite number"),
        (lambda e: e["scores"]["accuracy"][0].__setitem__("peak", 1.5), "scores.accuracy[0].peak: must be a finite number in [0.0, 1.0]"),
        (lambda e: e["scores"]["accuracy"][0].__setitem__("seed", True), "scores.accuracy[0].seed: must be int"),
        (lambda e: e["scores"].__setitem__("worst_case_peak", 0.3), "scores.worst_case_peak: must equal the max peak"),
        (lambda e: e.__setitem__("protocol_version", 99), "protocol_version: must be one of (1, 2)"),
        (lambda e: e.__setitem__("protocol_version", "1"), "protocol_version: must be int"),
        (lambda e: e.__setitem__("submission_sha256", "abc"), "submission_sha256: must match"),
        (lambda e: e.__setitem__("date", "yesterday"), "date: must be an ISO 8601"),
        (lambda e: e.__setitem__("scoring_seconds", -1), "scoring_seconds: must be a finite number"),
        (lambda e: e.__setitem__("extra", 1), "extra: unknown key"),
        (lambda e: e.pop("device"), "device: missing"),
        (lambda e: e["budget"].__setitem__("eps", 0.5), "budget.eps: must be a number"),
        (lambda e: e["scores"]["band_snr_db"].append({"label": "all"}), "scores.band_snr_db[0].lower: missing"),
        (lambda e: e.__setitem__("protocol_version", 2), "computed: missing (required from protocol version 2)"),
        (lambda e: e.__setitem__("computed", {"noise": None, "victims": []}), "computed.victims: must be a non-empty list"),
        (lambda e: e.__setitem__("history", [scoring(e)]), "history: versions must rise, each below the current 1"),
        (lambda e: e.__setitem__("history", [{**scoring(e), "date": "then"}]), "history[0].date: must be an ISO 8601"),
        (lambda e: e.__setitem__("history", [{**scoring(e), "extra": 1}]), "history[0].extra: unknown key"),
    ],
)
def test_each_schema_violation_is_named(edit, expected):
    entry = make_entry("ok", 0.4, 1.2)
    edit(entry)
    problems = entry_problems(entry)
    assert any(expected in p for p in problems), problems


def test_write_refuses_invalid_and_valid_entries_raises(tmp_path):
    bad = make_entry("bad", 0.4, 1.2)
    bad["scores"]["stoi_mean"] = "high"
    with pytest.raises(ValueError, match="scores.stoi_mean"):
        write_entry(tmp_path, bad)
    assert not (tmp_path / "entries").exists() or not list((tmp_path / "entries").iterdir())
    write_entry(tmp_path, make_entry("good", 0.4, 1.2))
    assert [e["name"] for e in valid_entries(tmp_path)] == ["good"]
    (tmp_path / "entries" / "broken.json").write_text('{"name": 1}')
    with pytest.raises(ValueError, match="broken.json"):
        valid_entries(tmp_path)


def test_build_entry_maps_conditions_to_defenses():
    assert [defense_of(c, True) for c in ("clean", "poisoned", "poisoned+resample")] == [None, "none", "resample"]
    assert defense_of("clean", False) == "none"
    where = lambda threads: {"device": "cpu", "torch": "2.13.0", "threads": threads}
    run = lambda peak, threads=1: [{"seed": 0, "peak": peak, "final": peak - 0.1, "test_accuracy": [peak], "seconds": 1.0, "computed": where(threads)}]
    results = {
        "victims": {"clean": {"m5": run(0.8, 4)}, "poisoned": {"m5": run(0.2)}, "poisoned+resample": {"m5": run(0.5, 2)}},
        "generation": {"computed": where(1)},
        "metrics": {"pesq_wb_mean": 1.2, "stoi_mean": 0.8, "snr_db_median": 15.0, "band_snr_db": [{"label": "all", "lower": None, "upper": None, "segments": 3, "snr_db": 12.0}], "clips": 4},
        "data": {"fingerprint": "0123456789abcdef"},
    }
    sub = from_data({"name": "x", "authors": ["a"], "description": "d", "budget": {"kind": "constant", "eps": 0.08}})
    entry = build_entry(sub, "0" * 64, results, protocol_hash="f" * 16, git_commit=None, date="2026-01-01T00:00:00+00:00", scoring_seconds=2, device="cpu")
    assert entry_problems(entry) == []
    assert [(a["defense"], a["peak"]) for a in entry["scores"]["accuracy"]] == [("none", 0.2), ("resample", 0.5)]
    assert entry["scores"]["worst_case_peak"] == 0.5 and entry["scores"]["pesq_wb_mean"] == 1.2
    assert entry["computed"] == {"noise": where(1), "victims": [where(1), where(2)]}  # unscored clean victims left out


def test_an_entry_records_its_generation_choices_for_every_scoring():
    sub = from_data({"name": "x", "authors": ["a"], "description": "d", "budget": {"kind": "constant", "eps": 0.08}, "generation": {"augment": True}})
    peak = [{"seed": 0, "peak": 0.2, "final": 0.1}]
    results = {"victims": {"poisoned": {"m5": peak}}, "generation": None, "metrics": {}, "data": {"fingerprint": "0123456789abcdef"}}
    entry = build_entry(sub, "0" * 64, results, protocol_hash="f" * 16, git_commit=None, date="2026-01-01T00:00:00+00:00", scoring_seconds=2, device="cpu")
    assert entry["generation"] == {"augment": True}
    plain = from_data({"name": "x", "authors": ["a"], "description": "d", "budget": {"kind": "constant", "eps": 0.08}})
    assert "generation" not in build_entry(plain, "0" * 64, results, protocol_hash="f" * 16, git_commit=None, date="2026-01-01T00:00:00+00:00", scoring_seconds=2, device="cpu")
    old = make_entry("y", 0.3, 1.5)
    new = {**old, "generation": {"augment": True}, "protocol_version": 2, "computed": {"noise": None, "victims": [{"device": "cpu", "torch": "2.13.0", "threads": 1}]}, "history": [{k: old[k] for k in SCORING_KEYS}]}
    assert entry_problems(new) == []
    assert scoring_of(new, 1)["generation"] == {"augment": True}
    assert entry_problems({**new, "generation": {"augment": 1}}) == ["generation.augment: must be true or false, got 1"]
