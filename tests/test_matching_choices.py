"""Matching choices (caliper sweep, 1:2, boosted-tree score) and the letter to the editor's re-matchings: each is the
study's own matcher with one setting changed, so the configured scenario is exactly the book's matched cohort."""
from __future__ import annotations

import math
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from hcc_utils.config import REPO_ROOT, StudyConfig  # noqa: E402
from hcc_utils.data.readers import read_cohort  # noqa: E402
from hcc_utils.report.figures.matching_choices import caliper_alt_text, caliper_figure  # noqa: E402
from hcc_utils.stats.boosted_propensity import boosted_propensity_scores  # noqa: E402
from hcc_utils.stats.cox import cox_model  # noqa: E402
from hcc_utils.study import build_study  # noqa: E402
from hcc_utils.study.matching import match_cohort, set_weights  # noqa: E402
from hcc_utils.study.sections import matching_choices as mc  # noqa: E402
from hcc_utils.study.sections import survival  # noqa: E402

COHORT = REPO_ROOT / "data" / "synthetic_cohort.csv"


@pytest.fixture(scope="module")
def study():
    return build_study(read_cohort(COHORT), StudyConfig())


@pytest.fixture(scope="module")
def section(study):
    return mc.compute(study)


def _analysis(study):
    return study.data.drop(columns=["ps", "logit_ps", "pair_id", "matched"])


def test_configured_scenario_is_the_books_matched_cohort(study, section):
    values = section.values
    surv = survival.survival_results(study)
    assert values["sensitivity.configured_pairs"] == study.match_summary["pairs"] == 36
    for endpoint in ("os", "pfs"):
        for stat in ("hr", "hr_lo", "hr_hi", "p"):
            assert values[f"sensitivity.configured_{endpoint}_{stat}"] == pytest.approx(
                surv[f"survival.{endpoint}_{'hr_p' if stat == 'p' else stat}_matched"], abs=1e-12)
            assert values[f"sensitivity.caliper_0_2_{endpoint}_{stat}"] == values[f"sensitivity.configured_{endpoint}_{stat}"]


def test_caliper_sweep_pairs_balance_and_hazard_ratios(study, section):
    values = section.values
    pairs = [values[f"sensitivity.{mc.caliper_tag(c)}_pairs"] for c in mc.CALIPERS]
    assert pairs == sorted(pairs)  # a wider caliper never forms fewer pairs
    assert values["sensitivity.caliper_none_pairs"] == min(study.match_summary["n_treated"], study.match_summary["n_control"])
    # each caliper's hazard ratio is lifelines' Cox model (Efron) of its re-matched cohort
    from lifelines import CoxPHFitter

    specs = mc.scenario_specs(study)
    for tag in ("caliper_0_05", "caliper_none"):
        matched = mc.rematch(study, specs[tag])
        matched = matched[matched["matched"] == 1]
        frame = pd.DataFrame({"t": matched["pfs_months"], "e": matched["pfs_event"],
                              "control": (matched["treatment"].astype(int) == 0).astype(int)})
        assert len(frame) == 2 * values[f"sensitivity.{tag}_pairs"]
        fit = CoxPHFitter().fit(frame, "t", "e", fit_options={"precision": 1e-12})  # converged fully
        assert values[f"sensitivity.{tag}_pfs_hr"] == pytest.approx(float(np.exp(fit.params_["control"])), rel=1e-6)
    assert 0 <= values["sensitivity.caliper_0_2_max_smd"] < 0.25  # the configured caliper balances the covariates
    assert values["sensitivity.ratio2_n_control"] > values["sensitivity.ratio2_pairs"]


def test_one_to_two_sets_are_weighted_as_MatchIt_weighs_them(study, section):
    """1:2 matching leaves some treated patients one control: its hazard ratios are the weighted Cox model with the
    variance clustered on the sets (R coxph(weights = weights, cluster = subclass), checked against R in
    test_matching.py) and its SMDs weighted; 1:1 pairs keep the unweighted model."""
    data = mc.rematch(study, mc.scenario_specs(study)["ratio2"])
    matched = data[data["matched"] == 1]
    sizes = matched["pair_id"].value_counts()
    assert sizes.max() == 3 and sizes.min() == 2          # some sets are full, some keep one control
    assert len(sizes) == (matched["treatment"].astype(int) == 1).sum()
    weights = set_weights(matched)
    control = (matched["treatment"].astype(int) == 0).to_numpy()
    assert weights[~control] == pytest.approx(1.0) and weights[control].sum() == pytest.approx(control.sum())
    frame = matched.assign(control_group=control.astype(int), w=weights)
    row = cox_model(frame, "pfs_months", "pfs_event", ["control_group"], weights_col="w",
                    cluster_col="pair_id").table().iloc[0]
    values = section.values
    assert values["sensitivity.ratio2_pfs_hr"] == pytest.approx(row["hr"], abs=1e-12)
    assert values["sensitivity.ratio2_pfs_hr_lo"] == pytest.approx(row["ci_low"], abs=1e-12)
    assert set_weights(study.matched) is None           # 1:1 pairs: no weights


def test_boosted_score_is_seeded_and_close_to_the_logistic_one(study, section):
    table = _analysis(study)
    covariates = list(study.config.matching.covariates)
    first = boosted_propensity_scores(table, "treatment", covariates, seed=7)
    again = boosted_propensity_scores(table, "treatment", covariates, seed=7)
    pd.testing.assert_series_equal(first, again)
    assert first.between(1e-3, 1 - 1e-3).all()
    assert 0.5 < section.values["sensitivity.gbm_score_corr"] <= 1  # two estimates of one score agree
    with pytest.raises(ValueError, match="0/1"):
        boosted_propensity_scores(table.assign(treatment=1), "treatment", covariates)


def test_exact_matching_pairs_only_within_strata_and_keeps_the_caliper_width(study):
    exact = list(mc.EXACT)
    result = match_cohort(_analysis(study), study.config, exact=exact)
    matched = result.data[result.data["matched"] == 1]
    assert (matched.groupby("pair_id")[exact].nunique() == 1).all().all()
    assert result.summary["caliper_width"] == pytest.approx(study.match_summary["caliper_width"], rel=1e-12)
    assert 0 < result.summary["pairs"] == matched["pair_id"].nunique()
    # every pair of the stratified match is within the whole cohort's caliper width
    gaps = matched.groupby("pair_id")["logit_ps"].agg(lambda s: s.max() - s.min())
    assert (gaps <= result.summary["caliper_width"] + 1e-12).all()


def test_exact_matching_on_a_constant_column_is_the_ordinary_match(study):
    table = _analysis(study).assign(same=1)
    plain = match_cohort(table, study.config).data["pair_id"]
    stratified = match_cohort(table, study.config, exact=["same"]).data["pair_id"]
    # same sets (numbering may differ): compare the partition
    key = lambda ids: sorted(tuple(sorted(g.index)) for _, g in ids.dropna().groupby(ids.dropna()))  # noqa: E731
    assert key(plain) == key(stratified)


def test_letter_scenarios_balance_cycles_and_give_verdicts(study, section):
    values = section.values
    assert values["sensitivity.cycles_p_enrolled"] < 0.001
    assert values["sensitivity.letter_cycles_cycles_smd"] < values["sensitivity.configured_cycles_smd"]
    assert values["sensitivity.letter_cycles_cycles_p"] > study.config.significance_level
    assert 0 < values["sensitivity.letter_both_pairs"] <= study.match_summary["n_treated"]
    verdicts = section.inputs["verdicts"]
    assert set(verdicts) == {f"{t}_{e}_verdict" for t in ("letter_cycles", "letter_exact", "letter_both")
                             for e in ("os", "pfs")} | {f"{t}_verdict" for t in ("letter_cycles", "letter_exact",
                                                                                "letter_both")}
    sentences = {key: verdicts.pop(key) for key in [k for k in verdicts if k.count("_") == 2]}
    words = {"holds": True, "does not hold": False, "cannot be judged": None}
    for key, sentence in sentences.items():  # one sentence per scenario, from its endpoints' verdicts
        scenario = key.removesuffix("_verdict")
        assert sentence == mc.verdict_sentence({e: words[verdicts[f"{scenario}_{e}_verdict"]] for e in ("os", "pfs")})
    for key, verdict in verdicts.items():  # each verdict is the rule applied to the glued numbers
        scenario, endpoint = key.removesuffix("_verdict").rsplit("_", 1)
        holds = mc.conclusion_holds(values, scenario, endpoint, "configured", study.config.significance_level)
        assert verdict == ("holds" if holds else "does not hold"), key
    # the rule by hand: a scenario whose OS P falls below the level, or whose PFS HR crosses 1, does not hold
    assert mc.conclusion_holds({**values, "sensitivity.letter_exact_os_p": 0.01}, "letter_exact", "os", "configured",
                               0.05) is False
    assert mc.conclusion_holds({**values, "sensitivity.letter_both_pfs_hr": 0.9}, "letter_both", "pfs", "configured",
                               0.05) is False
    assert mc.conclusion_holds({**values, "sensitivity.letter_both_os_hr": math.nan}, "letter_both", "os", "configured",
                               0.05) is None


def test_table_and_figure(study, section):
    table = section.tables["choices"]
    assert [row.label for row in table.rows][:2] == ["As configured", "Caliper 0.05 SD"]
    assert len(table.rows) == 1 + len(mc.CALIPERS) + 2 + 3
    for row in table.rows:
        for cell in row.cells:
            for decimals in re.findall(r"\d+\.(\d+)", cell):
                assert len(decimals) <= 3, cell
    fig = caliper_figure(study, section.values)
    assert len(fig.axes) == 2
    plt.close(fig)
    v = section.values
    assert (f"caliper 0.05: HR {v['sensitivity.caliper_0_05_os_hr']:.3f} ({v['sensitivity.caliper_0_05_os_hr_lo']:.3f}–"
            f"{v['sensitivity.caliper_0_05_os_hr_hi']:.3f})") in caliper_alt_text(study, v)


def test_no_pairs_is_not_estimable_with_the_same_ids(section):
    odd = build_study(read_cohort(COHORT), StudyConfig().replace(**{"matching.caliper": 1e-7}))
    values, _ = mc.matching_choice_results(odd)
    assert set(values) == set(section.values)
    assert values.spec("sensitivity.configured_os_hr").status == "not estimable"
    assert math.isnan(values["sensitivity.configured_os_hr"])
    assert values["sensitivity.caliper_none_pairs"] == 40  # the sweep still matches
    assert mc.verdicts(odd, values)["letter_cycles_os_verdict"] == "cannot be judged"
    fig = caliper_figure(odd, values)
    plt.close(fig)
    assert np.isfinite(values["sensitivity.caliper_0_2_os_hr"])


def test_a_scenario_s_verdict_is_one_sentence_that_says_what_holds():
    """One sentence per scenario, not 'where it holds' after every number (issue 24)."""
    assert mc.verdict_sentence({"os": True, "pfs": True}) == "Both conclusions of the configured matching hold."
    assert mc.verdict_sentence({"os": False, "pfs": False}) == "Neither conclusion of the configured matching holds."
    assert mc.verdict_sentence({"os": False, "pfs": True}) == (
        "The configured matching's conclusion holds for progression-free survival; it does not hold for overall "
        "survival.")
    assert mc.verdict_sentence({"os": None, "pfs": True}).endswith(
        "cannot be judged for overall survival (a hazard ratio or P not estimable).")
