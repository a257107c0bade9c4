"""class_folders: listing audio files, deterministic speaker/clip splits, class validation."""

from __future__ import annotations

import pytest
import torch

from core.data.class_folders import list_audio_files, load_class_folders, split_of
from core.data.speech_commands import hash_split, speaker_of


def test_list_audio_files_is_sorted_recursive_and_skips_hidden(tmp_path, make_clip):
    for rel in ("b/z.WAV", "a/deep/y.flac", "a/x.wav", ".trash/old.wav", "a/.hidden.wav"):
        make_clip(tmp_path / rel, num_samples=10)
    (tmp_path / "a" / "notes.txt").write_text("no")
    assert list_audio_files(tmp_path) == ["a/deep/y.flac", "a/x.wav", "b/z.WAV"]
    assert list_audio_files(tmp_path, extensions=(".flac",)) == ["a/deep/y.flac"]
    with pytest.raises(ValueError, match="missing"):
        list_audio_files(tmp_path / "missing")


def test_split_of_uses_speaker_when_named_like_speech_commands():
    assert split_of("yes/0a7c2a8d_nohash_3.wav") == hash_split("yes/0a7c2a8d_nohash_3.wav")
    sides = {split_of(f"cls/take_{i}.wav", 50) for i in range(40)}
    assert sides == {"train", "test"}  # plain names are split per clip


def test_load_class_folders_splits_speakers_disjointly(tmp_path, make_clip):
    speakers = [f"{i:08x}" for i in range(12)]
    for word in ("cat", "dog"):
        for n, speaker in enumerate(speakers):
            make_clip(tmp_path / word / f"{speaker}_nohash_0.wav", num_samples=4000, seed=n)
    sets = load_class_folders(tmp_path, classes=["dog", "cat"], test_percent=50, progress=False)
    train_speakers = {speaker_of(c) for c in sets["train"].ids}
    test_speakers = {speaker_of(c) for c in sets["test"].ids}
    assert train_speakers and test_speakers and not train_speakers & test_speakers
    assert len(sets["train"]) + len(sets["test"]) == 24
    for clips in sets.values():
        assert clips.classes == ("dog", "cat")
        assert clips.waveforms.shape[1] == 16_000
        assert all(clips.classes[int(y)] == c.split("/")[0] for y, c in zip(clips.labels, clips.ids))


def test_load_class_folders_is_deterministic_over_formats(tmp_path, make_clip):
    for i in range(6):
        make_clip(tmp_path / "hum" / f"take{i}.flac", seed=i)
        make_clip(tmp_path / "hum" / "ogg" / f"take{i}.ogg", seed=i, subtype="VORBIS")
        make_clip(tmp_path / "tap" / f"take{i}.wav", seed=10 + i)
    first = load_class_folders(tmp_path, progress=False)
    second = load_class_folders(tmp_path, progress=False)
    assert {k: v.fingerprint() for k, v in first.items()} == {k: v.fingerprint() for k, v in second.items()}
    ids = sorted(first["train"].ids + first["test"].ids)
    assert len(ids) == 18 and "hum/ogg/take0.ogg" in ids
    assert first["train"].labels.dtype == torch.int64


def test_load_class_folders_errors_name_the_problem(tmp_path, make_clip):
    with pytest.raises(ValueError, match="nowhere"):
        load_class_folders(tmp_path / "nowhere", progress=False)
    make_clip(tmp_path / "hum" / "a.wav")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty.*no files"):
        load_class_folders(tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"'whistle'.*empty, hum"):
        load_class_folders(tmp_path, classes=["whistle"], progress=False)
    with pytest.raises(ValueError, match="test_percent"):
        load_class_folders(tmp_path, classes=["hum"], test_percent=-1, progress=False)
