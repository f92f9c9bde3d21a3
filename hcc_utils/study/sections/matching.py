"""Propensity-score matching: pairs formed, patients left unmatched, the model and covariate balance."""
from __future__ import annotations

import pandas as pd

from hcc_utils.stats.balance import balance_table
from hcc_utils.study.cohort import Study
from hcc_utils.study.labels import abbreviation_note, group_heading, variable_labels
from hcc_utils.tables.formatting import fmt_p
from hcc_utils.tables.journal import Column, JournalTable, Row
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SectionResult


def matching_results(study: Study) -> ResultSet:
    """Pairs formed and patients left unmatched by the propensity-score matching, and the caliper's width."""
    s = study.match_summary
    values = ResultSet()
    values.add("matching.pairs", s["pairs"], Kind.COUNT, "Matched sets")
    values.add("matching.unmatched_treated", s["unmatched_treated"], Kind.COUNT,
               f"{study.treatment.capitalize()} patients left unmatched")
    values.add("matching.matched_control", s["matched_control"], Kind.COUNT,
               f"{study.control.capitalize()} patients matched")
    values.add("matching.caliper_width", s["caliper_width"] if s["caliper_width"] is not None else float("nan"),
               Kind.WIDTH, f"Caliper width on the {s['caliper_scale']} scale")
    return values


def matching_tables(study: Study) -> dict[str, pd.DataFrame]:
    """Propensity model coefficients and covariate balance (SMD before and after matching), labelled."""
    labels = variable_labels(study.config)
    covariates = list(study.config.matching.covariates)
    coefficients = study.ps_coefficients.copy()
    coefficients.insert(0, "Term", [labels.get(t, t) if t != "Intercept" else "Intercept"
                                    for t in coefficients.iloc[:, 0]])
    coefficients = coefficients.drop(columns=coefficients.columns[1]).rename(columns={
        "estimate": "Log-odds", "std_error": "SE", "z": "z", "p": "P", "ci_low": "95% CI, low", "ci_high": "95% CI, high"})
    balance = balance_table(study.data, covariates)
    balance.insert(0, "Covariate", [labels.get(c, c) for c in balance["covariate"]])
    balance = balance.drop(columns=["covariate"]).rename(columns={
        "kind": "Kind", "mean_treated_before": f"{study.treatment}, before", "mean_control_before": f"{study.control}, before",
        "smd_before": "SMD before", "mean_treated_after": f"{study.treatment}, after",
        "mean_control_after": f"{study.control}, after", "smd_after": "SMD after"})
    return {"coefficients": coefficients, "balance": balance}


def ps_model_table(study: Study, coefficients: pd.DataFrame) -> JournalTable:
    """The propensity model as a table: log-odds, SE, Wald 95% CI and P of each term."""
    rows = [Row(str(line["Term"]), (f"{line['Log-odds']:.3f}", f"{line['SE']:.3f}",
                                    f"{line['95% CI, low']:.3f} to {line['95% CI, high']:.3f}",
                                    fmt_p(line["P"], missing="")))
            for _, line in coefficients.iterrows()]
    columns = [Column("Log-odds"), Column("SE"), Column("95% CI"), Column("P")]
    footnotes = [f"Logistic regression (unpenalized) of receiving {study.treatment} rather than {study.control}; "
                 "Wald 95% CI and P. A positive log-odds makes the treatment regimen more likely.",
                 abbreviation_note("CI", "SE")]
    return JournalTable("ps_model_coefficients", "", "Propensity model: log-odds of receiving the treatment regimen",
                        "Term", columns, rows, footnotes)


def balance_display_table(study: Study, balance: pd.DataFrame) -> JournalTable:
    """Covariate balance: the groups' means (proportions of binary covariates) and the absolute SMD, before and
    after matching as column spanners."""
    t, c = study.treatment, study.control
    rows = []
    for _, line in balance.iterrows():
        binary = line["Kind"] == "binary"
        label = f"{line['Covariate']}, " + ("proportion" if binary else "mean")

        def shown(value) -> str:
            return f"{value:.2f}" if binary else f"{value:.1f}"

        rows.append(Row(label, (shown(line[f"{t}, before"]), shown(line[f"{c}, before"]), f"{line['SMD before']:.3f}",
                                shown(line[f"{t}, after"]), shown(line[f"{c}, after"]), f"{line['SMD after']:.3f}")))
    sizes = study.match_summary
    columns = [Column(group_heading(t, sizes["n_treated"]), "Before matching"),
               Column(group_heading(c, sizes["n_control"]), "Before matching"), Column("SMD", "Before matching"),
               Column(group_heading(t, sizes["matched_treated"]), "After matching"),
               Column(group_heading(c, sizes["matched_control"]), "After matching"), Column("SMD", "After matching")]
    footnotes = ["SMD: absolute standardized mean difference (pooled standard deviation); below 0.1 is commonly "
                 "read as balanced."]
    return JournalTable("balance", "", "Covariate balance before and after propensity-score matching", "Covariate",
                        columns, rows, footnotes)


def compute(study: Study) -> SectionResult:
    tables = matching_tables(study)
    tables["ps_model_table"] = ps_model_table(study, tables["coefficients"])
    tables["balance_table"] = balance_display_table(study, tables["balance"])
    return SectionResult(matching_results(study), tables)
