"""The thief matrix end to end on a tiny slice (`--quick`): every cell, table and heat map."""

import json
import shutil

import pytest

from bench.__main__ import main, overrides_from, parse_args
from bench.config import load_config
from bench.conditions import NO_THIEF, Condition
from bench.matrix import member_configs
from core.defenses import defense_from_dict


@pytest.fixture(scope="module")
def matrix_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    assert main(["--config", "thieves", "--quick", "--out", str(out), "--no-progress"]) == 0
    (run_dir,) = (out / "thieves").iterdir()
    return run_dir


def test_every_cell_is_measured_once(matrix_run):
    r = json.loads((matrix_run / "results.json").read_text())
    cfg = load_config("thieves")
    thieves = ["none"] + [defense_from_dict(d).name for d in cfg.defenses]
    assert r["thieves"] == thieves and list(r["members"]) == list(cfg.matrix)
    cells = {(c["config"], c["thief"], c["victim"], c["seed"]) for c in r["cells"]}
    assert len(cells) == len(r["cells"]) == len(cfg.matrix) * len(thieves) * len(cfg.victims.models)
    assert all(0.0 <= c["peak"] <= 1.0 for c in r["cells"])
    assert r["members"]["clean"]["generation"] is None
    assert r["members"]["dynamic_013"]["metrics"]["linf_max"] <= 0.13 + 1e-6
    assert r["members"]["dynamic_013"]["thieves"]["poisoned+mp3_32k"]["defense"] == {"kind": "mp3", "bitrate_kbps": 32}
    assert "git_commit" in r["provenance"]


def test_summary_and_heat_map(matrix_run):
    summary = (matrix_run / "summary.md").read_text()
    for victim in ("m5", "logmel_cnn", "bc_resnet"):
        assert f"## Victim {victim}" in summary
    assert "| mp3_32k |" in summary and "| clean | constant_008 | dynamic_013 | dynamic_018_inband |" in summary
    assert "Worst case per config" in summary
    r = json.loads((matrix_run / "results.json").read_text())
    peak = {(c["config"], c["thief"], c["victim"]): c["peak"] for c in r["cells"]}
    thieves = [t for t in r["thieves"] if t != NO_THIEF]
    strongest = max(thieves, key=lambda t: peak[("dynamic_013", t, "m5")])  # the row the summary must name
    row = f"| dynamic_013 | m5 | {100 * peak[('dynamic_013', NO_THIEF, 'm5')]:.1f} | {strongest} | {100 * peak[('dynamic_013', strongest, 'm5')]:.1f} | {100 * peak[('clean', strongest, 'm5')]:.1f} |"
    assert "## Which thief restores most" in summary and row in summary
    glance = " / ".join(f"{100 * peak[('dynamic_013', 'mp3_32k', v)]:.1f}" for v in ("m5", "logmel_cnn", "bc_resnet"))
    assert "## All victims (cells: m5 / logmel_cnn / bc_resnet)" in summary and f"| {glance} |" in summary
    assert "| clean | m5 |" not in summary  # the clean member has nothing to restore
    assert (matrix_run / "matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert (matrix_run / "pareto.png").read_bytes()[:4] == b"\x89PNG"  # worst case against PESQ-WB and STOI


def test_a_partial_matrix_is_read_from_the_cache_without_training(matrix_run, tmp_path):
    shutil.copytree(matrix_run.parent.parent / "cache", tmp_path / "cache")
    victims = sorted((tmp_path / "cache" / "victims").glob("*.json"))
    for path in victims[:2]:
        path.unlink()
    assert main(["--config", "thieves", "--quick", "--out", str(tmp_path), "--no-progress", "--cached-only"]) == 0
    assert len(list((tmp_path / "cache" / "victims").glob("*.json"))) == len(victims) - 2  # nothing trained
    (run_dir,) = (tmp_path / "thieves").iterdir()
    full, part = (json.loads((d / "results.json").read_text()) for d in (matrix_run, run_dir))
    assert len(part["missing"]) == 2 and len(part["cells"]) == len(full["cells"]) - 2
    key = lambda c: (c["config"], c["thief"], c["victim"], c["seed"])  # noqa: E731
    assert {key(c) for c in part["cells"]} | {key(m) for m in part["missing"]} == {key(c) for c in full["cells"]}
    summary = (run_dir / "summary.md").read_text()
    assert "**Partial** (`--cached-only`)" in summary and ("– / " in summary or " / –" in summary)  # a missing cell
    assert "missing" not in full  # a complete run has no such entry


def test_the_archive_keeps_every_cell_and_reports_them_without_cache_or_noise(matrix_run, tmp_path):
    shutil.copytree(matrix_run.parent.parent / "cache", tmp_path / "a" / "cache")
    cells = tmp_path / "cells"
    assert main(["--config", "thieves", "--quick", "--out", str(tmp_path / "a"), "--no-progress", "--cached-only", "--archive", str(cells)]) == 0
    victims = {p.name for p in (tmp_path / "a" / "cache" / "victims").glob("*.json")}
    assert {p.name for p in (cells / "victims").glob("*.json")} == victims  # every cell read is kept
    assert not (cells / "noise").exists()  # the archive holds results, not tensors

    # A machine with only the archive: no cache, no noise, nothing trained, every cell reported.
    assert main(["--config", "thieves", "--quick", "--out", str(tmp_path / "b"), "--no-progress", "--cached-only", "--archive", str(cells)]) == 0
    assert not list((tmp_path / "b" / "cache").glob("*/*.json"))
    (run_dir,) = (tmp_path / "b" / "thieves").iterdir()
    full, again = (json.loads((d / "results.json").read_text()) for d in (matrix_run, run_dir))
    assert again["cells"] == full["cells"] and not again["missing"]
    assert again["members"]["dynamic_013"]["metrics"] is None  # no noise, no perceptual figures


def test_a_report_from_the_cache_says_how_to_make_missing_noise(tmp_path, capsys):
    assert main(["--config", "dynamic_013", "--quick", "--out", str(tmp_path), "--no-progress", "--cached-only"]) == 2
    err = capsys.readouterr().err
    assert "nor any of its victims is in the cache" in err and "python -m bench.generate --config dynamic_013" in err
    assert not (tmp_path / "dynamic_013").exists()  # no run folder for a report that could not be made


def test_members_keep_their_budget_and_take_the_matrix_settings():
    cfg = load_config("thieves")
    members = {m.name: m for m in member_configs(cfg)}
    assert members["constant_008"].budget["eps"] == 0.08 and members["constant_008"].generation.noise_first
    assert all(m.defenses == cfg.defenses and m.victims == cfg.victims for m in members.values())


def test_a_condition_label_reads_back_as_the_condition():
    assert Condition.parse("poisoned") == Condition("poisoned", NO_THIEF) and Condition("poisoned").label == "poisoned"
    assert Condition.parse("clean+mp3_32k") == Condition("clean", "mp3_32k")
    for label in ("poisoned", "clean", "poisoned+opus_16k", "clean+augment"):
        assert Condition.parse(label).label == label
    for bad in ("stolen+mp3_32k", "poisoned+", "poisoned+a+b"):
        with pytest.raises(ValueError, match="condition"):
            Condition.parse(bad)


def test_a_matrix_with_a_budget_or_an_unknown_member_is_refused(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('matrix = ["clean"]\n[budget]\nkind = "constant"\neps = 0.01\n')
    with pytest.raises(ValueError, match="remove \\[budget\\]"):
        load_config(str(bad))
    bad.write_text('matrix = ["nope"]\n')
    with pytest.raises(ValueError, match="unknown config 'nope'"):
        load_config(str(bad))


def test_command_line_picks_victims_and_seeds():
    args = parse_args(["--config", "thieves", "--victims", "m5, bc_resnet", "--seeds", "0,2"])
    cfg = load_config("thieves", overrides_from(args))
    assert cfg.victims.models == ("m5", "bc_resnet") and cfg.victims.seeds == (0, 2)
    with pytest.raises(ValueError, match="unknown model 'vgg'"):
        load_config("thieves", overrides_from(parse_args(["--config", "thieves", "--victims", "vgg"])))
