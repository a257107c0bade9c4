"""python -m core protect IN_DIR OUT_DIR --config NAME_OR_FILE: protected copies of a class-folder dataset."""

from __future__ import annotations

import argparse
import sys

from core.device import pick_device


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m core", description=__doc__)
    commands = p.add_subparsers(dest="command", required=True)
    protect = commands.add_parser(
        "protect",
        help="write a protected copy of every audio file under IN_DIR to OUT_DIR",
        description="Add min-min noise to every audio file under IN_DIR (one folder per class) and write "
        "the copies, same paths and formats, to OUT_DIR with a manifest.csv. A rerun reuses the noise.",
    )
    protect.add_argument("in_dir", metavar="IN_DIR", help="input folder: IN_DIR/<class>/**/<audio file>")
    protect.add_argument("out_dir", metavar="OUT_DIR", help="output folder (outside IN_DIR)")
    protect.add_argument("--config", required=True, help="config name in bench/configs or a TOML file")
    protect.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="auto: CUDA if present")
    protect.add_argument("--no-progress", action="store_true", help="no progress bars")
    protect.add_argument("--no-perceptual", action="store_true", help="skip PESQ-WB and STOI in the manifest")
    return p.parse_args(argv)


def run_protect(args: argparse.Namespace) -> int:
    # The configs live in bench/configs; imported here so core does not depend on bench otherwise.
    from bench.config import load_config
    from core.budgets import budget_from_dict
    from core.protect import protect_folder

    cfg = load_config(args.config)
    if not cfg.has_noise:
        raise ValueError(f"config {cfg.name!r} has no noise budget; expected a config with a [budget] table")
    device = pick_device(args.device)
    print(f"config {cfg.name} ({cfg.hash()}) on {device}", file=sys.stderr)
    summary = protect_folder(
        args.in_dir,
        args.out_dir,
        budget_from_dict(cfg.budget),
        cfg.generation.minmin(),
        surrogate=cfg.generation.surrogate,
        device=device,
        progress=not args.no_progress,
        perceptual=not args.no_perceptual,
    )
    print(summary)
    return 1 if summary.failed else 0  # skipped (unreadable) inputs are not failures; unwritable outputs are


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run_protect(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
