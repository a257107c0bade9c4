"""python -m leaderboard submit FILE | rescore NAME | seeds NAME|FILE | validate FILE | verify | show | render  (see README.md)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from core.atomic import write_text_atomic
from leaderboard.entries import LEADERBOARD_ROOT, submissions_dir, valid_entries
from leaderboard.protocol import DEFAULT_CACHE, QUICK
from leaderboard.ranking import render_markdown
from leaderboard.render import write_tables
from leaderboard.submission import load_submission
from leaderboard.verify import verify


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m leaderboard", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("submit", help="validate, score by the protocol, write the entry, re-render")
    s.add_argument("file", help="the submission TOML file")
    add_scoring_args(s, cache_help="bench cache folder (default: runs/cache)")
    r = sub.add_parser("rescore", help="score an entry again (cold by default) and compare; writes nothing")
    r.add_argument("name", help="the entry's name (entries/NAME.json)")
    add_scoring_args(r, cache_help="bench cache folder to reuse (default: a fresh temporary one, so all is recomputed)")
    r.add_argument("--tolerance", type=float, default=0.0, help="absolute tolerance per figure (default 0: identical)")
    d = sub.add_parser("seeds", help="score a submission at several seeds to see how much its rank is luck; writes nothing")
    d.add_argument("target", help="an entry's name (submissions/NAME.toml) or a submission file")
    d.add_argument("--seeds", default="0-3", help="seeds in place of the protocol's 0: 0,1,2 or 0-3 (default 0-3)")
    add_scoring_args(d, cache_help="bench cache folder (default: runs/cache, so seed 0 reuses the entry's runs)")
    d.add_argument("--json", type=Path, help="also write the figures to this JSON file (must not exist yet)")
    v = sub.add_parser("validate", help="check a submission file without scoring it")
    v.add_argument("file")
    sub.add_parser("verify", help="check entries, submissions and rendered tables agree")
    sub.add_parser("show", help="print the ranked table")
    sub.add_parser("render", help="rewrite LEADERBOARD.md and leaderboard.csv from the entries")
    for parser in sub.choices.values():
        parser.add_argument("--root", type=Path, help="leaderboard folder (default: this package's folder)")
    return p.parse_args(argv)


def add_scoring_args(parser: argparse.ArgumentParser, cache_help: str) -> None:
    """The options of every command that runs the protocol."""
    parser.add_argument("--data-root", help="the 10-word Speech Commands folder (default: found as core.data.ten_words says)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:1, ...")
    parser.add_argument("--cache", help=cache_help)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--quick", action="store_true", help=argparse.SUPPRESS)  # smoke tests only


def scoring_options(args: argparse.Namespace, cache: Path | None) -> dict:
    """Keyword arguments of submit / rescore / spread from the options of add_scoring_args."""
    return {
        "data_root": args.data_root,
        "overrides": QUICK if args.quick else None,
        "device": args.device,
        "cache_dir": cache,
        "progress": not args.no_progress,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "submit":
            return cmd_submit(args)
        if args.command == "rescore":
            return cmd_rescore(args)
        if args.command == "seeds":
            return cmd_seeds(args)
        if args.command == "validate":
            submission, _ = load_submission(args.file)
            print(f"{args.file}: valid submission {submission.name!r} ({submission.budget['kind']} budget)")
            return 0
        root = args.root or LEADERBOARD_ROOT
        if args.command == "verify":
            problems = verify(root)
            for problem in problems:
                print(problem, file=sys.stderr)
            print(f"{root}: {'OK' if not problems else f'{len(problems)} mismatch(es)'}", file=sys.stderr)
            return 1 if problems else 0
        if args.command == "show":
            print(render_markdown(valid_entries(root)), end="")
            return 0
        write_tables(root)
        print(f"rendered {root}/LEADERBOARD.md and leaderboard.csv")
        return 0
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def cmd_submit(args: argparse.Namespace) -> int:
    from leaderboard.submit import submit  # imports the bench (torch) only when scoring

    root = args.root or LEADERBOARD_ROOT
    cache = Path(args.cache) if args.cache else DEFAULT_CACHE
    if args.quick:
        if root.resolve() == LEADERBOARD_ROOT:
            if args.root:
                raise ValueError("--quick entries never go into the real leaderboard; pass another --root")
            root = Path(tempfile.mkdtemp(prefix="leaderboard-quick-"))
        cache = Path(args.cache) if args.cache else root / "cache"
    path = submit(args.file, root, **scoring_options(args, cache))
    print(f"wrote {path}; re-rendered {root}/LEADERBOARD.md and leaderboard.csv")
    return 0


def cmd_rescore(args: argparse.Namespace) -> int:
    from leaderboard.submit import rescore

    root = args.root or LEADERBOARD_ROOT
    cache = Path(args.cache) if args.cache else None
    new, differences = rescore(args.name, root, tolerance=args.tolerance, **scoring_options(args, cache))
    print(f"rescored {args.name} in {new['scoring_seconds']:.0f} s on {new['device']}"
          f" ({'cache ' + args.cache if args.cache else 'cold, fresh cache'})")
    for line in differences:
        print(f"  differs: {line}")
    tolerance = f"within {args.tolerance}" if args.tolerance else "identically"
    print(f"{args.name}: {'reproduced ' + tolerance if not differences else f'{len(differences)} figure(s) differ'}")
    return 1 if differences else 0


def cmd_seeds(args: argparse.Namespace) -> int:
    from leaderboard.seeds import parse_seeds, render_spread, spread

    seeds = parse_seeds(args.seeds)
    if args.json is not None and args.json.exists():
        raise ValueError(f"{args.json} exists; refusing to overwrite it")
    target = Path(args.target)
    if not target.is_file():
        target = submissions_dir(args.root or LEADERBOARD_ROOT) / f"{args.target}.toml"
        if not target.is_file():
            raise ValueError(f"{args.target!r} is neither a submission file nor a submission in {target.parent}")
    submission, raw = load_submission(target)
    with tempfile.TemporaryDirectory(prefix="leaderboard-seeds-") as tmp:
        # a quick (smoke-test) run never touches the real cache
        cache = Path(args.cache) if args.cache else (Path(tmp) if args.quick else None)
        result = spread(submission, raw, seeds, **scoring_options(args, cache))
    print(render_spread(result), end="")
    if args.json is not None:
        write_text_atomic(args.json, json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
