"""Score a submission: validate, run the protocol, write its entry and re-render the tables.

Outputs are written only after scoring succeeded, so an invalid or failed submission
leaves the leaderboard folder exactly as it was.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import core
from bench.cache import Cache
from core.data.ten_words import check_ten_words
from bench.conditions import Condition
from core.atomic import atomic_path
from leaderboard.entries import (
    LEADERBOARD_ROOT,
    SCORING_KEYS,
    entries_dir,
    read_entry,
    submissions_dir,
    worst_case_peak,
    write_entry,
)
from leaderboard.protocol import (
    DEFAULT_CACHE,
    PROTOCOL_VERSION,
    protocol_config,
    protocol_hash,
)
from leaderboard.render import write_tables
from leaderboard.submission import Submission, load_submission


def defense_of(condition: str, has_noise: bool) -> str | None:
    """Bench condition -> defense label: 'poisoned' -> 'none', 'poisoned+X' -> 'X' (for a
    noiseless submission 'clean' and 'clean+X' likewise); None: not part of the score (a
    noise submission's clean victims)."""
    parsed = Condition.parse(condition)
    return parsed.thief if parsed.data == ("poisoned" if has_noise else "clean") else None


def build_entry(submission: Submission, sha256: str, results: dict[str, Any], **provenance: Any) -> dict[str, Any]:
    """An entry from a bench run's `results` (see bench.run.run).

    Args:
        submission: the validated submission.
        sha256: hex SHA-256 of the submission file's bytes.
        results: `RunOutput.results` of the protocol run.
        provenance: protocol_hash, git_commit, date, scoring_seconds, device.
    """
    has_noise = submission.budget.get("kind") != "none"
    accuracy = [
        {"victim": model, "defense": defense, "seed": r["seed"], "peak": float(r["peak"]), "final": float(r["final"])}
        for condition, models in results["victims"].items()
        if (defense := defense_of(condition, has_noise)) is not None
        for model, runs in models.items()
        for r in runs
    ]
    metrics = results.get("metrics") or {}
    bands = [{k: b[k] for k in ("label", "lower", "upper", "segments", "snr_db")} for b in metrics.get("band_snr_db", [])]
    recipe = {"generation": submission.generation} if submission.generation else {}
    return {
        "name": submission.name,
        "authors": list(submission.authors),
        "description": submission.description,
        "link": submission.link,
        "budget": submission.budget,
        **recipe,
        "scores": {
            "accuracy": accuracy,
            "worst_case_peak": worst_case_peak(accuracy),
            "pesq_wb_mean": metrics.get("pesq_wb_mean"),
            "stoi_mean": metrics.get("stoi_mean"),
            "snr_db_median": metrics.get("snr_db_median"),
            "band_snr_db": bands,
        },
        "protocol_version": PROTOCOL_VERSION,
        "protocol_hash": provenance["protocol_hash"],
        "submission_sha256": sha256,
        "package_version": core.__version__,
        "git_commit": provenance["git_commit"],
        "data_fingerprint": results["data"]["fingerprint"],
        "date": provenance["date"],
        "scoring_seconds": float(provenance["scoring_seconds"]),
        "device": provenance["device"],
        "computed": computed_of(results, has_noise),
    }


def computed_of(results: dict[str, Any], has_noise: bool) -> dict[str, Any]:
    """Where the scored figures were computed (a cached noise or victim keeps the context of
    the run that made it): the noise's context and each distinct context of scored victims."""
    victims: list[dict[str, Any]] = []
    for condition, models in results["victims"].items():
        if defense_of(condition, has_noise) is None:
            continue
        for runs in models.values():
            for r in runs:
                if r.get("computed") is not None and r["computed"] not in victims:
                    victims.append(r["computed"])
    return {"noise": (results.get("generation") or {}).get("computed"), "victims": victims}


def with_history(entry: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """`entry` carrying `old`'s history, plus `old`'s own scoring when that was under an
    earlier protocol version (a rescoring under the same version replaces it)."""
    if old is None:
        return entry
    history = list(old.get("history", []))
    if old["protocol_version"] < entry["protocol_version"]:
        history.append({k: old[k] for k in SCORING_KEYS})
    return {**entry, "history": history} if history else entry


def submit(
    file: str | Path,
    root: Path = LEADERBOARD_ROOT,
    data_root: str | Path | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    device: str = "auto",
    cache_dir: Path = DEFAULT_CACHE,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> Path:
    """Validate `file`, score it, write root/entries/<name>.json and the tables; returns the
    entry path. Raises ValueError (nothing written) for an invalid submission or a different
    file already submitted under the same name. `overrides` (tests) never reach the real root.
    """
    root = Path(root)
    if overrides and root.resolve() == LEADERBOARD_ROOT:
        raise ValueError("protocol overrides (quick runs) must not write into the real leaderboard; pass another root")
    submission, raw = load_submission(file)
    target = submissions_dir(root) / f"{submission.name}.toml"
    if target.is_file() and target.read_bytes() != raw:
        raise ValueError(f"{target} already exists with different content; refusing to overwrite it (rename the submission)")
    entry = score(submission, raw, data_root, overrides, device, cache_dir, progress, log)
    existing = entries_dir(root) / f"{submission.name}.json"
    entry = with_history(entry, read_entry(existing) if existing.is_file() else None)
    if not target.is_file():
        with atomic_path(target) as tmp:
            tmp.write_bytes(raw)
    path = write_entry(root, entry)
    write_tables(root)
    return path


def score(
    submission: Submission,
    raw: bytes,
    data_root: str | Path | None,
    overrides: dict[str, dict[str, Any]] | None,
    device: str,
    cache_dir: Path,
    progress: bool,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Run the protocol on `submission` (file bytes `raw`) and return its entry; writes only
    to the cache."""
    from bench.report import git_commit
    from bench.run import run  # torch-heavy; `verify` and `show` stay fast
    from core.device import pick_device

    cfg = protocol_config(submission.budget, submission.generation, data_root=data_root, overrides=overrides)
    if cfg.data.source == "speech_commands":
        check_ten_words(Path(cfg.data.root))  # before any work, with the command that fetches it
    torch_device = pick_device(device)
    recipe = f", generation {submission.generation}" if submission.generation else ""
    log(f"scoring {submission.name} ({cfg.budget.get('kind')} budget{recipe}) on {torch_device}")
    start = time.perf_counter()
    output = run(cfg, Cache(cache_dir), torch_device, progress=progress, log=log, clean_victims=not cfg.has_noise)
    return build_entry(
        submission,
        hashlib.sha256(raw).hexdigest(),
        output.results,
        protocol_hash=protocol_hash(protocol_config(submission.budget, data_root=data_root, overrides=overrides)),
        git_commit=git_commit(),
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        scoring_seconds=time.perf_counter() - start,
        device=_device_name(torch_device),
    )


def rescore(
    name: str,
    root: Path = LEADERBOARD_ROOT,
    data_root: str | Path | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    device: str = "auto",
    cache_dir: Path | None = None,
    tolerance: float = 0.0,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> tuple[dict[str, Any], list[str]]:
    """Score entry `name`'s submission again and compare with the stored entry; writes
    nothing to the leaderboard. `cache_dir` None scores cold, in a temporary cache deleted
    afterwards. Returns (the new entry, every figure that differs by more than `tolerance`).
    Raises ValueError when the entry is missing or was scored under other settings or data."""
    root = Path(root)
    entry_path = entries_dir(root) / f"{name}.json"
    if not entry_path.is_file():
        raise ValueError(f"no entry {entry_path}; `submit` scores a new submission")
    old = read_entry(entry_path)
    if old["protocol_version"] != PROTOCOL_VERSION:
        raise ValueError(
            f"{name} was scored under protocol {old['protocol_version']} and this code scores under "
            f"{PROTOCOL_VERSION}: `submit` scores it anew (its old figures move to `history`)"
        )
    submission, raw = load_submission(submissions_dir(root) / f"{name}.toml")
    if hashlib.sha256(raw).hexdigest() != old["submission_sha256"]:
        raise ValueError(f"submissions/{name}.toml changed since it was scored; `verify` explains")
    with tempfile.TemporaryDirectory(prefix="leaderboard-rescore-") as tmp:
        cache = Path(cache_dir) if cache_dir is not None else Path(tmp)
        new = score(submission, raw, data_root, overrides, device, cache, progress, log)
    for key in ("protocol_hash", "data_fingerprint"):
        if new[key] != old[key]:
            raise ValueError(f"{key} differs ({old[key]} scored, {new[key]} now): not the same protocol or data, nothing to compare")
    return new, score_differences(old["scores"], new["scores"], tolerance)


def score_differences(old: dict[str, Any], new: dict[str, Any], tolerance: float = 0.0) -> list[str]:
    """'figure: old -> new' for each score that differs by more than `tolerance` (absolute),
    or that one side lacks."""
    def flat(scores: dict[str, Any]) -> dict[str, Any]:
        figures = {k: scores[k] for k in ("worst_case_peak", "pesq_wb_mean", "stoi_mean", "snr_db_median")}
        for a in scores["accuracy"]:
            for k in ("peak", "final"):
                figures[f"{a['victim']}/{a['defense']}/seed {a['seed']} {k}"] = a[k]
        for b in scores["band_snr_db"]:
            figures[f"band {b['label']} snr_db"] = b["snr_db"]
        return figures

    a, b = flat(old), flat(new)
    out = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        same = x == y or (isinstance(x, (int, float)) and isinstance(y, (int, float)) and abs(x - y) <= tolerance)
        if not same:
            out.append(f"{key}: {x!r} -> {y!r}")
    return out


def _device_name(device) -> str:
    """'cpu', or 'cuda:0 (NVIDIA H100 80GB HBM3)': which card produced the timing."""
    import torch

    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)
