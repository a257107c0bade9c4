"""Thief transforms: codecs (mp3, opus, aac), low-pass, mu-law, Gaussian noise, denoise, equalize."""

import math

import pytest
import torch

from core.defenses import (
    DEFENSES,
    AacRoundTrip,
    Denoise,
    GaussianNoise,
    LowPass,
    Mp3RoundTrip,
    MuLaw,
    OpusRoundTrip,
    add_gaussian_noise,
    codec_round_trip,
    defense_from_dict,
    denoise,
    equalize,
    lowpass,
    mulaw_round_trip,
)
from core.defenses.codec import best_lag, codec_delay_samples

SR = 16000
KINDS = ["mp3", "opus", "aac", "lowpass", "mulaw", "gaussian_noise", "denoise", "equalize"]
CORE = slice(2000, 14000)  # away from clip edges


def tone(hz: float, amplitude: float = 0.5, n: int = SR) -> torch.Tensor:
    t = torch.arange(n, dtype=torch.float64) / SR  # float32 phase at 6 kHz jitters by ~1e-3: broadband
    return (amplitude * torch.sin(2 * torch.pi * hz * t))[None].float()


def rms(x: torch.Tensor) -> float:
    return float(x.pow(2).mean().sqrt())


def gain_db(out: torch.Tensor, ref: torch.Tensor) -> float:
    return 20 * math.log10(rms(out[:, CORE]) / rms(ref[:, CORE]) + 1e-12)


def snr_db(ref: torch.Tensor, y: torch.Tensor) -> float:
    return 10 * math.log10(float(ref.pow(2).sum() / (y - ref).pow(2).sum()))


@pytest.mark.parametrize("kind", KINDS)
def test_every_transform_keeps_shape_dtype_device(kind):
    defense = defense_from_dict({"kind": kind})
    x = torch.randn(2, 4001, generator=torch.Generator().manual_seed(0)) * 0.1  # odd length
    out = defense(x, SR)
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device
    assert torch.isfinite(out).all()
    out64 = defense(x[:1].double(), SR)
    assert out64.shape == (1, 4001) and out64.dtype == torch.float64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("kind", ["lowpass", "mulaw", "gaussian_noise", "mp3"])
def test_cuda_input_stays_on_cuda(kind):
    x = torch.randn(2, 1600, device="cuda") * 0.1
    out = defense_from_dict({"kind": kind})(x, SR)
    assert out.device == x.device and out.shape == x.shape


def test_registry_names_and_defaults():
    assert {"resample", *KINDS} <= set(DEFENSES.names())
    assert defense_from_dict({"kind": "mp3", "bitrate_kbps": 32}) == Mp3RoundTrip(32)
    names = [defense_from_dict({"kind": k}).name for k in KINDS]
    assert names == ["mp3_64k", "opus_24k", "aac_64k", "lowpass_4000", "mulaw_8bit", "noise_30db", "denoise", "equalize"]
    assert OpusRoundTrip(16).name == "opus_16k" and Mp3RoundTrip(32).name == "mp3_32k"


@pytest.mark.parametrize("defense", [Mp3RoundTrip(32), OpusRoundTrip(16), AacRoundTrip(64)], ids=lambda d: d.name)
def test_codec_keeps_1khz_tone(defense):
    x = tone(1000.0)
    out = defense(x, SR)
    corr = torch.corrcoef(torch.stack([x[0, CORE], out[0, CORE]]))[0, 1]
    assert corr > 0.99
    assert abs(gain_db(out, x)) < 1.0


@pytest.mark.parametrize(
    ("codec", "bitrate_kbps", "hz", "max_gain_db"),
    [
        ("mp3", 32, 7500.0, -30.0),  # LAME low-passes 16 kHz MPEG-2 near 7 kHz at any bitrate
        ("mp3", 16, 6500.0, -30.0),  # ... and near 5.5 kHz at 16 kbit/s
        ("opus", 6, 6000.0, -30.0),  # 6 kbit/s is SILK narrowband: nothing above about 4 kHz
        ("aac", 16, 6000.0, -30.0),  # FFmpeg's aac low-passes near 4 kHz at 16 kbit/s
    ],
)
def test_codec_removes_high_band(codec, bitrate_kbps, hz, max_gain_db):
    x = tone(hz)
    assert gain_db(codec_round_trip(x, SR, codec, bitrate_kbps), x) < max_gain_db


def test_opus_16k_and_aac_64k_keep_the_band_up_to_8khz():
    # Not every codec is a low-pass at 16 kHz: Opus codes 16 kHz input as wideband (to 8 kHz)
    # and AAC at 64 kbit/s keeps the whole band, so a 7.5 kHz tone survives both.
    x = tone(7500.0)
    assert gain_db(codec_round_trip(x, SR, "opus", 16), x) > -6.0
    assert gain_db(codec_round_trip(x, SR, "aac", 64), x) > -3.0


@pytest.mark.parametrize(("codec", "bitrate_kbps"), [("mp3", 32), ("opus", 6), ("opus", 24), ("aac", 64)])
def test_codec_output_is_aligned_at_lag_0(codec, bitrate_kbps):
    x = torch.randn(1, SR, generator=torch.Generator().manual_seed(1)) * 0.1  # not the probe
    out = codec_round_trip(x, SR, codec, bitrate_kbps)
    assert best_lag(x[0].numpy(), out[0].numpy(), max_lag=2000) == 0


def test_codec_delay_is_measured():
    # ADTS carries no priming info, so AAC's 1024-sample priming must be found and removed.
    assert codec_delay_samples("aac", 64, SR) == 1024
    assert codec_delay_samples("mp3", 32, SR) == 0  # the LAME tag lets the decoder trim it


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"kind": "mp3", "bitrate_kbps": 7}, r"mp3 bitrate_kbps must be one of .* got 7"),
        ({"kind": "mp3", "bitrate_kbps": 33}, r"mp3 bitrate_kbps .* got 33"),
        ({"kind": "opus", "bitrate_kbps": 1}, r"opus bitrate_kbps must be in \[6, 256\], got 1"),
        ({"kind": "opus", "bitrate_kbps": 1000}, r"opus bitrate_kbps .* got 1000"),
        ({"kind": "aac", "bitrate_kbps": 4}, r"aac bitrate_kbps .* got 4"),
        ({"kind": "aac", "bitrate_kbps": 32.5}, r"aac bitrate_kbps must be an integer"),
        ({"kind": "mp3", "bitrate": 32}, r"defense 'mp3' has unknown key\(s\) \['bitrate'\]"),
        ({"kind": "flac"}, r"unknown defense 'flac'"),
        ({"kind": "lowpass", "cutoff_hz": 0}, r"lowpass cutoff_hz .* got 0"),
        ({"kind": "mulaw", "bits": 1}, r"mulaw bits .* got 1"),
        ({"kind": "gaussian_noise", "snr_db": float("nan")}, r"snr_db must be a finite number .* got nan"),
        ({"kind": "gaussian_noise", "snr_db": float("inf")}, r"snr_db must be a finite number .* got inf"),
        ({"kind": "denoise", "prop_decrease": 1.5}, r"prop_decrease .* got 1.5"),
        ({"kind": "equalize", "smooth_hz": -1}, r"equalize smooth_hz must be a positive finite number in Hz, got -1"),
    ],
)
def test_bad_settings_raise_clear_errors(spec, match):
    with pytest.raises(ValueError, match=match):
        defense_from_dict(spec)


def test_rate_specific_limits_raise_in_transform():
    x = torch.zeros(1, 1600)
    with pytest.raises(ValueError, match=r"mp3 bitrate_kbps must be one of .* at 16000 Hz, got 320"):
        Mp3RoundTrip(320)(x, SR)  # MPEG-1 rate, not MPEG-2 (16 kHz)
    with pytest.raises(ValueError, match=r"aac bitrate_kbps must be in \[8, 96\] at 16000 Hz, got 128"):
        AacRoundTrip(128)(x, SR)
    with pytest.raises(ValueError, match=r"opus encoder takes sample_rate_hz in .* got 44100"):
        OpusRoundTrip()(x, 44100)
    with pytest.raises(ValueError, match=r"equalize smooth_hz must lie in \(0, 8000\) .* got 9000"):
        defense_from_dict({"kind": "equalize", "smooth_hz": 9000})(x, SR)


def test_equalize_undoes_a_static_filter_and_keeps_silence_silent():
    """Half the clips through a +12 dB bump at 1 kHz: before, their long-term spectra stand
    12 dB over their twins' there; after, every clip's envelope is within 2 dB of every other's."""
    from core.defenses.equalize import long_term_spectrum_db

    x = torch.randn(8, SR, generator=torch.Generator().manual_seed(0)) * 0.1
    freqs = torch.fft.rfftfreq(SR, 1 / SR)
    bump = 10 ** (12 * torch.exp(-0.5 * ((torch.log2(freqs.clamp(min=1)) - math.log2(1000)) / 0.5) ** 2) / 20)
    coloured = torch.cat([torch.fft.irfft(torch.fft.rfft(x[:4]) * bump, n=SR), x[4:]])
    band = slice(5, 250)  # 150 Hz - 7.8 kHz
    before = long_term_spectrum_db(coloured)[:, band]
    after = long_term_spectrum_db(equalize(coloured, SR))[:, band]
    assert (before[:4] - before[4:]).max() > 10
    assert (after - after.mean(0)).abs().max() < 2.0
    assert torch.equal(equalize(coloured, SR), equalize(coloured, SR))  # deterministic
    assert not equalize(torch.zeros(2, SR), SR).any()


def test_lowpass_removes_6khz_keeps_1khz():
    low, high = tone(1000.0), tone(6000.0)
    out = lowpass(torch.cat([low, high]), SR, 4000.0)
    assert torch.allclose(out[0, CORE], low[0, CORE], atol=1e-3)
    assert out[1, CORE].abs().max() < 1e-3  # the clip edges are onsets: broadband, so they leak


def test_lowpass_rejects_cutoff_at_or_above_nyquist():
    x = torch.zeros(1, 1600)
    with pytest.raises(ValueError, match=r"cutoff_hz must lie in \(0, sample_rate_hz / 2\) = \(0, 8000\).*got 8000"):
        LowPass(8000)(x, SR)
    with pytest.raises(ValueError, match=r"sample_rate_hz=16000, got 9000"):
        LowPass(9000)(x, SR)


def test_mulaw_error_small_for_loud_signals_and_at_most_256_levels():
    x = tone(440.0, amplitude=0.8)
    out = mulaw_round_trip(x)
    assert rms(out - x) / rms(x) < 0.02
    ramp = torch.linspace(-1, 1, 100_000)[None]
    assert torch.unique(MuLaw()(ramp, SR)).numel() <= 256


def test_gaussian_noise_hits_snr_and_is_seeded():
    x = torch.cat([tone(440.0), tone(1000.0, amplitude=0.05), torch.zeros(1, SR)])
    out = add_gaussian_noise(x, 30.0, torch.Generator().manual_seed(0))
    for i in range(2):
        assert abs(snr_db(x[i], out[i]) - 30.0) < 0.5
    assert torch.equal(out[2], x[2])  # silent stays silent
    assert torch.equal(GaussianNoise(30.0, seed=3)(x, SR), GaussianNoise(30.0, seed=3)(x, SR))
    assert not torch.equal(GaussianNoise(30.0, seed=3)(x, SR), GaussianNoise(30.0, seed=4)(x, SR))


def test_denoise_raises_snr_of_noisy_harmonic_bursts():
    t = torch.arange(SR) / SR
    voiced = sum(torch.sin(2 * torch.pi * 150 * k * t) / k for k in range(1, 26))
    clean = (0.2 * voiced / voiced.std() * ((t * 3) % 1 < 0.3))[None]  # three "syllables"
    noisy = clean + 0.1 * torch.randn(1, SR, generator=torch.Generator().manual_seed(0))
    out = denoise(noisy, SR)
    assert snr_db(clean, out) > snr_db(clean, noisy) + 1.0
    assert torch.allclose(Denoise(prop_decrease=0.0)(noisy, SR), noisy, atol=1e-4)  # no gating: STFT round trip
