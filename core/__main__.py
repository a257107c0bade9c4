"""python -m core protect IN_DIR OUT_DIR --config NAME_OR_FILE: protected copies of a class-folder dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.budgets import Budget, budget_from_dict
from core.config import config_path, from_dict, read_merged
from core.device import pick_device
from core.noise.distributed import init_ranks
from core.noise.recipe import GenerationConfig
from core.protect import WORK_MODES, protect_folder


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
    protect.add_argument(
        "--work",
        default="auto",
        choices=WORK_MODES,
        help="where min-min keeps its arrays (272 KB per second of audio): memory, memory-mapped files in "
        "OUT_DIR/.protect/work, or auto (disk when memory would not hold them)",
    )
    return p.parse_args(argv)


RECIPES_DIR = Path(__file__).resolve().parents[1] / "bench" / "configs"
"""The shipped recipes, named by `--config` (TOML data, read with core.config: core imports
no bench code). A recipe's [budget] and [generation] tables are what protect uses."""


def read_recipe(name_or_file: str) -> tuple[str, Budget, GenerationConfig]:
    """(name, budget, generation settings) of a recipe: a name in RECIPES_DIR or a TOML file.
    ValueError, naming the key, for a bad one or one without a noise budget."""
    path = config_path(name_or_file, RECIPES_DIR)
    data = read_merged(path)
    spec = data.get("budget") or {}
    if not spec or spec.get("kind") == "none":
        raise ValueError(f"config {path.stem!r} has no noise budget; expected a config with a [budget] table")
    return path.stem, budget_from_dict(spec), from_dict(GenerationConfig, data.get("generation", {}), "generation.")


def run_protect(args: argparse.Namespace) -> int:
    name, budget, generation = read_recipe(args.config)
    device = pick_device(args.device)
    ranks = init_ranks(device)  # several processes under torchrun (core.noise.distributed)
    device = ranks.device(device)
    if ranks.rank == 0:
        print(f"config {name} ({budget.to_dict()['kind']} budget, {generation.surrogate} surrogate) on {device}"
              + (f", {ranks.world} processes" if ranks.distributed else ""), file=sys.stderr)
    with ranks:
        summary = protect_folder(
            args.in_dir,
            args.out_dir,
            budget,
            generation.minmin(),
            surrogate=generation.surrogate,
            device=device,
            progress=not args.no_progress,
            perceptual=not args.no_perceptual,
            ranks=ranks,
            work=args.work,
        )
    if ranks.rank == 0:
        print(summary)
    return ranks.exit_code(1 if summary.failed else 0)  # skipped (unreadable) inputs are not failures; unwritable outputs are


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run_protect(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
