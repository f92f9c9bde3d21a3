"""Supplementary Table 2 and Figures 3-4: survival by group within subgroups of prior ATE+BEV cycles."""
from __future__ import annotations

import pandas as pd

from hcc_utils.stats.survival import km_summary, logrank_test
from hcc_utils.data.text import plural
from hcc_utils.tables.formatting import fmt_months, fmt_p
from hcc_utils.tables.journal import Column, JournalTable, Row
from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.labels import COHORT_NAMES, ENDPOINTS, abbreviation_note, group_label
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SectionResult, per_cohort


def _cut_text(cut: float) -> str:
    return f"{cut:g}"


def cycles_subgroups(study: Study, cohort: pd.DataFrame) -> list[tuple[str, pd.Series, str]]:
    """The two subgroups of a cohort: (id name, mask, label), at most the cut-point versus more."""
    cut = _cut_text(study.config.cutpoints.atebev_cycles_subgroup)
    value = study.config.cutpoints.atebev_cycles_subgroup
    return [(f"le{cut}", cohort["atebev_cycles"] <= value, f"≤{cut} cycles"),
            (f"gt{cut}", cohort["atebev_cycles"] > value, f">{cut} cycles")]


def cycles_subgroup_results(study: Study) -> ResultSet:
    """OS and PFS by group within subgroups of prior ATE+BEV cycles: patients and median per group and log-rank p,
    ids ``cycles.<le|gt><cut>_<endpoint>_...``. An arm with fewer than ``survival.min_subgroup_size`` patients (or none)
    has no median and no test ('not estimable'); figures do not draw an arm of one patient."""

    minimum = max(1, study.config.survival.min_subgroup_size)

    def one_cohort(suffix: str, cohort: pd.DataFrame, values: ResultSet) -> None:
        for name, mask, text in cycles_subgroups(study, cohort):
            # only the columns compared: a copy of every column of a million patients costs more than the tests
            part = cohort.loc[mask, ["group", *(c for t, e, _ in ENDPOINTS.values() for c in (t, e))]]
            sizes = part["group"].value_counts()
            for endpoint, (time_col, event_col, endpoint_name) in ENDPOINTS.items():
                key = f"cycles.{name}_{endpoint}"
                where = f"{endpoint_name}, {text} ({COHORT_NAMES[suffix]})"
                for group in study.groups:
                    code = group_code(study, group)
                    arm = part[part["group"] == group]
                    values.add(f"{key}_n_{code}{suffix}", int(sizes.get(group, 0)), Kind.COUNT,
                               f"Patients, {group}, {where}")
                    median = (km_summary(arm, time_col, event_col)["median"].iloc[0] if len(arm) >= minimum
                              else float("nan"))
                    values.add(f"{key}_median_{code}{suffix}", median, Kind.MONTHS, f"Median, {group}, {where}")
                comparable = all(sizes.get(g, 0) >= minimum for g in study.groups)
                p = (logrank_test(part[time_col], part[event_col], part["group"], not_estimable=True).p
                     if comparable else float("nan"))  # NaN also without an event in the subgroup
                values.add(f"{key}_logrank_p{suffix}", p, Kind.P,
                           f"Log-rank P, {where}" + ("" if comparable else " (not estimable: a group has too few "
                                                                            "patients)"))

    return per_cohort(study, one_cohort)


def cycles_subgroup_table(study: Study, values: dict) -> JournalTable:
    """Supplementary Table 2: a row group per endpoint and cohort, a row per subgroup of prior ATE+BEV cycles;
    for each group its patients and median (months), then the log-rank P of the comparison within the subgroup."""
    rows = []
    for endpoint, (_, _, endpoint_label) in ENDPOINTS.items():
        for suffix in study.cohorts():
            for name, _, text in cycles_subgroups(study, study.data):
                key = f"cycles.{name}_{endpoint}"
                cells = []
                for group in study.groups:
                    code = group_code(study, group)
                    cells += [str(values.get(f"{key}_n_{code}{suffix}", 0)),
                              fmt_months(values.get(f"{key}_median_{code}{suffix}", float("nan")))]
                cells.append(fmt_p(values[f"{key}_logrank_p{suffix}"], missing="not estimable"))
                rows.append(Row(text, tuple(cells), group=f"{endpoint_label}, {COHORT_NAMES[suffix]}"))
    columns = []
    for group in study.groups:
        columns += [Column("Patients, n", group_label(group)), Column("Median, months", group_label(group))]
    columns.append(Column("Log-rank P"))
    minimum = max(1, study.config.survival.min_subgroup_size)
    too_few = "no patient" if minimum == 1 else f"fewer than {plural(minimum, 'patient')}"
    footnotes = ["Kaplan–Meier medians; NR: not reached. P: log-rank test between the groups within the subgroup "
                 f"(not estimable when a group has {too_few}).",
                 abbreviation_note("ATE+BEV", "NR", "PS")]
    return JournalTable("supp_table2_cycles", "Supplementary Table 2",
                        "Survival by second-line regimen within subgroups of prior ATE+BEV cycles",
                        "Prior ATE+BEV cycles", columns, rows, footnotes, order=7)


def compute(study: Study) -> SectionResult:
    values = cycles_subgroup_results(study)
    return SectionResult(values, {"supp_table2": cycles_subgroup_table(study, values)})
