"""Defenses: the resample round trip keeps speech band, removes content above via/2."""

import pytest
import torch

from core.defenses import (
    DEFENSES,
    ResampleRoundTrip,
    defense_from_dict,
    resample_round_trip,
)


def tone(hz: float) -> torch.Tensor:
    t = torch.arange(16000) / 16000
    return (0.5 * torch.sin(2 * torch.pi * hz * t))[None]


def test_round_trip_keeps_low_band_and_removes_high_band():
    low, high = tone(500.0), tone(6000.0)
    out = resample_round_trip(torch.cat([low, high]), 16000, 8000)
    assert out.shape == (2, 16000) and out.dtype == torch.float32
    core = slice(1000, 15000)  # away from filter edges
    assert torch.allclose(out[0, core], low[0, core], atol=1e-2)
    assert out[1, core].abs().max() < 1e-2


def test_batched_equals_one_by_one():
    x = torch.randn(4, 16000) * 0.1
    together = resample_round_trip(x, 16000, 8000)
    alone = torch.cat([resample_round_trip(x[i : i + 1], 16000, 8000) for i in range(4)])
    assert torch.allclose(together, alone, atol=1e-6)


def test_registry_and_validation():
    assert {"resample", "mp3", "opus", "aac", "lowpass", "mulaw", "gaussian_noise", "denoise"} <= set(DEFENSES.names())
    assert defense_from_dict({"kind": "resample", "via_hz": 8000}) == ResampleRoundTrip(8000)
    with pytest.raises(ValueError, match="unknown defense 'flac'"):
        defense_from_dict({"kind": "flac"})
    with pytest.raises(ValueError, match="via_hz"):
        resample_round_trip(torch.zeros(1, 100), 16000, 16000)
