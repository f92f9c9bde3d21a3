"""Propensity-score weighting: weights, effective sample size, weighted balance, weighted Kaplan-Meier and the
case-weighted Cox model with its robust variance, checked against R (tests/reference/weighting_reference.R) and
by hand; and the weighting chapter's section on the bundled cohort and on odd data."""
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
from hcc_utils.report.figures.km_draw import panel_letters  # noqa: E402
from hcc_utils.report.figures.weighting import weighting_alt_texts, weighting_figures  # noqa: E402
from hcc_utils.stats.balance import smd_binary, smd_continuous  # noqa: E402
from hcc_utils.stats.cox import cox_model  # noqa: E402
from hcc_utils.stats.survival import kaplan_meier, km_quantile  # noqa: E402
from hcc_utils.stats.weighting import (effective_sample_size, ps_weights, weighted_balance_table,  # noqa: E402
                                       weighted_kaplan_meier, weighted_km_median, weighted_smd)
from hcc_utils.study import build_study, load_study  # noqa: E402
from hcc_utils.study.sections import weighting  # noqa: E402

REF = REPO_ROOT / "tests" / "reference"
DATA = pd.read_csv(REF / "weighting_data.csv")
TOL = 1e-6  # agreement with R's printed values (15 significant digits)


def _weights(name: str) -> np.ndarray:
    if name == "iptw_stab":
        return ps_weights(DATA["ps"], DATA["treatment"], "iptw", stabilized=True)
    return ps_weights(DATA["ps"], DATA["treatment"], name)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------------------------------------ against R
def test_weighted_cox_matches_R_coxph_robust():
    """coxph(Surv(t, e) ~ control (+ age), weights = w, robust = TRUE), Efron: coef, robust and naive SE, loglik."""
    ref = pd.read_csv(REF / "weighting_cox_reference.csv")
    assert len(ref) == 2 * 3 * 3  # 2 endpoints x 3 weightings x (1 + 2 terms)
    for (endpoint, name, model), expected in ref.groupby(["endpoint", "weights", "model"], sort=False):
        frame = DATA.assign(w=_weights(name))
        fit = cox_model(frame, f"{endpoint}_months", f"{endpoint}_event", model.split("+"), weights_col="w",
                        robust=True)
        table = fit.table()
        for column in ("coef", "robust_se", "naive_se"):
            np.testing.assert_allclose(table[column], expected[column], rtol=0, atol=TOL,
                                       err_msg=f"{endpoint} {name} {model} {column}")
        np.testing.assert_allclose(table["se"], expected["robust_se"], rtol=0, atol=TOL)
        assert fit.loglik == pytest.approx(expected["loglik"].iloc[0], abs=TOL)
    # a real number, not only agreement: the IPTW log hazard ratio of OS (control vs treatment)
    assert ref.query("endpoint == 'os' and weights == 'iptw' and model == 'control'")["coef"].iloc[0] == \
        pytest.approx(0.719196682458137, abs=1e-12)


def test_weighted_kaplan_meier_matches_R_survfit_weights():
    ref = pd.read_csv(REF / "weighting_km_reference.csv")
    assert len(ref) == 2 * 2 * 2 * 5
    for (endpoint, name, arm), expected in ref.groupby(["endpoint", "weights", "treatment"]):
        keep = (DATA["treatment"] == arm).to_numpy()
        table = weighted_kaplan_meier(DATA.loc[keep, f"{endpoint}_months"], DATA.loc[keep, f"{endpoint}_event"],
                                      _weights(name)[keep])
        at = np.searchsorted(table["time"].to_numpy(), expected["time"].to_numpy(), side="right") - 1
        surv = np.where(at >= 0, table["survival"].to_numpy()[np.maximum(at, 0)], 1.0)
        np.testing.assert_allclose(surv, expected["survival"], rtol=0, atol=TOL, err_msg=f"{endpoint} {name} {arm}")


def test_weighted_km_interval_matches_R_survfit_weights():
    """survfit(Surv(t, e) ~ 1, weights = w)$lower/$upper: the robust (infinitesimal-jackknife) interval for
    non-integer weights, Greenwood's on the weighted counts for integer ones; NA where the curve reaches 0."""
    ref = pd.read_csv(REF / "weighting_km_ci_reference.csv")
    hand = {"hand1": ([1, 2, 2, 3, 4, 4], [1, 0, 1, 1, 0, 1], [0.5, 2, 1.5, 1, 3, 0.7]),
            "hand2": ([1, 2, 2, 3, 4], [1, 0, 1, 1, 1], [0.5, 2, 1.5, 1, 3]),
            "hand3": ([1, 2, 2, 3, 4, 4, 5, 6], [1, 0, 1, 1, 0, 1, 1, 0], [1, 2, 1, 1, 3, 1, 1, 2])}
    assert set(ref["case"]) == {f"{e}_{w}_{a}" for e in ("os", "pfs") for w in ("iptw", "overlap") for a in (0, 1)} | set(hand)
    for case, expected in ref.groupby("case"):
        if case in hand:
            table = weighted_kaplan_meier(*hand[case])
        else:
            endpoint, name, arm = case.split("_")
            keep = (DATA["treatment"] == int(arm)).to_numpy()
            table = weighted_kaplan_meier(DATA.loc[keep, f"{endpoint}_months"], DATA.loc[keep, f"{endpoint}_event"],
                                          _weights(name)[keep])
        np.testing.assert_allclose(table["time"], expected["time"], rtol=0, atol=1e-12, err_msg=case)
        for ours, theirs in (("survival", "survival"), ("ci_lower", "lower"), ("ci_upper", "upper")):
            np.testing.assert_allclose(table[ours], expected[theirs], rtol=0, atol=TOL, err_msg=f"{case} {ours}")
    # real numbers: the second hand case ends with every patient at risk dying; its first lower limit is R's
    last = weighted_kaplan_meier(*hand["hand2"]).iloc[-1]
    assert last["survival"] == 0 and np.isnan(last["ci_lower"]) and np.isnan(last["ci_upper"])
    assert weighted_kaplan_meier(*hand["hand2"])["ci_lower"].iloc[0] == pytest.approx(0.815781044681075, abs=1e-12)


def test_weighted_km_robust_interval_by_hand():
    """Two patients, weights 1.5 and 0.5, the first dies at t = 1: S = 1 - 1.5/2 = 0.25. dS/dw_1 = -(Y - D)/Y^2 =
    -0.125 and dS/dw_2 = D/Y^2 = 0.375, so var S = (1.5 x 0.125)^2 + (0.5 x 0.375)^2 = 0.0703125 and the SE of
    log S is sqrt(0.0703125) / 0.25 = 1.0607."""
    table = weighted_kaplan_meier([1.0, 2.0], [1, 0], [1.5, 0.5])
    se = math.sqrt(0.0703125) / 0.25
    z = 1.959963984540054
    assert table["survival"].iloc[0] == pytest.approx(0.25, abs=1e-15)
    assert table["ci_lower"].iloc[0] == pytest.approx(0.25 * math.exp(-z * se), abs=1e-12)
    assert table["ci_upper"].iloc[0] == 1.0   # 0.25 exp(1.96 x 1.06) = 2.0, capped


# ------------------------------------------------------------------------------------------------ by hand
def test_ps_weights_by_hand():
    ps, treat = np.array([0.2, 0.5, 0.8, 0.25]), np.array([1, 0, 1, 0])
    np.testing.assert_allclose(ps_weights(ps, treat, "iptw"), [5.0, 2.0, 1.25, 4 / 3])
    np.testing.assert_allclose(ps_weights(ps, treat, "iptw", stabilized=True), [2.5, 1.0, 0.625, 2 / 3])
    np.testing.assert_allclose(ps_weights(ps, treat, "overlap"), [0.8, 0.5, 0.2, 0.25])
    with pytest.raises(ValueError, match="positivity"):
        ps_weights([0.0, 0.5], [1, 0])
    with pytest.raises(ValueError, match="method"):
        ps_weights(ps, treat, "atm")


def test_effective_sample_size_by_hand():
    assert effective_sample_size(np.ones(7)) == pytest.approx(7.0)
    assert effective_sample_size([1.0, 3.0]) == pytest.approx(16 / 10)


def test_weighted_smd_with_unit_weights_is_the_unweighted_smd_and_overlap_weights_balance_exactly():
    treat = DATA["treatment"].to_numpy()
    ones = np.ones(len(DATA))
    assert weighted_smd(DATA["age"], treat, ones) == pytest.approx(
        smd_continuous(DATA.loc[treat == 1, "age"], DATA.loc[treat == 0, "age"]), abs=1e-12)
    assert weighted_smd(DATA["os_event"], treat, ones) == pytest.approx(
        smd_binary(DATA.loc[treat == 1, "os_event"], DATA.loc[treat == 0, "os_event"]), abs=1e-12)
    # weighted mean 2 vs 1, weighted variances by hand: x = (1, 3) weights (1, 1) -> m 2, var 2; controls (1, 1)
    assert weighted_smd([1.0, 3.0, 1.0, 1.0], [1, 1, 0, 0], [1, 1, 1, 1]) == pytest.approx(1 / math.sqrt(1.0))
    study = load_study(REPO_ROOT / "data" / "synthetic_cohort.csv")
    covariates = list(study.config.matching.covariates)
    w = ps_weights(study.data["ps"], study.data["treatment"], "overlap")
    balance = weighted_balance_table(study.data, covariates, {"overlap": w})
    assert balance["smd_overlap"].max() < 1e-10  # the property of overlap weights with a logistic model


def test_unit_weights_give_the_unweighted_cox_fit():
    plain = cox_model(DATA, "os_months", "os_event", ["control", "age"])
    weighted = cox_model(DATA.assign(w=1.0), "os_months", "os_event", ["control", "age"], weights_col="w",
                         robust=True)
    clustered = cox_model(DATA, "os_months", "os_event", ["control", "age"], cluster_col="id")
    np.testing.assert_allclose(weighted.coef, plain.coef, rtol=0, atol=1e-12)
    np.testing.assert_allclose(weighted.naive_var, plain.var, rtol=1e-10, atol=0)
    np.testing.assert_allclose(weighted.robust_var, clustered.robust_var, rtol=1e-10, atol=0)
    assert plain.robust_var is None and plain.weights is None


def test_weights_must_be_positive():
    with pytest.raises(ValueError, match="w: case weights"):
        cox_model(DATA.assign(w=0.0), "os_months", "os_event", ["control"], weights_col="w")


def test_weighted_kaplan_meier_with_unit_weights_is_kaplan_meier():
    km = kaplan_meier(DATA["pfs_months"], DATA["pfs_event"])
    table = weighted_kaplan_meier(DATA["pfs_months"], DATA["pfs_event"], np.ones(len(DATA)))
    np.testing.assert_allclose(table["survival"], km.table["survival"], rtol=0, atol=1e-14)
    np.testing.assert_array_equal(table["n_censor"], km.table["n_censor"])
    assert weighted_km_median(table) == km_quantile(km, 0.5).estimate
    # integer weights are counts of patients: the interval is Greenwood's, as the unweighted curve's
    for column in ("ci_lower", "ci_upper"):
        np.testing.assert_allclose(table[column], km.table[column], rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------------------------ the chapter
@pytest.fixture(scope="module")
def section():
    study = load_study(REPO_ROOT / "data" / "synthetic_cohort.csv")
    return study, weighting.compute(study)


def test_section_on_the_bundled_cohort(section):
    study, result = section
    values = result.values
    # independent references: the weights by hand from the study's propensity score, lifelines' weighted Cox
    from lifelines import CoxPHFitter

    data = study.data
    e, t = data["ps"].to_numpy(float), data["treatment"].astype(int).to_numpy()
    by_hand = {"iptw": np.where(t == 1, 1 / e, 1 / (1 - e)), "overlap": np.where(t == 1, 1 - e, e)}
    for method, w in by_hand.items():
        for endpoint in ("os", "pfs"):
            frame = pd.DataFrame({"time": data[f"{endpoint}_months"].to_numpy(float),
                                  "event": data[f"{endpoint}_event"].to_numpy(int), "control": 1 - t, "w": w})
            fit = CoxPHFitter().fit(frame, "time", "event", weights_col="w", robust=True,
                                    fit_options={"precision": 1e-12})
            assert values[f"sensitivity.{method}_{endpoint}_hr"] == pytest.approx(
                float(np.exp(fit.params_["control"])), rel=1e-6), (method, endpoint)
    ess = lambda w: w.sum() ** 2 / (w ** 2).sum()  # noqa: E731 (Kish's effective sample size)
    assert values["sensitivity.iptw_ess_treatment"] == pytest.approx(ess(by_hand["iptw"][t == 1]), rel=1e-9)
    assert values["sensitivity.overlap_ess_control"] == pytest.approx(ess(by_hand["overlap"][t == 0]), rel=1e-9)
    assert values["sensitivity.iptw_weight_max"] == pytest.approx(by_hand["iptw"].max(), rel=1e-9)
    assert values["sensitivity.unweighted_smd_max"] > 0.1  # the groups differ before weighting (Table 1)
    lo, hi = values["sensitivity.iptw_pfs_hr_lo"], values["sensitivity.iptw_pfs_hr_hi"]
    assert lo < values["sensitivity.iptw_pfs_hr"] < hi
    assert all(key.startswith("sensitivity.") for key in values)
    hr_rows = result.tables["hazard_ratios"].rows
    assert [row.label for row in hr_rows[:4]] == ["Unadjusted, all enrolled", "PS-matched", "IPTW (ATE)",
                                                  "Overlap weights (ATO)"]
    iptw = [values[f"sensitivity.iptw_os_{stat}"] for stat in ("hr", "hr_lo", "hr_hi")]
    assert hr_rows[2].cells[1] == f"{iptw[0]:.3f} ({iptw[1]:.3f}–{iptw[2]:.3f})"
    for table in (result.tables["balance"], result.tables["hazard_ratios"]):
        for row in table.rows:
            for cell in row.cells:
                for number in re.findall(r"\d+\.(\d+)", cell):
                    assert len(number) <= 3, (table.name, cell)
    texts = result.inputs["texts"]
    # this cohort: no clear OS difference and a higher PFS hazard with sorafenib, whichever the adjustment
    assert texts["weighting_verdict_os"] == ("For overall survival, matching, IPTW and overlap weights all show no "
                                             "clear difference (95% confidence intervals): weighting and matching "
                                             "agree.")
    assert texts["weighting_verdict_pfs"] == (f"For progression-free survival, matching, IPTW and overlap weights all "
                                              f"show a higher hazard with {study.control} (95% confidence intervals): "
                                              "weighting and matching agree.")
    # IPTW worsens the balance of extrahepatic metastasis (issue 24): the text says so, from the table's SMDs
    balance = result.tables["balance_frame"]
    worse = balance[(balance["smd_iptw"] > balance["smd_unweighted"]) & (balance["smd_iptw"] >= 0.1)].index
    assert "extrahepatic_metastasis" in worse
    text = texts["weighting_balance_text"]
    assert text.startswith("IPTW worsens the balance of ")
    assert (f"extrahepatic metastasis (SMD {balance.loc['extrahepatic_metastasis', 'smd_unweighted']:.3f} → "
            f"{balance.loc['extrahepatic_metastasis', 'smd_iptw']:.3f})") in text
    assert text.count("SMD ") == len(worse) and "19.7 of 40 lenvatinib patients" in text
    assert "Overlap" not in text  # overlap weights balance every covariate exactly
    figures = weighting_figures(study, result)
    assert set(figures) == {"weighted_love_plot", "weighted_km_iptw", "weighted_km_overlap"}
    assert panel_letters(figures["weighted_km_iptw"]) == ["A", "B"]
    alts = weighting_alt_texts(study, result)
    assert f"HR {iptw[0]:.3f} (robust 95% CI {iptw[1]:.3f}–{iptw[2]:.3f})" in alts["weighted_km_iptw"]


def test_section_with_no_pair_and_no_event_says_not_estimable():
    raw = read_cohort(REPO_ROOT / "data" / "synthetic_cohort.csv")
    study = build_study(raw, StudyConfig().replace(**{"matching.caliper": 1e-7}))
    result = weighting.compute(study)
    matched_row = result.tables["hazard_ratios"].rows[1]
    assert matched_row.label == "PS-matched" and matched_row.cells[1] == "not estimable"
    assert result.inputs["texts"]["weighting_verdict_os"].endswith("weighting cannot be compared with matching here.")
    # no death among the controls: the weighted HR of OS has no finite estimate
    data = study.data.copy()
    data.loc[data["group"] == study.control, "os_event"] = 0
    study.data = data
    values = weighting.compute(study).values
    assert math.isnan(values["sensitivity.iptw_os_hr"])
    assert values.spec("sensitivity.iptw_os_hr").kind.value == "ratio"
    assert np.isfinite(values["sensitivity.iptw_pfs_hr"])
    weighting_figures(study, weighting.compute(study))  # draws, saying "HR not estimable"


def test_verdict_is_agreement_when_every_interval_reads_the_same(section):
    study, result = section
    same = {"Unadjusted, all enrolled": (2.0, 1.2, 3.3, 0.01), "PS-matched": (1.9, 1.1, 3.2, 0.02),
            "IPTW (ATE)": (1.8, 1.05, 3.1, 0.03), "Overlap weights (ATO)": (1.7, 1.02, 2.8, 0.04)}
    lower = {label: (1 / hr, 1 / hi, 1 / lo, p) for label, (hr, lo, hi, p) in same.items()}
    texts = weighting.verdict_texts(study, {"os": same, "pfs": lower})
    assert texts["weighting_verdict_os"].endswith(f"all show a higher hazard with {study.control} (95% confidence "
                                                  "intervals): weighting and matching agree.")
    assert texts["weighting_verdict_pfs"].endswith("weighting and matching agree.")
    assert f"all show a lower hazard with {study.control}" in texts["weighting_verdict_pfs"]
    # matching's interval crosses 1 while the weighted ones do not: they disagree, and the text says how
    apart = {**same, "PS-matched": (1.2, 0.7, 2.0, 0.4)}
    texts = weighting.verdict_texts(study, {"os": apart, "pfs": same})
    assert texts["weighting_verdict_os"].endswith("weighting and matching do not agree.")
    assert "no clear difference after matching" in texts["weighting_verdict_os"]


def test_balance_text_says_no_weighting_worsens_balance_only_when_none_does(section):
    study, result = section
    values = result.values
    balanced = type(values)()
    for key in values:
        balanced.add(key, 0.0 if "_smd_" in key and not key.startswith("sensitivity.unweighted") else values[key],
                     values.spec(key).kind)
    assert weighting.balance_texts(study, balanced)["weighting_balance_text"].startswith("No weighting leaves")
    assert weighting.balance_texts(study, values)["weighting_balance_text"].startswith("IPTW worsens")
