"""Beyond the article: propensity-score weighting instead of matching (IPTW and overlap weights).

Every enrolled patient is kept and weighted by the study's propensity score (the unpenalised logistic model of the
matching): inverse-probability-of-treatment weights (the average treatment effect, ATE) and overlap weights (the
effect where either drug is a plausible choice, ATO). The section reports the weights' effective sample size and
largest value, covariate balance (SMD) under each weighting, weighted Kaplan-Meier curves and weighted Cox hazard
ratios with robust (sandwich) confidence intervals, beside the unadjusted and matched estimates. Ids
``sensitivity.<weights>_...``.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from hcc_utils.stats.cox import CoxConvergenceWarning, fit_cox
from hcc_utils.stats.weighting import effective_sample_size, ps_weights, weighted_balance_table, weighted_kaplan_meier
from hcc_utils.study.cohort import Study
from hcc_utils.study.labels import ENDPOINTS, abbreviation_note, in_sentence, variable_labels
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SectionResult
from hcc_utils.tables.formatting import fmt_p, fmt_ratio
from hcc_utils.tables.journal import Column, JournalTable, Row

#: The weightings of the chapter: id prefix -> (name in tables, estimand).
WEIGHTINGS = {"iptw": ("IPTW", "ATE"), "overlap": ("Overlap weights", "ATO")}
SMD_THRESHOLD = 0.1


def study_weights(study: Study) -> dict[str, np.ndarray]:
    """Weights of every enrolled patient (rows of ``study.data``): ``unweighted`` (ones), ``iptw`` and ``overlap``,
    from the study's propensity score ``ps`` and its treatment coding."""
    ps, treat = study.data["ps"].to_numpy(float), study.data["treatment"].to_numpy(float)
    out = {"unweighted": np.ones(len(ps))}
    for method in WEIGHTINGS:
        out[method] = ps_weights(ps, treat, method)
    return out


def weighted_hazard_ratio(study: Study, endpoint: str, weights: np.ndarray | None = None,
                          cohort: pd.DataFrame | None = None) -> tuple[float, ...]:
    """HR of the control vs the treatment group (Cox, configured ties): with ``weights`` (aligned with
    ``study.data``) the case-weighted fit with the robust variance (R ``coxph(weights =, robust = TRUE)``), else
    an ordinary fit of ``cohort``; (hr, low, high, p, robust SE of log HR), NaN when not estimable."""
    time_col, event_col, _ = ENDPOINTS[endpoint]
    frame = (study.data if cohort is None else cohort)
    frame = frame.assign(control_group=(frame["group"] == study.control).astype(int))
    kwargs = {"weights_col": "w", "robust": True} if weights is not None else {}
    if weights is not None:
        frame = frame.assign(w=weights)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoxConvergenceWarning)
            row = fit_cox(frame, time_col, event_col, ["control_group"], ties=study.config.cox.ties,
                          **kwargs).iloc[0]
    except ValueError:                                   # no event, a constant group: not estimable
        return (math.nan,) * 5
    if bool(row["infinite_coef"]) or not np.isfinite(row["hr"]):
        return (math.nan,) * 5
    return float(row["hr"]), float(row["ci_low"]), float(row["ci_high"]), float(row["p"]), float(row["se"])


def weighting_results(study: Study, weights: dict[str, np.ndarray] | None = None,
                      balance: pd.DataFrame | None = None) -> ResultSet:
    """Effective sample sizes, largest weight, balance (largest SMD; SMD per covariate) and weighted Cox HRs."""
    weights = study_weights(study) if weights is None else weights
    covariates = list(study.config.matching.covariates)
    balance = weighted_balance_table(study.data, covariates, weights) if balance is None else balance
    treat = study.data["treatment"].to_numpy(float) == 1
    labels = variable_labels(study.config)
    values = ResultSet()
    for name in ("unweighted", *WEIGHTINGS):
        title = "unweighted" if name == "unweighted" else WEIGHTINGS[name][0]
        values.add(f"sensitivity.{name}_smd_max", float(balance[f"smd_{name}"].max()), Kind.STATISTIC,
                   f"Largest absolute SMD of the propensity-model covariates, {title}", unit="SMD")
        for cov in covariates:
            values.add(f"sensitivity.{name}_smd_{cov}", float(balance.loc[cov, f"smd_{name}"]), Kind.STATISTIC,
                       f"Absolute SMD, {labels.get(cov, cov)}, {title}", unit="SMD")
    for name, (title, estimand) in WEIGHTINGS.items():
        w = weights[name]
        for arm, keep, group in (("treatment", treat, study.treatment), ("control", ~treat, study.control)):
            values.add(f"sensitivity.{name}_ess_{arm}", effective_sample_size(w[keep]), Kind.QUANTITY,
                       f"Effective sample size, {group}, {title}", unit="patients")
        values.add(f"sensitivity.{name}_weight_max", float(w.max()), Kind.QUANTITY, f"Largest weight, {title}",
                   unit="weight")
        for endpoint, (_, _, ep_name) in ENDPOINTS.items():
            hr = weighted_hazard_ratio(study, endpoint, w)
            where = f"{ep_name}, {study.control} vs {study.treatment}, {title} ({estimand}), robust 95% CI"
            for stat, value, kind, text in (("hr", hr[0], Kind.RATIO, "HR"), ("hr_lo", hr[1], Kind.RATIO, "HR lower limit"),
                                            ("hr_hi", hr[2], Kind.RATIO, "HR upper limit"),
                                            ("hr_p", hr[3], Kind.P, "Wald P (robust)")):
                values.add(f"sensitivity.{name}_{endpoint}_{stat}", value, kind, f"{text}, {where}")
    return values


def _smd(value: float) -> str:
    return "NA" if not np.isfinite(value) else f"{value:.3f}"


def weighted_balance_display(study: Study, balance: pd.DataFrame, values: ResultSet) -> JournalTable:
    """Absolute SMD of each propensity-model covariate: unweighted, IPTW, overlap weights."""
    labels = variable_labels(study.config)
    rows = [Row(labels.get(cov, cov), tuple(_smd(balance.loc[cov, f"smd_{name}"]) for name in ("unweighted", *WEIGHTINGS)),
                group="Absolute SMD") for cov in balance.index]
    ess = tuple(f"{values[f'sensitivity.{name}_ess_treatment']:.1f} / {values[f'sensitivity.{name}_ess_control']:.1f}"
                for name in WEIGHTINGS)
    treated = study.data["treatment"].astype(float).eq(1)
    rows.append(Row("Effective sample size, treatment / control",
                    (f"{int(treated.sum())} / {int((~treated).sum())}",) + ess, group="Weights"))
    rows.append(Row("Largest weight", ("1.000",) + tuple(f"{values[f'sensitivity.{name}_weight_max']:.3f}"
                                                         for name in WEIGHTINGS), group="Weights"))
    columns = [Column("Unweighted"), Column("IPTW (ATE)"), Column("Overlap (ATO)")]
    footnotes = [
        "Absolute standardized mean differences (SMD) of the propensity model's covariates: weighted means and "
        "variances (Austin and Stuart 2015); binary covariates from weighted proportions. Below "
        f"{SMD_THRESHOLD:g} is commonly read as balanced. Overlap weights balance the means of a logistic model's "
        "covariates exactly.",
        f"Treatment: {study.treatment}; control: {study.control}. Effective sample size (Kish): "
        "(sum of weights)² / sum of squared weights, per group.",
        abbreviation_note("ATE", "ATO", "IPTW", "SMD"),
    ]
    return JournalTable("weighted_balance", "", "Covariate balance without weights, with IPTW and with overlap weights",
                        "Covariate", columns, rows, footnotes)


#: The analyses compared in the hazard-ratio table: row label -> how ("all", "matched" or a weighting).
ANALYSES = {"Unadjusted, all enrolled": "all", "PS-matched": "matched",
            **{f"{title} ({estimand})": name for name, (title, estimand) in WEIGHTINGS.items()}}


def analysis_hazard_ratios(study: Study, values: ResultSet) -> dict[str, dict[str, tuple[float, ...]]]:
    """endpoint -> analysis label -> (hr, low, high, p): unadjusted and matched (model-based CI, as the survival
    section computes them), IPTW and overlap (the recorded robust ones); NaN when not estimable."""
    problems = study.cohort_problems()
    out = {}
    for endpoint in ENDPOINTS:
        out[endpoint] = {}
        for label, how in ANALYSES.items():
            if how in WEIGHTINGS:
                hr = tuple(values[f"sensitivity.{how}_{endpoint}_{s}"] for s in ("hr", "hr_lo", "hr_hi", "hr_p"))
            elif how == "matched":
                hr = ((math.nan,) * 4 if "_matched" in problems
                      else weighted_hazard_ratio(study, endpoint, cohort=study.matched)[:4])
            else:
                hr = weighted_hazard_ratio(study, endpoint, cohort=study.data)[:4]
            out[endpoint][label] = hr
    return out


def _reading(hr: tuple[float, ...], control: str) -> str:
    """What a hazard ratio's 95% CI says of the control group's hazard."""
    if not np.isfinite(hr[0]):
        return "no estimate"
    if hr[1] > 1:
        return f"a higher hazard with {control}"
    if hr[2] < 1:
        return f"a lower hazard with {control}"
    return "no clear difference"


def verdict_texts(study: Study, hazard_ratios: dict) -> dict[str, str]:
    """Sentences (glued as ``weighting_verdict_<endpoint>``) saying whether the weighted analyses read the
    comparison as the matched one does: each estimate's 95% CI above 1, below 1 or across 1. A reading shared by
    all three analyses is said once ("matching, IPTW and overlap weights all show ..."); otherwise each is named."""
    texts = {}
    for endpoint, (_, _, ep_name) in ENDPOINTS.items():
        readings = {label: _reading(hr, study.control) for label, hr in hazard_ratios[endpoint].items()}
        matched = readings["PS-matched"]
        weighted = [readings[label] for label, how in ANALYSES.items() if how in WEIGHTINGS]
        if matched == "no estimate":
            verdict = "weighting cannot be compared with matching here"
        elif all(r == matched for r in weighted):
            verdict = "weighting and matching agree"
        else:
            verdict = "weighting and matching do not agree"
        if matched != "no estimate" and all(r == matched for r in weighted):
            texts[f"weighting_verdict_{endpoint}"] = (
                f"For {ep_name.lower()}, matching, IPTW and overlap weights all show {matched} (95% confidence "
                f"intervals): {verdict}.")
        else:
            texts[f"weighting_verdict_{endpoint}"] = (
                f"For {ep_name.lower()}, the 95% confidence intervals show {matched} after matching, {weighted[0]} "
                f"with IPTW and {weighted[1]} with overlap weights: {verdict}.")
    return texts


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def balance_texts(study: Study, values: ResultSet) -> dict[str, str]:
    """A sentence (glued as ``weighting_balance_text``) on each weighting that worsens the balance of a covariate:
    its absolute SMD grows and reaches :data:`SMD_THRESHOLD` ("IPTW worsens the balance of extrahepatic metastasis
    (SMD 0.038 → 0.246) ..."), with the effective sample size it leaves; or that no weighting worsens any. Read
    from the recorded SMDs, so the text is the table's."""
    labels = variable_labels(study.config)
    covariates = list(study.config.matching.covariates)
    parts = []
    for name, (title, _) in WEIGHTINGS.items():
        worse = []
        for cov in covariates:
            before, after = (values[f"sensitivity.{w}_smd_{cov}"] for w in ("unweighted", name))
            if np.isfinite(before) and np.isfinite(after) and after > before and after >= SMD_THRESHOLD:
                worse.append(f"{in_sentence(labels.get(cov, cov))} (SMD {_smd(before)} → {_smd(after)})")
        if worse:
            ess = (f"{values[f'sensitivity.{name}_ess_treatment']:.1f} of {int(study.data['treatment'].eq(1).sum())} "
                   f"{study.treatment} patients")
            parts.append(f"{title} worsens the balance of {_join(worse)}, and its effective sample size is only "
                         f"{ess}")
    if not parts:
        text = (f"No weighting leaves a covariate less balanced than without weights beyond an SMD of "
                f"{SMD_THRESHOLD:g}.")
    else:
        text = ("; ".join(parts) + ". Agreement of a weighted estimate with the matched one is weaker evidence "
                "where its weights leave the groups imbalanced.")
    return {"weighting_balance_text": text}


def hazard_ratio_table(study: Study, values: ResultSet, hazard_ratios: dict | None = None) -> JournalTable:
    """HR (95% CI) and P of the control vs the treatment group by analysis: unadjusted (all enrolled), PS-matched,
    IPTW, overlap weights; a row group per endpoint."""
    hazard_ratios = analysis_hazard_ratios(study, values) if hazard_ratios is None else hazard_ratios
    rows = []
    for endpoint, (_, _, ep_name) in ENDPOINTS.items():
        for label, how in ANALYSES.items():
            hr = hazard_ratios[endpoint][label]
            n = str(len(study.matched) if how == "matched" else len(study.data))
            text = ("not estimable" if not np.isfinite(hr[0])
                    else f"{fmt_ratio(hr[0])} ({fmt_ratio(hr[1])}–{fmt_ratio(hr[2])})")
            rows.append(Row(label, (n, text, fmt_p(hr[3], missing="—")), group=ep_name))
    columns = [Column("Patients, n"), Column("HR (95% CI)"), Column("P")]
    footnotes = [
        f"Hazard ratio (Cox, {study.config.cox.ties} ties) of {study.control} versus {study.treatment}. "
        "Unadjusted and PS-matched: model-based (Wald) 95% CI, as in the article's Figures 2–3. IPTW and overlap "
        "weights: case-weighted Cox model on all enrolled patients with the robust (sandwich) variance, as R "
        "coxph(weights = w, robust = TRUE); Wald P on the robust SE.",
        abbreviation_note("ATE", "ATO", "CI", "HR", "IPTW", "PS"),
    ]
    return JournalTable("weighted_hazard_ratios", "", "Hazard ratios without adjustment, after matching and with "
                        "propensity-score weights", "Analysis", columns, rows, footnotes)


def weighted_curves(study: Study, weights: dict[str, np.ndarray]) -> dict[str, dict[str, dict[str, pd.DataFrame]]]:
    """Weighted Kaplan-Meier step tables: weighting -> endpoint -> group -> table (see `weighted_kaplan_meier`)."""
    out = {}
    for name in WEIGHTINGS:
        out[name] = {}
        for endpoint, (time_col, event_col, _) in ENDPOINTS.items():
            out[name][endpoint] = {}
            for group in study.groups:
                keep = (study.data["group"] == group).to_numpy()
                part = study.data[keep]
                out[name][endpoint][group] = weighted_kaplan_meier(part[time_col].to_numpy(float),
                                                                   part[event_col].to_numpy(float),
                                                                   weights[name][keep])
    return out


def compute(study: Study) -> SectionResult:
    weights = study_weights(study)
    balance = weighted_balance_table(study.data, list(study.config.matching.covariates), weights)
    values = weighting_results(study, weights, balance)
    hazard_ratios = analysis_hazard_ratios(study, values)
    tables = {"balance": weighted_balance_display(study, balance, values),
              "hazard_ratios": hazard_ratio_table(study, values, hazard_ratios), "balance_frame": balance}
    inputs = {"weights": weights, "curves": weighted_curves(study, weights), "hazard_ratios": hazard_ratios,
              "texts": {**verdict_texts(study, hazard_ratios), **balance_texts(study, values)}}
    return SectionResult(values, tables, inputs)


__all__ = ["WEIGHTINGS", "compute", "study_weights", "weighted_curves", "weighted_hazard_ratio", "weighting_results",
           "hazard_ratio_table", "weighted_balance_display", "analysis_hazard_ratios", "verdict_texts", "balance_texts"]
