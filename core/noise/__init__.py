"""Error-minimizing noise generation and its storage by clip ID."""

from core.noise.minmin import (
    MinMinConfig,
    MinMinResult,
    accuracy_on,
    descend,
    generate,
    project,
)
from core.noise.store import CorruptNoiseFile, load_noise, save_noise

__all__ = ["CorruptNoiseFile", "MinMinConfig", "MinMinResult", "accuracy_on", "descend", "generate", "load_noise", "project", "save_noise"]
