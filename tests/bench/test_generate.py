"""`python -m bench.generate`: a config's noise into the cache, where a bench run finds it."""

from __future__ import annotations

import torch

from bench import generate
from bench.__main__ import main as bench_main
from tests.core.test_distributed import launch


def test_generated_noise_is_what_the_bench_run_then_reuses(tmp_path, capsys) -> None:
    assert generate.main(["--config", "dynamic_013", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    made = capsys.readouterr().out
    assert "1 process(es)" in made and "dynamic_013: noise " in made
    assert len(list((tmp_path / "cache" / "noise").glob("*.pt"))) == 1
    assert not list((tmp_path / "cache" / "noise").glob("*checkpoint*"))
    assert bench_main(["--config", "dynamic_013", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    assert "noise: reused" in capsys.readouterr().out


def test_a_config_without_noise_is_refused(tmp_path, capsys) -> None:
    assert generate.main(["--config", "clean", "--quick", "--out", str(tmp_path)]) == 2
    assert "has no noise budget" in capsys.readouterr().err


def test_two_processes_store_every_clip_s_noise_once(tmp_path) -> None:
    launch(["-m", "bench.generate", "--config", "dynamic_013", "--quick", "--out", str(tmp_path), "--no-progress"], 2)
    (path,) = (tmp_path / "cache" / "noise").glob("*.pt")
    stored = torch.load(path, weights_only=True)
    assert stored["delta"].shape == (80, 16_000) and len(set(stored["ids"])) == 80  # 8 clips x 10 classes
    assert stored["meta"]["computed"]["ranks"] == 2 and stored["delta"].abs().amax(dim=1).min() > 0
