"""python -m bench.speed on a tiny batch: every timing measured, the table and JSON printed."""

from __future__ import annotations

import json

import pytest
import torch

from bench.speed import main, measure, report


def test_every_timing_is_measured_and_reported(capsys):
    speed = measure(torch.device("cpu"), batch=8, clips=16, repeats=1)
    assert min(speed.model_step, speed.noise_step, speed.minmin_round, speed.victim_epoch) > 0
    assert speed.noise_ratio == speed.noise_step / speed.model_step and 0.0 <= speed.outside_model < 1.0
    table = report(speed, torch.device("cpu"))
    assert "(b) one noise step (descend)" in table and f"{speed.noise_ratio:.2f}" in table
    assert main(["--device", "cpu", "--batch", "8", "--clips", "16", "--repeats", "1", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) >= {"model_step", "noise_step", "minmin_round", "victim_epoch", "noise_ratio"}


def test_bad_sizes_are_refused():
    with pytest.raises(SystemExit):
        main(["--batch", "32", "--clips", "16"])
