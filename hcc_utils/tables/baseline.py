"""Table 1: baseline characteristics by group, with p-values and standardized mean differences.

Written here rather than with the ``tableone`` package: ``tableone`` (Python and R) tests 2x2 tables with
Yates' continuity correction, whereas the article's p-values reproduce only with Pearson's chi-square without
correction (SAS ``PROC FREQ`` "Chi-Square" row, R ``chisq.test(correct = FALSE)``).

Conventions
-----------
* Mean ± SD rows: Student's t-test with pooled variance (SAS ``PROC TTEST`` "Pooled", R
  ``t.test(var.equal = TRUE)``); SD with ``n - 1``.
* Median (IQR) rows: quartiles by SAS PCTLDEF=5 (R ``quantile(type = 2)``) unless configured otherwise;
  Mann-Whitney U (Wilcoxon rank-sum) test, two-sided, normal approximation with tie-corrected variance and a 0.5
  continuity correction - SAS ``PROC NPAR1WAY WILCOXON`` and R ``wilcox.test(exact = FALSE, correct = TRUE)``;
  ``mw_method="r_default"`` instead follows R's default (exact when both groups have < 50 values and no ties).
* Categorical and binary rows: n (%) of the non-missing values; Pearson chi-square without continuity correction
  (``categorical_test="fisher_if_sparse"``: Fisher's exact test when an expected count is below 5).
* Missing values are left out of each variable's denominators; their number is in the numeric companion.
* SMD (absolute): continuous ``|m1 - m0| / sqrt((s1^2 + s0^2) / 2)``; binary ``|p1 - p0| /
  sqrt((p1(1-p1) + p0(1-p0)) / 2)`` (Austin 2009); categorical with more than two levels: the multivariate
  SMD of Yang & Dalton (2012), ``sqrt((T - C)' S^-1 (T - C))`` on the level proportions without the first level,
  ``S`` the mean of the two groups' multinomial covariance matrices (generalised inverse), as R ``tableone``.
  The SMDs are computed by :mod:`hcc_utils.stats.balance`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hcc_utils.stats.balance import smd_binary, smd_categorical, smd_continuous
from hcc_utils.stats.contingency import independence_test
from hcc_utils.stats.descriptive import descriptive_quantile
from hcc_utils.stats.two_sample import mann_whitney_test, student_t_test
from hcc_utils.tables.formatting import fmt_number, fmt_p, is_whole

KINDS = ("mean_sd", "median_iqr", "categorical", "binary")


# --------------------------------------------------------------------------------------------------------------
# Table 1
# --------------------------------------------------------------------------------------------------------------
@dataclass
class VariableSpec:
    """One row block of the table.

    Attributes
    ----------
    name : column of the data.
    label : text shown (``name`` by default).
    kind : ``mean_sd`` | ``median_iqr`` | ``categorical`` | ``binary`` (0/1, the count of 1s is shown).
    levels : categories in display order (categorical); the sorted observed values by default.
    level_labels : display text per level.
    digits : decimals of means, SDs, medians and quartiles.
    """

    name: str
    kind: str
    label: str | None = None
    levels: list | None = None
    level_labels: dict | None = None
    digits: int = 1
    show_missing: bool = False  # add a 'Missing' row (patients without a value, per group)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"variable {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.label is None:
            self.label = self.name


@dataclass
class BaselineTable:
    """A baseline table.

    Attributes
    ----------
    table : formatted strings, one row per line of the table: ``variable, label, level, Overall, <group a>,
        <group b>, p, test, smd`` (the first row, variable ``n``, gives the group sizes).
    numbers : the numeric companion, one row per (variable, level, group) with ``group`` "Overall" or a group
        name: ``n`` (non-missing), ``missing, count, percent, mean, sd, median, q1, q3``, ``whole`` (a continuous
        variable whose values are all whole numbers: its median and quartiles are written without decimals when
        whole, :func:`~hcc_utils.tables.formatting.fmt_number`) and the variable's
        ``statistic, p, test, smd``.
    groups : the two group names in column order.
    """

    table: pd.DataFrame
    numbers: pd.DataFrame
    groups: tuple


def _as_spec(v) -> VariableSpec:
    if isinstance(v, VariableSpec):
        return v
    if isinstance(v, dict):
        return VariableSpec(**v)
    if isinstance(v, (tuple, list)) and 2 <= len(v) <= 3:
        name, label, kind = (v[0], v[1], v[2]) if len(v) == 3 else (v[0], None, v[1])
        return VariableSpec(name=name, kind=kind, label=label)
    raise TypeError(f"a variable spec must be a VariableSpec, dict or (name, label, kind) tuple, got {v!r}")


def _fmt_num(x: float, digits: int, whole: bool = False) -> str:
    return fmt_number(x, digits, whole)


def _fmt_count(count: int, n: int) -> str:
    return f"{count} ({100 * count / n:.1f})" if n else "0 (NA)"


def _binary_values(series: pd.Series, name: str) -> pd.Series:
    s = series.copy()
    if s.dtype == bool or str(s.dtype) == "boolean":
        s = s.astype("Int64")
    s = pd.to_numeric(s, errors="coerce").where(series.notna())
    bad = s.notna() & ~s.isin([0, 1])
    if bad.any():
        raise ValueError(f"variable {name!r} is declared binary but holds values {sorted(set(series[bad]))[:5]}")
    return s.astype(float)


def _continuous_block(spec, x_all, xa, xb, groups, continuous_test, quantile_method, mw_method):
    median_row = spec.kind == "median_iqr"
    test = continuous_test if continuous_test != "auto" else ("mannwhitney" if median_row else "ttest")
    if test == "ttest":
        statistic, _, p = student_t_test(xa, xb)
    elif test == "mannwhitney":
        statistic, p = mann_whitney_test(xa, xb, mw_method)
    else:
        raise ValueError(f"continuous_test must be 'auto', 'ttest' or 'mannwhitney', got {continuous_test!r}")
    smd = smd_continuous(xa, xb)
    numbers, cells = [], {}
    whole = is_whole(x_all)  # medians and quartiles of whole numbers (cycles, whole years) are written as such
    for gname, x in (("Overall", x_all), (groups[0], xa), (groups[1], xb)):
        v = x.dropna().to_numpy(dtype=float)
        q1, med, q3 = (descriptive_quantile(v, [0.25, 0.5, 0.75], method=quantile_method) if v.size else [math.nan] * 3)
        row = {"group": gname, "n": int(v.size), "missing": int(x.isna().sum()), "count": math.nan, "percent": math.nan,
               "mean": v.mean() if v.size else math.nan, "sd": v.std(ddof=1) if v.size > 1 else math.nan,
               "median": float(med), "q1": float(q1), "q3": float(q3), "whole": whole}
        numbers.append(row)
        d = spec.digits
        cells[gname] = (f"{_fmt_num(row['median'], d, whole)} ({_fmt_num(row['q1'], d, whole)}–"
                        f"{_fmt_num(row['q3'], d, whole)})" if median_row
                        else f"{_fmt_num(row['mean'], d)} ± {_fmt_num(row['sd'], d)}")
    label = spec.label + (", median (IQR)" if median_row else ", mean ± SD")
    lines = [{"level": "", "label": label, **cells}]
    if spec.show_missing:
        lines.append(_missing_line(spec, label, groups, (x_all, xa, xb)))
    return lines, numbers, statistic, p, test, smd


def _missing_line(spec, label: str, groups, columns) -> dict:
    """The 'Missing' row of a variable: patients without a value, per group (left out of the percentages)."""
    return {"level": "Missing", "label": label,
            **{g: str(int(x.isna().sum())) for g, x in zip(("Overall", *groups), columns)}}


def _categorical_block(spec, x_all, xa, xb, groups, categorical_test):
    if spec.kind == "binary":
        x_all, xa, xb = (_binary_values(s, spec.name) for s in (x_all, xa, xb))
        levels = [1.0]
        table_levels = [1.0, 0.0]
    else:
        levels = list(spec.levels) if spec.levels is not None else sorted(x_all.dropna().unique(), key=str)
        unknown = set(x_all.dropna().unique()) - set(levels)
        if unknown:
            raise ValueError(f"variable {spec.name!r} has values {sorted(map(str, unknown))} not in its levels {levels}")
        table_levels = levels
    # each column's counts of every value, its size and its missing count, once (not per level: a registry has
    # millions of patients)
    tallies = {id(x): (x.value_counts(dropna=True).to_dict(), int(x.notna().sum())) for x in (x_all, xa, xb)}
    counts = np.array([[int(tallies[id(x)][0].get(lv, 0)) for lv in table_levels] for x in (xa, xb)])
    keep = counts.sum(axis=0) > 0
    statistic, p, test = math.nan, math.nan, "none"
    if keep.sum() >= 2 and (counts.sum(axis=1) > 0).all():
        res = independence_test(counts[:, keep], categorical_test)
        statistic, p, test = res.statistic, res.p, res.test
    if spec.kind == "binary":
        smd = smd_binary(xa, xb)
    else:
        smd = smd_categorical(xa, xb, [lv for lv, k in zip(table_levels, keep) if k])
    numbers, lines = [], []
    for lv in levels:
        cells, shown = {}, (spec.level_labels or {}).get(lv, str(lv))
        for gname, x in (("Overall", x_all), (groups[0], xa), (groups[1], xb)):
            by_value, n = tallies[id(x)]
            c = int(by_value.get(lv, 0))
            numbers.append({"group": gname, "level": "" if spec.kind == "binary" else str(lv), "n": n,
                            "missing": len(x) - n, "count": c, "percent": 100 * c / n if n else math.nan,
                            "mean": math.nan, "sd": math.nan, "median": math.nan, "q1": math.nan, "q3": math.nan})
            cells[gname] = _fmt_count(c, n)
        lines.append({"level": "" if spec.kind == "binary" else shown, "label": spec.label + (", n (%)" if spec.kind == "binary" else ""), **cells})
    if spec.kind == "categorical":
        lines.insert(0, {"level": "", "label": spec.label + ", n (%)", "Overall": "", groups[0]: "", groups[1]: ""})
    if spec.show_missing:
        lines.append(_missing_line(spec, lines[-1]["label"], groups, (x_all, xa, xb)))
    return lines, numbers, statistic, p, test, smd


def baseline_table(
    df: pd.DataFrame,
    group_col: str,
    variables: list,
    groups: tuple | list | None = None,
    categorical_test: str = "chisq",
    continuous_test: str = "auto",
    quantile_method: str = "sas5",
    mw_method: str = "asymptotic",
) -> BaselineTable:
    """Baseline characteristics of two groups (Table 1), formatted and numeric.

    Parameters
    ----------
    df : one row per patient.
    group_col : column holding the group of each patient.
    variables : list of :class:`VariableSpec`, dicts with the same keys, or ``(name, label, kind)`` tuples.
    groups : the two groups in column order; by default the sorted distinct values of ``group_col``.
    categorical_test : ``chisq`` (default, no continuity correction), ``fisher_if_sparse`` or ``fisher``.
    continuous_test : ``auto`` (t-test for mean ± SD rows, Mann-Whitney for median rows), ``ttest``, ``mannwhitney``.
    quantile_method : ``sas5`` (SAS PCTLDEF=5 = R type 2) or ``r7``; see ``descriptive.descriptive_quantile``.
    mw_method : see :func:`mann_whitney_test`.

    Returns
    -------
    BaselineTable

    Raises
    ------
    KeyError, ValueError
        Naming the column when it is absent, when there are not exactly two groups, or when values do not fit
        the declared kind.
    """
    if group_col not in df.columns:
        raise KeyError(f"baseline_table: group column {group_col!r} not in the data")
    specs = [_as_spec(v) for v in variables]
    absent = [s.name for s in specs if s.name not in df.columns]
    if absent:
        raise KeyError(f"baseline_table: variables not in the data: {absent}")
    if df[group_col].isna().any():
        raise ValueError(f"baseline_table: {int(df[group_col].isna().sum())} patients have no {group_col!r}")
    groups = tuple(groups) if groups is not None else tuple(sorted(df[group_col].unique(), key=str))
    if len(groups) != 2:
        raise ValueError(f"baseline_table: exactly two groups are needed, got {groups}")
    missing_groups = [g for g in groups if not (df[group_col] == g).any()]
    if missing_groups:
        raise ValueError(f"baseline_table: no patient in group(s) {missing_groups} of {group_col!r}")
    in_a, in_b = df[group_col] == groups[0], df[group_col] == groups[1]
    names = [str(g) for g in groups]

    lines = [{"variable": "n", "label": "Patients, n", "level": "", "Overall": str(int((in_a | in_b).sum())),
              names[0]: str(int(in_a.sum())), names[1]: str(int(in_b.sum())), "p": "", "test": "", "smd": ""}]
    numbers = []
    for spec in specs:
        x_all = df.loc[in_a | in_b, spec.name]
        xa, xb = df.loc[in_a, spec.name], df.loc[in_b, spec.name]
        if spec.kind in ("mean_sd", "median_iqr"):
            try:
                x_all, xa, xb = (pd.to_numeric(s, errors="raise").astype(float) for s in (x_all, xa, xb))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"variable {spec.name!r} is declared {spec.kind} but is not numeric: {exc}") from exc
            block, nums, statistic, p, test, smd = _continuous_block(
                spec, x_all, xa, xb, names, continuous_test, quantile_method, mw_method)
            for row in nums:
                row["level"] = ""
        else:
            block, nums, statistic, p, test, smd = _categorical_block(spec, x_all, xa, xb, names, categorical_test)
        for i, line in enumerate(block):
            first = i == 0
            lines.append({"variable": spec.name, **line, "p": fmt_p(p, missing="") if first else "",
                          "test": test if first and test != "none" else "",
                          "smd": (f"{smd:.3f}" if not math.isnan(smd) else "") if first else ""})
        for row in nums:
            numbers.append({"variable": spec.name, **row, "statistic": statistic, "p": p, "test": test, "smd": smd})
    table = pd.DataFrame(lines, columns=["variable", "label", "level", "Overall", *names, "p", "test", "smd"])
    num_cols = ["variable", "level", "group", "n", "missing", "count", "percent", "mean", "sd", "median", "q1", "q3",
                "whole", "statistic", "p", "test", "smd"]
    return BaselineTable(table, pd.DataFrame(numbers, columns=num_cols), tuple(names))


def side_by_side(unmatched, matched=None, labels: tuple[str, str] = ("Before matching", "After matching")) -> pd.DataFrame:
    """Place an unmatched and a matched baseline table next to each other (the article's Table 1 layout).

    Parameters
    ----------
    unmatched, matched : :class:`BaselineTable` (or their ``table`` frames) built with the same variables;
        ``matched`` None when the matched cohort cannot be analysed (only the first half is shown).
    labels : top-level column headers of the two halves.

    Returns
    -------
    pandas.DataFrame
        Columns are a two-level index: ``("", variable | label | level)`` then, under each label, the group
        columns, ``p`` and ``smd``. Rows follow the unmatched table.
    """
    left = unmatched.table if isinstance(unmatched, BaselineTable) else unmatched
    right = matched.table if isinstance(matched, BaselineTable) else matched
    halves = [left] if right is None else [left, right]
    keys = ["variable", "label", "level"]
    if right is not None and list(left[keys].itertuples(index=False)) != list(right[keys].itertuples(index=False)):
        raise ValueError("side_by_side: the two tables do not have the same rows (build both with the same variables)")
    value_cols = [c for c in left.columns if c not in keys and c != "test"]
    parts = {("", k): left[k].to_numpy() for k in keys}
    for label, t in zip(labels, halves):
        for c in value_cols:
            parts[(label, c)] = t[c].to_numpy()
    out = pd.DataFrame(parts)
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out
