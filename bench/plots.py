"""The run's figures (PNG): the paper's Figures 1-4 and spectrograms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench.report import cell_means, worst_cases  # noqa: E402
from core import SAMPLE_RATE_HZ  # noqa: E402
from core.budgets import Budget, segment_levels  # noqa: E402


def segment_figure(
    clean: torch.Tensor, budget: Budget, path: Path, title: str, segment_samples: int = 1000, sample_rate_hz: int = SAMPLE_RATE_HZ
) -> None:
    """Figure 1: waveform with segment borders, mean |amplitude| and eps per segment; time in
    seconds, as on the spectrograms."""
    x = clean[None].double()
    segment_samples = getattr(budget, "segment_samples", segment_samples)
    levels = segment_levels(x, segment_samples)[0].numpy()
    eps = budget.eps(x)[0, ::segment_samples].numpy()
    edges = np.arange(len(levels) + 1) * segment_samples / sample_rate_hz
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(np.arange(len(clean)) / sample_rate_hz, clean.numpy(), color="0.6", lw=0.5, label="waveform")
    for e in edges:
        ax.axvline(e, color="0.85", lw=0.5)
    ax.stairs(levels, edges, color="tab:blue", lw=1.5, label="mean |amplitude|")
    ax.stairs(eps, edges, color="tab:red", lw=1.5, label="eps (L-inf bound)")
    ax.stairs(-eps, edges, color="tab:red", lw=1.5, ls="--")
    ax.set(xlabel="time (s)", ylabel="amplitude", title=title)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def waveform_figure(clean: torch.Tensor, protected: torch.Tensor, path: Path, title: str, sample_rate_hz: int = SAMPLE_RATE_HZ) -> None:
    """Figures 2-3: clean vs protected waveform, and the noise alone; time in seconds."""
    fig, axes = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    t = np.arange(len(clean)) / sample_rate_hz
    axes[0].plot(t, protected.numpy(), color="tab:orange", lw=0.5, label="protected")
    axes[0].plot(t, clean.numpy(), color="tab:blue", lw=0.5, label="clean")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[0].set(ylabel="amplitude", title=title)
    axes[1].plot(t, (protected - clean).numpy(), color="tab:red", lw=0.5)
    axes[1].set(xlabel="time (s)", ylabel="noise")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def spectrogram_figure(clean: torch.Tensor, protected: torch.Tensor, path: Path, sample_rate_hz: int) -> None:
    """Log-power spectrograms of clean, protected and noise on one colour scale, with its bar
    (dB); the top is left clear, where the demo's image label sits."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True, layout="constrained")
    fig.get_layout_engine().set(rect=(0, 0, 1, 0.93))
    signals = (("clean", clean), ("protected", protected), ("noise", protected - clean))
    for ax, (name, s) in zip(axes, signals):
        image = ax.specgram(s.numpy().astype(np.float64) + 1e-9, NFFT=512, Fs=sample_rate_hz, noverlap=384, vmin=-140, vmax=-20)[3]
        ax.set(title=name, xlabel="time (s)")
    axes[0].set_ylabel("frequency (Hz)")
    fig.colorbar(image, ax=axes, label="power (dB)", shrink=0.9)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def accuracy_figure(victims: dict[str, dict[str, list[dict[str, Any]]]], path: Path, title: str) -> None:
    """Figure 4: clean test accuracy per epoch (mean over seeds, band = min..max) and a bar
    chart of peak accuracy per condition."""
    fig, (curve, bars) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [3, 2]})
    labels, peaks, errors = [], [], []
    for condition, models in victims.items():
        for model, runs in models.items():
            acc = 100 * np.array([r["test_accuracy"] for r in runs])
            epochs = np.arange(1, acc.shape[1] + 1)
            line = curve.plot(epochs, acc.mean(0), marker="o", ms=3, label=f"{condition} ({model})")[0]
            curve.fill_between(epochs, acc.min(0), acc.max(0), color=line.get_color(), alpha=0.15)
            peak = acc.max(1)
            labels.append(f"{condition}\n({model})")
            peaks.append(peak.mean())
            errors.append(peak.std(ddof=1) if len(peak) > 1 else 0.0)
    curve.set(xlabel="epoch", ylabel="clean test accuracy (%)", title=title, ylim=(0, 100))
    curve.legend(fontsize=8)
    bars.bar(range(len(labels)), peaks, yerr=errors, capsize=4, color="tab:blue")
    for i, (p, e) in enumerate(zip(peaks, errors)):
        bars.text(i, p + e + 2, f"{p:.1f}", ha="center", fontsize=8)
    bars.set_xticks(range(len(labels)), labels, fontsize=8)
    bars.set(ylabel="peak accuracy (%)", ylim=(0, 100), title="peak over epochs, mean over seeds")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def matrix_figure(results: dict[str, Any], path: Path) -> None:
    """Heat map of the thief matrix: one panel per victim family, rows thieves, columns
    configs, colour and number = peak clean-test accuracy (%, mean over seeds)."""
    groups = cell_means(results["cells"])
    thieves, configs = results["thieves"], list(results["members"])
    victims = results["config"]["victims"]["models"]
    fig, axes = plt.subplots(1, len(victims), figsize=(1.3 + 1.6 * len(configs) * len(victims), 0.9 + 0.38 * len(thieves)), squeeze=False)
    image = None
    for ax, victim in zip(axes[0], victims):
        grid = np.full((len(thieves), len(configs)), np.nan)
        for i, thief in enumerate(thieves):
            for j, config in enumerate(configs):
                peaks = groups.get((config, thief, victim))
                if peaks:
                    grid[i, j] = 100 * sum(peaks) / len(peaks)
        image = ax.imshow(grid, cmap="RdYlGn_r", vmin=0, vmax=100, aspect="auto")
        for i, j in np.argwhere(~np.isnan(grid)):
            ax.text(j, i, f"{grid[i, j]:.0f}", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(configs)), configs, rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(len(thieves)), thieves if ax is axes[0][0] else [""] * len(thieves), fontsize=8)
        ax.set_title(f"victim {victim}", fontsize=10)
    fig.colorbar(image, ax=axes[0].tolist(), label="peak clean-test accuracy (%)", shrink=0.8)
    if results.get("missing"):  # --cached-only: say that blank cells are not computed yet
        done = len(results["cells"])
        fig.suptitle(f"partial: {done} of {done + len(results['missing'])} cells computed, blank ones not yet", fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def pareto_figure(results: dict[str, Any], path: Path) -> bool:
    """Protection against audibility for a matrix's protected members: worst-case peak
    accuracy (over its thieves and victims) against mean PESQ-WB and against mean STOI, with
    chance and the clean member's worst case as reference lines. Lower right is better.
    Returns False (and writes nothing) when no member has PESQ-WB."""
    worst = worst_cases(results)
    points = [
        (name, 100 * worst[name][0], m["pesq_wb_mean"], m["stoi_mean"])
        for name, member in results["members"].items()
        if member["generation"] is not None and name in worst and (m := member.get("metrics") or {}).get("pesq_wb_mean") is not None
    ]
    if not points:
        return False
    chance = 100 / len(next(iter(results["members"].values()))["data"]["classes"])
    clean = next((100 * worst[n][0] for n, member in results["members"].items() if member["generation"] is None and n in worst), None)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharey=True)
    for ax, column, label in ((axes[0], 2, "mean PESQ-WB (1-4.64, higher is quieter)"), (axes[1], 3, "mean STOI (0-1, higher is more intelligible)")):
        for k, point in enumerate(sorted(points, key=lambda p: p[column])):
            ax.scatter(point[column], point[1], color="tab:red", zorder=3)
            ax.annotate(point[0], (point[column], point[1]), xytext=(6, 8 if k % 2 else -12), textcoords="offset points", fontsize=8)
        ax.axhline(chance, color="0.5", ls=":", lw=1, label=f"chance ({chance:.0f}%)")
        if clean is not None:
            ax.axhline(clean, color="tab:blue", ls="--", lw=1, label=f"clean data under the same thieves ({clean:.0f}%)")
        ax.set(xlabel=label)
        ax.grid(alpha=0.3)
    axes[0].set(ylabel="worst-case peak accuracy (%)", ylim=(0, 100))
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"{results['config']['name']}: protection (lower is better) against audibility", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
