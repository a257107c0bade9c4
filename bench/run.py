"""One bench run: noise (generated or cached) -> victims per condition -> metrics -> results.

Data flows one way: config -> clips -> budget -> noise -> victims -> figures. Finished noise
and victim results go to a content-addressed cache, so a run that is interrupted and
restarted, or a second config sharing its clean victims, reuses them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from bench.cache import Cache
from bench.conditions import Condition
from bench.config import BenchConfig
from bench.data import data_fingerprint, load_split
from core.budgets import Budget, budget_from_dict
from core.data import ClipSet
from core.defenses import Defense, canonical_spec, defense_from_dict
from core.hashing import READ_FORMATS, cache_key, cache_keys, compute_context, stable_hash
from core.metrics import budget_bands, summarize
from core.noise import CorruptNoiseFile, load_noise
from core.noise.distributed import Ranks
from core.noise.store import save_noise_shards
from core.noise.make import make_noise
from core.train import VictimConfig, train_victim


@dataclass
class RunOutput:
    """What a run computed: results (JSON-ready) plus the tensors plots and WAVs need."""

    results: dict[str, Any]
    train: ClipSet
    delta: torch.Tensor | None
    budget: Budget | None


def computed_on(device: torch.device) -> dict[str, Any]:
    """Where a result was computed, stored with it: the cache key's context, the device's
    full name and torch's CPU thread count (CPU results depend on it, see provenance)."""
    return {**compute_context(device), "device_name": str(device), "threads": torch.get_num_threads()}


def log_line(message: str) -> None:
    """Progress lines, flushed so they show up at once when output goes to a file or pipe."""
    print(message, flush=True)


def run(
    cfg: BenchConfig,
    cache: Cache,
    device: torch.device,
    progress: bool = True,
    log=log_line,
    clean_victims: bool = True,
    cached_only: bool = False,
) -> RunOutput:
    """Execute one config; returns the results and the tensors for reporting.

    clean_victims=False skips the clean condition when there is noise (the leaderboard does
    not score it; the clean reference entry holds it), which saves a quarter of a cold run.
    cached_only=True trains and generates nothing: victims not in the cache are listed under
    results["missing"] instead (a long matrix, read while it is being computed).
    """
    torch.set_flush_denormal(True)  # denormal input gradients once tripled a min-min step on CPU
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    train, test = load_split(cfg.data, progress=progress)
    timings["load_s"] = time.perf_counter() - t0
    fingerprint = data_fingerprint(train, test)
    log(f"data: {len(train)} train / {len(test)} test clips, {len(train.classes)} classes, fingerprint {fingerprint}")

    delta = budget = None
    generation: dict[str, Any] = {}
    if cfg.has_noise:
        budget = budget_from_dict(cfg.budget)
        t0 = time.perf_counter()
        delta, generation = noise_for(cfg, budget, train, fingerprint, cache, device, progress, log, generate=not cached_only)
        timings["generation_s"] = time.perf_counter() - t0

    conditions = training_sets(cfg, train, delta, generation.get("keys"), fingerprint, clean_victims)
    t0 = time.perf_counter()
    victims, thieves, missing = train_victims(cfg, conditions, train.labels, test, fingerprint, cache, device, progress, log, cached_only)
    timings["victims_s"] = time.perf_counter() - t0

    metrics = None
    if delta is not None:
        t0 = time.perf_counter()
        thresholds, segment_samples, level = budget_bands(budget)
        log("metrics: SNR, segmental SNR, SNR per band" + (", PESQ-WB, STOI" if cfg.metrics.perceptual else ""))
        metrics = summarize(
            train.waveforms,
            train.waveforms + delta,
            thresholds,
            segment_samples=segment_samples,
            level=level,
            perceptual=cfg.metrics.perceptual,
            max_perceptual_clips=cfg.metrics.max_perceptual_clips or None,
            progress=progress,
        )
        timings["metrics_s"] = time.perf_counter() - t0

    results = {
        "config": cfg.to_dict(),
        "config_hash": cfg.hash(),
        "data": {
            "fingerprint": fingerprint,
            "train_clips": len(train),
            "test_clips": len(test),
            "classes": list(train.classes),
        },
        "generation": generation or None,
        "victims": victims,
        "thieves": thieves,
        "metrics": metrics,
        "device": str(device),
        "timings": timings,
    }
    if cached_only:
        results["missing"] = missing
    return RunOutput(results, train, delta, budget)


def noise_cache_keys(cfg: BenchConfig, budget: Budget, fingerprint: str, device: torch.device) -> tuple[str, ...]:
    """Cache keys of a config's noise (one per cache format read, newest first): budget,
    generation settings, data and compute context."""
    return cache_keys({"budget": budget.to_dict(), "generation": cfg.generation.to_dict(), "data": fingerprint}, device)


def victim_cache_keys(
    train_keys: tuple[str, ...], test_fingerprint: str, victim: VictimConfig, seed: int, device: torch.device
) -> tuple[str, ...]:
    """Cache keys of one victim (one per cache format read, newest first): its training set
    (`train_keys`, that set's key in each format), test set, recipe, seed and compute context."""
    recipe = {"test": test_fingerprint, "victim": victim.to_dict(), "seed": seed}
    return tuple(cache_key({**recipe, "train": train}, device, f) for train, f in zip(train_keys, READ_FORMATS))


def noise_for(
    cfg: BenchConfig,
    budget: Budget,
    train: ClipSet,
    fingerprint: str,
    cache: Cache,
    device: torch.device,
    progress: bool,
    log,
    ranks: Ranks = Ranks(),
    generate: bool = True,
) -> tuple[torch.Tensor | None, dict[str, Any]]:
    """Cached noise for (budget, generation settings, data, compute context), else generate
    and cache it (generate=False: no noise, and under "absent" the command that makes it; the
    victims' keys need only the noise's keys). Under torchrun (`ranks`, see
    bench.generate) each rank makes the noise of its shard of the clips and returns that;
    rank 0 stores and returns all of it. The rank count is not in the key: like a CPU thread
    count, it changes the order of sums, not the recipe."""
    keys = noise_cache_keys(cfg, budget, fingerprint, device)
    key = keys[0]
    path = cache.find("noise", keys, ".pt")
    if path is not None:
        try:
            delta, meta = load_noise(path, train.ids)
            log(f"noise: reused {path} ({meta['rounds']} rounds)")
            return delta, {**meta, "keys": keys, "cached": True}
        except CorruptNoiseFile as err:
            log(f"noise: {err}; generating it again")
    path = cache.path("noise", key, ".pt")
    if not generate:
        log(f"noise: not in the cache {cache.root}; its victims are looked up by key, no perceptual figures")
        return None, {"keys": keys, "absent": f"python -m bench.generate --config {cfg.name}"}
    gen = cfg.generation
    log(f"noise: generating with {gen.surrogate} surrogate on {device} ({budget.to_dict()['kind']} budget)")
    checkpoint = cache.path("noise", key, ".checkpoint.pt")
    shard = ranks.share([1.0] * len(train))
    delta, record = make_noise(
        train.waveforms[shard],
        train.labels[shard],
        len(train.classes),
        budget,
        gen.minmin(),
        gen.surrogate,
        device,
        progress,
        checkpoint=checkpoint,
        on_round=lambda r: log(f"  round {r['round']}: surrogate accuracy {r['accuracy']:.3f} ({r['seconds']:.0f} s)"),
        ranks=ranks,
    )
    seconds = record["seconds"]
    meta = {
        "rounds": record["rounds"],
        "history": record["history"],
        "seconds": seconds,
        "clips_per_second": len(train) * record["rounds"] / seconds if seconds else None,
        "clips": len(train),
        "device": str(device),
        "computed": {**computed_on(device), "ranks": ranks.world},
    }
    every = save_noise_shards(path, list(train.ids[shard]), delta, meta, ranks)
    ranks.own(checkpoint).unlink(missing_ok=True)  # the noise is stored: nothing left to resume
    return delta if every is None else every, {**meta, "keys": keys, "cached": False}


@dataclass(frozen=True)
class TrainingSet:
    """What one group of victims trains on: the config's clips (clean, or poisoned by its
    noise) as a thief would use them, with its key in each cache format read (victim keys
    hash it). `make` builds the clips only when a victim needs them (a codec pass over the
    whole set takes a while, and cached victims need none)."""

    label: str
    keys: tuple[str, ...]
    defense: Defense | None
    spec: dict[str, Any] | None
    make: Callable[[], torch.Tensor]


def training_sets(
    cfg: BenchConfig,
    train: ClipSet,
    delta: torch.Tensor | None,
    noise_keys: tuple[str, ...] | None,
    fingerprint: str,
    clean_victims: bool,
) -> list[TrainingSet]:
    """'clean' (when asked, or when there is no noise), then the config's own training set
    (poisoned when there is noise) as it is and under each of the config's defenses:
    'poisoned', 'poisoned+mp3_32k', ...; for a noiseless config 'clean+mp3_32k', ..."""
    clean = train.waveforms
    clean_keys = tuple("clean:" + fingerprint for _ in READ_FORMATS)
    sets = []
    if clean_victims or noise_keys is None:
        sets.append(TrainingSet(Condition("clean").label, clean_keys, None, None, lambda: clean))
    if noise_keys is None:
        base, base_keys, own = "clean", clean_keys, (lambda: clean)
    else:
        base, base_keys, own = "poisoned", tuple("poisoned:" + k for k in noise_keys), (lambda: clean + delta)
        sets.append(TrainingSet(base, base_keys, None, None, own))
    for raw in cfg.defenses:
        defense, spec = defense_from_dict(raw), canonical_spec(raw)
        sets.append(
            TrainingSet(
                Condition(base, defense.name).label,
                tuple(f"{k}+{stable_hash(spec)}" for k in base_keys),
                defense,
                spec,
                lambda d=defense: d.prepare(own(), clean, train.sample_rate_hz),
            )
        )
    return sets


def train_victims(
    cfg: BenchConfig,
    conditions: list[TrainingSet],
    train_y: torch.Tensor,
    test: ClipSet,
    fingerprint: str,
    cache: Cache,
    device: torch.device,
    progress: bool,
    log,
    cached_only: bool = False,
) -> tuple[dict[str, dict[str, list[dict[str, Any]]]], dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """({condition: {model: [per-seed result dicts]}}, {condition: its defense spec and
    preparation time}, [victims not trained]); each (condition, model, seed) is cached.
    cached_only=True trains none: those not in the cache are the third list."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    thieves: dict[str, dict[str, Any]] = {}
    missing: list[dict[str, Any]] = []
    test_x, test_y = test.waveforms.to(device), test.labels.to(device)
    for condition in conditions:
        out[condition.label] = {}
        thieves[condition.label] = {"defense": condition.spec, "prepare_s": None}
        train_x = None
        for model in cfg.victims.models:
            if not cfg.victims.trains_under(model, Condition.parse(condition.label).thief):
                continue
            victim = cfg.victims.victim(model)
            runs = []
            for seed in cfg.victims.seeds:
                keys = victim_cache_keys(condition.keys, fingerprint, victim, seed, device)
                found = cache.get_json("victims", keys)
                if found is None and cached_only:
                    missing.append({"condition": condition.label, "victim": model, "seed": seed})
                    log(f"victim {condition.label:>18} {model} seed {seed}: not in the cache")
                    continue
                if found is None:
                    if train_x is None:
                        t0 = time.perf_counter()
                        train_x = condition.make().to(device)
                        thieves[condition.label]["prepare_s"] = time.perf_counter() - t0
                    trainer = condition.defense.train if condition.defense is not None else train_victim
                    result = trainer(
                        train_x,
                        train_y.to(device),
                        test_x,
                        test_y,
                        len(test.classes),
                        victim,
                        seed,
                        progress=progress,
                        desc=f"{condition.label} {model} seed {seed}",
                    )
                    found = {**result.to_dict(), "computed": computed_on(device)}
                    cache.put_json("victims", keys[0], found)
                    log(f"victim {condition.label:>18} {model} seed {seed}: peak {found['peak']:.3f} final {found['final']:.3f} ({found['seconds']:.0f} s)")
                else:
                    log(f"victim {condition.label:>18} {model} seed {seed}: peak {found['peak']:.3f} (cached)")
                runs.append(found)
            if runs:
                out[condition.label][model] = runs
    return out, thieves, missing
