"""python -m bench.generate --config NAME: make a config's noise (every member's, for a matrix)
into the bench's cache, where `python -m bench --config NAME` then finds it.

Under torchrun the clips are split across the processes (core.noise.distributed):
    torchrun --nproc-per-node 4 -m bench.generate --config thieves --data-root DIR
Alone it is the generation step of a bench run, nothing more.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from bench.__main__ import overrides_from
from bench.cache import Cache
from bench.config import load_config
from bench.data import data_fingerprint, load_split
from bench.matrix import member_configs
from bench.run import log_line, noise_for
from core.budgets import budget_from_dict
from core.device import pick_device
from core.noise.distributed import init_ranks


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, help="config name in bench/configs or a TOML file")
    p.add_argument("--data-root", help="Speech Commands root to use instead of the config's data")
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda")
    p.add_argument("--out", default="runs", help="output root whose cache/ receives the noise (default: runs)")
    p.add_argument("--quick", action="store_true", help="smoke run on a tiny slice")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(seeds=None, victims=None, epochs=None)  # the victims' overrides: no victims here
    args = p.parse_args(argv)
    try:
        overrides = overrides_from(args)
        cfg = load_config(args.config, overrides)
        configs = [c for c in (member_configs(cfg, overrides) if cfg.matrix else [cfg]) if c.has_noise]
        if not configs:
            raise ValueError(f"config {cfg.name!r} has no noise budget; nothing to generate")
        device = pick_device(args.device)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with init_ranks(device) as ranks:
        device = ranks.device(device)
        log = log_line if ranks.rank == 0 else (lambda message: None)
        progress = not args.no_progress and ranks.rank == 0
        torch.set_flush_denormal(True)  # denormal input gradients once tripled a min-min step on CPU
        cache = Cache(Path(args.out) / "cache")
        log(f"config {cfg.name} on {device}, {ranks.world} process(es)")
        for member in configs:
            train, test = load_split(member.data, progress=progress)
            start = time.perf_counter()
            _, meta = noise_for(member, budget_from_dict(member.budget), train, data_fingerprint(train, test), cache, device, progress, log, ranks)
            log(f"{member.name}: noise {meta['keys'][0]} for {len(train)} clips, {meta['rounds']} rounds, {time.perf_counter() - start:.1f} s")
    return ranks.exit_code(0)


if __name__ == "__main__":
    sys.exit(main())
