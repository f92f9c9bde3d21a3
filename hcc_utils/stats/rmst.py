"""Restricted mean survival time (RMST): the area under the Kaplan-Meier curve from 0 to a horizon tau.

What is estimated
-----------------
RMST(tau) = integral_0^tau S(t) dt, the mean event-free time over the first tau months, estimated by the area
under the Kaplan-Meier step function. Its standard error is the one R prints with
``print(survfit(...), rmean = tau)`` (survival's ``survmean``; Klein & Moeschberger's delta-method variance):
``var = sum_j A_j^2 d_j / (n_j (n_j - d_j))`` over the distinct times t_j <= tau, A_j the area under the curve
from t_j to tau (a term with n_j = d_j counts 0). The difference between two independent groups has
``SE = sqrt(SE_1^2 + SE_2^2)`` and a normal (Wald) confidence interval, as ``survRM2::rmst2``'s unadjusted
difference; each group's interval is ``RMST -/+ z SE``.

Assumptions: independent censoring. Unlike a hazard ratio the RMST difference needs no proportional hazards. If
tau lies beyond a group's last observed time while the curve is still above 0 (the last patient censored), the
curve is carried flat to tau, as R does; `rmst` reports this (``beyond_followup``) so that the caller can decline
the estimate (survRM2 refuses such a tau).

References
----------
Royston P, Parmar MKB. Restricted mean survival time: an alternative to the hazard ratio for the design and
analysis of randomized trials with a time-to-event outcome. BMC Med Res Methodol 2013;13:152.
Uno H, et al. Moving beyond the hazard ratio in quantifying the between-group difference in survival analysis.
J Clin Oncol 2014;32:2380-5.
Klein JP, Moeschberger ML. Survival Analysis, 2nd ed. Springer 2003, section 4.5.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from hcc_utils.stats.survival import km_steps

__all__ = ["Rmst", "RmstDifference", "rmst", "rmst_difference"]


@dataclass(frozen=True)
class Rmst:
    """RMST of one group up to ``tau``, its standard error and Wald confidence limits."""

    tau: float
    rmst: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    events: int
    beyond_followup: bool  # tau later than the group's last observed time, the curve still above 0 (carried flat)


@dataclass(frozen=True)
class RmstDifference:
    """RMST of group 1 minus group 0 with its standard error, Wald CI and two-sided p."""

    tau: float
    diff: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    group1: Rmst
    group0: Rmst


def _z(conf_level: float) -> float:
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level: must lie in (0, 1), got {conf_level!r}")
    return float(special.ndtri(1 - (1 - conf_level) / 2))


def rmst(time, event, tau: float, conf_level: float = 0.95) -> Rmst:
    """RMST up to ``tau`` of one sample (``time`` >= 0, ``event`` 0/1), as R ``print(survfit, rmean = tau)``.

    Raises ValueError when tau is not positive or the sample is empty.
    """
    time, event = np.asarray(time, dtype=float), np.asarray(event, dtype=float)
    if time.size == 0:
        raise ValueError("rmst: empty sample")
    if not np.isfinite(tau) or tau <= 0:
        raise ValueError(f"tau: must be a positive number, got {tau!r}")
    steps = km_steps(time, event)  # the book's Kaplan-Meier estimator
    uniq, surv = steps.time, steps.survival
    deaths, at_risk = steps.n_event.astype(float), steps.n_risk.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(at_risk - deaths == 0, 0.0, deaths / (at_risk * (at_risk - deaths)))
    keep = uniq <= tau
    t, s, h = uniq[keep], surv[keep], hh[keep]
    knots = np.concatenate([[min(0.0, uniq.min())], t, [tau]])
    heights = np.concatenate([[1.0], s])
    rect = np.diff(knots) * heights                     # rectangle j spans knots j..j+1
    area_after = np.cumsum(rect[::-1])[::-1][1:]        # area from t_j to tau, per kept time
    mean = float(rect.sum())
    se = float(np.sqrt(np.sum(area_after ** 2 * h)))
    z = _z(conf_level)
    return Rmst(float(tau), mean, se, mean - z * se, mean + z * se, int(time.size), int(event.sum()),
                bool(tau > uniq.max() and surv[-1] > 0))


def rmst_difference(time, event, group, tau: float, conf_level: float = 0.95) -> RmstDifference:
    """RMST of group 1 minus group 0 (``group`` 0/1) up to ``tau``: difference, SE, Wald CI and p."""
    time, event, group = np.asarray(time, dtype=float), np.asarray(event, dtype=float), np.asarray(group)
    one, zero = group == 1, group == 0
    if not one.any() or not zero.any():
        raise ValueError("rmst_difference: both groups (1 and 0) need patients")
    g1, g0 = rmst(time[one], event[one], tau, conf_level), rmst(time[zero], event[zero], tau, conf_level)
    diff = g1.rmst - g0.rmst
    se = float(np.hypot(g1.se, g0.se))
    z = _z(conf_level)
    p = float(2 * special.ndtr(-abs(diff / se))) if se > 0 else float("nan")
    return RmstDifference(float(tau), diff, se, diff - z * se, diff + z * se, p, g1, g0)
