"""AdversarialTraining: a thief who trains the victim on PGD adversarial examples (Madry et
al., 2018), the known counter to error-minimizing noise in images (Fu et al., ICLR 2022).

Error-minimizing noise works because it lowers the loss; training on worst-case (loss-
raising) perturbations inside an L-inf ball of radius `eps_linf` undoes that shortcut when
the radius is comparable to the noise. The default 0.02 is a quarter of constant_008's
budget and the size of dynamic_013's noise in its middle amplitude bands (eps 0.01-0.04);
larger radii cost an M5 much of its clean accuracy (the matrix's clean column shows it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from core.defenses.base import Defense
from core.numbers import is_finite_number
from core.train import BatchHook


def pgd_attack(
    model: nn.Module,
    x: torch.Tensor,
    target: torch.Tensor,
    eps_linf: float,
    steps: int,
    step_size: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """x + delta with |delta| <= eps_linf that raises CE(model(x + delta), target): a random
    start in the ball, then `steps` signed-gradient ASCENT steps, each projected back onto
    the ball and onto [-1, 1]. x [B, T]; returns a detached tensor of x's shape.

    The model is put in eval mode for the attack (batch-norm statistics stay untouched) and
    returned to its previous mode.
    """
    was_training = model.training
    model.eval()
    delta = (torch.rand(x.shape, generator=generator).to(x) * 2 - 1) * eps_linf
    delta = (x + delta).clamp(-1.0, 1.0) - x
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = F.cross_entropy(model(x + delta), target)
        (grad,) = torch.autograd.grad(loss, delta)
        delta = (delta.detach() + step_size * grad.sign()).clamp(-eps_linf, eps_linf)
        delta = (x + delta).clamp(-1.0, 1.0) - x
    model.train(was_training)
    return (x + delta).detach()


@dataclass(frozen=True)
class AdversarialTraining(Defense):
    """PGD adversarial training of the victim.

    Args:
        eps_linf: L-inf radius of the training perturbations (waveform units).
        steps: PGD steps per batch (each costs about one forward + backward pass, so a
            victim trains about steps + 1 times slower).
        step_fraction: step size as a fraction of eps_linf (Madry's 2.5 / steps by default).
    """

    eps_linf: float = 0.02
    steps: int = 2
    step_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not (is_finite_number(self.eps_linf) and 0 < self.eps_linf < 1):
            raise ValueError(f"adversarial eps_linf must lie in (0, 1), got {self.eps_linf!r}")
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"adversarial steps must be a positive integer, got {self.steps!r}")
        if not (is_finite_number(self.step_fraction) and 0 <= self.step_fraction <= 1):
            raise ValueError(f"adversarial step_fraction must lie in [0, 1] (0: 2.5 / steps), got {self.step_fraction!r}")

    @property
    def name(self) -> str:
        return f"adv_pgd_{self.eps_linf:g}"

    def batch_hook(self) -> BatchHook:
        return self

    def setup(self, model: nn.Module, generator: torch.Generator) -> None:
        pass

    def __call__(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, n_classes: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        fraction = self.step_fraction or min(1.0, 2.5 / self.steps)
        return pgd_attack(model, x, y, self.eps_linf, self.steps, fraction * self.eps_linf, generator), y
