"""core.data.windows: a recording's 1-s windows, packed once for min-min."""

import numpy as np

from core import CLIP_SAMPLES
from core.data.windows import WindowPacker, held_samples, pack_windows, split_windows, stitch, window_count
from core.workspace import Workspace


def test_recordings_are_packed_once_and_their_audio_is_a_view_of_the_windows():
    rng = np.random.default_rng(0)
    recordings = [rng.standard_normal(n).astype(np.float32) for n in (1, CLIP_SAMPLES, CLIP_SAMPLES + 5)]
    windows, views = pack_windows(recordings)
    assert windows.shape == (1 + 1 + 2, CLIP_SAMPLES)
    for audio, view in zip(recordings, views):
        assert np.array_equal(view, audio) and np.shares_memory(view, windows)
    assert np.array_equal(windows[2:].reshape(-1)[: CLIP_SAMPLES + 5], recordings[2])
    assert not windows[0, 1:].any() and not windows[3, 5:].any()  # padding stays zero


def test_held_samples_mark_what_a_recording_holds_and_not_its_padding():
    lengths = [1, CLIP_SAMPLES, CLIP_SAMPLES + 5]
    windows, _ = pack_windows([np.ones(n, np.float32) for n in lengths])
    held = held_samples(lengths)
    assert held.shape == windows.shape and np.array_equal(held, windows != 0)


def test_split_and_stitch_are_inverse_and_count_by_ceiling():
    audio = np.arange(2 * CLIP_SAMPLES + 3, dtype=np.float32)
    windows = split_windows(audio)
    assert windows.shape == (window_count(len(audio)), CLIP_SAMPLES) == (3, CLIP_SAMPLES)
    assert np.array_equal(stitch(windows, len(audio)), audio)


def test_a_packer_on_disk_gives_the_same_windows_memory_mapped(tmp_path):
    """Recordings are appended to a file as they arrive and the windows come back mapped from
    it, equal to the in-memory packing; the held mask goes to the same folder."""
    rng = np.random.default_rng(0)
    lengths = (1, CLIP_SAMPLES, CLIP_SAMPLES + 5)
    recordings = [rng.standard_normal(n).astype(np.float32) for n in lengths]
    packer = WindowPacker(Workspace(tmp_path / "work"))
    for audio in recordings:
        packer.add(audio)
    windows, views = packer.finish()
    expected, _ = pack_windows(recordings)
    assert isinstance(windows, np.memmap) and np.array_equal(windows, expected)
    assert all(np.array_equal(v, a) and np.shares_memory(v, windows) for v, a in zip(views, recordings))
    held = held_samples(list(lengths), Workspace(tmp_path / "work"))
    assert isinstance(held, np.memmap) and np.array_equal(held, held_samples(list(lengths)))
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["held.npy", "windows.f32"]
