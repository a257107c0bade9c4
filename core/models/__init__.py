"""Classifiers on 16 kHz waveforms: surrogates for noise generation and victims."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from core.models.bc_resnet import BCResNet
from core.models.ensemble import Ensemble
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


def surrogate_names(name: str) -> list[str]:
    """'m5' -> ['m5']; 'm5+logmel_cnn' (an ensemble) -> ['m5', 'logmel_cnn']; raises
    ValueError naming an unknown model."""
    names = name.split("+")
    for member in names:
        MODELS.get(member)
    if len(names) != len(set(names)):
        raise ValueError(f"surrogate {name!r} names a model twice")
    return names


def build_surrogate(name: str, n_classes: int) -> nn.Module:
    """A surrogate for min-min: one model, or an `Ensemble` for 'a+b' (members initialised in
    that order)."""
    names = surrogate_names(name)
    if len(names) == 1:
        return build_model(name, n_classes)
    return Ensemble([build_model(member, n_classes) for member in names])


__all__ = ["M5", "MODELS", "BCResNet", "Ensemble", "LogMel", "LogMelCNN", "build_model", "build_surrogate", "surrogate_names"]
