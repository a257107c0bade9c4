"""Turn a run's results into summary.md, side-by-side comparisons and provenance."""

from __future__ import annotations

import importlib.metadata
import platform
import statistics
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import core
from bench.conditions import NO_THIEF

PACKAGES = ("torch", "numpy", "soundfile", "soxr", "pesq", "pystoi", "matplotlib")


def provenance() -> dict[str, Any]:
    """Versions, git commit and date to store with every result."""
    versions = {"unlearnable-audio": core.__version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    import torch  # here, so that --compare need not load it

    return {
        "versions": versions,
        # CPU results depend on it: oneDNN's reductions run in another order on another
        # thread count, and a victim's training then takes another path (like another seed).
        "torch_threads": torch.get_num_threads(),
        "git_commit": git_commit(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
    }


def git_commit() -> str | None:
    """HEAD of the repository holding this code (with '-dirty' for local changes), or None."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("-dirty" if dirty else "")


def spread(values: list[float]) -> dict[str, float]:
    """Mean and sample standard deviation (0 for one value)."""
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}


def accuracy_table(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (condition, model): peak and final accuracy over seeds."""
    rows = []
    for condition, models in results["victims"].items():
        for model, runs in models.items():
            rows.append(
                {
                    "condition": condition,
                    "model": model,
                    "seeds": [r["seed"] for r in runs],
                    "peak": spread([r["peak"] for r in runs]),
                    "final": spread([r["final"] for r in runs]),
                }
            )
    return rows


def _pct(s: dict[str, float]) -> str:
    return f"{100 * s['mean']:.1f} ± {100 * s['std']:.1f}"


def _num(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def _percent(fraction: float | None) -> str:
    return _num(None if fraction is None else 100 * fraction, ".1f")


def _heading(cfg: dict[str, Any], data: dict[str, Any], device: str) -> list[str]:
    """A run summary's title, description, and data and victim line."""
    return [
        f"# {cfg['name']}",
        "",
        cfg.get("description", ""),
        "",
        f"Data: {data['train_clips']} train / {data['test_clips']} test clips, {len(data['classes'])} classes "
        f"(fingerprint `{data['fingerprint']}`). Victims: {', '.join(cfg['victims']['models'])}, "
        f"{cfg['victims']['epochs']} epochs, seeds {cfg['victims']['seeds']}. Device: {device}.",
    ]


def summary_markdown(results: dict[str, Any], command: str) -> str:
    """The paper-style table (clean / poisoned / defended) and the perceptual figures."""
    cfg = results["config"]
    data = results["data"]
    lines = [
        *_heading(cfg, data, results["device"]),
        "",
        "## Clean test accuracy (%), mean ± std over seeds",
        "",
        "| condition | victim | peak | final |",
        "|---|---|---|---|",
    ]
    for row in accuracy_table(results):
        lines.append(f"| {row['condition']} | {row['model']} | {_pct(row['peak'])} | {_pct(row['final'])} |")
    if results.get("missing"):
        lines += ["", "**Partial** (`--cached-only`), not in the cache yet: " + ", ".join(
            f"{m['condition']} {m['victim']} seed {m['seed']}" for m in results["missing"]) + "."]
    gen = results.get("generation")
    if gen and gen.get("absent"):
        lines += ["", f"Noise: not in the cache, so no perceptual figures (make it: `{gen['absent']}`)."]
    elif gen:
        last = gen["history"][-1]["accuracy"]
        lines += [
            "",
            f"Noise: {gen['rounds']} rounds, surrogate accuracy on poisoned data {last:.3f}, "
            f"{gen['seconds']:.0f} s ({gen['clips_per_second']:.1f} clip-rounds/s)"
            + (" (reused from cache)" if gen.get("cached") else "")
            + ".",
        ]
    m = results.get("metrics")
    if m:
        lines += [
            "",
            "## Perceptual figures (training set)",
            "",
            "| PESQ-WB (mean) | STOI (mean) | SNR dB (median) | SNR dB (mean) | segmental SNR dB | max L-inf |",
            "|---|---|---|---|---|---|",
            f"| {_num(m['pesq_wb_mean'], '.3f')} (n={m['pesq_wb_clips']}) | {_num(m['stoi_mean'], '.3f')} (n={m['stoi_clips']}) "
            f"| {m['snr_db_median']:.1f} | {m['snr_db_mean']:.1f} | {m['segmental_snr_db_mean']:.1f} | {m['linf_max']:.4f} |",
            "",
            "SNR per amplitude band (segments pooled over clips):",
            "",
            "| band (mean abs amplitude) | segments | SNR dB |",
            "|---|---|---|",
        ]
        for band in m["band_snr_db"]:
            lines.append(f"| {band['label']} | {band['segments']} | {_num(band['snr_db'], '.1f')} |")
    t = results["timings"]
    lines += ["", "Timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in t.items()), "", f"Command: `{command}`", ""]
    return "\n".join(lines)


def compare_markdown(all_results: list[tuple[str, dict[str, Any]]]) -> str:
    """Side-by-side key figures of several runs (peak accuracy per condition, perceptual)."""
    conditions: list[str] = []
    for _, r in all_results:
        for row in accuracy_table(r):
            label = f"{row['condition']} ({row['model']}) peak %"
            if label not in conditions:
                conditions.append(label)
    header = "| figure | " + " | ".join(name for name, _ in all_results) + " |"
    lines = [header, "|---" * (len(all_results) + 1) + "|"]
    for label in conditions:
        cells = []
        for _, r in all_results:
            match = [row for row in accuracy_table(r) if f"{row['condition']} ({row['model']}) peak %" == label]
            cells.append(_pct(match[0]["peak"]) if match else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for key, label, fmt in (
        ("pesq_wb_mean", "PESQ-WB", ".3f"),
        ("stoi_mean", "STOI", ".3f"),
        ("snr_db_median", "median SNR dB", ".1f"),
    ):
        cells = [_num((r.get("metrics") or {}).get(key), fmt) for _, r in all_results]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def cell_means(cells: list[dict[str, Any]]) -> dict[tuple[str, str, str], list[float]]:
    """{(config, thief, victim): peak accuracies over seeds}."""
    groups: dict[tuple[str, str, str], list[float]] = {}
    for c in cells:
        groups.setdefault((c["config"], c["thief"], c["victim"]), []).append(c["peak"])
    return groups


def worst_cases(results: dict[str, Any]) -> dict[str, tuple[float, str, str]]:
    """{config: (worst peak over thieves x victims, seed means; its thief; its victim)} for each
    matrix member, the clean one included (what the thieves reach on clean data)."""
    groups = cell_means(results["cells"])
    out = {}
    for c in results["members"]:
        means = {(t, v): sum(p) / len(p) for (cc, t, v), p in groups.items() if cc == c}
        if means:  # a partial matrix (--cached-only) may have no cell of a member yet
            (thief, victim), worst = max(means.items(), key=lambda kv: kv[1])
            out[c] = (worst, thief, victim)
    return out


def _cell(peaks: list[float] | None) -> str:
    """Peak accuracy %: the mean ± std over seeds, or the one seed's figure."""
    if not peaks:
        return ""
    return _pct(spread(peaks)) if len(peaks) > 1 else f"{100 * peaks[0]:.1f}"


def matrix_markdown(results: dict[str, Any], command: str) -> str:
    """All victim families in one table (cells: one figure per family), then one table per
    family (rows: thieves; columns: configs; cells: peak clean-test accuracy %, mean ± std over
    seeds), each protected config's worst case and the thief behind it, and the configs'
    perceptual figures."""
    cfg, thieves = results["config"], results["thieves"]
    configs = list(results["members"])
    groups = cell_means(results["cells"])
    first = next(iter(results["members"].values()))
    data = first["data"]
    lines = [
        *_heading(cfg, data, results["device"]),
        "Cells: peak clean-test accuracy (%) over epochs (mean ± std where several seeds); the `clean` column is a",
        "model trained on clean clips under the same thief (what the thief costs), chance is "
        f"{100 / len(data['classes']):.0f}%.",
    ]
    if results.get("missing"):
        missing = results["missing"]
        per_config = {c: sum(m["config"] == c for m in missing) for c in configs}
        lines += [
            "",
            f"**Partial** (`--cached-only`): {len(results['cells'])} of {len(results['cells']) + len(missing)} cells are in the "
            "cache; empty cells are not computed yet, and worst cases are over the computed cells only. Missing: "
            + (", ".join(f"{c} {n}" for c, n in per_config.items() if n) or "none") + ".",
        ]
    victims = cfg["victims"]["models"]
    if len(victims) > 1:
        lines += ["", f"## All victims (cells: {' / '.join(victims)})", "", "| thief | " + " | ".join(configs) + " |", "|---" * (len(configs) + 1) + "|"]
        for thief in thieves:
            rows = [[groups.get((c, thief, v)) for v in victims] for c in configs]
            if any(p is not None for row in rows for p in row):
                lines.append(f"| {thief} | " + " | ".join(" / ".join(_cell(p) or "–" for p in row) for row in rows) + " |")
    for victim in victims:
        lines += ["", f"## Victim {victim}", "", "| thief | " + " | ".join(configs) + " |", "|---" * (len(configs) + 1) + "|"]
        for thief in thieves:
            cells = [groups.get((c, thief, victim)) for c in configs]
            if any(v is not None for v in cells):  # victims.thieves may leave a row out
                lines.append(f"| {thief} | " + " | ".join(_cell(v) for v in cells) + " |")
    lines += ["", "## Worst case per config (over thieves and victims, seed means)", "", "| config | worst case % | thief | victim | PESQ-WB | STOI | median SNR dB |", "|---|---|---|---|---|---|---|"]
    worst_of = worst_cases(results)
    for c in (c for c in configs if results["members"][c]["generation"] is not None and c in worst_of):
        worst, thief, victim = worst_of[c]
        m = results["members"][c].get("metrics") or {}
        lines.append(
            f"| {c} | {100 * worst:.1f} | {thief} | {victim} | {_num(m.get('pesq_wb_mean'), '.2f')} "
            f"| {_num(m.get('stoi_mean'), '.3f')} | {_num(m.get('snr_db_median'), '.1f')} |"
        )
    lines += _strongest_thieves(results, groups)
    t = results["timings"]
    lines += ["", "Timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in t.items()), "", f"Command: `{command}`", ""]
    return "\n".join(lines)


def _strongest_thieves(results: dict[str, Any], groups: dict[tuple[str, str, str], list[float]]) -> list[str]:
    """Per protected config and victim family: the thief that restores the most accuracy
    (seed means), beside the figure without a thief and a clean model's under that thief."""
    clean = next((c for c, member in results["members"].items() if member["generation"] is None), None)
    mean = lambda key: sum(groups[key]) / len(groups[key]) if key in groups else None  # noqa: E731
    lines = [
        "",
        "## Which thief restores most (per config and victim family, seed means)",
        "",
        "| config | victim | no thief % | strongest thief | its % | clean under it % |",
        "|---|---|---|---|---|---|",
    ]
    for config, member in results["members"].items():
        if member["generation"] is None:
            continue
        for victim in results["config"]["victims"]["models"]:
            by_thief = {t: m for t in results["thieves"] if t != NO_THIEF and (m := mean((config, t, victim))) is not None}
            if by_thief:
                thief = max(by_thief, key=by_thief.get)
                under = mean((clean, thief, victim)) if clean else None
                lines.append(
                    f"| {config} | {victim} | {_percent(mean((config, NO_THIEF, victim)))} | {thief} "
                    f"| {_percent(by_thief[thief])} | {_percent(under)} |"
                )
    return lines
