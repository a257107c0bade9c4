"""The Space layout: root entry point, front matter, requirements and the packages it imports."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import gradio as gr
import pytest

from demo.make_space import main, make_space

REPO = Path(__file__).resolve().parents[2]


def front_matter(readme: Path) -> dict[str, str]:
    head = readme.read_text(encoding="utf-8").split("---\n")[1]
    return dict(line.split(": ", 1) for line in head.splitlines())


def test_front_matter_names_the_installed_gradio_and_the_root_entry_point() -> None:
    meta = front_matter(REPO / "demo" / "README.md")
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py"
    assert meta["sdk_version"] == gr.__version__
    assert f"gradio=={gr.__version__}" in (REPO / "demo" / "requirements.txt").read_text().split()


def test_the_space_requires_every_dependency_of_the_project() -> None:
    """The Space installs only demo/requirements.txt: each of pyproject's dependencies must be
    there, with the same bound (a missing one broke the Space at import: `av`)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = {line.strip() for line in (REPO / "demo" / "requirements.txt").read_text().splitlines()}
    missing = [d for d in project if d not in lines and not d.startswith("torch")]
    assert missing == [] and "torch==2.13.0" in lines


def test_space_imports_its_own_copies_of_the_packages(tmp_path: Path) -> None:
    space = tmp_path / "space"
    make_space(space)
    assert (space / "app.py").is_file() and (space / "requirements.txt").is_file()
    assert front_matter(space / "README.md")["app_file"] == "app.py"
    assert (space / "core" / "assets" / "surrogate_m5.pt").is_file()
    assert len(list((space / "core" / "data" / "embedded").rglob("*.flac"))) == 1040  # See it work trains on it
    assert not list(space.rglob("__pycache__"))
    # Where a Python started in the Space's root finds each module (found, not executed:
    # importing gradio and torch would take seconds; the browser test runs the app itself).
    names = ("core", "bench", "leaderboard", "demo.app", "demo.handlers")
    probe = f"import importlib.util as u; print(*(u.find_spec(n).origin for n in {names!r}))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=space, capture_output=True, text=True, check=True)
    origins = out.stdout.split()
    assert len(origins) == len(names) and all(Path(o).is_relative_to(space) for o in origins)


def test_a_non_empty_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main([str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
