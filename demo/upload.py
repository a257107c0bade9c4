"""A user's recording: checked before any work, and its protected copy in the file's own rate and channels.

Errors are ValueErrors whose messages are written for the page (the handlers show them
with gr.Error): they name the file by its name only, never a server path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from core.api import Protected
from core.data import AudioError, read_audio, write_audio_atomic

MAX_DURATION_S = 30.0
MAX_CHANNELS = 2
MAX_DECODED_SAMPLES = int(MAX_DURATION_S * 48_000 * MAX_CHANNELS)
"""Samples (frames x channels) a file may decode to: 30 s of 48 kHz stereo, about 22 MiB per
float64 copy. Checked from the header before decoding, because a few KiB of FLAC can decode
to hundreds of MiB (8 channels at 96 kHz for 29 s: 170 MiB per copy)."""
MIN_DURATION_S = 0.25
"""PESQ needs a quarter second, and so does a plot of 1000-sample segments."""
SILENCE_PEAK = 1e-4
"""A clip whose loudest sample is below this (-80 dBFS) is treated as silent."""


@dataclass(frozen=True)
class Upload:
    """A usable recording.

    Attributes:
        path: the file as uploaded.
        audio: [T] mono float32 at 16 kHz (channels averaged, resampled).
        samples: [frames, channels] float64 at the file's own rate, as decoded.
        sample_rate_hz, channels, subtype: the file's own, which the protected copy keeps.
        duration_s: the file's length.
    """

    path: Path
    audio: np.ndarray
    samples: np.ndarray
    sample_rate_hz: int
    channels: int
    subtype: str
    duration_s: float

    @property
    def name(self) -> str:
        return self.path.name


def read_upload(path: str | Path | None) -> Upload:
    """Check and decode an upload; the length is checked from the header, before decoding.

    Raises ValueError (a message for the page) for no file, a file that is not audio, and
    an empty, too short, over-long or silent clip.
    """
    if not path:
        raise ValueError("Upload or record a clip first.")
    path = Path(path)
    try:
        info = sf.info(str(path))
    except (sf.SoundFileError, RuntimeError):
        raise ValueError(f"{path.name} is not an audio file I can read; expected WAV, FLAC, OGG or MP3.") from None
    if info.frames <= 0:
        raise ValueError(f"{path.name} is empty: it holds no samples.")
    duration_s = info.frames / info.samplerate
    if info.channels > MAX_CHANNELS:
        raise ValueError(f"{path.name} has {info.channels} channels; the demo protects mono or stereo clips (mix it down first).")
    if info.frames * info.channels > MAX_DECODED_SAMPLES:
        raise ValueError(
            f"{path.name} decodes to {info.frames * info.channels:,} samples ({info.samplerate} Hz x {info.channels} "
            f"channel(s) x {duration_s:.1f} s); the demo takes up to {MAX_DECODED_SAMPLES:,} (30 s of 48 kHz stereo)."
        )
    if duration_s > MAX_DURATION_S:
        raise ValueError(f"{path.name} is {duration_s:.1f} s long; the demo protects clips up to {MAX_DURATION_S:.0f} s.")
    if duration_s < MIN_DURATION_S:
        raise ValueError(f"{path.name} is {duration_s:.2f} s long; expected at least {MIN_DURATION_S} s.")
    try:
        audio = read_audio(path)
    except AudioError as err:
        raise ValueError(f"{path.name} cannot be used: {str(err).removeprefix(f'{path}: ')}") from None
    if float(np.abs(audio).max()) < SILENCE_PEAK:
        raise ValueError(f"{path.name} is silent (peak below -80 dBFS); there is no speech to protect.")
    samples, _ = sf.read(str(path), dtype="float64", always_2d=True)
    return Upload(path, audio, samples, int(info.samplerate), int(info.channels), str(info.subtype), duration_s)


def write_protected(upload: Upload, result: Protected, out: Path) -> Path:
    """The protected upload (`core.protect_audio`'s result) as a WAV at the file's rate and
    channels, in the file's subtype where WAV has it (PCM_24, FLOAT, ...), 16-bit PCM
    otherwise (MP3, Vorbis)."""
    subtype = upload.subtype if sf.check_format("WAV", upload.subtype) else "PCM_16"
    write_audio_atomic(out, result.audio, upload.sample_rate_hz, subtype=subtype, format="WAV")
    return out
