"""The statistics kernels against their peers, side by side (a benchmark, not a test).

Run: ``.venv/bin/python benchmarks/bench_kernels.py [--sizes 10000 100000 1000000] [--repeats 3] [--no-r]
[--r-matching-max 100000] [--csv out.csv]``

For each size a synthetic cohort (two groups, day-rounded times, four covariates, a propensity score) is timed on:

* ``km_logrank``: Kaplan-Meier of each group (with its confidence band) and the log-rank test, ours
  (``stats.survival``) against lifelines (``KaplanMeierFitter``, ``statistics.logrank_test``) and R
  (``survfit`` + ``survdiff``);
* ``cox``: a four-covariate Cox model with Efron ties, ours (``stats.cox.cox_model``) against lifelines
  (``CoxPHFitter``) and R (``coxph``);
* ``matching``: 1:1 greedy nearest-neighbour matching on the logit of the score with a 0.2 SD caliper, largest
  first, ours (``stats.matching.nearest_neighbor_match``) against R ``MatchIt::matchit(method = "nearest")``
  (R >= 10^6 can take minutes: ``--r-matching-max``) and against one ``numpy.sort`` of the distances (the
  floor of any sort-based matching; peer ``sort``).

Ours and the peers run interleaved, repetition by repetition, so the machine's load hits both alike; each figure
is the fastest of ``--repeats`` runs. R reads the cohort from a CSV (no jsonlite needed); only the computation is
timed inside R. Peers that are not installed are skipped. :func:`peer_rows` returns the rows for other scripts
(``hcc-study bench``).
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from hcc_utils.stats.cox import cox_model
from hcc_utils.stats.matching import nearest_neighbor_match
from hcc_utils.stats.survival import kaplan_meier, logrank_test

SIZES = (10**4, 10**5, 10**6)
COVARIATES = ("treated", "age", "male", "ecog")

R_SCRIPT = r"""
suppressMessages(library(survival))
args <- commandArgs(TRUE)
d <- read.csv(args[1])
steps <- strsplit(args[2], ",")[[1]]
out <- c()
if ("km_logrank" %in% steps) {
  out["km_logrank"] <- system.time({
    fit <- survfit(Surv(time, event) ~ treated, data = d)
    test <- survdiff(Surv(time, event) ~ treated, data = d)
  })[["elapsed"]]
}
if ("cox" %in% steps) {
  out["cox"] <- system.time(coxph(Surv(time, event) ~ treated + age + male + ecog, data = d,
                                  ties = "efron"))[["elapsed"]]
}
if ("matching" %in% steps) {
  suppressMessages(library(MatchIt))
  out["matching"] <- system.time(matchit(treated ~ age, data = d, method = "nearest", distance = d$logit_ps,
                                         caliper = 0.2, std.caliper = TRUE, m.order = "largest",
                                         replace = FALSE))[["elapsed"]]
}
write.csv(data.frame(step = names(out), seconds = unname(out)), args[3], row.names = FALSE)
"""


def cohort(n: int, seed: int = 1) -> pd.DataFrame:
    """A two-group cohort of ``n`` patients: months from whole days (ties, as real data), 70% events, four
    covariates and a propensity score in (0, 1)."""
    rng = np.random.default_rng(seed)
    treated = (rng.random(n) < 1 / 3).astype(int)
    age = rng.normal(62, 10, n).round()
    male = (rng.random(n) < 0.8).astype(int)
    ecog = rng.integers(0, 3, n)
    hazard = np.exp(0.3 * treated + 0.02 * (age - 62) - 0.1 * male + 0.4 * ecog) / 12
    days = np.ceil(rng.exponential(1 / hazard) * 30.4375)
    censor = np.ceil(rng.uniform(1, 60, n) * 30.4375)
    logit = rng.normal(-0.8, 1.0, n) + 0.6 * treated
    return pd.DataFrame({"time": np.minimum(days, censor) / 30.4375, "event": (days <= censor).astype(int),
                         "treated": treated, "age": age, "male": male, "ecog": ecog,
                         "ps": 1 / (1 + np.exp(-logit)), "logit_ps": logit})


# ------------------------------------------------------------------------------------------------ ours
def ours_km_logrank(d: pd.DataFrame) -> None:
    t, e, g = d["time"].to_numpy(), d["event"].to_numpy(), d["treated"].to_numpy()
    for level in (0, 1):
        kaplan_meier(t[g == level], e[g == level])
    logrank_test(t, e, g)


def ours_cox(d: pd.DataFrame) -> None:
    cox_model(d, "time", "event", list(COVARIATES))


def ours_matching(d: pd.DataFrame) -> None:
    nearest_neighbor_match(d["ps"].to_numpy(), d["treated"].to_numpy(), caliper=0.2, caliper_scale="logit")


def sort_distances(d: pd.DataFrame) -> None:
    np.sort(d["logit_ps"].to_numpy())


OURS = {"km_logrank": ours_km_logrank, "cox": ours_cox, "matching": ours_matching}


# ------------------------------------------------------------------------------------------------ peers
def lifelines_available() -> bool:
    return importlib.util.find_spec("lifelines") is not None


def lifelines_km_logrank(d: pd.DataFrame) -> None:
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test as ll_logrank
    t, e, g = d["time"].to_numpy(), d["event"].to_numpy(), d["treated"].to_numpy()
    for level in (0, 1):
        KaplanMeierFitter().fit(t[g == level], e[g == level])
    ll_logrank(t[g == 0], t[g == 1], e[g == 0], e[g == 1])


def lifelines_cox(d: pd.DataFrame) -> None:
    from lifelines import CoxPHFitter
    CoxPHFitter().fit(d[["time", "event", *COVARIATES]], "time", "event")


LIFELINES = {"km_logrank": lifelines_km_logrank, "cox": lifelines_cox}


def r_available(package: str = "survival") -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(["Rscript", "-e", f"quit(status = !requireNamespace('{package}', quietly = TRUE))"],
                           capture_output=True)
    return probe.returncode == 0


def r_times(csv_path: Path, steps: list[str], workdir: Path) -> dict[str, float]:
    """Seconds of each step in one R process (the computation only; reading the CSV is not timed)."""
    script, out = workdir / "bench.R", workdir / "r_times.csv"
    script.write_text(R_SCRIPT)
    done = subprocess.run(["Rscript", str(script), str(csv_path), ",".join(steps), str(out)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"Rscript failed: {done.stderr.strip()[-500:]}")
    return {row["step"]: float(row["seconds"]) for row in csv.DictReader(out.open())}


# ------------------------------------------------------------------------------------------------ runner
def _seconds(fn, d) -> float:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn(d)
    return time.perf_counter() - start


def peer_rows(sizes=SIZES, repeats: int = 3, use_r: bool = True, use_lifelines: bool = True,
              r_matching_max: int = 10**5, steps=("km_logrank", "cox", "matching"), log=None) -> list[dict]:
    """Time our kernels and their peers side by side, interleaved.

    Parameters
    ----------
    sizes : sequence of int
        Patients per cohort.
    repeats : int
        Repetitions; each figure is the fastest.
    use_r, use_lifelines : bool
        Include these peers when installed.
    r_matching_max : int
        Largest size at which MatchIt runs (it is slow at 10^6).
    steps : sequence of str
        Among ``km_logrank``, ``cox``, ``matching``.
    log : callable, optional
        Called with a progress line per size and repetition.

    Returns
    -------
    list of dict
        One row per (step, size, peer): ``step, size, ours_s, peer, peer_s, ratio`` where ``ratio`` is
        ``peer_s / ours_s`` (above 1: ours is faster; for the peer ``sort``, the matching's multiple of one sort
        of the distances is ``1 / ratio``).
    """
    have_ll = use_lifelines and lifelines_available()
    have_r = use_r and r_available("survival")
    have_matchit = have_r and "matching" in steps and r_available("MatchIt")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-kernels-") as tmp:
        workdir = Path(tmp)
        for n in sizes:
            d = cohort(int(n))
            csv_path = workdir / "cohort.csv"
            if have_r:
                d.to_csv(csv_path, index=False)
            best: dict[tuple[str, str], float] = {}

            def keep(step, who, seconds):
                best[(step, who)] = min(best.get((step, who), np.inf), seconds)

            for rep in range(repeats):
                for step in steps:
                    keep(step, "ours", _seconds(OURS[step], d))
                    if step in LIFELINES and have_ll:
                        keep(step, "lifelines", _seconds(LIFELINES[step], d))
                    if step == "matching":
                        keep(step, "sort", _seconds(sort_distances, d))
                if have_r:
                    r_steps = [s for s in steps if s != "matching" or (have_matchit and n <= r_matching_max)]
                    for step, seconds in r_times(csv_path, r_steps, workdir).items():
                        keep(step, "R", seconds)
                if log is not None:
                    log(f"size {n}: repetition {rep + 1}/{repeats} done")
            for step in steps:
                for peer in ("lifelines", "R", "sort"):
                    if (step, peer) in best:
                        ours_s, peer_s = best[(step, "ours")], best[(step, peer)]
                        rows.append({"step": step, "size": int(n), "ours_s": ours_s, "peer": peer, "peer_s": peer_s,
                                     "ratio": peer_s / ours_s if ours_s > 0 else float("nan")})
    return rows


def _table(rows: list[dict]) -> str:
    lines = [f"{'step':<11} {'patients':>9} {'ours (s)':>9} {'peer':<10} {'peer (s)':>9} {'peer/ours':>10}"]
    for r in rows:
        lines.append(f"{r['step']:<11} {r['size']:>9} {r['ours_s']:>9.3f} {r['peer']:<10} {r['peer_s']:>9.3f} "
                     f"{r['ratio']:>10.2f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", nargs="+", default=["km_logrank", "cox", "matching"],
                        choices=["km_logrank", "cox", "matching"])
    parser.add_argument("--no-r", action="store_true", help="leave R out")
    parser.add_argument("--no-lifelines", action="store_true", help="leave lifelines out")
    parser.add_argument("--r-matching-max", type=int, default=10**5,
                        help="largest size at which MatchIt runs (default 100000; it is slow at 10^6)")
    parser.add_argument("--csv", type=Path, help="also write the rows to this CSV")
    args = parser.parse_args(argv)
    rows = peer_rows(args.sizes, args.repeats, use_r=not args.no_r, use_lifelines=not args.no_lifelines,
                     r_matching_max=args.r_matching_max, steps=args.steps,
                     log=lambda line: print(line, file=sys.stderr, flush=True))
    print(_table(rows))
    if args.csv:
        pd.DataFrame(rows).to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
