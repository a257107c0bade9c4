"""Error-minimizing noise generation and its storage by clip ID."""

from core.noise.minmin import (
    MinMinConfig,
    MinMinResult,
    descend,
    generate,
    project,
)
from core.noise.store import CorruptNoiseFile, load_noise, save_noise

__all__ = ["CorruptNoiseFile", "MinMinConfig", "MinMinResult", "descend", "generate", "load_noise", "project", "save_noise"]
