"""Configuration as data: TOML files with an `include` chain -> frozen, typed dataclasses.

A file may `include` a base file (a path relative to it); tables merge key by key (a
`[budget]` table replaces as a whole), other values replace. `from_dict` builds a dataclass
from the merged data, checking keys and types recursively, so every error names its key.
The bench's experiments and the folder tool's recipes are read with it.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from core.numbers import is_finite_number


def config_path(name_or_file: str, folder: Path) -> Path:
    """A config name in `folder` (e.g. 'dynamic_013') or a path to a TOML file."""
    path = Path(name_or_file)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ValueError(f"config file {path} does not exist")
        return path
    candidate = folder / f"{name_or_file}.toml"
    if not candidate.is_file():
        raise ValueError(f"unknown config {name_or_file!r}; expected one of: {', '.join(list_configs(folder))}")
    return candidate


def list_configs(folder: Path) -> list[str]:
    """The config names in `folder` (files starting with '_' are bases to include, not configs)."""
    return sorted(p.stem for p in folder.glob("*.toml") if not p.stem.startswith("_"))


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
