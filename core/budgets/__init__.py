"""Epsilon budgets: functions from clean clips to a per-sample, per-time-step L-inf bound."""

from __future__ import annotations

from typing import Any

from core.budgets.band import band_limit, band_limit_problem
from core.budgets.base import Budget
from core.budgets.constant import ConstantBudget
from core.budgets.envelope import Envelope, amplitude_envelope, interpolated_mask
from core.budgets.masking import Masking
from core.budgets.mask_table import PAPER_TABLE, MaskTable, table_problems
from core.budgets.segment_mask import SegmentMask, segment_levels
from core.registry import Registry

BUDGETS: Registry = Registry("budget kind")


@BUDGETS.register("constant")
def _constant(spec: dict[str, Any]) -> Budget:
    _check_keys(spec, required={"eps"}, optional={"band_limit_hz"})
    return ConstantBudget(eps_linf=spec["eps"], band_limit_hz=spec.get("band_limit_hz"))


@BUDGETS.register("segment_mask")
def _segment_mask(spec: dict[str, Any]) -> Budget:
    _check_keys(spec, required={"eps_max"}, optional={"rows", "segment_samples", "level", "band_limit_hz"})
    table = MaskTable.from_rows(spec["rows"]) if "rows" in spec else PAPER_TABLE
    return SegmentMask(
        eps_max=spec["eps_max"],
        table=table,
        segment_samples=spec.get("segment_samples", 1000),
        level=spec.get("level", "mean_abs"),
        band_limit_hz=spec.get("band_limit_hz"),
    )


@BUDGETS.register("envelope")
def _envelope(spec: dict[str, Any]) -> Budget:
    _check_keys(spec, required={"eps_max"}, optional={"rows", "window_samples", "band_limit_hz"})
    return Envelope(
        eps_max=spec["eps_max"],
        table=MaskTable.from_rows(spec["rows"]) if "rows" in spec else PAPER_TABLE,
        window_samples=spec.get("window_samples", 1000),
        band_limit_hz=spec.get("band_limit_hz"),
    )


@BUDGETS.register("masking")
def _masking(spec: dict[str, Any]) -> Budget:
    _check_keys(spec, required={"margin_db"}, optional={"eps_max", "iterations", "band_limit_hz"})
    return Masking(**spec)


def budget_from_dict(spec: dict[str, Any]) -> Budget:
    """Build a budget from config data: `{kind = "constant", eps = 0.08}` or
    `{kind = "segment_mask", eps_max = 0.13, rows = [...], segment_samples = 1000, level = "mean_abs"}`;
    or `{kind = "envelope", eps_max = 0.13, rows = [...], window_samples = 1000}` (core.budgets.envelope)
    or `{kind = "masking", margin_db = 0, eps_max = 0.1, iterations = 1}` (core.budgets.masking);
    every kind takes an optional `band_limit_hz` (core.budgets.band)."""
    if "kind" not in spec:
        raise ValueError(f"budget needs a 'kind'; expected one of: {', '.join(BUDGETS.names())}")
    rest = {k: v for k, v in spec.items() if k != "kind"}
    return BUDGETS.get(spec["kind"])(rest)


def _check_keys(spec: dict[str, Any], required: set[str], optional: set[str]) -> None:
    missing = required - set(spec)
    unknown = set(spec) - required - optional
    if missing:
        raise ValueError(f"budget is missing {sorted(missing)}")
    if unknown:
        raise ValueError(f"budget has unknown key(s) {sorted(unknown)}; allowed: {sorted(required | optional)}")


__all__ = [
    "BUDGETS",
    "PAPER_TABLE",
    "Budget",
    "ConstantBudget",
    "Envelope",
    "MaskTable",
    "Masking",
    "SegmentMask",
    "amplitude_envelope",
    "band_limit",
    "band_limit_problem",
    "budget_from_dict",
    "interpolated_mask",
    "segment_levels",
    "table_problems",
]
