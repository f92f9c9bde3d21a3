"""The worker processes of a parallel run (hcc_utils/pipeline/workers.py): forked on Linux, spawned on macOS and
Windows (portable mode here), set up alike in both cases, and never outliving the build."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hcc_utils.config import REPO_ROOT, platforms
from hcc_utils.pipeline.workers import run_in_workers
from inprocess_engine import in_process_engine
from worker_calls import worker_facts

pytestmark = pytest.mark.portable
TESTS = Path(__file__).resolve().parent

#: A build that starts two workers sleeping in a call (each writes its process id), to be killed from outside.
BUILD = """
import sys
sys.path.insert(0, sys.argv[2])
from hcc_utils.pipeline.workers import run_in_workers
from worker_calls import pid_then_sleep

if __name__ == "__main__":
    run_in_workers([(pid_then_sleep, sys.argv[1] + "/a"), (pid_then_sleep, sys.argv[1] + "/b")], 2, print)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:  # a zombie is dead
        return stat.read().split(") ")[1][0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and sends SIGKILL")
@pytest.mark.parametrize("portable", ["0", "1"], ids=["prctl", "parent-watch"])
def test_workers_die_with_a_killed_build(tmp_path, portable):
    """``kill -9`` of the build: its workers end too (PR_SET_PDEATHSIG on Linux; in portable mode, as on macOS and
    Windows, a thread waiting on the build's sentinel)."""
    script = tmp_path / "build.py"
    script.write_text(BUILD, encoding="utf-8")
    build = subprocess.Popen([sys.executable, str(script), str(tmp_path), str(TESTS)],
                             env={**os.environ, "PYTHONPATH": str(REPO_ROOT), platforms.PORTABLE_ENV: portable})
    try:
        deadline = time.monotonic() + 120
        while not all((tmp_path / name).is_file() and (tmp_path / name).read_text() for name in "ab"):
            assert time.monotonic() < deadline and build.poll() is None, "the workers never started"
            time.sleep(0.1)
        workers = [int((tmp_path / name).read_text()) for name in "ab"]
        build.kill()
        build.wait()
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), "a worker outlived the killed build"
    finally:
        if build.poll() is None:
            build.kill()


def test_spawned_workers_are_set_up_as_forked_ones_are(monkeypatch):
    """A spawned worker (macOS, Windows, portable mode) starts from a fresh interpreter and runs the set-up hook:
    here the tests' in-process engine, which a forked worker inherits."""
    results = {}
    for portable in ("0", "1"):
        monkeypatch.setenv(platforms.PORTABLE_ENV, portable)
        with in_process_engine():
            run_in_workers([(worker_facts,)], 1, lambda call, facts: results.setdefault(portable, facts))
    if sys.platform.startswith("linux"):
        assert results["0"] == {"engine": "InProcessEngine", "inherited": True}     # forked
    assert results["1"] == {"engine": "InProcessEngine", "inherited": False}        # spawned, set up by the hook
