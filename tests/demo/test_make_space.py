"""The Space layout: root entry point, front matter, requirements and the packages it imports."""

from __future__ import annotations

import subprocess
import sys
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


def test_space_imports_its_own_copies_of_the_packages(tmp_path: Path) -> None:
    space = tmp_path / "space"
    make_space(space)
    assert (space / "app.py").is_file() and (space / "requirements.txt").is_file()
    assert front_matter(space / "README.md")["app_file"] == "app.py"
    assert (space / "core" / "assets" / "surrogate_m5.pt").is_file()
    assert not (space / "core" / "data" / "embedded").exists()
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
