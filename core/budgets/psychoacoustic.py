"""Psychoacoustic masking threshold (MPEG-1 psychoacoustic model 1, as Qin et al., ICML 2019,
"Imperceptible, Robust, and Targeted Adversarial Examples for ASR", simplify it) and the
projection of a noise's spectrum under it.

Per STFT frame of the clean clip: the power spectral density in dB, normalised so that the
clip's loudest bin sits at 96 dB SPL; tonal maskers at local maxima (each the power of its
bin and its two neighbours), kept when above the threshold in quiet and strongest within
0.5 Bark; each masker spreads a two-slope triangle on the Bark scale (27 dB/Bark below it,
27 - 0.37 max(P - 40, 0) dB/Bark above it, offset -6.025 - 0.275 z dB); the global threshold
sums every masker's spread and the threshold in quiet as powers.

Where this differs from Qin et al.'s reference code, and why:
- the 0.5-Bark decimation keeps every masker that is the strongest within 0.5 Bark of it
  (one vectorised rule) rather than the reference's sequential deletion loop, whose result
  depends on the masker order;
- the STFT is centred (zero-padded by n_fft / 2 at both ends) so that every sample lies in
  some frame: a projection must constrain all of the noise, not all but the last 128 samples;
- every logarithm takes power + 1e-20, so silence and zero padding give finite thresholds
  (ART's issues #929 and #1158 are NaN thresholds from log(0)): an all-zero clip gets the
  threshold in quiet relative to its own (silent) maximum, which allows no audible noise.

Thresholds are computed in float64, projections in float32; shapes are [N, T] for clips, [N, F, frames] for spectra.
"""

from __future__ import annotations

import math

import torch

from core import SAMPLE_RATE_HZ

N_FFT = 2048
HOP = 512
PSD_REFERENCE_DB = 96.0
"""The clip's loudest STFT bin is taken to be at 96 dB SPL (16-bit full scale, model 1)."""
_TINY = 1e-20


def bark(f_hz: torch.Tensor) -> torch.Tensor:
    """Zwicker's critical-band rate in Bark of frequencies in Hz."""
    return 13 * torch.atan(0.00076 * f_hz) + 3.5 * torch.atan((f_hz / 7500.0) ** 2)


def quiet_threshold_db(f_hz: torch.Tensor) -> torch.Tensor:
    """Terhardt's threshold in quiet in dB SPL (model 1's form, -12 dB offset as Qin et al.),
    -inf below 1 Bark where the formula diverges (those bins are never a masker's limit)."""
    khz = f_hz * 1e-3
    ath = 3.64 * khz.clamp_min(1e-6) ** -0.8 - 6.5 * torch.exp(-0.6 * (khz - 3.3) ** 2) + 1e-3 * khz**4 - 12
    return torch.where(bark(f_hz) > 1, ath, torch.full_like(ath, -math.inf))


def stft(x: torch.Tensor, n_fft: int = N_FFT, hop: int = HOP) -> torch.Tensor:
    """Complex STFT [N, F, frames] in x's precision, periodic Hann window, centred with zero
    padding."""
    window = torch.hann_window(n_fft, dtype=x.dtype, device=x.device)
    return torch.stft(x, n_fft, hop, window=window, center=True, pad_mode="constant", return_complex=True)


def istft(spec: torch.Tensor, length: int, n_fft: int = N_FFT, hop: int = HOP) -> torch.Tensor:
    """Inverse of `stft` ([N, length], spec's precision)."""
    window = torch.hann_window(n_fft, dtype=spec.real.dtype, device=spec.device)
    return torch.istft(spec, n_fft, hop, window=window, center=True, length=length)


def power_of(spec: torch.Tensor, n_fft: int = N_FFT) -> torch.Tensor:
    """Qin et al.'s PSD scale: (sqrt(8/3) |X| / n_fft)^2, the Hann window's power gain undone."""
    return (8.0 / 3.0 / n_fft**2) * (spec.real.square() + spec.imag.square())


def psd_db(x: torch.Tensor, n_fft: int = N_FFT, hop: int = HOP) -> tuple[torch.Tensor, torch.Tensor]:
    """(PSD in dB normalised to the clip's maximum at 96 dB [N, F, frames], that maximum's
    raw dB per clip [N]). Raw = 10 log10(power + 1e-20), finite for silence."""
    raw = 10 * torch.log10(power_of(stft(x.double(), n_fft, hop), n_fft) + _TINY)
    peak = raw.amax(dim=(1, 2))
    return PSD_REFERENCE_DB - peak[:, None, None] + raw, peak


def masking_threshold_db(
    x: torch.Tensor, sample_rate_hz: int = SAMPLE_RATE_HZ, n_fft: int = N_FFT, hop: int = HOP, chunk: int = 256
) -> tuple[torch.Tensor, torch.Tensor]:
    """Global masking threshold of clean clips x [N, T]: (threshold in normalised dB
    [N, F, frames], the clips' raw PSD maxima in dB [N]); see the module docstring.
    Frames are processed `chunk` at a time to bound memory."""
    psd, peak = psd_db(x, n_fft, hop)
    n, f, frames = psd.shape
    rows = psd.permute(0, 2, 1).reshape(n * frames, f)  # one row per frame
    freqs = torch.fft.rfftfreq(n_fft, 1.0 / sample_rate_hz, dtype=torch.float64, device=x.device)
    z, ath = bark(freqs), quiet_threshold_db(freqs)
    # Bins within 0.5 Bark of bin k: [lo[k], hi[k]) (z rises with frequency).
    lo = torch.searchsorted(z, z - 0.5, right=True)
    hi = torch.searchsorted(z, z + 0.5)
    threshold = torch.cat([_frame_thresholds(r, z, ath, lo, hi) for r in rows.split(chunk)])
    return threshold.reshape(n, frames, f).permute(0, 2, 1), peak


def _frame_thresholds(p: torch.Tensor, z: torch.Tensor, ath: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """Global threshold in dB of normalised PSD rows p [R, F]."""
    # Tonal maskers: strict local maxima (not at the ends), power of bin and neighbours.
    inner = (p[:, 1:-1] > p[:, :-2]) & (p[:, 1:-1] > p[:, 2:])
    power = 10 ** (p / 10)
    p_tm = 10 * torch.log10(power[:, :-2] + power[:, 1:-1] + power[:, 2:] + _TINY)
    masker = torch.full_like(p, -math.inf)
    masker[:, 1:-1] = torch.where(inner & (p_tm >= ath[1:-1]), p_tm, -math.inf)

    # Keep a masker only if it is the strongest within 0.5 Bark of it.
    masker = torch.where(masker >= _range_max(masker, lo, hi), masker, -math.inf)

    # Each kept masker's two-slope spread, summed with the threshold in quiet as powers.
    total = (10 ** (ath / 10)).expand_as(p).clone()
    count = int((masker > -math.inf).sum(1).max())
    if count:
        level, index = masker.topk(count, dim=1)  # [R, K]; -inf where a row has fewer maskers
        valid = level > -math.inf
        level = torch.where(valid, level, 0.0)
        z_m = z[index]
        dz = z[None, None, :] - z_m[..., None]  # [R, K, F]
        upper = (-27 + 0.37 * (level.clamp_min(40) - 40))[..., None]
        spread_db = (level - 6.025 - 0.275 * z_m)[..., None] + torch.where(dz > 0, upper, 27.0) * dz
        total = total + (10 ** (spread_db / 10) * valid[..., None]).sum(1)
    return 10 * torch.log10(total + _TINY)


def _range_max(values: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """max(values[:, lo[k]:hi[k]]) for every k (each range non-empty), by a sparse table:
    [R, F] -> [R, F] in O(R F log F)."""
    f = values.shape[1]
    table = [values]
    while 2 ** len(table) <= f:
        half = 2 ** (len(table) - 1)
        prev = table[-1]
        table.append(torch.maximum(prev, torch.nn.functional.pad(prev[:, half:], (0, half), value=-math.inf)))
    level = torch.log2((hi - lo).double()).floor().long()
    stacked = torch.stack(table)  # [levels, R, F]
    span = 2**level
    return torch.maximum(stacked[level, :, lo], stacked[level, :, hi - span]).T


def allowed_power(threshold_db: torch.Tensor, peak_db: torch.Tensor, margin_db: float) -> torch.Tensor:
    """The noise power (power_of scale) each bin may have: the threshold + margin, taken back
    from the clean clip's normalised dB to raw power [N, F, frames]."""
    return 10 ** ((threshold_db + margin_db - PSD_REFERENCE_DB + peak_db[:, None, None]) / 10)


def project_under_threshold(delta: torch.Tensor, allowed: torch.Tensor, iterations: int = 3) -> torch.Tensor:
    """delta [N, T] with every STFT bin's power scaled down to at most `allowed` [N, F, frames]
    (phases kept), repeated `iterations` times because overlap-add of a modified STFT moves
    the re-analysed spectrum a little. Computed in float32 (a projection needs no more, and
    it runs at every min-min step); returns delta's dtype; bins already under stay as they are."""
    out = delta.float()
    allowed = allowed.float()
    for _ in range(iterations):
        spec = stft(out)
        scale = (allowed / (power_of(spec) + _TINY)).sqrt().clamp(max=1.0)
        out = istft(spec * scale, delta.shape[1])
    return out.to(delta.dtype)
