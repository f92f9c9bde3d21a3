"""Kaplan-Meier estimation, survival quantiles, numbers at risk and follow-up (log-rank tests: see
:mod:`hcc_utils.stats.logrank`, whose names are importable from here too).

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
from scipy import stats

from hcc_utils.stats.checks import _as_float_array, _check_conf_level, check_time_event, distinct_time_codes
from hcc_utils.stats.descriptive import descriptive_quantile
# log-rank tests live in hcc_utils.stats.logrank; importable from here as before
from hcc_utils.stats.logrank import LogrankCore, LogrankResult, logrank_arrays, logrank_test

__all__ = [
    "KaplanMeier", "KMQuantile", "KMSteps", "LogrankResult", "LogrankCore", "FollowUp",
    "kaplan_meier", "greenwood_se_log", "log_interval", "km_steps", "km_quantile", "km_quantile_times", "km_summary", "numbers_at_risk",
    "logrank_test", "logrank_arrays", "followup_summary", "check_time_event",
]

#: tolerance of quantile.survfit and print.survfit: sqrt(.Machine$double.eps)
R_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


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
    se_log = greenwood_se_log(n_risk, n_event)
    with np.errstate(invalid="ignore"):
        se = se_log * surv
    lower, upper = log_interval(surv, se_log, conf_level)
    table = pd.DataFrame({
        "time": steps.time, "n_risk": n_risk, "n_event": n_event, "n_censor": steps.n_censor,
        "survival": surv, "std_err": se, "std_err_log": se_log,
        "ci_lower": lower, "ci_upper": upper,
    })
    return KaplanMeier(table=table, n=int(t.size), events=int(e.sum()), conf_level=conf_level)


def greenwood_se_log(n_risk: np.ndarray, n_event: np.ndarray) -> np.ndarray:
    """Greenwood standard error of log S(t) (of the cumulative hazard) at each step: ``sqrt(sum d / (n (n - d)))``
    over event times up to t (infinite once every patient at risk has had the event)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(np.cumsum(np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)))


def log_interval(surv: np.ndarray, se_log: np.ndarray, conf_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """R's default ``conf.type = "log"`` pointwise interval ``exp(log S -/+ z se_log)``, the upper limit capped at
    1; NaN where S is 0."""
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_s = np.log(np.where(surv > 0, surv, np.nan))
        return np.exp(log_s - z * se_log), np.minimum(np.exp(log_s + z * se_log), 1.0)


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
    coded = distinct_time_codes(time)
    if coded is not None:                            # tied times (days): hash and count, no sort of n values
        uniq, codes = coded
        n_at = np.bincount(codes, minlength=uniq.size)
        n_event = np.bincount(codes, weights=event, minlength=uniq.size).astype(np.int64)
        n_risk = np.cumsum(n_at[::-1])[::-1]
    else:
        # Two plain sorts (times, and times of events) instead of an argsort and an inverse permutation. Counts
        # are exact integers either way, so S(t) is the same to the bit.
        ts = np.sort(time)
        n = ts.size
        first = np.flatnonzero(np.concatenate(([n > 0], ts[1:] != ts[:-1])))
        uniq = ts[first]
        n_at = np.diff(np.append(first, n))
        n_risk = n - first                           # time >= u: all but those sorted before u
        events_upto = np.searchsorted(np.sort(time[event == 1]), uniq, side="right")
        n_event = np.diff(events_upto, prepend=0).astype(np.int64)
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
        Columns ``group, n, events, median, median_ci_low, median_ci_high, q1, q3, q1_ci_low,
        q1_ci_high, q3_ci_low, q3_ci_high`` where ``q1`` is the 25th percentile of survival time (S
        drops to 0.75) and ``q3`` the 75th (S drops to 0.25), with the confidence limits of
        R ``quantile.survfit``. NaN = not reached.
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
        med, q1, q3 = (km_quantile(km, p, rule) for p in (0.5, 0.25, 0.75))
        rows.append({
            "group": g, "n": km.n, "events": km.events, "median": med.estimate,
            "median_ci_low": med.ci_low, "median_ci_high": med.ci_high,
            "q1": q1.estimate, "q3": q3.estimate, "q1_ci_low": q1.ci_low, "q1_ci_high": q1.ci_high,
            "q3_ci_low": q3.ci_low, "q3_ci_high": q3.ci_high,
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
