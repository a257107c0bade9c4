"""Inputs for the demo tests: real speech from the shipped examples, WAV files, a leaderboard folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from demo.examples import read_index
from leaderboard.entries import write_entry
from tests.leaderboard.factory import make_entry


def speech_clip(seconds: float = 1.0) -> np.ndarray:
    """Real speech at 16 kHz: the shipped examples' clean clips one after another, repeated
    or cut to `seconds`."""
    audio = np.concatenate([sf.read(e.clean, dtype="float32")[0] for e in read_index().examples])
    return np.resize(audio, int(seconds * 16_000)).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate_hz: int = 16_000, subtype: str = "PCM_16") -> Path:
    sf.write(path, samples, rate_hz, subtype=subtype)
    return path


def write_board(root: Path) -> Path:
    """Entries const_a (constant_008's budget), const_b (eps 0.05, not shipped) and the clean reference."""
    write_entry(root, make_entry("const_a", worst=0.3, pesq=1.4))
    other = make_entry("const_b", worst=0.2, pesq=1.1)
    other["budget"] = {"kind": "constant", "eps": 0.05}
    write_entry(root, other)
    write_entry(root, make_entry("clean_reference", worst=0.9, pesq=None, kind="none"))
    return root
