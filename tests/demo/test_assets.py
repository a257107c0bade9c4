"""The demo's shipped assets: examples the surrogate recognises, complete and small."""

from __future__ import annotations

import json

import torch

from core.data import read_audio
from core.data.windows import split_windows
from core.surrogate import ASSETS_DIR as SURROGATE_DIR
from core.surrogate import load_surrogate, predict_label
from demo.examples import ASSETS_DIR, CLEAN, SHIPPED_CONFIGS, read_index

MAX_ASSETS_BYTES = 3_000_000


def test_surrogate_recognises_most_shipped_examples() -> None:
    surrogate = load_surrogate()
    examples = read_index().examples
    hits = sum(surrogate.classes[predict_label(surrogate, torch.from_numpy(split_windows(read_audio(e.clean))))] == e.word for e in examples)
    assert hits >= len(examples) // 2


def test_shipped_assets_are_complete_and_small() -> None:
    index = read_index()
    assert set(index.budgets) == set(SHIPPED_CONFIGS) and len(index.examples) >= 6
    for example in index.examples:
        assert example.clean.is_file()
        assert set(example.protected) == set(SHIPPED_CONFIGS) - {CLEAN}
        assert all(path.is_file() for path in example.protected.values())
        assert set(example.metrics) == set(SHIPPED_CONFIGS)
    info = json.loads((SURROGATE_DIR / "surrogate_m5.json").read_text())
    assert info["model"] == "m5" and info["test_accuracy"] > 0.3
    shipped = [*ASSETS_DIR.rglob("*"), *SURROGATE_DIR.rglob("*")]
    assert sum(f.stat().st_size for f in shipped if f.is_file()) < MAX_ASSETS_BYTES
