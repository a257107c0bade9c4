"""`python -m core protect`: formats kept, noise within budget, garbage skipped, resume without regeneration."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from bench.config import load_config
from core import __main__ as cli
from core import protect as protect_module
from core.budgets import budget_from_dict
from core.data import audio_io
from core.data.audio_io import read_audio
from core.data.windows import split_windows, stitch
from core.noise import load_noise
from core.noise import make as make_module
from core.noise.adding import add_noise, eps_16k
from core.protect import MANIFEST_NAME, ProtectSummary, protect_folder

REPO = Path(__file__).resolve().parents[2]
TOLERANCE = 2.0**-15
"""Slack over eps_max for quantisation: one PCM_16 step (the resampled noise is clamped again)."""

# relative path -> (duration_s, sample_rate_hz, channels, subtype)
FILES = {
    "yes/a.wav": (0.5, 16_000, 1, "PCM_16"),
    "yes/deep/b.wav": (1.7, 16_000, 1, "PCM_16"),
    "yes/c.wav": (1.0, 8_000, 2, "PCM_16"),
    "no/d.flac": (1.7, 44_100, 1, "PCM_24"),
    "no/e.wav": (0.5, 22_050, 1, "FLOAT"),
    "no/f.wav": (1.7, 16_000, 1, "PCM_16"),
}
GARBAGE = {"no/garbage.wav": b"this is not audio\n", "yes/empty.wav": b""}


def speechlike(duration_s: float, rate_hz: int, channels: int, seed: int) -> np.ndarray:
    """A tone with a loud and a quiet half plus hiss, so the segment mask sees several levels."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * rate_hz)) / rate_hz
    envelope = np.where(t < duration_s / 2, 0.5, 0.02)
    mono = envelope * np.sin(2 * np.pi * (200 + 50 * seed) * t) + 0.01 * rng.standard_normal(t.size)
    return np.stack([mono * (0.8 + 0.2 * c) for c in range(channels)], axis=1)


def make_dataset(root: Path) -> None:
    for seed, (rel, (duration_s, rate_hz, channels, subtype)) in enumerate(FILES.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, speechlike(duration_s, rate_hz, channels, seed), rate_hz, subtype=subtype)
    for rel, content in GARBAGE.items():
        (root / rel).write_bytes(content)


def write_tiny_config(folder: Path) -> Path:
    base = os.path.relpath(REPO / "bench" / "configs" / "dynamic_013.toml", folder)
    path = folder / "tiny.toml"
    path.write_text(
        f'include = "{Path(base).as_posix()}"\n\n[generation]\nsteps = 1\ntrain_steps = 1\nmin_rounds = 1\n'
        "max_rounds = 1\nnoise_batch_size = 8\nbatch_size = 4\n"
    )
    return path


def snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Size, mtime and SHA-256 of every file under root, by relative path."""
    files = (p for p in sorted(root.rglob("*")) if p.is_file())
    return {p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns, sha256(p)) for p in files}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_rows(out_dir: Path) -> dict[str, dict[str, str]]:
    with (out_dir / MANIFEST_NAME).open(newline="") as f:
        return {row["path"]: row for row in csv.DictReader(f)}


def rows_key(out_dir: Path) -> str:
    """The one noise key all protected rows of a manifest share."""
    (key,) = {row["noise_key"] for row in read_rows(out_dir).values() if row["status"] == "protected"}
    return key


def run(in_dir: Path, out_dir: Path, config: Path, work: str = "auto") -> ProtectSummary:
    cfg = load_config(str(config))
    budget, minmin = budget_from_dict(cfg.budget), cfg.generation.minmin()
    return protect_folder(in_dir, out_dir, budget, minmin, cfg.generation.surrogate, progress=False, work=work)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, ProtectSummary, dict]:
    root = tmp_path_factory.mktemp("protect")
    in_dir, out_dir = root / "in", root / "out"
    make_dataset(in_dir)
    config = write_tiny_config(root)
    before = snapshot(in_dir)
    summary = run(in_dir, out_dir, config)
    assert snapshot(in_dir) == before
    return in_dir, out_dir, config, summary, before


def test_windows_round_trip() -> None:
    audio = np.arange(27_000, dtype=np.float32)
    windows = split_windows(audio)
    assert windows.shape == (2, 16_000) and not windows[1, 11_000:].any()
    assert np.array_equal(stitch(windows, audio.size), audio)


def test_outputs_keep_paths_and_formats(first_run) -> None:
    in_dir, out_dir, _, summary, _ = first_run
    assert (summary.protected, summary.skipped, summary.failed, summary.reused) == (len(FILES), len(GARBAGE), 0, 0)
    assert not summary.noise_reused
    written = {p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file()}
    assert {p for p in written if p.startswith(".protect/")} == {f".protect/noise-{rows_key(out_dir)}.pt"}
    written = {p for p in written if not p.startswith(".protect/")}
    assert written == set(FILES) | {MANIFEST_NAME}
    for rel in FILES:
        a, b = sf.info(in_dir / rel), sf.info(out_dir / rel)
        kept = ("samplerate", "channels", "subtype", "format", "frames")
        assert [getattr(b, k) for k in kept] == [getattr(a, k) for k in kept], rel


def test_noise_is_nonzero_and_within_budget(first_run) -> None:
    in_dir, out_dir, config, _, _ = first_run
    eps_max = load_config(str(config)).budget["eps_max"]
    rows = read_rows(out_dir)
    for rel in FILES:
        original, _ = sf.read(in_dir / rel, always_2d=True)
        protected, _ = sf.read(out_dir / rel, always_2d=True)
        gap = np.abs(protected - original).max()
        assert 0 < gap <= eps_max + TOLERANCE, rel
        assert float(rows[rel]["linf_native"]) == pytest.approx(gap, rel=1e-4)


def test_noise_follows_the_per_sample_budget_at_16k(first_run) -> None:
    in_dir, out_dir, config, _, _ = first_run
    budget = budget_from_dict(load_config(str(config)).budget)
    for rel in ("yes/a.wav", "yes/deep/b.wav", "no/f.wav"):
        clean = read_audio(in_dir / rel)
        gap = np.abs(read_audio(out_dir / rel) - clean)
        assert (gap <= eps_16k(budget, clean) + TOLERANCE).all(), rel


def test_noise_was_optimized_only_where_it_is_written(first_run) -> None:
    """The 0.5-s clip's window has no noise in its padding, and the 8 kHz file's noise (made
    at 16 kHz) stays below 4 kHz, so the surrogate learned from nothing the files lost."""
    _, out_dir, *_ = first_run
    ids = ["yes/a.wav#0", "yes/c.wav#0"]
    delta = load_noise(out_dir / ".protect" / f"noise-{rows_key(out_dir)}.pt", ids)[0].double()
    assert not list((out_dir / ".protect").glob("*.checkpoint.pt"))  # deleted once the noise was stored
    assert delta[0, 8000:].abs().max() == 0 and delta[0, :8000].abs().max() > 0
    power = torch.fft.rfft(delta[1]).abs() ** 2
    assert float(power[torch.fft.rfftfreq(16000, 1 / 16000) > 4000].sum() / power.sum()) < 0.05


def test_manifest_rows(first_run) -> None:
    _, out_dir, _, _, _ = first_run
    rows = read_rows(out_dir)
    assert list(rows) == sorted([*FILES, *GARBAGE])
    for rel in GARBAGE:
        assert rows[rel]["status"].startswith("skipped: ") and rows[rel]["class"] == rel.split("/")[0]
    for rel, (duration_s, rate_hz, channels, _) in FILES.items():
        row = rows[rel]
        assert row["status"] == "protected" and row["class"] == rel.split("/")[0]
        assert (int(row["sample_rate_hz"]), int(row["channels"])) == (rate_hz, channels)
        assert float(row["duration_s"]) == pytest.approx(duration_s, abs=1e-3)
        assert float(row["snr_db"]) < 100 and 0 < float(row["linf"]) < 0.2
        assert 0 < float(row["stoi"]) <= 1 and 1 <= float(row["pesq_wb"]) <= 4.7


def test_rerun_reuses_noise_and_rewrites_only_deleted_output(first_run, monkeypatch, tmp_path) -> None:
    in_dir, first_out, config, _, before = first_run
    out_dir = tmp_path / "out"
    shutil.copytree(first_out, out_dir)
    monkeypatch.setattr(protect_module, "make_noise", lambda *a, **k: pytest.fail("noise was regenerated"))
    summary = run(in_dir, out_dir, config)
    assert (summary.protected, summary.reused, summary.skipped, summary.noise_reused) == (0, len(FILES), 2, True)
    (out_dir / "yes/deep/b.wav").unlink()
    outputs = snapshot(out_dir)
    summary = run(in_dir, out_dir, config)
    assert (summary.protected, summary.reused, summary.noise_reused) == (1, len(FILES) - 1, True)
    after = snapshot(out_dir)
    changed = {rel for rel in after if outputs.get(rel) != after[rel]}
    assert changed == {"yes/deep/b.wav", MANIFEST_NAME}
    assert snapshot(in_dir) == before


def test_a_run_killed_while_writing_resumes_without_redoing_finished_files(first_run, monkeypatch, tmp_path) -> None:
    """The manifest grows by a row per written file, so a resume after a kill neither writes
    nor measures a finished file again."""
    in_dir, first_out, config, *_ = first_run
    out_dir = tmp_path / "out"
    shutil.copytree(first_out / ".protect", out_dir / ".protect")  # the noise exists; the outputs do not
    real = protect_module.protect_file
    calls: list[str] = []

    def dies_on_the_third(src, dst, *args, **kwargs):
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process is killed while writing
        calls.append(src.name)
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(protect_module, "protect_file", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        run(in_dir, out_dir, config)
    rows = read_rows(out_dir)
    assert sum(row["status"] == "protected" for row in rows.values()) == 2
    monkeypatch.setattr(protect_module, "protect_file", lambda src, dst, *a, **k: calls.append(src.name) or real(src, dst, *a, **k))
    summary = run(in_dir, out_dir, config)
    assert (summary.reused, summary.protected) == (2, len(FILES) - 2)
    assert len(calls) == len(FILES) and len(set(calls)) == len(FILES)  # each file written once over both runs
    assert list(read_rows(out_dir)) == sorted([*FILES, *GARBAGE])


def test_a_cut_short_noise_file_is_reported_and_generated_again(first_run, tmp_path, capsys) -> None:
    in_dir, first_out, config, _, _ = first_run
    out_dir = tmp_path / "out"
    shutil.copytree(first_out, out_dir)
    (noise_file,) = (out_dir / ".protect").glob("noise-*.pt")
    noise_file.write_bytes(noise_file.read_bytes()[:100])  # as a kill during a copy leaves it
    (out_dir / "yes/a.wav").unlink()
    summary = run(in_dir, out_dir, config)
    assert "cannot be read as noise" in capsys.readouterr().err
    assert not summary.noise_reused and summary.protected == 1
    assert run(in_dir, out_dir, config).noise_reused  # the regenerated file reads back


def test_an_output_that_cannot_be_written_is_refused_before_any_noise_work(first_run, tmp_path, monkeypatch) -> None:
    in_dir, _, config, _, _ = first_run
    monkeypatch.setattr(protect_module, "make_noise", lambda *a, **k: pytest.fail("noise work began"))
    a_file = tmp_path / "taken.txt"
    a_file.write_text("not a folder")
    with pytest.raises(ValueError, match="is a file"):
        run(in_dir, a_file, config)
    with pytest.raises(ValueError, match="cannot be written"):
        run(in_dir, a_file / "out", config)
    assert a_file.read_text() == "not a folder"


def test_an_unreadable_input_file_is_skipped_and_reported(first_run, tmp_path, monkeypatch, capsys) -> None:
    in_dir, _, config, _, _ = first_run
    readable = protect_module.file_sha256

    def locked(path):  # as a file without read permission behaves (tests may run as root)
        if path.name == "a.wav":
            raise PermissionError(13, "Permission denied")
        return readable(path)

    monkeypatch.setattr(protect_module, "file_sha256", locked)
    summary = run(in_dir, tmp_path / "out", config)
    assert summary.skipped == len(GARBAGE) + 1 and summary.protected == len(FILES) - 1
    assert "a.wav: cannot be read (Permission denied)" in capsys.readouterr().err
    rows = {r["path"]: r for r in csv.DictReader((tmp_path / "out" / MANIFEST_NAME).open())}
    assert rows["yes/a.wav"]["status"].startswith("skipped:")


def test_files_that_cannot_hold_the_budget_are_never_reported_protected(tmp_path, capsys) -> None:
    in_dir = tmp_path / "in"
    (in_dir / "yes").mkdir(parents=True)
    (in_dir / "no").mkdir()
    loud = speechlike(1.0, 16_000, 1, 0)
    loud[100] = 1.5  # a float file beyond full scale
    sf.write(in_dir / "yes/hot.wav", loud, 16_000, subtype="FLOAT")
    sf.write(in_dir / "yes/byte.wav", speechlike(1.0, 16_000, 1, 1), 16_000, subtype="PCM_U8")
    sf.write(in_dir / "yes/lossy.ogg", speechlike(1.0, 16_000, 1, 2), 16_000, format="OGG", subtype="VORBIS")
    sf.write(in_dir / "no/fine.wav", speechlike(1.0, 16_000, 1, 3), 16_000, subtype="PCM_16")
    summary = run(in_dir, tmp_path / "out", write_tiny_config(tmp_path))
    rows = {r["path"]: r for r in csv.DictReader((tmp_path / "out" / MANIFEST_NAME).open())}
    assert rows["yes/hot.wav"]["status"].startswith("skipped:") and "beyond full scale" in rows["yes/hot.wav"]["status"]
    for rel in ("yes/byte.wav", "yes/lossy.ogg"):
        assert rows[rel]["status"].startswith("over budget: samples move by up to"), rows[rel]
        assert (tmp_path / "out" / rel).is_file()
    assert rows["no/fine.wav"]["status"] == "protected"
    assert (summary.protected, summary.over_budget, summary.skipped, summary.failed) == (1, 2, 1, 0)
    assert "over budget 2 file(s)" in str(summary)
    again = run(in_dir, tmp_path / "out", write_tiny_config(tmp_path))
    assert (again.reused, again.protected, again.over_budget) == (3, 0, 0)  # written once, not redone


def test_overlapping_or_missing_folders_are_refused(first_run, tmp_path) -> None:
    in_dir, _, config, _, before = first_run
    for out_dir in (in_dir, in_dir / "protected", in_dir / "yes" / "out"):
        with pytest.raises(ValueError, match="inside"):
            run(in_dir, out_dir, config)
    with pytest.raises(ValueError, match="inside output folder"):
        run(in_dir, in_dir.parent, config)
    with pytest.raises(ValueError, match="does not exist"):
        run(tmp_path / "missing", tmp_path / "out", config)
    assert snapshot(in_dir) == before


def test_cli_protects_and_rejects_clean_config(first_run, tmp_path, capsys) -> None:
    in_dir, _, config, _, _ = first_run
    out_dir = tmp_path / "cli_out"
    args = ["protect", str(in_dir), str(out_dir), "--config", str(config), "--no-progress", "--no-perceptual"]
    assert cli.main(args) == 0
    out = capsys.readouterr()
    assert f"protected {len(FILES)}" in out.out and "skipped: " in out.err
    assert read_rows(out_dir)["no/f.wav"]["pesq_wb"] == ""
    assert cli.main(["protect", str(in_dir), str(tmp_path / "x"), "--config", "clean", "--no-progress"]) == 2
    assert "error: " in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_a_long_file_is_written_block_by_block_with_the_samples_of_one_pass(tmp_path, monkeypatch) -> None:
    """protect_file streams (read, add noise, write, read back READ_BLOCK_FRAMES at a time):
    the written file equals the in-memory `add_noise` of the whole file, and memory stays
    that of the 16-kHz mono eps, far below the file's own float64 samples."""
    import tracemalloc

    rate, seconds = 44_100, 60
    stereo = speechlike(seconds, rate, 2, seed=3)
    src, dst = tmp_path / "long.wav", tmp_path / "out" / "long.wav"
    sf.write(src, stereo, rate, subtype="FLOAT")
    clean = read_audio(src)
    noise = (np.random.default_rng(0).uniform(-1, 1, clean.shape) * 0.05).astype(np.float32)
    budget = budget_from_dict({"kind": "constant", "eps": 0.02})
    monkeypatch.setattr(audio_io, "READ_BLOCK_FRAMES", 4096)
    monkeypatch.setattr(protect_module, "recording_metrics", lambda *a: {})  # capped at 30 s; not the write path
    tracemalloc.start()
    row = protect_module.protect_file(src, dst, clean, noise, budget, perceptual=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    whole = add_noise(sf.read(src, dtype="float64", always_2d=True)[0], noise, eps_16k(budget, clean), rate)
    np.testing.assert_array_equal(sf.read(dst, dtype="float64", always_2d=True)[0], whole.astype(np.float32))
    assert row["status"] == "protected" and float(row["linf_native"]) <= 0.02 + 1e-6
    assert peak < stereo.nbytes / 6, f"peak {peak / 2**20:.1f} MiB for a {stereo.nbytes / 2**20:.1f} MiB file"


def test_min_min_that_would_not_fit_in_memory_is_refused_before_it_starts(first_run, tmp_path, monkeypatch) -> None:
    in_dir, _, config, _, _ = first_run
    monkeypatch.setattr(make_module, "available_memory_bytes", lambda: 10 * 2**20)
    monkeypatch.setattr(protect_module, "make_noise", lambda *a, **k: pytest.fail("noise work began"))
    with pytest.raises(ValueError, match=r"min-min over \d+ windows .* needs about .* GiB and this machine has 0.0 GiB available; keep its arrays on disk"):
        run(in_dir, tmp_path / "out", config, work="memory")


def test_arrays_that_do_not_fit_in_memory_go_to_disk_with_the_same_result(first_run, tmp_path, monkeypatch) -> None:
    """auto spills min-min's arrays to memory-mapped files when memory is short (here: said to
    be 10 MiB); the files written hold exactly the samples of the in-memory run, and the work
    folder is gone afterwards."""
    in_dir, out_dir, config, _, _ = first_run
    monkeypatch.setattr(make_module, "available_memory_bytes", lambda: 10 * 2**20)
    seen = []
    real_make_noise = protect_module.make_noise

    def spy(*args, **kwargs):
        seen.append(kwargs["workspace"].folder)
        assert sorted(p.name for p in kwargs["workspace"].folder.iterdir()) == ["held.npy", "windows.f32"]
        return real_make_noise(*args, **kwargs)

    monkeypatch.setattr(protect_module, "make_noise", spy)
    stale = tmp_path / "out" / ".protect" / "work" / "windows.f32"  # left by a killed run
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"stale")
    summary = run(in_dir, tmp_path / "out", config)
    assert summary.protected == len(FILES) and seen == [tmp_path / "out" / ".protect" / "work"]
    assert not seen[0].exists()
    for rel in FILES:  # samples, not bytes: a float WAV's PEAK chunk holds the time it was written
        assert np.array_equal(sf.read(tmp_path / "out" / rel)[0], sf.read(out_dir / rel)[0]), rel
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"stale")
    assert run(in_dir, tmp_path / "out", config, work="memory").reused == len(FILES)
    assert not stale.parent.exists()  # a killed run's folder does not outlive the next run


def test_a_disk_that_cannot_hold_the_arrays_is_refused_before_reading(first_run, tmp_path, monkeypatch) -> None:
    in_dir, _, config, _, _ = first_run
    monkeypatch.setattr(protect_module.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1, 1, 0))
    monkeypatch.setattr(protect_module, "read_sources", lambda *a, **k: pytest.fail("reading began"))
    with pytest.raises(ValueError, match=r"need about .* GiB on disk .* and that disk has 0.0 GiB free"):
        run(in_dir, tmp_path / "out", config, work="disk")


def test_protecting_does_not_load_scikit_learn() -> None:
    """Only the encoder-probe thief needs it; it costs every protect run memory and start-up."""
    import subprocess
    import sys

    code = "import sys, core.protect, core.noise; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"
