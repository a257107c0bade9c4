"""Bench configuration: TOML files -> frozen, typed dataclasses.

A config may `include` a base file (relative path); tables merge key by key, other values
replace. Unknown keys and wrong types are errors naming the key. Command-line overrides
are applied to the merged data before validation, so they are checked the same way.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.conditions import NO_THIEF
from core.budgets import budget_from_dict
from core.defenses import defense_from_dict
from core.numbers import is_finite_number
from core.hashing import stable_hash
from core.models import MODELS, surrogate_names
from core.noise import MinMinConfig
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
class GenerationConfig(MinMinConfig):
    """Every MinMinConfig setting plus the surrogate: a model name, or several joined by '+'
    for an ensemble ("m5+logmel_cnn", core.models.Ensemble)."""

    surrogate: str = "m5"

    def __post_init__(self) -> None:
        super().__post_init__()
        surrogate_names(self.surrogate)

    def minmin(self) -> MinMinConfig:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(MinMinConfig)}
        return MinMinConfig(**fields)


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
        """Plain data (hashed for cache keys and the leaderboard protocol); the generation
        settings come from MinMinConfig.to_dict, which leaves out the options that are off."""
        data = json.loads(json.dumps(dataclasses.asdict(self)))
        data["generation"] = self.generation.to_dict()
        if not self.matrix:  # a plain config hashes as it did before matrices existed
            del data["matrix"]
        if not self.victims.thieves:  # ... and as before per-model thieves existed
            del data["victims"]["thieves"]
        return data

    def hash(self) -> str:
        return stable_hash(self.to_dict())


def config_path(name_or_file: str) -> Path:
    """A config name in bench/configs (e.g. 'dynamic_013') or a path to a TOML file."""
    path = Path(name_or_file)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ValueError(f"config file {path} does not exist")
        return path
    candidate = CONFIG_DIR / f"{name_or_file}.toml"
    if not candidate.is_file():
        raise ValueError(f"unknown config {name_or_file!r}; expected one of: {', '.join(list_configs())}")
    return candidate


def list_configs() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.toml") if not p.stem.startswith("_"))


def read_merged(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """TOML data of `path` with its `include` chain merged in (base first)."""
    path = path.resolve()
    if path in seen:
        raise ValueError(f"config include cycle: {' -> '.join(str(p) for p in (*seen, path))}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"config {path} is not valid TOML: {err}") from None
    include = data.pop("include", None)
    if include is None:
        return data
    base = read_merged(path.parent / include, (*seen, path))
    return deep_merge(base, data)


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key != "budget":
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(name_or_file: str, overrides: dict[str, dict[str, Any]] | None = None) -> BenchConfig:
    """Read, merge, override and validate a config; errors name the offending key."""
    path = config_path(name_or_file)
    data = read_merged(path)
    data.setdefault("name", path.stem)
    for section, values in (overrides or {}).items():
        data[section] = {**data.get(section, {}), **values}
    return from_dict(BenchConfig, data, "")


def from_dict(cls: type, data: Any, where: str) -> Any:
    """Build dataclass `cls` from plain data, checking keys and types recursively."""
    if not isinstance(data, dict):
        raise ValueError(f"{where or 'config'} must be a table, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"unknown key(s) {sorted(f'{where}{k}' for k in unknown)}; allowed in {where or 'top level'}: {sorted(names)}")
    kwargs = {k: _coerce(hints[k], v, f"{where}{k}") for k, v in data.items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where.rstrip('.') or 'config'}: {err}") from None


def _coerce(hint: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, f"{key}.")
    if origin is tuple:
        if not isinstance(value, list):
            raise ValueError(f"{key} must be a list, got {value!r}")
        (item,) = {a for a in typing.get_args(hint) if a is not Ellipsis}
        return tuple(_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{key} must be a table, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        if not is_finite_number(value):
            raise ValueError(f"{key} must be a number a float can hold, got an integer of {len(str(value))} digits")
        return float(value)
    if hint in (int, float, str, bool) and (type(value) is not hint):
        raise ValueError(f"{key} must be {hint.__name__}, got {value!r}")
    return value
