"""Functions the worker tests send to worker processes (tests/test_workers.py): module-level, so that a spawned
worker imports them by name."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def pid_then_sleep(path: str) -> None:
    """Write this worker's process id to ``path``, then sleep long enough to be killed."""
    Path(path).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(120)


def worker_facts() -> dict:
    """What a worker process has: papermill's default engine, and whether it inherited the caller's modules."""
    from papermill.engines import papermill_engines

    return {"engine": papermill_engines.get_engine(None).__name__, "inherited": "pytest" in sys.modules}
