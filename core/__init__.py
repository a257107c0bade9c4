"""Unlearnable audio: error-minimizing noise under per-segment epsilon budgets."""

__version__ = "0.1.0"

SAMPLE_RATE_HZ = 16_000
"""Every clip inside the library is mono float32 at this rate."""

CLIP_SAMPLES = 16_000
"""Every clip inside the library has this many samples (1 s at 16 kHz)."""


def __getattr__(name: str):
    """`core.protect_audio` and `core.Protected` (core/api.py), imported on first use so that
    `import core` stays light for tools that need only the constants."""
    if name in ("protect_audio", "Protected"):
        from core import api

        return getattr(api, name)
    raise AttributeError(f"module 'core' has no attribute {name!r}")
