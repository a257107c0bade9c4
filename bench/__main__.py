"""python -m bench --config NAME: score a configuration; --list; --compare RUN_DIR|NAME ..."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from bench.cache import Cache
from bench.config import config_path, list_configs, load_config, read_merged
from bench.report import compare_markdown, provenance

QUICK = {
    "data": {"max_train_per_class": 8, "max_test_per_class": 4},
    "generation": {"steps": 2, "train_steps": 2, "min_rounds": 1, "max_rounds": 1},
    "victims": {"epochs": 1, "seeds": [0]},
    "metrics": {"max_perceptual_clips": 4, "examples": 2},
}
"""--quick: a smoke run on a few clips per class (seconds, not minutes; no meaningful figures)."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--config", help="config name in bench/configs or a TOML file")
    what.add_argument("--list", action="store_true", help="list the configs")
    what.add_argument("--compare", nargs="+", metavar="RUN", help="run folders or config names (latest run)")
    p.add_argument("--data-root", help="Speech Commands root to use instead of the config's data")
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:1, ...")
    p.add_argument("--seeds", help="victim seeds, comma-separated, e.g. 0,1,2")
    p.add_argument("--victims", help="victim models, comma-separated, e.g. m5,bc_resnet")
    p.add_argument("--epochs", type=int, help="victim epochs")
    p.add_argument("--out", default="runs", help="output root (default: runs)")
    p.add_argument("--quick", action="store_true", help="smoke run on a tiny slice")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument(
        "--cached-only",
        action="store_true",
        help="train and generate nothing: report what the cache holds, leave the other cells empty and list them",
    )
    p.add_argument(
        "--archive",
        metavar="DIR",
        help="also read finished victims from DIR and keep every victim this run reads or trains there "
        "(bench/results/cells holds the thief matrix's)",
    )
    return p.parse_args(argv)


def overrides_from(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Only what was given on the command line."""
    over: dict[str, dict[str, Any]] = {}
    if args.quick:
        over = {k: dict(v) for k, v in QUICK.items()}
    if args.data_root:
        over.setdefault("data", {}).update(source="speech_commands", root=args.data_root)
    if args.seeds:
        try:
            seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        except ValueError:
            raise ValueError(f"--seeds must be comma-separated integers, got {args.seeds!r}") from None
        over.setdefault("victims", {})["seeds"] = seeds
    if args.victims:
        over.setdefault("victims", {})["models"] = [m.strip() for m in args.victims.split(",") if m.strip()]
    if args.epochs is not None:
        over.setdefault("victims", {})["epochs"] = args.epochs
    return over


def latest_run(out_root: Path, name: str) -> Path:
    runs = sorted(p for p in (out_root / name).glob("*") if (p / "results.json").is_file())
    if not runs:
        raise ValueError(f"no finished run of {name!r} under {out_root}")
    return runs[-1]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out_root = Path(args.out)
    try:
        if args.list:
            for name in list_configs():
                print(f"{name:<24} {read_merged(config_path(name)).get('description', '')}")
            return 0
        if args.compare:
            runs = []
            for item in args.compare:
                run_dir = Path(item) if Path(item, "results.json").is_file() else latest_run(out_root, item)
                runs.append((run_dir.parent.name + "/" + run_dir.name, json.loads((run_dir / "results.json").read_text())))
            print(compare_markdown(runs))
            return 0
        return run_config(args, out_root)
    except (ValueError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def run_config(args: argparse.Namespace, out_root: Path) -> int:
    # Imported here so --list and --compare stay fast.
    from bench.matrix import run_matrix
    from bench.output import new_run_dir, write_matrix, write_run
    from bench.run import run
    from core.device import pick_device

    overrides = overrides_from(args)
    cfg = load_config(args.config, overrides)
    device = pick_device(args.device)
    command = "python -m bench " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if args.config else []))
    print(f"config {cfg.name} ({cfg.hash()}) on {device}")
    cache = Cache(out_root / "cache", archive=args.archive)
    if cfg.matrix:
        results = run_matrix(cfg, cache, device, overrides, progress=not args.no_progress, cached_only=args.cached_only)
        results.update(provenance=provenance(), command=command)
        run_dir = new_run_dir(out_root, cfg.name)
        write_matrix(run_dir, results, command)
    else:
        output = run(cfg, cache, device, progress=not args.no_progress, cached_only=args.cached_only)
        absent = (output.results["generation"] or {}).get("absent")
        if absent and not any(output.results["victims"].values()):  # nothing to report (a matrix member may be all empty cells)
            raise ValueError(f"{cfg.name}: neither its noise nor any of its victims is in the cache {cache.root}; make the noise first: {absent}")
        output.results.update(provenance=provenance(), command=command)
        run_dir = new_run_dir(out_root, cfg.name)
        write_run(run_dir, output, command)
    print((run_dir / "summary.md").read_text())
    print(f"wrote {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
