"""Min-min over two CPU processes with Gloo, launched by torchrun, against one process.

Tolerances, and why. One surrogate step of two ranks computes one process's gradients up to
the order of float32 sums over thousands of terms: within 1e-5 of the largest gradient. Noise made against the untrained surrogate needs no
communication but the accuracy count, so it is bit-identical. Whole runs are compared for
what they must share (every rank the same history, the noise in budget), not sample by
sample: the convolution biases that feed batch normalisation have a true gradient of zero,
Adam divides their rounding noise by its own size and moves them by up to its learning rate,
and eval-mode batch norm then carries that into the noise's signed steps.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
import torch
import torch.distributed as dist

from core.noise.distributed import GlobalBatchNorm, Ranks, with_global_batchnorm
from core.noise.minmin import _fill_uniform
from tests.core.test_protect import make_dataset, read_rows, run, speechlike, write_tiny_config

REPO = Path(__file__).resolve().parents[2]


def launch(args: list[str], ranks: int | None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """`python ARGS` alone (ranks=None) or under torchrun with that many processes, one thread each."""
    torchrun = [] if ranks is None else ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(ranks)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    done = subprocess.run([sys.executable, *torchrun, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done


@pytest.fixture(scope="module")
def worker_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[dict]]:
    out = tmp_path_factory.mktemp("ranks")
    worker = str(REPO / "tests" / "core" / "distributed_worker.py")
    launch([worker, str(out / "one")], None)
    launch([worker, str(out / "two")], 2)
    load = lambda path: torch.load(path, weights_only=True)  # noqa: E731
    return load(out / "one.0.pt"), [load(out / f"two.{r}.pt") for r in range(2)]


def test_equal_shares_cover_every_item_once_in_rank_order() -> None:
    for n, world in ((10, 3), (2, 4), (3278, 8)):
        shards = [Ranks(r, world).share([1.0] * n) for r in range(world)]
        assert [i for s in shards for i in range(n)[s]] == list(range(n))
        assert max(s.stop - s.start for s in shards) - min(s.stop - s.start for s in shards) <= 1


def test_shares_by_weight_are_contiguous_balanced_and_may_be_empty() -> None:
    seconds = [1, 1, 1, 3600, 1, 1, 2]
    assert [Ranks(r, 2).share(seconds) for r in range(2)] == [slice(0, 4), slice(4, 7)]
    assert [Ranks(r, 3).share(seconds) for r in range(3)] == [slice(0, 4), slice(4, 4), slice(4, 7)]
    assert [Ranks(r, 2).share([0.0, 0.0]) for r in range(2)] == [slice(0, 0), slice(0, 2)]


def test_a_rank_draws_its_rows_of_the_one_process_noise_init() -> None:
    whole = torch.Generator().manual_seed(3)
    expected, after = torch.rand((2500, 7), generator=whole), torch.rand(4, generator=whole)
    part = torch.Generator().manual_seed(3)
    rows = torch.empty(1300, 7)
    _fill_uniform(part, rows, 1100, 2500)  # drawn 1024 rows at a time
    assert torch.equal(rows, expected[1100:2400])
    assert torch.equal(torch.rand(4, generator=part), after)  # the batch order that follows is the same


def test_global_batchnorm_keeps_the_layer_names_and_matches_batchnorm_in_one_rank(tmp_path) -> None:
    torch.manual_seed(0)
    plain = torch.nn.Sequential(torch.nn.Conv1d(1, 4, 3), torch.nn.BatchNorm1d(4))
    converted = with_global_batchnorm(torch.nn.Sequential(torch.nn.Conv1d(1, 4, 3), torch.nn.BatchNorm1d(4)))
    converted.load_state_dict(plain.state_dict())
    assert isinstance(converted[1], GlobalBatchNorm) and converted.state_dict().keys() == plain.state_dict().keys()
    x, weights = torch.randn(5, 1, 50), torch.randn(5, 4, 48)  # a loss whose gradient is not ~0
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        for _ in range(3):  # after the first, the running mean is the shift the sums are taken about
            out, expected = converted(x), plain(x)
            torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
        (out * weights).sum().backward()
        (expected * weights).sum().backward()
    finally:
        dist.destroy_process_group()
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(converted[1].running_var, plain[1].running_var)
    torch.testing.assert_close(converted[0].weight.grad, plain[0].weight.grad, atol=1e-5, rtol=1e-4)
    converted.eval(), plain.eval()
    torch.testing.assert_close(converted(x), plain(x))


def test_rows_of_unequal_shards_are_gathered_in_chunks_in_rank_order(worker_runs) -> None:
    one, two = worker_runs
    expected = torch.arange(12.0).reshape(12, 1).expand(12, 2)
    assert torch.equal(one["gathered"], expected) and torch.equal(two[0]["gathered"], expected)
    assert two[1]["gathered"] is None


def test_one_surrogate_step_of_two_ranks_is_one_process_step(worker_runs) -> None:
    one, two = worker_runs
    scale = max(g.abs().max() for g in one["gradients"].values())
    for name, gradient in one["gradients"].items():
        for rank in two:  # DDP leaves every rank the same all-reduced gradient
            torch.testing.assert_close(rank["gradients"][name], gradient, atol=1e-5 * scale, rtol=0, msg=name)


def test_noise_against_the_untrained_surrogate_is_bit_identical(worker_runs) -> None:
    one, two = worker_runs
    assert torch.equal(torch.cat([r["untrained"] for r in two]), one["untrained"])
    assert two[0]["untrained_accuracy"] == two[1]["untrained_accuracy"] == one["untrained_accuracy"]


def test_every_surrogate_step_trains_on_the_whole_batch_across_ranks(worker_runs) -> None:
    one, two = worker_runs
    assert one["trained_on"] == [8] * 6  # 2 rounds x 3 steps at batch_size 8
    assert [a + b for a, b in zip(two[0]["trained_on"], two[1]["trained_on"])] == [8] * 6


def test_a_two_rank_run_agrees_on_its_history_and_keeps_the_budget(worker_runs) -> None:
    one, two = worker_runs
    assert two[0]["history"] == two[1]["history"] and len(two[0]["history"]) == len(one["history"]) == 2
    delta = torch.cat([r["delta"] for r in two])
    assert delta.shape == one["delta"].shape and delta.abs().max() <= 0.05 + 1e-6 and delta.abs().mean() > 0.01


def test_a_run_stopped_after_a_round_resumes_to_the_uninterrupted_result(worker_runs) -> None:
    one, two = worker_runs
    for result in (one, *two):  # one process, and each of two ranks from its own checkpoint
        assert torch.equal(result["resumed"], result["delta"])
        assert [round(a, 9) for a in result["resumed_history"]] == [round(a, 9) for a in result["history"]]


def test_protect_under_torchrun_writes_every_file_once_and_one_process_resumes_it(tmp_path) -> None:
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    make_dataset(in_dir)
    config = write_tiny_config(tmp_path)
    command = ["-m", "core", "protect", str(in_dir), str(out_dir), "--config", str(config), "--no-progress", "--no-perceptual"]
    done = launch([*command, "--work", "disk"], 2)  # each rank's arrays memory-mapped in a folder of its own
    assert "2 processes" in done.stderr and "protected 6," in done.stdout and "skipped 2" in done.stdout
    rows = read_rows(out_dir)
    assert sorted(r["status"] for r in rows.values()).count("protected") == 6 and len(rows) == 8
    assert not list((out_dir / ".protect").glob("*checkpoint*")) and not list((out_dir / ".protect").glob("work*"))
    again = run(in_dir, out_dir, config)  # the rank count is not part of the noise's key
    assert again.reused == 6 and again.protected == 0 and again.noise_reused


def test_a_rank_whose_share_is_empty_still_takes_part(tmp_path) -> None:
    in_dir = tmp_path / "in"
    for rel, seconds in (("a/long.wav", 6.0), ("a/short.wav", 0.5), ("b/x.wav", 0.5), ("b/y.wav", 0.7)):
        (in_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(in_dir / rel, speechlike(seconds, 16_000, 1, len(rel))[:, 0], 16_000, subtype="PCM_16")
    config = write_tiny_config(tmp_path)  # 3 ranks: the long file, nothing, the three short ones
    done = launch(["-m", "core", "protect", str(in_dir), str(tmp_path / "out"), "--config", str(config), "--no-progress", "--no-perceptual"], 3)
    assert "protected 4," in done.stdout and "noise generated for 9 window(s)" in done.stdout



def test_ranks_leave_together_after_success_and_at_once_after_a_failure(monkeypatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "barrier", lambda: calls.append("barrier"))
    monkeypatch.setattr(dist, "destroy_process_group", lambda: calls.append("destroy"))
    with Ranks(1, 3):
        pass
    assert calls == ["barrier", "destroy"]  # nobody tears down while a peer finishes the last collective
    calls.clear()
    with pytest.raises(OSError), Ranks(1, 3):
        raise OSError("disk full")
    assert calls == ["destroy"]  # the others may wait in a collective this rank never joins
    calls.clear()
    with Ranks():
        pass
    assert calls == []  # one process: no group to leave


def test_a_rank_ends_with_its_exit_code_and_flushed_output_without_interpreter_shutdown(tmp_path) -> None:
    script = tmp_path / "end.py"
    script.write_text(
        "import atexit, sys\nfrom core.noise.distributed import Ranks\n"
        "atexit.register(lambda: print('shutdown ran'))\n"
        "print('summary', end='')\nsys.stderr.write('log')\n"
        "sys.exit(Ranks(1, 3).exit_code(int(sys.argv[1])))\n"
    )
    for code in (0, 3):
        done = subprocess.run([sys.executable, str(script), str(code)], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert (done.returncode, done.stdout, done.stderr) == (code, "summary", "log")  # nothing lost, no shutdown
    assert Ranks().exit_code(3) == 3  # one process returns it like any exit code
