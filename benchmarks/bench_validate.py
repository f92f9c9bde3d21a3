"""Time reading, validating and deriving a cohort of 10^4, 10^5 and 10^6 rows.

Not a test: prints a table of seconds per step. The cohort is the tests' valid 40-patient
cohort (``tests/cohort_factory.py``) tiled to the requested size with unique patient ids.

Usage::

    .venv/bin/python benchmarks/bench_validate.py [--sizes 10000 100000 1000000] [--formats csv parquet]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from cohort_factory import as_text, make_cohort  # noqa: E402

from hcc_utils.data.derive import analysis_table, cohort_flow  # noqa: E402
from hcc_utils.data.readers import read_cohort  # noqa: E402
from hcc_utils.data.validate import validate_cohort  # noqa: E402


def tiled_cohort(n_rows: int) -> pd.DataFrame:
    """The factory cohort repeated to ``n_rows`` rows, patient ids made unique."""
    base = make_cohort()
    repeats = -(-n_rows // len(base))
    frame = pd.concat([base] * repeats, ignore_index=True).iloc[:n_rows].copy()
    frame["patient_id"] = [f"P{number:07d}" for number in range(1, n_rows + 1)]
    return frame


def write(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        as_text(frame).to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def timed(function, *args, **kwargs):
    began = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "parquet"], choices=["csv", "parquet"])
    arguments = parser.parse_args()
    print(f"{'rows':>9} {'format':>8} {'read s':>8} {'validate s':>11} {'flow s':>7} {'analysis s':>11} {'total s':>8} errors")
    with tempfile.TemporaryDirectory() as directory:
        for n_rows in arguments.sizes:
            frame = tiled_cohort(n_rows)
            for extension in arguments.formats:
                path = Path(directory) / f"cohort_{n_rows}.{extension}"
                write(frame, path)
                cohort, read_seconds = timed(read_cohort, path)
                report, validate_seconds = timed(validate_cohort, cohort, path.name, {})
                _, flow_seconds = timed(cohort_flow, cohort, {})
                _, analysis_seconds = timed(analysis_table, cohort, {})
                total = read_seconds + validate_seconds + flow_seconds + analysis_seconds
                print(
                    f"{n_rows:>9} {extension:>8} {read_seconds:>8.2f} {validate_seconds:>11.2f} {flow_seconds:>7.2f} "
                    f"{analysis_seconds:>11.2f} {total:>8.2f} {len(report.errors)}"
                )
        # A worst case for the report: every enrolled row has an out-of-range ECOG.
        n_rows = arguments.sizes[-1]
        frame = tiled_cohort(n_rows)
        frame["ecog"] = pd.array(np.where(frame["ecog"].notna(), 7, pd.NA), dtype="Int64")
        path = Path(directory) / "bad.csv"
        write(frame, path)
        cohort = read_cohort(path)
        report, seconds = timed(validate_cohort, cohort, path.name, {})
        _, format_seconds = timed(report.format)
        print(f"{n_rows} rows with {len(report.errors)} errors: validate {seconds:.2f} s, format {format_seconds:.2f} s")


if __name__ == "__main__":
    main()
