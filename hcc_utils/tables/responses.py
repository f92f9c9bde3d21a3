"""Best overall response by group: category counts, objective response and disease control rates.

Conventions
-----------
* Categories CR, PR, SD, PD and NE (not evaluable). NE patients stay in the denominator (intention to treat):
  rates are out of every patient with a recorded best response, as the article's 107/126-style figures.
  Patients with no recorded response (empty cell, e.g. mRECIST not assessed) are left out and counted as missing.
* Objective response rate (ORR) = CR + PR; disease control rate (DCR) = CR + PR + SD.
* 95% confidence intervals: exact Clopper-Pearson (R ``binom.test``; SAS ``PROC FREQ BINOMIAL(EXACT)``).
* Between-group p: Pearson chi-square without continuity correction by default; ``rule="fisher_if_sparse"``
  uses Fisher's exact test when an expected count is below 5 (see :mod:`hcc_utils.stats.contingency`).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hcc_utils.stats.contingency import clopper_pearson, compare_proportions
from hcc_utils.tables.formatting import fmt_p

CATEGORIES = ("cr", "pr", "sd", "pd", "ne")
CATEGORY_LABELS = {"cr": "Complete response", "pr": "Partial response", "sd": "Stable disease",
                   "pd": "Progressive disease", "ne": "Not evaluable"}
RATES = {"orr": ("Objective response rate (CR + PR)", ("cr", "pr")),
         "dcr": ("Disease control rate (CR + PR + SD)", ("cr", "pr", "sd"))}
DEFAULT_CRITERIA = {"RECIST 1.1": "best_response_recist", "mRECIST": "best_response_mrecist"}


def _response_codes(series: pd.Series, column: str) -> np.ndarray:
    """Position in :data:`CATEGORIES` of each patient's response (case and spaces ignored), -1 where none is
    recorded. Each distinct text is normalised once, not each patient's (a registry has millions of patients)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    names = [str(value).strip().lower() for value in uniques]
    bad = sorted({name for name in names if name not in CATEGORIES})
    if bad:
        raise ValueError(f"{column!r}: responses must be one of {CATEGORIES}; found {bad}")
    lookup = np.array([CATEGORIES.index(name) for name in names] + [-1], dtype=np.int64)
    return lookup[codes]  # the sentinel -1 picks the last entry: no response


def _pct(k: int, n: int) -> float:
    return 100 * k / n if n else math.nan


def response_table(
    df: pd.DataFrame,
    group_col: str,
    response_col: str,
    groups: tuple | list | None = None,
    rule: str = "chisq",
    level: float = 0.95,
    criterion: str | None = None,
) -> pd.DataFrame:
    """Best-response summary of one response criterion by group.

    Parameters
    ----------
    df : one row per patient.
    group_col : group column; ``groups`` gives the two groups in display order (sorted values by default).
    response_col : column with ``cr | pr | sd | pd | ne`` (case-insensitive); empty = not assessed.
    rule : test of ORR and DCR, see :func:`hcc_utils.stats.contingency.independence_test`.
    level : confidence level of the Clopper-Pearson intervals.
    criterion : label stored in the ``criterion`` column (the column name by default).

    Returns
    -------
    pandas.DataFrame
        Long, tidy rows: ``criterion, measure`` (``cr, pr, sd, pd, ne, orr, dcr``), ``label, group, count, n``
        (denominator: patients with a recorded response, NE included), ``missing, percent, ci_low, ci_high``
        (percent; ORR/DCR only), ``p, test`` (ORR/DCR only; the same on both groups' rows) and ``text``
        (formatted "k (x.x%)" or "k (x.x%; 95% CI a-b)").
    """
    for col in (group_col, response_col):
        if col not in df.columns:
            raise KeyError(f"response_table: column {col!r} not in the data")
    groups = tuple(groups) if groups is not None else tuple(sorted(df[group_col].dropna().unique(), key=str))
    if len(groups) != 2:
        raise ValueError(f"response_table: exactly two groups are needed, got {groups}")
    codes = _response_codes(df[response_col], response_col)
    labels = df[group_col].to_numpy()
    criterion = criterion or response_col
    per_group = {}
    for g in groups:
        r = codes[labels == g]
        counts = np.bincount(r[r >= 0], minlength=len(CATEGORIES))  # patients per category, in CATEGORIES order
        n = int(counts.sum())
        if n == 0:
            raise ValueError(f"response_table: no patient of group {g!r} has a recorded {response_col!r}")
        per_group[g] = (counts, n, int(r.size - n))
    rows = []
    for position, cat in enumerate(CATEGORIES):
        for g in groups:
            counts, n, missing = per_group[g]
            k = int(counts[position])
            rows.append({"measure": cat, "label": CATEGORY_LABELS[cat], "group": g, "count": k, "n": n,
                         "missing": missing, "percent": _pct(k, n), "ci_low": math.nan, "ci_high": math.nan,
                         "p": math.nan, "test": "", "text": f"{k} ({_pct(k, n):.1f}%)"})
    for measure, (label, cats) in RATES.items():
        ks = {g: int(sum(per_group[g][0][CATEGORIES.index(c)] for c in cats)) for g in groups}
        ns = {g: per_group[g][1] for g in groups}
        res = compare_proportions(ks[groups[0]], ns[groups[0]], ks[groups[1]], ns[groups[1]], rule=rule)
        for g in groups:
            lo, hi = clopper_pearson(ks[g], ns[g], level)
            rows.append({"measure": measure, "label": label, "group": g, "count": ks[g], "n": ns[g],
                         "missing": per_group[g][2], "percent": _pct(ks[g], ns[g]), "ci_low": 100 * lo,
                         "ci_high": 100 * hi, "p": res.p, "test": res.test,
                         "text": f"{ks[g]} ({_pct(ks[g], ns[g]):.1f}%; {round(100 * level)}% CI {100 * lo:.1f}–{100 * hi:.1f})"})
    out = pd.DataFrame(rows)
    out.insert(0, "criterion", criterion)
    return out


def recorded(df: pd.DataFrame, group_col: str, column: str, groups=None) -> bool:
    """Whether ``column`` holds a response for some patient of each of ``groups`` (of any patient without them)."""
    if column not in df.columns:
        return False
    known = df[column].notna()
    if groups is None:
        return bool(known.any())
    return all(bool((known & (df[group_col] == group)).any()) for group in groups)


def response_tables(
    df: pd.DataFrame,
    group_col: str,
    criteria: dict[str, str] | None = None,
    groups: tuple | list | None = None,
    rule: str = "chisq",
    level: float = 0.95,
) -> pd.DataFrame:
    """:func:`response_table` for several criteria (RECIST 1.1 and mRECIST by default), stacked.

    Criteria whose column is absent, or empty for a group (with ``groups`` given; for every group otherwise), are
    skipped.
    """
    criteria = DEFAULT_CRITERIA if criteria is None else criteria
    parts = [response_table(df, group_col, col, groups, rule, level, criterion=name)
             for name, col in criteria.items() if recorded(df, group_col, col, groups)]
    if not parts:
        raise ValueError(f"response_tables: none of the response columns {list(criteria.values())} has data")
    return pd.concat(parts, ignore_index=True)


def response_display(long: pd.DataFrame) -> pd.DataFrame:
    """Wide display of :func:`response_table` output: one row per criterion and measure, a column per group, p."""

    groups = list(dict.fromkeys(long["group"]))
    wide = long.pivot_table(index=["criterion", "measure", "label"], columns="group", values="text", aggfunc="first", sort=False)
    p = long.groupby(["criterion", "measure", "label"], sort=False)["p"].first().map(lambda p: fmt_p(p, missing=""))
    out = wide[groups].assign(p=p).reset_index()
    out.columns.name = None
    # patients without a recorded response are outside every percentage: say how many, per criterion
    missing = long.groupby(["criterion", "group"], sort=False)["missing"].first().unstack("group")
    parts = []
    for criterion, rows in out.groupby("criterion", sort=False):
        parts.append(rows)
        counts = missing.loc[criterion, groups]
        if counts.sum() > 0:
            parts.append(pd.DataFrame([{"criterion": criterion, "measure": "missing", "label": "Not assessed (missing)",
                                        **{g: str(int(counts[g])) for g in groups}, "p": ""}]))
    return pd.concat(parts, ignore_index=True)[out.columns]
