"""Bootstrap of the matched analysis: resample, re-fit the propensity model, re-match, re-estimate.

Each replicate draws the enrolled patients with replacement *within* each group (the group sizes stay those
observed), re-fits the configured propensity model and re-matches as ``matching`` says, then estimates on the
replicate's matched cohort what the book reports for the matched cohort: the hazard ratios of PFS and OS (Cox,
``cox.ties``; control vs treatment, as Table 3 and Figure 3) and the differences in Kaplan-Meier median PFS and OS
(treatment minus control, months). Re-matching inside the replicate makes the interval carry the uncertainty of the
propensity model and of the matching, which a bootstrap of fixed pairs would ignore.

The resampling unit is the patient, not the pair: pairs exist only after matching, and matching is part of the
procedure whose variability is estimated (Austin and Small, Stat Med 2014;33:4306).

Replicate ``i`` uses the ``i``-th child of ``numpy.random.SeedSequence(bootstrap.seed)`` (:mod:`hcc_utils.stats.resampling`),
so results are identical whether replicates run in one process, on local cores with joblib, or on a
Dask cluster, and whatever the number of workers or chunks. A replicate that cannot be analysed (propensity model
not estimable, fewer than two matched patients in a group, a Cox model without a finite estimate) is kept with its
reason and counted, never dropped silently; a median that is not reached leaves that difference NaN (counted too).
"""
from __future__ import annotations

import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from hcc_utils.config import StudyConfig, as_config
from hcc_utils.stats.cox import CoxConvergenceWarning, fit_cox
from hcc_utils.stats.matching import PropensityModelError
from hcc_utils.stats.resampling import percentile_interval, replicate_seeds, stratified_resample
from hcc_utils.stats.survival import km_quantile_times
from hcc_utils.study.labels import ENDPOINTS
from hcc_utils.study.matching import match_cohort

#: Columns of one replicate's result, in order.
REPLICATE_COLUMNS = ["replicate", "status", "pairs", "pfs_hr", "os_hr", "pfs_median_diff", "os_median_diff"]
#: Statistics of a replicate (the result ids' stems).
STATISTICS = ("pfs_hr", "os_hr", "pfs_median_diff", "os_median_diff")
OK = "ok"


@dataclass
class BootstrapResult:
    """Replicates of the matched analysis and how they were computed.

    Attributes
    ----------
    replicates : one row per replicate, in replicate order: ``replicate`` (0-based), ``status`` (``ok`` or the
        reason it failed), ``pairs`` (matched sets), ``pfs_hr, os_hr`` (control vs treatment),
        ``pfs_median_diff, os_median_diff`` (treatment minus control, months; NaN when a median is not reached).
    seed, level : the seed of the replicate streams and the interval's confidence level.
    backend : ``joblib`` or ``dask`` (and where); ``seconds``: wall time.
    """

    replicates: pd.DataFrame
    seed: int
    level: float = 0.95
    backend: str = "joblib"
    seconds: float = 0.0
    notes: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.replicates)

    @property
    def ok(self) -> pd.DataFrame:
        return self.replicates[self.replicates["status"] == OK]

    @property
    def failed(self) -> int:
        return int((self.replicates["status"] != OK).sum())

    def failures(self) -> dict[str, int]:
        """Failed replicates counted by reason."""
        bad = self.replicates.loc[self.replicates["status"] != OK, "status"]
        return {str(k): int(v) for k, v in bad.value_counts().sort_index().items()}

    def interval(self, statistic: str) -> tuple[float, float]:
        """Percentile interval of a statistic over the successful replicates (finite values)."""
        return percentile_interval(self.ok[statistic].to_numpy(float), self.level)

    def estimable(self, statistic: str) -> int:
        """Successful replicates where the statistic is finite (a median difference needs both medians)."""
        return int(np.isfinite(self.ok[statistic].to_numpy(float)).sum())


def analysis_columns(config: StudyConfig) -> list[str]:
    """Columns a replicate needs: ids, groups, the propensity covariates and the two endpoints."""
    endpoints = [c for time_col, event_col, _ in ENDPOINTS.values() for c in (time_col, event_col)]
    return list(dict.fromkeys(["patient_id", "group", "treatment", *config.matching.covariates, *endpoints]))


def hazard_ratio(cohort: pd.DataFrame, control: str, time_col: str, event_col: str, ties: str) -> float:
    """Cox hazard ratio of the control group vs the treatment group; NaN without a finite estimate (or without an
    event)."""
    frame = cohort.assign(control_group=(cohort["group"] == control).astype(int))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoxConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            row = fit_cox(frame, time_col, event_col, ["control_group"], ties=ties).iloc[0]
    except ValueError:
        return math.nan
    if bool(row["infinite_coef"]) or not np.isfinite(row["hr"]):
        return math.nan
    return float(row["hr"])


def median_difference(cohort: pd.DataFrame, treatment: str, control: str, time_col: str, event_col: str) -> float:
    """Kaplan-Meier median of the treatment group minus that of the control group (months; NaN if either is not
    reached)."""
    medians = []
    for group in (treatment, control):
        part = cohort[cohort["group"] == group]
        medians.append(float(km_quantile_times(part[time_col].to_numpy(float), part[event_col].to_numpy(int),
                                               probs=(0.5,))[0]))
    return medians[0] - medians[1]


def matched_statistics(matched: pd.DataFrame, config: StudyConfig) -> dict[str, float]:
    """The replicate's statistics on a matched cohort (also the point estimates on the study's own pairs)."""
    treatment, control = config.groups.treatment, config.groups.control
    out = {}
    for endpoint, (time_col, event_col, _) in ENDPOINTS.items():
        out[f"{endpoint}_hr"] = hazard_ratio(matched, control, time_col, event_col, config.cox.ties)
        out[f"{endpoint}_median_diff"] = median_difference(matched, treatment, control, time_col, event_col)
    return out


def rematch_and_estimate(sample: pd.DataFrame, config: StudyConfig) -> dict:
    """Re-fit the propensity model on ``sample``, re-match it as configured and estimate on its matched cohort:
    ``status`` (``ok`` or why not), ``pairs`` and the :data:`STATISTICS`. On the study's own analysis table this
    gives the study's matched estimates exactly."""
    row = {"status": OK, "pairs": 0, **{s: math.nan for s in STATISTICS}}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            matched = match_cohort(sample, config)
    except (PropensityModelError, np.linalg.LinAlgError, ValueError) as exc:
        row["status"] = _propensity_failure(str(exc))
        return row
    cohort = matched.data[matched.data["matched"] == 1]
    row["pairs"] = int(matched.summary["pairs"])
    sizes = cohort["group"].value_counts()
    if min(sizes.get(config.groups.treatment, 0), sizes.get(config.groups.control, 0)) < 2:
        row["status"] = "fewer than two matched patients in a group"
        return row
    row.update(matched_statistics(cohort, config))
    if not (np.isfinite(row["pfs_hr"]) and np.isfinite(row["os_hr"])):
        row["status"] = "hazard ratio not estimable"
    return row


def one_replicate(data: pd.DataFrame, config: StudyConfig, index: int, seed: np.random.SeedSequence) -> dict:
    """Replicate ``index``: resample within group with the replicate's seed, then :func:`rematch_and_estimate`.
    Never raises for data reasons: a replicate that cannot be analysed returns its reason in ``status``."""
    positions = stratified_resample(data["treatment"].to_numpy(), seed)
    sample = data.iloc[positions].reset_index(drop=True)
    # a patient drawn twice is two patients of the replicate
    sample["patient_id"] = sample["patient_id"].astype(str) + "#" + pd.Series(np.arange(len(sample))).astype(str)
    return {"replicate": index, **rematch_and_estimate(sample, config)}


def _propensity_failure(message: str) -> str:
    """The reason a replicate's propensity model failed, in words (no patient is named)."""
    if "separation" in message:
        return "propensity model: complete separation"
    if "single value" in message:
        return "propensity model: a covariate constant in the sample"
    return "propensity model not estimable"


def run_chunk(data: pd.DataFrame, config: dict, indices: list[int], seeds: list) -> list[dict]:
    """Replicates ``indices`` with their seed sequences (the unit of work sent to a joblib or Dask worker)."""
    config = as_config(config)
    return [one_replicate(data, config, i, s) for i, s in zip(indices, seeds)]


def _chunks(n: int, size: int) -> list[list[int]]:
    return [list(range(start, min(start + size, n))) for start in range(0, n, size)]


class Progress:
    """A progress line every ~10% of replicates (to the process's real stderr: the terminal, or the notebook
    kernel's log, never the book page)."""

    def __init__(self, total: int, backend: str, write: Callable[[str], None] | None = None):
        self.total, self.backend, self.done, self.next_mark = total, backend, 0, 1
        self.start = time.perf_counter()
        self.write = write or _write_stderr

    def update(self, count: int) -> None:
        """Count ``count`` more finished replicates; write a line when a further tenth is done (one line per
        update, however many tenths it completes)."""
        self.done += count
        tenths = self.done * 10 // self.total
        if tenths >= self.next_mark:
            self.next_mark = tenths + 1
            self.write(f"bootstrap ({self.backend}): {self.done}/{self.total} replicates "
                       f"({100 * self.done // self.total}%), {time.perf_counter() - self.start:.1f} s")


def _write_stderr(line: str) -> None:
    stream = sys.__stderr__ or sys.stderr
    print(line, file=stream, flush=True)


def bootstrap_matched(data: pd.DataFrame, config: StudyConfig | dict | None = None, replicates: int | None = None,
                      seed: int | None = None, n_jobs: int | None = None, scheduler: str | None = None,
                      chunk_size: int | None = None, progress: bool | Callable[[str], None] = True) -> BootstrapResult:
    """Bootstrap the matched PFS and OS hazard ratios and median differences.

    Parameters
    ----------
    data : the analysis table of the enrolled patients (``Study.data``; only :func:`analysis_columns` are used).
    config : the study configuration (``matching``, ``cox``, ``groups``, ``bootstrap``).
    replicates, seed, n_jobs, scheduler : override ``bootstrap.replicates``, ``bootstrap.seed``,
        ``bootstrap.n_jobs`` (joblib workers on this machine; -1 = all cores) and ``bootstrap.scheduler``
        (``tcp://host:port`` of a Dask scheduler: the replicates run on that cluster instead).
    chunk_size : replicates per task (does not change any result).
    progress : True (a line every ~10% to stderr), False, or a function receiving each line.

    Returns
    -------
    BootstrapResult
    """
    config = as_config(config)
    settings = config.bootstrap
    replicates = settings.replicates if replicates is None else int(replicates)
    seed = settings.seed if seed is None else int(seed)
    n_jobs = settings.n_jobs if n_jobs is None else int(n_jobs)
    scheduler = settings.scheduler if scheduler is None else scheduler
    frame = data[analysis_columns(config)].reset_index(drop=True)
    seeds = replicate_seeds(seed, replicates)
    chunks = _chunks(replicates, chunk_size or max(1, min(25, math.ceil(replicates / 40))))
    backend = f"dask {scheduler}" if scheduler else f"joblib n_jobs={n_jobs}"
    write = progress if callable(progress) else (_write_stderr if progress else (lambda line: None))
    tracker = Progress(replicates, backend, write)
    start = time.perf_counter()
    runner = _run_dask if scheduler else _run_joblib
    rows = runner(frame, config.to_dict(), chunks, seeds, tracker, scheduler if scheduler else n_jobs)
    table = pd.DataFrame(sorted(rows, key=lambda r: r["replicate"]), columns=REPLICATE_COLUMNS)
    return BootstrapResult(table, seed, backend=backend, seconds=time.perf_counter() - start)


def _run_joblib(frame, config: dict, chunks, seeds, tracker: Progress, n_jobs: int) -> list[dict]:
    from joblib import Parallel, delayed

    rows: list[dict] = []
    if n_jobs == 1:
        for chunk in chunks:
            rows.extend(run_chunk(frame, config, chunk, [seeds[i] for i in chunk]))
            tracker.update(len(chunk))
        return rows
    tasks = (delayed(run_chunk)(frame, config, chunk, [seeds[i] for i in chunk]) for chunk in chunks)
    for done in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks):
        rows.extend(done)
        tracker.update(len(done))
    return rows


def _run_dask(frame, config: dict, chunks, seeds, tracker: Progress, scheduler) -> list[dict]:
    from distributed import Client, as_completed

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        shared = client.scatter(frame, broadcast=True)
        futures = [client.submit(run_chunk, shared, config, chunk, [seeds[i] for i in chunk], pure=False)
                   for chunk in chunks]
        rows: list[dict] = []
        for future in as_completed(futures):
            done = future.result()
            rows.extend(done)
            tracker.update(len(done))
        return rows
    finally:
        if client is not scheduler:
            client.close()
