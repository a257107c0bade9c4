"""Hand-made entries and submission files for the leaderboard tests (no scoring needed)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

PAPER_TOML = """name = "{name}"
authors = ["A. Author"]
description = "A test budget."

[budget]
kind = "segment_mask"
eps_max = 0.13
segment_samples = 1000
level = "mean_abs"
rows = [
  {{ threshold = 0.1, mask = 1.0 }},
  {{ threshold = 0.0, mask = 0.1 }},
]
"""


def write_submission(folder: Path, name: str, text: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(PAPER_TOML.format(name=name) if text is None else text, encoding="utf-8")
    return path


def make_entry(name: str, worst: float, pesq: float | None, kind: str = "constant") -> dict[str, Any]:
    """A schema-valid entry whose worst-case peak is `worst` (m5 / resample) and PESQ `pesq`."""
    budget = {"kind": "none"} if kind == "none" else {"kind": "constant", "eps": 0.08}
    accuracy = [
        {"victim": "m5", "defense": "none", "seed": 0, "peak": worst / 2, "final": worst / 2},
        {"victim": "m5", "defense": "resample", "seed": 0, "peak": worst, "final": worst / 2},
    ]
    return {
        "name": name,
        "authors": ["A. Author"],
        "description": f"entry {name}",
        "link": None,
        "budget": budget,
        "scores": {
            "accuracy": accuracy,
            "worst_case_peak": worst,
            "pesq_wb_mean": pesq,
            "stoi_mean": None if pesq is None else 0.9,
            "snr_db_median": None if pesq is None else 20.0,
            "band_snr_db": [],
        },
        "protocol_version": 1,
        "protocol_hash": "0123456789abcdef",
        "submission_sha256": hashlib.sha256(name.encode()).hexdigest(),
        "package_version": "0.1.0",
        "git_commit": None,
        "data_fingerprint": "fedcba9876543210",
        "date": "2026-01-02T03:04:05+00:00",
        "scoring_seconds": 1.5,
        "device": "cpu",
    }
