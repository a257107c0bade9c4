"""Content hashes of plain data: equal data, equal hash, across runs and machines; and the
cache keys made from them."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def stable_hash(data: Any) -> str:
    """SHA-256 (first 16 hex digits) of `data` as canonical JSON (sorted keys)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


CACHE_FORMAT = 3
"""Version of how a recipe becomes a cache key and of what a cached result means; bump it when
either changes. 1: keys without a compute context. 2: settings added after results were first
cached left out of a recipe while off (FORMAT_2_LEFT_OUT). 3: every setting written out."""

READ_FORMATS = (CACHE_FORMAT, 2)
"""Formats whose entries are read, newest first: results cached in format 2 are found, not
computed again (format 1 entries were made by code whose results differ)."""

FORMAT_2_LEFT_OUT: dict[str, Any] = {
    "noise_first": False,
    "augment": False,
    "rem_radius": 0.0,
    "rem_steps": 2,
    "band_limit_hz": None,
}
"""What format 2 left out of a recipe's budget and generation sections while a setting held
this value."""


def as_format(recipe: dict[str, Any], cache_format: int) -> dict[str, Any]:
    """`recipe` as `cache_format` wrote it: format 2 without FORMAT_2_LEFT_OUT's settings in its
    budget and generation ('generation' in bench, 'minmin' in the folder tool) sections."""
    if cache_format != 2:
        return recipe

    def trimmed(section: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in section.items() if not (k in FORMAT_2_LEFT_OUT and v == FORMAT_2_LEFT_OUT[k])}

    return {k: trimmed(v) if k in ("budget", "generation", "minmin") and isinstance(v, dict) else v for k, v in recipe.items()}


def compute_context(device: Any, cache_format: int = CACHE_FORMAT) -> dict[str, Any]:
    """What, besides the recipe, decides a result and goes into every cache key: the cache
    format, the device kind (noise made on a GPU differs from noise made on a CPU) and torch's
    version (kernels change between releases)."""
    import torch  # here, so that hashing stays importable without torch

    return {"format": cache_format, "device": torch.device(device).type, "torch": str(torch.__version__)}


def cache_key(recipe: dict[str, Any], device: Any, cache_format: int = CACHE_FORMAT) -> str:
    """The key of `recipe`'s result computed on `device`, in `cache_format`."""
    return stable_hash({**as_format(recipe, cache_format), "context": compute_context(device, cache_format)})


def cache_keys(recipe: dict[str, Any], device: Any) -> tuple[str, ...]:
    """`recipe`'s key in each of READ_FORMATS: the one to write first, then the older ones to
    look under."""
    return tuple(cache_key(recipe, device, f) for f in READ_FORMATS)
