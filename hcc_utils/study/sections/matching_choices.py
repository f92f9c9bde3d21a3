"""Beyond the article: how the matched result moves with the matching's choices, and the letter to the editor.

Every scenario re-runs the study's own matching (:func:`hcc_utils.study.matching.match_cohort`) with a modified
configuration — the caliper (0.05 to 0.5 SD and none), 1:2 instead of 1:1, propensity scores from gradient-boosted
trees instead of the logistic model, the prior ATE+BEV cycles added to the propensity model, exact matching on
macrovascular invasion and extrahepatic metastasis (the letter to the editor, Clin Mol Hepatol 2025;31(1)) — and
reports the matched sets, the largest absolute SMD of the configured covariates, and the hazard ratios of OS and PFS
(control vs treatment; Cox, configured ties, model-based Wald 95% CI and P, as the article's matched analysis).
1:2 matching leaves some treated patients with one control, so its sets are weighted as MatchIt weighs them
(:func:`hcc_utils.stats.matching.matched_set_weights`): the SMDs are weighted and the Cox model is weighted with a
variance robust to the clustering within sets; the cycles test stays unweighted.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hcc_utils.stats.balance import balance_table
from hcc_utils.stats.boosted_propensity import boosted_propensity_scores
from hcc_utils.stats.two_sample import mann_whitney_test, student_t_test
from hcc_utils.stats.weighting import weighted_balance_table
from hcc_utils.tables.formatting import fmt_p, fmt_ratio
from hcc_utils.tables.journal import Column, JournalTable, Row
from hcc_utils.study.cohort import Study
from hcc_utils.study.labels import ENDPOINTS, abbreviation_note
from hcc_utils.study.matching import match_cohort, set_weights
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SectionResult
from hcc_utils.study.sections.survival import group_hazard_ratio

#: Calipers of the sweep (SDs of the configured distance scale); None = no caliper.
CALIPERS = (0.05, 0.1, 0.2, 0.3, 0.5, None)
#: The letter's variables: the count matched on, the strata matched exactly.
CYCLES = "atebev_cycles"
EXACT = ("macrovascular_invasion", "extrahepatic_metastasis")
_MATCH_COLUMNS = ("ps", "logit_ps", "pair_id", "matched")


def caliper_tag(caliper: float | None) -> str:
    """The scenario name of a caliper in result ids: 0.05 -> 'caliper_0_05', None -> 'caliper_none'."""
    return "caliper_none" if caliper is None else "caliper_" + f"{caliper:g}".replace(".", "_")


def scenario_specs(study: Study) -> dict[str, dict]:
    """Every scenario: its label and how it changes the configured matching (config keys, scores, exact strata)."""
    m = study.config.matching
    specs = {"configured": {"label": "As configured", "group": "The study's matching", "replace": {}}}
    specs |= {caliper_tag(c): {"label": "No caliper" if c is None else f"Caliper {c:g} SD",
                              "group": "Caliper (1:1)", "replace": {"matching.caliper": c, "matching.ratio": 1}}
             for c in CALIPERS}
    specs["ratio2"] = {"label": "1:2 matching", "group": "Other ways to match", "replace": {"matching.ratio": 2}}
    specs["gbm"] = {"label": "Boosted-tree score", "group": "Other ways to match", "replace": {}, "scores": "gbm"}
    with_cycles = list(m.covariates) + ([CYCLES] if CYCLES not in m.covariates else [])
    specs["letter_cycles"] = {"label": "Cycles in the score", "group": "The letter to the editor",
                              "replace": {"matching.covariates": with_cycles}}
    specs["letter_exact"] = {"label": "Exact on MVI and EHM", "group": "The letter to the editor", "replace": {},
                             "exact": list(EXACT)}
    specs["letter_both"] = {"label": "Both", "group": "The letter to the editor",
                            "replace": {"matching.covariates": with_cycles}, "exact": list(EXACT)}
    return specs


def rematch(study: Study, spec: dict) -> pd.DataFrame:
    """The analysis table matched again as ``spec`` says (the study's matcher, a modified configuration).

    Raises
    ------
    ValueError
        (:class:`~hcc_utils.stats.matching.PropensityModelError` among them) when the scenario's propensity model or
        matching cannot be run on these data, e.g. the cycles separate the groups, or a patient misses a variable
        matched on exactly; :func:`matching_choice_results` reports the scenario as not estimable."""
    config = study.config.replace(**spec["replace"]) if spec["replace"] else study.config
    table = study.data.drop(columns=[c for c in _MATCH_COLUMNS if c in study.data.columns])
    scores = None
    if spec.get("scores") == "gbm":
        scores = boosted_propensity_scores(table, "treatment", list(config.matching.covariates), seed=study.config.seed)
    return match_cohort(table, config, scores=scores, exact=spec.get("exact")).data


def _rematched(study: Study, spec: dict) -> tuple[pd.DataFrame | None, str | None]:
    """:func:`rematch`, or (None, the reason) when the scenario cannot be run on these data."""
    try:
        return rematch(study, spec), None
    except ValueError as exc:                            # PropensityModelError is one
        reason = str(exc).removeprefix("propensity_scores: ").split(";")[0]
        return None, f"the scenario's matching cannot be run ({reason})"


def cycles_test(study: Study, cohort: pd.DataFrame, weights: np.ndarray | None = None) -> tuple[float, float]:
    """P (Table 1's test of a median-IQR row: Mann-Whitney unless configured otherwise; unweighted) and absolute
    SMD of the prior ATE+BEV cycles between the groups of ``cohort`` (weighted by ``weights`` when given)."""
    treat = cohort["treatment"].astype(int) == 1
    x = pd.to_numeric(cohort[CYCLES], errors="coerce")
    a, b = x[treat].dropna().to_numpy(float), x[~treat].dropna().to_numpy(float)
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan
    test = study.config.baseline.continuous_test
    p = student_t_test(a, b)[2] if test == "ttest" else mann_whitney_test(a, b)[1]
    return float(p), float(_smds(cohort.assign(**{CYCLES: x}), [CYCLES], weights).iloc[0])


def _smds(matched: pd.DataFrame, covariates: list[str], weights: np.ndarray | None) -> pd.Series:
    """Absolute SMD of each covariate between the groups of a matched cohort, weighted by its sets' weights."""
    if weights is None:
        return balance_table(matched.assign(matched=1), covariates)["smd_after"]
    table = matched.assign(treatment=matched["treatment"].astype(int))
    return weighted_balance_table(table, covariates, {"sets": weights})["smd_sets"]


def _scenario(study: Study, tag: str, spec: dict, data: pd.DataFrame) -> ResultSet:
    values = ResultSet()
    where = f"({spec['label']})"
    matched = data[data["matched"] == 1]
    values.add(f"sensitivity.{tag}_pairs", int(matched["pair_id"].nunique()), Kind.COUNT, f"Matched sets {where}",
               unit="matched sets")
    values.add(f"sensitivity.{tag}_n_control", int((matched["treatment"].astype(int) == 0).sum()), Kind.COUNT,
               f"Matched {study.control} patients {where}")
    weights = set_weights(matched)   # k:1 sets: balance and hazard ratios weighted as MatchIt weighs them
    smd = _smds(matched, list(study.config.matching.covariates), weights)
    values.add(f"sensitivity.{tag}_max_smd", float(smd.max()), Kind.STATISTIC,
               f"Largest absolute SMD of the configured covariates after matching {where}", unit="SMD")
    p, cycles_smd = cycles_test(study, matched, weights)
    values.add(f"sensitivity.{tag}_cycles_p", p, Kind.P, f"Prior ATE+BEV cycles by group, P {where}")
    values.add(f"sensitivity.{tag}_cycles_smd", cycles_smd, Kind.STATISTIC,
               f"Prior ATE+BEV cycles, absolute SMD {where}", unit="SMD")
    versus = f"{study.control} vs {study.treatment}"
    for endpoint, (time_col, event_col, name) in ENDPOINTS.items():
        hr = group_hazard_ratio(study, matched, time_col, event_col, matched_sets=True)
        for stat, value, kind, text in (("hr", hr[0], Kind.RATIO, "HR"), ("hr_lo", hr[1], Kind.RATIO, "HR 95% CI lower limit"),
                                        ("hr_hi", hr[2], Kind.RATIO, "HR 95% CI upper limit"), ("p", hr[3], Kind.P, "Wald P")):
            values.add(f"sensitivity.{tag}_{endpoint}_{stat}", value, kind, f"{text}, {versus}, {name} {where}")
    return values


def _problem(study: Study, data: pd.DataFrame) -> str | None:
    sizes = data[data["matched"] == 1]["group"].value_counts()
    small = [g for g in study.groups if sizes.get(g, 0) < 2]
    return f"fewer than two matched patients in {', '.join(small)}" if small else None


def matching_choice_results(study: Study) -> tuple[ResultSet, dict[str, pd.DataFrame]]:
    """Every scenario's values (ids ``sensitivity.<scenario>_*``), the boosted score's agreement with the logistic
    one (``sensitivity.gbm_score_corr``: Pearson correlation of the logits), and the re-matched tables.

    A scenario that cannot be run (its propensity model or exact strata fail on these data) or whose matched cohort
    cannot be analysed gets the same ids, NaN and ``not estimable`` (computed on all enrolled patients as a stand-in
    and blanked); its frame is then the study's own."""
    values, frames = ResultSet(), {}
    for tag, spec in scenario_specs(study).items():
        data, problem = _rematched(study, spec)
        frames[tag] = data if data is not None else study.data
        problem = problem or _problem(study, data)
        if problem:
            stand_in = study.data.assign(matched=1, pair_id=np.arange(len(study.data)))   # unweighted: sets of one
            values.merge(_scenario(study, tag, spec, stand_in).not_estimable(problem))
        else:
            values.merge(_scenario(study, tag, spec, data))
    gbm_failed = frames["gbm"] is study.data
    logits = np.log(frames["gbm"]["ps"] / (1 - frames["gbm"]["ps"]))
    values.add("sensitivity.gbm_score_corr", float(np.corrcoef(logits, study.data["logit_ps"])[0, 1]), Kind.STATISTIC,
               "Correlation of the boosted-tree and logistic propensity scores (logit scale)", unit="Pearson r",
               not_estimable="the boosted-tree score cannot be fitted" if gbm_failed else "")
    before_p, before_smd = cycles_test(study, study.data)
    values.add("sensitivity.cycles_p_enrolled", before_p, Kind.P, "Prior ATE+BEV cycles by group, P (all enrolled)")
    values.add("sensitivity.cycles_smd_enrolled", before_smd, Kind.STATISTIC,
               "Prior ATE+BEV cycles, absolute SMD (all enrolled)", unit="SMD")
    return values, frames


def conclusion_holds(values: dict, tag: str, endpoint: str, reference: str, level: float) -> bool | None:
    """Whether scenario ``tag`` keeps the reference scenario's conclusion on ``endpoint``: the HR on the same side
    of 1 and the P on the same side of ``level``; None when either is not estimable."""
    keys = [f"sensitivity.{s}_{endpoint}_{k}" for s in (tag, reference) for k in ("hr", "p")]
    hr, p, hr_ref, p_ref = (values[k] for k in keys)
    if not all(np.isfinite(v) for v in (hr, p, hr_ref, p_ref)):
        return None
    return (hr > 1) == (hr_ref > 1) and (p < level) == (p_ref < level)


def verdicts(study: Study, values: dict) -> dict[str, str]:
    """Plain-language verdicts of the letter's scenarios against the configured matching (for the prose):
    ``<scenario>_<endpoint>_verdict`` is 'holds', 'does not hold' or 'cannot be judged'; ``<scenario>_verdict``
    says it once per scenario, in a sentence that varies with what it reports (:func:`verdict_sentence`)."""
    out = {}
    for tag in ("letter_cycles", "letter_exact", "letter_both"):
        by_endpoint = {}
        for endpoint in ENDPOINTS:
            holds = conclusion_holds(values, tag, endpoint, "configured", study.config.significance_level)
            by_endpoint[endpoint] = holds
            out[f"{tag}_{endpoint}_verdict"] = {True: "holds", False: "does not hold", None: "cannot be judged"}[holds]
        out[f"{tag}_verdict"] = verdict_sentence(by_endpoint)
    return out


def verdict_sentence(holds: dict[str, bool | None]) -> str:
    """One sentence on whether a scenario keeps the configured matching's conclusions, endpoint by endpoint
    (``{endpoint: True, False or None}``, None when it cannot be judged): 'Both conclusions of the configured
    matching hold.', 'Neither ...', or which holds and which does not."""
    names = {endpoint: ENDPOINTS[endpoint][2].lower() for endpoint in holds}
    kept = [names[e] for e, h in holds.items() if h is True]
    lost = [names[e] for e, h in holds.items() if h is False]
    unknown = [names[e] for e, h in holds.items() if h is None]
    if len(kept) == len(holds):
        return "Both conclusions of the configured matching hold."
    if len(lost) == len(holds):
        return "Neither conclusion of the configured matching holds."
    parts = []
    if kept:
        parts.append(f"the configured matching's conclusion holds for {' and '.join(kept)}")
    if lost:
        parts.append(f"{'it does not' if kept else 'the configured matching’s conclusion does not'} hold for "
                     f"{' and '.join(lost)}")
    if unknown:
        parts.append(f"{'it' if parts else 'the configured matching’s conclusion'} cannot be judged for "
                     f"{' and '.join(unknown)} (a hazard ratio or P not estimable)")
    sentence = "; ".join(parts) + "."
    return sentence[:1].upper() + sentence[1:]


def _hr_cell(values: dict, key: str) -> str:
    if not np.isfinite(values[f"{key}_hr"]):
        return "not estimable"
    return f"{fmt_ratio(values[f'{key}_hr'])} ({fmt_ratio(values[f'{key}_hr_lo'])}–{fmt_ratio(values[f'{key}_hr_hi'])})"


def choices_table(study: Study, values: dict) -> JournalTable:
    """One row per scenario: matched sets, largest ``|SMD|``, cycles SMD, OS and PFS HR (95% CI) and P."""
    rows = []
    for tag, spec in scenario_specs(study).items():
        key = f"sensitivity.{tag}"
        pairs = values[f"{key}_pairs"]
        cells = [str(int(pairs)) if np.isfinite(pairs) else "not estimable"]
        for stat in ("max_smd", "cycles_smd"):
            cells.append(fmt_ratio(values[f"{key}_{stat}"]) if np.isfinite(values[f"{key}_{stat}"]) else "not estimable")
        for endpoint in ENDPOINTS:
            cells += [_hr_cell(values, f"{key}_{endpoint}"), fmt_p(values[f"{key}_{endpoint}_p"], missing="")]
        rows.append(Row(spec["label"], tuple(cells), group=spec["group"]))
    columns = [Column("Matched sets"), Column("Max SMD"), Column("Cycles SMD"),
               Column("HR (95% CI)", spanner="Overall survival"), Column("P", spanner="Overall survival"),
               Column("HR (95% CI)", spanner="Progression-free survival"),
               Column("P", spanner="Progression-free survival")]
    m = study.config.matching
    footnotes = [
        f"Each row re-runs the study's greedy nearest-neighbour matching ({m.caliper_scale} scale, {m.order} score "
        "first) with one choice changed; the other rows keep the configured settings. Max SMD: largest absolute "
        "standardized mean difference of the configured propensity covariates after matching; cycles SMD: prior "
        "ATE+BEV cycles.",
        "Boosted-tree score: propensity scores from gradient-boosted trees (scikit-learn, seeded) instead of the "
        "logistic model. 1:2 matching: a treated patient left with one control weighs as much as a full set (MatchIt's "
        "weights); the SMDs and the Cox model are weighted, the model's 95% CI and P robust to the clustering "
        "within sets. Exact on MVI and EHM: matched only within strata of "
        "macrovascular invasion and extrahepatic metastasis, the caliper's width kept.",
        f"HR of {study.control} versus {study.treatment} (Cox, Wald 95% CI and P). "
        + abbreviation_note("ATE+BEV", "CI", "HR", "SMD") + " MVI, macrovascular invasion; EHM, extrahepatic metastasis.",
    ]
    return JournalTable("matching_choices", "", "Matched sets, balance and hazard ratios under other ways to match",
                        "Matching", columns, rows, footnotes)


def compute(study: Study) -> SectionResult:
    values, frames = matching_choice_results(study)
    return SectionResult(values, {"choices": choices_table(study, values)},
                         {"verdicts": verdicts(study, values), "frames": frames})
