"""Wall time of the matched-analysis bootstrap (not a test): joblib on local cores, then a local Dask cluster.

Run: .venv/bin/python benchmarks/bootstrap_bench.py [--replicates 999] [--workers 2] [--scheduler tcp://host:8786]
On the bundled cohort, with the configuration's matching: 1 core (joblib, n_jobs=1), ``--workers`` cores (joblib),
and a ``distributed.LocalCluster`` of ``--workers`` single-threaded worker processes (start-up of the joblib workers
and of the cluster excluded, shown separately); with ``--scheduler`` also an existing cluster. Checks that every run gives identical replicates
(each replicate has its own seeded stream).
"""
from __future__ import annotations

import argparse
import os
import time

import pandas as pd

from hcc_utils.config import REPO_ROOT, load_config
from hcc_utils.study import load_study
from hcc_utils.study.bootstrap import bootstrap_matched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=999)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scheduler", help="also time an existing Dask cluster (tcp://host:8786)")
    parser.add_argument("--skip-serial", action="store_true", help="do not time the single-core run")
    args = parser.parse_args()
    config = load_config()
    study = load_study(REPO_ROOT / "data" / "synthetic_cohort.csv", config)
    runs = {}
    if not args.skip_serial:
        runs["joblib, 1 core"] = bootstrap_matched(study.data, config, args.replicates, n_jobs=1, progress=False)
    start = time.perf_counter()  # start joblib's worker processes (loky reuses them), as the cluster's below
    bootstrap_matched(study.data, config, args.workers, n_jobs=args.workers, chunk_size=1, progress=False)
    warm = time.perf_counter() - start
    runs[f"joblib, {args.workers} cores"] = bootstrap_matched(study.data, config, args.replicates, n_jobs=args.workers,
                                                             progress=False)
    from distributed import LocalCluster

    start = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        started = time.perf_counter() - start
        runs[f"Dask LocalCluster, {args.workers} workers"] = bootstrap_matched(
            study.data, config, args.replicates, scheduler=cluster.scheduler_address, progress=False)
    if args.scheduler:
        runs[f"Dask {args.scheduler}"] = bootstrap_matched(study.data, config, args.replicates,
                                                           scheduler=args.scheduler, progress=False)
    reference = next(iter(runs.values()))
    print(f"{args.replicates} replicates on {study.source_name} ({study.match_summary['pairs']} matched pairs; "
          f"{reference.failed} replicates failed)")
    for name, run in runs.items():
        pd.testing.assert_frame_equal(reference.replicates, run.replicates)
        print(f"{name:>34}: {run.seconds:7.1f} s")
    print(f"{'(joblib workers start-up)':>34}: {warm:7.1f} s")
    print(f"{'(LocalCluster start-up)':>34}: {started:7.1f} s")
    print("identical replicates on every backend; load average during the runs: "
          + ", ".join(f"{v:.1f}" for v in os.getloadavg()) + f" on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
