"""python -m core.data fetch speech-commands-10: build the leaderboard's data from the official archive."""

from __future__ import annotations

import argparse
import sys

from core.data.ten_words import TEN_WORDS_URL, cache_root, fetch_ten_words

DATASETS = ("speech-commands-10",)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m core.data", description=__doc__.splitlines()[0])
    commands = p.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch", help="download and check a dataset")
    fetch.add_argument("dataset", choices=DATASETS)
    fetch.add_argument("--dest", default=None, help=f"target folder (default {cache_root()})")
    fetch.add_argument("--url", default=TEN_WORDS_URL, help="the archive (default: the official one)")
    fetch.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        dest = fetch_ten_words(args.dest, args.url, progress=not args.no_progress)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"the 10-word set is in {dest}; the leaderboard finds it there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
