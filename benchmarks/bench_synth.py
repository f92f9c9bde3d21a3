"""Benchmark of the synthetic cohort generator and of the calibration.

Usage::

    .venv/bin/python benchmarks/bench_synth.py            # generation at 10^4, 10^5, 10^6 rows + calibration
    .venv/bin/python benchmarks/bench_synth.py --no-calibration --sizes 1e4 1e5

Prints one line per measurement (rows, seconds, rows per second). Generation time includes the propensity-score
matching of the enrolled patients (the logistic propensity model of stats.logistic + greedy matching), which the generator runs to build the
matched-cohort outcomes.
"""
from __future__ import annotations

import argparse
import time

from hcc_utils.config import load_config
from hcc_utils.synthetic.generator import generate_cohort

BASE_ROWS = 194


def bench_generation(rows: int, seed: int = 1) -> float:
    """Seconds to generate a cohort of about ``rows`` screened patients."""
    config = load_config()
    scale = rows / BASE_ROWS
    t0 = time.perf_counter()
    df = generate_cohort(seed, config, n_scale=scale)
    took = time.perf_counter() - t0
    print(f"generate  {len(df):>9,d} rows  {took:8.2f} s  {len(df) / took:>12,.0f} rows/s", flush=True)
    return took


def bench_calibration(seed: int = 20240701) -> float:
    """Wall time of the full calibration of the default cohort (generation + search + final check)."""
    from hcc_utils.synthetic.calibrate import calibrate_cohort

    config = load_config()
    t0 = time.perf_counter()
    df = generate_cohort(seed, config)
    res = calibrate_cohort(df, seed=seed, config=config, quiet=True)
    took = time.perf_counter() - t0
    counted = res.scored[res.scored.status != "excluded"] if res.scored is not None else None
    met = "" if counted is None else f"  ({int((counted.status == 'met').sum())} of {len(counted)} met)"
    print(f"calibrate {len(df):>9,d} rows  {took:8.2f} s{met}", flush=True)
    return took


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", type=float, default=[1e4, 1e5, 1e6])
    parser.add_argument("--no-calibration", action="store_true")
    args = parser.parse_args(argv)
    for rows in args.sizes:
        bench_generation(int(rows))
    if not args.no_calibration:
        bench_calibration()


if __name__ == "__main__":
    main()
