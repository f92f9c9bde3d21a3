"""Propensity-score matching: pairs formed, patients left unmatched, the model and covariate balance."""
from __future__ import annotations

import pandas as pd

from hcc_utils.stats.balance import balance_table
from hcc_utils.study.cohort import Study
from hcc_utils.study.labels import variable_labels
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


def compute(study: Study) -> SectionResult:
    return SectionResult(matching_results(study), matching_tables(study))
