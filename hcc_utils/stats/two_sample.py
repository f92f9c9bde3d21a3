"""Two-sample tests of a continuous variable, as the article's software computes them.

* Student's t-test with pooled variance (SAS ``PROC TTEST`` "Pooled", R ``t.test(var.equal = TRUE)``).
* Mann-Whitney U / Wilcoxon rank-sum test, two-sided, normal approximation with tie-corrected variance and a 0.5
  continuity correction (SAS ``PROC NPAR1WAY WILCOXON``, R ``wilcox.test(exact = FALSE, correct = TRUE)``).

Both drop missing values. Checked against R in ``tests/test_baseline.py``.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from hcc_utils.stats.descriptive import numeric_sample

__all__ = ["mann_whitney_test", "student_t_test"]


def student_t_test(a, b) -> tuple[float, float, float]:
    """Two-sample Student t-test with pooled variance; returns ``(t, df, p)`` (two-sided).

    Same as R ``t.test(a, b, var.equal = TRUE)`` and SAS ``PROC TTEST`` "Pooled" row. Missing values dropped.
    """
    a, b = numeric_sample(a), numeric_sample(b)
    if a.size < 2 or b.size < 2:
        return math.nan, math.nan, math.nan
    res = stats.ttest_ind(a, b, equal_var=True)
    return float(res.statistic), float(a.size + b.size - 2), float(res.pvalue)


def mann_whitney_test(a, b, method: str = "asymptotic") -> tuple[float, float]:
    """Mann-Whitney U / Wilcoxon rank-sum test (two-sided); returns ``(W, p)``, ``W`` = U of ``a`` (R's W).

    Parameters
    ----------
    method : {"asymptotic", "r_default"}
        ``asymptotic``: normal approximation with tie-corrected variance and continuity correction, as SAS
        ``PROC NPAR1WAY WILCOXON`` (default CORRECT=YES) and R ``wilcox.test(exact = FALSE, correct = TRUE)``.
        ``r_default``: R's ``wilcox.test`` default - the exact distribution when both samples have fewer than
        50 values and there are no ties, else as ``asymptotic``.
    """
    a, b = numeric_sample(a), numeric_sample(b)
    if a.size == 0 or b.size == 0:
        return math.nan, math.nan
    if method not in ("asymptotic", "r_default"):
        raise ValueError(f"method must be 'asymptotic' or 'r_default', got {method!r}")
    exact = method == "r_default" and a.size < 50 and b.size < 50 and np.unique(np.concatenate([a, b])).size == a.size + b.size
    res = stats.mannwhitneyu(a, b, alternative="two-sided", method="exact" if exact else "asymptotic", use_continuity=True)
    return float(res.statistic), float(res.pvalue)
