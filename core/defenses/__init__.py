"""Defenses: what a data thief could do with a protected training set, registered by name.

A config names one as a table, e.g. `{kind = "mp3", bitrate_kbps = 32}`; its other keys are
the defense's parameters (the fields of its dataclass).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from core.defenses.adversarial import AdversarialTraining
from core.defenses.augment import TrainingAugment
from core.defenses.base import Defense
from core.defenses.codec import AacRoundTrip, CodecRoundTrip, Mp3RoundTrip, OpusRoundTrip, codec_round_trip
from core.defenses.denoise import Denoise, denoise
from core.defenses.encoder_probe import EncoderProbe
from core.defenses.equalize import Equalize, equalize
from core.defenses.gaussian_noise import GaussianNoise, add_gaussian_noise
from core.defenses.lowpass import LowPass, lowpass
from core.defenses.mulaw import MuLaw, mulaw_round_trip
from core.defenses.partial import PartialProtection
from core.defenses.resample import ResampleRoundTrip, resample_round_trip
from core.registry import Registry

DEFENSES: Registry[type[Defense]] = Registry("defense")
DEFENSES.register("resample")(ResampleRoundTrip)
DEFENSES.register("encoder_probe")(EncoderProbe)
DEFENSES.register("augment")(TrainingAugment)
DEFENSES.register("adversarial")(AdversarialTraining)
DEFENSES.register("partial")(PartialProtection)
DEFENSES.register("mp3")(Mp3RoundTrip)
DEFENSES.register("opus")(OpusRoundTrip)
DEFENSES.register("aac")(AacRoundTrip)
DEFENSES.register("lowpass")(LowPass)
DEFENSES.register("mulaw")(MuLaw)
DEFENSES.register("gaussian_noise")(GaussianNoise)
DEFENSES.register("denoise")(Denoise)
DEFENSES.register("equalize")(Equalize)


def defense_from_dict(spec: dict[str, Any]) -> Defense:
    """Build a defense from config data; unknown kinds and keys are errors naming them."""
    if not isinstance(spec, dict) or "kind" not in spec:
        raise ValueError(f"defense needs a 'kind'; expected one of: {', '.join(DEFENSES.names())}, got {spec!r}")
    kind = spec["kind"]
    cls = DEFENSES.get(kind)
    params = {k: v for k, v in spec.items() if k != "kind"}
    allowed = sorted(f.name for f in dataclasses.fields(cls))
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"defense {kind!r} has unknown key(s) {unknown}; allowed: {allowed}")
    return cls(**params)


def canonical_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` with every parameter spelled out, defaults included: what cache keys hash, so
    `{kind = "resample"}` and `{kind = "resample", via_hz = 8000}` are one defense."""
    return {"kind": spec["kind"], **dataclasses.asdict(defense_from_dict(spec))}


__all__ = ["DEFENSES", "AdversarialTraining", "Defense", "EncoderProbe", "Equalize", "PartialProtection", "TrainingAugment", "canonical_spec", "ResampleRoundTrip", "defense_from_dict", "resample_round_trip", "AacRoundTrip", "CodecRoundTrip", "Denoise", "GaussianNoise", "LowPass", "Mp3RoundTrip", "MuLaw", "OpusRoundTrip", "add_gaussian_noise", "codec_round_trip", "denoise", "equalize", "lowpass", "mulaw_round_trip"]
