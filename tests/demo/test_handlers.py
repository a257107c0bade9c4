"""The demo's handlers as plain functions: examples, protecting uploads, the table editor, the leaderboard."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from core.budgets import ConstantBudget, SegmentMask, budget_from_dict
from core.data import read_audio
from core.noise.adding import eps_16k
from demo import handlers, learning
from demo.learning import read_curves
from demo.examples import read_index
from demo.table_editor import paper_rows
from leaderboard.entries import LEADERBOARD_ROOT
from leaderboard.submission import load_submission
from tests.demo.factory import speech_clip, write_wav

LSB = 2.0**-15
"""Slack for 16-bit quantisation of the written files."""
MASK_TABLE, MASK_TABLE_IN_BAND, CONSTANT, QUIET = handlers.BUDGET_KINDS


def first_example() -> str:
    return read_index().examples[0].name


# -- Listen and compare ------------------------------------------------------------------


@pytest.mark.parametrize("config", ["constant_008", "dynamic_013"])
def test_shipped_example_has_metrics_figures_and_noise_within_budget(tmp_path: Path, config: str) -> None:
    view = handlers.listen(first_example(), config, 0.0, tmp_path)
    for key in ("SNR", "PESQ-WB", "STOI", "SNR per amplitude band", "A > 0.1", "| A <= 0.01 |"):
        assert key in view.metrics
    assert "0 < A <= 0.01" not in view.metrics  # the bench's bands: the last row is no edge
    assert Path(view.segments).is_file() and Path(view.spectrogram).is_file()
    clean, protected = read_audio(view.clean), read_audio(view.protected)
    eps = budget_from_dict(read_index().budgets[config]).eps(torch.from_numpy(clean)[None])[0].numpy()
    noise = protected - clean
    assert np.abs(noise).max() > 0.5 * eps.max()
    assert np.all(np.abs(noise) <= eps + LSB)
    np.testing.assert_allclose(view.noise, noise)


def test_clean_config_has_no_noise_and_no_segment_plot(tmp_path: Path) -> None:
    view = handlers.listen(first_example(), "clean", 0.0, tmp_path)
    assert view.segments is None
    assert not view.noise.any()
    assert "No noise" in view.metrics


def test_entry_configs_are_listed_and_protected(tmp_path: Path, board: Path) -> None:
    choices = handlers.config_choices(root=board)
    assert choices[:3] == ["clean", "constant_008", "dynamic_013"]
    assert "entry: const_a" in choices and "entry: const_b" in choices
    assert "entry: clean_reference" not in choices  # no noise budget
    # const_a's budget is constant_008's: the shipped files are used
    same = handlers.listen(first_example(), "entry: const_a", 0.0, tmp_path, root=board)
    assert same.protected == str(read_index().examples[0].protected["constant_008"])
    # const_b (eps 0.05) is protected now, against the surrogate
    computed = handlers.listen(first_example(), "entry: const_b", 0.0, tmp_path, root=board)
    assert Path(computed.protected).parent.parent == tmp_path
    assert 0.04 < np.abs(computed.noise).max() <= 0.05 + LSB


def test_unknown_example_or_config_is_a_page_error(tmp_path: Path) -> None:
    with pytest.raises(gr.Error, match="unknown example"):
        handlers.listen("nope/nothing", "clean", 0.0, tmp_path)
    with pytest.raises(gr.Error, match="Unknown configuration"):
        handlers.listen(first_example(), "entry: missing", 0.0, tmp_path)


def test_noise_gain_scales_the_noise(tmp_path: Path) -> None:
    noise = np.full(1600, 0.01, dtype=np.float32)
    loud = read_audio(handlers.noise_audio(noise, 20.0, tmp_path))
    np.testing.assert_allclose(loud, 0.1, atol=2 * LSB)
    assert handlers.noise_audio(None, 0.0, tmp_path) is None


def test_a_gain_that_clips_the_noise_says_so() -> None:
    noise = np.array([0.01, -0.02, 0.2, -0.5], dtype=np.float32)
    assert handlers.clipping_note(noise, 0.0) == "" and handlers.clipping_note(None, 30.0) == ""
    assert handlers.clipping_note(noise, 20.0) == "At +20 dB, 50.0% of the noise's samples clip at full scale: you hear it distorted."


# -- Protect your own audio ------------------------------------------------------------------


def test_protect_wav_changes_it_within_the_mask_budget(tmp_path: Path) -> None:
    clean = speech_clip(1.0)
    path = write_wav(tmp_path / "mine.wav", clean)
    view = handlers.protect_upload(str(path), MASK_TABLE, 0.08, 0.13, "auto", tmp_path / "out")
    assert view.download == view.protected and view.download.endswith("mine_protected.wav")
    protected, rate = sf.read(view.download, dtype="float64")
    assert rate == 16_000 and protected.shape == clean.shape
    eps = eps_16k(SegmentMask(eps_max=0.13), clean)
    diff = np.abs(protected - clean)
    assert diff.max() > 0.05
    assert np.all(diff <= eps + LSB)
    assert "PESQ-WB" in view.metrics and "predicted by the surrogate" in view.status
    import re

    (largest,) = re.findall(r"The largest change to any sample is (\d\.\d{3})", view.status)  # the number explained
    assert abs(float(largest) - diff.max()) <= 0.001
    assert "eps_max 0.13 is only for the loudest segments" in view.status
    shares = re.findall(r"(0\.\d{3}) on (\d+)%", view.status.split("Bounds used on this clip")[1])  # per table row used
    assert len(shares) >= 2 and abs(sum(int(p) for _, p in shares) - 100) <= len(shares)
    assert all(float(v) <= 0.13 for v, _ in shares) and float(shares[0][0]) == max(float(v) for v, _ in shares)


def test_the_demo_writes_exactly_what_the_library_call_gives(tmp_path: Path) -> None:
    """The Protect tab is `core.protect_audio`: same input, same budget and seed, same audio."""
    import core

    import soxr

    mono = soxr.resample(speech_clip(1.5).astype(np.float64), 16_000, 22_050)
    samples = np.stack([mono, 0.7 * mono], axis=1)
    path = tmp_path / "mine.wav"
    sf.write(path, samples, 22_050, subtype="FLOAT")
    view = handlers.protect_upload(str(path), CONSTANT, 0.03, 0.13, "left", tmp_path / "out")
    written, _ = sf.read(view.download, dtype="float32", always_2d=True)
    direct = core.protect_audio(sf.read(path, dtype="float64", always_2d=True)[0], 22_050, budget=ConstantBudget(0.03), label="left")
    np.testing.assert_array_equal(written, direct.audio.astype(np.float32))


def test_protect_uses_a_chosen_label(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "mine.wav", speech_clip(1.0))
    view = handlers.protect_upload(str(path), CONSTANT, 0.05, 0.13, "left", tmp_path / "out")
    assert "as **left** (chosen)" in view.status and "confidence in *left*" in view.status


@pytest.mark.parametrize(("rate_hz", "channels", "suffix"), [(44_100, 2, "wav"), (8_000, 1, "flac"), (22_050, 2, "ogg")])
def test_other_rates_channels_and_formats_are_accepted(tmp_path: Path, rate_hz: int, channels: int, suffix: str) -> None:
    import soxr

    mono = soxr.resample(speech_clip(2.5), 16_000, rate_hz)
    samples = np.stack([mono, 0.5 * mono], axis=1) if channels == 2 else mono
    path = tmp_path / f"in.{suffix}"
    sf.write(path, samples, rate_hz)
    view = handlers.protect_upload(str(path), CONSTANT, 0.03, 0.13, "auto", tmp_path / "out")
    written, written_rate = sf.read(view.download, dtype="float64", always_2d=True)
    original, _ = sf.read(path, dtype="float64", always_2d=True)
    assert written_rate == rate_hz and written.shape == original.shape
    assert 0 < np.abs(written - original).max() <= 0.03 + LSB
    assert f"{rate_hz} Hz, {channels} channel(s)" in view.status


def test_long_audio_is_protected_in_one_second_windows(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "long.wav", speech_clip(3.5))
    view = handlers.protect_upload(str(path), MASK_TABLE, 0.08, 0.13, "auto", tmp_path / "out")
    assert "4 1-s window(s)" in view.status
    assert sf.info(view.download).frames == 56_000


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: None, "Upload or record a clip first"),
        (lambda d: _text_file(d), "is not an audio file"),
        (lambda d: write_wav(d / "empty.wav", np.zeros(0, dtype=np.float32)), "is empty"),
        (lambda d: write_wav(d / "silent.wav", np.zeros(16_000, dtype=np.float32)), "is silent"),
        (lambda d: write_wav(d / "tiny.wav", speech_clip(0.1)), "expected at least 0.25 s"),
        (lambda d: write_wav(d / "long.wav", speech_clip(31.0)), "up to 30 s"),
        (lambda d: write_wav(d / "eight.flac", np.zeros((16_000, 8), dtype=np.float32)), "has 8 channels"),
        (lambda d: write_wav(d / "huge.flac", np.zeros((96_000 * 20, 2), dtype=np.float32), 96_000), "decodes to 3,840,000 samples"),
    ],
    ids=["none", "not-audio", "empty", "silent", "too-short", "too-long", "channels", "decoded-size"],
)
def test_unusable_uploads_are_page_errors(tmp_path: Path, make, message: str) -> None:
    """The reason stays in the tab's status (not only a toast), with nothing to play."""
    path = make(tmp_path)
    view = handlers.protect_upload(None if path is None else str(path), MASK_TABLE, 0.08, 0.13, "auto", tmp_path / "out")
    assert view.status.startswith("**Cannot protect:** ") and message in view.status
    assert view.protected is None and view.download is None and view.metrics == ""


def test_an_upload_is_checked_when_it_arrives(tmp_path: Path) -> None:
    """The Protect tab's status says at once whether a clip can be protected, and why not."""
    good = write_wav(tmp_path / "mine.wav", speech_clip(1.5))
    assert "Ready: **mine.wav**, 1.5 s, 16000 Hz, 1 channel(s)" in handlers.check_upload(str(good))
    bad = write_wav(tmp_path / "long.wav", speech_clip(31.0))
    assert handlers.check_upload(str(bad)).startswith("**Cannot protect this clip:** long.wav is 31.0 s long")
    assert handlers.check_upload(None) == ""


def test_every_event_shares_one_concurrency_limit(tmp_path: Path) -> None:
    """Gradio's default limit counts per event listener; one shared group bounds the whole app."""
    from demo.app import CONCURRENCY_LIMIT, build_app

    functions = list(build_app(out_root=tmp_path).fns.values())
    assert len(functions) >= 7
    assert {(f.concurrency_id, f.concurrency_limit) for f in functions} == {("compute", CONCURRENCY_LIMIT)}


def _text_file(folder: Path) -> Path:
    path = folder / "notes.wav"
    path.write_text("this is not audio\n" * 100)
    return path


@pytest.mark.parametrize(("kind", "eps", "eps_max", "message"), [
    (CONSTANT, 0.0, 0.13, "eps must lie in"),
    (CONSTANT, None, 0.13, "eps must lie in"),
    (MASK_TABLE, 0.08, 0.5, "eps_max must lie in"),
    ("sparkles", 0.08, 0.13, "Unknown budget"),
])  # fmt: skip
def test_bad_budgets_and_labels_are_page_errors(tmp_path: Path, kind: str, eps, eps_max, message: str) -> None:
    path = write_wav(tmp_path / "mine.wav", speech_clip(1.0))
    assert message in handlers.protect_upload(str(path), kind, eps, eps_max, "auto", tmp_path / "out").status
    status = handlers.protect_upload(str(path), CONSTANT, 0.05, 0.13, "banana", tmp_path / "out").status
    assert "Cannot protect mine.wav: unknown label 'banana'; expected one of" in status


def test_upload_budget_builds_the_chosen_budget() -> None:
    assert handlers.upload_budget(CONSTANT, 0.08, 0.13) == ConstantBudget(0.08)
    assert handlers.upload_budget(MASK_TABLE, 0.08, 0.2) == SegmentMask(eps_max=0.2)
    assert handlers.upload_budget(MASK_TABLE_IN_BAND, 0.08, 0.13) == SegmentMask(eps_max=0.13, band_limit_hz=4000)
    quiet, _ = load_submission(LEADERBOARD_ROOT / "submissions" / "inband_envelope_020_eot_ens.toml")
    assert handlers.upload_budget(QUIET, None, None) == budget_from_dict(quiet.budget)  # the entry's own budget


def test_only_the_eps_box_the_budget_reads_is_shown() -> None:
    shown = {kind: tuple(u["visible"] for u in handlers.budget_boxes(kind)) for kind in (MASK_TABLE, MASK_TABLE_IN_BAND, CONSTANT, QUIET)}
    assert shown == {MASK_TABLE: (True, False), MASK_TABLE_IN_BAND: (True, False), CONSTANT: (False, True), QUIET: (False, False)}


def test_the_quiet_budget_is_heard_less_than_the_papers_table(tmp_path: Path) -> None:
    """The envelope keeps the noise about 19 dB under the speech (0.2 x its mean |x|, the
    sign steps fill the bound); the paper's table at eps_max 0.13 puts it about 10 dB under."""
    from core.metrics import pesq_wb

    clean = speech_clip(2.0)
    path = write_wav(tmp_path / "mine.wav", clean, subtype="FLOAT")
    scores, snr_db = {}, {}
    for kind in (MASK_TABLE, QUIET):
        view = handlers.protect_upload(str(path), kind, 0.08, 0.13, "yes", tmp_path / kind[:4])
        protected = read_audio(view.download)
        scores[kind] = float(pesq_wb(clean[None], protected[None]).mean())
        snr_db[kind] = 10 * np.log10(np.sum(clean**2) / np.sum((protected - clean) ** 2))
    assert "amplitude-envelope budget of the leaderboard's inband_envelope_020_eot_ens (L-inf cap 0.08), noise below 4 kHz" in view.status
    assert 17.0 < snr_db[QUIET] < 21.0 and snr_db[MASK_TABLE] < 12.0, snr_db
    assert scores[QUIET] > scores[MASK_TABLE] + 0.2, scores


def test_protect_in_band_keeps_the_noise_below_4_khz(tmp_path: Path) -> None:
    clean = speech_clip(1.0)
    path = write_wav(tmp_path / "mine.wav", clean)
    view = handlers.protect_upload(str(path), MASK_TABLE_IN_BAND, 0.08, 0.13, "auto", tmp_path / "out")
    protected, _ = sf.read(view.download, dtype="float64")
    noise = protected - clean
    assert np.all(np.abs(noise) <= eps_16k(SegmentMask(eps_max=0.13), clean) + LSB)
    power = np.abs(np.fft.rfft(noise)) ** 2
    assert power[np.fft.rfftfreq(len(noise), 1 / 16_000) > 4000].sum() < 0.05 * power.sum()
    assert "eps_max 0.13, noise below 4 kHz" in view.status


# -- Mask table editor ---------------------------------------------------------------------


def paper_frame() -> pd.DataFrame:
    return pd.DataFrame(paper_rows(), columns=["threshold", "mask"])


def test_table_preview_plots_a_valid_table_and_lists_eps_per_band(tmp_path: Path) -> None:
    figure, status = handlers.table_preview(paper_frame(), 0.13, 1000.0, "mean_abs", first_example(), tmp_path)
    assert Path(figure).is_file()
    assert "Valid table" in status and "| A > 0.1 | 1 | 0.13 |" in status


def test_table_preview_lists_every_problem_of_an_invalid_table(tmp_path: Path) -> None:
    frame = pd.DataFrame([[0.01, 1.5], [0.1, 0.5]], columns=["threshold", "mask"])
    figure, status = handlers.table_preview(frame, 0.13, 1000.0, "mean_abs", first_example(), tmp_path)
    assert figure is None
    assert "Invalid table" in status
    assert "budget.rows[0].mask" in status and "strictly decreasing" in status


def test_table_export_writes_a_submission_the_leaderboard_accepts(tmp_path: Path) -> None:
    frame = paper_frame()
    frame.iloc[1, 1] = 0.6
    path, status = handlers.table_export(
        frame, 0.12, 800.0, "rms", "my_table", "Ada, Alan", 'Quiet "edges"\\ stay quiet', "https://example.org", tmp_path
    )
    assert "Valid submission" in status
    submission, _ = load_submission(path)
    assert submission.name == "my_table" and submission.authors == ("Ada", "Alan")
    assert submission.description == 'Quiet "edges"\\ stay quiet'
    assert submission.budget["rows"][1] == {"threshold": 0.08, "mask": 0.6}
    assert (submission.budget["eps_max"], submission.budget["segment_samples"], submission.budget["level"]) == (0.12, 800, "rms")


def test_table_export_refuses_an_invalid_submission_and_names_the_fields(tmp_path: Path) -> None:
    frame = pd.DataFrame([[0.1, "lots"], [None, None]], columns=["threshold", "mask"])
    path, status = handlers.table_export(frame, 0.3, 1000.0, "mean_abs", "Bad Name", "", "", "", tmp_path)
    assert path is None and "Not exported" in status
    for field in ("name:", "authors:", "description:", "budget.eps_max:", "budget.rows[0].mask"):
        assert field in status


# -- Leaderboard ----------------------------------------------------------------------------


def test_leaderboard_without_entries_shows_a_note(tmp_path: Path) -> None:
    frame, plot, note = handlers.leaderboard_view(tmp_path / "out", root=tmp_path / "empty")
    assert frame.empty and plot is None and "No scored entries yet" in note


def test_leaderboard_ranks_entries_and_plots_them(tmp_path: Path, board: Path) -> None:
    frame, plot, note = handlers.leaderboard_view(tmp_path / "out", root=board)
    assert list(frame["Submission"]) == ["const_b", "const_a", "clean_reference"]
    assert list(frame["Worst-case peak %"]) == [20.0, 30.0, 90.0]
    assert Path(plot).is_file() and "3 entries" in note


def test_leaderboard_shows_the_ranking_columns_first_and_every_cell_on_request(tmp_path: Path, board: Path) -> None:
    from demo.ranking_view import SUMMARY_COLUMNS

    summary, _, _ = handlers.leaderboard_view(tmp_path / "out", root=board)
    assert tuple(summary.columns) == SUMMARY_COLUMNS
    detail, _, _ = handlers.leaderboard_view(tmp_path / "out", root=board, detail=True)
    assert set(SUMMARY_COLUMNS) < set(detail.columns) and "m5 / resample peak %" in detail.columns and "Budget" in detail.columns


def test_invalid_entries_are_reported_not_raised(tmp_path: Path, board: Path) -> None:
    (board / "entries" / "broken.json").write_text("{}")
    frame, plot, note = handlers.leaderboard_view(tmp_path / "out", root=board)
    assert frame.empty and plot is None and "broken.json" in note


# -- See it work ------------------------------------------------------------------------------


def test_the_precomputed_curves_show_the_protected_model_failing(tmp_path: Path) -> None:
    figure, text = handlers.learning_intro(tmp_path)
    curves, settings = read_curves()
    assert Path(figure).is_file() and settings["epochs"] == len(curves.clean) == len(curves.protected) == 20
    assert max(curves.clean) > 0.5 and max(curves.protected) < 0.2  # the shipped build: 64% against 11%
    assert "learned almost nothing" in text and f"{max(curves.protected):.0%}" in text


def test_a_live_run_trains_both_models_and_reads_them(tmp_path: Path) -> None:
    figure, text = handlers.learning_run(1, tmp_path)
    assert Path(figure).is_file() and "After 1 epoch(s) neither model has learned much yet" in text and "Trained here in" in text
    assert handlers.learning_run(0, tmp_path)[0] is None and "whole number from 1 to 10" in handlers.learning_run(0, tmp_path)[1]
    assert handlers.learning_run(2.5, tmp_path)[0] is None


def test_the_live_protection_is_the_shipped_class_noise_within_each_clips_eps() -> None:
    train, _, protected = learning._live_data()
    stored = torch.load(learning.CLASS_NOISE_FILE, weights_only=True)
    eps = SegmentMask(eps_max=0.13).eps(train.waveforms)
    noise = protected - train.waveforms
    assert stored["noise"].shape == (len(train.classes), train.waveforms.shape[1])
    assert (noise.abs() <= eps + 1e-6).all() and noise.abs().max() > 0.05
    assert protected.abs().max() <= 1.0


def test_the_reading_says_when_protection_did_not_hold() -> None:
    assert "did not hold" in learning.reading(learning.Curves((0.1, 0.8), (0.1, 0.75)))
    assert "well below" in learning.reading(learning.Curves((0.1, 0.8), (0.1, 0.4)))
    assert "learned almost nothing" in learning.reading(learning.Curves((0.1, 0.8), (0.1, 0.12)))
