"""python -m bench.speed: how close noise generation runs to the model's own speed, on this device.

Four timings on the same synthetic batch of 1-s clips (speed does not depend on what the
clips hold), each the median of `--repeats` runs after a warm-up:
  (a) model step: M5 forward + backward + Adam step on a batch (what any training pays);
  (b) noise step: one signed-gradient step on the noise of the same batch (`descend`, steps=1:
      forward, backward to the input, sign, projection onto the budget);
  (c) min-min round: one round of the base recipe over `--clips` clips (20 surrogate training
      steps at batch 64, then 10 noise steps per clip and the accuracy pass), per clip: at
      best about 1 / (11 + 20 * 64 / clips) of (a), since a round is that many passes;
  (d) victim training: one epoch over `--clips` clips at batch 64, per clip.
It prints clips per second for each, the ratios (b)/(a) and (c)/(a) in clips/s (1.0: as fast
as the model step; the noise step aims at >= 0.9), and the share of the noise step spent
outside the model (1 - t(a) / t(b)).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from core import CLIP_SAMPLES
from core.budgets import SegmentMask
from core.device import pick_device
from core.models import build_model
from core.noise import MinMinConfig, descend, generate
from core.train import VictimConfig, train_victim

N_CLASSES = 10


@dataclass(frozen=True)
class Speed:
    """Clips per second of the four timings (see the module docstring)."""

    model_step: float
    noise_step: float
    minmin_round: float
    victim_epoch: float

    @property
    def noise_ratio(self) -> float:
        return self.noise_step / self.model_step

    @property
    def round_ratio(self) -> float:
        return self.minmin_round / self.model_step

    @property
    def outside_model(self) -> float:
        """Share of a noise step's time spent outside the model step's work."""
        return 1.0 - self.noise_step / self.model_step if self.noise_step < self.model_step else 0.0


def median_seconds(work: Callable[[], None], repeats: int, device: torch.device) -> float:
    """Median wall time of `work` over `repeats` runs after one warm-up run."""
    times = []
    for i in range(repeats + 1):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        work()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if i:  # the first run warms caches, allocators and cuDNN up
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(device: torch.device, batch: int = 256, clips: int = 512, repeats: int = 5) -> Speed:
    torch.set_flush_denormal(True)  # denormal gradients once tripled a CPU min-min step
    torch.manual_seed(0)
    x = (torch.rand(clips, CLIP_SAMPLES, device=device) - 0.5) * 0.4
    y = torch.arange(clips, device=device) % N_CLASSES
    xb, yb = x[:batch], y[:batch]
    budget = SegmentMask(0.13)
    eps = budget.eps(xb)
    model = build_model("m5", N_CLASSES).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

    def model_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(xb), yb).backward()
        optimizer.step()

    def noise_step() -> None:
        model.eval().requires_grad_(False)
        descend(model, xb, yb, torch.zeros_like(xb), eps, 0.2, 1)
        model.train().requires_grad_(True)

    def minmin_round() -> None:
        config = MinMinConfig(steps=10, step_fraction=0.2, min_rounds=1, max_rounds=1, noise_batch_size=batch)
        generate(build_model("m5", N_CLASSES).to(device), x, y, budget, config, N_CLASSES, progress=False)

    def victim_epoch() -> None:
        train_victim(x, y, x[:batch], y[:batch], N_CLASSES, VictimConfig("m5", epochs=1), 0, progress=False)

    model.train()
    return Speed(
        model_step=batch / median_seconds(model_step, repeats, device),
        noise_step=batch / median_seconds(noise_step, repeats, device),
        minmin_round=clips / median_seconds(minmin_round, max(1, repeats // 2), device),
        victim_epoch=clips / median_seconds(victim_epoch, max(1, repeats // 2), device),
    )


def report(speed: Speed, device: torch.device) -> str:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} thread(s)"
    return "\n".join([
        f"device: {device} ({name}), torch {torch.__version__}",
        "| timing | clips/s | / model step |",
        "|---|---|---|",
        f"| (a) M5 forward + backward + step | {speed.model_step:.1f} | 1.00 |",
        f"| (b) one noise step (descend) | {speed.noise_step:.1f} | {speed.noise_ratio:.2f} |",
        f"| (c) one min-min round, per clip | {speed.minmin_round:.1f} | {speed.round_ratio:.2f} |",
        f"| (d) victim training, per clip-epoch | {speed.victim_epoch:.1f} | {speed.victim_epoch / speed.model_step:.2f} |",
        f"noise step outside the model's work: {100 * speed.outside_model:.0f}%",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, ...")
    p.add_argument("--batch", type=int, default=256, help="clips per batch of (a) and (b) (default 256)")
    p.add_argument("--clips", type=int, default=512, help="clips of (c) and (d) (default 512)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs of (a) and (b); half as many of (c), (d)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if min(args.batch, args.clips, args.repeats) < 1 or args.batch > args.clips:
        p.error("--batch, --clips and --repeats must be positive, with --batch <= --clips")
    device = pick_device(args.device)
    speed = measure(device, args.batch, args.clips, args.repeats)
    figures = {**speed.__dict__, "noise_ratio": speed.noise_ratio, "round_ratio": speed.round_ratio}
    print(json.dumps(figures) if args.json else report(speed, device))
    return 0


if __name__ == "__main__":
    sys.exit(main())
