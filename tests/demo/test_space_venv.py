"""The Hugging Face Space as a Space runs it: `demo/make_space.py`'s folder in a fresh virtual
environment with only its requirements.txt installed, serving, and answering a live run.

About a minute on this machine (pip finds every wheel locally). The requirements' extra index
(download.pytorch.org, where a Space gets the CPU build of torch) is left out: it is
unreachable offline, and the local index holds that build.
"""

from __future__ import annotations

import os
import subprocess
import venv

import pytest
from gradio_client import Client

from demo.make_space import make_space
from tests.demo.test_browser import free_port, wait_until_serving


@pytest.fixture(scope="module")
def space_url(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("space")
    space = tmp / "space"
    make_space(space)
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    requirements = [line for line in (space / "requirements.txt").read_text().splitlines() if not line.startswith("--extra-index-url")]
    (tmp / "requirements.txt").write_text("\n".join(requirements) + "\n")
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(tmp / "requirements.txt")], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-3000:]
    port = free_port()
    log = tmp / "app.log"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {
        "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_TEMP_DIR": str(tmp / "gradio"),
    }
    with log.open("w") as out:
        process = subprocess.Popen([str(python), "app.py"], cwd=space, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_serving(url, process, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_space_serves_from_its_own_requirements_and_trains_live(space_url: str) -> None:
    client = Client(space_url, verbose=False)
    _, text = client.predict(1, api_name="/learning_run")
    assert "After 1 epoch(s)" in text and "Trained here in" in text
    _, intro = client.predict(api_name="/learning_intro")
    assert "Over 20 epoch(s)" in intro

