"""Time the book build: every notebook executed (cold), serial and with 2 jobs, then unchanged (warm, reused).

Usage: .venv/bin/python benchmarks/bench_build.py [--out DIR]
Prints one line per scenario. The first README command (`make book`) on a fresh clone adds the virtual
environment's installation (about a minute and a half here) to the cold figure.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from hcc_utils.config import load_config
from hcc_utils.pipeline.runner import run_study


def timed(label: str, **kwargs) -> None:
    start = time.perf_counter()
    summary = run_study(load_config(), build_book=True, **kwargs)
    print(f"{label:<28} {time.perf_counter() - start:7.1f} s  ({len(summary.executed)} executed, "
          f"{len(summary.reused)} reused)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="output folder (default: a temporary one)")
    args = parser.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="hcc-bench-"))
    try:
        timed("cold, 1 job", out_dir=out / "serial", reuse=False)
        timed("cold, 2 jobs", out_dir=out / "parallel", reuse=False, jobs=2)
        timed("warm (nothing changed)", out_dir=out / "serial")
    finally:
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
