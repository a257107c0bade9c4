"""Comparing a clean recording with its protected version: metrics, their Markdown, figures.

Shared by the asset build (metrics stored with the shipped examples) and the handlers
(metrics of an upload), so both report the same numbers the same way.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.plots import segment_figure, spectrogram_figure
from core import SAMPLE_RATE_HZ
from core.budgets import Budget, SegmentMask, segment_levels
from core.metrics import budget_bands, summarize

Metrics = dict[str, Any]


def pair_metrics(clean: np.ndarray, protected: np.ndarray, budget: Budget | None) -> Metrics:
    """`core.metrics.summarize` of one pair ([T] each at 16 kHz, T >= 0.25 s): SNR, L-inf,
    SNR per amplitude band, PESQ-WB and STOI, as JSON-ready values."""
    thresholds, segment_samples, level = budget_bands(budget)
    segment_samples = min(segment_samples, len(clean))
    return summarize(clean[None], protected[None], thresholds, segment_samples, level)


def _number(value: float | None, spec: str, unit: str = "") -> str:
    return "–" if value is None or not math.isfinite(value) else f"{format(value, spec)}{unit}"


def metrics_markdown(title: str, metrics: Metrics) -> str:
    """A heading, the headline metrics and the per-band SNR as Markdown tables."""
    lines = [
        f"### {title}",
        "",
        "| SNR | PESQ-WB | STOI | largest noise sample (L-inf) |",
        "|---|---|---|---|",
        (
            f"| {_number(metrics['snr_db_mean'], '.1f', ' dB')} | {_number(metrics['pesq_wb_mean'], '.2f')} "
            f"| {_number(metrics['stoi_mean'], '.3f')} | {_number(metrics['linf_max'], '.4f')} |"
        ),
        "",
        "PESQ-WB (1-4.64) and STOI (0-1): higher is closer to clean; – : undefined for this clip (too little speech).",
        "",
        "SNR per amplitude band (A: a segment's level in the clean clip)",
        "",
        "| band | segments | SNR |",
        "|---|---|---|",
    ]
    for band in metrics["band_snr_db"]:
        if band["segments"]:
            lines.append(f"| {band['label']} | {band['segments']} | {_number(band['snr_db'], '.1f', ' dB')} |")
    return "\n".join(lines) + "\n"


def bands_markdown(clean: np.ndarray, budget: SegmentMask) -> str:
    """A Markdown table of the budget's bands: mask, eps and how many of the clip's segments fall in each."""
    levels = segment_levels(torch.from_numpy(clean)[None], budget.segment_samples, budget.level)
    counts = np.bincount(budget.table.row_of(levels).numpy().ravel(), minlength=len(budget.table.masks))
    lines = ["| band | mask | eps | segments of this clip |", "|---|---|---|---|"]
    for band, mask, count in zip(budget.table.band_labels(), budget.table.masks, counts):
        lines.append(f"| {band} | {mask:g} | {mask * budget.eps_max:.4g} | {count} |")
    return "\n".join(lines) + "\n"


def segment_plot(clean: np.ndarray, budget: Budget, title: str, out_dir: Path) -> Path:
    """The Figure-1 plot (waveform, segments, mean |amplitude|, eps per segment) as a PNG in `out_dir`."""
    path = out_dir / "segments.png"
    segment_figure(torch.from_numpy(clean), budget, path, title)
    return path


def spectrogram_plot(clean: np.ndarray, protected: np.ndarray, out_dir: Path) -> Path:
    """Clean, protected and noise spectrograms on one colour scale, as a PNG in `out_dir`."""
    path = out_dir / "spectrogram.png"
    with np.errstate(divide="ignore"):  # the noise panel of an unprotected clip is all zeros: log10(0)
        spectrogram_figure(torch.from_numpy(clean), torch.from_numpy(protected), path, SAMPLE_RATE_HZ)
    return path
