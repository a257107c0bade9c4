"""The harness end to end on a tiny slice: outputs exist and hold what they claim."""

import json

import numpy as np
import pytest
import soundfile as sf

from bench.__main__ import main


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    assert main(["--config", "dynamic_013", "--quick", "--out", str(out), "--no-progress"]) == 0
    (run_dir,) = (out / "dynamic_013").iterdir()
    return out, run_dir


def test_results_json_holds_every_figure_and_provenance(quick_run):
    _, run_dir = quick_run
    r = json.loads((run_dir / "results.json").read_text())
    assert set(r["victims"]) == {"clean", "poisoned", "poisoned+resample"}
    for condition in r["victims"].values():
        (runs,) = condition.values()
        assert runs[0]["seed"] == 0 and len(runs[0]["test_accuracy"]) == 1
        assert 0.0 <= runs[0]["peak"] <= 1.0
    assert r["generation"]["rounds"] == 1 and r["generation"]["cached"] is False
    assert r["metrics"]["linf_max"] <= 0.13 + 1e-6
    assert r["metrics"]["pesq_wb_clips"] <= 4 and len(r["metrics"]["band_snr_db"]) == 6
    assert r["config"]["name"] == "dynamic_013" and len(r["config_hash"]) == 16
    assert r["data"]["train_clips"] == 80 and len(r["data"]["fingerprint"]) == 16
    for key in ("versions", "git_commit", "date"):
        assert key in r["provenance"]
    assert {"load_s", "generation_s", "victims_s", "metrics_s"} <= set(r["timings"])


def test_summary_plots_and_wavs_exist_and_agree(quick_run):
    _, run_dir = quick_run
    summary = (run_dir / "summary.md").read_text()
    assert "| poisoned+resample | m5 |" in summary and "PESQ-WB" in summary and "A > 0.1" in summary
    for png in ("fig1_segments.png", "fig2_waveforms.png", "fig4_accuracy.png", "spectrograms.png"):
        assert (run_dir / png).read_bytes()[:4] == b"\x89PNG"
    wavs = sorted((run_dir / "examples").glob("*.wav"))
    assert len(wavs) == 6
    clean, sr = sf.read(wavs[0])
    noise, _ = sf.read(str(wavs[0]).replace("_clean", "_noise"))
    protected, _ = sf.read(str(wavs[0]).replace("_clean", "_protected"))
    assert sr == 16000 and np.abs(noise).max() <= 0.13 + 1e-6 and np.abs(noise).max() > 0
    assert np.allclose(protected, np.clip(clean + noise, -1, 1), atol=1e-6)


def test_second_run_reuses_noise_and_victims_and_compare_lists_both(quick_run, capsys):
    out, _ = quick_run
    assert main(["--config", "dynamic_013", "--quick", "--out", str(out), "--no-progress"]) == 0
    runs = sorted((out / "dynamic_013").iterdir())
    assert len(runs) == 2  # a new folder, the first run untouched
    second = json.loads((runs[1] / "results.json").read_text())
    assert second["generation"]["cached"] is True
    captured = capsys.readouterr().out
    assert "(cached)" in captured
    assert main(["--compare", str(runs[0]), str(runs[1]), "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "poisoned (m5) peak %" in table and table.count("|") > 10


def test_list_and_bad_config(capsys):
    assert main(["--list"]) == 0
    assert "dynamic_013 " in capsys.readouterr().out
    assert main(["--config", "nope"]) == 2
    assert "unknown config" in capsys.readouterr().err


def test_damaged_cache_files_are_redone_not_fatal(tmp_path, capsys):
    import torch

    from bench.cache import Cache
    from core.noise import CorruptNoiseFile, load_noise, save_noise

    cache = Cache(tmp_path)
    cache.put_json("victims", "k", {"peak": 0.5})
    assert cache.get_json("victims", ("k",)) == {"peak": 0.5}
    cache.path("victims", "k", ".json").write_text('{"peak": 0.')  # cut short
    assert cache.get_json("victims", ("k",)) is None and "computing it again" in capsys.readouterr().err
    path = tmp_path / "noise.pt"
    save_noise(path, ["a", "b"], torch.zeros(2, 4), {"rounds": 1})
    assert load_noise(path, ["b"])[0].shape == (1, 4)
    save_noise(path, ["a", "b", "c"], torch.arange(12.0).reshape(3, 4), {"rounds": 1})
    assert torch.equal(load_noise(path, ["b", "c"])[0], torch.arange(4.0, 12.0).reshape(2, 4))  # a run: a view
    assert torch.equal(load_noise(path, ["c", "a"])[0], torch.tensor([[8.0, 9, 10, 11], [0, 1, 2, 3]]))
    for damage in (path.read_bytes()[:50], b"", b"not a torch file"):
        path.write_bytes(damage)
        with pytest.raises(CorruptNoiseFile, match="cannot be read as noise"):
            load_noise(path, ["a"])


def cache_keys_of(cfg_name: str, device: str = "cpu") -> tuple[tuple[str, ...], ...]:
    """Noise keys of a config, a victim's keys and the folder tool's noise keys, each one per
    cache format read."""
    import torch

    from bench.config import load_config
    from bench.run import noise_cache_keys, victim_cache_keys
    from core.budgets import budget_from_dict
    from core.protect import noise_keys
    from core.train import VictimConfig

    cfg = load_config(cfg_name)
    budget = budget_from_dict(cfg.budget)
    noise = noise_cache_keys(cfg, budget, "fp", torch.device(device))
    return (
        noise,
        victim_cache_keys(tuple("poisoned:" + k for k in noise), "fp", VictimConfig(), 0, torch.device(device)),
        noise_keys(budget, cfg.generation.minmin(), "m5", {"a.wav": "0" * 64}, device),
    )


def test_cache_keys_change_with_device_torch_version_and_cache_format(monkeypatch):
    """Noise made on a GPU, or by another torch, or cached in another format, is never reused."""
    import torch

    import core.hashing

    def keys(device: str) -> tuple[str, ...]:
        return tuple(k[0] for k in cache_keys_of("dynamic_013", device))

    cpu = keys("cpu")
    assert keys("cpu") == cpu and keys("cpu:0") == cpu  # the kind of device, not its index
    seen = {cpu}
    for change in ("device", "torch", "format"):
        with monkeypatch.context() as m:
            if change == "device":
                variant = keys("cuda")
            elif change == "torch":
                m.setattr(torch, "__version__", "9.9.9")
                variant = keys("cpu")
            else:
                m.setattr(core.hashing, "CACHE_FORMAT", core.hashing.CACHE_FORMAT + 1)
                m.setattr(core.hashing, "READ_FORMATS", (core.hashing.CACHE_FORMAT + 1, 2))
                variant = keys("cpu")
        assert all(a != b for a, b in zip(variant, cpu)), change
        seen.add(variant)
    assert len(seen) == 4


@pytest.mark.parametrize(
    "cfg_name, noise, folder",
    [  # keys that the format-2 code (commit fa54cc3) made for these recipes under torch 2.13.0+cpu
        ("dynamic_013", "e503a55c27c6d602", None),
        ("dynamic_018_inband", "d716700f9c3adc23", "0377cc14eec9d674"),
        ("dynamic_018_inband_eot_ens", "5ade49d1309a063c", None),
    ],
)
def test_results_cached_in_format_2_are_still_found(monkeypatch, cfg_name, noise, folder):
    """Format 3 writes every setting out; its second key per recipe is the one format 2 made
    (off settings and an unset band limit left out), so older caches are read, not redone."""
    import torch

    monkeypatch.setattr(torch, "__version__", "2.13.0+cpu")
    noise_keys, _, folder_keys = cache_keys_of(cfg_name)
    assert noise_keys[1] == noise and noise_keys[0] != noise
    if folder is not None:
        assert folder_keys[1] == folder and folder_keys[0] != folder


def test_a_victim_cached_in_format_2_is_found_and_linked_to_its_format_3_key(monkeypatch, tmp_path):
    import torch

    from bench.cache import Cache
    from bench.run import victim_cache_keys
    from core.train import VictimConfig

    monkeypatch.setattr(torch, "__version__", "2.13.0+cpu")
    keys = victim_cache_keys(("poisoned:k3", "poisoned:k"), "fp", VictimConfig(), 0, torch.device("cpu"))
    assert keys[1] == "34fb2b900e0ec6b9"  # the format-2 code's key for ("poisoned:k", "fp", VictimConfig(), seed 0)
    cache = Cache(tmp_path)
    cache.put_json("victims", keys[1], {"peak": 0.25})
    assert cache.get_json("victims", keys) == {"peak": 0.25}
    assert cache.path("victims", keys[0], ".json").is_file()  # now under the new key ...
    assert cache.path("victims", keys[1], ".json").is_file()  # ... and still where format-2 code looks
    assert cache.get_json("victims", ("other", "keys")) is None
