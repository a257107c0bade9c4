"""`python -m leaderboard` end to end on a tiny protocol (--quick: the embedded sample, 4 + 2
clips per class, 1 round, 1 epoch) in tmp folders; the real leaderboard is never touched."""

from __future__ import annotations

import json
import shutil

import pytest

from leaderboard.__main__ import main
import torch

from leaderboard.entries import LEADERBOARD_ROOT, entry_problems
from leaderboard.protocol import PROTOCOL_VERSION
from tests.leaderboard.factory import PAPER_TOML, write_submission


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def quick_submit(file, root, *extra):
    args = ["submit", str(file), "--quick", "--root", str(root), "--cache", str(root.parent / "cache")]
    return main([*args, "--device", "cpu", "--no-progress", *extra])


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """A leaderboard root holding one quick-scored submission."""
    base = tmp_path_factory.mktemp("quick")
    file = write_submission(base / "incoming", "tiny_table")
    root = base / "board"
    assert quick_submit(file, root) == 0
    return root, file


@pytest.fixture
def board(scored, tmp_path):
    """A private copy of the scored root, free to edit."""
    root, _ = scored
    copy = tmp_path / "board"
    shutil.copytree(root, copy)
    shutil.copytree(root.parent / "cache", tmp_path / "cache")  # quick_submit's cache beside the root
    return copy


def test_submit_writes_submission_entry_and_tables(scored):
    root, file = scored
    assert listing(root) == ["LEADERBOARD.md", "entries", "entries/tiny_table.json", "leaderboard.csv", "submissions", "submissions/tiny_table.toml", "tradeoff.png"]
    assert (root / "submissions" / "tiny_table.toml").read_bytes() == file.read_bytes()
    entry = json.loads((root / "entries" / "tiny_table.json").read_text())
    assert entry_problems(entry) == []
    scores = entry["scores"]
    assert {(a["victim"], a["defense"]) for a in scores["accuracy"]} == {
        ("m5", "none"), ("m5", "resample"), ("m5", "opus_16k"), ("m5", "augment"),
        ("logmel_cnn", "augment"), ("bc_resnet", "augment"),
    }
    assert scores["worst_case_peak"] == max(a["peak"] for a in scores["accuracy"])
    assert isinstance(scores["pesq_wb_mean"], float) and isinstance(scores["snr_db_median"], float)
    assert len(scores["band_snr_db"]) == 2 and entry["protocol_version"] == PROTOCOL_VERSION and entry["device"] == "cpu"
    assert entry["computed"]["noise"]["device"] == "cpu" and entry["computed"]["noise"]["torch"] == torch.__version__
    assert [c["device"] for c in entry["computed"]["victims"]] == ["cpu"] and "history" not in entry
    assert "| 1 | ◆ | tiny_table |" in (root / "LEADERBOARD.md").read_text()
    assert (root / "leaderboard.csv").read_text().splitlines()[1].startswith("1,true,tiny_table,")


def test_verify_passes_then_fails_after_editing_a_number(board, capsys):
    assert main(["verify", "--root", str(board)]) == 0
    path = board / "entries" / "tiny_table.json"
    entry = json.loads(path.read_text())
    entry["scores"]["pesq_wb_mean"] += 1.0
    path.write_text(json.dumps(entry, indent=1))
    capsys.readouterr()
    assert main(["verify", "--root", str(board)]) == 1
    err = capsys.readouterr().err
    assert "LEADERBOARD.md: differs" in err and "leaderboard.csv: differs" in err


def test_verify_fails_on_a_number_as_string_and_a_changed_submission(board, capsys):
    path = board / "entries" / "tiny_table.json"
    entry = json.loads(path.read_text())
    entry["scores"]["accuracy"][0]["peak"] = str(entry["scores"]["accuracy"][0]["peak"])
    path.write_text(json.dumps(entry))
    submission = board / "submissions" / "tiny_table.toml"
    submission.write_text(submission.read_text().replace("mask = 0.1", "mask = 0.2"))
    assert main(["verify", "--root", str(board)]) == 1
    err = capsys.readouterr().err
    assert "scores.accuracy[0].peak: must be a finite number" in err
    entry["scores"]["accuracy"][0]["peak"] = float(entry["scores"]["accuracy"][0]["peak"])
    path.write_text(json.dumps(entry))
    assert main(["verify", "--root", str(board)]) == 1
    err = capsys.readouterr().err
    assert "submission_sha256" in err and "budget differs" in err


def test_verify_fails_when_an_entry_claims_generation_choices_its_submission_lacks(board, capsys):
    path = board / "entries" / "tiny_table.json"
    entry = json.loads(path.read_text())
    path.write_text(json.dumps({**entry, "generation": {"augment": True}}))
    assert main(["verify", "--root", str(board)]) == 1
    assert "generation differs from tiny_table.toml: {'augment': True} != {}" in capsys.readouterr().err


def test_submit_runs_the_submissions_generation_choices(monkeypatch, tmp_path):
    import bench.run

    seen = []

    def stop(cfg, *args, **kwargs):
        seen.append(cfg)
        raise RuntimeError("stop before any work")

    monkeypatch.setattr(bench.run, "run", stop)
    file = write_submission(tmp_path / "in", "eot", PAPER_TOML.format(name="eot") + "\n[generation]\naugment = true\n")
    with pytest.raises(RuntimeError, match="stop before"):
        quick_submit(file, tmp_path / "board")
    assert seen[0].generation.augment and not (tmp_path / "board").exists()


def test_verify_fails_after_editing_the_table_and_render_repairs_it(board, capsys):
    md = board / "LEADERBOARD.md"
    md.write_text(md.read_text().replace("| 1 |", "| 2 |"))
    assert main(["verify", "--root", str(board)]) == 1
    assert "LEADERBOARD.md: differs" in capsys.readouterr().err
    assert main(["render", "--root", str(board)]) == 0
    assert main(["verify", "--root", str(board)]) == 0
    assert main(["show", "--root", str(board)]) == 0
    assert "| 1 | ◆ | tiny_table |" in capsys.readouterr().out
    assert (board / "tradeoff.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the trade-off plot, drawn by every render


def test_resubmitting_reuses_the_cache_and_a_different_file_is_refused(board, scored, tmp_path, capsys):
    _, file = scored
    assert quick_submit(file, board) == 0  # same bytes: rescored from the cache
    assert "(cached)" in capsys.readouterr().out
    other = write_submission(tmp_path / "other", "tiny_table", file.read_text().replace("0.13", "0.12"))
    before = {p: p.read_bytes() for p in board.rglob("*") if p.is_file()}
    assert quick_submit(other, board) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in board.rglob("*") if p.is_file()} == before


def test_invalid_submission_exits_2_and_writes_nothing(board, tmp_path, capsys):
    bad = write_submission(tmp_path / "in", "bad", 'name = "bad"\nauthors = "me"\ndescription = "x"\n[budget]\nkind = "constant"\neps = 1.0\n')
    before = listing(board)
    real_before = listing(LEADERBOARD_ROOT)
    assert quick_submit(bad, board) == 2
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and "  - authors:" in err and "  - budget.eps:" in err
    assert listing(board) == before and listing(LEADERBOARD_ROOT) == real_before
    assert listing(tmp_path / "in") == ["bad.toml"]


def test_scoring_failure_writes_nothing(board, scored, tmp_path, capsys):
    fresh = write_submission(tmp_path / "in", "fresh")
    before = listing(board)
    assert quick_submit(fresh, board, "--data-root", str(tmp_path / "no_such_folder")) == 2
    assert "no_such_folder" in capsys.readouterr().err
    assert listing(board) == before


def test_quick_refuses_the_real_leaderboard(scored, capsys):
    _, file = scored
    real_before = listing(LEADERBOARD_ROOT)
    assert main(["submit", str(file), "--quick", "--root", str(LEADERBOARD_ROOT)]) == 2
    assert "never go into the real leaderboard" in capsys.readouterr().err
    assert listing(LEADERBOARD_ROOT) == real_before


def quick_rescore(name, root, *extra):
    return main(["rescore", name, "--quick", "--root", str(root), "--device", "cpu", "--no-progress", *extra])


def test_rescore_cold_reproduces_the_entry_and_writes_nothing(board, capsys):
    before = {p: p.read_bytes() for p in board.rglob("*") if p.is_file()}
    assert quick_rescore("tiny_table", board) == 0
    out = capsys.readouterr().out
    assert "cold, fresh cache" in out and "tiny_table: reproduced identically" in out
    assert "(cached)" not in out  # every figure was recomputed
    assert " poisoned m5 seed 0" in out and " clean m5 seed" not in out  # clean victims are not scored
    assert {p: p.read_bytes() for p in board.rglob("*") if p.is_file()} == before


def test_rescore_reports_each_edited_figure(board, capsys):
    path = board / "entries" / "tiny_table.json"
    entry = json.loads(path.read_text())
    entry["scores"]["accuracy"][0]["peak"] += 0.01
    entry["scores"]["pesq_wb_mean"] += 0.001
    path.write_text(json.dumps(entry))
    assert quick_rescore("tiny_table", board, "--cache", str(board.parent / "cache")) == 1
    out = capsys.readouterr().out
    assert "2 figure(s) differ" in out and "pesq_wb_mean:" in out and " peak: " in out
    assert quick_rescore("tiny_table", board, "--cache", str(board.parent / "cache"), "--tolerance", "0.02") == 0


def test_rescore_unknown_entry_exits_2(board, capsys):
    assert quick_rescore("no_such_entry", board) == 2
    assert "no entry" in capsys.readouterr().err


def test_scoring_under_a_new_protocol_keeps_the_old_figures_in_history(board, capsys):
    """An entry scored under protocol 1 and submitted again keeps its v1 scoring whole in
    `history`; the tables rank each version apart, the old one as superseded."""
    path = board / "entries" / "tiny_table.json"
    old = json.loads(path.read_text())
    old.pop("computed")
    old["protocol_version"], old["protocol_hash"] = 1, "00000000000000aa"
    old["scores"]["pesq_wb_mean"] = 4.25  # a figure only the v1 scoring has
    path.write_text(json.dumps(old))
    capsys.readouterr()
    assert main(["rescore", "tiny_table", "--quick", "--root", str(board), "--no-progress"]) == 2
    assert "scored under protocol 1" in capsys.readouterr().err
    file = board / "submissions" / "tiny_table.toml"
    assert quick_submit(file, board) == 0
    entry = json.loads(path.read_text())
    assert entry_problems(entry) == [] and entry["protocol_version"] == PROTOCOL_VERSION
    assert len(entry["history"]) == 1 and entry["history"][0]["scores"]["pesq_wb_mean"] == 4.25
    assert entry["history"][0]["protocol_hash"] == "00000000000000aa"
    markdown = (board / "LEADERBOARD.md").read_text()
    current, superseded = markdown.split("## Protocol version 1 (superseded)")
    assert "| tiny_table |" in current and "4.25" not in current and "| 4.25 |" in superseded
    rows = (board / "leaderboard.csv").read_text().splitlines()[1:]
    assert [r.split(",")[2] for r in rows] == ["tiny_table", "tiny_table"]
    assert quick_submit(file, board) == 0  # the same version again: replaced, history kept as is
    assert json.loads(path.read_text())["history"] == entry["history"]
    assert main(["verify", "--root", str(board)]) == 0
