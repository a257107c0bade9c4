"""Seed spread: a submission scored by the protocol at several seeds, to see how much of its
rank is luck.

The protocol scores an entry at seed 0 alone (a cold scoring takes 14-20 minutes on 2 CPU cores).
A worst-case peak is a maximum over four victims' 20 test epochs each, so it moves by
several points when only the seed changes. `spread` re-runs the protocol with seed s in
place of 0, for the noise (surrogate init, batch order, noise init) and the victims alike,
and reports each seed's figures and their mean and standard deviation. Seed 0 is the
protocol itself, so its row equals the entry (and reuses its cached noise and victims).
Nothing is written to the leaderboard.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.config import deep_merge
from leaderboard.protocol import DEFAULT_CACHE, PROTECTION_BAR, PROTOCOL_VERSION, protects
from leaderboard.submission import Submission

MAX_SEEDS = 32
NO_PERCEPTUAL = {"metrics": {"perceptual": False}}
"""Seeds skip PESQ-WB and STOI (a minute per seed on a CPU; the entry has them): the noise and
victims, and so the accuracies, do not depend on the metrics settings."""


def parse_seeds(text: str) -> list[int]:
    """'0,1,2' or '0-3' (or a mix, '0-2,7') -> distinct non-negative seeds in the order given."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        lo, sep, hi = part.partition("-")
        if not (lo.isdigit() and (not sep or hi.isdigit())):
            raise ValueError(f"seeds: {part!r} is not a seed or a range like 0-3 (expected e.g. 0,1,2 or 0-3)")
        first, last = int(lo), int(hi) if sep else int(lo)
        if last < first:
            raise ValueError(f"seeds: range {part!r} runs backwards")
        if last - first + 1 > MAX_SEEDS:
            raise ValueError(f"seeds: at most {MAX_SEEDS}, got the range {part!r}")
        seeds += [s for s in range(first, last + 1) if s not in seeds]
    if len(seeds) > MAX_SEEDS:
        raise ValueError(f"seeds: at most {MAX_SEEDS}, got {len(seeds)}")
    return seeds


def seed_overrides(seed: int, base: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Protocol overrides that put `seed` in place of the protocol's seed 0 (noise and victims),
    on top of `base` (tests: the quick protocol)."""
    return deep_merge(base or {}, {"generation": {"seed": seed}, "victims": {"seeds": [seed]}} | NO_PERCEPTUAL)


def spread(
    submission: Submission,
    raw: bytes,
    seeds: list[int],
    data_root: str | Path | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    device: str = "auto",
    cache_dir: Path | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Score `submission` (file bytes `raw`) at each seed; returns its per-seed accuracies and
    the mean, standard deviation (n - 1), minimum and maximum of the worst-case peak."""
    from leaderboard.submit import score  # torch-heavy

    rows = []
    for seed in seeds:
        log(f"seed {seed}:")
        entry = score(submission, raw, data_root, seed_overrides(seed, overrides), device,
                      cache_dir or DEFAULT_CACHE, progress, log)
        rows.append({
            "seed": seed,
            "accuracy": entry["scores"]["accuracy"],
            "worst_case_peak": entry["scores"]["worst_case_peak"],
            "scoring_seconds": entry["scoring_seconds"],
            "device": entry["device"],
        })
    worst = [r["worst_case_peak"] for r in rows]
    return {
        "name": submission.name,
        "protocol_version": PROTOCOL_VERSION,
        "seeds": rows,
        "worst_case_peak": {
            "mean": statistics.fmean(worst),
            "sd": statistics.stdev(worst) if len(worst) > 1 else 0.0,
            "min": min(worst),
            "max": max(worst),
        },
        "seeds_within_bar": sum(protects(w) for w in worst),
    }


def render_spread(result: dict[str, Any]) -> str:
    """A Markdown table: one row per seed (peak % per victim / defense, worst case, seconds),
    then the worst case's mean +- sd and range, and at how many seeds it clears the bar."""
    runs = [f"{a['victim']} / {a['defense']}" for a in result["seeds"][0]["accuracy"]]
    lines = [
        f"| seed | {' | '.join(runs)} | worst case | seconds |",
        "|---" * (len(runs) + 3) + "|",
    ]
    for row in result["seeds"]:
        peaks = " | ".join(f"{100 * a['peak']:.1f}" for a in row["accuracy"])
        lines.append(f"| {row['seed']} | {peaks} | {100 * row['worst_case_peak']:.1f} | {row['scoring_seconds']:.0f} |")
    w = result["worst_case_peak"]
    lines.append("")
    lines.append(
        f"{result['name']}: worst-case peak {100 * w['mean']:.1f} +- {100 * w['sd']:.1f}% over "
        f"{len(result['seeds'])} seed(s) (range {100 * w['min']:.1f}-{100 * w['max']:.1f}; sd over seeds, n - 1); "
        f"within the {100 * PROTECTION_BAR:g}% protection bar at {result['seeds_within_bar']} of {len(result['seeds'])}"
    )
    return "\n".join(lines) + "\n"
