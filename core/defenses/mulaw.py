"""MuLaw: mu-law companding quantization round trip (telephone 8-bit G.711-style coding)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from core.defenses.base import Defense


def mulaw_round_trip(x: torch.Tensor, bits: int = 8) -> torch.Tensor:
    """Mu-law encode [N, T] clips to 2**bits levels and decode; same shape, dtype, device.

    mu = 2**bits - 1 (255 for 8 bits). Companding spends the levels on quiet samples, so the
    error is relative to amplitude (about 3 % of it at 8 bits for loud samples). Input is
    clipped to [-1, 1] first, as a coder would. Rounding follows torchaudio's
    mu_law_encoding, so there is no exact zero level: silence decodes to about +-1e-4.
    """
    if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= 16:
        raise ValueError(f"mulaw bits must be an integer in [2, 16], got {bits!r}")
    mu = float(2**bits - 1)
    v = x.to(torch.float32).clamp(-1.0, 1.0)
    companded = torch.sign(v) * torch.log1p(mu * v.abs()) / math.log1p(mu)
    levels = torch.floor((companded + 1) / 2 * mu + 0.5)  # integers 0 .. mu
    decoded = levels / mu * 2 - 1
    return (torch.sign(decoded) * torch.expm1(decoded.abs() * math.log1p(mu)) / mu).to(x.dtype)


@dataclass(frozen=True)
class MuLaw(Defense):
    """Mu-law quantization at `bits` bits (default 8, mu = 255: "mulaw_8bit")."""

    bits: int = 8

    def __post_init__(self) -> None:
        if isinstance(self.bits, bool) or not isinstance(self.bits, int) or not 2 <= self.bits <= 16:
            raise ValueError(f"mulaw bits must be an integer in [2, 16], got {self.bits!r}")

    @property
    def name(self) -> str:
        return f"mulaw_{self.bits}bit"

    def transform(self, x: torch.Tensor, sample_rate_hz: int) -> torch.Tensor:
        return mulaw_round_trip(x, self.bits)
