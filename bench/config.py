"""Bench configuration: TOML files -> frozen, typed dataclasses (read by core.config).

A config may `include` a base file (relative path); tables merge key by key, other values
replace. Unknown keys and wrong types are errors naming the key. Command-line overrides
are applied to the merged data before validation, so they are checked the same way.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.conditions import NO_THIEF
from core import config as core_config
from core.budgets import budget_from_dict
from core.config import from_dict, read_merged
from core.defenses import defense_from_dict
from core.hashing import stable_hash
from core.models import MODELS
from core.noise.recipe import GenerationConfig
from core.train import VictimConfig

CONFIG_DIR = Path(__file__).parent / "configs"
DATA_SOURCES = ("embedded", "speech_commands", "folders")


@dataclass(frozen=True)
class DataConfig:
    """Where clips come from. source: embedded | speech_commands | folders."""

    source: str = "embedded"
    root: str = ""
    classes: tuple[str, ...] = ()
    download: bool = False
    max_train_per_class: int = 0  # 0: every clip
    max_test_per_class: int = 0

    def __post_init__(self) -> None:
        if self.source not in DATA_SOURCES:
            raise ValueError(f"data.source must be one of {DATA_SOURCES}, got {self.source!r}")
        if self.source != "embedded" and not self.root:
            raise ValueError(f"data.source {self.source!r} needs data.root (or --data-root)")


@dataclass(frozen=True)
class VictimsConfig:
    """Victim architectures, seeds and the training recipe shared by all of them."""

    models: tuple[str, ...] = ("m5",)
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 20
    batch_size: int = 64
    lr: float = 0.01
    weight_decay: float = 1e-4
    thieves: dict[str, Any] = field(default_factory=dict)
    """{model: [thief, ...]}: a model named here trains only under those thieves (defense
    labels such as "opus_16k", or "none" for the training set as is); others under every one.
    Cuts a protocol to the cells that decide its worst case."""

    def __post_init__(self) -> None:
        if not self.models or not self.seeds:
            raise ValueError("victims.models and victims.seeds must not be empty")
        for name in self.models:
            self.victim(name)
        for model, thieves in self.thieves.items():
            if model not in self.models:
                raise ValueError(f"victims.thieves names {model!r}, which is not in victims.models {list(self.models)}")
            if not isinstance(thieves, list) or not thieves or not all(isinstance(t, str) for t in thieves):
                raise ValueError(f"victims.thieves.{model} must be a non-empty list of thief names, got {thieves!r}")

    def trains_under(self, model: str, thief: str) -> bool:
        """Whether `model` trains under `thief` (see `thieves`)."""
        return model not in self.thieves or thief in self.thieves[model]

    def victim(self, model: str) -> VictimConfig:
        MODELS.get(model)
        return VictimConfig(model, self.epochs, self.batch_size, self.lr, self.weight_decay)


@dataclass(frozen=True)
class MetricsConfig:
    """Perceptual metrics: PESQ/STOI on at most max_perceptual_clips training clips
    (0: all; a seeded choice otherwise); example WAVs and plots for `examples` clips."""

    perceptual: bool = True
    max_perceptual_clips: int = 0
    examples: int = 3


@dataclass(frozen=True)
class BenchConfig:
    """One experiment. budget = {} (or kind = "none") means no noise: clean victims only.

    `matrix` names other configs to run as one thief matrix: each keeps its budget and
    generation settings and takes this config's data, victims, defenses and metrics.
    """

    name: str
    description: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    budget: dict[str, Any] = field(default_factory=dict)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    victims: VictimsConfig = field(default_factory=VictimsConfig)
    defenses: tuple[dict[str, Any], ...] = ()
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    matrix: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.matrix and self.budget:
            raise ValueError("a matrix config takes its budgets from the configs it names; remove [budget]")
        for name in self.matrix:
            config_path(name)
        if self.has_noise:
            budget_from_dict(self.budget)
        labels = {NO_THIEF} | {defense_from_dict(spec).name for spec in self.defenses}
        for model, thieves in self.victims.thieves.items():
            unknown = sorted(set(thieves) - labels)
            if unknown:
                raise ValueError(f"victims.thieves.{model}: unknown thief {unknown}; this config has {sorted(labels)}")

    @property
    def has_noise(self) -> bool:
        return bool(self.budget) and self.budget.get("kind") != "none"

    def to_dict(self) -> dict[str, Any]:
        """Plain data, every setting written out (hashed for the leaderboard protocol; cache
        keys take the generation section)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def hash(self) -> str:
        return stable_hash(self.to_dict())


def config_path(name_or_file: str) -> Path:
    """A config name in bench/configs (e.g. 'dynamic_013') or a path to a TOML file."""
    return core_config.config_path(name_or_file, CONFIG_DIR)


def list_configs() -> list[str]:
    return core_config.list_configs(CONFIG_DIR)


def load_config(name_or_file: str, overrides: dict[str, dict[str, Any]] | None = None) -> BenchConfig:
    """Read, merge, override and validate a config; errors name the offending key."""
    path = config_path(name_or_file)
    data = read_merged(path)
    data.setdefault("name", path.stem)
    for section, values in (overrides or {}).items():
        data[section] = {**data.get(section, {}), **values}
    return from_dict(BenchConfig, data, "")
