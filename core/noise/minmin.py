"""Sample-wise and class-wise error-minimizing (min-min) noise (Huang et al., ICLR 2021).

One round alternates two minimisations of the same loss, CE(f(x + delta), y):
  1. `train_steps` optimizer steps of the surrogate f on x + delta (min over weights);
  2. for every batch, `steps` signed-gradient DESCENT steps on delta (min over noise),
     each of size `step_fraction * eps(x, t)`, projected onto |delta| <= eps(x, t) and
     x + delta in [-1, 1] (for a band-limited budget, after removing the noise's spectrum
     above the budget's `band_limit_hz`; for a masking budget, after scaling each STFT bin
     of the noise under the clean clip's masking threshold, and thoroughly once at the end).
Rounds stop once round >= min_rounds and the surrogate's accuracy on x + delta reaches
`target_accuracy`, or after `max_rounds`. The gradient is taken with respect to delta
at the point x + delta: the model sees x + delta, and only delta is updated (the
poster's code passed x + delta where delta belonged, so its noise copied the signal).

Everything lives on `device`; the only host transfer is one accuracy scalar per round.
"""

from __future__ import annotations

import pickle
import sys
import time
from functools import partial
from pathlib import Path
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from core.atomic import atomic_path
from core.budgets.band import band_limit
from core.budgets.base import Budget, eps_in_batches, noise_power_limit
from core.defenses.augment import TrainingAugment
from core.noise.distributed import Ranks, all_gather, all_sum, with_global_batchnorm
from core.train import accuracy_on
from core.workspace import IN_MEMORY, Workspace


@dataclass(frozen=True)
class MinMinConfig:
    """Generation settings (defaults follow Huang et al. and the reference measurement).

    Attributes:
        steps: signed-gradient steps on delta per batch per round.
        step_fraction: each step's size as a fraction of eps(x, t).
        train_steps: surrogate optimizer steps per round.
        target_accuracy: stop once the surrogate reaches this accuracy on x + delta ...
        min_rounds: ... but never before this many rounds (the 99% rule alone fires after
            about 2 rounds, which leaves noise that is too weak; see the README).
        max_rounds: stop after this many rounds regardless.
        batch_size: surrogate training batch.
        noise_batch_size: batch of the noise updates (surrogate in eval mode, so this
            changes only speed and memory, not the result).
        lr: surrogate Adam learning rate.
        weight_decay: surrogate Adam weight decay.
        classwise: one delta per class instead of one per clip.
        augment: expectation over transformation against the augmenting thief: every
            surrogate training batch and every noise step sees x + delta through a fresh draw
            of that thief's transforms (core.defenses.augment: speed, shift, noise, gain,
            mixup), so the noise must lower the loss whatever the draw.
        rem_radius: robust error-minimizing noise (Fu et al., ICLR 2022, REM) against the
            adversarially training thief: every surrogate batch and every noise step sees
            x + delta moved by a PGD perturbation of this L-inf radius that *raises* the loss
            (min over noise, min over weights, max over the perturbation), so the noise must
            still lower the loss after a thief's worst nudge; 0 is off. REM takes the radius
            below the noise's own bound (half of it in the paper).
        rem_steps: PGD steps of that inner maximisation (each costs one more forward and
            backward pass per step).
        noise_first: skip the surrogate's training in round 1, so the first noise update
            runs against the untrained surrogate. Its input gradients carry random features,
            not speech the surrogate has learned, so the noise becomes a shortcut that does
            not resemble the classes' speech (which victims would learn from it and carry
            over to clean test clips).
        seed: seeds the surrogate init, batch order and the noise init.
    """

    steps: int = 20
    step_fraction: float = 0.1
    train_steps: int = 20
    target_accuracy: float = 0.99
    min_rounds: int = 1
    max_rounds: int = 10
    batch_size: int = 64
    noise_batch_size: int = 256
    lr: float = 0.01
    weight_decay: float = 1e-4
    classwise: bool = False
    noise_first: bool = False
    augment: bool = False
    rem_radius: float = 0.0
    rem_steps: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "train_steps", "min_rounds", "max_rounds", "batch_size", "noise_batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "train_steps" else 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.min_rounds > self.max_rounds:
            raise ValueError(f"min_rounds ({self.min_rounds}) must not exceed max_rounds ({self.max_rounds})")
        if not 0.0 < self.step_fraction <= 1.0:
            raise ValueError(f"step_fraction must lie in (0, 1], got {self.step_fraction}")
        if not 0.0 < self.target_accuracy <= 1.0:
            raise ValueError(f"target_accuracy must lie in (0, 1], got {self.target_accuracy}")
        if not (isinstance(self.rem_radius, (int, float)) and 0.0 <= self.rem_radius < 1.0):
            raise ValueError(f"rem_radius must lie in [0, 1) (0: off), got {self.rem_radius!r}")
        if isinstance(self.rem_steps, bool) or not isinstance(self.rem_steps, int) or self.rem_steps < 1:
            raise ValueError(f"rem_steps must be a positive integer, got {self.rem_steps!r}")

    def stops_after(self, record: dict[str, Any]) -> bool:
        """The stop rule, on a round's record: at least min_rounds, and the surrogate at
        target_accuracy on x + delta (max_rounds is the loop's own bound)."""
        return record["round"] >= self.min_rounds and record["accuracy"] >= self.target_accuracy

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class MinMinResult:
    """delta: [N, T] noise (per clip, also for class-wise); class_delta: [C, T] or None;
    history: one dict per round (round, accuracy, seconds)."""

    delta: torch.Tensor
    class_delta: torch.Tensor | None
    history: list[dict] = field(default_factory=list)

    @property
    def rounds(self) -> int:
        return len(self.history)


Shape = Callable[[torch.Tensor], torch.Tensor]
"""A budget's projection of a batch's noise beyond L-inf and band (the masking budget's
per-bin power limit), for the clips of that batch."""


Band = float | torch.Tensor | None
"""A band limit: one cut-off in Hz, one per clip ([B]), or None (see core.budgets.band)."""


def project(
    delta: torch.Tensor,
    x: torch.Tensor,
    eps: torch.Tensor,
    band_limit_hz: Band = None,
    shape: Shape | None = None,
) -> torch.Tensor:
    """Remove delta's spectrum above `band_limit_hz` (None: keep it all), apply `shape` (None:
    nothing more), clamp |delta| <= eps elementwise, then keep x + delta inside [-1, 1]. The
    clamps are exact; the band limit and the shape are not (clamping puts a little back)."""
    delta = band_limit(delta, band_limit_hz)
    if shape is not None:
        delta = shape(delta)
    delta = torch.maximum(torch.minimum(delta, eps), -eps)
    return (x + delta).clamp(-1.0, 1.0) - x


View = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
"""What the surrogate sees of a batch: (inputs, targets) from (x + delta, y); targets are
class indices or class probabilities."""


def descend(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    delta: torch.Tensor,
    eps: torch.Tensor,
    step_fraction: float,
    steps: int,
    band_limit_hz: Band = None,
    view: View | None = None,
    shape: Shape | None = None,
) -> torch.Tensor:
    """`steps` signed-gradient descent steps on CE(model(x + delta), y) w.r.t. delta.

    Args: x, delta, eps: [B, T]; y: [B]; band_limit_hz: the budget's (see `project`);
    view: a differentiable transform of (x + delta, y) drawn afresh at every step
    (expectation over transformation); None: the surrogate sees x + delta itself;
    shape: the budget's further projection for these clips (see `project`).
    Returns the new delta, detached, inside the budget.
    """
    step = step_fraction * eps
    delta = project(delta.detach(), x, eps, band_limit_hz, shape)
    for _ in range(steps):
        delta.requires_grad_(True)
        inputs, targets = (x + delta, y) if view is None else view(x + delta, y)
        loss = F.cross_entropy(model(inputs), targets)
        (grad,) = torch.autograd.grad(loss, delta)
        delta = project(delta.detach() - step * grad.sign(), x, eps, band_limit_hz, shape)
    return delta


def generate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    budget: Budget,
    config: MinMinConfig,
    n_classes: int | None = None,
    progress: bool = True,
    on_round: Callable[[dict], None] | None = None,
    valid: torch.Tensor | None = None,
    cutoffs_hz: torch.Tensor | None = None,
    checkpoint: Path | None = None,
    ranks: Ranks = Ranks(),
    workspace: Workspace = IN_MEMORY,
) -> MinMinResult:
    """Min-min noise for clean clips x [N, T] with labels y [N], on x's device.

    `model` is a freshly initialised surrogate on the same device; it is trained in place.
    Deterministic on CPU for a given config.seed. So that what is optimized is what gets
    written, `valid` [N, T] (1 or True: a sample of the file, 0: padding) gives padding no noise,
    and `cutoffs_hz` [N] keeps each clip's noise in the band its file holds, in place of the
    budget's band limit (`core.budgets.band.written_cutoff`: the lower of the two).

    `checkpoint`: a file where the state is saved after every round (noise, surrogate,
    optimizer, every random generator, where the batch order stands) and resumed from when it
    exists, so a killed run continues from its last finished round with the result of an
    uninterrupted one. The caller names it after the recipe and deletes it once the noise is
    stored; a file that does not fit this run is reported and replaced.

    `ranks`: under torchrun, x, y (and valid, cutoffs_hz) are this rank's contiguous shard of
    the clips, in rank order, and the result is its shard's noise (core.noise.distributed).
    Sample-wise noise only; EOT and REM draw their transforms per rank, so several ranks make
    noise of the same kind as one process, not the same draws.

    `workspace`: where eps, the noise and the masking budget's power limit are kept on the CPU
    (core.workspace: memory, or memory-mapped files on disk when they do not fit); x (and
    valid) may be memory-mapped too. The result is the same.
    """
    device = x.device
    n_classes = n_classes if n_classes is not None else int(y.max()) + 1
    first, total = _shard_position(len(x), ranks)  # this shard's place among all clips
    if ranks.distributed and config.classwise:
        raise ValueError("class-wise noise runs in one process; launch it without torchrun")
    cpu_gen = torch.Generator().manual_seed(config.seed)
    eps = eps_in_batches(budget, x, workspace=workspace)
    if valid is not None:  # in place and in batches: an hour of windows is 230 MB a copy
        for lo in range(0, len(x), config.noise_batch_size):
            eps[lo : lo + config.noise_batch_size].masked_fill_(valid[lo : lo + config.noise_batch_size] == 0, 0.0)
    band: Band = budget.band_limit_hz
    if cutoffs_hz is not None:
        band = cutoffs_hz.to(device, torch.float64)
    limit = noise_power_limit(budget, x, workspace=workspace)
    shapes = _shapes(budget, limit)
    delta = workspace.tensor("delta", tuple(x.shape), device)
    if config.classwise:
        init = torch.rand((n_classes, x.shape[1]), generator=cpu_gen).mul_(2).sub_(1)
        class_delta = band_limit(init.to(device) * budget.eps_max, budget.band_limit_hz).clamp(-budget.eps_max, budget.eps_max)
        _clip_noise(class_delta, x, y, eps, band, shapes, config.noise_batch_size, delta)
    else:
        class_delta = None
        _fill_uniform(cpu_gen, delta, first, total)  # the rows of a one-process draw
        for lo in range(0, len(x), config.noise_batch_size):  # a batch at a time: temporaries stay small
            sl = slice(lo, lo + config.noise_batch_size)
            delta[sl] = project(delta[sl].mul_(2).sub_(1).mul_(eps[sl]), x[sl], eps[sl], _rows(band, sl))
    view_gen = torch.Generator().manual_seed(config.seed + 1)
    view = _views(
        _augmenting_view(model, n_classes, view_gen) if config.augment else None,
        adversarial_view(model, config.rem_radius, config.rem_steps) if config.rem_radius else None,
    )
    trained = model
    if ranks.distributed:  # gradients all-reduced by DDP; batch statistics over all ranks
        trained = nn.parallel.DistributedDataParallel(with_global_batchnorm(model))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    order = Batches(total, config.batch_size, cpu_gen)
    history: list[dict] = []
    state = Checkpoint(None if checkpoint is None else ranks.own(checkpoint), model, optimizer, order, {"cpu": cpu_gen, "view": view_gen})
    # every rank resumes, or none: one that started afresh would wait for the others forever
    resumed = state.load(delta, class_delta) if all(all_gather(state.exists(), ranks)) else None
    rounds = all_gather(None if resumed is None else len(resumed[2]), ranks)
    if len(set(rounds)) > 1:
        raise RuntimeError(f"the ranks' checkpoints ({checkpoint} per rank) hold rounds {rounds}; delete them to start afresh")
    if resumed is not None:
        delta, class_delta, history = resumed
    bar = tqdm(total=config.max_rounds, initial=len(history), desc="min-min rounds", unit="round", disable=not progress)
    start = time.perf_counter()
    finished = bool(history) and config.stops_after(history[-1])
    for round_index in range(len(history) + 1, 0 if finished else config.max_rounds + 1):
        model.train()
        for _ in range(0 if config.noise_first and round_index == 1 else config.train_steps):
            batch = next(order)
            idx = (batch[(batch >= first) & (batch < first + len(x))] - first).to(device)
            optimizer.zero_grad(set_to_none=True)
            inputs, targets = (x[idx] + delta[idx], y[idx]) if view is None else view(x[idx] + delta[idx], y[idx])
            if ranks.distributed:  # DDP averages over ranks: this makes it the global batch's mean
                loss = F.cross_entropy(trained(inputs), targets, reduction="sum") * (ranks.world / len(batch))
            else:
                loss = F.cross_entropy(trained(inputs), targets)
            loss.backward()
            optimizer.step()
        model.eval()
        model.requires_grad_(False)
        if config.classwise:
            class_delta = _classwise_round(model, x, y, eps, class_delta, budget.eps_max, band, budget.band_limit_hz, config, view, shapes)
            _clip_noise(class_delta, x, y, eps, band, shapes, config.noise_batch_size, delta)
        else:
            for lo in range(0, len(x), config.noise_batch_size):
                sl = slice(lo, lo + config.noise_batch_size)
                delta[sl] = descend(
                    model, x[sl], y[sl], delta[sl], eps[sl], config.step_fraction, config.steps, _rows(band, sl), view, shapes(sl)
                )
        accuracy = accuracy_on(model, x, y, config.noise_batch_size, delta)
        if ranks.distributed:
            accuracy = all_sum(torch.tensor(round(accuracy * len(x)), dtype=torch.float64)).item() / total
        model.requires_grad_(True)
        record = {"round": round_index, "accuracy": accuracy, "seconds": time.perf_counter() - start}
        history.append(record)
        state.save(delta, class_delta, history)
        if on_round is not None:
            on_round(record)
        bar.update(1)
        bar.set_postfix(accuracy=f"{accuracy:.3f}")
        if config.stops_after(record):
            break
    bar.close()
    if limit is not None:  # the finished noise gets the budget's thorough projection
        for lo in range(0, len(x), config.noise_batch_size):
            sl = slice(lo, lo + config.noise_batch_size)
            delta[sl] = project(delta[sl], x[sl], eps[sl], _rows(band, sl), shapes(sl, final=True))
    return MinMinResult(delta=delta.detach(), class_delta=class_delta, history=history)


def _shard_position(n: int, ranks: Ranks) -> tuple[int, int]:
    """(index of this rank's first clip among all ranks' clips, number of clips on all ranks)."""
    sizes = all_gather(n, ranks)
    return sum(sizes[: ranks.rank]), sum(sizes)


def _fill_uniform(generator: torch.Generator, out: torch.Tensor, lo: int, total: int) -> None:
    """Fill out [n, width] with rows lo..lo+n of the uniform [total, width] draw that one process
    makes from `generator`, leaving the generator where that draw leaves it: every row is drawn
    in chunks, those before and after dropped (a CPU generator's stream does not depend on the
    chunking; tested), so no full-size draw is ever held."""
    n, width = out.shape
    _skip_uniform(generator, lo, width)
    for start in range(0, n, 1024):
        out[start : start + 1024] = torch.rand((min(1024, n - start), width), generator=generator)
    _skip_uniform(generator, total - lo - n, width)


def _skip_uniform(generator: torch.Generator, rows: int, width: int) -> None:
    for start in range(0, rows, 1024):
        torch.rand((min(1024, rows - start), width), generator=generator)


def _augmenting_view(model: nn.Module, n_classes: int, generator: torch.Generator) -> View:
    """The augment thief's transforms (default settings) as a view, drawn from a generator of
    their own, so the batch order and noise init stay those of the same seed without them."""
    augment = TrainingAugment()
    augment.setup(model, generator)
    return lambda inputs, y: augment(model, inputs, y, n_classes, generator)


def _shapes(budget: Budget, limit: torch.Tensor | None) -> Callable[..., Shape | None]:
    """The budget's shape for the clips of a slice (None for budgets without one, whose
    noise_power_limit is None); final=True: the thorough projection of the finished noise."""

    def for_slice(sl: slice, final: bool = False) -> Shape | None:
        return None if limit is None else partial(budget.shape, limit=limit[sl], final=final)

    return for_slice


def _clip_noise(
    class_delta: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: torch.Tensor,
    band: Band,
    shapes: Callable[..., Shape | None],
    batch: int,
    out: torch.Tensor,
) -> None:
    """Each clip's noise (into `out`) from its class's delta: projected onto its own eps(x, t),
    band and (for a masking budget) its own masking threshold, a batch at a time."""
    for lo in range(0, len(x), batch):
        sl = slice(lo, lo + batch)
        out[sl] = project(class_delta[y[sl]], x[sl], eps[sl], _rows(band, sl), shapes(sl))


def _rows(band: Band, sl: slice) -> Band:
    """The band limit of a batch: per-clip cut-offs sliced, a single one as is."""
    return band[sl] if isinstance(band, torch.Tensor) else band


def adversarial_view(model: nn.Module, radius: float, steps: int) -> View:
    """REM's inner maximisation as a view: (x + delta + r, y) with r a PGD perturbation,
    |r| <= radius, that raises the loss (and keeps the input inside [-1, 1]). r is computed
    on a detached copy and added as a constant, so gradients reach delta (and the weights)
    through x + delta itself: min-min-max."""

    def view(inputs: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        base = inputs.detach()
        step = 2.5 * radius / steps  # Madry et al.'s step: lets PGD reach the boundary
        r = torch.zeros_like(base)
        for _ in range(steps):
            r.requires_grad_(True)
            (grad,) = torch.autograd.grad(F.cross_entropy(model(base + r), y), r)
            r = ((base + (r.detach() + step * grad.sign()).clamp(-radius, radius)).clamp(-1.0, 1.0) - base).detach()
        return inputs + r, y

    return view


def _views(*views: View | None) -> View | None:
    """The given views applied in order (None: none given)."""
    chosen = [v for v in views if v is not None]
    if not chosen:
        return None

    def view(inputs: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for v in chosen:
            inputs, y = v(inputs, y)
        return inputs, y

    return view


def _classwise_round(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: torch.Tensor,
    class_delta: torch.Tensor,
    eps_max: float,
    band: Band,
    class_band_hz: float | None,
    config: MinMinConfig,
    view: View | None,
    shapes: Callable[..., Shape | None],
) -> torch.Tensor:
    """One pass of class-wise updates: each batch moves every class's delta by the sign of
    its gradient summed over that class's clips. A class delta is band-limited by the
    budget's `class_band_hz` and bounded by eps_max; each clip sees it projected onto its own
    eps(x, t), band and shape (the gradient flows through that projection), then through
    `view` (EOT, REM) as in `descend`."""
    step = config.step_fraction * eps_max
    for lo in range(0, len(x), config.noise_batch_size):
        sl = slice(lo, lo + config.noise_batch_size)
        xb, yb, eb = x[sl], y[sl], eps[sl]
        for _ in range(config.steps):
            class_delta.requires_grad_(True)
            inputs, targets = xb + project(class_delta[yb], xb, eb, _rows(band, sl), shapes(sl)), yb
            if view is not None:
                inputs, targets = view(inputs, targets)
            loss = F.cross_entropy(model(inputs), targets)
            (grad,) = torch.autograd.grad(loss, class_delta)
            class_delta = band_limit(class_delta.detach() - step * grad.sign(), class_band_hz).clamp(-eps_max, eps_max)
    return class_delta


class Batches:
    """Endless seeded shuffled batches of indices (CPU); the last short batch is kept. Its
    state (the current permutation and the position in it) can be saved and restored."""

    def __init__(self, n: int, batch_size: int, generator: torch.Generator) -> None:
        self.n, self.batch_size, self.generator = n, batch_size, generator
        self.perm: torch.Tensor | None = None
        self.position = 0

    def __next__(self) -> torch.Tensor:
        if self.perm is None or self.position >= self.n:
            self.perm, self.position = torch.randperm(self.n, generator=self.generator), 0
        batch = self.perm[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return batch

    def state_dict(self) -> dict[str, Any]:
        return {"perm": self.perm, "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.perm, self.position = state["perm"], state["position"]


@dataclass
class Checkpoint:
    """A generation's state after each round in `path` (None: no checkpointing), written
    atomically, so a kill leaves the last finished round."""

    path: Path | None
    model: nn.Module
    optimizer: torch.optim.Optimizer
    order: Batches
    generators: dict[str, torch.Generator]

    def save(self, delta: torch.Tensor, class_delta: torch.Tensor | None, history: list[dict]) -> None:
        if self.path is None:
            return
        state = {
            "format": 1,
            "delta": delta.cpu(),
            "class_delta": None if class_delta is None else class_delta.cpu(),
            "history": history,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "order": self.order.state_dict(),
            "generators": {k: g.get_state() for k, g in self.generators.items()},
            "torch_rng": torch.get_rng_state(),
        }
        with atomic_path(self.path) as tmp:
            torch.save(state, tmp)

    def exists(self) -> bool:
        return self.path is not None and self.path.is_file()

    def load(
        self, delta: torch.Tensor, class_delta: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None, list[dict]] | None:
        """(delta, class_delta, history) from the checkpoint, delta copied into the given one and
        the model, optimizer, batch order and generators restored in place; None when there is
        none to resume (or it does not fit). The file is memory-mapped, not read whole."""
        if not self.exists():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True, mmap=True)
            if state.get("format") != 1 or state["delta"].shape != delta.shape:
                raise ValueError(f"delta {tuple(state['delta'].shape)} does not fit {tuple(delta.shape)}")
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError, EOFError, pickle.UnpicklingError) as err:
            tqdm.write(f"min-min: checkpoint {self.path} cannot be resumed ({err}); starting afresh", file=sys.stderr)
            return None
        self.order.load_state_dict(state["order"])
        for key, generator in self.generators.items():
            generator.set_state(state["generators"][key])
        torch.set_rng_state(state["torch_rng"])
        tqdm.write(f"min-min: resuming after round {len(state['history'])} from {self.path}", file=sys.stderr)
        saved_class = state["class_delta"]
        delta.copy_(state["delta"])  # from the mapped file: nothing but delta is filled
        return delta, None if saved_class is None else saved_class.to(delta), state["history"]
