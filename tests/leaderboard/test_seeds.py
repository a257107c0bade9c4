"""`python -m leaderboard seeds`: the protocol at several seeds, on the quick protocol (the
embedded sample, 4 + 2 clips per class, 1 round, 1 epoch) in tmp folders."""

from __future__ import annotations

import json

import pytest

from leaderboard.__main__ import main
from leaderboard.protocol import PROTECTION_BAR, QUICK
from leaderboard.seeds import parse_seeds, seed_overrides
from tests.leaderboard.factory import write_submission


def test_parse_seeds_lists_ranges_and_drops_repeats():
    assert parse_seeds("0,1,2") == [0, 1, 2]
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("5, 0-2,1") == [5, 0, 1, 2]


@pytest.mark.parametrize(
    ("text", "message"),
    [("a", "'a' is not a seed"), ("-1", "'-1' is not a seed"), ("3-1", "runs backwards"),
     ("0-99", "at most 32"), ("0,,1", "'' is not a seed")],
)  # fmt: skip
def test_parse_seeds_rejects_bad_input(text, message):
    with pytest.raises(ValueError, match=message):
        parse_seeds(text)


def test_seed_overrides_replace_both_seeds_and_keep_the_base():
    out = seed_overrides(3, QUICK)
    assert out["generation"] == {**QUICK["generation"], "seed": 3}
    assert out["victims"] == {**QUICK["victims"], "seeds": [3]}
    assert out["metrics"] == {**QUICK["metrics"], "perceptual": False}
    assert out["data"] == QUICK["data"]
    assert "seed" not in QUICK["generation"]  # the base is not modified


def run_seeds(target, *extra):
    return main(["seeds", str(target), "--quick", "--device", "cpu", "--no-progress", *extra])


def test_seed_zero_is_the_entry_and_other_seeds_make_their_own_noise(tmp_path, capsys):
    file = write_submission(tmp_path / "in", "tiny_table")
    root, cache = tmp_path / "board", tmp_path / "cache"
    args = ["--device", "cpu", "--no-progress", "--root", str(root), "--cache", str(cache)]
    assert main(["submit", str(file), "--quick", *args]) == 0
    entry = json.loads((root / "entries" / "tiny_table.json").read_text())
    capsys.readouterr()

    report = tmp_path / "spread.json"
    assert run_seeds("tiny_table", "--root", str(root), "--cache", str(cache), "--seeds", "0,1", "--json", str(report)) == 0
    out = capsys.readouterr().out
    result = json.loads(report.read_text())
    assert [row["seed"] for row in result["seeds"]] == [0, 1]
    seed0 = result["seeds"][0]
    assert seed0["accuracy"] == entry["scores"]["accuracy"]  # seed 0 is the protocol itself ...
    assert out.split("seed 1:")[0].count("(cached)") == 6  # ... reusing the entry's 6 victims
    assert len(list((cache / "noise").glob("*.pt"))) == 2  # seed 1 made its own noise
    worst = [row["worst_case_peak"] for row in result["seeds"]]
    assert result["worst_case_peak"]["mean"] == pytest.approx(sum(worst) / 2)
    assert result["worst_case_peak"]["min"] == min(worst) and result["worst_case_peak"]["max"] == max(worst)
    assert "| seed | m5 / none | m5 / resample | m5 / opus_16k | m5 / augment | logmel_cnn / augment | bc_resnet / augment | worst case | seconds |" in out
    assert "tiny_table: worst-case peak" in out and "over 2 seed(s)" in out
    within = sum(w <= PROTECTION_BAR for w in worst)
    assert result["seeds_within_bar"] == within and f"protection bar at {within} of 2" in out

    assert run_seeds("tiny_table", "--root", str(root), "--json", str(report)) == 2  # never overwrites
    assert "refusing to overwrite" in capsys.readouterr().err


def test_unknown_target_and_bad_seeds_exit_2(tmp_path, capsys):
    assert run_seeds("no_such_entry", "--root", str(tmp_path)) == 2
    assert "neither a submission file nor a submission" in capsys.readouterr().err
    assert run_seeds("no_such_entry", "--seeds", "x") == 2
    assert "'x' is not a seed" in capsys.readouterr().err
