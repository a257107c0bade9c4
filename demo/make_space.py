"""python -m demo.make_space OUT_DIR: lay out a Hugging Face Space from this repository.

A Space runs `app.py` from its own root and reads its front matter from the root README.md,
but the demo imports `core`, `bench`, `leaderboard` and `demo` as packages. So the Space is
the repository's packages side by side, plus three root files:

    OUT_DIR/app.py            a two-line entry point that calls demo.app.main()
    OUT_DIR/README.md         demo/README.md (the Space front matter and this layout)
    OUT_DIR/requirements.txt  demo/requirements.txt
    OUT_DIR/core, bench, leaderboard, demo   copied, without caches (the embedded Speech
                              Commands sample, 17 MB, comes along: "See it work" trains on it)

Nothing is downloaded when the Space starts: the surrogate, the examples and the See-it-work
noise are files in core/assets/ and demo/assets/.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "bench", "leaderboard", "demo")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc")
ENTRY_POINT = '''"""Hugging Face Space entry point, written by demo/make_space.py: the app in demo/app.py."""

import sys

from demo.app import main

sys.exit(main([]))
'''


def make_space(out_dir: Path, repo_root: Path = REPO_ROOT) -> list[Path]:
    """Write the Space into `out_dir` (absent or empty); returns the top-level paths written."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValueError(f"output folder {out_dir} is not empty; expected a new or empty folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for package in PACKAGES:
        shutil.copytree(repo_root / package, out_dir / package, ignore=SKIP)
        written.append(out_dir / package)
    for source, target in (("demo/README.md", "README.md"), ("demo/requirements.txt", "requirements.txt")):
        shutil.copyfile(repo_root / source, out_dir / target)
        written.append(out_dir / target)
    (out_dir / "app.py").write_text(ENTRY_POINT, encoding="utf-8")
    written.append(out_dir / "app.py")
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m demo.make_space", description=__doc__.splitlines()[0])
    p.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="new or empty folder for the Space")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        for path in make_space(args.out_dir):
            print(path)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
