"""Descriptive statistics shared by the baseline table and the follow-up summary.

The article's descriptive software is SAS 9.4, whose default percentile definition is
PCTLDEF=5 (empirical distribution function with averaging). It equals R's
``quantile(x, type = 2)``. R's default (``type = 7``, linear interpolation, also NumPy's
default) is available for comparison.

Why not ``numpy.quantile``: its ``averaged_inverted_cdf`` and ``linear`` methods are these two definitions, but
numpy interpolates as ``a + (b - a) h`` where R and SAS compute ``(1 - h) a + h b``; the last bit differs, which
moves a median that lies exactly halfway between two values (such as -4.865) off the point where it is rounded
for the tables. ``tests/test_field_libraries.py`` shows it; the values agree to 1e-12.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["descriptive_quantile", "numeric_sample", "sas5_order_statistics"]

_METHODS = ("sas5", "r7")


def descriptive_quantile(x, q, method: str = "sas5"):
    """Sample quantile(s) of `x` by SAS PCTLDEF=5 (default) or R type 7.

    Parameters
    ----------
    x : array-like of float
        The sample. Missing values (NaN/None) are dropped, as SAS does and as R's
        ``na.rm = TRUE``. Infinite values are an error.
    q : float or array-like of float
        Probabilities in [0, 1].
    method : {"sas5", "r7"}
        ``"sas5"``: SAS PCTLDEF=5 = R ``quantile(type = 2)``. With ``n*q = j + g``
        (``j`` the integer part), the quantile is ``x[j+1]`` if ``g > 0`` and the average
        ``(x[j] + x[j+1]) / 2`` if ``g = 0`` (order statistics, 1-based; ``x[0]`` is read as
        ``x[1]`` and ``x[n+1]`` as ``x[n]``). The median of an even-sized sample is the
        average of the two middle values. Exactly as R 4.2 ``quantile.default``, no fuzz
        is applied to ``n*q``.
        ``"r7"``: R type 7 / NumPy ``"linear"``: ``h = (n-1) q``, linear interpolation
        between ``x[floor(h)+1]`` and ``x[floor(h)+2]``.

    Returns
    -------
    float or numpy.ndarray
        A float when `q` is a scalar, else an array of the same length as `q`. NaN when
        `x` has no non-missing value.

    References
    ----------
    Hyndman RJ, Fan Y. Sample quantiles in statistical packages. Am Stat 1996;50:361-5.
    SAS Institute. Base SAS 9.4 Procedures Guide: Statistical Procedures, UNIVARIATE,
    "Calculating Percentiles" (PCTLDEF=5).
    """
    if method not in _METHODS:
        raise ValueError(f"method: must be one of {_METHODS}, got {method!r}")
    try:
        arr = np.asarray(x, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"x: values must be numeric ({exc})") from None
    if np.isinf(arr).any():
        raise ValueError("x: infinite values are not allowed")
    probs = np.atleast_1d(np.asarray(q, dtype=float))
    if np.isnan(probs).any() or (probs < 0).any() or (probs > 1).any():
        raise ValueError(f"q: probabilities must lie in [0, 1], got {q!r}")
    xs = np.sort(arr[~np.isnan(arr)])
    n = xs.size
    if n == 0:
        out = np.full(probs.shape, np.nan)
    elif method == "sas5":
        lo_pos, hi_pos = sas5_order_statistics(n, probs)
        lo, hi = xs[lo_pos], xs[hi_pos]
        out = np.where(lo != hi, 0.5 * lo + 0.5 * hi, lo)
    else:  # r7
        index = 1 + (n - 1) * probs
        lo = np.floor(index).astype(np.int64)
        hi = np.ceil(index).astype(np.int64)
        qs = xs[lo - 1]
        xhi = xs[hi - 1]
        h = index - lo
        out = np.where((index > lo) & (xhi != qs), (1 - h) * qs + h * xhi, qs)
    return float(out[0]) if np.ndim(q) == 0 else out


def numeric_sample(x) -> np.ndarray:
    """The values of ``x`` as a float array, missing values dropped.

    Raises
    ------
    ValueError
        If a value is not numeric (``pandas.to_numeric(errors="raise")``).
    """
    arr = pd.to_numeric(pd.Series(x), errors="raise").astype(float).to_numpy()
    return arr[~np.isnan(arr)]


def sas5_order_statistics(n: int, q):
    """Positions of the order statistics that define the SAS PCTLDEF=5 quantile of a sample of size n.

    With ``n*q = j + g`` (``j`` the integer part), the quantile is the (j+1)-th order statistic when
    ``g > 0`` and the average of the j-th and (j+1)-th when ``g = 0`` (the 0-th read as the first and the
    (n+1)-th as the n-th). `descriptive_quantile` uses these positions; the synthetic cohort's generator
    uses them to place values that give published quartiles exactly.

    Parameters
    ----------
    n : int
        Sample size (>= 1).
    q : float or array-like of float
        Probabilities in [0, 1].

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        0-based positions ``lo`` and ``hi`` in the sorted sample: the quantile is
        ``(x[lo] + x[hi]) / 2``, with ``lo == hi`` when a single order statistic is taken.
    """
    nq = n * np.atleast_1d(np.asarray(q, dtype=float))
    j = np.floor(nq).astype(np.int64)
    hi = np.minimum(j, n - 1)
    lo = np.where(nq > j, hi, np.maximum(j - 1, 0))
    return lo, hi
