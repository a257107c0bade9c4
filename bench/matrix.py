"""The thief matrix: several configs (budgets) x the thieves (defenses) x victim families.

A matrix config names its member configs (`matrix = ["clean", "dynamic_013", ...]`); each
member keeps its own budget and generation settings and takes the matrix's data, victims,
defenses and metrics, then runs as an ordinary bench run, so every noise and victim is
shared with other runs through the cache. Cells: peak clean-test accuracy per (member,
thief, victim, seed); the clean member's row under a thief is what that thief costs a
model trained on clean data, and the protection is the gap to it.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import torch

from bench.cache import Cache
from bench.conditions import NO_THIEF, Condition
from bench.config import BenchConfig, load_config
from bench.run import log_line, run

def member_configs(cfg: BenchConfig, overrides: dict[str, dict[str, Any]] | None = None) -> list[BenchConfig]:
    """The member configs with the matrix's data, victims, defenses and metrics. `overrides`
    (the command line's, e.g. --quick) reach each member's generation settings too."""
    members = []
    for name in cfg.matrix:
        member = load_config(name, overrides)
        if member.matrix:
            raise ValueError(f"matrix member {name!r} is itself a matrix")
        members.append(
            dataclasses.replace(member, data=cfg.data, victims=cfg.victims, defenses=cfg.defenses, metrics=cfg.metrics)
        )
    return members


def matrix_cells(members: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One dict per (member, thief, victim, seed) from the members' results."""
    cells = []
    for name, results in members.items():
        for condition, models in results["victims"].items():
            for model, runs in models.items():
                for r in runs:
                    cells.append(
                        {"config": name, "thief": Condition.parse(condition).thief, "victim": model, "seed": r["seed"], "peak": r["peak"], "final": r["final"]}
                    )
    return cells


def run_matrix(
    cfg: BenchConfig,
    cache: Cache,
    device: torch.device,
    overrides: dict[str, dict[str, Any]] | None = None,
    progress: bool = True,
    log=log_line,
    cached_only: bool = False,
) -> dict[str, Any]:
    """Run every member; results hold each member's full results and the flat cell list.
    cached_only=True: only what the cache holds; the cells it lacks are under "missing"."""
    members: dict[str, dict[str, Any]] = {}
    timings: dict[str, float] = {}
    for member in member_configs(cfg, overrides):
        log(f"== matrix member {member.name}")
        t0 = time.perf_counter()
        members[member.name] = run(member, cache, device, progress=progress, log=log, clean_victims=False, cached_only=cached_only).results
        timings[f"{member.name}_s"] = time.perf_counter() - t0
    partial = {}
    if cached_only:
        partial["missing"] = [
            {"config": name, "thief": Condition.parse(m["condition"]).thief, "victim": m["victim"], "seed": m["seed"]}
            for name, results in members.items()
            for m in results["missing"]
        ]
    return {
        "config": cfg.to_dict(),
        "config_hash": cfg.hash(),
        "thieves": [NO_THIEF] + [t for c in next(iter(members.values()))["victims"] if (t := Condition.parse(c).thief) != NO_THIEF],
        "cells": matrix_cells(members),
        "members": members,
        "device": str(device),
        "timings": timings,
        **partial,
    }
