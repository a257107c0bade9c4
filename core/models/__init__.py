"""Classifiers on 16 kHz waveforms: surrogates for noise generation and victims."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from core.models.bc_resnet import BCResNet
from core.models.log_mel import LogMel
from core.models.logmel_cnn import LogMelCNN
from core.models.m5 import M5
from core.registry import Registry

MODELS: Registry[Callable[[int], nn.Module]] = Registry("model")
MODELS.register("m5")(M5)
MODELS.register("logmel_cnn")(LogMelCNN)
MODELS.register("bc_resnet")(BCResNet)


def build_model(name: str, n_classes: int) -> nn.Module:
    """A freshly initialised model (seed torch before calling for reproducible weights)."""
    return MODELS.get(name)(n_classes)


__all__ = ["M5", "MODELS", "BCResNet", "LogMel", "LogMelCNN", "build_model"]
