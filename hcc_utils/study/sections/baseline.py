"""Table 1: baseline characteristics of all enrolled and of propensity-score-matched patients."""
from __future__ import annotations

from typing import Any

import pandas as pd

from hcc_utils.tables.baseline import VariableSpec, baseline_table, side_by_side
from hcc_utils.tables.journal import Column, JournalTable, Row
from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.labels import (COHORT_NAMES, abbreviation_note, categorical_test_text, continuous_test_text,
                                   group_label, variable_labels)
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SectionResult, per_cohort

#: Table 1's rows: (column of the analysis table, label or None for the configured label, kind, levels).
TABLE1_VARIABLES = [
    ("age", "Age, years", "median_iqr", None),
    ("sex_male", "Male sex", "binary", None),
    ("ecog", "ECOG performance status", "categorical", [0, 1, 2, 3, 4]),
    ("etiology", "Aetiology", "categorical", ["hbv", "hcv", "hbv_hcv", "alcohol", "nash", "other"]),
    ("viral_etiology", "Viral aetiology (HBV and/or HCV)", "binary", None),
    ("child_pugh_class", "Child-Pugh class", "categorical", ["A", "B", "C"]),
    ("bclc_c", "BCLC stage C", "binary", None),
    ("tumor_multiple", "Multiple tumours", "binary", None),
    ("tumor_size_cm", "Largest tumour size, cm", "median_iqr", None),
    ("tumor_size_large", None, "binary", None),
    ("lymph_node_metastasis", "Lymph-node metastasis", "binary", None),
    ("extrahepatic_metastasis", "Extrahepatic metastasis", "binary", None),
    ("macrovascular_invasion", "Macrovascular invasion", "binary", None),
    ("afp_ng_ml", "AFP, ng/mL", "median_iqr", None),
    ("afp_high", None, "binary", None),
    ("pivka_mau_ml", "PIVKA-II, mAU/mL", "median_iqr", None),
    ("pivka_high", None, "binary", None),
    ("atebev_cycles", "Prior ATE+BEV cycles", "median_iqr", None),
]

#: Display text of category levels in Table 1.
LEVEL_LABELS = {"hbv": "HBV", "hcv": "HCV", "hbv_hcv": "HBV and HCV", "alcohol": "Alcohol", "nash": "NASH",
                "other": "Other"}


def _specs(study: Study) -> list[VariableSpec]:
    labels = variable_labels(study.config)
    specs = []
    for name, text, kind, levels in TABLE1_VARIABLES:
        present = levels
        if levels is not None:
            observed = set(study.data[name].dropna().unique())
            present = [lv for lv in levels if lv in observed]
        specs.append(VariableSpec(name=name, kind=kind, label=text or labels[name], levels=present,
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


def baseline_results(study: Study, tables: dict[str, Any] | None = None) -> ResultSet:
    """Numbers of Table 1 quoted in the text: age and prior-cycles quartiles, counts, Child-Pugh A by group, p."""
    tables = tables or baseline_tables(study)

    def one_cohort(suffix: str, frame: pd.DataFrame, values: ResultSet) -> None:
        numbers = (tables.get(suffix) or _table(study, frame)).numbers
        cohort = COHORT_NAMES[suffix]

        def pick(variable, group="Overall", level=None, column="count"):
            rows = numbers[(numbers["variable"] == variable) & (numbers["group"] == group)]
            if level is not None:
                rows = rows[rows["level"].astype(str) == str(level)]
            return rows[column].iloc[0] if len(rows) else float("nan")

        for group in ["Overall", *study.groups]:
            code = "" if group == "Overall" else f"_{group_code(group)}"
            for stat, stat_name in (("median", "median"), ("q1", "first quartile"), ("q3", "third quartile")):
                values.add(f"baseline.age_{stat}{code}{suffix}", float(pick("age", group, column=stat)),
                           Kind.QUANTITY, f"Age, {stat_name}, {group} ({cohort})", unit="years")
                values.add(f"baseline.cycles_{stat}{code}{suffix}", float(pick("atebev_cycles", group, column=stat)),
                           Kind.QUANTITY, f"Prior ATE+BEV cycles, {stat_name}, {group} ({cohort})", unit="cycles")
        for variable, key, text in (("sex_male", "male", "Men"), ("viral_etiology", "viral", "Viral aetiology"),
                                    ("bclc_c", "bclc_c", "BCLC stage C")):
            values.add(f"baseline.{key}{suffix}", int(pick(variable)), Kind.COUNT, f"{text} ({cohort})")
        values.add(f"baseline.child_pugh_a{suffix}", int(pick("child_pugh_class", level="A")), Kind.COUNT,
                   f"Child-Pugh A ({cohort})")
        p_id = "baseline.child_pugh_a_p" if suffix == "" else f"baseline.child_pugh_p{suffix}"  # the article's ids
        values.add(p_id, float(pick("child_pugh_class", column="p")), Kind.P, f"Child-Pugh class by group, P ({cohort})")
        cycles_p = float(pick("atebev_cycles", column="p"))
        values.add(f"baseline.cycles_p{suffix}", cycles_p, Kind.P, f"Prior ATE+BEV cycles by group, P ({cohort})")
        if suffix == "_matched":  # the letter to the editor quotes it as a matching result
            values.add("matching.cycles_p_matched", cycles_p, Kind.P, "Prior ATE+BEV cycles by group after matching, P")
        for group in study.groups:
            values.add(f"baseline.child_pugh_a_{group_code(group)}{suffix}",
                       float(pick("child_pugh_class", group, "A", "percent")), Kind.PERCENT,
                       f"Child-Pugh A, {group} ({cohort})")

    return per_cohort(study, one_cohort)


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
    rows = []
    for _, line in wide.iloc[1:].iterrows():
        level = str(line[("", "level")])
        label = LEVEL_LABELS.get(level, level) if level else str(line[("", "label")])
        cells = tuple("" if pd.isna(line[key]) else str(line[key]) for key in keys)
        rows.append(Row(label, cells, indent=1 if level else 0))
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
