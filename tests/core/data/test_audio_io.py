"""audio_io: mono/resampling on read, the pad/crop policy, loud errors, atomic writes."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import soxr
import torch

from core.data import audio_io
from core.data.audio_io import (
    AudioError,
    fix_length,
    load_clip,
    load_clips,
    read_audio,
    read_audio_info,
    write_audio_atomic,
)


def test_stereo_is_averaged_to_mono(tmp_path):
    left = np.linspace(-0.5, 0.5, 1000, dtype=np.float32)
    right = np.full(1000, 0.25, dtype=np.float32)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 16_000, subtype="FLOAT")
    mono = read_audio(path)
    assert mono.dtype == np.float32 and mono.shape == (1000,)
    np.testing.assert_allclose(mono, (left + right) / 2, atol=1e-7)


def test_resampling_8k_to_16k_keeps_duration_and_pitch(tmp_path):
    t = np.arange(8000) / 8000
    path = tmp_path / "tone8k.wav"
    sf.write(path, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 8000, subtype="FLOAT")
    out = read_audio(path, sample_rate_hz=16_000)
    assert out.shape == (16_000,) and out.dtype == np.float32
    peak_hz = np.argmax(np.abs(np.fft.rfft(out))) * 16_000 / len(out)
    assert peak_hz == pytest.approx(440, abs=2)


def test_same_rate_reads_samples_exactly(tmp_path, make_clip):
    samples = make_clip(tmp_path / "a.wav", num_samples=500)
    np.testing.assert_array_equal(read_audio(tmp_path / "a.wav"), samples)


@pytest.mark.parametrize("to_array", [np.asarray, torch.as_tensor])
def test_fix_length_pads_end_and_keeps_start(to_array):
    x = to_array(np.arange(1, 11, dtype=np.float32).reshape(2, 5))
    padded = fix_length(x, 8)
    assert type(padded) is type(x) and tuple(padded.shape) == (2, 8)
    np.testing.assert_array_equal(np.asarray(padded[0]), [1, 2, 3, 4, 5, 0, 0, 0])
    cropped = fix_length(x, 3)
    np.testing.assert_array_equal(np.asarray(cropped), [[1, 2, 3], [6, 7, 8]])
    assert tuple(fix_length(x, 5).shape) == (2, 5)


def test_fix_length_rejects_non_positive_length():
    with pytest.raises(ValueError, match="num_samples"):
        fix_length(np.zeros(4), 0)


def test_load_clip_pads_short_and_crops_long(tmp_path, make_clip):
    short = make_clip(tmp_path / "short.wav", num_samples=12_000)
    long = make_clip(tmp_path / "long.wav", num_samples=20_000, seed=1)
    np.testing.assert_array_equal(load_clip(tmp_path / "short.wav")[:12_000], short)
    assert not load_clip(tmp_path / "short.wav")[12_000:].any()
    np.testing.assert_array_equal(load_clip(tmp_path / "long.wav"), long[:16_000])
    clips = load_clips([tmp_path / "short.wav", tmp_path / "long.wav"])
    assert clips.shape == (2, 16_000) and clips.dtype == np.float32


def _pcm16_wav_bytes(path):
    sf.write(path, np.full(1000, 0.1, dtype=np.float32), 16_000, subtype="PCM_16")
    return path.read_bytes()


def _text_as_wav(path):
    path.write_text("this is not audio\n" * 20)


def _truncated_data(path):
    data = _pcm16_wav_bytes(path)
    path.write_bytes(data[: len(data) // 2])


def _truncated_header(path):
    path.write_bytes(_pcm16_wav_bytes(path)[:30])


def _empty(path):
    sf.write(path, np.zeros(0, dtype=np.float32), 16_000)


def _nan(path):
    sf.write(path, np.array([0.1, np.nan, 0.2], dtype=np.float32), 16_000, subtype="FLOAT")


@pytest.mark.parametrize(
    "make_bad, reason",
    [
        (lambda p: None, "not found"),
        (_text_as_wav, "cannot read"),
        (_truncated_data, "truncated"),
        (_truncated_header, "cannot read"),
        (_empty, "0 samples"),
        (_nan, "NaN"),
    ],
    ids=["missing", "text", "truncated-data", "truncated-header", "empty", "nan"],
)
def test_bad_files_raise_audio_error_naming_the_file(tmp_path, make_bad, reason):
    path = tmp_path / "bad.wav"
    make_bad(path)
    with pytest.raises(AudioError, match=reason) as info:
        read_audio(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_read_audio_info_reports_format(tmp_path):
    path = tmp_path / "x.flac"
    sf.write(path, np.zeros((100, 2), dtype=np.float32), 22_050, subtype="PCM_24")
    assert read_audio_info(path) == (22_050, 2, "PCM_24", "FLAC")
    with pytest.raises(AudioError, match="not found"):
        read_audio_info(tmp_path / "missing.flac")


@pytest.mark.parametrize("name, subtype", [("out.flac", "PCM_16"), ("out.wav", "PCM_16"), ("out.wav", None)])
def test_atomic_write_is_exact_and_leaves_no_temp_file(tmp_path, name, subtype):
    samples = (np.arange(-32768, 32768, 7) / 32768).astype(np.float32)
    path = tmp_path / "nested" / "dir" / name
    write_audio_atomic(path, samples, 16_000, subtype=subtype)
    assert [p.name for p in path.parent.iterdir()] == [name]
    back, rate_hz = sf.read(path, dtype="float32")
    assert rate_hz == 16_000
    np.testing.assert_array_equal(back, samples)


def test_atomic_write_clips_integer_pcm_but_not_float(tmp_path):
    loud = np.array([1.5, -2.0, 0.5], dtype=np.float32)
    write_audio_atomic(tmp_path / "pcm.wav", loud, 16_000, subtype="PCM_16")
    write_audio_atomic(tmp_path / "float.wav", loud, 16_000, subtype="FLOAT")
    pcm, _ = sf.read(tmp_path / "pcm.wav", dtype="float32")
    flt, _ = sf.read(tmp_path / "float.wav", dtype="float32")
    np.testing.assert_allclose(pcm, [1.0, -1.0, 0.5], atol=1 / 32768)
    np.testing.assert_array_equal(flt, loud)


def test_failed_write_keeps_old_file_and_removes_temp(tmp_path, monkeypatch):
    path = tmp_path / "keep.wav"
    write_audio_atomic(path, np.full(10, 0.25, dtype=np.float32), 16_000)
    old = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(audio_io.sf, "write", crash)
    with pytest.raises(OSError, match="disk full"):
        write_audio_atomic(path, np.zeros(10, dtype=np.float32), 16_000)
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["keep.wav"]


@pytest.mark.parametrize(
    "name, samples, kwargs, match",
    [
        ("x.xyz", np.zeros(4), {}, "format"),
        ("x.wav", np.zeros(4), {"subtype": "VORBIS"}, "subtype"),
        ("x.wav", np.array([0.0, np.inf]), {}, "NaN or inf"),
        ("x.wav", np.zeros((2, 2, 2)), {}, r"\[T\]"),
    ],
)
def test_atomic_write_rejects_bad_arguments(tmp_path, name, samples, kwargs, match):
    with pytest.raises(ValueError, match=match):
        write_audio_atomic(tmp_path / name, samples, 16_000, **kwargs)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("fmt", "subtype", "suffix"), [("OGG", "VORBIS", "ogg"), ("OGG", "OPUS", "opus"), ("MP3", "MPEG_LAYER_III", "mp3")])
def test_a_cut_off_lossy_file_is_refused_not_read_as_a_shorter_clip(tmp_path, fmt, subtype, suffix):
    clip = (np.random.default_rng(0).standard_normal(5 * 16000) * 0.1).astype(np.float32)
    whole = tmp_path / f"whole.{suffix}"
    sf.write(whole, clip, 16000, format=fmt, subtype=subtype)
    assert len(read_audio(whole)) == len(clip)
    cut = tmp_path / f"cut.{suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(AudioError, match=r"cut\.(ogg|opus|mp3): truncated"):
        read_audio(cut)


def test_reading_in_blocks_gives_the_samples_of_one_read(tmp_path, monkeypatch):
    """Decoded READ_BLOCK_FRAMES at a time and resampled as a stream: the same samples as
    decoding and resampling the whole file at once (so long files read in bounded memory)."""
    stereo = (np.random.default_rng(1).standard_normal((44100 * 3 + 17, 2)) * 0.1).astype(np.float32)
    path = tmp_path / "long.wav"
    sf.write(path, stereo, 44100, subtype="FLOAT")
    monkeypatch.setattr(audio_io, "READ_BLOCK_FRAMES", 10_000)
    whole = soxr.resample(stereo.mean(axis=1, dtype=np.float32), 44100, 16000, quality="HQ")
    np.testing.assert_array_equal(read_audio(path), whole)
    assert len(read_audio(path, max_seconds=1.0)) == 16000
