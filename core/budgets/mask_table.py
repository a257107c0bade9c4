"""MaskTable: amplitude thresholds -> mask values, loaded from TOML and validated.

A segment takes the mask of the first row whose threshold its level exceeds (strict `>`);
a segment that exceeds no threshold takes the last row's mask. The paper's Table 1 is
`PAPER_TABLE`: its last row has threshold 0.01 and covers every quieter segment.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from core.numbers import is_finite_number


@dataclass(frozen=True)
class MaskTable:
    """Rows (threshold, mask), thresholds strictly decreasing, masks in [0, 1]."""

    thresholds: tuple[float, ...]
    masks: tuple[float, ...]

    def __post_init__(self) -> None:
        problems = table_problems(self.thresholds, self.masks)
        if problems:
            raise ValueError("invalid mask table: " + "; ".join(problems))

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]] | list[list[float]]) -> MaskTable:
        """From `[{threshold = .., mask = ..}, ...]` or `[[threshold, mask], ...]`."""
        thresholds, masks = [], []
        for i, row in enumerate(rows):
            if isinstance(row, dict):
                unknown = set(row) - {"threshold", "mask"}
                if unknown or not {"threshold", "mask"} <= set(row):
                    raise ValueError(
                        f"rows[{i}] must have exactly the keys threshold and mask, got {sorted(row)}"
                    )
                thresholds.append(row["threshold"])
                masks.append(row["mask"])
            elif isinstance(row, (list, tuple)) and len(row) == 2:
                thresholds.append(row[0])
                masks.append(row[1])
            else:
                raise ValueError(f"rows[{i}] must be {{threshold, mask}} or [threshold, mask], got {row!r}")
        return cls(tuple(thresholds), tuple(masks))

    @classmethod
    def from_toml(cls, path: str | Path) -> MaskTable:
        """Read a file holding `[[rows]]` tables with `threshold` and `mask`."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"mask table file {path} does not exist")
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"mask table file {path} is not valid TOML: {err}") from None
        if "rows" not in data:
            raise ValueError(f"mask table file {path} has no [[rows]]")
        return cls.from_rows(data["rows"])

    def to_rows(self) -> list[dict[str, float]]:
        return [{"threshold": t, "mask": m} for t, m in zip(self.thresholds, self.masks)]

    def band_labels(self) -> list[str]:
        """Human-readable amplitude band of each row, e.g. '0.08 < A <= 0.1'."""
        return [label for label, _, _ in band_bounds(self.thresholds[:-1])]

    def row_of(self, level: torch.Tensor) -> torch.Tensor:
        """Row index of each level (any shape): first row whose threshold it exceeds, else the last."""
        th = torch.tensor(self.thresholds, dtype=level.dtype, device=level.device)
        # Thresholds decrease, so those >= level come first; their count is the first row
        # whose threshold the level strictly exceeds.
        not_exceeded = (level.unsqueeze(-1) <= th).sum(-1)
        return not_exceeded.clamp(max=len(self.thresholds) - 1)

    def mask_of(self, level: torch.Tensor) -> torch.Tensor:
        masks = torch.tensor(self.masks, dtype=level.dtype, device=level.device)
        return masks[self.row_of(level)]


def band_bounds(edges: tuple[float, ...] | list[float]) -> list[tuple[str, float | None, float | None]]:
    """(label, lower, upper) of the len(edges) + 1 amplitude bands that strictly decreasing
    `edges` cut, loudest first: 'A > e0', 'e1 < A <= e0', ..., 'A <= e_last'; no edges: 'all'."""
    if len(edges) == 0:
        return [("all", None, None)]
    bounds: list[tuple[str, float | None, float | None]] = [(f"A > {edges[0]:g}", float(edges[0]), None)]
    bounds += [(f"{lo:g} < A <= {hi:g}", float(lo), float(hi)) for hi, lo in zip(edges[:-1], edges[1:])]
    bounds.append((f"A <= {edges[-1]:g}", None, float(edges[-1])))
    return bounds


def table_problems(thresholds: tuple[Any, ...], masks: tuple[Any, ...]) -> list[str]:
    """Every problem with a (thresholds, masks) table, one message per field; [] when valid."""
    problems = []
    if len(thresholds) == 0:
        problems.append("need at least one row, got none")
    if len(thresholds) != len(masks):
        problems.append(f"{len(thresholds)} thresholds but {len(masks)} masks")
    for i, m in enumerate(masks):
        if not _is_number(m) or not 0.0 <= m <= 1.0:
            problems.append(f"rows[{i}].mask must be a number in [0, 1], got {m!r}")
    for i, t in enumerate(thresholds):
        if not _is_number(t) or t < 0.0:
            problems.append(f"rows[{i}].threshold must be a number >= 0, got {t!r}")
    for i in range(1, len(thresholds)):
        a, b = thresholds[i - 1], thresholds[i]
        if _is_number(a) and _is_number(b) and not b < a:
            problems.append(
                f"thresholds must be strictly decreasing, but rows[{i}].threshold={b!r}"
                f" follows {a!r}"
            )
    return problems


def _is_number(v: Any) -> bool:
    return is_finite_number(v)


PAPER_TABLE = MaskTable(
    thresholds=(0.1, 0.08, 0.05, 0.03, 0.01, 0.0),
    masks=(1.0, 0.5380, 0.3077, 0.1538, 0.0769, 0.0385),
)
"""Table 1 of the poster: eps = mask * 0.13 gives 0.13, 0.07, 0.04, 0.02, 0.01, 0.005."""
