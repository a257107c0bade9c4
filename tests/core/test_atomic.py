"""Atomic writes: a killed writer leaves the old file and a temporary that the next run removes."""

import os
import signal
import subprocess
import sys
import time

from core.atomic import remove_stale_temporaries, write_text_atomic

WRITER = """
import sys, time
from core.atomic import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("half")
    print("writing", flush=True)
    time.sleep(60)
"""


def test_a_killed_writer_leaves_the_old_file_and_its_temporary_is_cleaned(tmp_path):
    target = tmp_path / "results.json"
    write_text_atomic(target, "old")
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    (leftover,) = tmp_path.glob(".results.json.*.tmp")
    assert target.read_text() == "old"
    assert remove_stale_temporaries(tmp_path) == []  # fresh: perhaps a live writer's
    hour_ago = time.time() - 3700
    os.utime(leftover, (hour_ago, hour_ago))
    keep = tmp_path / "sub" / ".notes.tmp"  # a hidden file of the user's, not an atomic_path temporary
    keep.parent.mkdir()
    keep.write_text("not ours")
    os.utime(keep, (hour_ago, hour_ago))
    assert remove_stale_temporaries(tmp_path) == [leftover]
    assert not leftover.exists() and keep.exists() and target.read_text() == "old"
    assert remove_stale_temporaries(tmp_path / "missing") == []
