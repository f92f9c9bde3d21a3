"""Table 3 and Figures 2-3: Kaplan-Meier estimates of overall and progression-free survival, and log-rank tests."""
from __future__ import annotations

import pandas as pd

from hcc_utils.stats.survival import followup_summary, kaplan_meier, km_summary, logrank_test, numbers_at_risk
from hcc_utils.tables.formatting import fmt_median_iqr, fmt_months, fmt_p
from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.labels import COHORT_NAMES, ENDPOINTS
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SectionResult


def survival_results(study: Study) -> ResultSet:
    """Events, follow-up, Kaplan-Meier medians and quartiles by group, and log-rank p (Table 3, Figures 2-3).

    For each cohort (all enrolled, matched) and endpoint: number of events overall; follow-up median and quartiles
    (method from ``survival.followup_method``); per group median, first and third quartile of the survival time
    (R ``survfit`` rules; NaN = not reached) and the 95% CI of the median; the log-rank p-value (R ``survdiff``).
    """
    method = study.config.survival.followup_method
    values = ResultSet()
    for suffix, cohort in study.cohorts().items():
        for endpoint, (time_col, event_col, name) in ENDPOINTS.items():
            where = f"{name} ({COHORT_NAMES[suffix]})"
            time, event = cohort[time_col].to_numpy(float), cohort[event_col].to_numpy(int)
            values.add(f"survival.{endpoint}_events{suffix}", int(event.sum()), Kind.COUNT, f"Events, {where}")
            values.add(f"survival.{endpoint}_n{suffix}", int(len(cohort)), Kind.COUNT, f"Patients, {where}")
            follow = followup_summary(time, event, method=method)
            for stat, value, text in (("median", follow.median, "median"), ("q1", follow.q1, "first quartile"),
                                      ("q3", follow.q3, "third quartile")):
                values.add(f"survival.{endpoint}_followup_{stat}{suffix}", value, Kind.MONTHS,
                           f"Follow-up, {text}, {where}")
            summary = km_summary(cohort, time_col, event_col, "group").set_index("group")
            for group in study.groups:
                code = group_code(group)
                row = summary.loc[group]
                for stat, text in (("median", "median"), ("q1", "first quartile"), ("q3", "third quartile"),
                                   ("median_ci_low", "median, 95% CI lower limit"),
                                   ("median_ci_high", "median, 95% CI upper limit")):
                    values.add(f"survival.{endpoint}_{stat}_{code}{suffix}", row[stat], Kind.MONTHS,
                               f"{text.capitalize()}, {group}, {where}")
                values.add(f"survival.{endpoint}_events_{code}{suffix}", int(row["events"]), Kind.COUNT,
                           f"Events, {group}, {where}")
            test = logrank_test(time, event, cohort["group"].to_numpy())
            values.add(f"survival.{endpoint}_logrank_p{suffix}", test.p, Kind.P, f"Log-rank P, {where}")
    return values


def km_curves(cohort: pd.DataFrame, endpoint: str, by: str = "group", order: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Kaplan-Meier step tables of one endpoint per level of ``by`` (for plots)."""
    time_col, event_col, _ = ENDPOINTS[endpoint]
    levels = order or sorted(cohort[by].dropna().unique())
    return {level: kaplan_meier(part[time_col].to_numpy(float), part[event_col].to_numpy(int)).table
            for level in levels if len(part := cohort[cohort[by] == level])}


def risk_table(cohort: pd.DataFrame, endpoint: str, times, by: str = "group", order: list[str] | None = None) -> pd.DataFrame:
    """Numbers at risk at ``times`` per level of ``by`` (rows) — aggregate counts only."""
    time_col, event_col, _ = ENDPOINTS[endpoint]
    levels = order or sorted(cohort[by].dropna().unique())
    rows = {level: numbers_at_risk(part[time_col], part[event_col], times).to_numpy()
            for level in levels if len(part := cohort[cohort[by] == level])}
    return pd.DataFrame(rows, index=list(times)).T


def survival_table(study: Study, values: dict | None = None) -> pd.DataFrame:
    """Table 3: per cohort, endpoint and group, events, median (95% CI), IQR and the log-rank p-value."""
    values = values or survival_results(study)
    rows = []
    for suffix, cohort_label in COHORT_NAMES.items():
        for endpoint, (_, _, name) in ENDPOINTS.items():
            for group in study.groups:
                key = f"survival.{endpoint}_{{}}_{group_code(group)}{suffix}"
                rows.append({
                    "Cohort": cohort_label, "Endpoint": name, "Group": group,
                    "Events": values[key.format("events")],
                    "Median, months (95% CI)": f"{fmt_months(values[key.format('median')])} "
                                               f"({fmt_months(values[key.format('median_ci_low')])}–"
                                               f"{fmt_months(values[key.format('median_ci_high')])})",
                    "Median (IQR), months": fmt_median_iqr(values[key.format("median")], values[key.format("q1")],
                                                           values[key.format("q3")]),
                    "Log-rank P": fmt_p(values[f"survival.{endpoint}_logrank_p{suffix}"]),
                })
    return pd.DataFrame(rows)


def compute(study: Study) -> SectionResult:
    values = survival_results(study)
    return SectionResult(values, {"table3": survival_table(study, values)})
