"""Propensity-score weighting: inverse-probability-of-treatment (IPTW) and overlap weights, effective sample
size, weighted covariate balance and the weighted Kaplan-Meier estimate.

Weights from a propensity score e(x) = P(treated | x):

* **IPTW (ATE)**: ``1 / e`` for the treated, ``1 / (1 - e)`` for the controls; the weighted sample mimics the
  whole population under each treatment, so a contrast estimates the average treatment effect (ATE). Stabilised
  weights multiply by the marginal probability of the group received (``P(T = 1)``, ``P(T = 0)``): same point
  estimates, weights near 1 on average (Robins, Hernan & Brumback 2000).
* **Overlap (ATO)**: ``1 - e`` for the treated, ``e`` for the controls; weights are bounded by 1, patients who could
  have received either drug count most, and the estimand is the effect in the population of clinical equipoise
  (Li, Morgan & Zaslavsky 2018). With a logistic propensity model, weighted means of every model covariate are
  exactly equal between groups.

Assumptions: no unmeasured confounding, a correctly specified propensity model and positivity (0 < e < 1). A
score near 0 or 1 gives extreme IPTW weights; the effective sample size (Kish) shows how much information they
leave.

Pure statistics: imports nothing from the other layers of ``hcc_utils``.

References
----------
Robins JM, Hernan MA, Brumback B. Marginal structural models and causal inference in epidemiology.
Epidemiology 2000;11:550-60.
Li F, Morgan KL, Zaslavsky AM. Balancing covariates via propensity score weighting. JASA 2018;113:390-400.
Austin PC, Stuart EA. Moving towards best practice when using inverse probability of treatment weighting (IPTW)
using the propensity score to estimate causal treatment effects in observational studies. Stat Med
2015;34:3661-79.
Kish L. Survey Sampling. Wiley 1965.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hcc_utils.stats.survival import R_TOLERANCE, _curve_quantiles, greenwood_se_log, log_interval

__all__ = ["WEIGHT_METHODS", "ps_weights", "effective_sample_size", "weighted_smd", "weighted_balance_table",
           "weighted_kaplan_meier", "weighted_km_median"]

#: Weighting schemes of `ps_weights`: the estimand each targets.
WEIGHT_METHODS = {"iptw": "ATE", "overlap": "ATO"}


def ps_weights(ps, treatment, method: str = "iptw", stabilized: bool = False) -> np.ndarray:
    """Propensity-score weights of each patient.

    Parameters
    ----------
    ps : array-like of float
        Propensity scores, strictly between 0 and 1.
    treatment : array-like of {0, 1}
        1 = the treated group of the propensity model.
    method : {"iptw", "overlap"}
        ``iptw``: 1/e (treated), 1/(1-e) (controls), the ATE. ``overlap``: 1-e (treated), e (controls), the ATO.
    stabilized : bool, default False
        IPTW only: multiply by the marginal proportion of the group received.

    Returns
    -------
    numpy.ndarray
        One weight per patient (> 0).
    """
    e = np.asarray(ps, dtype=float)
    t = np.asarray(treatment, dtype=float)
    if e.shape != t.shape:
        raise ValueError(f"ps and treatment: lengths differ ({e.size} vs {t.size})")
    if not np.isin(t, (0.0, 1.0)).all():
        raise ValueError("treatment: must be 0/1")
    if not (np.isfinite(e).all() and ((e > 0) & (e < 1)).all()):
        raise ValueError("ps: propensity scores must lie strictly between 0 and 1 (positivity)")
    if method == "iptw":
        w = np.where(t == 1, 1 / e, 1 / (1 - e))
        if stabilized:
            p1 = t.mean()
            w = w * np.where(t == 1, p1, 1 - p1)
        return w
    if method == "overlap":
        if stabilized:
            raise ValueError("stabilized: only for method='iptw'")
        return np.where(t == 1, 1 - e, e)
    raise ValueError(f"method: must be one of {sorted(WEIGHT_METHODS)}, got {method!r}")


def effective_sample_size(weights) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2``: the number of equally weighted patients carrying the
    same information; equals n when all weights are equal, and falls as weights become unequal."""
    w = np.asarray(weights, dtype=float)
    if w.size == 0:
        return math.nan
    return float(w.sum() ** 2 / (w ** 2).sum())


def _weighted_moments(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean and the unbiased (reliability-weights) variance ``sum w / ((sum w)^2 - sum w^2) *
    sum w (x - m)^2`` (Austin & Stuart 2015)."""
    sw = w.sum()
    m = float((w * x).sum() / sw)
    denom = sw ** 2 - (w ** 2).sum()
    var = float(sw / denom * (w * (x - m) ** 2).sum()) if denom > 0 else math.nan
    return m, var


def weighted_smd(x, treatment, weights, binary: bool | None = None) -> float:
    """Absolute standardised mean difference of ``x`` between treated and controls in the weighted sample.

    Binary (0/1): ``|p1 - p0| / sqrt((p1(1-p1) + p0(1-p0)) / 2)`` with weighted proportions; continuous:
    ``|m1 - m0| / sqrt((s1^2 + s0^2) / 2)`` with weighted means and variances (Austin & Stuart 2015). With all
    weights 1 these are the unweighted SMDs of :mod:`hcc_utils.stats.balance`. Missing values are dropped.
    """
    x = np.asarray(pd.to_numeric(pd.Series(x), errors="raise"), dtype=float)
    t = np.asarray(treatment, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = np.isfinite(x)
    x, t, w = x[keep], t[keep], w[keep]
    a, b = t == 1, t == 0
    if a.sum() < 2 or b.sum() < 2:
        return math.nan
    if binary is None:
        binary = bool(np.isin(x, (0.0, 1.0)).all())
    (m1, v1), (m0, v0) = _weighted_moments(x[a], w[a]), _weighted_moments(x[b], w[b])
    if binary:
        v1, v0 = m1 * (1 - m1), m0 * (1 - m0)
    denom = math.sqrt((v1 + v0) / 2) if np.isfinite(v1 + v0) else math.nan
    diff = abs(m1 - m0)
    if denom > 0:
        return diff / denom
    if math.isnan(denom):
        return math.nan
    return 0.0 if diff < 1e-12 else math.inf


def weighted_balance_table(df: pd.DataFrame, covariates: list[str], weights: dict[str, np.ndarray],
                           treatment_col: str = "treatment") -> pd.DataFrame:
    """Absolute SMD of every covariate under each set of weights.

    Parameters
    ----------
    df : one row per patient, with ``treatment_col`` (0/1) and the covariates (numeric).
    weights : name -> weights aligned with ``df`` (e.g. ``{"unweighted": ones, "iptw": ..., "overlap": ...}``).

    Returns
    -------
    pandas.DataFrame
        Indexed by covariate: ``kind`` (binary/continuous) and one column ``smd_<name>`` per weighting.
    """
    t = df[treatment_col].to_numpy(dtype=float)
    rows = []
    for cov in covariates:
        x = pd.to_numeric(df[cov], errors="raise").astype(float).to_numpy()
        binary = bool(np.isin(x[np.isfinite(x)], (0.0, 1.0)).all())
        row = {"covariate": cov, "kind": "binary" if binary else "continuous"}
        for name, w in weights.items():
            row[f"smd_{name}"] = weighted_smd(x, t, w, binary)
        rows.append(row)
    return pd.DataFrame(rows).set_index("covariate")


def weighted_kaplan_meier(time, event, weights) -> pd.DataFrame:
    """Weighted Kaplan-Meier estimate, as the ``surv`` of R ``survfit(Surv(time, event) ~ 1, weights = w)``.

    S(t) is the product over event times u <= t of ``1 - d_w(u) / n_w(u)``, with ``d_w`` the summed weights of
    the events at u and ``n_w`` the summed weights of patients still at risk (time >= u). With IPTW it estimates
    the survival the whole cohort would have had under one treatment (Cole & Hernan 2004; Xie & Liu 2005).

    The 95% pointwise interval is R's default for weighted data: with any non-integer weight the
    infinitesimal-jackknife (robust) variance of S(t), ``sum_i (w_i dS(t)/dw_i)^2``; with integer weights (R reads
    them as counts of identical patients) Greenwood's formula on the weighted counts. Either on the log scale
    (``conf.type = "log"``: S exp(+-z se/S), the upper limit capped at 1). The robust variance treats the weights
    as fixed: it does not carry the uncertainty of the estimated propensity score (Austin 2016).

    Returns
    -------
    pandas.DataFrame
        One row per distinct time: ``time, n_risk, n_event`` (weighted), ``n_censor`` (patients censored at that
        time, unweighted), ``survival``, and ``ci_lower``/``ci_upper`` (95%, as R's ``lower``/``upper``; NaN once
        the curve reaches 0).

    References
    ----------
    Cole SR, Hernan MA. Adjusted survival curves with inverse probability weights. Comput Methods Programs
    Biomed 2004;75:45-9. Xie J, Liu C. Adjusted Kaplan-Meier estimator and log-rank test with inverse probability
    of treatment weighting for survival data. Stat Med 2005;24:3089-110. Austin PC. Variance estimation when using
    inverse probability of treatment weighting (IPTW) with survival analysis. Stat Med 2016;35:5642-55.
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    w = np.asarray(weights, dtype=float)
    if not (t.shape == e.shape == w.shape):
        raise ValueError("time, event and weights: lengths differ")
    if not (np.isfinite(w).all() and (w > 0).all()):
        raise ValueError("weights: must be finite and > 0")
    uniq, inv = np.unique(t, return_inverse=True)
    total_w = np.bincount(inv, weights=w, minlength=uniq.size)
    event_w = np.bincount(inv, weights=w * e, minlength=uniq.size)
    censor_n = np.bincount(inv, weights=(e == 0).astype(float), minlength=uniq.size).astype(int)
    n_risk = np.cumsum(total_w[::-1])[::-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        surv = np.cumprod(np.where(event_w > 0, 1 - event_w / n_risk, 1.0))
    if np.array_equal(w, np.round(w)):
        se_log = greenwood_se_log(n_risk, event_w)
    else:
        se_log = _ij_se_log_survival(inv, e, w, n_risk, event_w)
    lower, upper = log_interval(surv, se_log)
    return pd.DataFrame({"time": uniq, "n_risk": n_risk, "n_event": event_w, "n_censor": censor_n,
                         "survival": surv, "ci_lower": lower, "ci_upper": upper})


def _ij_se_log_survival(inv: np.ndarray, event: np.ndarray, w: np.ndarray, n_risk: np.ndarray,
                        event_w: np.ndarray) -> np.ndarray:
    """Infinitesimal-jackknife standard error of log S(t) at each distinct time, in O(n + times).

    The derivative of log S(t_k) by patient i's weight is ``B(min(k, g_i)) - e_i a(g_i) [g_i <= k]``, with g_i the
    index of the patient's time, ``a_j = 1 / (Y_j - D_j)`` and B the running sum of ``D_j / (Y_j (Y_j - D_j))``
    (Y weighted at risk, D weighted events). Patients past t_k keep a fixed derivative; those still at risk share
    B(k). So the variance at t_k is a running sum over the patients gone plus B(k)^2 times the summed squared
    weights of those still at risk.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        room = n_risk - event_w
        a = np.where(event_w > 0, 1.0 / room, 0.0)
        b = np.where(event_w > 0, event_w / (n_risk * room), 0.0)
    w2 = np.bincount(inv, weights=w ** 2, minlength=b.size)
    still = np.cumsum(w2[::-1])[::-1] - w2                  # squared weights of patients with later times
    with np.errstate(invalid="ignore"):                     # inf - inf once every patient at risk has died
        B = np.cumsum(b)
        own = B[inv] - event * a[inv]                      # derivative once the patient's time has passed
        gone = np.cumsum(np.bincount(inv, weights=(w * own) ** 2, minlength=b.size))
        return np.sqrt(gone + B ** 2 * still)


def weighted_km_median(table: pd.DataFrame) -> float:
    """Median of a weighted Kaplan-Meier curve (`weighted_kaplan_meier`) by R ``survfit``'s rule (the first time
    the curve falls to 0.5 or below; the midpoint where it sits exactly at 0.5); NaN when not reached."""
    return float(_curve_quantiles(table["time"].to_numpy(float), table["survival"].to_numpy(float), [0.5],
                                  "quantile", R_TOLERANCE)[0])
