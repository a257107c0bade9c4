"""core.data.windows: a recording's 1-s windows, packed once for min-min."""

import numpy as np

from core import CLIP_SAMPLES
from core.data.windows import held_samples, pack_windows, split_windows, stitch, window_count


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
