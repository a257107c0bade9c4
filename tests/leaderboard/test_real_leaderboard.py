"""The schema test of the real leaderboard folder: fast, no scoring. It passes with no
entries (only seed submissions) and keeps passing as scored entries are committed."""

from __future__ import annotations

from leaderboard.entries import LEADERBOARD_ROOT, submission_paths
from leaderboard.submission import load_submission
from leaderboard.verify import verify


def test_real_leaderboard_verifies():
    assert verify(LEADERBOARD_ROOT) == []


def test_seed_submissions_and_template_are_valid(tmp_path):
    names = {p.stem for p in submission_paths(LEADERBOARD_ROOT)}
    assert {"clean_reference", "paper_constant_008", "paper_dynamic_013"} <= names
    template = (LEADERBOARD_ROOT / "submissions" / "TEMPLATE.toml.example").read_bytes()
    copy = tmp_path / "my_budget.toml"
    copy.write_bytes(template)
    assert load_submission(copy)[0].name == "my_budget"


def test_paper_dynamic_matches_the_bench_config():
    """Same budget as bench/configs/dynamic_013.toml, so their noise is shared in the cache."""
    from bench.config import load_config

    submission, _ = load_submission(LEADERBOARD_ROOT / "submissions" / "paper_dynamic_013.toml")
    assert submission.budget == load_config("dynamic_013").budget
    constant, _ = load_submission(LEADERBOARD_ROOT / "submissions" / "paper_constant_008.toml")
    assert constant.budget == load_config("constant_008").budget


def test_current_entries_were_scored_by_the_current_protocol():
    """Catches a protocol change (protocol.toml, the bench's _base.toml generation, or a new
    generation option that is not neutral by default) without a version bump and rescoring.
    Entries not yet rescored under the current version keep their older scoring (rendered as
    superseded); at least the clean reference is current."""
    from leaderboard.entries import entry_paths, read_entry
    from leaderboard.protocol import PROTOCOL_VERSION, protocol_config, protocol_hash

    entries = [read_entry(p) for p in entry_paths(LEADERBOARD_ROOT)]
    current = [e for e in entries if e["protocol_version"] == PROTOCOL_VERSION]
    assert "clean_reference" in {e["name"] for e in current}
    for entry in current:
        assert entry["protocol_hash"] == protocol_hash(protocol_config(entry["budget"])), entry["name"]


def test_tried_tables_are_valid_and_were_not_submitted():
    """leaderboard/tried/ holds the tables of leaderboard/FINDINGS.md, "Quieter than the paper's table", so
    `python -m leaderboard seeds leaderboard/tried/NAME.toml` reproduces each row."""
    tried = sorted((LEADERBOARD_ROOT / "tried").glob("*.toml"))
    assert len(tried) == 6
    submitted = {p.stem for p in submission_paths(LEADERBOARD_ROOT)}
    for path in tried:
        assert load_submission(path)[0].name == path.stem not in submitted
