"""Treatment-related adverse events by group: any grade and grade 3-4, per term and overall.

Input columns are ``ae_<term>`` holding the worst CTCAE v5.0 grade (0 = none, 1-5) of each event during
second-line therapy, as the data dictionary declares them (its ``ae_term`` field gives the display label), plus
``ae_led_to_discontinuation`` (0/1).

Conventions
-----------
* Any grade: worst grade >= 1. Grade 3-4: worst grade 3 or 4 (grade 5, death, is counted under any grade only,
  as the article's "grade 3-4" heading and the analysis table's ``ae_grade_3_4`` do).
* Denominator: all patients of the group (every enrolled patient has a recorded grade; a missing grade is an
  error naming the patient).
* Between-group p: Pearson chi-square without continuity correction by default, ``rule="fisher_if_sparse"`` for
  Fisher's exact test when an expected count is below 5; none when no patient of either group had the event.
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from hcc_utils.data.dictionary import load_dictionary
from hcc_utils.stats.contingency import compare_proportions
from hcc_utils.tables.formatting import fmt_p

SUMMARY_ROWS = {"ae_any": "Any adverse event", "ae_grade_3_4": "Any grade 3-4 adverse event",
                "ae_led_to_discontinuation": "Adverse event leading to discontinuation"}


def adverse_event_terms(df: pd.DataFrame | None = None, dictionary=None) -> dict[str, str]:
    """Worst-grade columns and their labels, in dictionary order (only those present in ``df`` when given)."""

    dictionary = dictionary if dictionary is not None else load_dictionary()
    terms = {spec.name: spec.ae_term for spec in dictionary.adverse_event_columns}
    if df is not None:
        terms = {k: v for k, v in terms.items() if k in df.columns}
    return terms


def _grades(df: pd.DataFrame, col: str, ids) -> np.ndarray:
    values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isin(values, [0, 1, 2, 3, 4, 5])  # missing (NaN) included
    if bad.any():
        raise ValueError(f"{col!r} must hold grades 0-5 for every patient; patients {list(ids()[bad])[:10]} do not")
    return values.astype(int)


def _row(section: str, term: str, label: str, flags: np.ndarray, masks: list[np.ndarray], groups, rule: str) -> list[dict]:
    ks = [int(np.count_nonzero(flags[mask])) for mask in masks]
    ns = [int(np.count_nonzero(mask)) for mask in masks]
    res = compare_proportions(ks[0], ns[0], ks[1], ns[1], rule=rule)
    return [{"section": section, "term": term, "label": label, "group": g, "count": k, "n": n,
             "percent": 100 * k / n, "p": res.p, "test": res.test, "text": f"{k} ({100 * k / n:.1f}%)"}
            for g, k, n in zip(groups, ks, ns)]


def adverse_event_table(
    df: pd.DataFrame,
    group_col: str,
    groups: tuple | list | None = None,
    terms: dict[str, str] | None = None,
    rule: str = "chisq",
    id_col: str = "patient_id",
) -> pd.DataFrame:
    """Adverse events by group.

    Parameters
    ----------
    df : one row per patient with ``ae_<term>`` worst-grade columns and ``ae_led_to_discontinuation``.
    group_col : group column; ``groups`` gives the two groups in display order (sorted values by default).
    terms : ``{column: label}``; by default every ``ae_term`` column of the data dictionary present in ``df``.
    rule : test, see :func:`hcc_utils.stats.contingency.independence_test`.
    id_col : patient identifier used in error messages.

    Returns
    -------
    pandas.DataFrame
        Long, tidy rows: ``section`` (``summary`` | ``any_grade`` | ``grade_3_4``), ``term`` (column name, or
        ``ae_any`` / ``ae_grade_3_4`` / ``ae_led_to_discontinuation``), ``label, group, count, n, percent, p,
        test, text``. Summary rows are derived from the term columns (any grade >= 1; any grade 3-4), the
        discontinuation row from ``ae_led_to_discontinuation`` when present.
    """
    if group_col not in df.columns:
        raise KeyError(f"adverse_event_table: group column {group_col!r} not in the data")
    groups = tuple(groups) if groups is not None else tuple(sorted(df[group_col].dropna().unique(), key=str))
    if len(groups) != 2:
        raise ValueError(f"adverse_event_table: exactly two groups are needed, got {groups}")
    keep = df[group_col].isin(groups).to_numpy()
    data = df if keep.all() else df[keep]

    def ids() -> np.ndarray:  # for error messages only: a million ids are not converted to text otherwise
        return (data[id_col] if id_col in data.columns else pd.Series(data.index)).astype(str).to_numpy()

    terms = adverse_event_terms(data) if terms is None else terms
    absent = [c for c in terms if c not in data.columns]
    if absent:
        raise KeyError(f"adverse_event_table: adverse-event columns not in the data: {absent}")
    if not terms:
        raise ValueError("adverse_event_table: no adverse-event (ae_<term>) column found")
    labels = data[group_col].to_numpy()
    group = [labels == g for g in groups]  # each group's mask, computed once for every row of the table
    grades = {col: _grades(data, col, ids) for col in terms}
    matrix = np.column_stack(list(grades.values()))
    rows = []
    rows += _row("summary", "ae_any", SUMMARY_ROWS["ae_any"], (matrix >= 1).any(axis=1), group, groups, rule)
    rows += _row("summary", "ae_grade_3_4", SUMMARY_ROWS["ae_grade_3_4"], ((matrix >= 3) & (matrix <= 4)).any(axis=1),
                 group, groups, rule)
    if "ae_led_to_discontinuation" in data.columns:
        disc = pd.to_numeric(data["ae_led_to_discontinuation"].astype("Int64"), errors="coerce")
        if disc.isna().any() or not disc.isin([0, 1]).all():
            bad = disc.isna() | ~disc.isin([0, 1])
            raise ValueError(f"'ae_led_to_discontinuation' must be 0/1; patients {list(ids()[bad.to_numpy()])[:10]} are not")
        rows += _row("summary", "ae_led_to_discontinuation", SUMMARY_ROWS["ae_led_to_discontinuation"],
                     disc.to_numpy(dtype=int) == 1, group, groups, rule)
    for col, label in terms.items():
        g = grades[col]
        rows += _row("any_grade", col, label, g >= 1, group, groups, rule)
        rows += _row("grade_3_4", col, label, (g >= 3) & (g <= 4), group, groups, rule)
    return pd.DataFrame(rows)


def adverse_event_display(long: pd.DataFrame) -> pd.DataFrame:
    """Wide display: one row per term, ``<group> any grade``, ``p``, ``<group> grade 3-4``, ``p (grade 3-4)``.

    Summary rows come first; their single count sits in the any-grade columns.
    """

    groups = list(dict.fromkeys(long["group"]))
    out_rows = []
    for (term, label), part in long.groupby(["term", "label"], sort=False):
        row = {"term": term, "label": label}
        for section, suffix in (("summary", "any grade"), ("any_grade", "any grade"), ("grade_3_4", "grade 3-4")):
            sec = part[part["section"] == section]
            if sec.empty:
                continue
            for g in groups:
                row[f"{g} {suffix}"] = sec.loc[sec["group"] == g, "text"].iloc[0]
            row[f"p ({suffix})"] = fmt_p(sec["p"].iloc[0], missing="")
        out_rows.append(row)
    cols = ["term", "label"] + [f"{g} any grade" for g in groups] + ["p (any grade)"] + \
           [f"{g} grade 3-4" for g in groups] + ["p (grade 3-4)"]
    return pd.DataFrame(out_rows).reindex(columns=cols).fillna("")


def most_common_events(long: pd.DataFrame, groups: list[str] | tuple | None = None, n: int = 10,
                       section: str = "any_grade") -> pd.DataFrame:
    """The ``n`` commonest adverse-event terms by the higher of the groups' percentages, commonest first.

    Parameters
    ----------
    long : :func:`adverse_event_table`'s long table.
    groups : the groups in display order (as they appear in ``long`` by default).
    n : at most this many rows.
    section : ``any_grade`` or ``grade_3_4``.

    Returns
    -------
    pandas.DataFrame
        One row per term: ``label``, the percentage of each group (a column per group) and ``max`` (their maximum),
        sorted by ``max`` descending (ties in the dictionary's order).
    """
    groups = list(groups) if groups is not None else list(dict.fromkeys(long["group"]))
    terms = long[long["section"] == section].pivot_table(index="label", columns="group", values="percent", sort=False)
    terms = terms.reindex(columns=groups)
    terms["max"] = terms[groups].max(axis=1)
    common = terms.sort_values("max", ascending=False, kind="stable").head(n).reset_index()
    common.columns.name = None
    return common
