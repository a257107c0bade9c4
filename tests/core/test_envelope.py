"""Envelope budget: eps follows a sliding mean |x| through the table's points, without the
segment mask's block edges; it composes with band limits and loads from config data."""

import pytest
import torch

from core.budgets import (
    PAPER_TABLE,
    Envelope,
    MaskTable,
    SegmentMask,
    amplitude_envelope,
    budget_from_dict,
    interpolated_mask,
)


def square(levels: list[float], samples_each: int) -> torch.Tensor:
    """A clip of +-level square waves, so |x| is exactly each level in turn: [1, T]."""
    sign = torch.where(torch.arange(samples_each) % 40 < 20, 1.0, -1.0)
    return torch.cat([level * sign for level in levels])[None]


def test_envelope_is_the_sliding_mean_abs_with_honest_ends():
    x = torch.randn(3, 500)
    env = amplitude_envelope(x, 101)
    assert env.shape == x.shape and env.dtype == torch.float64
    t = 250
    assert torch.allclose(env[:, t], x[:, t - 50 : t + 51].abs().double().mean(1))
    assert torch.allclose(env[:, 0], x[:, :51].abs().double().mean(1))  # only the samples the clip has
    assert torch.allclose(amplitude_envelope(square([0.3], 500), 1000), torch.full((1, 500), 0.3, dtype=torch.float64))


def test_mask_passes_through_the_table_points_and_is_linear_between():
    th = torch.tensor(PAPER_TABLE.thresholds, dtype=torch.float64)
    assert torch.allclose(interpolated_mask(PAPER_TABLE, th), torch.tensor(PAPER_TABLE.masks, dtype=torch.float64))
    mid = interpolated_mask(PAPER_TABLE, torch.tensor([0.09], dtype=torch.float64))
    assert torch.allclose(mid, torch.tensor([(1.0 + 0.5380) / 2], dtype=torch.float64))
    beyond = interpolated_mask(PAPER_TABLE, torch.tensor([0.5, 1.0], dtype=torch.float64))
    assert torch.equal(beyond, torch.ones(2, dtype=torch.float64))
    levels = torch.linspace(0, 0.2, 1001, dtype=torch.float64)
    assert (interpolated_mask(PAPER_TABLE, levels).diff() >= 0).all()  # the paper's masks rise with level
    one_row = MaskTable((0.0,), (0.5,))
    assert torch.equal(interpolated_mask(one_row, levels), torch.full_like(levels, 0.5))


def test_eps_has_no_block_edges_where_the_segment_mask_jumps():
    x = square([0.01, 0.2], 8000)  # quiet, then loud from sample 8000 on
    smooth, steps = Envelope(0.13).eps(x), SegmentMask(0.13).eps(x)
    assert smooth.shape == x.shape and smooth.dtype == x.dtype
    assert smooth[0, 0] == pytest.approx(0.0769 * 0.13) and smooth[0, -1] == pytest.approx(0.13)
    # The largest per-sample change: the steepest table slope (0.462 mask per 0.02 level)
    # times the envelope's per-sample change (0.19 / 1000) times eps_max, against 0.12 at once.
    assert smooth.diff().abs().max() < 0.13 * 23.1 * 0.19 / 1000 + 1e-6
    assert steps.diff().abs().max() > 0.1
    assert (smooth <= 0.13 + 1e-7).all() and (smooth >= 0).all()


def test_config_round_trip_band_limit_and_validation():
    spec = {"kind": "envelope", "eps_max": 0.18, "window_samples": 800, "band_limit_hz": 4000, "rows": PAPER_TABLE.to_rows()}
    budget = budget_from_dict(spec)
    assert budget == Envelope(0.18, PAPER_TABLE, 800, 4000) and budget.to_dict() == {**spec, "band_limit_hz": 4000.0}
    assert budget_from_dict({"kind": "envelope", "eps_max": 0.13}) == Envelope(0.13)
    assert Envelope(0.13).to_dict()["band_limit_hz"] is None
    assert budget_from_dict(Envelope(0.13).to_dict()) == Envelope(0.13)
    for bad, message in [
        ({"eps_max": 2.0}, "eps_max must lie in"),
        ({"eps_max": 0.1, "window_samples": 0}, "window_samples must be >= 1"),
        ({"eps_max": 0.1, "window_samples": 1.5}, "window_samples must be an integer"),
        ({"eps_max": 0.1, "band_limit_hz": 9000}, "band_limit_hz must be"),
        ({"eps_max": 0.1, "segment_samples": 1000}, "unknown key"),
    ]:
        with pytest.raises(ValueError, match=message):
            budget_from_dict({"kind": "envelope", **bad})
