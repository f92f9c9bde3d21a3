"""Every number, table and figure input of the article's sections, computed from a :class:`~hcc_utils.study.cohort.Study`.

Each ``*_results`` function returns ``{result id: value}``: ids of numbers the article reports are those of
``data/targets.csv`` (this module never reads that file). Id conventions: a group is named by the first three
letters of its regimen (``len``, ``sor``); the suffix ``_matched`` marks the propensity-score-matched cohort.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from hcc_utils.study.cohort import ENDPOINTS, Study, group_code, label, regimen_label


def flow_results(study: Study) -> dict[str, Any]:
    """Counts of the flow diagram (Figure 1): ``flow.*`` ids."""
    return dict(study.flow)


def matching_results(study: Study) -> dict[str, Any]:
    """Pairs formed and patients left unmatched by the propensity-score matching."""
    s = study.match_summary
    return {
        "matching.pairs": s["pairs"],
        "matching.unmatched_treated": s["unmatched_treated"],
        "matching.matched_control": s["matched_control"],
        "matching.caliper_width": s["caliper_width"] if s["caliper_width"] is not None else float("nan"),
    }


def matching_tables(study: Study) -> dict[str, pd.DataFrame]:
    """Propensity model coefficients and covariate balance (SMD before and after matching), labelled."""
    from hcc_utils.stats.matching import balance_table

    covariates = list(study.config["matching"]["covariates"])
    coefficients = study.ps_coefficients.copy()
    coefficients.insert(0, "Term", [label(t) if t != "Intercept" else "Intercept" for t in coefficients.iloc[:, 0]])
    coefficients = coefficients.drop(columns=coefficients.columns[1]).rename(columns={
        "estimate": "Log-odds", "std_error": "SE", "z": "z", "p": "P", "ci_low": "95% CI, low", "ci_high": "95% CI, high"})
    balance = balance_table(study.data, covariates)
    balance.insert(0, "Covariate", [label(c) for c in balance["covariate"]])
    balance = balance.drop(columns=["covariate"]).rename(columns={
        "kind": "Kind", "mean_treated_before": f"{study.treatment}, before", "mean_control_before": f"{study.control}, before",
        "smd_before": "SMD before", "mean_treated_after": f"{study.treatment}, after",
        "mean_control_after": f"{study.control}, after", "smd_after": "SMD after"})
    return {"coefficients": coefficients, "balance": balance}


#: Table 1's rows: (column of the analysis table, label, kind, levels).
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
    ("tumor_size_ge_10", "Tumour size ≥10 cm", "binary", None),
    ("lymph_node_metastasis", "Lymph-node metastasis", "binary", None),
    ("extrahepatic_metastasis", "Extrahepatic metastasis", "binary", None),
    ("macrovascular_invasion", "Macrovascular invasion", "binary", None),
    ("afp_ng_ml", "AFP, ng/mL", "median_iqr", None),
    ("afp_ge_400", "AFP ≥400 ng/mL", "binary", None),
    ("pivka_mau_ml", "PIVKA-II, mAU/mL", "median_iqr", None),
    ("pivka_ge_1000", "PIVKA-II ≥1,000 mAU/mL", "binary", None),
    ("atebev_cycles", "Prior ATE+BEV cycles", "median_iqr", None),
]


def baseline_tables(study: Study) -> dict[str, Any]:
    """Table 1 for all enrolled and matched patients (:func:`hcc_utils.tables.baseline.baseline_table`)."""
    from hcc_utils.tables.baseline import VariableSpec, baseline_table

    settings = study.config["baseline"]
    specs = []
    for name, text, kind, levels in TABLE1_VARIABLES:
        present = levels
        if levels is not None:
            present = [lv for lv in levels if (study.data[name] == lv).any()]
        specs.append(VariableSpec(name=name, kind=kind, label=text, levels=present))
    tables = {}
    for suffix, cohort in study.cohorts().items():
        tables[suffix] = baseline_table(cohort, "group", specs, groups=tuple(study.groups),
                                        categorical_test=settings["categorical_test"],
                                        continuous_test=settings["continuous_test"],
                                        quantile_method=settings["quantile_method"])
    return tables


def baseline_results(study: Study, tables: dict[str, Any] | None = None) -> dict[str, Any]:
    """Numbers of Table 1 quoted in the text: overall age and cycles quartiles, counts, Child-Pugh A by group, p."""
    tables = tables or baseline_tables(study)
    values: dict[str, Any] = {}
    for suffix, table in tables.items():
        numbers = table.numbers
        prefix = "baseline."

        def pick(variable, group="Overall", level=None, column="count"):
            rows = numbers[(numbers["variable"] == variable) & (numbers["group"] == group)]
            if level is not None:
                rows = rows[rows["level"].astype(str) == str(level)]
            return rows[column].iloc[0] if len(rows) else float("nan")

        for group in ["Overall", *study.groups]:
            code = "" if group == "Overall" else f"_{group_code(group)}"
            for stat in ("median", "q1", "q3"):
                values[f"{prefix}age_{stat}{code}{suffix}"] = float(pick("age", group, column=stat))
                values[f"{prefix}cycles_{stat}{code}{suffix}"] = float(pick("atebev_cycles", group, column=stat))
        for variable, key in (("sex_male", "male"), ("viral_etiology", "viral"), ("bclc_c", "bclc_c")):
            values[f"{prefix}{key}{suffix}"] = int(pick(variable))
        values[f"{prefix}child_pugh_a{suffix}"] = int(pick("child_pugh_class", level="A"))
        values[f"{prefix}child_pugh_p{suffix}"] = float(pick("child_pugh_class", column="p"))
        values[f"{prefix}cycles_p{suffix}"] = float(pick("atebev_cycles", column="p"))
        for group in study.groups:
            values[f"{prefix}child_pugh_a_{group_code(group)}{suffix}"] = float(pick("child_pugh_class", group, "A", "percent"))
    values["baseline.child_pugh_a_p"] = values.pop("baseline.child_pugh_p")  # the article's ids
    values["matching.cycles_p_matched"] = values["baseline.cycles_p_matched"]
    return values


#: Id conventions of response numbers (the article's usage): CR, PR, PD and NE ids hold counts (``_pct_`` the
#: percentage); SD, ORR and DCR ids hold percentages (``_n_`` the count). mRECIST ids carry ``mrecist_``.
RESPONSE_COUNT_IDS = ("cr", "pr", "pd", "ne")


RESPONSE_CRITERIA = {"": "best_response_recist", "mrecist_": "best_response_mrecist"}


def response_results(study: Study) -> dict[str, Any]:
    """Best response by group (Table 2): counts, percentages, ORR and DCR with exact CIs, and p-values."""
    from hcc_utils.stats.contingency import compare_proportions
    from hcc_utils.tables.responses import response_table

    rule = study.config["baseline"]["categorical_test"]
    values: dict[str, Any] = {}
    for suffix, cohort in study.cohorts().items():
        for prefix, column in RESPONSE_CRITERIA.items():
            if cohort[column].notna().sum() == 0:
                continue
            table = response_table(cohort, "group", column, groups=study.groups, rule=rule)
            for row in table.itertuples():
                code = group_code(row.group)
                measure = row.measure
                count_key, pct_key = (f"{measure}", f"{measure}_pct") if measure in RESPONSE_COUNT_IDS else (f"{measure}_n", measure)
                values[f"response.{prefix}{count_key}_{code}{suffix}"] = int(row.count)
                values[f"response.{prefix}{pct_key}_{code}{suffix}"] = float(row.percent)
                if measure in ("orr", "dcr"):
                    values[f"response.{prefix}{measure}_ci_low_{code}{suffix}"] = float(row.ci_low)
                    values[f"response.{prefix}{measure}_ci_high_{code}{suffix}"] = float(row.ci_high)
                    values[f"response.{prefix}{measure}_p{suffix}"] = float(row.p)
            sd = table[table["measure"] == "sd"].set_index("group")
            t, c = study.groups
            values[f"response.{prefix}sd_p{suffix}"] = compare_proportions(
                int(sd.loc[t, "count"]), int(sd.loc[t, "n"]), int(sd.loc[c, "count"]), int(sd.loc[c, "n"]), rule=rule).p
    return values


def response_display_table(study: Study) -> pd.DataFrame:
    """Table 2 layout: criterion, measure, groups' n (%), p — for all enrolled and matched patients."""
    from hcc_utils.tables.responses import response_display, response_tables

    rule = study.config["baseline"]["categorical_test"]
    parts = []
    for suffix, label_text in (("", "All enrolled"), ("_matched", "PS-matched")):
        cohort = study.cohorts()[suffix]
        shown = response_display(response_tables(cohort, "group", groups=study.groups, rule=rule))
        shown.insert(0, "Cohort", label_text)
        parts.append(shown)
    return pd.concat(parts, ignore_index=True).drop(columns=["measure"]).rename(
        columns={"criterion": "Criterion", "label": "Response", "p": "P"})


def survival_results(study: Study) -> dict[str, Any]:
    """Events, follow-up, Kaplan-Meier medians and quartiles by group, and log-rank p (Table 3, Figures 2-3).

    For each cohort (all enrolled, matched) and endpoint: number of events overall; follow-up median and quartiles
    (method from ``survival.followup_method``); per group median, first and third quartile of the survival time
    (R ``survfit`` rules; NaN = not reached) and the 95% CI of the median; the log-rank p-value (R ``survdiff``).
    """
    from hcc_utils.stats.survival import followup_summary, km_summary, logrank_test

    method = study.config["survival"]["followup_method"]
    values: dict[str, Any] = {}
    for suffix, cohort in study.cohorts().items():
        for endpoint, (time_col, event_col, _) in ENDPOINTS.items():
            time, event = cohort[time_col].to_numpy(float), cohort[event_col].to_numpy(int)
            values[f"survival.{endpoint}_events{suffix}"] = int(event.sum())
            values[f"survival.{endpoint}_n{suffix}"] = int(len(cohort))
            follow = followup_summary(time, event, method=method)
            values[f"survival.{endpoint}_followup_median{suffix}"] = follow.median
            values[f"survival.{endpoint}_followup_q1{suffix}"] = follow.q1
            values[f"survival.{endpoint}_followup_q3{suffix}"] = follow.q3
            summary = km_summary(cohort, time_col, event_col, "group").set_index("group")
            for group in study.groups:
                code = group_code(group)
                row = summary.loc[group]
                values[f"survival.{endpoint}_median_{code}{suffix}"] = row["median"]
                values[f"survival.{endpoint}_q1_{code}{suffix}"] = row["q1"]
                values[f"survival.{endpoint}_q3_{code}{suffix}"] = row["q3"]
                values[f"survival.{endpoint}_median_ci_low_{code}{suffix}"] = row["median_ci_low"]
                values[f"survival.{endpoint}_median_ci_high_{code}{suffix}"] = row["median_ci_high"]
                values[f"survival.{endpoint}_events_{code}{suffix}"] = int(row["events"])
            test = logrank_test(time, event, cohort["group"].to_numpy())
            values[f"survival.{endpoint}_logrank_p{suffix}"] = test.p
    return values


def km_curves(cohort: pd.DataFrame, endpoint: str, by: str = "group", order: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Kaplan-Meier step tables of one endpoint per level of ``by`` (for plots)."""
    from hcc_utils.stats.survival import kaplan_meier

    time_col, event_col, _ = ENDPOINTS[endpoint]
    levels = order or sorted(cohort[by].dropna().unique())
    return {level: kaplan_meier(part[time_col].to_numpy(float), part[event_col].to_numpy(int)).table
            for level in levels if len(part := cohort[cohort[by] == level])}


def risk_table(cohort: pd.DataFrame, endpoint: str, times, by: str = "group", order: list[str] | None = None) -> pd.DataFrame:
    """Numbers at risk at ``times`` per level of ``by`` (rows) — aggregate counts only."""
    from hcc_utils.stats.survival import numbers_at_risk

    time_col, event_col, _ = ENDPOINTS[endpoint]
    levels = order or sorted(cohort[by].dropna().unique())
    rows = {level: numbers_at_risk(part[time_col], part[event_col], times).to_numpy()
            for level in levels if len(part := cohort[cohort[by] == level])}
    return pd.DataFrame(rows, index=list(times)).T


def survival_table(study: Study, values: dict[str, Any] | None = None) -> pd.DataFrame:
    """Table 3: per cohort, endpoint and group, events, median (95% CI), IQR and the log-rank p-value."""
    from hcc_utils.tables.formatting import fmt_median_iqr, fmt_months, fmt_p

    values = values or survival_results(study)
    rows = []
    for suffix, cohort_label in (("", "All enrolled"), ("_matched", "PS-matched")):
        for endpoint, (_, _, name) in ENDPOINTS.items():
            for group in study.groups:
                code = group_code(group)
                key = f"survival.{endpoint}_{{}}_{code}{suffix}"
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


#: Candidate predictors of the univariable Cox screen (binary 0/1 columns), with their short names in ids.
#: ``control_group`` (1 = the control regimen, e.g. sorafenib) is renamed to the control regimen in the output.
COX_CANDIDATES = {
    "age_ge_65": "age65", "sex_male": "male", "ecog_2": "ecog2", "viral_etiology": "viral", "child_pugh_b": "cp_b",
    "bclc_c": "bclc_c", "tumor_multiple": "multiple", "tumor_size_ge_10": "size10", "lymph_node_metastasis": "lnm",
    "extrahepatic_metastasis": "ehm", "macrovascular_invasion": "mvi", "afp_ge_400": "afp",
    "pivka_ge_1000": "pivka", "control_group": "control", "atebev_cycles_lt_3": "cycles_lt3",
}


def cox_frame(study: Study) -> pd.DataFrame:
    """The analysis table with the Cox candidates as numeric 0/1 columns (``age_ge_65``, ``control_group`` added)."""
    frame = study.data.copy()
    frame["age_ge_65"] = (frame["age"] >= 65).astype(int)
    frame["control_group"] = (frame["group"] == study.control).astype(int)
    return frame


def predictor_models(study: Study) -> dict[str, Any]:
    """Univariable screen and multivariable Cox model per endpoint (Table 4), complete cases per model."""
    from hcc_utils.stats.cox import multivariable_from_univariable

    frame = cox_frame(study)
    candidates = list(COX_CANDIDATES)
    models = {}
    for endpoint, (time_col, event_col, _) in ENDPOINTS.items():
        models[endpoint] = multivariable_from_univariable(
            frame, time_col, event_col, candidates, selection_p=study.config["cox"]["selection_p"],
            ties=study.config["cox"]["ties"])
    return models


def _cox_short(study: Study, covariate: str) -> str:
    return group_code(study.control) if covariate == "control_group" else COX_CANDIDATES[covariate]


def _cox_name(study: Study, covariate: str) -> str:
    return study.control if covariate == "control_group" else covariate


def predictor_results(study: Study, models: dict[str, Any] | None = None) -> dict[str, Any]:
    """HR, 95% CI and p of every candidate (univariable, ``cox.<endpoint>_uni_<name>_*``) and of the
    multivariable model (``cox.<endpoint>_<name>_*``), and the list of univariable predictors with p < threshold."""
    models = models or predictor_models(study)
    values: dict[str, Any] = {}
    for endpoint, selection in models.items():
        for kind, table in (("uni_", selection.univariable), ("", selection.multivariable)):
            for row in table.itertuples():
                short = _cox_short(study, row.covariate)
                for stat, value in (("hr", row.hr), ("lo", row.ci_low), ("hi", row.ci_high), ("p", row.p)):
                    values[f"cox.{endpoint}_{kind}{short}_{stat}"] = float(value)
        values[f"cox.{endpoint}_univariable_significant"] = sorted(_cox_name(study, c) for c in selection.selected)
    return values


def predictor_table(study: Study, models: dict[str, Any]) -> pd.DataFrame:
    """Table 4 layout: per endpoint and candidate, univariable and multivariable HR (95% CI) and p."""
    from hcc_utils.tables.formatting import fmt_p, fmt_ratio

    rows = []
    for endpoint, selection in models.items():
        multi = selection.multivariable.set_index("covariate") if len(selection.multivariable) else pd.DataFrame()
        for row in selection.univariable.itertuples():
            entry = {"Endpoint": ENDPOINTS[endpoint][2], "Variable": label(_cox_name(study, row.covariate)),
                     "Univariable HR (95% CI)": f"{fmt_ratio(row.hr)} ({fmt_ratio(row.ci_low)}–{fmt_ratio(row.ci_high)})",
                     "Univariable P": fmt_p(row.p), "Multivariable HR (95% CI)": "", "Multivariable P": ""}
            if row.covariate in multi.index:
                m = multi.loc[row.covariate]
                entry["Multivariable HR (95% CI)"] = f"{fmt_ratio(m.hr)} ({fmt_ratio(m.ci_low)}–{fmt_ratio(m.ci_high)})"
                entry["Multivariable P"] = fmt_p(m.p)
            rows.append(entry)
    return pd.DataFrame(rows)


def third_line_results(study: Study) -> dict[str, Any]:
    """Third-line therapy by group (Supplementary Table 1) and OS by its receipt and type within each group
    (Supplementary Figures 1-2), all enrolled and matched.

    ``thirdline.<g>`` counts patients of group g who received any third-line therapy (``_pct`` percentage);
    ``thirdline.<g>_<regimen>`` counts each regimen; ``thirdline.p`` compares receipt between groups.
    ``thirdline.os_received_<g>_p`` is the log-rank p of OS by receipt within group g; ``thirdline.os_type_<g>_p``
    by type of third-line regimen among the patients of group g who received one, both for each cohort.

    The type comparison is among recipients only: with "no third line" as one more level, the article's p-values
    for receipt and for type in the sorafenib group could not both hold (see the consistency audit).
    """
    from hcc_utils.stats.contingency import compare_proportions
    from hcc_utils.stats.survival import logrank_test

    rule = study.config["baseline"]["categorical_test"]
    values: dict[str, Any] = {}
    data = study.data
    counts = {}
    for group in study.groups:
        part = data[data["group"] == group]
        code = group_code(group)
        received = int(part["received_third_line"].sum())
        counts[group] = (received, len(part))
        values[f"thirdline.{code}"] = received
        values[f"thirdline.{code}_pct"] = 100 * received / len(part)
        for regimen, n in part["third_line_regimen"].value_counts().items():
            if regimen != "none":
                values[f"thirdline.{code}_{regimen}"] = int(n)
    (a, na), (b, nb) = counts[study.treatment], counts[study.control]
    values["thirdline.p"] = compare_proportions(a, na, b, nb, rule=rule).p
    for suffix, cohort in study.cohorts().items():
        for group in study.groups:
            part = cohort[cohort["group"] == group]
            code = group_code(group)
            recipients = part[part["received_third_line"] == 1]
            for name, column, patients in (("received", "received_third_line", part),
                                           ("type", "third_line_regimen", recipients)):
                if patients[column].nunique() < 2:
                    values[f"thirdline.os_{name}_{code}_p{suffix}"] = float("nan")
                    continue
                test = logrank_test(patients["os_months"], patients["os_event"], patients[column].astype(str))
                values[f"thirdline.os_{name}_{code}_p{suffix}"] = test.p
    return values


def third_line_table(study: Study) -> pd.DataFrame:
    """Supplementary Table 1: third-line regimens by group, n (%) of each group's patients."""
    from hcc_utils.tables.formatting import fmt_percent

    data = study.data
    regimens = [r for r in data["third_line_regimen"].value_counts().index if r != "none"] + ["none"]
    rows = []
    for regimen in regimens:
        row = {"Third-line therapy": "No third-line therapy" if regimen == "none" else regimen_label(regimen)}
        for group in study.groups:
            part = data[data["group"] == group]
            row[group] = fmt_percent(int((part["third_line_regimen"] == regimen).sum()), len(part))
        rows.append(row)
    return pd.DataFrame(rows)


def cycles_subgroup_results(study: Study) -> dict[str, Any]:
    """OS and PFS by group within subgroups of prior ATE+BEV cycles (<= cut vs > cut; Supplementary Table 2,
    Figures 3-4): median per group and log-rank p, ids ``cycles.<le|gt><cut>_<endpoint>_...``."""
    from hcc_utils.stats.survival import km_summary, logrank_test

    cut = study.config["cutpoints"]["atebev_cycles_subgroup"]
    values: dict[str, Any] = {}
    for suffix, cohort in study.cohorts().items():
        for name, mask in ((f"le{cut}", cohort["atebev_cycles"] <= cut), (f"gt{cut}", cohort["atebev_cycles"] > cut)):
            part = cohort[mask]
            for endpoint, (time_col, event_col, _) in ENDPOINTS.items():
                key = f"cycles.{name}_{endpoint}"
                if part["group"].nunique() < 2:
                    values[f"{key}_logrank_p{suffix}"] = float("nan")
                    continue
                summary = km_summary(part, time_col, event_col, "group").set_index("group")
                for group in study.groups:
                    code = group_code(group)
                    values[f"{key}_n_{code}{suffix}"] = int(summary.loc[group, "n"]) if group in summary.index else 0
                    values[f"{key}_median_{code}{suffix}"] = summary.loc[group, "median"] if group in summary.index else float("nan")
                values[f"{key}_logrank_p{suffix}"] = logrank_test(part[time_col], part[event_col], part["group"]).p
    return values


def cycles_subgroup_table(study: Study, values: dict[str, Any]) -> pd.DataFrame:
    """Supplementary Table 2: median OS and PFS by group within the cycles subgroups, and log-rank p."""
    from hcc_utils.tables.formatting import fmt_months, fmt_p

    cut = study.config["cutpoints"]["atebev_cycles_subgroup"]
    rows = []
    for suffix, cohort_label in (("", "All enrolled"), ("_matched", "PS-matched")):
        for name, text in ((f"le{cut}", f"≤{cut} cycles"), (f"gt{cut}", f">{cut} cycles")):
            for endpoint, (_, _, endpoint_label) in ENDPOINTS.items():
                key = f"cycles.{name}_{endpoint}"
                row = {"Cohort": cohort_label, "Subgroup": text, "Endpoint": endpoint_label}
                for group in study.groups:
                    code = group_code(group)
                    n = values.get(f"{key}_n_{code}{suffix}", 0)
                    row[f"{group}: n, median (months)"] = f"{n}, {fmt_months(values.get(f'{key}_median_{code}{suffix}', float('nan')))}"
                row["Log-rank P"] = fmt_p(values[f"{key}_logrank_p{suffix}"])
                rows.append(row)
    return pd.DataFrame(rows)


#: Short names of adverse-event terms in result ids (the article's usage); others use the term itself.
AE_SHORT = {"ast_elevation": "ast", "alt_elevation": "alt", "bilirubin_elevation": "bilirubin",
            "hand_foot_syndrome": "hfs"}


AE_SUMMARY = {"ae_any": "any", "ae_grade_3_4": "g34", "ae_led_to_discontinuation": "disc"}


def safety_results(study: Study) -> dict[str, Any]:
    """Adverse events by group (Table 5).

    Ids: ``safety.any_<g>`` and ``safety.disc_<g>`` hold counts (``_pct_`` percentages); ``safety.g34_<g>``,
    ``safety.<term>_<g>`` (any grade) and ``safety.<term>_g34_<g>`` hold percentages (``_n`` counts); p-values
    ``safety.<name>_p``. ``safety.higher_in_<treatment>`` lists terms whose any-grade rate is significantly
    (p < 0.05) higher in the treatment group.
    """
    from hcc_utils.tables.adverse_events import adverse_event_table

    rule = study.config["baseline"]["categorical_test"]
    table = adverse_event_table(study.data, "group", groups=study.groups, rule=rule)
    values: dict[str, Any] = {}
    higher = []
    for (section, term), rows in table.groupby(["section", "term"], sort=False):
        if section == "summary":
            name = AE_SUMMARY[term]
        else:
            base = term.removeprefix("ae_")
            name = AE_SHORT.get(base, base) + ("_g34" if section == "grade_3_4" else "")
        counts_first = name in ("any", "disc")
        for row in rows.itertuples():
            code = group_code(row.group)
            values[f"safety.{name}{'' if counts_first else '_n'}_{code}"] = int(row.count)
            values[f"safety.{name}{'_pct' if counts_first else ''}_{code}"] = float(row.percent)
        values[f"safety.{name}_p"] = float(rows["p"].iloc[0])
        if section == "any_grade":
            by_group = rows.set_index("group")["percent"]
            if rows["p"].iloc[0] < 0.05 and by_group[study.treatment] > by_group[study.control]:
                higher.append(term.removeprefix("ae_"))
    values[f"safety.higher_in_{study.treatment}"] = sorted(higher)
    return values


def safety_tables(study: Study) -> dict[str, pd.DataFrame]:
    """Table 5 (display) and the long adverse-event table (for the dot chart)."""
    from hcc_utils.tables.adverse_events import adverse_event_display, adverse_event_table

    long = adverse_event_table(study.data, "group", groups=study.groups, rule=study.config["baseline"]["categorical_test"])
    return {"long": long, "display": adverse_event_display(long)}


SECTION_FUNCTIONS = (flow_results, baseline_results, matching_results, response_results, survival_results,
                     predictor_results, third_line_results, cycles_subgroup_results, safety_results)


#: Display text of category levels in Table 1.
LEVEL_LABELS = {"hbv": "HBV", "hcv": "HCV", "hbv_hcv": "HBV and HCV", "alcohol": "Alcohol", "nash": "NASH",
                "other": "Other"}


def table1_display(tables: dict[str, Any]) -> pd.DataFrame:
    """Table 1 layout: one 'Characteristic' column (levels indented under their variable), then all enrolled and
    matched patients side by side (overall, each group, p, SMD)."""
    from hcc_utils.tables.baseline import side_by_side

    wide = side_by_side(tables[""], tables["_matched"], ("All enrolled", "PS-matched"))
    levels = wide[("", "level")].astype(str)
    characteristic = [
        f"\u2003{LEVEL_LABELS.get(level, level)}" if level else text
        for text, level in zip(wide[("", "label")], levels)
    ]
    shown = wide.drop(columns=[("", "variable"), ("", "label"), ("", "level")])
    shown.insert(0, ("", "Characteristic"), characteristic)
    shown.columns = pd.MultiIndex.from_tuples([(top, {"p": "P", "smd": "SMD"}.get(sub, sub)) for top, sub in shown.columns])
    return shown.fillna("")
