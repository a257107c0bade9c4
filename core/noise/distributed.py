"""Min-min over several processes, launched by PyTorch's own `torchrun`: each rank holds a
contiguous shard of the clips, the surrogate trains with DistributedDataParallel (Gloo on
the CPU, NCCL on GPUs) and each rank updates the noise of its own clips.

What makes several ranks compute what one process computes (up to the order of floating-point
sums): every rank draws the same global batch order and keeps the part it holds; the loss is
each rank's summed cross-entropy over the *global* batch size, so DDP's average of the ranks'
gradients is one process's mean; and batch normalisation takes its statistics over the
global batch (`GlobalBatchNorm`: torch's SyncBatchNorm runs on GPUs only). The noise steps
run the surrogate in eval mode, clip by clip, so they need no communication at all.

Launch (one machine, 4 processes; several machines: torchrun's --nnodes, --node-rank and
--rdzv-endpoint, see https://pytorch.org/docs/stable/elastic/run.html):
    torchrun --nproc-per-node 4 -m core protect IN_DIR OUT_DIR --config dynamic_013
    torchrun --nproc-per-node 4 -m bench.generate --config dynamic_013
"""

from __future__ import annotations

import bisect
import os
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from core.workspace import IN_MEMORY, Workspace

T = TypeVar("T")

TIMEOUT = timedelta(hours=6)
"""How long a rank waits at a collective: longer than the slowest step a rank can take alone
(rank 0 writing the noise file, a large shard's last round)."""


@dataclass(frozen=True)
class Ranks:
    """This process's place among the processes that share one generation."""

    rank: int = 0
    world: int = 1

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def share(self, weights: list[float]) -> slice:
        """This rank's contiguous run of items whose weights (e.g. seconds of audio) add up to
        about 1/world of the total: rank r starts at the first item with at least r/world of
        the total weight before it."""
        before = [0.0]
        for w in weights:
            before.append(before[-1] + w)
        starts = [bisect.bisect_left(before, before[-1] * r / self.world) for r in range(self.world)]
        starts = [min(s, len(weights)) for s in starts] + [len(weights)]
        return slice(starts[self.rank], starts[self.rank + 1])

    def own(self, path: Path) -> Path:
        """This rank's file for what every rank keeps of its own (a min-min checkpoint): `path`
        itself in one process, `<stem>.rank<r>of<w><suffix>` beside it under torchrun."""
        return path.with_name(f"{path.stem}.rank{self.rank}of{self.world}{path.suffix}") if self.distributed else path

    def barrier(self) -> None:
        """Wait for every rank (nothing to wait for in one process)."""
        if self.distributed:
            dist.barrier()

    def close(self, failed: bool = False) -> None:
        """Leave the process group, as torch asks of every process that joined one.

        After a success every rank first waits for all the others, so that none tears down its
        connections while a peer is still finishing the last collective. After a failure a rank
        leaves at once: the others may wait in a collective it will never join, and torchrun
        stops them when it exits."""
        if self.distributed and dist.is_initialized():
            if not failed:
                dist.barrier()
            dist.destroy_process_group()

    def exit_code(self, code: int) -> int:
        """`code` for a single process to return; under torchrun the process ends here with it.

        Gloo's worker threads release each finished collective's tensors a moment after the
        collective returns, and that needs the GIL. If the interpreter is shutting down by then,
        the thread is killed inside a destructor and the process aborts ("terminate called
        without an active exception", SIGABRT) after all its work is done: 5 in 70 three-process
        `core protect` runs here (core/noise/FINDINGS.md). Ending with os._exit skips
        that shutdown; everything was written and closed before, and stdout and stderr are
        flushed here."""
        if not self.distributed:
            return code
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def __enter__(self) -> Ranks:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.close(failed=kind is not None)

    def device(self, device: torch.device) -> torch.device:
        """A CUDA device without an index becomes this rank's own (torchrun's LOCAL_RANK)."""
        if self.distributed and device.type == "cuda" and device.index is None:
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", self.rank)))
        return device


def init_ranks(device: torch.device) -> Ranks:
    """The ranks torchrun started (WORLD_SIZE, RANK), the process group joined (NCCL for CUDA,
    Gloo otherwise); a single process without torchrun's variables is Ranks()."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Ranks()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=TIMEOUT)
    return Ranks(dist.get_rank(), dist.get_world_size())


def all_sum(value: torch.Tensor) -> torch.Tensor:
    """The sum over ranks of a tensor (a copy; every rank gets it)."""
    total = value.clone()
    dist.all_reduce(total)
    return total


def all_gather(value: T, ranks: Ranks) -> list[T]:
    """Every rank's (picklable, small) value in rank order, on every rank."""
    if not ranks.distributed:
        return [value]
    values: list[Any] = [None] * ranks.world
    dist.all_gather_object(values, value)
    return values


def all_merged(mapping: dict[str, T], ranks: Ranks) -> dict[str, T]:
    """Every rank's (small) dict merged, in rank order, on every rank."""
    return {k: v for part in all_gather(mapping, ranks) for k, v in part.items()}


GATHER_ROWS = 256
"""Rows each rank sends per step of `gather_rows` (256 one-second windows: 16 MB a rank)."""


def gather_rows(
    shard: torch.Tensor, ranks: Ranks, workspace: Workspace = IN_MEMORY, chunk: int = GATHER_ROWS
) -> torch.Tensor | None:
    """Every rank's rows [n_r, ...] concatenated in rank order, on rank 0 (CPU, in an array from
    `workspace`: memory-mapped on disk when the noise would not fit); None on the other ranks.
    Sent `chunk` rows at a time, so beside the result no rank holds more than its own rows and
    one chunk from each rank. Gloo gathers equal sizes only, so chunks are zero-padded."""
    if not ranks.distributed:
        return shard
    sizes = all_gather(shard.shape[0], ranks)
    starts = [sum(sizes[:r]) for r in range(ranks.world)]
    rest = tuple(shard.shape[1:])
    out = workspace.tensor("gathered", (sum(sizes), *rest), torch.device("cpu"), shard.dtype) if ranks.rank == 0 else None
    for lo in range(0, max(sizes), chunk):
        rows = shard[lo : lo + chunk]
        padded = torch.zeros((chunk, *rest), dtype=shard.dtype)
        padded[: len(rows)] = rows.cpu()
        parts = [torch.empty_like(padded) for _ in range(ranks.world)] if out is not None else None
        dist.gather(padded, parts, dst=0)
        for r, part in enumerate(parts or []):
            k = min(max(sizes[r] - lo, 0), chunk)
            out[starts[r] + lo : starts[r] + lo + k] = part[:k]
    return out


class _SumOverRanks(torch.autograd.Function):
    """All-reduce (sum) that gradients pass through: d(sum over ranks)/d(own) is the sum of
    the ranks' upstream gradients. (torch.distributed.nn.functional.all_reduce did this; it is
    deprecated.)"""

    @staticmethod
    def forward(ctx, value: torch.Tensor) -> torch.Tensor:
        return all_sum(value)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return all_sum(grad)


class GlobalBatchNorm(_BatchNorm):
    """Batch normalisation whose training statistics are those of the batch over all ranks
    (sums all-reduced, differentiably), so a rank's share of a batch is normalised as one
    process would normalise the whole. Eval mode is plain batch normalisation. Parameter and
    buffer names are those of the layer it replaces, so state dicts are interchangeable."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2-D input (batch, channels, ...), got {input.dim()}-D")

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(input)
        # One all-reduce per layer (they cost milliseconds each over Gloo): the sums of
        # x - c and (x - c)^2 and the count, where c, the running mean, is the same on every
        # rank and near the batch mean, so var = E[(x-c)^2] - E[x-c]^2 loses no precision.
        dims, shape = [0, *range(2, input.dim())], [1, -1] + [1] * (input.dim() - 2)
        centre = self.running_mean.detach() if self.track_running_stats else input.new_zeros(input.shape[1])
        shifted = input - centre.view(shape)
        count = input.new_full((1,), input.numel() // input.shape[1])
        sums = _SumOverRanks.apply(torch.cat([shifted.sum(dims), shifted.square().sum(dims), count]))
        n = sums[-1].detach()
        shift_mean = sums[: input.shape[1]] / n
        var = sums[input.shape[1] : -1] / n - shift_mean.square()
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                self.running_mean.lerp_(centre + shift_mean, self.momentum)
                self.running_var.lerp_(var * n / (n - 1).clamp(min=1), self.momentum)
        out = (shifted - shift_mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        return out * self.weight.view(shape) + self.bias.view(shape) if self.affine else out


def with_global_batchnorm(model: nn.Module) -> nn.Module:
    """`model` with every batch-norm layer replaced, in place, by a GlobalBatchNorm holding the
    same parameters and running statistics."""
    for name, child in model.named_children():
        if isinstance(child, _BatchNorm) and not isinstance(child, GlobalBatchNorm):
            if child.momentum is None:
                raise ValueError(f"{name}: batch norm with a cumulative average (momentum=None) is not supported")
            new = GlobalBatchNorm(child.num_features, child.eps, child.momentum, child.affine, child.track_running_stats)
            new.load_state_dict(child.state_dict())
            setattr(model, name, new.to(next(child.buffers(), torch.empty(0)).device))
        else:
            with_global_batchnorm(child)
    return model
