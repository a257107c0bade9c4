"""Submission validation: every bad field gets its own message, all reported at once."""

from __future__ import annotations

import copy

import pytest

from leaderboard.submission import MAX_FILE_BYTES, load_submission, submission_problems
from tests.leaderboard.factory import write_submission

GOOD = {
    "name": "good",
    "authors": ["A. Author"],
    "description": "fine",
    "budget": {
        "kind": "segment_mask",
        "eps_max": 0.13,
        "segment_samples": 1000,
        "level": "mean_abs",
        "rows": [{"threshold": 0.1, "mask": 1.0}, {"threshold": 0.0, "mask": 0.1}],
    },
}


def problems_with(**changes):
    data = copy.deepcopy(GOOD)
    for path, value in changes.items():
        *parents, key = path.split("__")
        target = data
        for p in parents:
            target = target[p]
        if value is DELETE:
            del target[key]
        else:
            target[key] = value
    return submission_problems(data, "good")


DELETE = object()


def test_good_submission_has_no_problems():
    assert submission_problems(GOOD, "good") == []
    assert problems_with(link="https://example.org") == []
    assert problems_with(budget={"kind": "constant", "eps": 0.25}) == []
    assert problems_with(budget__band_limit_hz=4000) == []
    assert problems_with(budget={"kind": "constant", "eps": 0.08, "band_limit_hz": 3400.5}) == []
    robust = {"augment": True, "rem_radius": 0.05, "rem_steps": 3, "surrogate": "m5+logmel_cnn"}
    assert problems_with(generation=robust) == [] and problems_with(generation={}) == []


def test_a_clean_reference_chooses_no_generation():
    clean = {**GOOD, "name": "clean_reference", "budget": {"kind": "none"}, "generation": {"augment": True}}
    assert submission_problems(clean, "clean_reference") == ['generation: a kind = "none" budget makes no noise; remove [generation]']


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": "Bad Name"}, "name: must match"),
        ({"name": "other"}, "name: must equal the file name stem 'good'"),
        ({"authors": []}, "authors: must be a non-empty list"),
        ({"authors": ["ok", 3]}, "authors[1]: must be a non-empty string"),
        ({"description": 5}, "description: must be a non-empty string, got 5"),
        ({"link": "ftp://x"}, "link: must start with https://"),
        ({"budget": "big"}, "budget: must be a table"),
        ({"budget__kind": "psychoacoustic"}, "budget.kind: must be one of"),
        ({"budget__eps_max": 0.3}, "budget.eps_max: must be a number with 0 < eps_max <= 0.25, got 0.3"),
        ({"budget__eps_max": 0}, "budget.eps_max: must be a number"),
        ({"budget__eps_max": "0.1"}, "budget.eps_max: must be a number"),
        ({"budget__eps_max": True}, "budget.eps_max: must be a number"),
        ({"budget__segment_samples": 79}, "budget.segment_samples: must be an integer in 80..16000, got 79"),
        ({"budget__segment_samples": 16001}, "budget.segment_samples: must be an integer in 80..16000"),
        ({"budget__segment_samples": 1000.0}, "budget.segment_samples: must be an integer"),
        ({"budget__level": "peak"}, "budget.level: must be one of ['mean_abs', 'rms'], got 'peak'"),
        ({"budget__rows": []}, "budget.rows: must hold 1 to 16 rows, got 0"),
        ({"budget__rows": [{"threshold": 1.0 - i / 20, "mask": 0.5} for i in range(17)]}, "got 17"),
        ({"budget__rows": [{"threshold": 0.1, "mask": 1.2}]}, "budget.rows[0].mask: must be a number in [0, 1], got 1.2"),
        ({"budget__rows": [{"threshold": 0.1, "mask": -0.1}]}, "budget.rows[0].mask: must be a number in [0, 1]"),
        (
            {"budget__rows": [{"threshold": 0.1, "mask": 1.0}, {"threshold": 0.1, "mask": 0.5}]},
            "budget.rows: thresholds must be strictly decreasing",
        ),
        ({"budget__rows": [{"threshold": 0.1}]}, "budget.rows[0].mask: missing"),
        ({"budget__rows": [[0.1, 1.0]]}, "budget.rows[0]: must be a table"),
        ({"budget__rows": "none"}, "budget.rows: must be a list"),
        ({"budget__level": DELETE}, "budget.level: missing (required)"),
        ({"budget": {"kind": "constant", "eps": 0.5}}, "budget.eps: must be a number with 0 < eps <= 0.25"),
        ({"budget": {"kind": "constant"}}, "budget.eps: missing"),
        ({"budget": {"kind": "none"}}, "budget.kind: 'none' is reserved for the 'clean_reference'"),
        ({"budget__band_limit_hz": 8000}, "budget.band_limit_hz: must be a number of Hz with 0 < band_limit_hz < 8000"),
        ({"budget__band_limit_hz": "4 kHz"}, "budget.band_limit_hz: must be a number of Hz"),
        ({"budget": {"kind": "constant", "eps": 0.08, "band_limit_hz": 0}}, "budget.band_limit_hz: must be a number"),
        ({"description": DELETE}, "description: missing (required)"),
        ({"budget__eps_max": 10**400}, "budget.eps_max: must be a number"),  # no OverflowError
        ({"budget__rows": [{"threshold": 10**400, "mask": 1.0}]}, "budget.rows[0].threshold: must be a number"),
        ({"budget__band_limit_hz": -(10**400)}, "budget.band_limit_hz: must be a number of Hz"),
        ({"generation": "eot"}, "generation: must be a table"),
        ({"generation": {"steps": 40}}, "generation.steps: unknown key; allowed: ['augment', 'rem_radius', 'rem_steps', 'surrogate']"),
        ({"generation": {"augment": "yes"}}, "generation.augment: must be true or false"),
        ({"generation": {"rem_radius": 0.13}}, "generation.rem_radius: must be a number with 0 <= rem_radius < the budget's bound 0.13"),
        ({"generation": {"rem_radius": -0.01}}, "generation.rem_radius: must be a number"),
        ({"generation": {"rem_steps": 5}}, "generation.rem_steps: must be an integer in 1..4, got 5"),
        ({"generation": {"surrogate": "m5+wav2vec"}}, "generation.surrogate: unknown model 'wav2vec'"),
        ({"generation": {"surrogate": "m5+m5"}}, "generation.surrogate: surrogate 'm5+m5' names a model twice"),
    ],
)
def test_each_bad_field_has_its_own_message(changes, expected):
    problems = problems_with(**changes)
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_unknown_keys_rejected_at_every_level():
    data = copy.deepcopy(GOOD)
    data["extra"] = 1
    data["budget"]["foo"] = 2
    data["budget"]["rows"][1]["weight"] = 3
    problems = submission_problems(data, "good")
    assert [p.split(":")[0] for p in problems] == ["extra", "budget.foo", "budget.rows[1].weight"]
    assert all("unknown key" in p for p in problems)


def test_clean_reference_may_use_kind_none():
    data = {**GOOD, "name": "clean_reference", "budget": {"kind": "none"}}
    assert submission_problems(data, "clean_reference") == []
    assert "budget.extra: unknown key" in submission_problems({**data, "budget": {"kind": "none", "extra": 1}})[0]
    assert "budget.band_limit_hz: unknown key" in submission_problems({**data, "budget": {"kind": "none", "band_limit_hz": 4000}})[0]


def test_several_problems_reported_together(tmp_path):
    text = (
        'name = "Bad"\nauthors = []\ndescription = "x"\nextra = 1\n'
        '[budget]\nkind = "segment_mask"\neps_max = 0.5\nsegment_samples = 10\nlevel = "peak"\n'
        "band_limit_hz = 9000\n"
        "rows = [{threshold = 0.1, mask = 1.5}, {threshold = 0.2, mask = 0.5}]\n"
    )
    path = write_submission(tmp_path, "bad", text)
    with pytest.raises(ValueError) as err:
        load_submission(path)
    message = str(err.value)
    assert "has 9 problem(s)" in message
    for field in ("extra:", "name:", "authors:", "budget.eps_max:", "budget.segment_samples:", "budget.level:", "budget.rows[0].mask:", "budget.rows: thresholds", "budget.band_limit_hz:"):
        assert f"  - {field}" in message, field


def test_file_limits_utf8_and_toml(tmp_path):
    good = write_submission(tmp_path, "good")
    submission, raw = load_submission(good)
    assert submission.name == "good" and raw == good.read_bytes() and submission.link is None
    big = write_submission(tmp_path, "big", good.read_text() + "#" * MAX_FILE_BYTES)
    with pytest.raises(ValueError, match=f"file: must be at most {MAX_FILE_BYTES} bytes"):
        load_submission(big)
    at_limit = good.read_text()
    at_limit += "#" * (MAX_FILE_BYTES - len(at_limit.encode()) - 1) + "\n"
    load_submission(write_submission(tmp_path, "good", at_limit))  # exactly 64 KB is fine
    latin1 = tmp_path / "latin.toml"
    latin1.write_bytes(good.read_bytes().replace(b"A. Author", b"\xe9"))
    with pytest.raises(ValueError, match="file: must be UTF-8"):
        load_submission(latin1)
    with pytest.raises(ValueError, match="file: must be valid TOML"):
        load_submission(write_submission(tmp_path, "broken", "name = \n"))
    with pytest.raises(ValueError, match="does not exist"):
        load_submission(tmp_path / "missing.toml")


def test_name_must_equal_file_stem(tmp_path):
    path = write_submission(tmp_path, "renamed", write_submission(tmp_path, "original").read_text())
    with pytest.raises(ValueError, match="name: must equal the file name stem 'renamed', got 'original'"):
        load_submission(path)
