"""Beyond the article: analyses of the propensity-score-matched cohort that respect its pairing.

The article compares the matched groups with the tests of independent samples (log-rank, Cox with model-based
variance, Pearson's chi-square). Matched pairs are not independent: this section sets beside each of those tests its
paired counterpart — the log-rank test stratified by pair (R ``survdiff(... + strata(pair))``), the Cox model with
a pair-clustered robust variance (R ``coxph(..., cluster = pair)``) and McNemar's test for binary outcomes of 1:1
pairs (R ``mcnemar.test``, and its exact binomial form).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from hcc_utils.stats.contingency import compare_proportions, mcnemar_test, paired_table
from hcc_utils.stats.cox import CoxConvergenceWarning, cox_model
from hcc_utils.stats.logrank import logrank_test
from hcc_utils.tables.formatting import fmt_p, fmt_ratio
from hcc_utils.tables.journal import Column, JournalTable, Row
from hcc_utils.study.cohort import Study
from hcc_utils.study.labels import ENDPOINTS, abbreviation_note, categorical_test_text
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SectionResult

#: Binary outcomes compared within pairs: id name -> (label, how it is derived from the analysis table).
BINARY_OUTCOMES = {
    "orr": "Objective response (RECIST 1.1)",
    "dcr": "Disease control (RECIST 1.1)",
    "ae_any": "Any adverse event",
    "ae_g34": "Grade 3-4 adverse event",
    "ae_disc": "Adverse event leading to discontinuation",
}
_RESPONDERS = {"orr": ("cr", "pr"), "dcr": ("cr", "pr", "sd")}
_AE_COLUMNS = {"ae_any": "ae_any", "ae_g34": "ae_grade_3_4", "ae_disc": "ae_led_to_discontinuation"}


def binary_outcome(cohort: pd.DataFrame, name: str) -> pd.Series:
    """The 0/1 outcome ``name`` per patient (float, NaN when not recorded): a response among ``CR, PR`` (ORR) or
    ``CR, PR, SD`` (DCR) of the best RECIST 1.1 response, NE counted as no response; an adverse-event flag."""
    if name in _RESPONDERS:
        response = cohort["best_response_recist"]
        return response.isin(_RESPONDERS[name]).astype(float).where(response.notna())
    return pd.to_numeric(cohort[_AE_COLUMNS[name]], errors="coerce").astype(float)


def one_to_one_pairs(cohort: pd.DataFrame) -> pd.DataFrame:
    """Matched sets holding exactly one treated and one control patient: one row per pair with the ``pair_id`` and
    the row labels of its ``treated`` and ``control`` members (sets of a 1:k match with k > 1 are left out)."""
    rows = []
    for pair, members in cohort.dropna(subset=["pair_id"]).groupby("pair_id", sort=True):
        treated = members.index[members["treatment"].astype(int) == 1]
        control = members.index[members["treatment"].astype(int) == 0]
        if len(treated) == 1 and len(control) == 1:
            rows.append({"pair_id": pair, "treated": treated[0], "control": control[0]})
    return pd.DataFrame(rows, columns=["pair_id", "treated", "control"])


def _stand_in(study: Study) -> pd.DataFrame:
    """All enrolled patients paired in file order (treated k with control k): the same computations run on it when
    the matched cohort cannot be analysed, and their values are then blanked (``ResultSet.not_estimable``)."""
    data = study.data.copy()
    treated = data.index[data["treatment"].astype(int) == 1]
    control = data.index[data["treatment"].astype(int) == 0]
    k = min(len(treated), len(control))
    data["pair_id"] = pd.array([pd.NA] * len(data), dtype="Int64")
    data.loc[treated[:k], "pair_id"] = np.arange(1, k + 1)
    data.loc[control[:k], "pair_id"] = np.arange(1, k + 1)
    return data[data["pair_id"].notna()]


def _cox(cohort: pd.DataFrame, study: Study, time_col: str, event_col: str, cluster: bool) -> tuple[float, ...]:
    """HR of the control vs the treatment group with its 95% CI and Wald p; model-based or pair-clustered robust
    variance. NaN when the model has no finite estimate."""
    frame = cohort.assign(control_group=(cohort["group"] == study.control).astype(int),
                          pair=cohort["pair_id"].astype(int))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoxConvergenceWarning)
            model = cox_model(frame, time_col, event_col, ["control_group"], ties=study.config.cox.ties,
                              cluster_col="pair" if cluster else None)
    except ValueError:                                   # no event among the matched patients
        return (math.nan,) * 5
    row = model.table().iloc[0]
    if bool(row["infinite_coef"]) or not np.isfinite(row["hr"]):
        return (math.nan,) * 5
    return float(row["hr"]), float(row["ci_low"]), float(row["ci_high"]), float(row["p"]), float(row["se"])


def _compute(study: Study, cohort: pd.DataFrame) -> ResultSet:
    values = ResultSet()
    versus = f"{study.control} vs {study.treatment}"
    pair = cohort["pair_id"].astype(int).to_numpy()
    values.add("sensitivity.paired_n_pairs", int(cohort["pair_id"].nunique()), Kind.COUNT,
               "Matched sets analysed (PS-matched cohort)", unit="matched sets")
    for endpoint, (time_col, event_col, name) in ENDPOINTS.items():
        time, event = cohort[time_col].to_numpy(float), cohort[event_col].to_numpy(int)
        group = cohort["group"].to_numpy()
        for prefix, strata, text in (("unpaired", None, "Log-rank"), ("pair", pair, "Log-rank stratified by pair")):
            test = logrank_test(time, event, group, strata=strata, not_estimable=True)  # NaN: no event
            values.add(f"sensitivity.{prefix}_logrank_{endpoint}_p", test.p, Kind.P, f"{text} P, {name} (PS-matched)")
            values.add(f"sensitivity.{prefix}_logrank_{endpoint}_chisq", test.chisq, Kind.STATISTIC,
                       f"{text} chi-square, {name} (PS-matched)", unit="chi-square")
        for prefix, cluster, text in (("naive_cox", False, "Cox, model-based variance"),
                                      ("cluster_cox", True, "Cox, pair-clustered robust variance")):
            hr, lo, hi, p, se = _cox(cohort, study, time_col, event_col, cluster)
            for stat, value, kind, what in (("hr", hr, Kind.RATIO, "HR"), ("hr_lo", lo, Kind.RATIO, "HR 95% CI lower limit"),
                                            ("hr_hi", hi, Kind.RATIO, "HR 95% CI upper limit"), ("p", p, Kind.P, "Wald P"),
                                            ("se", se, Kind.STATISTIC, "SE of the log HR")):
                values.add(f"sensitivity.{prefix}_{endpoint}_{stat}", value, kind,
                           f"{what}, {versus} ({text}), {name} (PS-matched)", unit="log HR" if stat == "se" else "")
    pairs = one_to_one_pairs(cohort)
    rule = study.config.baseline.categorical_test
    values.add("sensitivity.mcnemar_pairs", int(len(pairs)), Kind.COUNT, "1:1 pairs (PS-matched cohort)", unit="pairs")
    for name, label in BINARY_OUTCOMES.items():
        outcome = binary_outcome(cohort, name)
        known = outcome.dropna()
        by_group = {g: known[cohort.loc[known.index, "group"] == g] for g in study.groups}
        t, c = (by_group[g] for g in study.groups)
        unpaired = (compare_proportions(int(t.sum()), len(t), int(c.sum()), len(c), rule=rule).p
                    if len(t) and len(c) else math.nan)
        values.add(f"sensitivity.unpaired_{name}_p", unpaired, Kind.P, f"{label} by group, P (unpaired, PS-matched)")
        table = paired_table(outcome.reindex(pairs["treated"]).to_numpy(), outcome.reindex(pairs["control"]).to_numpy())
        values.add(f"sensitivity.mcnemar_{name}_pairs", int(table.sum()), Kind.COUNT,
                   f"{label}: pairs with both outcomes recorded", unit="pairs")
        values.add(f"sensitivity.mcnemar_{name}_only_treatment", int(table[0, 1]), Kind.COUNT,
                   f"{label}: pairs where only the {study.treatment} patient had it", unit="pairs")
        values.add(f"sensitivity.mcnemar_{name}_only_control", int(table[1, 0]), Kind.COUNT,
                   f"{label}: pairs where only the {study.control} patient had it", unit="pairs")
        for suffix, kwargs, text in (("", {}, "McNemar, continuity-corrected"),
                                     ("_uncorrected", {"correction": False}, "McNemar, uncorrected"),
                                     ("_exact", {"method": "exact"}, "McNemar exact (binomial)")):
            values.add(f"sensitivity.mcnemar_{name}_p{suffix}", mcnemar_test(table, **kwargs).p, Kind.P,
                       f"{label}, {text} P (PS-matched pairs)")
    return values


def paired_results(study: Study) -> ResultSet:
    """Paired and unpaired tests of the matched cohort side by side (ids ``sensitivity.*``).

    Survival (OS, PFS): log-rank P and chi-square ignoring pairs (``unpaired_logrank_<e>_*``) and stratified by
    matched set (``pair_logrank_<e>_*``); the Cox HR of the control vs the treatment group with model-based
    (``naive_cox_<e>_*``) and pair-clustered robust (``cluster_cox_<e>_*``) 95% CI, Wald P and SE. Binary outcomes
    (ORR, DCR, any / grade 3-4 / discontinuing adverse events): the configured unpaired test
    (``unpaired_<o>_p``) and McNemar's test on 1:1 pairs with both outcomes recorded (``mcnemar_<o>_p``
    continuity-corrected as R's default, ``_uncorrected``, ``_exact``), with the discordant pair counts.
    When the matched cohort cannot be analysed every id is NaN with the status ``not estimable``.
    """
    problems = study.cohort_problems()
    if "_matched" in problems:
        return _compute(study, _stand_in(study)).not_estimable(problems["_matched"])
    return _compute(study, study.matched)


def _hr_text(values: dict, key: str) -> str:
    hr = values[f"{key}_hr"]
    if not np.isfinite(hr):
        return "not estimable"
    return f"{fmt_ratio(hr)} ({fmt_ratio(values[f'{key}_hr_lo'])}–{fmt_ratio(values[f'{key}_hr_hi'])})"


def paired_table_display(study: Study, values: dict) -> JournalTable:
    """The matched cohort's unpaired (as the article) and paired analyses side by side."""
    p = lambda key: fmt_p(values[key], missing="not estimable")  # noqa: E731
    rows = []
    for endpoint, (_, _, name) in ENDPOINTS.items():
        rows.append(Row("Log-rank test", ("", p(f"sensitivity.unpaired_logrank_{endpoint}_p"), "",
                                          p(f"sensitivity.pair_logrank_{endpoint}_p")), group=name))
        rows.append(Row("Cox HR (95% CI)", (_hr_text(values, f"sensitivity.naive_cox_{endpoint}"),
                                            p(f"sensitivity.naive_cox_{endpoint}_p"),
                                            _hr_text(values, f"sensitivity.cluster_cox_{endpoint}"),
                                            p(f"sensitivity.cluster_cox_{endpoint}_p")), group=name))
    for name, label in BINARY_OUTCOMES.items():
        key = f"sensitivity.mcnemar_{name}"
        discordant = (f"{values[f'{key}_only_treatment']} vs {values[f'{key}_only_control']}"
                      if np.isfinite(values[f"{key}_pairs"]) else "not estimable")
        rows.append(Row(label, ("", p(f"sensitivity.unpaired_{name}_p"), discordant, p(f"{key}_p")),
                        group="Binary outcomes"))
    columns = [Column("Estimate", spanner="Unpaired (as the article)"), Column("P", spanner="Unpaired (as the article)"),
               Column("Estimate", spanner="Paired"), Column("P", spanner="Paired")]
    footnotes = [
        "PS-matched cohort. Unpaired: log-rank test; Cox model (Efron ties) with model-based variance; "
        f"{categorical_test_text(study.config.baseline.categorical_test)}.",
        "Paired: log-rank test stratified by matched set; the same Cox model with a robust variance clustered on the "
        "matched set (Lin and Wei); McNemar's test with continuity correction on 1:1 pairs with both outcomes "
        "recorded (estimate: discordant pairs in which only the "
        f"{study.treatment} patient vs only the {study.control} patient had the outcome).",
        f"HR of {study.control} versus {study.treatment}. " + abbreviation_note("CI", "HR", "PS"),
    ]
    return JournalTable("paired_analyses", "", "Unpaired and paired analyses of the propensity-score-matched cohort",
                        "Outcome and test", columns, rows, footnotes)


def compute(study: Study) -> SectionResult:
    values = paired_results(study)
    return SectionResult(values, {"paired": paired_table_display(study, values)})
