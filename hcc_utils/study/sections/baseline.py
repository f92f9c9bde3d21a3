"""Table 1: baseline characteristics of all enrolled and of propensity-score-matched patients."""
from __future__ import annotations

from typing import Any

import pandas as pd

from hcc_utils.data.variables import analysis_columns
from hcc_utils.tables.baseline import VariableSpec, baseline_table, side_by_side
from hcc_utils.tables.journal import Column, JournalTable, Row
from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.labels import (COHORT_NAMES, abbreviation_note, categorical_test_text, continuous_test_text,
                                   group_label, variable_labels)
from hcc_utils.study.registry import Kind, ResultSet, whole_summary
from hcc_utils.study.sections import SectionResult, per_cohort

#: Display text of category levels in Table 1.
LEVEL_LABELS = {"hbv": "HBV", "hcv": "HCV", "hbv_hcv": "HBV and HCV", "alcohol": "Alcohol", "nash": "NASH",
                "other": "Other"}
#: How a Table 1 row summarises a column of each kind when the configuration does not say.
_INFERRED_KIND = {"number": "median_iqr", "integer": "median_iqr", "binary": "binary", "category": "categorical"}


def table1_rows(config) -> list[tuple[str, str, str, list | None]]:
    """Table 1's rows as the configuration's ``baseline.rows`` give them: (column, label, kind, levels), the kind
    inferred from the column's type, the label from :func:`hcc_utils.study.labels.variable_labels` and the levels
    of a categorical row from the column's allowed values when not given (levels given as text are read as numbers
    for a column of whole numbers)."""
    labels = variable_labels(config)
    columns = analysis_columns(config)
    rows = []
    for row in config.baseline.rows:
        column = columns[row.variable]
        kind = row.kind or _INFERRED_KIND[column.kind]
        levels = None
        if kind == "categorical":
            given = row.levels if row.levels is not None else column.levels
            levels = None if given is None else [_level_value(level, column) for level in given]
        rows.append((row.variable, row.label or labels.get(row.variable, row.variable), kind, levels))
    return rows


def _level_value(level, column):
    """A configured level as the analysis table holds it: a whole number in a numeric column, else the column's own
    spelling of it (matched ignoring case: the reader lower-cases categories)."""
    if column.kind in ("integer", "number", "binary"):
        try:
            return int(level)
        except (TypeError, ValueError):
            return level
    known = {str(value).lower(): value for value in column.levels or ()}
    return known.get(str(level).lower(), str(level).lower())


def _specs(study: Study) -> list[VariableSpec]:
    specs = []
    for name, label, kind, levels in table1_rows(study.config):
        present = levels
        if levels is not None:
            observed = set(study.data[name].dropna().unique())
            present = [lv for lv in levels if lv in observed]
        specs.append(VariableSpec(name=name, kind=kind, label=label, levels=present,
                                  show_missing=bool(study.data[name].isna().any())))
    return specs


def _table(study: Study, cohort: pd.DataFrame):
    settings = study.config.baseline
    return baseline_table(cohort, "group", _specs(study), groups=tuple(study.groups),
                          categorical_test=settings.categorical_test, continuous_test=settings.continuous_test,
                          quantile_method=settings.quantile_method)


def baseline_tables(study: Study) -> dict[str, Any]:
    """Table 1 for all enrolled and matched patients (:func:`hcc_utils.tables.baseline.baseline_table`), for the
    cohorts that can be analysed."""
    return {suffix: _table(study, cohort) for suffix, cohort in study.cohorts().items()}


#: The Table 1 rows whose numbers the text quotes, with the kinds of row those numbers are read from.
QUOTED_ROWS = {"age": ("median_iqr", "mean_sd"), "atebev_cycles": ("median_iqr", "mean_sd"),
               "sex_male": ("binary",), "viral_etiology": ("binary",), "bclc_c": ("binary",),
               "child_pugh_class": ("categorical",)}


def _quoted_specs(study: Study) -> tuple[list[VariableSpec], dict[str, str]]:
    """The quoted variables Table 1 does not summarise as their numbers need (left out of ``baseline.rows``, or
    summarised otherwise), as rows computed for the text but never shown; and the reason of each quoted variable
    without any value in the cohort (its numbers are then not estimable)."""
    kinds = {name: kind for name, _, kind, _ in table1_rows(study.config)}
    columns, labels = analysis_columns(study.config), variable_labels(study.config)
    specs, absent = [], {}
    for name, fits in QUOTED_ROWS.items():
        if kinds.get(name) in fits:
            continue
        if name not in study.data or study.data[name].isna().all():
            absent[name] = "no value in the cohort: its source column is absent or empty"
            continue
        levels = None
        if fits[0] == "categorical":
            observed = set(study.data[name].dropna().unique())
            levels = [level for level in (columns[name].levels or sorted(observed)) if level in observed]
        specs.append(VariableSpec(name=name, kind=fits[0], label=labels.get(name, name), levels=levels))
    return specs, absent


def baseline_results(study: Study, tables: dict[str, Any] | None = None) -> ResultSet:
    """Numbers of Table 1 quoted in the text: age and prior-cycles quartiles, counts, Child-Pugh A by group, p;
    and the rows of Table 1 whose groups differ (``baseline.significant``: P below the configuration's
    ``significance_level``), which say whether "no other characteristic differed".

    They are the same whatever rows ``baseline.rows`` shows: a quoted variable that Table 1 leaves out (or
    summarises otherwise) is summarised for the text alone, with Table 1's tests. A number whose variable has no
    value in the cohort keeps its id, NaN with the status ``not estimable`` and the reason in its label."""
    tables = tables or baseline_tables(study)
    quoted, absent = _quoted_specs(study)
    settings = study.config.baseline

    def one_cohort(suffix: str, frame: pd.DataFrame, values: ResultSet) -> None:
        numbers = (tables.get(suffix) or _table(study, frame)).numbers
        tested = numbers[(numbers["group"] == "Overall") & numbers["p"].notna()].drop_duplicates("variable")
        alpha = study.config.significance_level
        values.add(f"baseline.significant{suffix}",
                   sorted(str(name) for name, p in zip(tested["variable"], tested["p"]) if float(p) < alpha),
                   Kind.LIST, f"Table 1 rows whose groups differ, P < {alpha:g} ({COHORT_NAMES[suffix]})",
                   item_labels={name: label for name, label, _, _ in table1_rows(study.config)})
        if quoted:  # the quoted variables Table 1 does not show, summarised as the text needs them
            extra = baseline_table(frame, "group", quoted, groups=tuple(study.groups),
                                   categorical_test=settings.categorical_test,
                                   continuous_test=settings.continuous_test,
                                   quantile_method=settings.quantile_method).numbers
            shown = numbers[~numbers["variable"].isin([spec.name for spec in quoted])]
            numbers = pd.concat([shown, extra], ignore_index=True)
        cohort = COHORT_NAMES[suffix]

        def pick(variable, group="Overall", level=None, column="count"):
            rows = numbers[(numbers["variable"] == variable) & (numbers["group"] == group)]
            if level is not None:
                rows = rows[rows["level"].astype(str) == str(level)]
            return rows[column].iloc[0] if len(rows) else float("nan")

        def summary(variable, group, stat):
            """A median or quartile as Table 1 writes it: whole (an int) for whole data (cycles, whole years)."""
            return whole_summary(float(pick(variable, group, column=stat)), bool(pick(variable, group, column="whole")))

        def add(result_id, variable, value, kind, label, unit=""):
            values.add(result_id, value() if variable not in absent else float("nan"), kind, label, unit=unit,
                       not_estimable=absent.get(variable, ""))

        for group in ["Overall", *study.groups]:
            code = "" if group == "Overall" else f"_{group_code(study, group)}"
            for stat, stat_name in (("median", "median"), ("q1", "first quartile"), ("q3", "third quartile")):
                add(f"baseline.age_{stat}{code}{suffix}", "age", lambda: summary("age", group, stat),
                    Kind.QUANTITY, f"Age, {stat_name}, {group} ({cohort})", unit="years")
                add(f"baseline.cycles_{stat}{code}{suffix}", "atebev_cycles",
                    lambda: summary("atebev_cycles", group, stat), Kind.QUANTITY,
                    f"Prior ATE+BEV cycles, {stat_name}, {group} ({cohort})", unit="cycles")
        for variable, key, text in (("sex_male", "male", "Men"), ("viral_etiology", "viral", "Viral aetiology"),
                                    ("bclc_c", "bclc_c", "BCLC stage C")):
            add(f"baseline.{key}{suffix}", variable, lambda: int(pick(variable)), Kind.COUNT, f"{text} ({cohort})")
        add(f"baseline.child_pugh_a{suffix}", "child_pugh_class",
            lambda: int(pick("child_pugh_class", level="A")), Kind.COUNT, f"Child-Pugh A ({cohort})")
        p_id = "baseline.child_pugh_a_p" if suffix == "" else f"baseline.child_pugh_p{suffix}"  # the article's ids
        add(p_id, "child_pugh_class", lambda: float(pick("child_pugh_class", column="p")), Kind.P,
            f"Child-Pugh class by group, P ({cohort})")
        cycles_p = lambda: float(pick("atebev_cycles", column="p"))  # noqa: E731
        add(f"baseline.cycles_p{suffix}", "atebev_cycles", cycles_p, Kind.P,
            f"Prior ATE+BEV cycles by group, P ({cohort})")
        if suffix == "_matched":  # the letter to the editor quotes it as a matching result
            add("matching.cycles_p_matched", "atebev_cycles", cycles_p, Kind.P,
                "Prior ATE+BEV cycles by group after matching, P")
        for group in study.groups:
            add(f"baseline.child_pugh_a_{group_code(study, group)}{suffix}", "child_pugh_class",
                lambda: float(pick("child_pugh_class", group, "A", "percent")), Kind.PERCENT,
                f"Child-Pugh A, {group} ({cohort})")

    return per_cohort(study, one_cohort)


#: Table 1's rows whose Overall cell holds a count quoted in the text, and that count's id stem.
_QUOTED_COUNTS = {"sex_male": "male", "viral_etiology": "viral", "bclc_c": "bclc_c"}
#: Table 1's continuous rows quoted as median and quartiles, and their id stems.
_QUOTED_QUARTILES = {"age": "age", "atebev_cycles": "cycles"}


def _table1_sources(study: Study, variable: str, level: str, column: str, suffix: str) -> str:
    """The result ids (:func:`baseline_results`) a cell of Table 1 shows, "" for none: ``column`` is "Overall", a
    group, "p" or "smd", ``suffix`` the cohort's. Used by the book to show the article's value of a cell
    (:mod:`hcc_utils.pipeline.comparison`)."""
    code = "" if column in ("Overall", "p", "smd") else f"_{group_code(study, column)}"
    if variable in _QUOTED_QUARTILES and not level and column not in ("p", "smd"):
        stem = _QUOTED_QUARTILES[variable]
        return " ".join(f"baseline.{stem}_{stat}{code}{suffix}" for stat in ("median", "q1", "q3"))
    if variable == "atebev_cycles" and column == "p":
        return f"baseline.cycles_p{suffix}"
    if variable in _QUOTED_COUNTS and not level and column == "Overall":
        return f"baseline.{_QUOTED_COUNTS[variable]}{suffix}"
    if variable == "child_pugh_class":
        if not level and column == "p":
            return "baseline.child_pugh_a_p" if suffix == "" else f"baseline.child_pugh_p{suffix}"
        if level == "A" and column not in ("p", "smd"):
            return f"baseline.child_pugh_a{code}{suffix}"
    return ""


def table1_display(study: Study, tables: dict[str, Any]) -> JournalTable:
    """Table 1 in the article's layout: one 'Characteristic' stub (categories indented under their variable), then
    all enrolled and PS-matched patients as column spanners, each with Overall, the two groups (N in the heading),
    P and SMD; all enrolled only when the matched cohort cannot be analysed."""
    wide = side_by_side(tables[""], tables.get("_matched"), (COHORT_NAMES[""], COHORT_NAMES["_matched"]))
    sizes = wide.iloc[0]  # the first row gives the group sizes (shown in the headings)
    halves = [suffix for suffix in ("", "_matched") if suffix in tables]
    columns, keys = [], []
    for suffix in halves:
        spanner = COHORT_NAMES[suffix]
        for key in ("Overall", *study.groups):
            shown = "Overall" if key == "Overall" else group_label(key)
            columns.append(Column(f"{shown}\nN = {sizes[(spanner, key)]}", spanner))
            keys.append((spanner, key))
        columns += [Column("P", spanner), Column("SMD", spanner)]
        keys += [(spanner, "p"), (spanner, "smd")]
    suffix_of = {COHORT_NAMES[suffix]: suffix for suffix in halves}
    rows = []
    for _, line in wide.iloc[1:].iterrows():
        level = str(line[("", "level")])
        label = LEVEL_LABELS.get(level, level) if level else str(line[("", "label")])
        cells = tuple("" if pd.isna(line[key]) else str(line[key]) for key in keys)
        variable = str(line[("", "variable")])
        sources = tuple(_table1_sources(study, variable, level, key, suffix_of[spanner]) if cell else ""
                        for cell, (spanner, key) in zip(cells, keys))
        rows.append(Row(label, cells, indent=1 if level else 0, sources=sources))
    settings = study.config.baseline
    footnotes = [
        "Values are n (%) of the patients with a recorded value, or median (IQR).",
        f"P values: {continuous_test_text(settings.continuous_test)} for continuous variables; "
        f"{categorical_test_text(settings.categorical_test)} for categorical variables.",
        "SMD: absolute standardized mean difference (for variables with more than two categories, the "
        "multivariate SMD of Yang and Dalton); below 0.1 is commonly read as balanced.",
        abbreviation_note("AFP", "ATE+BEV", "BCLC", "ECOG", "HBV", "HCV", "IQR", "NASH", "PIVKA-II", "PS", "SMD"),
    ]
    return JournalTable("table1_baseline", "Table 1", "Baseline characteristics at the start of second-line therapy",
                        "Characteristic", columns, rows, footnotes, order=1)


def compute(study: Study) -> SectionResult:
    tables = baseline_tables(study)
    return SectionResult(baseline_results(study, tables), {"table1": table1_display(study, tables)}, {"by_cohort": tables})
