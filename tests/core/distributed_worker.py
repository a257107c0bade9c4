"""Run by tests/core/test_distributed.py, alone or under torchrun: the same tiny min-min work,
each rank saving what it computed under OUT_PREFIX.<rank>.pt.

  one surrogate step: the parameters' gradients after one batch (DDP + GlobalBatchNorm);
  untrained: noise made against the untrained surrogate (noise_first, one round);
  run: two full rounds (history, noise, and how many clips each surrogate training step saw);
  resumed: one round with a checkpoint, then the second from it;
  gathered: rows of unequal count per rank (5 + 7 with two ranks) gathered 3 at a time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch.nn import functional as F

from core.budgets import ConstantBudget
from core.models import M5, build_surrogate
from core.noise.distributed import gather_rows, init_ranks, with_global_batchnorm
from core.noise.make import make_noise
from core.noise.minmin import MinMinConfig

N_CLIPS, N_CLASSES, SAMPLES = 24, 3, 8000


def clips() -> tuple[torch.Tensor, torch.Tensor]:
    """Tones per class in noise: learnable in a step or two."""
    g = torch.Generator().manual_seed(5)
    y = torch.arange(N_CLIPS) % N_CLASSES
    t = torch.arange(SAMPLES)
    x = 0.3 * torch.sin(t * (0.02 + 0.03 * y[:, None])) + 0.05 * torch.randn(N_CLIPS, SAMPLES, generator=g)
    return x.float(), y


def main(out_prefix: str) -> None:
    torch.set_num_threads(1)
    device = torch.device("cpu")
    ranks = init_ranks(device)
    x, y = clips()
    own = ranks.share([1.0] * N_CLIPS)
    budget = ConstantBudget(0.05)

    torch.manual_seed(0)
    model = build_surrogate("m5", N_CLASSES)
    if ranks.distributed:
        trained = torch.nn.parallel.DistributedDataParallel(with_global_batchnorm(model))
        loss = F.cross_entropy(trained(x[own]), y[own], reduction="sum") * (ranks.world / N_CLIPS)
    else:
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    gradients = {name: p.grad.clone() for name, p in model.named_parameters()}

    def noise(checkpoint: Path | None = None, **settings) -> tuple[torch.Tensor, list[dict]]:
        config = MinMinConfig(steps=2, train_steps=3, batch_size=8, noise_batch_size=8, **settings)
        delta, record = make_noise(
            x[own], y[own], N_CLASSES, budget, config, "m5", device, progress=False, checkpoint=checkpoint, ranks=ranks
        )
        return delta, [h["accuracy"] for h in record["history"]]

    untrained, untrained_accuracy = noise(noise_first=True, min_rounds=1, max_rounds=1)
    trained_on: list[int] = []  # the clips of each training step (batch-norm statistics: train mode)
    record = lambda module, args: trained_on.append(len(args[0])) if isinstance(module, M5) and module.training else None  # noqa: E731
    with torch.nn.modules.module.register_module_forward_pre_hook(record):
        delta, history = noise(min_rounds=2, max_rounds=2)
    checkpoint = Path(f"{out_prefix}.checkpoint.pt")
    noise(checkpoint, min_rounds=1, max_rounds=1)  # a run that stops (is killed) after round 1
    resumed, resumed_history = noise(checkpoint, min_rounds=2, max_rounds=2)
    rows = torch.arange(12.0).reshape(12, 1).expand(12, 2)
    gathered = gather_rows(rows[slice(0, 5) if ranks.rank == 0 else slice(5, 12)] if ranks.distributed else rows, ranks, chunk=3)
    torch.save(
        {
            "gradients": gradients,
            "untrained": untrained,
            "untrained_accuracy": untrained_accuracy,
            "delta": delta,
            "history": history,
            "trained_on": trained_on,
            "resumed": resumed,
            "resumed_history": resumed_history,
            "x": x[own],
            "gathered": gathered,
        },
        f"{out_prefix}.{ranks.rank}.pt",
    )
    ranks.close()
    ranks.exit_code(0)


if __name__ == "__main__":
    main(sys.argv[1])
