"""Test of proportional hazards for a fitted Cox model, as R ``survival::cox.zph`` (survival >= 3.0).

What is estimated
-----------------
For each covariate j the Cox model is extended with a time-varying coefficient ``beta_j + theta_j g(t)``, where
``g`` is a transform of time centred on its mean over the events. The score test of ``theta = 0`` (Grambsch &
Therneau 1994, in the form of survival 3.x: one Newton step from the fitted ``beta``, not the older regression of
scaled residuals on time) gives a chi-square per term with 1 degree of freedom (every term of the article's
models is one 0/1 column) and a GLOBAL chi-square for all terms at once. The scaled Schoenfeld residuals
``beta + d V^-1 s_k`` (s_k the Schoenfeld residual of the k-th event, V the information at the estimate, d the
number of events) plotted against ``g(t)`` show how the log hazard ratio drifts over time.

Conventions of R that are followed
----------------------------------
* ``transform = "km"`` (default): ``g(t) = 1 - S(t-)``, the left-continuous Kaplan-Meier estimate of all
  patients pooled (no strata, unweighted); also ``"identity"``, ``"log"``, ``"rank"`` (average ranks).
* ``g`` is centred by its mean over the event rows (tied events counted each).
* Efron or Breslow ties, as the fitted model; the Efron Schoenfeld residual uses the mean of the d tied means.
* The score vector of the first p (fixed-coefficient) components is set to 0 (the fit's own score).

Assumptions: no strata, no case weights, no (start, stop] data (the article's models). A model whose
coefficient may be infinite (monotone likelihood) is computed as R does but its test is not meaningful.

References
----------
Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based on weighted residuals. Biometrika
1994;81:515-26.
Therneau TM, Grambsch PM. Modeling Survival Data: Extending the Cox Model. Springer 2000, chapter 6.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from hcc_utils.stats.cox import CoxConvergenceWarning, CoxModel, cox_model
from hcc_utils.stats.survival import km_steps

__all__ = ["ZphResult", "cox_zph", "cox_zph_fit", "time_transform"]

TRANSFORMS = ("km", "identity", "log", "rank")


@dataclass(frozen=True)
class ZphResult:
    """A proportional-hazards test of one Cox model.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per term and a last row ``GLOBAL``: ``term, chisq, df, p`` (as ``cox.zph(fit)$table``).
    x : numpy.ndarray
        The transformed time g(t) of each event (not centred; R ``$x``), in time order.
    time : numpy.ndarray
        The event times (R ``$time``).
    residuals : pandas.DataFrame
        Scaled Schoenfeld residuals, one column per term, one row per event (R ``$y``).
    coef : numpy.ndarray
        The model's coefficients (the level the residuals scatter around under proportional hazards).
    transform : str
    """

    table: pd.DataFrame
    x: np.ndarray
    time: np.ndarray
    residuals: pd.DataFrame
    coef: np.ndarray
    transform: str

    @property
    def global_p(self) -> float:
        return float(self.table["p"].iloc[-1])


def time_transform(time: np.ndarray, event: np.ndarray, transform: str = "km") -> np.ndarray:
    """g(t) of every row: ``"km"`` 1 - S(t-) of the pooled Kaplan-Meier curve, ``"identity"``, ``"log"``, or
    ``"rank"`` (average ranks of all times)."""
    time, event = np.asarray(time, dtype=float), np.asarray(event, dtype=float)
    if transform == "identity":
        return time.copy()
    if transform == "log":
        return np.log(time)
    if transform == "rank":
        return stats.rankdata(time)
    if transform != "km":
        raise ValueError(f"transform: must be one of {TRANSFORMS}, got {transform!r}")
    steps = km_steps(time, event)  # the book's Kaplan-Meier estimator
    before = np.concatenate([[1.0], steps.survival[:-1]])        # S(t-) at each distinct time
    return 1.0 - before[np.searchsorted(steps.time, time)]


def cox_zph_fit(time, event, x, coef, ties: str = "efron", transform: str = "km",
                names=None) -> ZphResult:
    """The score test and scaled Schoenfeld residuals of a fitted model (arrays: n times, events, n x p
    covariates, the p fitted coefficients). See the module docstring; `cox_zph` takes a data frame."""
    time, event = np.asarray(time, dtype=float), np.asarray(event, dtype=float)
    x = np.asarray(x, dtype=float).reshape(len(time), -1)
    coef = np.asarray(coef, dtype=float).ravel()
    n, p = x.shape
    names = list(names) if names is not None else [f"x{j + 1}" for j in range(p)]
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties: must be 'efron' or 'breslow', got {ties!r}")
    dead = event == 1
    if not dead.any():
        raise ValueError("no events: the proportional-hazards test needs at least one")
    g_all = time_transform(time, event, transform)
    gt = g_all - g_all[dead].mean()
    xc = x - x.mean(axis=0)
    eta = xc @ coef
    risk = np.exp(eta - eta.max())
    order = np.argsort(time, kind="stable")             # R order(y[, 1]): ties in input order
    u = np.zeros(2 * p)
    imat = np.zeros((2 * p, 2 * p))
    schoen = np.empty((int(dead.sum()), p))
    # backwards in time, accumulating the risk set
    denom, a, cmat = 0.0, np.zeros(p), np.zeros((p, p))
    k_event = int(dead.sum())
    i = n - 1
    while i >= 0:
        t = time[order[i]]
        j = i
        while j >= 0 and time[order[j]] == t:
            j -= 1
        rows = order[j + 1:i + 1][::-1]                 # this tied set, in the order R walks it
        i = j
        w_g = gt[rows[0]]
        cens = rows[~dead[rows]]
        deaths = rows[dead[rows]]
        r_c = risk[cens]
        denom += r_c.sum()
        a += r_c @ xc[cens]
        cmat += (xc[cens] * r_c[:, None]).T @ xc[cens]
        nd = deaths.size
        if nd == 0:
            continue
        r_d = risk[deaths]
        denom2, a2 = r_d.sum(), r_d @ xc[deaths]
        cmat2 = (xc[deaths] * r_d[:, None]).T @ xc[deaths]
        k_event -= nd
        block = slice(k_event, k_event + nd)
        schoen[block] = xc[deaths[::-1]]            # event slots in ascending (time, input) order
        sum_x = xc[deaths].sum(axis=0)
        u[:p] += sum_x
        u[p:] += w_g * sum_x
        if ties == "breslow" or nd == 1:
            fracs = np.array([1.0])
            wt = float(nd)
        else:
            fracs = np.arange(1, nd + 1) / nd
            wt = 1.0
        if ties == "efron" and nd > 1:
            means = [(a + a2 * f) / (denom + denom2 * f) for f in fracs]
            schoen[block] -= np.mean(means, axis=0)
        else:
            schoen[block] -= (a + a2) / (denom + denom2)
        for f in fracs:
            d_ = denom + denom2 * f
            a_ = a + a2 * f
            c_ = cmat + cmat2 * f
            mean = a_ / d_
            u[:p] -= wt * mean
            u[p:] -= w_g * wt * mean
            v = wt * (c_ / d_ - np.outer(mean, mean))
            imat[:p, :p] += v
            imat[:p, p:] += w_g * v
            imat[p:, p:] += w_g * w_g * v
        denom += denom2
        a += a2
        cmat += cmat2
    imat[p:, :p] = imat[:p, p:].T
    tests, dfs = [], []
    for j in range(p):
        kk = list(range(p)) + [p + j]
        uj = np.concatenate([np.zeros(p), u[[p + j]]])
        tests.append(float(np.linalg.solve(imat[np.ix_(kk, kk)], uj) @ uj))
        dfs.append(1)
    ug = np.concatenate([np.zeros(p), u[p:]])
    tests.append(float(np.linalg.solve(imat, ug) @ ug))
    dfs.append(p)
    table = pd.DataFrame({"term": names + ["GLOBAL"], "chisq": tests, "df": dfs,
                          "p": stats.chi2.sf(tests, dfs)})
    death_rows = order[dead[order]]
    d = death_rows.size
    vmean = imat[:p, :p] / d
    scaled = np.linalg.solve(vmean, schoen.T).T + coef
    return ZphResult(table=table, x=g_all[death_rows], time=time[death_rows],
                     residuals=pd.DataFrame(scaled, columns=names), coef=coef, transform=transform)


def cox_zph(df: pd.DataFrame, duration_col: str, event_col: str, covariates, ties: str = "efron",
            transform: str = "km", model: CoxModel | None = None) -> ZphResult:
    """Fit the Cox model of ``covariates`` (complete cases, as `cox_model`) and test its proportional hazards as
    R ``cox.zph(coxph(Surv(time, event) ~ covariates, ties = ties))``.

    Parameters
    ----------
    df, duration_col, event_col, covariates, ties
        As `hcc_utils.stats.cox.cox_model`.
    transform : {"km", "identity", "log", "rank"}
        The function of time the coefficient may drift along (R default ``"km"``).
    model : CoxModel, optional
        The model already fitted on the same data (else it is fitted here).

    Returns
    -------
    ZphResult
    """
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    sub = df[[duration_col, event_col] + covariates].dropna()
    if model is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoxConvergenceWarning)
            model = cox_model(sub, duration_col, event_col, covariates, ties=ties)
    return cox_zph_fit(sub[duration_col].to_numpy(float), sub[event_col].to_numpy(float),
                       sub[covariates].to_numpy(float), model.coef, ties=model.ties, transform=transform,
                       names=covariates)
