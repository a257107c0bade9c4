"""Fixtures of the demo tests: one torch thread, a small leaderboard folder.

The whole folder is skipped, with the reason shown, where gradio is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("gradio", reason="the demo tests need gradio: pip install -e '.[demo]'")

import torch  # noqa: E402

from tests.demo.factory import write_board  # noqa: E402


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """The app's setting (demo/app.py main): one thread per request; restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def board(tmp_path: Path) -> Path:
    return write_board(tmp_path / "board")
