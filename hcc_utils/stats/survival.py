"""Kaplan-Meier estimation, survival quantiles, numbers at risk, log-rank tests and follow-up.

Every function reproduces R's ``survival`` package (Therneau, version 3.5; ``survfit``,
``quantile.survfit``, ``print.survfit``, ``summary.survfit``, ``survdiff``) for right-censored
data, and is checked against it in ``tests/test_survival.py`` (fixtures from
``tests/reference/survival_reference.R``). All algorithms are O(n log n) (one sort).

Not reproduced: R's ``timefix`` (``aeqSurv``), which merges times that differ by less than
about 1e-8 relatively; times here are compared exactly, so derived times such as
``days / 30.4375`` must be computed the same way for every patient (they are).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special, stats

from hcc_utils.stats.descriptive import descriptive_quantile

__all__ = [
    "KaplanMeier", "KMQuantile", "KMSteps", "LogrankResult", "LogrankCore", "FollowUp",
    "kaplan_meier", "km_steps", "km_quantile", "km_quantile_times", "km_summary", "numbers_at_risk",
    "logrank_test", "logrank_arrays", "followup_summary", "check_time_event",
]

#: tolerance of quantile.survfit and print.survfit: sqrt(.Machine$double.eps)
R_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


# --------------------------------------------------------------------------- input checks
def _as_float_array(values, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: values must be numeric ({exc})") from None
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    return arr


def check_time_event(time, event, time_name: str = "time", event_name: str = "event"):
    """Validate right-censored survival data.

    Parameters
    ----------
    time, event : array-like
        Follow-up times (finite, >= 0) and event indicators (0 = censored, 1 = event;
        booleans accepted).
    time_name, event_name : str
        Names used in error messages (e.g. the DataFrame columns).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``time`` as float64 and ``event`` as int64.

    Raises
    ------
    ValueError
        Naming the argument, when a time is missing, infinite or negative, when an event
        flag is not 0/1 (missing included), when the lengths differ or the data are empty.
    """
    t = _as_float_array(time, time_name)
    e = _as_float_array(event, event_name)
    if t.shape != e.shape:
        raise ValueError(f"{time_name} and {event_name} must have the same length "
                         f"({t.size} != {e.size})")
    if t.size == 0:
        raise ValueError(f"{time_name}: no observations")
    bad = ~np.isfinite(t)
    if bad.any():
        raise ValueError(f"{time_name}: {int(bad.sum())} missing or infinite value(s), "
                         f"first at position {int(np.flatnonzero(bad)[0])}")
    if (t < 0).any():
        i = int(np.flatnonzero(t < 0)[0])
        raise ValueError(f"{time_name}: negative times are not allowed (position {i}: {t[i]!r})")
    bad = ~np.isin(e, (0.0, 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{event_name}: must be 0 (censored) or 1 (event); "
                         f"found {e[i]!r} at position {i}")
    return t, e.astype(np.int64)


def _check_conf_level(conf_level: float) -> float:
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level: must lie in (0, 1), got {conf_level!r}")
    return float(conf_level)


# --------------------------------------------------------------------------- Kaplan-Meier
@dataclass(frozen=True)
class KaplanMeier:
    """Kaplan-Meier estimate, as R ``survfit(Surv(time, event) ~ 1)`` (conf.type = "log").

    Attributes
    ----------
    table : pandas.DataFrame
        One row per distinct observed time (event or censoring), as ``survfit``:
        ``time, n_risk, n_event, n_censor, survival, std_err, std_err_log, ci_lower,
        ci_upper``. ``std_err`` is the standard error of S(t), as reported by
        ``summary(fit)$std.err``; ``std_err_log`` is ``fit$std.err``, the Greenwood standard
        error of the cumulative hazard -log S(t) (infinite once S(t) = 0). The CI is
        ``exp(log S -/+ z * std_err_log)``, upper limit capped at 1, NaN where S(t) = 0.
    n, events : int
        Number of patients and of events.
    conf_level : float
        Confidence level of ``ci_lower``/``ci_upper``.
    """

    table: pd.DataFrame
    n: int
    events: int
    conf_level: float

    @property
    def time(self) -> np.ndarray:
        return self.table["time"].to_numpy()

    @property
    def survival(self) -> np.ndarray:
        return self.table["survival"].to_numpy()


def kaplan_meier(time, event, conf_level: float = 0.95) -> KaplanMeier:
    """Kaplan-Meier estimate of the survival function with Greenwood SE and log CI.

    Estimates S(t) = P(T > t) under independent (non-informative) right censoring as
    the product over event times u <= t of (1 - d_u / n_u), n_u the number at risk just
    before u (time >= u) and d_u the number of events at u. Censorings tied with events
    count as at risk at that time (R's convention).

    Parameters
    ----------
    time : array-like of float
        Follow-up times (>= 0).
    event : array-like of {0, 1}
        1 = event observed, 0 = censored.
    conf_level : float, default 0.95
        Level of the pointwise confidence interval.

    Returns
    -------
    KaplanMeier
        Step table identical to R's ``survfit`` object: ``surv``, ``n.risk``, ``n.event``,
        ``n.censor``, ``lower``, ``upper`` and both standard errors (see `KaplanMeier`).

    Notes
    -----
    Greenwood variance of the cumulative hazard: ``sum d / (n (n - d))`` over event times
    up to t. R's default ``conf.type = "log"`` interval: ``exp(log S -/+ z * se)``.

    References
    ----------
    Kaplan EL, Meier P. JASA 1958;53:457-81. Greenwood M. Rep Public Health Med Subj 1926;33.
    Therneau TM. A Package for Survival Analysis in R (survival 3.5), ``survfit.formula``,
    ``survfit.object``.
    """
    conf_level = _check_conf_level(conf_level)
    t, e = check_time_event(time, event)
    steps = km_steps(t, e)
    n_risk, n_event, surv = steps.n_risk, steps.n_event, steps.survival
    with np.errstate(divide="ignore", invalid="ignore"):
        green = np.cumsum(np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0))
        se_log = np.sqrt(green)
        se = se_log * surv
        z = stats.norm.ppf(1 - (1 - conf_level) / 2)
        log_s = np.log(np.where(surv > 0, surv, np.nan))
        lower = np.exp(log_s - z * se_log)
        upper = np.minimum(np.exp(log_s + z * se_log), 1.0)
    table = pd.DataFrame({
        "time": steps.time, "n_risk": n_risk, "n_event": n_event, "n_censor": steps.n_censor,
        "survival": surv, "std_err": se, "std_err_log": se_log,
        "ci_lower": lower, "ci_upper": upper,
    })
    return KaplanMeier(table=table, n=int(t.size), events=int(e.sum()), conf_level=conf_level)


class KMSteps(NamedTuple):
    """The Kaplan-Meier step function at each distinct observed time (arrays of equal length)."""

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    survival: np.ndarray

    def quantiles(self, probs=(0.25, 0.5, 0.75), rule: str = "quantile", tol: float = R_TOLERANCE) -> np.ndarray:
        """Survival-time quantiles of this curve (NaN = not reached); see `km_quantile_times`."""
        _check_rule(rule)
        return _curve_quantiles(self.time, self.survival, probs, rule, tol)


def km_steps(time: np.ndarray, event: np.ndarray) -> KMSteps:
    """Kaplan-Meier estimate of S(t) at every distinct time: the array core of `kaplan_meier`.

    S(t) is the product over times u <= t of (n_u - d_u) / n_u, where n_u counts the patients with
    time >= u (censorings tied with events are at risk, as R) and d_u the events at u.

    Parameters
    ----------
    time : numpy.ndarray of float
        Follow-up times, already valid (finite, >= 0): no checks are made here; `kaplan_meier` and the
        other public functions validate first.
    event : numpy.ndarray of {0, 1}

    Returns
    -------
    KMSteps
        ``time`` (distinct times, events and censorings), ``n_risk``, ``n_event``, ``n_censor`` and
        ``survival`` (S just after each time; its last value is S after the last event).
    """
    uniq, inv = np.unique(time, return_inverse=True)
    n_at = np.bincount(inv, minlength=uniq.size)
    n_event = np.bincount(inv, weights=event, minlength=uniq.size).astype(np.int64)
    n_risk = np.cumsum(n_at[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod((n_risk - n_event) / n_risk)
    return KMSteps(uniq, n_risk, n_event, n_at - n_event, surv)


# --------------------------------------------------------------------------- quantiles
@dataclass(frozen=True)
class KMQuantile:
    """A survival-time quantile and its confidence interval (NaN = not reached)."""

    p: float
    estimate: float
    ci_low: float
    ci_high: float


def _findq(x: np.ndarray, y: np.ndarray, probs, tol: float) -> np.ndarray:
    """R survival:::findq for each probability: x = c(0, time), y = c(0, 1 - curve).

    The p-quantile is the midpoint of the first knots where y + tol >= p and y - tol >= p (the same knot
    unless the curve equals 1 - p within `tol` on a flat segment; then the segment's start and the next
    drop); on the curve's last segment the next drop is replaced by the last time.
    """
    probs = np.atleast_1d(np.asarray(probs, dtype=float))
    out = np.full(probs.shape, np.nan)
    # 1 - S of a Kaplan-Meier curve never decreases; confidence limits may (and may be NaN)
    monotone = bool(np.all(y[1:] >= y[:-1]))
    if monotone:
        ymax = y[-1]
        keep = np.concatenate(([True], y[1:] != y[:-1]))
    else:
        finite = ~np.isnan(y)
        if not finite.any():
            return out
        ymax = y[finite].max()
        # duplicated(y): keep the first occurrence of each value (NaN counts as one value)
        keep = np.sort(np.unique(y, return_index=True)[1])
    xmax = x[-1]
    x, y = x[keep], y[keep]

    def first_knot(shifted):
        # approx(shifted, 1:n, p, "constant", f = 1): position of the smallest knot >= p, -1 if none
        found = np.full(probs.shape, -1)
        if monotone:                     # sorted knots: the first one >= p
            if shifted.size < 2:
                return found
            j = np.searchsorted(shifted, probs, side="left")
            hit = (j < shifted.size) & (probs >= shifted[0])
            found[hit] = j[hit]
            return found
        ok = ~np.isnan(shifted)
        if ok.sum() < 2:  # approx needs two points (R errors; a curve with no step here)
            return found
        knots, pos = shifted[ok], np.flatnonzero(ok)
        cand = knots[None, :] >= probs[:, None]
        j = np.argmin(np.where(cand, knots[None, :], np.inf), axis=1)   # first of the smallest
        hit = cand.any(axis=1) & (probs >= knots.min())
        found[hit] = pos[j[hit]]
        return found

    i1 = first_knot(y + tol)
    i2 = first_knot(y - tol)
    both = (i1 >= 0) & (i2 >= 0)
    out[both] = (x[i1[both]] + x[i2[both]]) / 2
    if not np.isnan(y[-1]):
        last = np.abs(probs - y[-1]) < tol
        out[last & (i1 < 0)] = np.nan
        on_last = last & (i1 >= 0)
        out[on_last] = (x[i1[on_last]] + xmax) / 2
    out[probs == 0] = x[0]
    out[ymax < probs] = np.nan
    return out


def _minmin(y: np.ndarray, x: np.ndarray, level: float, tol: float) -> float:
    """R survival:::survmean's minmin (print.survfit median), generalised to any level."""
    keep = ~np.isnan(y) & (y < level + tol)
    if not keep.any():
        return np.nan
    x, y = x[keep], y[keep]
    if abs(y[0] - level) < tol and (y < y[0]).any():
        return float((x[0] + x[np.flatnonzero(y < y[0])[0]]) / 2)
    return float(x[0])


def km_quantile(km: KaplanMeier, p: float = 0.5, rule: str = "quantile",
                tol: float = R_TOLERANCE) -> KMQuantile:
    """Quantile of the survival time from a Kaplan-Meier curve, with its confidence interval.

    The p-quantile is the first time at which S(t) <= 1 - p. When S(t) equals 1 - p
    (within `tol`) on a flat segment, it is the midpoint between the time the segment
    starts and the next time S drops (R's rule). Not reached -> NaN (never inf).

    Parameters
    ----------
    km : KaplanMeier
        From `kaplan_meier`.
    p : float, default 0.5
        Probability in [0, 1]: 0.5 = median, 0.25 = first quartile (time at which S drops
        to 0.75), 0.75 = third quartile.
    rule : {"quantile", "print"}
        ``"quantile"`` (default): R ``quantile.survfit`` (survival 3.5), used for the
        quartiles. If S(t) = 1 - p on the *last* segment of the curve, the quantile is the
        midpoint between its start and the last observed time.
        ``"print"``: R ``print.survfit`` / ``summary(fit)$table`` (``survmean``), which in
        that last-segment case returns the start of the segment instead. The two rules
        agree everywhere else.
    tol : float
        Equality tolerance, R's ``sqrt(.Machine$double.eps)``.

    Returns
    -------
    KMQuantile
        ``estimate`` and ``ci_low``/``ci_high``: the same rule applied to the lower and
        upper pointwise confidence curves of `km` (Brookmeyer-Crowley style inversion of
        the pointwise interval; with R's default log transform). NaN when not reached.

    References
    ----------
    Brookmeyer R, Crowley J. A confidence interval for the median survival time.
    Biometrics 1982;38:29-41. Therneau TM, survival 3.5, ``quantile.survfit``.
    """
    _check_rule(rule)
    p = float(p)
    if not 0 <= p <= 1:
        raise ValueError(f"p: must lie in [0, 1], got {p!r}")
    tab = km.table
    time = tab["time"].to_numpy()
    vals = [float(_curve_quantiles(time, tab[c].to_numpy(), [p], rule, tol)[0])
            for c in ("survival", "ci_lower", "ci_upper")]
    return KMQuantile(p=p, estimate=vals[0], ci_low=vals[1], ci_high=vals[2])


def _check_rule(rule: str) -> None:
    if rule not in ("quantile", "print"):
        raise ValueError(f"rule: must be 'quantile' or 'print', got {rule!r}")


def _curve_quantiles(time: np.ndarray, curve: np.ndarray, probs, rule: str, tol: float) -> np.ndarray:
    """Quantiles of one step curve (survival or a confidence limit) given at the distinct times."""
    if rule == "quantile":
        return _findq(np.concatenate(([0.0], time)), np.concatenate(([0.0], 1 - curve)), probs, tol)
    return np.array([_minmin(curve, time, 1 - float(p), tol) for p in np.atleast_1d(probs)])


def km_quantile_times(time: np.ndarray, event: np.ndarray, probs=(0.25, 0.5, 0.75), rule: str = "quantile",
                      tol: float = R_TOLERANCE) -> np.ndarray:
    """Kaplan-Meier survival-time quantiles of one sample, from arrays (no confidence interval).

    The same estimate and rule as `km_quantile` on `kaplan_meier` (identical numbers), without the
    data frame and the confidence curves: for fast repeated use (the synthetic cohort's calibration).

    Parameters
    ----------
    time, event : numpy.ndarray
        Valid survival data (not checked here; see `check_time_event`).
    probs : sequence of float, default (0.25, 0.5, 0.75)
        Probabilities in [0, 1]; 0.25 is the time at which S drops to 0.75.
    rule : {"quantile", "print"}
        R ``quantile.survfit`` (default) or ``print.survfit``, see `km_quantile`.
    tol : float
        Equality tolerance, R's ``sqrt(.Machine$double.eps)``.

    Returns
    -------
    numpy.ndarray
        One quantile per probability; NaN when not reached.
    """
    return km_steps(np.asarray(time, dtype=float), np.asarray(event)).quantiles(probs, rule, tol)


def km_summary(df: pd.DataFrame, time_col: str, event_col: str, group_col: str | None = None,
               rule: str = "quantile", conf_level: float = 0.95) -> pd.DataFrame:
    """Per-group Kaplan-Meier summary: n, events, median (CI), first and third quartile.

    Parameters
    ----------
    df : pandas.DataFrame
    time_col, event_col : str
        Columns with follow-up time and event indicator (0/1).
    group_col : str, optional
        Grouping column; groups appear in sorted order. Without it, one row ``"all"``.
    rule : {"quantile", "print"}
        Quantile rule, see `km_quantile`.
    conf_level : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        Columns ``group, n, events, median, median_ci_low, median_ci_high, q1, q3`` where
        ``q1`` is the 25th percentile of survival time (S drops to 0.75) and ``q3`` the 75th
        (S drops to 0.25). NaN = not reached.
    """
    for col in (time_col, event_col) + ((group_col,) if group_col is not None else ()):
        if col not in df.columns:
            raise KeyError(f"column {col!r} not in the data frame")
    if group_col is None:
        groups = [("all", df)]
    else:
        if df[group_col].isna().any():
            raise ValueError(f"{group_col}: missing group values")
        groups = [(g, df[df[group_col] == g]) for g in sorted(df[group_col].unique())]
    rows = []
    for g, sub in groups:
        km = kaplan_meier(sub[time_col].to_numpy(), sub[event_col].to_numpy(), conf_level)
        med = km_quantile(km, 0.5, rule)
        rows.append({
            "group": g, "n": km.n, "events": km.events, "median": med.estimate,
            "median_ci_low": med.ci_low, "median_ci_high": med.ci_high,
            "q1": km_quantile(km, 0.25, rule).estimate, "q3": km_quantile(km, 0.75, rule).estimate,
        })
    return pd.DataFrame(rows)


def numbers_at_risk(time, event, at_times) -> pd.Series:
    """Numbers at risk at chosen times (for the table under a Kaplan-Meier plot).

    The number at risk at t is the number of patients with follow-up time >= t (still
    under observation just before t), as ``summary(survfit(...), times = t)$n.risk``.
    Beyond the last follow-up time it is 0 (R's ``extend = TRUE``).

    Parameters
    ----------
    time, event : array-like
        Survival data (event is validated but not needed for the count).
    at_times : array-like of float
        Times at which to count (>= 0).

    Returns
    -------
    pandas.Series
        Integer counts named ``n_risk``, indexed by `at_times`.
    """
    t, _ = check_time_event(time, event)
    at = _as_float_array(np.atleast_1d(at_times), "at_times")
    if (~np.isfinite(at)).any() or (at < 0).any():
        raise ValueError("at_times: must be finite and >= 0")
    ts = np.sort(t)
    counts = ts.size - np.searchsorted(ts, at, side="left")
    return pd.Series(counts.astype(np.int64), index=pd.Index(at, name="time"), name="n_risk")


# --------------------------------------------------------------------------- log-rank
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
    labels = pd.Series(np.asarray(values, dtype=object))
    if len(labels) != n:
        raise ValueError(f"{name} must have the same length as time ({len(labels)} != {n})")
    if labels.isna().any():
        raise ValueError(f"{name}: missing labels")
    return pd.factorize(labels, sort=True)


def logrank_test(time, event, group, strata=None) -> LogrankResult:
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

    Returns
    -------
    LogrankResult

    Raises
    ------
    ValueError
        For fewer than two groups, missing labels, or a singular variance matrix (e.g.
        every stratum holds a single group), as R's ``solve`` fails.

    References
    ----------
    Mantel N. Cancer Chemother Rep 1966;50:163-70. Peto R, Peto J. JRSS A 1972;135:185-207.
    Therneau TM, survival 3.5, ``survdiff``.
    """
    t, e = check_time_event(time, event)
    gcode, glevels = _label_codes(group, "group", t.size)
    k = len(glevels)
    if k < 2:
        raise ValueError(f"group: need at least two groups, got {list(glevels)}")
    scode = None if strata is None else _label_codes(strata, "strata", t.size)[0]
    core = logrank_arrays(t, e, gcode, k, scode)
    if np.isnan(core.chisq):
        raise ValueError("logrank_test: singular variance matrix (does every stratum hold "
                         "a single group?)")
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
    scode = np.zeros(time.size, dtype=np.int64) if strata is None else strata
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
    n_t = risk.sum(axis=1)
    d_t = dead.sum(axis=1)
    use = d_t > 0
    risk, dead, n_t, d_t = risk[use], dead[use], n_t[use], d_t[use]
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


# --------------------------------------------------------------------------- follow-up
@dataclass(frozen=True)
class FollowUp:
    """Median and quartiles of follow-up (NaN = not reached for ``reverse_km``)."""

    method: str
    n: int
    median: float
    q1: float
    q3: float


def followup_summary(time, event, method: str = "observed") -> FollowUp:
    """Median (and quartiles) of follow-up time.

    Parameters
    ----------
    time, event : array-like
        Survival data.
    method : {"observed", "reverse_km"}
        ``"observed"``: quantiles of all observed times (events and censorings), SAS
        PCTLDEF=5 (R ``quantile(type = 2)``), as the article's "median follow-up".
        ``"reverse_km"``: median of the censoring distribution, i.e. the Kaplan-Meier
        estimate with the event flag reversed (deaths are censored observations of the
        time to censoring), quantiles by R's ``quantile.survfit`` rule. It estimates the
        potential follow-up had nobody died (Schemper & Smith 1996).

    Returns
    -------
    FollowUp
        ``q1``/``q3`` are the 25th/75th percentiles of follow-up time.

    References
    ----------
    Schemper M, Smith TL. A note on quantifying follow-up in studies of failure time.
    Control Clin Trials 1996;17:343-6.
    """
    t, e = check_time_event(time, event)
    if method == "observed":
        q = descriptive_quantile(t, [0.25, 0.5, 0.75], method="sas5")
    elif method == "reverse_km":
        km = kaplan_meier(t, 1 - e)
        q = [km_quantile(km, p).estimate for p in (0.25, 0.5, 0.75)]
    else:
        raise ValueError(f"method: must be 'observed' or 'reverse_km', got {method!r}")
    return FollowUp(method=method, n=int(t.size), median=float(q[1]), q1=float(q[0]),
                    q3=float(q[2]))
