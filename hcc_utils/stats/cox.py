"""Cox proportional-hazards regression (Efron or Breslow ties), as R ``survival::coxph``.

The partial likelihood, its score and information are computed in O(n p^2) per Newton
iteration from cumulative sums over the distinct times (one O(n log n) sort at the start),
so the fit scales to millions of rows. The Newton-Raphson loop is R's ``coxfit6``: start at
beta = 0, stop when ``|1 - loglik_old / loglik_new| <= eps`` (1e-9), step-halving when the
log-likelihood decreases, at most 20 iterations. Wald 95% CI and p-values as
``summary(coxph)``. The cluster-robust variance is R's ``coxph(..., cluster = id)``: the
sum over clusters of the dfbeta residuals, ``D'D`` (Lin & Wei 1989). Case weights (e.g. inverse-probability
weights) are R's ``coxph(..., weights = w, robust = TRUE)``: weighted Efron partial likelihood, and the robust
variance from the weighted dfbeta residuals, one cluster per row when no cluster is given (Binder 1992).

Monotone likelihood (e.g. a binary covariate with no event in one level) has no finite
maximum; like R ("Loglik converged before variable ...; coefficient may be infinite") this
is detected and reported with a `CoxConvergenceWarning` naming the covariate (or a
`CoxConvergenceError` with ``on_infinite="raise"``), and the ``infinite_coef`` column of
the table is True for it.

References
----------
Cox DR. Regression models and life-tables. JRSS B 1972;34:187-220.
Efron B. The efficiency of Cox's likelihood function for censored data. JASA 1977;72:557-65.
Lin DY, Wei LJ. The robust inference for the Cox proportional hazards model. JASA 1989;84:1074-8.
Binder DA. Fitting Cox's proportional hazards models from survey data. Biometrika 1992;79:139-47.
Therneau TM, Grambsch PM. Modeling Survival Data: Extending the Cox Model. Springer 2000.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from hcc_utils.stats.checks import check_time_event
from hcc_utils.stats.cox_core import (SurvivalOrder, _full_column_rank, _newton, _RiskSets, _time_codes, _wald,
                                      survival_order)

__all__ = [
    "CoxConvergenceWarning", "CoxConvergenceError", "CoxModel", "cox_model", "fit_cox",
    "CoxArrays", "cox_arrays", "univariable_cox_arrays", "SurvivalOrder", "survival_order",
]


class CoxConvergenceWarning(UserWarning):
    """A Cox fit did not converge, or a coefficient may be infinite (monotone likelihood)."""


class CoxConvergenceError(RuntimeError):
    """Raised instead of `CoxConvergenceWarning` when ``on_infinite="raise"``."""


# --------------------------------------------------------------------------- array entry points
class CoxArrays(NamedTuple):
    """Coefficients (log hazard ratios), their standard errors and Wald p-values; NaN = not estimable."""

    coef: np.ndarray
    se: np.ndarray
    p: np.ndarray

    def hazard_ratios(self, conf_level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hazard ratios and their Wald confidence limits (as `CoxModel.table`)."""
        hr, low, high, _, _ = _wald(self.coef, self.se, conf_level)
        return hr, low, high


def _fit_arrays(time, event, x, ties: str, max_iter: int, eps: float) -> CoxArrays:
    """Fit the batch of models in x (n x B x p); B x p results, NaN where a fit is not estimable."""
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties: must be 'efron' or 'breslow', got {ties!r}")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        fit = _newton(_RiskSets(np.asarray(time, dtype=float), np.asarray(event), x, ties), max_iter, eps)
        beta = fit.beta.copy()
        ok = ~fit.singular & np.isfinite(beta).all(axis=1) & np.isfinite(fit.imat).all(axis=(1, 2))
        var = np.full(fit.imat.shape, np.nan)
        try:
            var[ok] = np.linalg.inv(fit.imat[ok])
        except np.linalg.LinAlgError:                     # find the singular one(s)
            for j in np.flatnonzero(ok):
                try:
                    var[j] = np.linalg.inv(fit.imat[j])
                except np.linalg.LinAlgError:
                    ok[j] = False
        se = np.sqrt(np.diagonal(var, axis1=1, axis2=2))
        bad = ~ok[:, None] | ~np.isfinite(se)
        beta[bad], se[bad] = np.nan, np.nan
        return CoxArrays(beta, se, _wald(beta, se)[4])


def cox_arrays(time: np.ndarray, event: np.ndarray, x: np.ndarray, ties: str = "efron", max_iter: int = 20,
               eps: float = 1e-9) -> CoxArrays:
    """One multivariable Cox model from arrays: the fit of `cox_model` without its checks and diagnostics.

    Estimates the log hazard ratios beta of h(t | x) = h0(t) exp(x'beta) by maximum partial likelihood
    (Efron or Breslow ties; R ``coxfit6`` Newton-Raphson and convergence rule), with Wald standard errors
    from the information matrix at the estimate and two-sided Wald p-values, as `cox_model` gives them.

    Parameters
    ----------
    time, event : numpy.ndarray
        Valid survival data (not checked here; see `check_time_event`).
    x : numpy.ndarray
        n x p covariate matrix without missing values.
    ties, max_iter, eps
        As `cox_model`.

    Returns
    -------
    CoxArrays
        Arrays of length p. When the fit is not estimable (singular information, e.g. a constant or
        collinear covariate, or non-finite values) every entry is NaN; no warning or error is raised.
        A monotone likelihood is not flagged here (use `cox_model`): its coefficient is large with a huge SE.
    """
    x = np.asarray(x, dtype=float)
    res = _fit_arrays(time, event, x[:, None, :], ties, max_iter, eps)
    return CoxArrays(res.coef[0], res.se[0], res.p[0])


def univariable_cox_arrays(time: np.ndarray, event: np.ndarray, x: np.ndarray, ties: str = "efron",
                           max_iter: int = 20, eps: float = 1e-9) -> CoxArrays:
    """One univariable Cox model per column of x, all fitted at once (same numbers as `cox_model` per column).

    Parameters
    ----------
    time, event : numpy.ndarray
        Valid survival data (not checked here; see `check_time_event`).
    x : numpy.ndarray
        n x K matrix; column k is the single covariate of model k (no missing values: all models use the
        same patients, unlike `univariable_cox`, which takes complete cases per covariate).
    ties, max_iter, eps
        As `cox_model`.

    Returns
    -------
    CoxArrays
        Arrays of length K: log hazard ratio, Wald SE and p of each column's model; NaN for a model that
        is not estimable (e.g. a constant column).
    """
    x = np.asarray(x, dtype=float)
    res = _fit_arrays(time, event, x[:, :, None], ties, max_iter, eps)
    return CoxArrays(res.coef[:, 0], res.se[:, 0], res.p[:, 0])


# --------------------------------------------------------------------------- public API
@dataclass(frozen=True)
class CoxModel:
    """A fitted Cox model.

    Attributes
    ----------
    covariates : list of str
    coef : numpy.ndarray
        Log hazard ratios.
    var : numpy.ndarray
        Variance matrix used for inference: the robust one when a cluster is given,
        else the inverse information (``naive_var``).
    naive_var, robust_var : numpy.ndarray or None
    loglik_null, loglik : float
        Log partial likelihood at beta = 0 and at the estimate (R ``fit$loglik``).
    n, events, iterations : int
    converged : bool
    infinite : list of str
        Covariates whose coefficient may be infinite (monotone likelihood).
    ties : str
    cluster : str or None
    """

    covariates: list
    coef: np.ndarray
    var: np.ndarray
    naive_var: np.ndarray
    robust_var: np.ndarray | None
    loglik_null: float
    loglik: float
    n: int
    events: int
    iterations: int
    converged: bool
    infinite: list = field(default_factory=list)
    ties: str = "efron"
    cluster: str | None = None
    weights: str | None = None

    def table(self, conf_level: float = 0.95) -> pd.DataFrame:
        """Tidy coefficient table (one row per covariate), as ``summary(coxph)``.

        Columns ``covariate, coef, se, hr, ci_low, ci_high, z, p, naive_se, robust_se,
        infinite_coef, n, events, loglik, loglik_null, converged, note``. ``se`` is the robust SE
        when the model has a cluster; CI (Wald, on the log scale) and p use ``se``. ``note`` is empty, or says why
        a coefficient has no finite estimate.
        """
        se = np.sqrt(np.diag(self.var))
        hr, ci_low, ci_high, z, p = _wald(self.coef, se, conf_level)
        return pd.DataFrame({
            "covariate": self.covariates, "coef": self.coef, "se": se, "hr": hr,
            "ci_low": ci_low, "ci_high": ci_high,
            "z": z, "p": p,
            "naive_se": np.sqrt(np.diag(self.naive_var)),
            "robust_se": (np.sqrt(np.diag(self.robust_var)) if self.robust_var is not None
                          else np.full(len(self.coef), np.nan)),
            "infinite_coef": [c in self.infinite for c in self.covariates],
            "n": self.n, "events": self.events, "loglik": self.loglik,
            "loglik_null": self.loglik_null, "converged": self.converged,
            "note": ["no finite estimate (monotone likelihood)" if c in self.infinite else ""
                     for c in self.covariates],
        })


def _column_floats(df, name, complete, all_complete):
    """Column ``name`` as float64 on the complete cases (a view when the column is float64 and every row is
    complete; no copy of the frame)."""
    series = df[name]
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
    else:                                                # text or mixed objects: as before, via the subset
        return series[complete].to_numpy(dtype=float)
    return values if all_complete else values[complete]


def _model_frame(df, duration_col, event_col, covariates, cluster_col, weights_col=None):
    """Complete cases of the model's columns: (mask, time, event, x, covariates), column by column (no copy of the
    frame's columns as a whole)."""
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    if not covariates:
        raise ValueError("covariates: at least one covariate is needed")
    if len(set(covariates)) != len(covariates):
        raise ValueError(f"covariates: duplicated names in {covariates}")
    cols = ([duration_col, event_col] + covariates + ([cluster_col] if cluster_col else [])
            + ([weights_col] if weights_col else []))
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"columns not in the data frame: {missing}")
    for c in covariates:
        if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])):
            raise ValueError(f"covariate {c!r}: must be numeric or boolean (0/1), "
                             f"got dtype {df[c].dtype}")
    complete = np.ones(len(df), dtype=bool)              # complete cases, as R's na.omit
    for c in dict.fromkeys(cols):
        complete &= df[c].notna().to_numpy()
    if not complete.any():
        raise ValueError("no complete cases for " + ", ".join(cols))
    every = bool(complete.all())
    time, event = check_time_event(_column_floats(df, duration_col, complete, every),
                                   _column_floats(df, event_col, complete, every),
                                   duration_col, event_col)
    x = np.empty((int(complete.sum()), len(covariates)))
    for j, c in enumerate(covariates):
        x[:, j] = _column_floats(df, c, complete, every)
    if not np.isfinite(x).all():
        bad = [c for j, c in enumerate(covariates) if not np.isfinite(x[:, j]).all()]
        raise ValueError(f"covariates {bad}: infinite values")
    return complete, time, event, x, covariates


def _separated_binary(x, event, covariates):
    """Binary covariates with no event in one level: {name: level}."""
    out = {}
    died = event == 1
    for j, c in enumerate(covariates):
        col = x[:, j]
        low, high = col.min(), col.max()
        if low == high:
            continue
        is_low = col == low
        if np.count_nonzero(is_low) + np.count_nonzero(col == high) == col.size:   # two levels (no sort needed)
            deaths_low = np.count_nonzero(is_low & died)
            for lev, deaths in ((low, deaths_low), (high, np.count_nonzero(died) - deaths_low)):
                if deaths == 0:
                    out[c] = lev
    return out


def cox_model(df: pd.DataFrame, duration_col: str, event_col: str, covariates,
              ties: str = "efron", cluster_col: str | None = None, max_iter: int = 20,
              eps: float = 1e-9, on_infinite: str = "warn", weights_col: str | None = None,
              robust: bool = False, survival_order: SurvivalOrder | None = None) -> CoxModel:
    """Fit a Cox proportional-hazards model by maximum partial likelihood.

    Model: hazard h(t | x) = h0(t) exp(x'beta), h0 unspecified. Assumes proportional
    hazards, log-linear covariate effects and independent censoring.

    Parameters
    ----------
    df : pandas.DataFrame
    duration_col, event_col : str
        Follow-up time (>= 0) and event indicator (0/1).
    covariates : list of str
        Numeric (or boolean) columns. Rows with a missing value in any used column are
        dropped (R's ``na.omit``); ``n`` reports the rows used.
    ties : {"efron", "breslow"}
        Handling of tied event times (R default: Efron).
    cluster_col : str, optional
        Cluster identifier (e.g. matched pair): robust sandwich variance as
        ``coxph(..., cluster = id)``; SE, CI and p then use it.
    weights_col : str, optional
        Case weights (finite, > 0), as R ``coxph(..., weights = w)``: weighted partial likelihood (Efron: tied
        deaths share their mean weight). Non-integer weights (e.g. inverse-probability weights) call for
        ``robust=True``: the naive SE treats them as frequencies.
    robust : bool, default False
        Robust sandwich variance without a cluster (each row its own cluster), R ``coxph(..., robust = TRUE)``:
        ``D'D`` with D the dfbeta residuals multiplied by the weights. Implied by `cluster_col`.
    max_iter : int, default 20
        R ``coxph.control(iter.max)``.
    eps : float, default 1e-9
        R ``coxph.control(eps)``: relative change of the log-likelihood at convergence.
    on_infinite : {"warn", "raise"}
        What to do when a coefficient may be infinite or the fit did not converge.
    survival_order : SurvivalOrder, optional
        `survival_order(df, duration_col)` made once for many fits on `df`: the times are not sorted again.

    Returns
    -------
    CoxModel

    Raises
    ------
    ValueError
        Bad input (names the argument/column), a constant covariate, or linearly dependent
        covariates.
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties: must be 'efron' or 'breslow', got {ties!r}")
    if on_infinite not in ("warn", "raise"):
        raise ValueError(f"on_infinite: must be 'warn' or 'raise', got {on_infinite!r}")
    complete, time, event, x, covariates = _model_frame(df, duration_col, event_col, covariates, cluster_col,
                                                        weights_col)
    time_codes = _time_codes(survival_order, df, duration_col, complete, time)
    weights = None
    if weights_col is not None:
        weights = _column_floats(df, weights_col, complete, bool(complete.all()))
        if not (np.isfinite(weights).all() and (weights > 0).all()):
            raise ValueError(f"{weights_col}: case weights must be finite and > 0")
    if event.sum() == 0:
        raise ValueError(f"{event_col}: no events among the {len(time)} complete cases")
    xc = x - x.mean(axis=0)
    const = [c for j, c in enumerate(covariates) if np.all(xc[:, j] == 0)]
    if const:
        raise ValueError(f"covariates {const}: constant among the complete cases")
    if not _full_column_rank(xc):
        raise ValueError(f"covariates {covariates}: linearly dependent (collinear) columns")
    del xc                                               # n x p: freed before the risk sets hold their copy
    separated = _separated_binary(x, event, covariates)

    rs = _RiskSets(time, event, x, ties, weights, time_codes)
    del x
    p = rs.p
    fit = _newton(rs, max_iter, eps)
    if fit.singular[0]:
        raise ValueError("singular information matrix: a covariate does not vary within the "
                         "risk sets of the event times")
    beta, ll0, ll, u, imat = fit.beta[0], float(fit.loglik0[0]), float(fit.loglik[0]), fit.score[0], fit.imat[0]
    iters, converged = int(fit.iterations[0]), bool(fit.converged[0])
    var = np.linalg.inv(imat)
    var = (var + var.T) / 2

    problems = []
    infinite = []
    if not converged:
        problems.append(f"Ran out of iterations ({max_iter}) and did not converge")
    else:
        # R coxph.fit: Newton step still large relative to the coefficient
        step = np.abs(u @ var)
        flag = ~np.isfinite(u) | ((step > eps) & (step > np.sqrt(eps) * np.abs(beta)))
        infinite = [c for c, f in zip(covariates, flag) if f]
    for c in separated:
        if c not in infinite:
            infinite.append(c)
    if infinite:
        detail = "; ".join(f"'{c}' has no event in level {separated[c]:g}" for c in infinite
                           if c in separated)
        problems.append("Loglik converged before variable(s) " + ", ".join(repr(c) for c in infinite)
                        + "; coefficient may be infinite (monotone likelihood)"
                        + (f": {detail}" if detail else "")
                        + ". Its HR, CI and p are not meaningful.")
    for msg in problems:
        if on_infinite == "raise":
            raise CoxConvergenceError(msg)
        warnings.warn(msg, CoxConvergenceWarning, stacklevel=3)

    robust_var = None
    if cluster_col is not None:
        dfbeta = rs.score_residuals(beta) @ var
        if weights is not None:
            dfbeta = dfbeta * weights[:, None]
        codes, _ = pd.factorize(df[cluster_col][complete])
        grouped = np.column_stack([np.bincount(codes, weights=dfbeta[:, j]) for j in range(p)])
        robust_var = grouped.T @ grouped
    elif robust:
        dfbeta = rs.score_residuals(beta) @ var
        if weights is not None:
            dfbeta = dfbeta * weights[:, None]
        robust_var = dfbeta.T @ dfbeta
    return CoxModel(covariates=covariates, coef=beta, var=robust_var if robust_var is not None else var,
                    naive_var=var, robust_var=robust_var, loglik_null=ll0, loglik=ll,
                    n=int(len(time)), events=int(event.sum()), iterations=iters,
                    converged=converged, infinite=infinite, ties=ties, cluster=cluster_col,
                    weights=weights_col)


def fit_cox(df: pd.DataFrame, duration_col: str, event_col: str, covariates,
            ties: str = "efron", cluster_col: str | None = None, **kwargs) -> pd.DataFrame:
    """Fit a Cox model and return its tidy coefficient table.

    Parameters are those of `cox_model`. Returns `CoxModel.table`: ``covariate, coef, se,
    hr, ci_low, ci_high`` (95% Wald), ``z, p`` (Wald), ``naive_se, robust_se,
    infinite_coef`` and the model's ``n, events, loglik, loglik_null, converged`` repeated
    on every row.
    """
    return cox_model(df, duration_col, event_col, covariates, ties=ties,
                     cluster_col=cluster_col, **kwargs).table()

