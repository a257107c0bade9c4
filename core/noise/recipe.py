"""A min-min recipe as configured: every MinMinConfig setting plus the surrogate to train.

The `[generation]` table of a bench config or a folder tool recipe (core.config reads it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from core.models import surrogate_names
from core.noise.minmin import MinMinConfig


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
