"""Log-rank tests (Mantel-Haenszel), plain and stratified, as R ``survival::survdiff`` (rho = 0).

`logrank_test` checks and labels its input and calls `logrank_arrays`, the array computation that the synthetic
cohort's calibration also calls; both are checked against R in ``tests/test_survival.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special

from hcc_utils.stats.checks import check_time_event, distinct_time_codes

__all__ = ["LogrankResult", "LogrankCore", "logrank_test", "logrank_arrays"]


@dataclass(frozen=True)
class LogrankResult:
    """Log-rank test result, as R ``survdiff(..., rho = 0)``.

    Attributes
    ----------
    chisq, df, p : float, int, float
        Test statistic, degrees of freedom (groups with expected > 0, minus 1), p-value.
    table : pandas.DataFrame
        ``group, n, observed, expected, o_minus_e`` (summed over strata).
    var : numpy.ndarray
        Variance matrix of observed - expected (groups in `table` order).
    stratified : bool
    """

    chisq: float
    df: int
    p: float
    table: pd.DataFrame
    var: np.ndarray
    stratified: bool


def _label_codes(values, name: str, n: int):
    """Integer codes and sorted levels of a label vector; clear errors for a wrong length or missing labels."""
    if isinstance(values, (pd.Series, pd.Index, pd.Categorical)):
        labels = values
    else:
        labels = np.asarray(values)
        if labels.dtype.kind in "US":                # factorised as Python strings, as before
            labels = labels.astype(object)
    size = len(labels) if labels.ndim == 1 else labels.size
    if labels.ndim != 1 or size != n:
        raise ValueError(f"{name} must have the same length as time ({size} != {n})")
    # factorised in the labels' own dtype (no object copy: a categorical or integer column of 10^6 costs ms)
    codes, levels = pd.factorize(labels, sort=True)
    if (codes < 0).any():
        raise ValueError(f"{name}: missing labels")
    levels = levels.tolist()
    order = sorted(range(len(levels)), key=levels.__getitem__)
    if order != list(range(len(levels))):           # a categorical sorts in its categories' order: sort by value
        rank = np.empty(len(levels), dtype=np.intp)
        rank[order] = np.arange(len(levels))
        codes, levels = rank[codes], [levels[i] for i in order]
    return codes, levels


def logrank_test(time, event, group, strata=None, not_estimable: bool = False) -> LogrankResult:
    """Log-rank (Mantel-Haenszel) test of equal survival across groups, optionally stratified.

    Compares observed and expected events per group, the expectation computed under
    H0 (same hazard in every group) from the risk sets at each event time, with the
    hypergeometric variance. Stratified: observed, expected and variance are summed over
    strata (risk sets within stratum), as ``survdiff(Surv(t, e) ~ g + strata(s))``; with
    matched pairs as strata, this is the paired log-rank test. k groups -> k - 1 df.

    Parameters
    ----------
    time, event : array-like
        Survival data.
    group : array-like
        Group labels (any sortable type; sorted for the output order).
    strata : array-like, optional
        Stratum labels.
    not_estimable : bool
        For data that give no test (fewer than two groups, no event, a singular variance matrix) return a result
        with ``chisq`` and ``p`` NaN and ``df`` 0 instead of raising.

    Returns
    -------
    LogrankResult

    Raises
    ------
    ValueError
        For fewer than two groups, missing labels, or a singular variance matrix (e.g.
        every stratum holds a single group, or no event), as R's ``solve`` fails (unless ``not_estimable``).

    References
    ----------
    Mantel N. Cancer Chemother Rep 1966;50:163-70. Peto R, Peto J. JRSS A 1972;135:185-207.
    Therneau TM, survival 3.5, ``survdiff``.
    """
    t, e = check_time_event(time, event)
    gcode, glevels = _label_codes(group, "group", t.size)
    k = len(glevels)
    if k < 2 and not not_estimable:
        raise ValueError(f"group: need at least two groups, got {list(glevels)}")
    scode = None if strata is None else _label_codes(strata, "strata", t.size)[0]
    core = logrank_arrays(t, e, gcode, k, scode) if k >= 2 else None
    if core is not None and np.isnan(core.chisq) and not not_estimable:
        raise ValueError("logrank_test: singular variance matrix (does every stratum hold "
                         "a single group?)")
    if not_estimable and (core is None or np.isnan(core.chisq) or core.df < 1):   # no group, or no event
        observed = np.bincount(gcode, weights=e, minlength=k)
        table = pd.DataFrame({"group": list(glevels), "n": np.bincount(gcode, minlength=k), "observed": observed,
                              "expected": np.nan, "o_minus_e": np.nan})
        return LogrankResult(chisq=np.nan, df=0, p=np.nan, table=table, var=np.full((k, k), np.nan),
                             stratified=strata is not None)
    table = pd.DataFrame({"group": list(glevels), "n": np.bincount(gcode, minlength=k),
                          "observed": core.observed, "expected": core.expected,
                          "o_minus_e": core.observed - core.expected})
    return LogrankResult(chisq=core.chisq, df=core.df, p=core.p, table=table, var=core.var,
                         stratified=strata is not None)


class LogrankCore(NamedTuple):
    """Log-rank statistics per group (arrays in group-code order) and the test."""

    observed: np.ndarray
    expected: np.ndarray
    var: np.ndarray
    chisq: float
    df: int
    p: float


def logrank_arrays(time: np.ndarray, event: np.ndarray, group: np.ndarray, n_groups: int | None = None,
                   strata: np.ndarray | None = None) -> LogrankCore:
    """Log-rank test from arrays: the computation of `logrank_test`, without input checks or labels.

    Under H0 (one hazard for all groups) the expected events of group g at each event time are
    ``d * n_g / n`` (risk sets within stratum); the variance of observed - expected is hypergeometric.
    Groups with no expected event are left out of the test (R ``survdiff``).

    Parameters
    ----------
    time, event : numpy.ndarray
        Valid survival data (not checked here; see `check_time_event`).
    group : numpy.ndarray of int
        Group codes 0 .. n_groups - 1.
    n_groups : int, optional
        Number of groups (``group.max() + 1`` by default); a code without patients has no expected event.
    strata : numpy.ndarray of int, optional
        Stratum codes 0 .. S - 1.

    Returns
    -------
    LogrankCore
        ``observed``, ``expected`` (per group), ``var`` (k x k), ``chisq``, ``df`` (groups with expected
        events minus 1) and ``p`` (NaN when df = 0). A singular variance matrix (e.g. every stratum holds a
        single group) gives ``chisq = p = NaN``; `logrank_test` raises then.
    """
    k = int(group.max()) + 1 if n_groups is None else int(n_groups)
    if strata is None:
        risk, dead = _event_time_counts(time, event, group, k)
    else:
        risk, dead = _event_time_counts_stratified(time, event, group, k, strata)
    n_t = risk.sum(axis=1)
    d_t = dead.sum(axis=1)
    expected = (risk * (d_t / n_t)[:, None]).sum(axis=0)
    observed = dead.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(n_t > 1, d_t * (n_t - d_t) / (n_t * n_t * (n_t - 1)), 0.0)
    var = np.diag((c * n_t) @ risk) - risk.T @ (risk * c[:, None])

    keep = expected > 0
    df = int(keep.sum()) - 1
    if keep.sum() < 2:
        chisq = 0.0
    else:
        o_e = (observed - expected)[keep][1:]
        vv = var[np.ix_(keep, keep)][1:, 1:]
        try:
            chisq = float(o_e @ np.linalg.solve(vv, o_e))
        except np.linalg.LinAlgError:
            chisq = np.nan
    # special.chdtrc is the chi-square upper tail that stats.chi2.sf calls (same bits, less overhead)
    p = float(special.chdtrc(df, chisq)) if df > 0 else np.nan
    return LogrankCore(observed, expected, var, chisq, df, p)


def _event_time_counts(time, event, group, k: int):
    """Numbers at risk and events per group at every distinct event time (rows in time order), unstratified.

    By hashing (`distinct_time_codes`) and counting when the times are tied, else by plain sorts of each group's
    times and event times and binary searches at the event times: no argsort, no inverse permutation (the cost
    at 10^6 patients). Counts are exact, so the test is the same to the bit.
    """
    coded = distinct_time_codes(time)
    if coded is not None:
        uniq, codes = coded
        key = codes * k + group
        at = np.bincount(key, minlength=uniq.size * k).reshape(uniq.size, k)
        dead = np.bincount(key, weights=event, minlength=uniq.size * k).reshape(uniq.size, k)
        risk = np.cumsum(at[::-1], axis=0)[::-1].astype(float)
        use = dead.sum(axis=1) > 0
        return risk[use], dead[use]
    died = event == 1
    event_times = np.unique(time[died])
    risk = np.empty((event_times.size, k))
    dead = np.empty((event_times.size, k))
    for g in range(k):
        in_g = group == g
        tg = np.sort(time[in_g])
        risk[:, g] = tg.size - np.searchsorted(tg, event_times, side="left")
        upto = np.searchsorted(np.sort(time[in_g & died]), event_times, side="right")
        dead[:, g] = np.diff(upto, prepend=0)
    return risk, dead


def _event_time_counts_stratified(time, event, group, k: int, scode):
    """`_event_time_counts` with risk sets within stratum: one row per (stratum, event time) with events."""
    order = np.lexsort((time, scode))
    ts, ss, es, gs = time[order], scode[order], event[order], group[order]
    new_block = np.ones(ts.size, dtype=bool)
    new_block[1:] = (ts[1:] != ts[:-1]) | (ss[1:] != ss[:-1])
    block = np.cumsum(new_block) - 1
    nb = int(block[-1]) + 1
    at = np.bincount(block * k + gs, minlength=nb * k).reshape(nb, k).astype(float)
    dead = np.bincount(block * k + gs, weights=es, minlength=nb * k).reshape(nb, k)
    # risk sets: reverse cumulative sums within stratum
    rc = np.vstack([np.cumsum(at[::-1], axis=0)[::-1], np.zeros((1, k))])
    block_stratum = ss[new_block]
    next_start = np.searchsorted(block_stratum, block_stratum, side="right")
    risk = rc[:nb] - rc[next_start]
    use = dead.sum(axis=1) > 0
    return risk[use], dead[use]
