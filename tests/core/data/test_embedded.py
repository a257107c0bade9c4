"""The shipped sample: small enough, all words in both splits, speaker-disjoint, lossless, loads."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from core.data import EMBEDDED_ROOT, load_embedded
from core.data.speech_commands import hash_split, list_speech_commands, speaker_of

MAX_BYTES = 15_000_000
WORDS = ("down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes")
from tests.paths import SHARED_SPEECH_COMMANDS


def test_size_and_attribution_files():
    files = [p for p in EMBEDDED_ROOT.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= MAX_BYTES
    assert (EMBEDDED_ROOT / "LICENSE").is_file()
    assert "CC BY 4.0" in (EMBEDDED_ROOT / "README.md").read_text()
    assert {p.suffix for p in files if p.parent != EMBEDDED_ROOT} == {".flac"}


def test_all_words_in_both_splits_and_no_shared_speaker():
    listing = list_speech_commands(EMBEDDED_ROOT)
    for split in ("train", "test"):
        assert {c.split("/")[0] for c, _ in listing[split]} == set(WORDS)
        assert all(hash_split(c) == split for c, _ in listing[split])
    train = {speaker_of(c) for c, _ in listing["train"]}
    test = {speaker_of(c) for c, _ in listing["test"]}
    assert not train & test


def test_loads_as_clipsets():
    sets = load_embedded()
    assert (len(sets["train"]), len(sets["test"])) == (838, 202)
    for clips in sets.values():
        assert clips.classes == WORDS
        assert clips.waveforms.shape[1] == 16_000
        assert clips.waveforms.abs().max() <= 1.0
        assert np.bincount(clips.labels.numpy(), minlength=10).min() > 0


def test_loads_a_class_subset_in_given_order():
    sets = load_embedded(classes=["yes", "no"])
    assert sets["train"].classes == ("yes", "no")
    assert {c.split("/")[0] for c in sets["train"].ids} == {"yes", "no"}


def test_flac_files_are_bit_exact_copies_of_the_source():
    if not SHARED_SPEECH_COMMANDS.is_dir():
        pytest.skip(f"{SHARED_SPEECH_COMMANDS} not present")
    for flac in sorted(EMBEDDED_ROOT.glob("*/*.flac"))[::50]:
        wav = SHARED_SPEECH_COMMANDS / flac.relative_to(EMBEDDED_ROOT).with_suffix(".wav")
        np.testing.assert_array_equal(sf.read(flac, dtype="int16")[0], sf.read(wav, dtype="int16")[0])
