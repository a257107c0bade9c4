"""Band limits: noise kept below a cut-off frequency, so that it lies where resampling to
8 kHz keeps it and where wide-band listeners (and PESQ-WB) hear it least.

A budget with `band_limit_hz` asks min-min to zero the noise's spectrum above the cut-off
before every clip to the L-inf bound. The L-inf bound stays exact; the band limit is
approximate, because clipping puts a little energy back above the cut-off (about 0.5% of
the paper table's noise energy at 4 kHz, leaderboard/README.md).
"""

from __future__ import annotations


import torch

from core import SAMPLE_RATE_HZ
from core.numbers import is_finite_number

NYQUIST_HZ = SAMPLE_RATE_HZ / 2


def band_limit_problem(value: object) -> str | None:
    """Why `value` is not a usable cut-off (a number with 0 < f < Nyquist), else None."""
    if not is_finite_number(value) or not 0.0 < value < NYQUIST_HZ:
        return (
            f"must be a number of Hz with 0 < band_limit_hz < {NYQUIST_HZ:g} (the Nyquist frequency at "
            f"{SAMPLE_RATE_HZ} Hz; leave it out for no limit), got {value!r}"
        )
    return None


def check_band_limit(value: float | None) -> None:
    """Raise ValueError unless `value` is None (no limit) or a usable cut-off in Hz."""
    problem = None if value is None else band_limit_problem(value)
    if problem is not None:
        raise ValueError(f"band_limit_hz {problem}")


def band_limit_entry(band_limit_hz: float | None) -> float | None:
    """A budget dict's `band_limit_hz`: the cut-off as a float (4000 and 4000.0 are one
    budget, with one cache key), None for no limit."""
    return None if band_limit_hz is None else float(band_limit_hz)


def written_cutoff(band_limit_hz: float | None, sample_rate_hz: int) -> float | None:
    """The band noise at 16 kHz may use for a file at `sample_rate_hz`: the budget's band limit,
    and never above the file's own Nyquist frequency (noise there would not survive the trip
    back to the file's rate); None where neither limits it. The one rule for the folder tool's
    files and `core.protect_audio`'s recordings."""
    nyquist = min(sample_rate_hz, SAMPLE_RATE_HZ) / 2
    if nyquist >= NYQUIST_HZ:
        return band_limit_hz
    return nyquist if band_limit_hz is None else min(band_limit_hz, nyquist)


def band_limit(
    delta: torch.Tensor, cutoff_hz: float | torch.Tensor | None, sample_rate_hz: int = SAMPLE_RATE_HZ
) -> torch.Tensor:
    """delta [..., T] with every FFT bin above `cutoff_hz` set to zero (bins at or below it
    kept); delta itself for None (no limit). `cutoff_hz` may be a tensor [B] of one cut-off
    per row of a delta [B, T] (clips whose files keep different bands).

    Computed in delta's dtype and on its device; returns a tensor of delta's shape.
    """
    if cutoff_hz is None:
        return delta
    if isinstance(cutoff_hz, torch.Tensor) and bool((cutoff_hz >= sample_rate_hz / 2).all()):
        return delta  # every row keeps its whole band: the FFT round trip would only add rounding
    n = delta.shape[-1]
    spectrum = torch.fft.rfft(delta, dim=-1)
    freqs = torch.fft.rfftfreq(n, 1.0 / sample_rate_hz, device=delta.device)
    if isinstance(cutoff_hz, torch.Tensor):
        if delta.dim() != 2 or cutoff_hz.shape != (delta.shape[0],):
            raise ValueError(f"per-row cut-offs need delta [B, T] and cut-offs [B], got {tuple(delta.shape)} and {tuple(cutoff_hz.shape)}")
        above = freqs[None, :] > cutoff_hz.to(delta.device, freqs.dtype)[:, None]
        spectrum = spectrum.masked_fill(above, 0)
    else:
        spectrum[..., freqs > cutoff_hz] = 0
    return torch.fft.irfft(spectrum, n=n, dim=-1)
