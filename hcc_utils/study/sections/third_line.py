"""Supplementary Table 1 and Figures 1-2: third-line therapy by group, and overall survival by its receipt and
type within each group."""
from __future__ import annotations

import pandas as pd

from hcc_utils.stats.contingency import compare_proportions
from hcc_utils.stats.survival import km_summary, logrank_test
from hcc_utils.tables.formatting import fmt_p, fmt_percent
from hcc_utils.tables.journal import Column, JournalTable, Row
from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.labels import COHORT_NAMES, categorical_test_text, group_heading, group_label, regimen_label
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SectionResult, per_cohort

#: Fewest patients a level needs to be drawn as a Kaplan-Meier curve: one patient's "curve" is a single step.
#: Tests follow ``survival.min_subgroup_size`` instead (1, every level, as the article's p-values require; a log-rank
#: test with a one-patient level is driven by that patient, so authors may raise it).
MIN_PATIENTS_TO_DRAW = 2


def third_line_results(study: Study) -> ResultSet:
    """Third-line therapy by group (all enrolled) and OS by its receipt and type within each group and cohort.

    ``thirdline.<g>`` counts patients of group g who received any third-line therapy (``_pct`` percentage);
    ``thirdline.<g>_<regimen>`` counts each regimen; ``thirdline.p`` compares receipt between groups.
    ``thirdline.os_received_<g>_p`` is the log-rank p of OS by receipt within group g, with the Kaplan-Meier median
    OS of its recipients and non-recipients (``thirdline.os_received_<g>_median_yes``, ``..._median_no``; NaN when
    not reached, or for fewer than ``survival.min_subgroup_size`` patients), which say who lives longer;
    ``thirdline.os_type_<g>_p`` by type of third-line regimen among the patients of group g who received one, all
    for each cohort.

    The type comparison is among recipients only: with "no third line" as one more level, the article's p-values
    for receipt and for type in the sorafenib group could not both hold (see the consistency audit).

    Levels with fewer than ``survival.min_subgroup_size`` patients are left out of a test (1 keeps every level, as
    the article's p-values require); when fewer than two levels remain, the P is NaN, recorded as not estimable
    with the reason in its label. Figures never draw a level of fewer than :data:`MIN_PATIENTS_TO_DRAW` patients.
    """
    rule = study.config.baseline.categorical_test
    minimum = study.config.survival.min_subgroup_size
    values = ResultSet()
    data = study.data
    counts = {}
    for group in study.groups:
        part = data.loc[study.group_mask(data, group), ["received_third_line", "third_line_regimen"]]
        code = group_code(study, group)
        received = int(part["received_third_line"].sum())
        counts[group] = (received, len(part))
        values.add(f"thirdline.{code}", received, Kind.COUNT, f"Third-line therapy, {group}")
        values.add(f"thirdline.{code}_pct", 100 * received / len(part), Kind.PERCENT, f"Third-line therapy, {group}")
        for regimen, n in part["third_line_regimen"].value_counts().items():
            if regimen != "none":
                values.add(f"thirdline.{code}_{regimen}", int(n), Kind.COUNT,
                           f"Third-line {regimen_label(regimen)}, {group}")
    (a, na), (b, nb) = counts[study.treatment], counts[study.control]
    values.add("thirdline.p", compare_proportions(a, na, b, nb, rule=rule).p, Kind.P,
               "Third-line therapy by group, P")

    def one_cohort(suffix: str, cohort: pd.DataFrame, survival: ResultSet) -> None:
        for group in study.groups:
            part = cohort.loc[study.group_mask(cohort, group), _OS_BY_THIRD_LINE]  # only the columns compared
            code = group_code(study, group)
            recipients = part[part["received_third_line"] == 1]
            for name, column, patients, text in (
                    ("received", "received_third_line", part, "receipt of third-line therapy"),
                    ("type", "third_line_regimen", recipients, "type of third-line therapy (recipients)")):
                patients = comparable_levels(patients, column, minimum)
                testable = patients[column].nunique() >= 2
                p = (logrank_test(patients["os_months"], patients["os_event"], patients[column].astype(str),
                                  not_estimable=True).p if testable else float("nan"))  # NaN also without a death
                reason = "" if testable else (f" (not estimable: fewer than two levels with at least {minimum} "
                                              f"patients)")
                survival.add(f"thirdline.os_{name}_{code}_p{suffix}", p, Kind.P,
                             f"OS by {text}, {group}, log-rank P ({COHORT_NAMES[suffix]}){reason}")
            for level, word, text in ((1, "yes", "with"), (0, "no", "without")):
                arm = part[part["received_third_line"] == level]
                median = (km_summary(arm, "os_months", "os_event")["median"].iloc[0]
                          if len(arm) >= max(1, minimum) else float("nan"))
                survival.add(f"thirdline.os_received_{code}_median_{word}{suffix}", median, Kind.MONTHS,
                             f"Median OS, {group}, {text} third-line therapy ({COHORT_NAMES[suffix]})")

    return values.merge(per_cohort(study, one_cohort))


_OS_BY_THIRD_LINE = ["received_third_line", "third_line_regimen", "os_months", "os_event"]


def comparable_levels(patients: pd.DataFrame, column: str, minimum: int) -> pd.DataFrame:
    """The patients whose level of ``column`` has at least ``minimum`` patients (``survival.min_subgroup_size``):
    smaller levels are left out of a comparison and of its figure."""
    sizes = patients[column].map(patients[column].value_counts())
    return patients[sizes >= minimum]


def third_line_table(study: Study) -> JournalTable:
    """Supplementary Table 1: third-line regimens by group, n (%) of each group's patients (N in the headings),
    the patients with any third-line therapy first, with the P of its comparison."""
    data = study.data
    regimens = [r for r in data["third_line_regimen"].value_counts().index if r != "none"] + ["none"]
    parts = {group: data.loc[study.group_mask(data, group), ["received_third_line", "third_line_regimen"]]
             for group in study.groups}
    rule = study.config.baseline.categorical_test
    (a, na), (b, nb) = ((int(parts[g]["received_third_line"].sum()), len(parts[g])) for g in study.groups)
    rows = [Row("Any third-line therapy", (fmt_percent(a, na), fmt_percent(b, nb),
                                           fmt_p(compare_proportions(a, na, b, nb, rule=rule).p, missing="")))]
    for regimen in regimens:
        label = "No third-line therapy" if regimen == "none" else group_label(regimen_label(regimen))
        cells = [fmt_percent(int((part["third_line_regimen"] == regimen).sum()), len(part)) for part in parts.values()]
        rows.append(Row(label, (*cells, ""), indent=0 if regimen == "none" else 1))
    columns = [Column(group_heading(g, len(part))) for g, part in parts.items()] + [Column("P")]
    footnotes = ["Values are n (%) of all enrolled patients of each group.",
                 f"P compares the receipt of any third-line therapy: {categorical_test_text(rule)}."]
    return JournalTable("supp_table1_third_line", "Supplementary Table 1", "Third-line therapy by second-line regimen",
                        "Third-line therapy", columns, rows, footnotes, order=6)


def compute(study: Study) -> SectionResult:
    return SectionResult(third_line_results(study), {"supp_table1": third_line_table(study)})
