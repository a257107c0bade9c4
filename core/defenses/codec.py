"""Lossy codec round trips (MP3, Opus, AAC): encode each clip to a file in memory, decode it back.

A thief who converts a protected set to MP3/Opus/AAC and back runs every clip through a
perceptual coder that drops what the ear masks, which may include much of an imperceptible
perturbation. Each clip is encoded on its own, as converting files would, with PyAV's bundled
FFmpeg (libmp3lame in .mp3, libopus in .ogg, FFmpeg's native aac in ADTS .aac).

The decoded clip is shifted by the codec's delay (encoder priming plus decoder delay that the
container does not already remove), measured once per (codec, bitrate, rate) by
cross-correlating a deterministic probe, then trimmed or zero-padded to the input length.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import ClassVar

import av
import numpy as np
import soxr
import torch

from core.defenses.base import Defense


@dataclass(frozen=True)
class _Codec:
    """How FFmpeg writes one codec: encoder name, container, sample format."""

    encoder: str
    container: str
    sample_format: str


_CODECS: dict[str, _Codec] = {
    "mp3": _Codec("libmp3lame", "mp3", "fltp"),
    "opus": _Codec("libopus", "ogg", "flt"),
    "aac": _Codec("aac", "adts", "fltp"),
}

# MP3 allows only the bitrates of its frame header: MPEG-1 above 24 kHz, MPEG-2/2.5 at or
# below (16 kHz is MPEG-2). libmp3lame silently rounds any other request to one of these.
_MP3_MPEG1_KBPS = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_MPEG2_KBPS = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
# Opus codes 6-510 kbit/s; FFmpeg's libopus wrapper caps mono at 256 and libopus silently
# raises anything below 6 to about 6.
_OPUS_KBPS = (6, 256)
# FFmpeg's aac encoder clamps above 6144 bits per 1024-sample frame and channel (6 bits per
# sample: 96 kbit/s at 16 kHz) and cannot go below about 8 kbit/s (asking 4 gives 8).
_AAC_MIN_KBPS = 8


def allowed_bitrates_kbps(codec: str, sample_rate_hz: int | None = None) -> tuple[int, ...]:
    """The bitrates `codec` honours: a tuple of values (mp3) or an inclusive (min, max) range
    (opus, aac). Without a rate, the union over every rate the encoder takes."""
    if codec == "mp3":
        if sample_rate_hz is None:
            return tuple(sorted(set(_MP3_MPEG1_KBPS) | set(_MP3_MPEG2_KBPS)))
        return _MP3_MPEG1_KBPS if sample_rate_hz > 24000 else _MP3_MPEG2_KBPS
    if codec == "opus":
        return _OPUS_KBPS
    if codec == "aac":
        rate = 96000 if sample_rate_hz is None else sample_rate_hz
        return (_AAC_MIN_KBPS, 6 * rate // 1000)
    raise ValueError(f"codec must be one of {sorted(_CODECS)}, got {codec!r}")


def check_bitrate(codec: str, bitrate_kbps: int, sample_rate_hz: int | None = None) -> None:
    """Raise ValueError unless `codec` honours `bitrate_kbps` (at `sample_rate_hz` if given)."""
    if isinstance(bitrate_kbps, bool) or not isinstance(bitrate_kbps, int):
        raise ValueError(f"{codec} bitrate_kbps must be an integer in kbit/s, got {bitrate_kbps!r}")
    allowed = allowed_bitrates_kbps(codec, sample_rate_hz)
    ok = bitrate_kbps in allowed if codec == "mp3" else allowed[0] <= bitrate_kbps <= allowed[1]
    if not ok:
        at = "" if sample_rate_hz is None else f" at {sample_rate_hz} Hz"
        expected = f"one of {list(allowed)}" if codec == "mp3" else f"in [{allowed[0]}, {allowed[1]}]"
        raise ValueError(f"{codec} bitrate_kbps must be {expected}{at}, got {bitrate_kbps}")


def _check_rate(codec: str, sample_rate_hz: int) -> None:
    rates = sorted(av.codec.Codec(_CODECS[codec].encoder, "w").audio_rates or ())
    if rates and sample_rate_hz not in rates:  # an empty list means any rate
        raise ValueError(f"{codec} encoder takes sample_rate_hz in {rates}, got {sample_rate_hz}")


def _encode_decode(clip: np.ndarray, sample_rate_hz: int, codec: str, bitrate_kbps: int) -> np.ndarray:
    """One mono float32 clip [T] -> encoded file in memory -> decoded float32 [T'] at the
    input rate, not aligned (T' >= T when the codec primes)."""
    spec = _CODECS[codec]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=spec.container) as out:
        stream = out.add_stream(spec.encoder, rate=sample_rate_hz, layout="mono")
        stream.bit_rate = bitrate_kbps * 1000
        stream.format = spec.sample_format
        frame = av.AudioFrame.from_ndarray(clip[None], format=spec.sample_format, layout="mono")
        frame.sample_rate = sample_rate_hz
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buffer.seek(0)
    with av.open(buffer, "r") as inp:
        frames = list(inp.decode(audio=0))
    decoded_hz = frames[0].sample_rate if frames else sample_rate_hz
    decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in frames]) if frames else np.zeros(0, np.float32)
    if decoded_hz != sample_rate_hz:
        # FFmpeg's Opus decoders always output 48 kHz (what Ogg Opus declares), even for a
        # stream encoded from 16 kHz; soxr brings it back (linear phase, no added delay).
        decoded = soxr.resample(decoded, decoded_hz, sample_rate_hz, quality="HQ")
    return decoded.astype(np.float32, copy=False)


def _probe(sample_rate_hz: int) -> np.ndarray:
    """A deterministic speech-like probe: 2 s of pink noise with a 4 Hz syllable envelope."""
    n = 2 * sample_rate_hz
    rng = np.random.default_rng(0)
    freqs_hz = np.fft.rfftfreq(n, 1 / sample_rate_hz)
    pink = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) / np.sqrt(np.maximum(freqs_hz, 50.0)), n)
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 4.0 * np.arange(n) / sample_rate_hz))
    return (0.1 * pink / pink.std() * envelope).astype(np.float32)


def best_lag(reference: np.ndarray, signal: np.ndarray, max_lag: int) -> int:
    """The lag in [-max_lag, max_lag] (samples; positive: `signal` is late) at which the
    cross-correlation of `signal` with `reference` peaks."""
    n = len(reference) + len(signal)
    corr = np.fft.irfft(np.fft.rfft(signal, n) * np.conj(np.fft.rfft(reference, n)), n)
    lags = np.r_[np.arange(0, max_lag + 1), np.arange(-max_lag, 0)]
    return int(lags[np.argmax(np.r_[corr[: max_lag + 1], corr[-max_lag:]])])


@functools.lru_cache(maxsize=None)
def codec_delay_samples(codec: str, bitrate_kbps: int, sample_rate_hz: int) -> int:
    """Samples by which the decoded clip lags the input, measured once (up to 250 ms).

    Measured, not assumed: it depends on codec, container and bitrate (at 16 kHz the mp3
    LAME tag and Ogg Opus pre-skip already remove priming, but Opus in its low-bitrate SILK
    mode still lags 2 samples; ADTS carries no priming info, so AAC lags 1024).
    """
    probe = _probe(sample_rate_hz)
    return best_lag(probe, _encode_decode(probe, sample_rate_hz, codec, bitrate_kbps), sample_rate_hz // 4)


def codec_round_trip(x: torch.Tensor, sample_rate_hz: int, codec: str, bitrate_kbps: int) -> torch.Tensor:
    """Encode each clip of [N, T] with `codec` at `bitrate_kbps` and decode it; the output is
    aligned for the codec's delay and has the input's shape, dtype and device.

    Args:
        x: waveforms [N, T], amplitude in [-1, 1] (decoded values are not clipped).
        sample_rate_hz: rate of x; must be one the encoder takes (16000 works for all three).
        codec: "mp3", "opus" or "aac".
        bitrate_kbps: target bitrate; see `allowed_bitrates_kbps`.
    """
    if x.ndim != 2:
        raise ValueError(f"waveforms must be [N, T], got {tuple(x.shape)}")
    if codec not in _CODECS:
        raise ValueError(f"codec must be one of {sorted(_CODECS)}, got {codec!r}")
    _check_rate(codec, sample_rate_hz)
    check_bitrate(codec, bitrate_kbps, sample_rate_hz)
    delay = codec_delay_samples(codec, bitrate_kbps, sample_rate_hz)
    clips = x.detach().cpu().to(torch.float32).numpy()
    t = x.shape[1]
    out = np.zeros_like(clips)
    for i, clip in enumerate(clips):
        decoded = _encode_decode(np.ascontiguousarray(clip), sample_rate_hz, codec, bitrate_kbps)
        if delay < 0:
            decoded = np.pad(decoded, (-delay, 0))
        aligned = decoded[max(delay, 0) : max(delay, 0) + t]
        out[i, : len(aligned)] = aligned
    return torch.from_numpy(out).to(device=x.device, dtype=x.dtype)


@dataclass(frozen=True)
class CodecRoundTrip(Defense):
    """Encode + decode every clip with a lossy codec; subclasses fix the codec and default
    bitrate. The bitrate is checked against the codec's limits here and against the
    rate-specific ones (e.g. MP3 at 16 kHz tops out at 160 kbit/s) in transform."""

    codec: ClassVar[str] = ""
    bitrate_kbps: int = 64

    def __post_init__(self) -> None:
        check_bitrate(self.codec, self.bitrate_kbps)

    @property
    def name(self) -> str:
        return f"{self.codec}_{self.bitrate_kbps}k"

    def transform(self, x: torch.Tensor, sample_rate_hz: int) -> torch.Tensor:
        return codec_round_trip(x, sample_rate_hz, self.codec, self.bitrate_kbps)


@dataclass(frozen=True)
class Mp3RoundTrip(CodecRoundTrip):
    """MP3 (libmp3lame, CBR) round trip, 64 kbit/s by default ("mp3_64k")."""

    codec: ClassVar[str] = "mp3"
    bitrate_kbps: int = 64


@dataclass(frozen=True)
class OpusRoundTrip(CodecRoundTrip):
    """Opus (libopus in Ogg) round trip, 24 kbit/s by default ("opus_24k"). libopus encodes
    16 kHz directly; the 48 kHz decoder output is resampled back with soxr."""

    codec: ClassVar[str] = "opus"
    bitrate_kbps: int = 24


@dataclass(frozen=True)
class AacRoundTrip(CodecRoundTrip):
    """AAC-LC (FFmpeg's native encoder, ADTS) round trip, 64 kbit/s by default ("aac_64k")."""

    codec: ClassVar[str] = "aac"
    bitrate_kbps: int = 64
