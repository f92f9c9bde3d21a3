"""Tests and intervals for counts: chi-square, Fisher's exact test, two proportions, Clopper-Pearson.

The article (SAS 9.4 / R 4.3) reports 2x2 p-values that only reproduce with Pearson's chi-square *without*
Yates' continuity correction, which is therefore the default here (R ``chisq.test(correct=FALSE)``, SAS
``PROC FREQ`` "Chi-Square" row). Fisher's exact test is available for sparse tables by rule.

Computed by the field's libraries where they match R: the chi-square test is ``scipy.stats.chi2_contingency``
(its Yates correction, for 2x2 tables only, is R's), Fisher's test of a 2x2 table ``scipy.stats.fisher_exact``
(R's relative tolerance 1e-7 for tables as probable as the observed one) with the conditional odds ratio of
``scipy.stats.contingency.odds_ratio``, Clopper-Pearson limits scipy's beta quantiles. Written here: Fisher's test of
a 2 x C table (scipy's ``fisher_exact`` takes 2x2 tables only; R's network algorithm is enumerated exactly) and
McNemar's test (:func:`mcnemar_test` says why).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

#: Relative tolerance R's ``fisher.test`` uses when collecting tables "as or less probable" than the observed one.
_FISHER_REL_TOL = 1e-7
#: Largest number of 2xC tables enumerated for an exact test.
_MAX_TABLES = 20_000_000


@dataclass(frozen=True)
class ContingencyResult:
    """Result of a test on a contingency table.

    Attributes
    ----------
    statistic : float
        Chi-square statistic, or for Fisher's exact test on a 2x2 table the conditional maximum likelihood
        odds ratio (as R's ``fisher.test``); NaN for larger Fisher tables.
    df : float
        Degrees of freedom (NaN for exact tests).
    p : float
        Two-sided p-value.
    test : str
        ``"chisq"``, ``"chisq_yates"`` or ``"fisher"``.
    expected : numpy.ndarray or None
        Expected counts under independence (chi-square only).
    """

    statistic: float
    df: float
    p: float
    test: str
    expected: np.ndarray | None = None


def _as_table(table, name: str = "table") -> np.ndarray:
    arr = np.asarray(table, dtype=float)
    if arr.ndim != 2 or min(arr.shape) < 2:
        raise ValueError(f"{name} must be a two-dimensional table with at least 2 rows and 2 columns, got shape {arr.shape}")
    if np.isnan(arr).any() or (arr < 0).any() or (arr != np.round(arr)).any():
        raise ValueError(f"{name} must hold non-negative whole counts, got {arr.tolist()}")
    empty_rows = np.flatnonzero(arr.sum(axis=1) == 0)
    empty_cols = np.flatnonzero(arr.sum(axis=0) == 0)
    if empty_rows.size or empty_cols.size:
        raise ValueError(
            f"{name} has an empty margin (rows {empty_rows.tolist()}, columns {empty_cols.tolist()}); "
            "independence cannot be tested. Drop empty levels first."
        )
    return arr


def expected_counts(table) -> np.ndarray:
    """Expected counts under independence: row total x column total / grand total."""
    arr = _as_table(table)
    return np.outer(arr.sum(axis=1), arr.sum(axis=0)) / arr.sum()


def chisq_test(table, correction: bool = False) -> ContingencyResult:
    """Pearson's chi-square test of independence for an R x C table.

    Parameters
    ----------
    table : array-like of counts, shape (R, C), R, C >= 2, no empty row or column.
    correction : bool, default False
        Apply Yates' continuity correction (2x2 tables only), as R's ``chisq.test(correct=TRUE)``:
        each ``|O - E|`` is reduced by ``min(0.5, |O - E|)``. The article's p-values reproduce without it.

    Returns
    -------
    ContingencyResult
        Statistic ``sum((|O-E| - c)^2 / E)``, ``df = (R-1)(C-1)``, upper-tail chi-square p-value.

    Notes
    -----
    ``scipy.stats.chi2_contingency``; identical to R ``chisq.test(x, correct=FALSE)`` and SAS ``PROC FREQ / CHISQ``
    (Pearson row) to floating-point rounding. No warning is
    given for small expected counts; use :func:`compare_proportions` with ``rule="fisher_if_sparse"`` for that.
    """
    arr = _as_table(table)
    yates = bool(correction) and arr.shape == (2, 2)  # scipy, as R, corrects only a table with one df
    result = stats.chi2_contingency(arr, correction=yates)
    return ContingencyResult(float(result.statistic), float(result.dof), float(result.pvalue),
                             "chisq_yates" if yates else "chisq", result.expected_freq)


def _fisher_2xc_p(arr: np.ndarray) -> float:
    """Exact two-sided p of a 2 x C table: sum of probabilities of tables no more probable than the observed.

    Tables with fixed margins are enumerated column by column (first row only); the probability of a table is
    ``prod_j C(c_j, x_j) / C(N, r_1)``. Ties use R's relative tolerance ``1e-7``.
    """
    if arr.shape[0] != 2:
        arr = arr.T
    first_row = arr[0].astype(int)
    col_tot = arr.sum(axis=0).astype(int)
    r1 = int(first_row.sum())
    n = int(col_tot.sum())
    sums = np.zeros(1, dtype=np.int64)
    logp = np.zeros(1)
    for j, c in enumerate(col_tot):
        remaining = int(col_tot[j + 1:].sum())
        x = np.arange(c + 1)
        new_sums = (sums[:, None] + x[None, :]).ravel()
        new_logp = (logp[:, None] + (special.gammaln(c + 1) - special.gammaln(x + 1) - special.gammaln(c - x + 1))[None, :]).ravel()
        keep = (new_sums <= r1) & (new_sums + remaining >= r1)
        sums, logp = new_sums[keep], new_logp[keep]
        if sums.size > _MAX_TABLES:
            raise ValueError(f"table {arr.astype(int).tolist()} is too large for exact enumeration; use chisq_test")
    log_total = special.gammaln(n + 1) - special.gammaln(r1 + 1) - special.gammaln(n - r1 + 1)
    obs = float(np.sum(special.gammaln(col_tot + 1) - special.gammaln(first_row + 1) - special.gammaln(col_tot - first_row + 1)))
    d = np.exp(logp - log_total)
    d_obs = np.exp(obs - log_total)
    return float(min(1.0, d[d <= d_obs * (1 + _FISHER_REL_TOL)].sum()))


def fisher_exact_test(table) -> ContingencyResult:
    """Fisher's exact test (two-sided) for a 2x2 or 2xC / Rx2 table.

    Parameters
    ----------
    table : array-like of counts with one dimension equal to 2.

    Returns
    -------
    ContingencyResult
        For 2x2 tables ``statistic`` is the conditional maximum likelihood odds ratio and ``p`` the
        two-sided p-value of R ``fisher.test`` (tables at most as probable as the observed one, relative
        tolerance 1e-7), both by scipy. For 2xC tables the p-value is computed by exact enumeration, as R's
        ``fisher.test`` (network algorithm) does; ``statistic`` is NaN.

    Raises
    ------
    NotImplementedError
        For tables with more than 2 rows *and* more than 2 columns (R uses the FEXACT network algorithm;
        scipy offers only Monte Carlo for those).
    """
    arr = _as_table(table)
    if arr.shape == (2, 2):
        p = float(stats.fisher_exact(arr.astype(int)).pvalue)
        odds = stats.contingency.odds_ratio(arr.astype(int), kind="conditional").statistic
        return ContingencyResult(float(odds), float("nan"), p, "fisher")
    if 2 not in arr.shape:
        raise NotImplementedError(
            f"Fisher's exact test is implemented for 2x2 and 2xC tables only; got shape {arr.shape}. Use chisq_test."
        )
    return ContingencyResult(float("nan"), float("nan"), _fisher_2xc_p(arr), "fisher")


def is_sparse(table, min_expected: float = 5.0) -> bool:
    """Cochran's rule: True when any expected count is below ``min_expected`` (default 5)."""
    return bool((expected_counts(table) < min_expected).any())


def independence_test(table, rule: str = "chisq") -> ContingencyResult:
    """Test independence in a table by the configured rule.

    Parameters
    ----------
    table : array-like of counts.
    rule : {"chisq", "fisher_if_sparse", "fisher"}
        ``chisq``: Pearson chi-square without correction (the article). ``fisher_if_sparse``: Fisher's exact
        test when any expected count is below 5 (Cochran), else chi-square. ``fisher``: always Fisher.
    """
    if rule == "chisq":
        return chisq_test(table)
    if rule == "fisher":
        return fisher_exact_test(table)
    if rule == "fisher_if_sparse":
        return fisher_exact_test(table) if is_sparse(table) else chisq_test(table)
    raise ValueError(f"rule must be 'chisq', 'fisher_if_sparse' or 'fisher', got {rule!r}")


def compare_proportions(success_a: int, n_a: int, success_b: int, n_b: int, rule: str = "chisq") -> ContingencyResult:
    """Compare two independent proportions ``success_a / n_a`` and ``success_b / n_b``.

    Parameters
    ----------
    success_a, n_a, success_b, n_b : whole counts, ``0 <= success <= n``, ``n >= 1``.
    rule : see :func:`independence_test`.

    Returns
    -------
    ContingencyResult
        When no patient (or every patient) of both groups has the outcome, the test is undefined:
        ``p`` is NaN and ``test`` is ``"none"``.
    """
    for name, k, n in (("a", success_a, n_a), ("b", success_b, n_b)):
        if n < 1 or k < 0 or k > n or int(k) != k or int(n) != n:
            raise ValueError(f"group {name}: need whole counts with 0 <= success <= n and n >= 1, got {k}/{n}")
    table = np.array([[success_a, n_a - success_a], [success_b, n_b - success_b]], dtype=float)
    if (table.sum(axis=0) == 0).any():
        return ContingencyResult(float("nan"), float("nan"), float("nan"), "none")
    return independence_test(table, rule)


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval of a binomial proportion ``k / n``.

    Parameters
    ----------
    k, n : successes and trials, ``0 <= k <= n``, ``n >= 1``.
    level : confidence level in (0, 1).

    Returns
    -------
    (lower, upper)
        Beta quantiles ``B(a/2; k, n-k+1)`` and ``B(1-a/2; k+1, n-k)``, with 0 / 1 at the boundaries;
        identical to R ``binom.test(k, n)$conf.int`` and SAS ``PROC FREQ BINOMIAL`` exact limits.
    """
    if not (n >= 1 and 0 <= k <= n and int(k) == k and int(n) == n):
        raise ValueError(f"clopper_pearson needs whole counts with 0 <= k <= n and n >= 1, got k={k}, n={n}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    alpha = 1 - level
    lower = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    upper = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lower, upper


def mcnemar_test(table, method: str = "chisq", correction: bool = True) -> ContingencyResult:
    """McNemar's test of equal marginal proportions in a paired 2x2 table.

    What is tested: in ``n`` matched pairs, each member has a binary outcome; ``table[i][j]`` counts pairs whose
    first member has outcome ``i`` and second member outcome ``j`` (1 = yes, 0 = no: either orientation, the test is
    symmetric). Under the null hypothesis the two members of a pair are equally likely to have the outcome, so the
    discordant pairs ``b = table[0][1]`` and ``c = table[1][0]`` split evenly; concordant pairs carry no
    information.

    Parameters
    ----------
    table : array-like, shape (2, 2), whole non-negative counts of pairs.
    method : ``"chisq"`` (R ``mcnemar.test``: ``(|b - c| - 1)^2 / (b + c)`` with ``correction``, ``(b - c)^2 /
        (b + c)`` without or when ``b == c``; 1 df) or ``"exact"`` (two-sided binomial test of ``b`` successes in ``b + c`` trials
        with probability 1/2, R ``binom.test(b, b + c)``; ``statistic`` is then ``b``).
    correction : continuity correction of the chi-square form (R's default ``correct = TRUE``).

    Returns
    -------
    ContingencyResult
        ``test`` is ``"mcnemar"``, ``"mcnemar_yates"`` or ``"mcnemar_exact"``. With no discordant pair the test is
        undefined: statistic and p are NaN (R's chi-square form gives NaN as well), and ``test`` is ``"none"``.

    Notes
    -----
    Written here rather than with ``statsmodels.stats.contingency_tables.mcnemar``: statsmodels subtracts the
    continuity correction also when ``b == c`` (statistic ``1 / (b + c)`` where R's ``mcnemar.test`` gives 0 and
    p = 1), and importing it would cost every chapter's kernel about a second; the exact form is scipy's binomial
    distribution. ``tests/test_contingency.py`` shows the difference.
    Assumes independent pairs (a patient in one pair only). Reference: McNemar Q. Psychometrika 1947;12:153-7;
    Agresti A. Categorical Data Analysis, 3rd ed., section 11.1.
    """
    arr = np.asarray(table, dtype=float)
    if arr.shape != (2, 2) or np.isnan(arr).any() or (arr < 0).any() or (arr != np.round(arr)).any():
        raise ValueError(f"McNemar's test needs a 2x2 table of non-negative whole counts, got {arr.tolist()}")
    if method not in ("chisq", "exact"):
        raise ValueError(f"method must be 'chisq' or 'exact', got {method!r}")
    b, c = float(arr[0, 1]), float(arr[1, 0])
    if b + c == 0:
        return ContingencyResult(float("nan"), float("nan"), float("nan"), "none")
    if method == "exact":
        n, k = int(b + c), int(min(b, c))
        p = min(1.0, 2.0 * float(stats.binom.cdf(k, n, 0.5))) if b != c else 1.0
        return ContingencyResult(b, float("nan"), p, "mcnemar_exact")
    corrected = bool(correction) and b != c  # as R: no correction when the discordant counts are equal
    statistic = (abs(b - c) - (1.0 if corrected else 0.0))**2 / (b + c)
    return ContingencyResult(float(statistic), 1.0, float(stats.chi2.sf(statistic, 1)),
                             "mcnemar_yates" if corrected else "mcnemar")


def paired_table(first, second) -> np.ndarray:
    """The paired 2x2 table of two binary outcomes per pair: rows = first member (1, 0), columns = second (1, 0).

    ``first`` and ``second`` are 0/1 arrays of equal length, one entry per pair; pairs with a missing value in either
    are left out."""
    a = np.asarray(first, dtype=float)
    s = np.asarray(second, dtype=float)
    if a.shape != s.shape:
        raise ValueError(f"paired outcomes need equal lengths, got {a.shape} and {s.shape}")
    keep = ~(np.isnan(a) | np.isnan(s))
    a, s = a[keep], s[keep]
    if not np.isin(a, (0, 1)).all() or not np.isin(s, (0, 1)).all():
        raise ValueError("paired outcomes must be 0/1")
    return np.array([[np.sum((a == 1) & (s == 1)), np.sum((a == 1) & (s == 0))],
                     [np.sum((a == 0) & (s == 1)), np.sum((a == 0) & (s == 0))]], dtype=float)
