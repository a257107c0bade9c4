"""bench.formats: the trust check that protection holds on 8-kHz and short files."""

import json

import numpy as np
import soundfile as sf

from bench import formats
from core import SAMPLE_RATE_HZ


def test_the_loudest_stretch_is_where_the_energy_is():
    audio = np.zeros(SAMPLE_RATE_HZ, np.float32)
    audio[9000:10000] = 0.5
    cut = formats.loudest(audio, 0.4)
    assert len(cut) == 6400 and np.abs(cut).sum() == 0.5 * 1000
    assert np.array_equal(formats.loudest(audio, 2.0), audio)  # longer than the clip: all of it


def test_formats_give_the_file_lengths_of_their_rate_and_duration():
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, SAMPLE_RATE_HZ).astype(np.float32)
    assert len(formats.in_format(audio, *formats.FORMATS["8k"])) == 8000
    assert len(formats.in_format(audio, *formats.FORMATS["0.4s"])) == 6400
    assert np.allclose(formats.in_format(audio, *formats.FORMATS["16k_1s"]), audio)


def test_a_quick_run_measures_each_format_once_and_a_rerun_keeps_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert formats.main(["--quick", "--no-progress", "--formats", "8k", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert list(results) == ["8k"] and results["8k"]["rate_hz"] == 8000
    assert 0.0 <= results["8k"]["protected_peak"] <= 1.0 and results["8k"]["windows"] > 0
    assert {sf.info(str(p)).samplerate for p in (out / "8k" / "protected").rglob("*.wav")} == {8000}
    assert formats.main(["--quick", "--no-progress", "--formats", "8k", "--out", str(out)]) == 0
    assert "8k: measured before" in capsys.readouterr().out
    assert "| 8k |" in (out / "summary.md").read_text()


def test_an_unknown_format_is_refused(capsys):
    assert formats.main(["--quick", "--formats", "6k"]) == 2
    assert "unknown ['6k']" in capsys.readouterr().err
