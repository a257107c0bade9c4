"""Reading and writing audio files: mono float32 at the library rate, fixed length, atomic writes.

Everything that touches an audio file goes through here, so every reader error names the
file and every written file is either complete or absent.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
import soundfile as sf
import soxr
import torch
from tqdm import tqdm

from core import CLIP_SAMPLES, SAMPLE_RATE_HZ
from core.atomic import atomic_path

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)

_FLOAT_SUBTYPES = frozenset({"FLOAT", "DOUBLE"})
_WAV_SIZE_PLACEHOLDERS = (0, 0xFFFFFFFF)  # streaming writers leave these in unfinished headers


class AudioError(ValueError):
    """An audio file that cannot be used: missing, not audio, truncated, empty or non-finite."""


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _check_wav_complete(path: Path) -> None:
    """Raise AudioError if a RIFF/WAVE file's data chunk is shorter than its header says.

    libsndfile reads a WAV that was cut short without complaint and returns fewer frames,
    so a partial download would pass as a short clip; this walks the chunk list instead.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        offset = 12
        while offset + 8 <= size:
            f.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"data":
                available = size - offset - 8
                if chunk_size not in _WAV_SIZE_PLACEHOLDERS and chunk_size > available:
                    raise AudioError(
                        f"{path}: truncated WAV file: header declares {chunk_size} data bytes, "
                        f"file holds {available}; expected a complete file"
                    )
                return
            offset += 8 + chunk_size + (chunk_size & 1)


def _check_ogg_complete(path: Path) -> None:
    """Raise AudioError if an Ogg file (Vorbis, Opus, FLAC in Ogg) was cut short.

    libsndfile takes an Ogg stream's length from its last complete page, so a cut-off
    download reads as a shorter clip without a word. A finished Ogg stream ends with a page
    flagged end-of-stream; this checks that the file's last page is complete and carries it.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        if f.read(4) != b"OggS":
            return
        start = max(0, size - _OGG_MAX_PAGE_BYTES)
        f.seek(start)
        tail = f.read()
    at = tail.rfind(b"OggS")
    complete = False
    if at >= 0 and len(tail) - at >= 27:
        segments = tail[at + 26]
        table = tail[at + 27 : at + 27 + segments]
        page_end = at + 27 + segments + sum(table)
        complete = len(table) == segments and page_end <= len(tail) and bool(tail[at + 5] & 0x04)
    if not complete:
        raise AudioError(f"{path}: truncated Ogg file: its last page is cut off or not the stream's end; expected a complete file")


_OGG_MAX_PAGE_BYTES = 27 + 255 + 255 * 255
"""The largest Ogg page: a 27-byte header, 255 lacing values and 255 segments of 255 bytes."""
READ_BLOCK_FRAMES = 1 << 18
"""Frames decoded at a time (6 s of 44.1 kHz): memory stays that of the 16-kHz mono result,
not of the file's own rate and channels, so an hour-long recording reads in a few hundred MB."""
MP3_LENGTH_SLACK = 0.02
"""An MP3 without a length (Xing/LAME) header declares a length estimated from its size, so
an MP3 may read this fraction short of what it declares before it counts as cut off."""


def read_audio(path: str | Path, sample_rate_hz: int = SAMPLE_RATE_HZ, max_seconds: float | None = None) -> np.ndarray:
    """Read any file soundfile can read as mono float32 at `sample_rate_hz`.

    Channels are averaged to mono; a different file rate is resampled with soxr (quality
    "HQ", streamed: the same samples as one call on the whole file). The file is decoded
    READ_BLOCK_FRAMES at a time. `max_seconds` reads only the start. Returns [T] float32.

    Raises:
        AudioError: the file is missing, not audio, truncated (WAV, Ogg, MP3 and FLAC are
            checked), has 0 samples, or holds NaN/inf samples. The message names the file.
    """
    _check_positive("sample_rate_hz", sample_rate_hz)
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found; expected an existing file")
    _check_wav_complete(path)
    _check_ogg_complete(path)
    try:
        with sf.SoundFile(path) as f:
            declared, file_rate_hz, is_mp3 = f.frames, f.samplerate, f.format == "MP3"
            wanted = declared if max_seconds is None else min(declared, max(1, math.ceil(max_seconds * file_rate_hz)))
            stream = None if file_rate_hz == sample_rate_hz else soxr.ResampleStream(file_rate_hz, sample_rate_hz, 1, dtype="float32", quality="HQ")
            pieces, frames = [], 0
            while frames < wanted:
                block = f.read(min(READ_BLOCK_FRAMES, wanted - frames), dtype="float32", always_2d=True)
                if block.shape[0] == 0:
                    break  # the file holds fewer frames than it declares (checked below)
                if not np.isfinite(block).all():
                    raise AudioError(f"{path}: audio file holds NaN or inf samples; expected finite values")
                frames += block.shape[0]
                mono = mix_to_mono(block)
                pieces.append(mono if stream is None else stream.resample_chunk(mono, last=False))
            if stream is not None:
                pieces.append(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    except sf.SoundFileError as err:
        raise AudioError(f"{path}: cannot read as audio ({err}); expected a complete audio file") from err
    if frames == 0:
        raise AudioError(f"{path}: audio file has 0 samples; expected at least one")
    if frames < wanted * (1 - MP3_LENGTH_SLACK if is_mp3 else 1):
        raise AudioError(f"{path}: truncated file: it declares {declared} frames and holds {frames}; expected a complete file")
    return np.ascontiguousarray(np.concatenate(pieces), dtype=np.float32)


def read_blocks(f: sf.SoundFile) -> Iterator[np.ndarray]:
    """An open file's frames as float64 [n, channels] blocks of READ_BLOCK_FRAMES, to its end."""
    while (block := f.read(READ_BLOCK_FRAMES, dtype="float64", always_2d=True)).shape[0]:
        yield block


def mix_to_mono(samples: np.ndarray) -> np.ndarray:
    """[n, channels] -> [n] float32, the channels averaged (in float32, as every reader here does)."""
    return samples.mean(axis=1, dtype=np.float32) if samples.shape[1] > 1 else samples[:, 0].astype(np.float32)


def read_audio_info(path: str | Path) -> tuple[int, int, str, str]:
    """(sample_rate_hz, channels, subtype, format) of a file, to write outputs in the same format."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found; expected an existing file")
    try:
        info = sf.info(path)
    except sf.SoundFileError as err:
        raise AudioError(f"{path}: cannot read as audio ({err}); expected a complete audio file") from err
    return int(info.samplerate), int(info.channels), str(info.subtype), str(info.format)


def fix_length(x: ArrayT, num_samples: int = CLIP_SAMPLES) -> ArrayT:
    """Pad or crop the last axis to exactly `num_samples`.

    Policy: shorter clips are zero-padded at the END (as the PyTorch Speech Commands
    tutorial pads clips under 1 s); longer clips keep their FIRST `num_samples`. Works on
    numpy arrays and torch tensors of any rank; returns the same type.
    """
    _check_positive("num_samples", num_samples)
    length = x.shape[-1]
    if length >= num_samples:
        return x[..., :num_samples]
    pad = num_samples - length
    if isinstance(x, torch.Tensor):
        return torch.nn.functional.pad(x, (0, pad))
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, pad)])


def load_clip(
    path: str | Path, sample_rate_hz: int = SAMPLE_RATE_HZ, num_samples: int = CLIP_SAMPLES
) -> np.ndarray:
    """One clip as [num_samples] mono float32: `read_audio` then `fix_length`."""
    return fix_length(read_audio(path, sample_rate_hz), num_samples)


def load_clips(
    paths: Sequence[str | Path],
    sample_rate_hz: int = SAMPLE_RATE_HZ,
    num_samples: int = CLIP_SAMPLES,
    progress: bool = False,
    desc: str = "reading audio",
) -> np.ndarray:
    """Many clips as [N, num_samples] float32, in the order of `paths`.

    Reads in a small thread pool: libsndfile and soxr release the GIL, so decoding
    overlaps file I/O.
    """
    out = np.zeros((len(paths), num_samples), dtype=np.float32)
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        clips = pool.map(lambda p: load_clip(p, sample_rate_hz, num_samples), paths)
        for i, clip in enumerate(tqdm(clips, total=len(paths), desc=desc, disable=not progress)):
            out[i] = clip
    return out


def write_audio_atomic(
    path: str | Path,
    samples: np.ndarray,
    sample_rate_hz: int,
    subtype: str | None = None,
    format: str | None = None,
) -> None:
    """Write `samples` ([T] or [T, channels]) so that `path` is either complete or untouched.

    Writes a temporary file in the same folder and `os.replace`s it over `path`, so a
    crash never leaves a half-written file; the temporary file is removed on error. Parent
    folders are created. `format` defaults to the one the extension implies and `subtype`
    to that format's default. Samples are clipped to [-1, 1] unless the subtype is FLOAT or
    DOUBLE, because integer and lossy encoders would otherwise wrap or distort overflow.
    """
    _check_positive("sample_rate_hz", sample_rate_hz)
    path = Path(path)
    samples = np.asarray(samples)
    if samples.ndim not in (1, 2) or samples.shape[0] == 0:
        raise ValueError(f"samples for {path} must be [T] or [T, channels] with T > 0, got {samples.shape}")
    if not np.isfinite(samples).all():
        raise ValueError(f"samples for {path} hold NaN or inf; expected finite values")
    fmt = (format or path.suffix.lstrip(".")).upper()
    if fmt not in sf.available_formats():
        raise ValueError(
            f"cannot write {path}: format {fmt!r} (from format= or the extension) is unknown; "
            f"expected one of {sorted(sf.available_formats())}"
        )
    sub = subtype or sf.default_subtype(fmt)
    if not sf.check_format(fmt, sub):
        raise ValueError(
            f"cannot write {path} as format={fmt!r} subtype={sub!r}; expected a pair soundfile "
            f"supports, e.g. WAV/PCM_16 or FLAC/PCM_16"
        )
    if sub not in _FLOAT_SUBTYPES:
        samples = np.clip(samples, -1.0, 1.0)
    with atomic_path(path) as tmp:
        sf.write(tmp, samples, sample_rate_hz, subtype=sub, format=fmt)
