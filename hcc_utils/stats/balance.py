"""Covariate balance between two groups: absolute standardized mean differences (SMDs) and the balance table.

The SMD is the balance diagnostic of propensity-score matching (Austin 2009) and the ``smd`` column of
Table 1. Continuous: ``|m1 - m0| / sqrt((s1^2 + s0^2) / 2)`` with sample variances; binary (0/1):
``|p1 - p0| / sqrt((p1(1-p1) + p0(1-p0)) / 2)``; categorical with more than two levels: the multivariate SMD of
Yang & Dalton (2012), as R ``tableone``. :func:`balance_table` gives group means and SMDs of every covariate
before and after matching (the output of :func:`hcc_utils.study.matching.match_cohort`).

Pure statistics: imports nothing from the other layers of ``hcc_utils``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hcc_utils.stats.descriptive import numeric_sample

__all__ = ["balance_table", "smd_binary", "smd_categorical", "smd_continuous"]


def _ratio(diff: float, denom: float) -> float:
    if denom > 0:
        return abs(diff) / denom
    return 0.0 if diff == 0 else math.inf


def smd_continuous(a, b) -> float:
    """Absolute standardized mean difference of a continuous variable between samples ``a`` and ``b``.

    ``|mean(a) - mean(b)| / sqrt((var(a) + var(b)) / 2)`` with sample variances (``n - 1``); 0 when both
    variances and the difference are 0, infinite when only the variances are. Missing values are dropped.

    Reference: Austin PC. Balance diagnostics for comparing the distribution of baseline covariates between
    treatment groups in propensity-score matched samples. Stat Med 2009;28:3083-107.
    """
    a, b = numeric_sample(a), numeric_sample(b)
    if a.size < 2 or b.size < 2:
        return math.nan
    return _ratio(a.mean() - b.mean(), math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2))


def smd_binary(a, b) -> float:
    """Absolute SMD of a 0/1 variable: ``|p1 - p0| / sqrt((p1(1 - p1) + p0(1 - p0)) / 2)`` (Austin 2009)."""
    a, b = numeric_sample(a), numeric_sample(b)
    if a.size == 0 or b.size == 0:
        return math.nan
    p1, p0 = a.mean(), b.mean()
    return _ratio(p1 - p0, math.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2))


def smd_categorical(a, b, levels=None) -> float:
    """Multivariate SMD of a categorical variable (Yang & Dalton 2012), as R ``tableone::ExtractSmd``.

    Parameters
    ----------
    a, b : the two groups' values (missing values dropped).
    levels : the categories, first one the reference; the sorted observed values by default.

    Notes
    -----
    With level proportions ``T`` (group a) and ``C`` (group b) without the first level and
    ``S = (S_T + S_C) / 2``, ``S_k = diag(p) - p p'``, the SMD is ``sqrt((T - C)' S^+ (T - C))`` (``S^+`` the
    Moore-Penrose inverse). For two levels it equals :func:`smd_binary`.

    Reference: Yang D, Dalton JE. A unified approach to measuring the effect size between two groups using SAS.
    SAS Global Forum 2012, paper 335-2012.
    """
    sa, sb = pd.Series(a).dropna(), pd.Series(b).dropna()
    if sa.empty or sb.empty:
        return math.nan
    if levels is None:
        levels = sorted(set(sa) | set(sb), key=str)
    levels = list(levels)
    if len(levels) < 2:
        return 0.0
    ca, cb = sa.value_counts().to_dict(), sb.value_counts().to_dict()  # each value counted once, not per level
    pa = np.array([ca.get(lv, 0) / len(sa) for lv in levels])[1:]
    pb = np.array([cb.get(lv, 0) / len(sb) for lv in levels])[1:]
    cov = (np.diag(pa) - np.outer(pa, pa) + np.diag(pb) - np.outer(pb, pb)) / 2
    diff = pa - pb
    value = float(diff @ np.linalg.pinv(cov) @ diff)
    return math.sqrt(max(value, 0.0))


def balance_table(df: pd.DataFrame, covariates: list[str], treatment_col: str = "treatment", matched_col: str = "matched") -> pd.DataFrame:
    """Covariate balance before and after matching: group means and absolute standardized mean differences.

    Parameters
    ----------
    df : the output of :func:`hcc_utils.study.matching.match_cohort` (all patients, ``matched`` 0/1).
    covariates : numeric columns; 0/1 columns are treated as binary, others as continuous.

    Returns
    -------
    pandas.DataFrame
        One row per covariate: ``kind, mean_treated_before, mean_control_before, smd_before,
        mean_treated_after, mean_control_after, smd_after``. Binary SMD
        ``|p1 - p0| / sqrt((p1(1-p1) + p0(1-p0)) / 2)``; continuous ``|m1 - m0| / sqrt((s1^2 + s0^2) / 2)``
        (sample variances, each group's own; Austin 2009). Missing values are left out per covariate.
    """
    treat = df[treatment_col].astype(float) == 1
    after = df[matched_col].astype(float) == 1
    rows = []
    for cov in covariates:
        x = pd.to_numeric(df[cov], errors="raise").astype(float)
        binary = set(x.dropna().unique()) <= {0.0, 1.0}
        row = {"covariate": cov, "kind": "binary" if binary else "continuous"}
        for label, keep in (("before", pd.Series(True, index=df.index)), ("after", after)):
            a, b = x[keep & treat].dropna(), x[keep & ~treat].dropna()
            row[f"mean_treated_{label}"] = a.mean()
            row[f"mean_control_{label}"] = b.mean()
            row[f"smd_{label}"] = smd_binary(a, b) if binary else smd_continuous(a, b)
        rows.append(row)
    return pd.DataFrame(rows)
