"""Budgets: bounds, strict thresholds, validation, vectorised == per-segment loop, band limits."""

import pytest
import torch

from core.budgets import (
    PAPER_TABLE,
    ConstantBudget,
    MaskTable,
    SegmentMask,
    band_limit,
    band_limit_problem,
    budget_from_dict,
    segment_levels,
)


def test_constant_budget_is_constant_everywhere():
    x = torch.randn(3, 100)
    assert torch.equal(ConstantBudget(0.08).eps(x), torch.full((3, 100), 0.08))


@pytest.mark.parametrize("eps", [0.0, -0.1, 1.5, float("nan"), "0.1", True])
def test_constant_budget_rejects_bad_eps(eps):
    with pytest.raises(ValueError, match="eps_linf"):
        ConstantBudget(eps)


def test_paper_table_gives_the_paper_eps_column():
    budget = SegmentMask(0.13)
    # One segment per band, levels chosen well inside each band.
    levels = [0.5, 0.09, 0.06, 0.04, 0.02, 0.001, 0.0]
    x = torch.cat([torch.full((1, 1000), v) for v in levels], dim=1)
    eps = budget.segment_eps(x)[0]
    expected = torch.tensor([0.13, 0.0699, 0.0400, 0.0200, 0.0100, 0.0050, 0.0050])
    assert torch.allclose(eps, expected, atol=6e-4)


def test_threshold_is_strict_greater_than():
    # 0.5 and 0.25 are exact in binary, so the mean lands exactly on the threshold.
    table = MaskTable(thresholds=(0.5, 0.25), masks=(1.0, 0.5))
    budget = SegmentMask(0.1, table=table, segment_samples=4)
    x = torch.tensor([[0.5] * 4 + [0.5001] * 4 + [0.25] * 4 + [-0.2501] * 4])
    assert torch.allclose(budget.segment_eps(x)[0], torch.tensor([0.05, 0.1, 0.05, 0.05]))


def test_level_rms_option():
    x = torch.tensor([[3.0, -4.0, 0.0, 0.0]])
    assert torch.allclose(segment_levels(x, 4, "rms"), torch.tensor([[2.5]], dtype=torch.float64))
    assert torch.allclose(segment_levels(x, 4, "mean_abs"), torch.tensor([[1.75]], dtype=torch.float64))


def test_trailing_partial_segment_is_measured_over_its_own_samples():
    x = torch.tensor([[0.0, 0.0, 0.0, 0.6, 0.6]])
    assert torch.allclose(segment_levels(x, 3, "mean_abs"), torch.tensor([[0.0, 0.6]], dtype=torch.float64))
    eps = SegmentMask(0.1, table=MaskTable((0.5, 0.0), (1.0, 0.2)), segment_samples=3).eps(x)
    assert eps.shape == x.shape
    assert torch.allclose(eps, torch.tensor([[0.02, 0.02, 0.02, 0.1, 0.1]]))


def test_vectorised_eps_matches_a_per_segment_loop():
    torch.manual_seed(0)
    x = torch.randn(4, 16000) * torch.rand(4, 1) * 0.2
    budget = SegmentMask(0.13)
    eps = budget.eps(x)
    for n in range(4):
        for s in range(16):
            seg = x[n, s * 1000 : (s + 1) * 1000].double()
            level = seg.abs().mean().item()
            mask = next((m for t, m in zip(PAPER_TABLE.thresholds, PAPER_TABLE.masks) if level > t), PAPER_TABLE.masks[-1])
            assert torch.allclose(eps[n, s * 1000 : (s + 1) * 1000], torch.tensor(mask * 0.13))


def test_batched_equals_one_by_one():
    x = torch.randn(5, 16000) * 0.1
    budget = SegmentMask(0.13)
    assert torch.equal(budget.eps(x), torch.cat([budget.eps(x[i : i + 1]) for i in range(5)]))


@pytest.mark.parametrize(
    ("thresholds", "masks", "message"),
    [
        ((0.1, 0.2), (1.0, 0.5), "strictly decreasing"),
        ((0.1, 0.1), (1.0, 0.5), "strictly decreasing"),
        ((0.1,), (1.5,), r"rows\[0\].mask"),
        ((0.1,), (-0.1,), r"rows\[0\].mask"),
        ((-0.1,), (0.5,), r"rows\[0\].threshold"),
        ((), (), "at least one row"),
        ((0.1, 0.05), (1.0,), "2 thresholds but 1 masks"),
    ],
)
def test_invalid_tables_are_rejected(thresholds, masks, message):
    with pytest.raises(ValueError, match=message):
        MaskTable(thresholds, masks)


def test_table_from_toml_and_bad_toml(tmp_path):
    good = tmp_path / "t.toml"
    good.write_text("[[rows]]\nthreshold = 0.1\nmask = 1.0\n[[rows]]\nthreshold = 0.0\nmask = 0.25\n")
    assert MaskTable.from_toml(good) == MaskTable((0.1, 0.0), (1.0, 0.25))
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rows]]\nthreshold = 0.1\nmask = 2.0\n")
    with pytest.raises(ValueError, match=r"rows\[0\].mask must be a number in \[0, 1\], got 2.0"):
        MaskTable.from_toml(bad)
    with pytest.raises(ValueError, match="does not exist"):
        MaskTable.from_toml(tmp_path / "missing.toml")


def test_budget_from_dict():
    assert budget_from_dict({"kind": "constant", "eps": 0.08}) == ConstantBudget(0.08)
    b = budget_from_dict({"kind": "segment_mask", "eps_max": 0.13})
    assert b == SegmentMask(0.13)
    with pytest.raises(ValueError, match="unknown budget kind 'psycho'.*constant, envelope, masking, segment_mask"):
        budget_from_dict({"kind": "psycho"})
    with pytest.raises(ValueError, match="unknown key"):
        budget_from_dict({"kind": "constant", "eps": 0.1, "colour": 1})
    with pytest.raises(ValueError, match="eps_max"):
        budget_from_dict({"kind": "segment_mask", "eps_max": -0.1})


def test_band_labels():
    assert PAPER_TABLE.band_labels() == [
        "A > 0.1", "0.08 < A <= 0.1", "0.05 < A <= 0.08", "0.03 < A <= 0.05", "0.01 < A <= 0.03", "A <= 0.01",
    ]


def _tone(freq_hz: float, t: int = 16000) -> torch.Tensor:
    return torch.sin(2 * torch.pi * freq_hz * torch.arange(t, dtype=torch.float64) / 16000)


def test_band_limit_removes_exactly_the_bins_above_the_cutoff():
    x = torch.stack([_tone(1000) + _tone(6000), _tone(4000) + 0.5 * _tone(4001)])
    out = band_limit(x, 4000.0)
    assert out.shape == x.shape
    assert torch.allclose(out[0], _tone(1000), atol=1e-9)
    assert torch.allclose(out[1], _tone(4000), atol=1e-9)  # the cut-off bin itself is kept
    assert torch.equal(band_limit(torch.zeros(1, 100), 4000.0), torch.zeros(1, 100))
    assert band_limit(x, None) is x  # no limit: the noise untouched


def test_band_limit_is_part_of_the_budget_and_its_dict():
    plain = budget_from_dict({"kind": "segment_mask", "eps_max": 0.13})
    limited = budget_from_dict({"kind": "segment_mask", "eps_max": 0.13, "band_limit_hz": 4000})
    assert plain.band_limit_hz is None and limited.band_limit_hz == 4000.0
    assert set(plain.to_dict()) == {"kind", "eps_max", "segment_samples", "level", "rows", "band_limit_hz"}
    assert plain.to_dict()["band_limit_hz"] is None  # written out, as every setting (cache format 3)
    assert limited.to_dict() == {**plain.to_dict(), "band_limit_hz": 4000.0}
    assert budget_from_dict(limited.to_dict()) == limited and budget_from_dict(plain.to_dict()) == plain
    assert torch.equal(limited.eps(_tone(100)[None]), plain.eps(_tone(100)[None]))  # the L-inf bound is the same
    constant = budget_from_dict({"kind": "constant", "eps": 0.08, "band_limit_hz": 3400.5})
    assert constant.to_dict() == {"kind": "constant", "eps": 0.08, "band_limit_hz": 3400.5}
    assert ConstantBudget(0.08).to_dict() == {"kind": "constant", "eps": 0.08, "band_limit_hz": None}


@pytest.mark.parametrize("value", [0, -100, 8000, 9000.0, float("nan"), float("inf"), True, "4000"])
def test_band_limit_must_lie_below_nyquist(value):
    with pytest.raises(ValueError, match="band_limit_hz must be a number of Hz with 0 < band_limit_hz < 8000"):
        SegmentMask(0.13, band_limit_hz=value)
    with pytest.raises(ValueError, match="band_limit_hz"):
        budget_from_dict({"kind": "constant", "eps": 0.08, "band_limit_hz": value})
    assert band_limit_problem(value) is not None
    assert band_limit_problem(7999.9) is None


def test_huge_integers_are_refused_with_a_message_not_an_overflow():
    from core.numbers import is_finite_number

    assert not is_finite_number(10**400) and not is_finite_number(True) and is_finite_number(10**300)
    with pytest.raises(ValueError, match="eps_linf must be a finite number"):
        ConstantBudget(10**400)
    with pytest.raises(ValueError, match=r"rows\[0\].threshold must be a number"):
        MaskTable((10**400,), (1.0,))
    with pytest.raises(ValueError, match="band_limit_hz must be"):
        budget_from_dict({"kind": "constant", "eps": 0.1, "band_limit_hz": 10**400})
