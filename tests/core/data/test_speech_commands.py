"""speech_commands: speaker hash split, official lists, class selection, loading, loopback download."""

from __future__ import annotations

import functools
import http.server
import io
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from core.data.speech_commands import (
    DOWNLOAD_MARKER,
    download_speech_commands,
    hash_split,
    list_speech_commands,
    load_speech_commands,
    speaker_of,
)
from tests.paths import SHARED_SPEECH_COMMANDS

"""Real Speech Commands test-set files (see its README.md); the test needing them skips when absent."""


def test_speaker_of_takes_name_before_nohash():
    assert speaker_of("right/bb05582b_nohash_3.wav") == "bb05582b"
    with pytest.raises(ValueError, match="_nohash_"):
        speaker_of("right/recording.wav")


def test_hash_split_matches_shared_readme_counts():
    """The README's rule on its folder: 3,278 train, 796 test, no speaker on both sides."""
    if not SHARED_SPEECH_COMMANDS.is_dir():
        pytest.skip(f"{SHARED_SPEECH_COMMANDS} not present")
    ids = [p.relative_to(SHARED_SPEECH_COMMANDS).as_posix() for p in SHARED_SPEECH_COMMANDS.glob("*/*.wav")]
    sides: dict[str, set[str]] = {"train": set(), "test": set()}
    counts = {"train": 0, "test": 0}
    for clip_id in ids:
        side = hash_split(clip_id)
        counts[side] += 1
        sides[side].add(speaker_of(clip_id))
    assert counts == {"train": 3278, "test": 796}
    assert not sides["train"] & sides["test"]
    listing = list_speech_commands(SHARED_SPEECH_COMMANDS)
    assert {k: len(v) for k, v in listing.items()} == counts


def test_hash_split_rejects_bad_percent():
    with pytest.raises(ValueError, match="test_percent"):
        hash_split("a/x_nohash_0.wav", test_percent=101)


def _layout(root: Path, make_clip) -> None:
    """Two words, three speakers, a background-noise folder that must be ignored."""
    for word in ("no", "yes"):
        for speaker in ("aaaa1111", "bbbb2222", "cccc3333"):
            make_clip(root / word / f"{speaker}_nohash_0.wav", num_samples=8000 + len(word))
    make_clip(root / "_background_noise_" / "white_noise.wav")
    (root / "README.md").write_text("not a class")


def test_official_lists_decide_when_present(tmp_path, make_clip):
    _layout(tmp_path, make_clip)
    (tmp_path / "testing_list.txt").write_text("yes/aaaa1111_nohash_0.wav\nno/aaaa1111_nohash_0.wav\n")
    (tmp_path / "validation_list.txt").write_text("yes/bbbb2222_nohash_0.wav\n")
    listing = list_speech_commands(tmp_path)
    assert listing == {
        "train": [
            ("no/bbbb2222_nohash_0.wav", 0),
            ("no/cccc3333_nohash_0.wav", 0),
            ("yes/cccc3333_nohash_0.wav", 1),
        ],
        "test": [("no/aaaa1111_nohash_0.wav", 0), ("yes/aaaa1111_nohash_0.wav", 1)],
        "validation": [("yes/bbbb2222_nohash_0.wav", 1)],
    }


def test_official_lists_check_listed_files_exist(tmp_path, make_clip):
    _layout(tmp_path, make_clip)
    (tmp_path / "testing_list.txt").write_text("yes/dddd4444_nohash_0.wav\n")
    with pytest.raises(ValueError, match="dddd4444"):
        list_speech_commands(tmp_path)
    assert list_speech_commands(tmp_path, classes=["no"])["test"] == []


def test_validation_list_alone_is_an_error(tmp_path, make_clip):
    _layout(tmp_path, make_clip)
    (tmp_path / "validation_list.txt").write_text("yes/bbbb2222_nohash_0.wav\n")
    with pytest.raises(ValueError, match="testing_list.txt"):
        list_speech_commands(tmp_path)


def test_hash_split_without_lists_is_speaker_disjoint(tmp_path, make_clip):
    _layout(tmp_path, make_clip)
    listing = list_speech_commands(tmp_path, test_percent=50)
    assert set(listing) == {"train", "test"}
    for split, pairs in listing.items():
        assert all(hash_split(clip_id, 50) == split for clip_id, _ in pairs)
        assert [c for c, _ in pairs] == sorted(c for c, _ in pairs)


def test_classes_keep_user_order_and_unknown_names_raise(tmp_path, make_clip):
    _layout(tmp_path, make_clip)
    listing = list_speech_commands(tmp_path, classes=["yes", "no"])
    labels = {clip_id.split("/")[0]: label for pairs in listing.values() for clip_id, label in pairs}
    assert labels == {"yes": 0, "no": 1}
    with pytest.raises(ValueError, match=r"'maybe'.*no, yes"):
        list_speech_commands(tmp_path, classes=["yes", "maybe"])
    with pytest.raises(ValueError, match="distinct"):
        list_speech_commands(tmp_path, classes=["yes", "yes"])


def test_load_speech_commands_gives_fixed_length_clipsets(tmp_path, make_clip):
    _layout(tmp_path, make_clip)
    sets = load_speech_commands(tmp_path, progress=False, splits=("train", "test"))
    both = [clip_id for s in sets.values() for clip_id in s.ids]
    assert sorted(both) == sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.glob("[!_]*/*.wav"))
    for clips in sets.values():
        assert clips.classes == ("no", "yes")
        assert clips.waveforms.shape[1:] == (16_000,) and clips.waveforms.dtype == torch.float32
        assert not clips.waveforms[:, 8003:].any()  # short clips are zero-padded at the end


def test_load_speech_commands_rejects_missing_root_and_unknown_split(tmp_path, make_clip):
    with pytest.raises(ValueError, match="nowhere"):
        load_speech_commands(tmp_path / "nowhere", progress=False)
    _layout(tmp_path, make_clip)
    with pytest.raises(ValueError, match="validation"):
        load_speech_commands(tmp_path, splits=("validation",), progress=False)


def _tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _wav_bytes(seed: int) -> bytes:
    buffer = io.BytesIO()
    samples = np.random.default_rng(seed).uniform(-0.1, 0.1, 16_000).astype(np.float32)
    sf.write(buffer, samples, 16_000, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@pytest.fixture
def loopback_server(tmp_path):
    """Serve tmp_path/www on 127.0.0.1; yields (base_url, www folder, list of request paths)."""
    www = tmp_path / "www"
    www.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", www, requests
    server.shutdown()
    server.server_close()
    thread.join()


def test_download_extracts_atomically_and_loads(tmp_path, loopback_server):
    base_url, www, requests = loopback_server
    files = {
        f"./{word}/{speaker}_nohash_0.wav": _wav_bytes(i)
        for i, (word, speaker) in enumerate(
            (w, s) for w in ("go", "stop") for s in ("11111111", "22222222", "33333333", "44444444")
        )
    }
    files["./LICENSE"] = b"CC BY 4.0"
    (www / "sc.tar.gz").write_bytes(_tar_gz(files))
    dest = tmp_path / "data" / "speech_commands"

    assert download_speech_commands(dest, url=f"{base_url}/sc.tar.gz", progress=False) == dest
    assert (dest / DOWNLOAD_MARKER).is_file()
    assert [p.name for p in dest.parent.iterdir()] == ["speech_commands"]  # no temp folders left
    sets = load_speech_commands(dest, progress=False)
    assert sum(len(s) for s in sets.values()) == 8 and sets["train"].classes == ("go", "stop")

    download_speech_commands(dest, url=f"{base_url}/sc.tar.gz", progress=False)
    assert len(requests) == 1  # already complete: nothing fetched again


def test_download_rejects_unsafe_archive_and_leaves_nothing(tmp_path, loopback_server):
    base_url, www, _ = loopback_server
    (www / "evil.tar.gz").write_bytes(_tar_gz({"../evil.wav": _wav_bytes(0)}))
    dest = tmp_path / "data" / "sc"
    with pytest.raises(ValueError, match="unsafe member"):
        download_speech_commands(dest, url=f"{base_url}/evil.tar.gz", progress=False)
    assert not dest.exists() and not list(dest.parent.iterdir())


def test_download_refuses_non_empty_unfinished_folder(tmp_path):
    dest = tmp_path / "sc"
    dest.mkdir()
    (dest / "partial.wav").write_bytes(b"x")
    with pytest.raises(ValueError, match="not a completed download"):
        download_speech_commands(dest, url="http://127.0.0.1:9/never", progress=False)
