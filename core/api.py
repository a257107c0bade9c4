"""`core.protect_audio`: protect one recording in memory, at any rate and channel count.

    >>> import soundfile as sf, core
    >>> wav, rate = sf.read("clip.flac")            # [T] or [T, channels], any rate
    >>> result = core.protect_audio(wav, rate)       # the paper's table, the bundled surrogate
    >>> sf.write("clip_protected.flac", result.audio, rate)

The recording is mixed to mono and resampled to 16 kHz, cut once into 1-s windows, and the
noise is made there against a fixed surrogate (`core.surrogate`: the noise half of min-min;
a folder of many recordings gets full min-min with `python -m core protect`). It is then
brought back to the recording's rate, clamped again to the budget held at that rate and
added to every channel: the same windowing, budget and adding code as the folder tool.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import soxr
import torch

from core import SAMPLE_RATE_HZ
from core.budgets import Budget, SegmentMask
from core.budgets.band import written_cutoff
from core.budgets.base import eps_in_batches, noise_power_limit
from core.data.audio_io import mix_to_mono
from core.noise import project
from core.data.windows import split_windows, stitch
from core.metrics.recording import recording_metrics
from core.noise.adding import add_noise, eps_held
from core.surrogate import (
    NoiseSettings,
    Surrogate,
    fixed_surrogate_noise,
    label_confidence,
    load_surrogate,
    predict_label,
)

DEFAULT_EPS_MAX = 0.13
"""The default budget: the paper's segment mask table at its eps_max."""


@dataclass(frozen=True)
class Protected:
    """A protected recording.

    Attributes:
        audio: the protected samples, the input's shape, inside [-1, 1]; float64 for float64
            input (NumPy or torch), float32 otherwise.
        noise: audio minus the input (what was added, after clipping to [-1, 1]).
        eps: [T] the budget held at the input's rate: |noise| <= eps on every channel.
        sample_rate: the input's rate (unchanged).
        label: the class the noise pushes the surrogate towards (predicted unless given).
        confidence: the surrogate's mean probability of `label` on the original and on the
            protected recording (error-minimizing noise raises it).
        metrics: snr_db, linf, pesq_wb and stoi of the protected against the original, on the
            16-kHz mono mix of the first 30 s (pesq_wb and stoi None when not asked for, or
            pesq_wb when shorter than a quarter second).
    """

    audio: np.ndarray
    noise: np.ndarray
    eps: np.ndarray
    sample_rate: int
    label: str
    confidence: tuple[float, float]
    metrics: dict[str, float | None]


def protect_audio(
    wav: np.ndarray | torch.Tensor,
    sample_rate: int,
    *,
    budget: Budget | None = None,
    surrogate: Surrogate | None = None,
    label: str | None = None,
    settings: NoiseSettings = NoiseSettings(),
    perceptual: bool = True,
) -> Protected:
    """Protect one recording held in memory.

    Args:
        wav: [T] or [T, channels] samples in [-1, 1] (channels last, as soundfile reads them).
        sample_rate: its rate in Hz.
        budget: any `core.budgets` budget (a psychoacoustic `Masking` budget shapes the noise
            under the recording's masking threshold); default the paper's segment mask table
            at eps_max 0.13.
        surrogate: the classifier the noise is made against; default the bundled M5
            (the embedded sample's ten words).
        label: the surrogate class to push towards; default its own prediction.
        settings: descent steps, step size and seed (same input and seed, same noise).
        perceptual: compute PESQ-WB and STOI (a second or two per 30 s).

    Raises ValueError for an empty, non-finite or out-of-range input, a bad rate or shape,
    or an unknown label.
    """
    samples, mono_input, dtype = _as_samples(wav)
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer of Hz, got {sample_rate!r}")
    budget = budget if budget is not None else SegmentMask(DEFAULT_EPS_MAX)
    surrogate = surrogate if surrogate is not None else load_surrogate()
    clean_16k = mono_16k(samples, sample_rate)
    windows = torch.from_numpy(split_windows(clean_16k))
    if label is None:
        label_index = predict_label(surrogate, windows)
    elif label in surrogate.classes:
        label_index = surrogate.classes.index(label)
    else:
        raise ValueError(f"unknown label {label!r}; expected one of {list(surrogate.classes)}")
    eps = eps_in_batches(budget, windows)
    eps.reshape(-1)[len(clean_16k) :] = 0.0  # the last window's padding is never written
    band = written_cutoff(budget.band_limit_hz, sample_rate)
    limit = noise_power_limit(budget, windows)  # the masking budget's per-bin power limit, else None
    shape = None if limit is None else partial(budget.shape, limit=limit)
    delta = fixed_surrogate_noise(surrogate, windows, eps, label_index, settings, band, shape)
    if limit is not None:  # the budget's thorough projection for the noise that is returned
        delta = project(delta, windows, eps, band, partial(budget.shape, limit=limit, final=True))
    noise_16k, eps_16k = stitch(delta.numpy(), len(clean_16k)), stitch(eps.numpy(), len(clean_16k))
    protected = add_noise(samples, noise_16k, eps_16k, sample_rate)
    protected_16k = mono_16k(protected, sample_rate)
    confidence = (
        label_confidence(surrogate, windows, label_index),
        label_confidence(surrogate, torch.from_numpy(split_windows(protected_16k)), label_index),
    )
    audio = (protected[:, 0] if mono_input else protected).astype(dtype)
    original = (samples[:, 0] if mono_input else samples).astype(dtype)
    return Protected(
        audio=audio,
        noise=audio - original,
        eps=eps_held(eps_16k, len(samples), sample_rate).astype(dtype),
        sample_rate=sample_rate,
        label=surrogate.classes[label_index],
        confidence=confidence,
        metrics=recording_metrics(clean_16k, protected_16k, perceptual),
    )


def _as_samples(wav: np.ndarray | torch.Tensor) -> tuple[np.ndarray, bool, np.dtype]:
    """wav as float64 [T, channels], whether it came as [T], and the float dtype to return
    (float64 for float64 input, else float32); ValueError for what cannot be protected."""
    if isinstance(wav, torch.Tensor):
        wav = wav.detach().cpu().numpy()
    samples = np.asarray(wav)
    if samples.ndim not in (1, 2) or samples.shape[0] == 0 or 0 in samples.shape:
        raise ValueError(f"wav must be [samples] or [samples, channels] with samples > 0, got shape {samples.shape}")
    if samples.ndim == 2 and samples.shape[1] > samples.shape[0]:
        raise ValueError(
            f"wav of shape {samples.shape} looks like [channels, samples]; pass [samples, channels] "
            "(channels last, as soundfile reads), e.g. wav.T"
        )
    if not np.issubdtype(samples.dtype, np.floating):
        raise ValueError(f"wav must hold floating-point samples in [-1, 1], got {samples.dtype}")
    dtype = np.dtype(np.float64 if samples.dtype == np.float64 else np.float32)
    samples = samples.astype(np.float64)
    if not np.isfinite(samples).all():
        raise ValueError("wav holds NaN or inf samples; expected finite values")
    peak = float(np.abs(samples).max())
    if peak > 1.0:
        raise ValueError(f"wav reaches {peak:.3g}, beyond full scale [-1, 1]; normalise it to a peak of at most 1")
    return (samples[:, None] if samples.ndim == 1 else samples), samples.ndim == 1, dtype


def mono_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """[T, channels] at `sample_rate` -> [T16] float32 mono at 16 kHz (channels averaged, soxr HQ)."""
    mono = mix_to_mono(samples)
    if sample_rate != SAMPLE_RATE_HZ:
        mono = soxr.resample(mono, sample_rate, SAMPLE_RATE_HZ, quality="HQ")
    return np.ascontiguousarray(mono, dtype=np.float32)
