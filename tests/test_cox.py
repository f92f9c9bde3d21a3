"""hcc_utils.stats.cox against R coxph (survival 3.5-3) and against hand/numerical calculations.

Fixtures: tests/reference/survival_reference.json (tests/reference/survival_reference.R).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_utils.stats.cox import (CoxConvergenceError, CoxConvergenceWarning, _RiskSets, cox_arrays, cox_model,
                                 fit_cox, univariable_cox_arrays)
from hcc_utils.stats.cox_screen import multivariable_from_univariable, univariable_cox

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "survival_reference.json").read_text())["cox"]
DATA = pd.read_csv(REF_DIR / "survival_data.csv")
RTOL = 1e-6


def r_array(values) -> np.ndarray:
    """R values from JSON: null (NA, or Inf for an infinite CI limit) -> NaN."""
    return np.array([np.nan if v is None else v for v in np.atleast_1d(values)], dtype=float)


def assert_table_matches_r(tab: pd.DataFrame, ref: dict, robust: bool = False):
    assert tab["covariate"].tolist() == list(np.atleast_1d(ref["covariates"]))
    for col in ["coef", "se", "naive_se", "hr", "ci_low", "ci_high", "p"]:
        np.testing.assert_allclose(tab[col], r_array(ref[col]), rtol=RTOL, atol=0, err_msg=col)
    if robust:
        np.testing.assert_allclose(tab["robust_se"], r_array(ref["se"]), rtol=RTOL, atol=0)
    else:
        assert tab["robust_se"].isna().all()
    np.testing.assert_allclose([tab["loglik_null"][0], tab["loglik"][0]], ref["loglik"], rtol=RTOL)
    assert tab["n"][0] == ref["n"] and tab["events"][0] == ref["events"]
    assert tab["converged"].all() and not tab["infinite_coef"].any()


COVS = ["arm", "age", "x_bin", "size"]


def test_cox_efron_matches_R_coxph():
    # coxph(Surv(time, status) ~ arm + age + x_bin + size, ties = "efron"); 4 rows with NA size dropped
    assert_table_matches_r(fit_cox(DATA, "time", "status", COVS), REF["efron"])
    assert cox_model(DATA, "time", "status", COVS).iterations == REF["efron"]["iter"]


def test_cox_breslow_matches_R_coxph():
    assert_table_matches_r(fit_cox(DATA, "time", "status", COVS, ties="breslow"), REF["breslow"])


def test_cox_robust_se_matches_R_coxph_cluster():
    # coxph(..., cluster = pair_id): sandwich from dfbeta residuals summed within clusters
    tab = fit_cox(DATA, "time", "status", ["arm", "age", "x_bin"], cluster_col="pair_id")
    assert_table_matches_r(tab, REF["efron_cluster"], robust=True)
    tab = fit_cox(DATA, "time", "status", ["arm", "size"], cluster_col="stratum")
    assert_table_matches_r(tab, REF["efron_cluster_stratum"], robust=True)


def test_univariable_cox_matches_R_coxph():
    tab = univariable_cox(DATA, "time", "status", COVS)
    assert tab["covariate"].tolist() == COVS
    for i, cov in enumerate(COVS):
        assert_table_matches_r(tab.iloc[[i]].reset_index(drop=True), REF["univariable"][cov])


def test_multivariable_from_univariable_matches_R():
    candidates = ["arm", "age", "x_bin", "size", "x_sep"]
    with pytest.warns(CoxConvergenceWarning, match="x_sep"):
        sel = multivariable_from_univariable(DATA, "time", "status", candidates, selection_p=0.05)
    assert sel.selected == REF["selection"]["selected"] == ["arm", "age", "x_bin"]
    np.testing.assert_allclose(sel.univariable["p"], REF["selection"]["univariable_p"], rtol=RTOL)
    assert_table_matches_r(sel.multivariable, REF["multivariable"])
    assert sel.univariable["infinite_coef"].tolist() == [False, False, False, False, True]
    none = multivariable_from_univariable(DATA, "time", "status", ["size"], selection_p=0.05)
    assert none.selected == [] and none.multivariable.empty


def test_monotone_likelihood_warns_naming_covariate():
    # x_sep = 1 only in censored patients: R says "Loglik converged before variable 2;
    # coefficient may be infinite" and returns beta = -18.27 (se 1872).
    ref = REF["separation"]
    assert "Loglik converged before variable" in ref["warning"]
    with pytest.warns(CoxConvergenceWarning, match=r"'x_sep'.*infinite.*no event in level 1"):
        tab = fit_cox(DATA, "time", "status", ["age", "x_sep"])
    assert tab["infinite_coef"].tolist() == [False, True]
    # age is unaffected and matches R; x_sep follows R's iterations (to ~1e-8 here)
    np.testing.assert_allclose(tab["coef"], ref["coef"], rtol=RTOL)
    np.testing.assert_allclose(tab["se"], ref["se"], rtol=RTOL)
    np.testing.assert_allclose(tab["p"], ref["p"], rtol=RTOL)
    assert np.isinf(tab["ci_high"][1]) and ref["ci_high"][1] is None     # R: Inf
    with pytest.raises(CoxConvergenceError, match="x_sep"):
        cox_model(DATA, "time", "status", ["age", "x_sep"], on_infinite="raise")


def test_no_warning_for_a_regular_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_cox(DATA, "time", "status", COVS)


# --------------------------------------------------------------------------- hand / numerical checks
def test_null_loglik_hand_calculated_efron_and_breslow():
    # times 1, 1, 2, 3 with events 1, 1, 1, 0. At beta = 0 every risk score is 1:
    #   Efron:   t=1 two deaths among 4 -> -log(4) - log(4 - 1); t=2 one among 2 -> -log(2)  = -log 24
    #   Breslow: t=1 -> -2 log(4); t=2 -> -log(2)                                           = -log 32
    df = pd.DataFrame({"t": [1, 1, 2, 3], "e": [1, 1, 1, 0], "x": [0.0, 1.0, 1.0, 0.0]})
    assert cox_model(df, "t", "e", ["x"]).loglik_null == pytest.approx(-np.log(24), rel=1e-14)
    m = cox_model(df, "t", "e", ["x"], ties="breslow")
    assert m.loglik_null == pytest.approx(-np.log(32), rel=1e-14)


def test_three_patients_closed_form():
    # x = 1 dies at t=1 (risk set x = 1, 0, 1); x = 0 dies at t=2 (risk set x = 0, 1); x = 1 censored at 3.
    #   loglik(b) = [b - log(2 e^b + 1)] + [0 - log(e^b + 1)]
    #   score: 1 - 2u/(2u + 1) - u/(u + 1) = 0 with u = e^b  ->  u^2 = 1/2, b = -log(2)/2
    #   information: 2u/(2u + 1)^2 + u/(u + 1)^2
    df = pd.DataFrame({"t": [1.0, 2.0, 3.0], "e": [1, 1, 0], "x": [1.0, 0.0, 1.0]})
    m = cox_model(df, "t", "e", ["x"])
    u = np.sqrt(0.5)
    assert m.coef[0] == pytest.approx(-np.log(2) / 2, rel=1e-7)
    assert m.naive_var[0, 0] == pytest.approx(1 / (2 * u / (2 * u + 1) ** 2 + u / (u + 1) ** 2), rel=1e-7)
    assert m.loglik == pytest.approx(np.log(u) - np.log(2 * u + 1) - np.log(u + 1), rel=1e-12)
    assert m.loglik_null == pytest.approx(-np.log(3) - np.log(2), rel=1e-14)


def test_efron_score_and_information_equal_numerical_derivatives():
    sub = DATA.dropna()
    x = sub[COVS].to_numpy(float)
    rs = _RiskSets(sub["time"].to_numpy(float), sub["status"].to_numpy(), x, "efron")
    beta = np.array([0.3, 0.02, -0.4, 0.05])
    ll, u, imat, _ = rs.evaluate(beta)
    h = 1e-5
    num_u = np.array([(rs.evaluate(beta + h * np.eye(4)[j], False)[0]
                       - rs.evaluate(beta - h * np.eye(4)[j], False)[0]) / (2 * h) for j in range(4)])
    num_i = -np.array([(rs.evaluate(beta + h * np.eye(4)[j], False)[1]
                        - rs.evaluate(beta - h * np.eye(4)[j], False)[1]) / (2 * h) for j in range(4)])
    np.testing.assert_allclose(u, num_u, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(imat, num_i, rtol=1e-6, atol=1e-6)
    # score residuals add up to the score
    np.testing.assert_allclose(rs.score_residuals(beta).sum(axis=0), u, rtol=1e-10, atol=1e-10)


def test_cox_is_invariant_to_row_order():
    shuffled = DATA.sample(frac=1.0, random_state=1)
    a = fit_cox(DATA, "time", "status", COVS, cluster_col="pair_id")
    b = fit_cox(shuffled, "time", "status", COVS, cluster_col="pair_id")
    np.testing.assert_allclose(a[["coef", "se"]], b[["coef", "se"]], rtol=1e-10)


# --------------------------------------------------------------------------- input checks
def test_cox_bad_input_raises_naming_column():
    bad = DATA.copy()
    bad.loc[0, "time"] = -1
    with pytest.raises(ValueError, match="time: negative"):
        fit_cox(bad, "time", "status", ["age"])
    bad = DATA.copy()
    bad.loc[0, "status"] = 2
    with pytest.raises(ValueError, match="status: must be 0"):
        fit_cox(bad, "time", "status", ["age"])
    with pytest.raises(KeyError, match="ecog"):
        fit_cox(DATA, "time", "status", ["ecog"])
    with pytest.raises(ValueError, match="'group': must be numeric"):
        fit_cox(DATA, "time", "status", ["group"])
    with pytest.raises(ValueError, match="constant"):
        fit_cox(DATA.assign(one=1.0), "time", "status", ["one"])
    with pytest.raises(ValueError, match="linearly dependent"):
        fit_cox(DATA.assign(age2=2 * DATA["age"]), "time", "status", ["age", "age2"])
    with pytest.raises(ValueError, match="ties"):
        fit_cox(DATA, "time", "status", ["age"], ties="exact")
    with pytest.raises(ValueError, match="no events"):
        fit_cox(DATA.assign(status=0), "time", "status", ["age"])


# --------------------------------------------------------------------------- array entry points (calibration)
def _arrays(frame: pd.DataFrame, covs):
    return frame["time"].to_numpy(float), frame["status"].to_numpy(), frame[covs].to_numpy(float)


def test_batched_univariable_cox_matches_R_coxph():
    # all univariable models of the complete columns in one batch; size (4 NA) on its own complete cases
    for covs, frame in ((["arm", "age", "x_bin"], DATA), (["size"], DATA.dropna(subset=["size"]))):
        res = univariable_cox_arrays(*_arrays(frame, covs))
        for j, cov in enumerate(covs):
            ref = REF["univariable"][cov]
            np.testing.assert_allclose([res.coef[j], res.se[j], res.p[j]],
                                       r_array([ref["coef"], ref["se"], ref["p"]]), rtol=RTOL, atol=0, err_msg=cov)
            hr, low, high = (v[j] for v in res.hazard_ratios())
            np.testing.assert_allclose([hr, low, high], r_array([ref["hr"], ref["ci_low"], ref["ci_high"]]),
                                       rtol=RTOL, atol=0, err_msg=cov)
            # and the same numbers as cox_model for that column
            model = cox_model(frame, "time", "status", [cov])
            np.testing.assert_allclose([res.coef[j], res.se[j]], [model.coef[0], np.sqrt(model.var[0, 0])],
                                       rtol=1e-10, atol=0, err_msg=cov)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_arrays_match_R_coxph(ties):
    ref = REF[ties]
    res = cox_arrays(*_arrays(DATA.dropna(), COVS), ties=ties)
    np.testing.assert_allclose(res.coef, r_array(ref["coef"]), rtol=RTOL, atol=0)
    np.testing.assert_allclose(res.se, r_array(ref["se"]), rtol=RTOL, atol=0)
    np.testing.assert_allclose(res.p, r_array(ref["p"]), rtol=RTOL, atol=0)
    np.testing.assert_allclose(np.column_stack(res.hazard_ratios()),
                               np.column_stack([r_array(ref[k]) for k in ("hr", "ci_low", "ci_high")]), rtol=RTOL)
    tab = fit_cox(DATA, "time", "status", COVS, ties=ties)
    np.testing.assert_allclose(res.coef, tab["coef"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(res.p, tab["p"], rtol=1e-12, atol=0)


def test_cox_arrays_follow_R_on_monotone_likelihood():
    # x_sep has no event in level 1: R stops with a huge coefficient; the array fit gives R's numbers (no warning)
    ref = REF["separation"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = cox_arrays(*_arrays(DATA, ["age", "x_sep"]))
    np.testing.assert_allclose(res.coef, ref["coef"], rtol=RTOL)
    np.testing.assert_allclose(res.se, ref["se"], rtol=RTOL)


def test_cox_arrays_not_estimable_is_nan_without_warning():
    t, e, x = _arrays(DATA, ["age", "arm"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        collinear = cox_arrays(t, e, np.column_stack([x[:, 0], 2 * x[:, 0]]))
        uni = univariable_cox_arrays(t, e, np.column_stack([x, np.ones(len(t))]))
        none = cox_arrays(t, np.zeros_like(e), x)
    assert np.isnan(collinear.coef).all() and np.isnan(collinear.se).all() and np.isnan(collinear.p).all()
    assert np.isfinite(uni.coef[:2]).all() and np.isnan([uni.coef[2], uni.se[2], uni.p[2]]).all()
    assert np.isnan(none.coef).all()


def test_batched_cox_is_bit_identical_under_row_permutation():
    # rows are held in a canonical order (time, event, covariates): shuffled data give the same bits, ties included
    shuffled = DATA.sample(frac=1.0, random_state=3)
    for fit in (univariable_cox_arrays, cox_arrays):
        a, b = fit(*_arrays(DATA, ["arm", "age", "x_bin"])), fit(*_arrays(shuffled, ["arm", "age", "x_bin"]))
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)


# --------------------------------------------------------------------------- speed paths (issue 14)
def _ties_frame(n: int = 3000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"t": np.ceil(rng.exponential(300, n)) / 30.4375, "e": (rng.random(n) < 0.7).astype(int),
                          "a": rng.integers(0, 2, n), "b": rng.normal(size=n), "c": rng.integers(0, 3, n),
                          "d": rng.normal(60, 9, n).round()})
    frame.loc[rng.random(n) < 0.1, "c"] = np.nan       # complete cases differ from model to model
    return frame


def test_canonical_order_is_the_lexsort_of_time_event_covariates():
    from hcc_utils.stats.cox_core import _canonical_order
    rng = np.random.default_rng(3)
    n = 4000
    time = np.ceil(rng.exponential(20, n))
    event = (rng.random(n) < 0.6).astype(float)
    # binary, small integers, negative whole numbers, continuous with ties, all-distinct continuous (overflow path)
    x = np.stack([rng.integers(0, 2, n), rng.integers(0, 5, n), -rng.integers(0, 3, n),
                  rng.normal(size=n).round(1), rng.normal(size=n)], axis=1).astype(float)
    # the last two: a key too wide for the row number as last digit, then too wide for 63 bits (np.lexsort)
    for cols in ([0], [1, 0], [2, 3], [0, 1, 2, 3], [4, 3, 4], [4, 4, 4, 4], [4, 4, 4, 4, 4, 4]):
        sub = x[:, cols]
        expected = np.lexsort([sub[:, j] for j in range(len(cols) - 1, -1, -1)] + [event, time])
        np.testing.assert_array_equal(_canonical_order(time, event, sub[:, None, :])[0], expected)


def test_survival_order_reuse_gives_the_same_fit_to_the_bit():
    from hcc_utils.stats.cox import survival_order
    frame = _ties_frame()
    order = survival_order(frame, "t")
    for covariates in (["a"], ["c"], ["a", "b", "c", "d"]):
        for ties in ("efron", "breslow"):
            fresh = cox_model(frame, "t", "e", covariates, ties=ties)
            reused = cox_model(frame, "t", "e", covariates, ties=ties, survival_order=order)
            np.testing.assert_array_equal(reused.coef, fresh.coef)
            np.testing.assert_array_equal(reused.var, fresh.var)
            assert reused.loglik == fresh.loglik and reused.n == fresh.n
    screen = multivariable_from_univariable(frame, "t", "e", ["a", "b", "c", "d"], selection_p=0.9)
    for covariate in ["a", "b", "c", "d"]:
        single = fit_cox(frame, "t", "e", [covariate])
        row = screen.univariable[screen.univariable["covariate"] == covariate]
        np.testing.assert_array_equal(row[["coef", "se", "p"]].to_numpy()[0], single[["coef", "se", "p"]].to_numpy()[0])


def test_survival_order_of_another_frame_is_refused():
    from hcc_utils.stats.cox import survival_order
    frame = _ties_frame()
    other = frame.assign(t=frame["t"] + 1)
    with pytest.raises(ValueError, match="survival_order: made for another"):
        cox_model(frame, "t", "e", ["a"], survival_order=survival_order(other, "t"))
    with pytest.raises(ValueError, match="survival_order: made for another"):
        cox_model(frame.iloc[:100], "t", "e", ["a"], survival_order=survival_order(frame, "t"))


def test_rank_check_on_the_cross_product_decides_as_the_svd():
    from hcc_utils.stats.cox_core import _full_column_rank
    rng = np.random.default_rng(5)
    x = rng.normal(size=(5000, 3))
    cases = [x, np.column_stack([x, x[:, 0] + 2 * x[:, 1]]),                  # exactly collinear
             np.column_stack([x, x[:, 0] + 1e-7 * rng.normal(size=5000)]),    # nearly: decided by the SVD
             np.column_stack([x, rng.integers(0, 2, 5000)])]
    for design in cases:
        xc = design - design.mean(axis=0)
        assert _full_column_rank(xc) == (np.linalg.matrix_rank(xc) == xc.shape[1])
    frame = _ties_frame().dropna()
    with pytest.raises(ValueError, match="linearly dependent"):
        cox_model(frame.assign(z=frame["a"] + frame["c"]), "t", "e", ["a", "c", "z"])


def test_radix_orders_are_the_lexsort_order():
    # the 16-bit radix paths of the canonical order give np.lexsort's permutation (time, event, covariates, row)
    from hcc_utils.stats.cox_core import _canonical_order
    rng = np.random.default_rng(11)
    n = 3000
    event = rng.integers(0, 2, n).astype(float)
    for n_times, n_cov in ((50, 1), (400, 8), (10**6, 1)):       # one 16-bit key; two passes; the 64-bit key
        time = rng.integers(0, n_times, n).astype(float)
        x = rng.integers(0, 2, (n, 1, n_cov)).astype(float)
        expected = np.lexsort([x[:, 0, j] for j in range(n_cov - 1, -1, -1)] + [event, time])
        np.testing.assert_array_equal(_canonical_order(time, event, x)[0], expected)


def test_large_fits_sum_a_covariate_at_a_time_to_the_same_bits(monkeypatch):
    # above _SMALL elements the per-time sums run a column at a time: the fit is bit-identical to the one-bincount path
    from hcc_utils.stats import cox_core
    rng = np.random.default_rng(2)
    n, p = 40_000, 8
    frame = pd.DataFrame(rng.integers(0, 2, (n, p)).astype(float), columns=[f"x{j}" for j in range(p)])
    frame["t"] = rng.integers(1, 300, n).astype(float)
    frame["e"] = rng.integers(0, 2, n)
    covs = [f"x{j}" for j in range(p)]
    assert n * p > cox_core._SMALL
    large = cox_model(frame, "t", "e", covs, cluster_col="x0")
    monkeypatch.setattr(cox_core, "_SMALL", 2**40)
    small = cox_model(frame, "t", "e", covs, cluster_col="x0")
    for a, b in ((large.coef, small.coef), (large.naive_var, small.naive_var), (large.robust_var, small.robust_var)):
        np.testing.assert_array_equal(a, b)


def test_a_screen_asked_to_degrades_a_constant_covariate_to_a_not_estimable_row():
    frame = _ties_frame().assign(constant=1.0)
    with pytest.raises(ValueError, match=r"covariates \['constant'\]: constant among the complete cases"):
        univariable_cox(frame, "t", "e", ["a", "constant", "b"])
    table = univariable_cox(frame, "t", "e", ["a", "constant", "b"], not_estimable=True)
    assert table["covariate"].tolist() == ["a", "constant", "b"]
    row = table.iloc[1]
    assert np.isnan(row[["coef", "se", "hr", "ci_low", "ci_high", "p"]].astype(float)).all()
    assert row["n"] == len(frame) and row["events"] == int(frame["e"].sum())
    assert row["note"] == "covariates ['constant']: constant among the complete cases"
    for index, covariate in ((0, "a"), (2, "b")):      # the other rows are the models' own, to the bit
        single = fit_cox(frame, "t", "e", [covariate])
        np.testing.assert_array_equal(table.iloc[index][["coef", "se", "p"]].to_numpy(float),
                                      single[["coef", "se", "p"]].to_numpy(float)[0])
        assert table.iloc[index]["note"] == ""


def test_forced_covariates_enter_the_multivariable_model_and_a_collinear_one_makes_it_not_estimable():
    frame = _ties_frame()
    screen = multivariable_from_univariable(frame, "t", "e", ["a", "b", "c", "d"], selection_p=1e-12, forced=["c"])
    assert screen.selected == ["c"] and screen.forced == ["c"]
    np.testing.assert_array_equal(screen.multivariable["coef"].to_numpy(), fit_cox(frame, "t", "e", ["c"])["coef"])
    twin = frame.assign(c_twin=frame["c"])
    with pytest.raises(ValueError, match="linearly dependent"):
        multivariable_from_univariable(twin, "t", "e", ["c", "c_twin"], selection_p=1e-12, forced=["c", "c_twin"])
    screen = multivariable_from_univariable(twin, "t", "e", ["c", "c_twin"], selection_p=1e-12,
                                            forced=["c", "c_twin"], not_estimable=True)
    assert screen.multivariable["hr"].isna().all()
    assert set(screen.multivariable["note"]) == {"covariates ['c', 'c_twin']: linearly dependent (collinear) columns"}


def test_a_log_rank_test_without_an_event_is_not_estimable_when_asked():
    from hcc_utils.stats.logrank import logrank_test

    time, event, group = [1, 2, 3, 4], [0, 0, 0, 0], ["a", "a", "b", "b"]
    assert np.isnan(logrank_test(time, event, group).p)    # without asking: chi-square 0 on -1 df, as before
    result = logrank_test(time, event, group, not_estimable=True)
    assert np.isnan(result.chisq) and np.isnan(result.p) and result.df == 0
    with pytest.raises(ValueError, match="at least two groups"):
        logrank_test(time, [1, 0, 1, 0], ["a"] * 4)
    assert np.isnan(logrank_test(time, [1, 0, 1, 0], ["a"] * 4, not_estimable=True).p)
    events = [1, 0, 1, 1]
    assert logrank_test(time, events, group, not_estimable=True).p == logrank_test(time, events, group).p
