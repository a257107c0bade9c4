"""Where the tests find the shared real speech: ../shared beside the repository (as in CI)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_SPEECH_COMMANDS = REPO_ROOT.parent / "shared" / "data" / "speech_commands_v0.02_test10"
