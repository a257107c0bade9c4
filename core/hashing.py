"""Content hashes of plain data: equal data, equal hash, across runs and machines."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def stable_hash(data: Any) -> str:
    """SHA-256 (first 16 hex digits) of `data` as canonical JSON (sorted keys)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


CACHE_FORMAT = 2
"""Version of what cached results mean; bump it when code changes what a cached result would
be (1: keys without a compute context)."""


def compute_context(device: Any) -> dict[str, Any]:
    """What, besides the recipe, decides a result and goes into every cache key: the cache
    format, the device kind (noise made on a GPU differs from noise made on a CPU) and torch's
    version (kernels change between releases)."""
    import torch  # here, so that hashing stays importable without torch

    return {"format": CACHE_FORMAT, "device": torch.device(device).type, "torch": str(torch.__version__)}
