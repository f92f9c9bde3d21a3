"""Time and peak memory of each step of the analysis of one cohort file (no notebooks).

Steps: ``read``, ``validate`` (as the runner checks the file), ``derive`` (flow and analysis table), ``match``,
``section:<name>`` for each section of :data:`hcc_utils.study.SECTIONS`, ``cache_write`` and ``cache_load`` (the
study cache every notebook loads), and ``analysis``: the whole analysis from the file, as one call
(``read_cohort`` + ``compute_results(..., validate=True)``: read, validate, derive, match, every section).

CPU seconds include the analysis's worker processes (:mod:`hcc_utils.study.parallel`). Peak memory is this
process's own peak resident set during the step (``VmHWM``, reset before each step through
``/proc/self/clear_refs``; where that is unavailable, the peak since the process started). Run it in a fresh
process per cohort; on a shared machine compare ratios measured side by side, not absolute seconds.

Usage::

    python benchmarks/bench_analysis.py COHORT.parquet [--config study.yml] [--csv out.csv] [--profile out.prof]

Make a cohort of 10^6 patients with ``hcc-study synth --no-calibrate --scale 5155 --out cohort.parquet``.
"""
from __future__ import annotations

import argparse
import csv
import gc
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hcc_utils.config import StudyConfig, as_config, load_config  # noqa: E402


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter of this process (Linux); False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _peak_bytes() -> int:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its ended child processes (the analysis's forked workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _measure(results: dict, step: str, call):
    gc.collect()
    _reset_peak()
    start, cpu = time.perf_counter(), _cpu_seconds()
    value = call()
    results[step] = (time.perf_counter() - start, _peak_bytes(), _cpu_seconds() - cpu)
    return value


def time_analysis(path: str | Path, config: StudyConfig | dict | None = None,
                  steps: tuple[str, ...] | None = None) -> dict[str, tuple[float, int, float]]:
    """Seconds and peak resident bytes of each step of the analysis of the cohort file ``path``.

    Parameters
    ----------
    path : the cohort file (CSV, Excel or Parquet).
    config : the study configuration (the defaults when None).
    steps : only these steps (all by default; ``analysis`` alone gives the whole analysis).

    Returns
    -------
    dict
        ``{step: (seconds, peak_bytes, cpu_seconds)}`` in the order the steps ran (see the module's description); on a
        busy machine the CPU seconds (this process, all threads) are the steadier figure.
    """
    from hcc_utils.data.derive import analysis_table, cohort_flow
    from hcc_utils.data.readers import read_cohort
    from hcc_utils.data.validate import validate_cohort
    from hcc_utils.study import compute_results
    from hcc_utils.study.cache import read_cached_study, write_cached_study
    from hcc_utils.study.cohort import Study, is_synthetic_frame
    from hcc_utils.study.matching import match_cohort
    from hcc_utils.study.sections import SECTIONS

    path, config = Path(path), as_config(config)
    wanted = (lambda step: True) if steps is None else (lambda step: step in steps or step.split(":")[0] in steps)
    results: dict[str, tuple[float, int, float]] = {}
    if any(wanted(s) for s in ("read", "validate", "derive", "match", "section", "cache_write", "cache_load")):
        raw = _measure(results, "read", lambda: read_cohort(path, config=config))
        if wanted("validate"):
            _measure(results, "validate", lambda: validate_cohort(raw, source=path.name, config=config))
        flow, table = _measure(results, "derive", lambda: (cohort_flow(raw, config), analysis_table(raw, config)))
        matched = _measure(results, "match", lambda: match_cohort(table, config))
        study = Study(config, raw, flow, matched.data, matched.summary, matched.coefficients, path.name,
                      bool(is_synthetic_frame(raw)))
        study._raw_source = (path, config)  # as load_study: the cache leaves the screened cohort out
        for section in SECTIONS:
            name = f"section:{section.__name__.rsplit('.', 1)[-1]}"
            if wanted(name):
                _measure(results, name, lambda: section.compute(study))
        if wanted("cache_write") or wanted("cache_load"):
            with tempfile.TemporaryDirectory(prefix="bench-study-cache-") as folder:
                _measure(results, "cache_write", lambda: write_cached_study(study, folder, "bench"))
                del study, raw, table, matched
                _measure(results, "cache_load", lambda: read_cached_study(folder, "bench"))
    if wanted("analysis"):
        gc.collect()
        _measure(results, "analysis", lambda: compute_results(read_cohort(path, config=config), config, validate=True))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cohort", type=Path)
    parser.add_argument("--config", type=Path, help="study configuration (the defaults otherwise)")
    parser.add_argument("--steps", help="comma-separated steps (e.g. analysis, or read,section)")
    parser.add_argument("--csv", type=Path, help="also write the figures as CSV")
    parser.add_argument("--profile", type=Path, help="cProfile the whole run into this file")
    args = parser.parse_args(argv)
    if not args.cohort.is_file():
        print(f"bench_analysis: no such cohort file: {args.cohort}", file=sys.stderr)
        return 2
    config = load_config(args.config) if args.config else StudyConfig()
    steps = tuple(args.steps.split(",")) if args.steps else None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        results = profiler.runcall(time_analysis, args.cohort, config, steps)
        profiler.dump_stats(args.profile)
    else:
        results = time_analysis(args.cohort, config, steps)
    rows = [{"step": step, "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3), "peak_mb": round(peak / 2**20, 1)}
            for step, (seconds, peak, cpu) in results.items()]
    width = max(len(r["step"]) for r in rows)
    print(f"{'step':<{width}}  {'seconds':>8}  {'CPU s':>8}  {'peak MB':>8}")
    for row in rows:
        print(f"{row['step']:<{width}}  {row['seconds']:>8.2f}  {row['cpu_seconds']:>8.2f}  {row['peak_mb']:>8.0f}")
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["step", "seconds", "cpu_seconds", "peak_mb"])
            writer.writeheader()
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
