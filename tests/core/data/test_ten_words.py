"""The leaderboard's 10-word set built from an archive served on 127.0.0.1: kept files checked
by SHA-1, nothing else written, found in a fixed order, and then scored by the leaderboard."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import tarfile
import threading
from pathlib import Path

import pytest

from core.data import ten_words
from core.data.__main__ import main
from core.data.speech_commands import DOWNLOAD_MARKER
from core.data.ten_words import check_ten_words, fetch_ten_words, read_manifest, ten_words_root
from tests.paths import SHARED_SPEECH_COMMANDS

WORDS, PER_WORD = ("yes", "no", "up"), 12


def real_clips() -> dict[str, bytes]:
    """A few real clips per word from the shared set, by relative path."""
    clips = {}
    for word in WORDS:
        for path in sorted((SHARED_SPEECH_COMMANDS / word).glob("*.wav"))[:PER_WORD]:
            clips[f"{word}/{path.name}"] = path.read_bytes()
    return clips


def make_archive(folder: Path, clips: dict[str, bytes]) -> Path:
    """The official archive's shape: ./<word>/<clip>.wav, plus members that must not be kept."""
    path = folder / "test_set.tar.gz"
    extra = {"_background_noise_/white.wav": b"RIFF....", "LICENSE": b"license", "../evil.wav": b"escape"}
    with tarfile.open(path, "w:gz") as archive:
        for rel, data in {**clips, **extra}.items():
            info = tarfile.TarInfo(rel if rel.startswith("..") else f"./{rel}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def write_manifest(path: Path, clips: dict[str, bytes]) -> Path:
    path.write_text("".join(f"{hashlib.sha1(d).hexdigest()}  {rel}\n" for rel, d in clips.items()))
    return path


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(url of the archive on 127.0.0.1, the clips it holds, a manifest of them)."""
    if not SHARED_SPEECH_COMMANDS.is_dir():
        pytest.skip("needs the shared 10-word set")
    folder = tmp_path_factory.mktemp("served")
    clips = real_clips()
    make_archive(folder, clips)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/test_set.tar.gz", clips, write_manifest(folder / "m.sha1", clips)
    server.shutdown()


def test_the_shipped_manifest_names_the_whole_set():
    manifest = read_manifest()
    assert len(manifest) == 4074 and len({rel.split("/")[0] for rel in manifest}) == 10
    if SHARED_SPEECH_COMMANDS.is_dir():  # and it describes the shared copy exactly
        rel = "yes/" + sorted(p.name for p in (SHARED_SPEECH_COMMANDS / "yes").glob("*.wav"))[0]
        assert manifest[rel] == hashlib.sha1((SHARED_SPEECH_COMMANDS / rel).read_bytes()).hexdigest()


def test_fetch_keeps_exactly_the_manifest_files_checked(served, tmp_path):
    url, clips, manifest = served
    dest = fetch_ten_words(tmp_path / "set", url, manifest, progress=False)
    kept = sorted(str(p.relative_to(dest)) for p in dest.rglob("*.wav"))
    assert kept == sorted(clips) and all((dest / rel).read_bytes() == data for rel, data in clips.items())
    assert (dest / DOWNLOAD_MARKER).is_file() and "CC BY 4.0" in (dest / "README.md").read_text()
    assert not (tmp_path / "evil.wav").exists() and not (dest / "_background_noise_").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["set"]  # no partial folder left
    assert fetch_ten_words(dest, "http://127.0.0.1:9/unreachable", manifest, progress=False) == dest  # done: idempotent


def test_a_wrong_or_missing_file_fails_and_leaves_nothing(served, tmp_path):
    url, clips, _ = served
    bad = dict(clips)
    first = next(iter(bad))
    bad[first] = b"other bytes"
    with pytest.raises(ValueError, match=r"1 file\(s\) differ from their SHA-1"):
        fetch_ten_words(tmp_path / "a", url, write_manifest(tmp_path / "bad.sha1", bad), progress=False)
    more = {**clips, "yes/ffffffff_nohash_9.wav": b"absent"}
    with pytest.raises(ValueError, match=r"1 file\(s\) missing \(first: \['yes/ffffffff_nohash_9.wav'\]\)"):
        fetch_ten_words(tmp_path / "b", url, write_manifest(tmp_path / "more.sha1", more), progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.sha1", "more.sha1"]


def test_the_set_is_found_in_a_fixed_order(tmp_path, monkeypatch):
    monkeypatch.setattr(ten_words, "SHARED_ROOT", tmp_path / "no_shared")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(ten_words.DATA_ENV, raising=False)
    cached = ten_words.cache_root()
    assert ten_words_root() == cached  # where a fetch puts it ...
    with pytest.raises(ValueError, match=r"not at .*fetch it \(about 112 MB\) with `python -m core.data fetch speech-commands-10`"):
        check_ten_words(cached)  # ... which says so before any work
    (cached / "yes").mkdir(parents=True)
    check_ten_words(cached)
    (tmp_path / "no_shared").mkdir()
    assert ten_words_root() == tmp_path / "no_shared"
    monkeypatch.setenv(ten_words.DATA_ENV, str(tmp_path / "env"))
    assert ten_words_root() == tmp_path / "env"
    assert ten_words_root(tmp_path / "explicit") == tmp_path / "explicit"


def test_without_shared_data_fetch_then_score_a_submission(served, tmp_path, monkeypatch, capsys):
    """A clone without ../shared: fetch the set (here a slice of it, from 127.0.0.1), then
    the leaderboard finds it in the user cache and scores a submission on it."""
    from leaderboard import protocol
    from leaderboard.__main__ import main as leaderboard
    from tests.leaderboard.factory import write_submission

    url, _, manifest = served
    monkeypatch.setattr(ten_words, "SHARED_ROOT", tmp_path / "no_shared")
    monkeypatch.setattr(ten_words, "MANIFEST", manifest)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(ten_words.DATA_ENV, raising=False)
    assert main(["fetch", "speech-commands-10", "--url", url, "--no-progress"]) == 0
    assert str(ten_words.cache_root()) in capsys.readouterr().out
    # the quick protocol, but on the fetched set rather than the embedded sample
    monkeypatch.setitem(protocol.QUICK, "data", {"max_train_per_class": 4, "max_test_per_class": 2})
    file = write_submission(tmp_path / "in", "tiny")
    args = ["submit", str(file), "--quick", "--root", str(tmp_path / "board"), "--cache", str(tmp_path / "c")]
    assert leaderboard([*args, "--device", "cpu", "--no-progress"]) == 0
    assert "data: 12 train / 6 test clips, 3 classes" in capsys.readouterr().out  # the fetched slice
    assert (tmp_path / "board" / "entries" / "tiny.json").is_file()


def test_scoring_without_the_set_says_how_to_fetch_it_before_any_work(tmp_path, monkeypatch, capsys):
    from leaderboard.__main__ import main as leaderboard
    from tests.leaderboard.factory import write_submission

    monkeypatch.setattr(ten_words, "SHARED_ROOT", tmp_path / "no_shared")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(ten_words.DATA_ENV, raising=False)
    file = write_submission(tmp_path / "in", "tiny")
    args = ["submit", str(file), "--root", str(tmp_path / "board"), "--cache", str(tmp_path / "c"), "--no-progress"]
    assert leaderboard(args) != 0
    assert "python -m core.data fetch speech-commands-10" in capsys.readouterr().err
    assert not (tmp_path / "board").exists() and not (tmp_path / "c").exists()
