"""Table 3 and Figures 2-3: Kaplan-Meier estimates of overall and progression-free survival, and log-rank tests."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from hcc_utils.stats.cox import CoxConvergenceWarning, fit_cox
from hcc_utils.stats.survival import followup_summary, kaplan_meier, km_summary, logrank_test, numbers_at_risk
from hcc_utils.tables.formatting import fmt_months, fmt_p
from hcc_utils.tables.journal import Column, JournalTable, Row
from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.matching import set_weights
from hcc_utils.study.labels import COHORT_NAMES, ENDPOINTS, abbreviation_note, group_label
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SectionResult, per_cohort


def survival_results(study: Study) -> ResultSet:
    """Events, follow-up, Kaplan-Meier medians and quartiles by group, and log-rank p (Table 3, Figures 2-3).

    For each cohort (all enrolled, matched) and endpoint: number of events overall; follow-up median and quartiles
    (method from ``survival.followup_method``); per group median, first and third quartile of the survival time
    (R ``survfit`` rules; NaN = not reached) with the 95% CIs of the median and quartiles (R ``quantile.survfit``)
    and the numbers at risk at ``survival.risk_table_months``; the log-rank test (R ``survdiff``: p, chi-square,
    degrees of freedom); the hazard ratio of the control vs the treatment group (Cox, ``cox.ties``).
    """
    method = study.config.survival.followup_method
    times = study.config.survival.risk_table_months

    def one_cohort(suffix: str, cohort: pd.DataFrame, values: ResultSet) -> None:
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
            summary = km_summary(cohort[[time_col, event_col, "group"]], time_col, event_col, "group").set_index("group")
            for group in study.groups:
                code = group_code(study, group)
                row = summary.loc[group]
                for stat, text in (("median", "median"), ("q1", "first quartile"), ("q3", "third quartile"),
                                   ("median_ci_low", "median, 95% CI lower limit"),
                                   ("median_ci_high", "median, 95% CI upper limit")):
                    values.add(f"survival.{endpoint}_{stat}_{code}{suffix}", row[stat], Kind.MONTHS,
                               f"{text[0].upper()}{text[1:]}, {group}, {where}")
                values.add(f"survival.{endpoint}_events_{code}{suffix}", int(row["events"]), Kind.COUNT,
                           f"Events, {group}, {where}")
                for stat, text in (("q1_ci_low", "first quartile, 95% CI lower limit"),
                                   ("q1_ci_high", "first quartile, 95% CI upper limit"),
                                   ("q3_ci_low", "third quartile, 95% CI lower limit"),
                                   ("q3_ci_high", "third quartile, 95% CI upper limit")):
                    values.add(f"survival.{endpoint}_{stat}_{code}{suffix}", row[stat], Kind.MONTHS,
                               f"{text[0].upper()}{text[1:]}, {group}, {where}")
                part = cohort.loc[study.group_mask(cohort, group), [time_col, event_col]]
                at_risk = numbers_at_risk(part[time_col], part[event_col], times)
                for month, count in at_risk.items():
                    values.add(f"survival.{endpoint}_at_risk_{code}_{_month_id(month)}m{suffix}", int(count),
                               Kind.COUNT, f"At risk at {month:g} months, {group}, {where}")
            test = logrank_test(time, event, cohort["group"].to_numpy(), not_estimable=True)  # NaN: no event
            values.add(f"survival.{endpoint}_logrank_p{suffix}", test.p, Kind.P, f"Log-rank P, {where}")
            values.add(f"survival.{endpoint}_logrank_chisq{suffix}", test.chisq, Kind.STATISTIC,
                       f"Log-rank chi-square, {where}", unit="chi-square")
            values.add(f"survival.{endpoint}_logrank_df{suffix}", test.df if math.isfinite(test.p) else math.nan,
                       Kind.COUNT,
                       f"Log-rank degrees of freedom, {where}", unit="degrees of freedom")
            hr = group_hazard_ratio(study, cohort, time_col, event_col, matched_sets=suffix == "_matched")
            versus = f"{study.control} vs {study.treatment}"
            for stat, value, kind, text in (("hr", hr[0], Kind.RATIO, "HR"), ("hr_lo", hr[1], Kind.RATIO, "HR 95% CI lower limit"),
                                            ("hr_hi", hr[2], Kind.RATIO, "HR 95% CI upper limit"),
                                            ("hr_p", hr[3], Kind.P, "HR Wald P")):
                values.add(f"survival.{endpoint}_{stat}{suffix}", value, kind, f"{text}, {versus} (Cox), {where}")

    return per_cohort(study, one_cohort)


def _month_id(month: float) -> str:
    """A time of the risk table in a result id: 3 -> '3', 1.5 -> '1_5'."""
    return f"{month:g}".replace(".", "_")


def group_hazard_ratio(study: Study, cohort: pd.DataFrame, time_col: str, event_col: str,
                       matched_sets: bool = False) -> tuple[float, ...]:
    """Hazard ratio of the control group vs the treatment group (Cox, configured ties, Wald 95% CI and p);
    NaN when the model has no finite estimate (e.g. no event in one group).

    With ``matched_sets`` (a matched cohort, its sets in ``pair_id``) and a set of more than one control (k:1
    matching), the model weighs each patient as MatchIt does (:func:`hcc_utils.stats.matching.matched_set_weights`:
    a control of a full 1:2 set counts half a patient against its set's treated one) and its variance is robust
    to the clustering within sets, as MatchIt's authors advise (``coxph(weights = weights, cluster = subclass)``).
    1:1 pairs keep the article's unweighted model with its model-based variance. A cohort without an event (or
    with a constant group) has no model: NaN."""
    # only the model's columns: a copy of every column of a million patients costs more than the fit
    frame = cohort[[time_col, event_col]].assign(control_group=study.group_mask(cohort, study.control).astype(int))
    extra = {}
    weights = set_weights(cohort) if matched_sets else None
    if weights is not None:
        frame = frame.assign(set_weight=weights, matched_set=cohort["pair_id"].to_numpy())
        extra = {"weights_col": "set_weight", "cluster_col": "matched_set"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoxConvergenceWarning)
            row = fit_cox(frame, time_col, event_col, ["control_group"], ties=study.config.cox.ties, **extra).iloc[0]
    except ValueError:                                   # no event among these patients: not estimable
        return (math.nan,) * 4
    if bool(row["infinite_coef"]) or not np.isfinite(row["hr"]):
        return (math.nan,) * 4
    return float(row["hr"]), float(row["ci_low"]), float(row["ci_high"]), float(row["p"])


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


def survival_table(study: Study, values: dict | None = None) -> JournalTable:
    """Table 3 in the article's layout: a row group per endpoint and cohort, a row per group (patients, events,
    median with its 95% CI, interquartile range), the log-rank P once per comparison (on the group's first row)."""
    values = values or survival_results(study)
    cohorts = study.cohorts()
    rows = []
    for endpoint, (_, _, name) in ENDPOINTS.items():
        for suffix, cohort in cohorts.items():
            sizes = cohort["group"].value_counts()
            for index, group in enumerate(study.groups):
                key = f"survival.{endpoint}_{{}}_{group_code(study, group)}{suffix}"
                median = (f"{fmt_months(values[key.format('median')])} ({fmt_months(values[key.format('median_ci_low')])}"
                          f"–{fmt_months(values[key.format('median_ci_high')])})")
                iqr = f"{fmt_months(values[key.format('q1')])}–{fmt_months(values[key.format('q3')])}"
                p = fmt_p(values[f"survival.{endpoint}_logrank_p{suffix}"]) if index == 0 else ""
                sources = ("", key.format("events"),
                           " ".join(key.format(k) for k in ("median", "median_ci_low", "median_ci_high")),
                           f"{key.format('q1')} {key.format('q3')}",
                           f"survival.{endpoint}_logrank_p{suffix}" if index == 0 else "")
                rows.append(Row(group_label(group), (str(int(sizes.get(group, 0))), str(values[key.format("events")]),
                                                     median, iqr, p), group=f"{name}, {COHORT_NAMES[suffix]}",
                                sources=sources))
    columns = [Column("Patients, n"), Column("Events, n"), Column("Median, months\n(95% CI)"),
               Column("IQR, months"), Column("Log-rank P")]
    footnotes = [
        "Kaplan–Meier estimates; median and quartiles as R's survfit, 95% CI of the median by the method of "
        "Brookmeyer and Crowley on the log scale. NR: not reached (the curve does not fall to that level).",
        "P: log-rank test comparing the two groups, shown once per comparison.",
        abbreviation_note("CI", "IQR", "NR", "PS"),
    ]
    return JournalTable("table3_survival", "Table 3", "Overall and progression-free survival by second-line regimen",
                        "Regimen", columns, rows, footnotes, order=3)


def compute(study: Study) -> SectionResult:
    values = survival_results(study)
    return SectionResult(values, {"table3": survival_table(study, values)})
