"""hcc_utils.stats.survival and hcc_utils.stats.descriptive against R (survival 3.5-3) and hand calculations.

Fixtures: tests/reference/survival_reference.json, made by tests/reference/survival_reference.R
from tests/reference/survival_data.csv. R is not needed to run these tests.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_utils.stats.descriptive import descriptive_quantile, sas5_order_statistics
from hcc_utils.stats.survival import (followup_summary, kaplan_meier, km_quantile, km_quantile_times,
                                      km_steps, km_summary, logrank_arrays, logrank_test, numbers_at_risk)

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "survival_reference.json").read_text())
DATA = pd.read_csv(REF_DIR / "survival_data.csv")
RTOL = 1e-6


def r_array(values) -> np.ndarray:
    """R values from JSON: null (NA) -> NaN."""
    return np.array([np.nan if v is None else v for v in np.atleast_1d(values)], dtype=float)


def assert_matches_r(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), r_array(expected),
                               rtol=rtol, atol=1e-12, equal_nan=True)


def subset(name: str) -> pd.DataFrame:
    if name == "all":
        return DATA
    if name.startswith("arm"):
        return DATA[DATA["arm"] == int(name[3:])]
    return DATA[DATA["group"] == name]


KM_CURVES = ["all", "A", "B", "C", "D", "E", "arm0", "arm1"]


# --------------------------------------------------------------------------- Kaplan-Meier
@pytest.mark.parametrize("name", KM_CURVES)
def test_km_matches_R_survfit(name):
    ref = REF["km"][name]
    sub = subset(name)
    tab = kaplan_meier(sub["time"], sub["status"]).table
    assert_matches_r(tab["time"], ref["time"])
    np.testing.assert_array_equal(tab["n_risk"], ref["n_risk"])
    np.testing.assert_array_equal(tab["n_event"], ref["n_event"])
    np.testing.assert_array_equal(tab["n_censor"], ref["n_censor"])
    assert_matches_r(tab["survival"], ref["surv"])
    assert_matches_r(tab["std_err_log"], ref["std_err_fit"])        # fit$std.err (of -log S)
    assert_matches_r(tab["std_err"], ref["std_err_summary"])        # summary(fit)$std.err (of S)
    assert_matches_r(tab["ci_lower"], ref["lower"])
    assert_matches_r(tab["ci_upper"], ref["upper"])


def test_km_hand_calculated_five_patients():
    # time  event  n_risk  S(t)                 Greenwood sum d/(n(n-d))
    #  1     1      5      4/5       = 0.8      1/(5*4) = 0.05
    #  2     1,0    4      0.8*3/4   = 0.6      + 1/(4*3) -> 0.133333
    #  3     1      2      0.6*1/2   = 0.3      + 1/(2*1) -> 0.633333
    #  5     0      1      0.3                  unchanged
    # SE of S at t=1: 0.8*sqrt(0.05) = 0.178885; median: first S <= 0.5 -> t = 3; q1: S <= 0.75 -> 2
    km = kaplan_meier([1, 2, 2, 3, 5], [1, 1, 0, 1, 0])
    tab = km.table
    np.testing.assert_array_equal(tab["time"], [1, 2, 3, 5])
    np.testing.assert_array_equal(tab["n_risk"], [5, 4, 2, 1])
    np.testing.assert_array_equal(tab["n_censor"], [0, 1, 0, 1])
    np.testing.assert_allclose(tab["survival"], [0.8, 0.6, 0.3, 0.3], rtol=1e-12)
    np.testing.assert_allclose(tab["std_err_log"] ** 2, [0.05, 0.05 + 1 / 12, 0.05 + 1 / 12 + 0.5,
                                                          0.05 + 1 / 12 + 0.5], rtol=1e-12)
    assert tab["std_err"][0] == pytest.approx(0.8 * np.sqrt(0.05), rel=1e-12)
    z = 1.959963984540054
    assert tab["ci_lower"][0] == pytest.approx(np.exp(np.log(0.8) - z * np.sqrt(0.05)), rel=1e-12)
    assert tab["ci_upper"][0] == pytest.approx(min(1.0, np.exp(np.log(0.8) + z * np.sqrt(0.05))))
    assert km_quantile(km, 0.5).estimate == 3.0
    assert km_quantile(km, 0.25).estimate == 2.0
    assert np.isnan(km_quantile(km, 0.75).estimate)         # S never reaches 0.25
    assert (km.n, km.events) == (5, 3)


@pytest.mark.parametrize("name", KM_CURVES)
def test_km_quantiles_match_R_quantile_survfit(name):
    ref = REF["km"][name]
    sub = subset(name)
    km = kaplan_meier(sub["time"], sub["status"])
    q = [km_quantile(km, p) for p in ref["probs"]]
    assert_matches_r([x.estimate for x in q], ref["quantile"])
    assert_matches_r([x.ci_low for x in q], ref["quantile_lower"])
    assert_matches_r([x.ci_high for x in q], ref["quantile_upper"])


def test_km_midpoint_rule_on_flat_segment_as_R():
    # group D: 12 patients, deaths at 1..6 -> S = 6/12 = 0.5 on [6, 8) (censoring at 7, next
    # death at 8); S = 9/12 = 0.75 on [3, 4). Floating point products need R's tolerance.
    d = subset("D")
    km = kaplan_meier(d["time"], d["status"])
    assert km_quantile(km, 0.5).estimate == 7.0          # (6 + 8) / 2
    assert km_quantile(km, 0.25).estimate == 3.5         # (3 + 4) / 2
    # group E: S = 0.5 on the last segment [2, 4]: quantile.survfit -> (2 + 4)/2, print.survfit -> 2
    e = subset("E")
    km_e = kaplan_meier(e["time"], e["status"])
    assert km_quantile(km_e, 0.5).estimate == 3.0
    assert km_quantile(km_e, 0.5, rule="print").estimate == 2.0


def test_km_median_not_reached_is_nan_not_inf():
    c = subset("C")
    q = km_quantile(kaplan_meier(c["time"], c["status"]), 0.5)
    assert np.isnan(q.estimate) and np.isnan(q.ci_low) and np.isnan(q.ci_high)
    assert REF["km"]["C"]["quantile"][1] is None


def test_km_summary_matches_R_print_survfit_table():
    ref = REF["km_table"]
    out = km_summary(DATA, "time", "status", "group", rule="print")
    assert list(out["group"]) == ref["group"]
    np.testing.assert_array_equal(out["n"], ref["n"])
    np.testing.assert_array_equal(out["events"], ref["events"])
    assert_matches_r(out["median"], ref["median"])
    assert_matches_r(out["median_ci_low"], ref["lcl"])
    assert_matches_r(out["median_ci_high"], ref["ucl"])


def test_km_summary_quartiles_match_R_quantile_survfit():
    out = km_summary(DATA, "time", "status", "group").set_index("group")
    for g in ["A", "B", "C", "D", "E"]:
        ref = REF["km"][g]
        assert_matches_r(out.loc[g, ["q1", "median", "q3"]].to_numpy(dtype=float), ref["quantile"])
        assert_matches_r(out.loc[g, ["median_ci_low", "median_ci_high"]].to_numpy(dtype=float),
                         [ref["quantile_lower"][1], ref["quantile_upper"][1]])
        assert_matches_r(out.loc[g, ["q1_ci_low", "q3_ci_low"]].to_numpy(dtype=float),
                         [ref["quantile_lower"][0], ref["quantile_lower"][2]])
        assert_matches_r(out.loc[g, ["q1_ci_high", "q3_ci_high"]].to_numpy(dtype=float),
                         [ref["quantile_upper"][0], ref["quantile_upper"][2]])
    overall = km_summary(DATA, "time", "status")
    assert overall["group"].tolist() == ["all"]
    assert_matches_r(overall[["q1", "median", "q3"]].to_numpy(dtype=float)[0], REF["km"]["all"]["quantile"])


def test_numbers_at_risk_matches_R_summary_times():
    ref = REF["numbers_at_risk"]
    all_ = numbers_at_risk(DATA["time"], DATA["status"], ref["times"])
    np.testing.assert_array_equal(all_.to_numpy(), ref["all"])
    arm1 = DATA[DATA["arm"] == 1]
    np.testing.assert_array_equal(numbers_at_risk(arm1["time"], arm1["status"], ref["times"]),
                                  ref["arm1"])
    # at risk at t means time >= t (a patient censored at exactly t is still counted)
    assert numbers_at_risk([1, 2, 2, 3], [1, 0, 1, 0], [0, 2, 2.5, 3, 4]).tolist() == [4, 3, 1, 1, 0]


# --------------------------------------------------------------------------- log-rank
LOGRANK_CASES = [("arm", "arm", None), ("group", "group", None),
                 ("arm_strata_stratum", "arm", "stratum"), ("arm_strata_pair", "arm", "pair_id"),
                 ("group_strata_stratum", "group", "stratum")]


@pytest.mark.parametrize("key,group_col,strata_col", LOGRANK_CASES)
def test_logrank_matches_R_survdiff(key, group_col, strata_col):
    ref = REF["logrank"][key]
    res = logrank_test(DATA["time"], DATA["status"], DATA[group_col],
                       None if strata_col is None else DATA[strata_col])
    assert res.chisq == pytest.approx(ref["chisq"], rel=RTOL)
    assert res.p == pytest.approx(ref["p"], rel=RTOL)
    assert res.df == ref["df"]
    assert [str(g) for g in res.table["group"]] == ref["groups"]
    np.testing.assert_array_equal(res.table["n"], ref["n"])
    assert_matches_r(res.table["observed"], ref["observed"])
    assert_matches_r(res.table["expected"], ref["expected"])
    assert_matches_r(res.var.ravel(), np.ravel(ref["var"]))
    assert res.stratified == (strata_col is not None)


def test_logrank_hand_calculated():
    # A: events at 1, 3; B: events at 2, 4.  Per event time (n, n_A, d): E_A = d n_A / n,
    # V = d (n - d) n_A (n - n_A) / (n^2 (n - 1)):
    #   t=1 (4, 2, 1): E 1/2, V 1/4;  t=2 (3, 1, 1): E 1/3, V 2/9;  t=3 (2, 1, 1): E 1/2, V 1/4;
    #   t=4 (1, 0, 1): E 0, V 0.   O_A = 2, E_A = 4/3, V = 13/18, chi2 = (2/3)^2 / (13/18) = 8/13
    res = logrank_test([1, 3, 2, 4], [1, 1, 1, 1], ["A", "A", "B", "B"])
    assert res.chisq == pytest.approx(8 / 13, rel=1e-12)
    assert res.df == 1
    assert res.table["expected"].tolist() == pytest.approx([4 / 3, 8 / 3], rel=1e-12)
    assert res.var[0, 0] == pytest.approx(13 / 18, rel=1e-12)
    assert res.p == pytest.approx(0.4327676, rel=1e-6)    # R: pchisq(8/13, 1, lower.tail = FALSE)


def test_logrank_errors():
    with pytest.raises(ValueError, match="at least two groups"):
        logrank_test([1, 2], [1, 1], ["A", "A"])
    with pytest.raises(ValueError, match="singular"):         # each stratum holds one group
        logrank_test([1, 2, 3, 4], [1, 1, 1, 1], ["A", "A", "B", "B"], ["s1", "s1", "s2", "s2"])
    with pytest.raises(ValueError, match="group must have the same length"):
        logrank_test([1, 2, 3], [1, 1, 1], ["A", "B"])


# --------------------------------------------------------------------------- follow-up, quantiles
def test_followup_matches_R():
    ref = REF["followup"]
    obs = followup_summary(DATA["time"], DATA["status"], "observed")
    assert_matches_r([obs.q1, obs.median, obs.q3], ref["observed_type2"])
    rev = followup_summary(DATA["time"], DATA["status"], "reverse_km")
    assert_matches_r([rev.q1, rev.median, rev.q3], ref["reverse_km"])
    assert obs.n == rev.n == len(DATA)
    with pytest.raises(ValueError, match="method"):
        followup_summary(DATA["time"], DATA["status"], "median")


def test_descriptive_quantile_matches_R_quantile_type2_and_type7():
    ref = REF["quantile"]
    assert_matches_r(descriptive_quantile(ref["x"], ref["probs"], "sas5"), ref["type2"])
    assert_matches_r(descriptive_quantile(ref["x"], ref["probs"], "r7"), ref["type7"])
    # missing values are dropped (R na.rm = TRUE; size has 4 NA)
    assert_matches_r(descriptive_quantile(DATA["size"], ref["probs"]), ref["size_type2"])
    assert_matches_r(descriptive_quantile(DATA["size"], ref["probs"], "r7"), ref["size_type7"])
    assert_matches_r(descriptive_quantile(DATA["time"], [0.25, 0.5, 0.75], "r7"),
                     REF["followup"]["observed_type7"])


def test_descriptive_quantile_hand_calculated():
    x = [4, 1, 3, 2]
    # SAS PCTLDEF=5: n*q = 1 (integer) -> average of x(1), x(2) = 1.5; median (2+3)/2
    assert descriptive_quantile(x, 0.25) == 1.5
    assert descriptive_quantile(x, 0.5) == 2.5
    assert descriptive_quantile(x, 0.3) == 2.0          # n*q = 1.2 -> x(2)
    assert descriptive_quantile(x, 0.25, "r7") == 1.75  # 1 + 3*0.25 = 1.75 -> between x(1), x(2)
    assert np.isnan(descriptive_quantile([np.nan], 0.5))
    with pytest.raises(ValueError, match="method"):
        descriptive_quantile(x, 0.5, "sas4")
    with pytest.raises(ValueError, match="q:"):
        descriptive_quantile(x, 1.5)


# --------------------------------------------------------------------------- input checks
@pytest.mark.parametrize("time,event,match", [
    ([1, -2, 3], [1, 0, 1], "time: negative"),
    ([1, np.nan, 3], [1, 0, 1], "time: 1 missing"),
    ([1, 2, 3], [1, 2, 1], "event: must be 0"),
    ([1, 2, 3], [1, np.nan, 1], "event: must be 0"),
    ([1, 2, 3], [1, 0], "same length"),
    ([], [], "no observations"),
])
def test_bad_survival_input_raises_naming_argument(time, event, match):
    with pytest.raises(ValueError, match=match):
        kaplan_meier(time, event)
    with pytest.raises(ValueError, match=match):
        followup_summary(time, event)


def test_bad_quantile_arguments():
    km = kaplan_meier([1, 2, 3], [1, 1, 0])
    with pytest.raises(ValueError, match="p: must lie"):
        km_quantile(km, 1.5)
    with pytest.raises(ValueError, match="rule"):
        km_quantile(km, 0.5, rule="sas")
    with pytest.raises(ValueError, match="conf_level"):
        kaplan_meier([1, 2], [1, 1], conf_level=95)
    with pytest.raises(ValueError, match="at_times"):
        numbers_at_risk([1, 2], [1, 1], [-1])
    with pytest.raises(KeyError, match="os_months"):
        km_summary(DATA, "os_months", "status")


# --------------------------------------------------------------------------- array entry points (calibration)
@pytest.mark.parametrize("name", KM_CURVES)
def test_km_steps_match_R_survfit(name):
    ref = REF["km"][name]
    sub = subset(name)
    steps = km_steps(sub["time"].to_numpy(float), sub["status"].to_numpy())
    assert_matches_r(steps.time, ref["time"])
    np.testing.assert_array_equal(steps.n_risk, ref["n_risk"])
    np.testing.assert_array_equal(steps.n_event, ref["n_event"])
    np.testing.assert_array_equal(steps.n_censor, ref["n_censor"])
    assert_matches_r(steps.survival, ref["surv"])


@pytest.mark.parametrize("name", KM_CURVES)
def test_km_quantile_times_match_R_quantile_survfit(name):
    ref = REF["km"][name]
    sub = subset(name)
    t, e = sub["time"].to_numpy(float), sub["status"].to_numpy()
    fast = km_quantile_times(t, e, ref["probs"])
    assert_matches_r(fast, ref["quantile"])
    km = kaplan_meier(t, e)
    for rule in ("quantile", "print"):
        slow = [km_quantile(km, p, rule).estimate for p in ref["probs"]]
        np.testing.assert_array_equal(km_quantile_times(t, e, ref["probs"], rule=rule), slow)


def test_km_quantile_times_equal_km_quantile_with_ties_and_plateaus():
    # random curves with tied times, censorings tied with deaths, and survival exactly 0.75 / 0.5 / 0.25 on
    # flat segments (middle and last), for both R rules: the same numbers as km_quantile
    rng = np.random.default_rng(20240701)
    probs = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1, 1 / 3]
    cases = [([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 1, 1, 0, 0, 0, 0]),       # S = 0.5 on the last segment
             ([1, 2, 3, 4, 4, 5, 6, 7], [1, 1, 0, 1, 0, 1, 1, 0]),
             ([2, 2, 2, 2], [1, 1, 0, 0])]
    for _ in range(400):
        n = int(rng.integers(2, 40))
        cases.append((rng.integers(1, 10, n), (rng.uniform(size=n) < rng.uniform(0.3, 1)).astype(int)))
    plateaus = 0
    for t, e in cases:
        t, e = np.asarray(t, dtype=float), np.asarray(e)
        km = kaplan_meier(t, e)
        plateaus += np.isin(np.round(km.survival, 12), [0.25, 0.5, 0.75]).any()
        for rule in ("quantile", "print"):
            slow = [km_quantile(km, p, rule).estimate for p in probs]
            np.testing.assert_array_equal(km_quantile_times(t, e, probs, rule=rule), slow)
    assert plateaus > 50


@pytest.mark.parametrize("key,group_col,strata_col", LOGRANK_CASES)
def test_logrank_arrays_match_R_survdiff(key, group_col, strata_col):
    ref = REF["logrank"][key]
    t, e = DATA["time"].to_numpy(float), DATA["status"].to_numpy()
    codes, levels = pd.factorize(DATA[group_col], sort=True)
    strata = None if strata_col is None else pd.factorize(DATA[strata_col], sort=True)[0]
    core = logrank_arrays(t, e, codes, len(levels), strata)
    assert core.chisq == pytest.approx(ref["chisq"], rel=RTOL)
    assert core.p == pytest.approx(ref["p"], rel=RTOL)
    assert core.df == ref["df"]
    assert_matches_r(core.observed, ref["observed"])
    assert_matches_r(core.expected, ref["expected"])
    assert_matches_r(core.var.ravel(), np.ravel(ref["var"]))
    # the core of logrank_test: the same numbers
    res = logrank_test(t, e, DATA[group_col], None if strata_col is None else DATA[strata_col])
    assert (core.chisq, core.df, core.p) == (res.chisq, res.df, res.p)
    np.testing.assert_array_equal(core.expected, res.table["expected"])


def test_logrank_arrays_singular_variance_is_nan():
    core = logrank_arrays(np.array([1.0, 2, 3, 4]), np.array([1, 1, 1, 1]), np.array([0, 0, 1, 1]), 2,
                          np.array([0, 0, 1, 1]))
    assert np.isnan(core.chisq) and np.isnan(core.p)


def test_sas5_order_statistics_give_R_quantile_type2():
    ref = REF["quantile"]
    xs = np.sort(np.asarray(ref["x"], dtype=float))
    lo, hi = sas5_order_statistics(xs.size, ref["probs"])
    assert_matches_r((xs[lo] + xs[hi]) / 2, ref["type2"])
    # n = 4: q = 0.25 averages the 1st and 2nd order statistics, q = 0.3 takes the 2nd (0-based 0, 1 and 1)
    assert [int(v[0]) for v in sas5_order_statistics(4, 0.25)] == [0, 1]
    assert [int(v[0]) for v in sas5_order_statistics(4, 0.3)] == [1, 1]


# --------------------------------------------------------------------------- speed paths (issue 14)
def _tied_sample(n: int, seed: int, continuous: bool = False):
    """Times in whole days (tied: counted by hashing) or continuous (mostly distinct: counted by sorting)."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    days = rng.exponential(200 + 100 * group)
    time = (days if continuous else np.ceil(days)) / 30.4375
    return time, (rng.random(n) < 0.7).astype(int), group


@pytest.mark.parametrize("continuous", [False, True])
def test_km_steps_by_hashing_or_sorting_equal_the_counting_definition(continuous):
    for seed, n in [(1, 1), (2, 7), (3, 500), (4, 20000)]:
        t, e, _ = _tied_sample(n, seed, continuous)
        if continuous and n > 1:
            t[:5] = t[5]                                        # a few ties among distinct times
        steps = km_steps(t, e)
        uniq, inv = np.unique(t, return_inverse=True)           # the definition, by counting
        n_at = np.bincount(inv)
        n_event = np.bincount(inv, weights=e, minlength=uniq.size).astype(np.int64)
        n_risk = np.cumsum(n_at[::-1])[::-1]
        np.testing.assert_array_equal(steps.time, uniq)
        np.testing.assert_array_equal(steps.n_risk, n_risk)
        np.testing.assert_array_equal(steps.n_event, n_event)
        np.testing.assert_array_equal(steps.n_censor, n_at - n_event)
        np.testing.assert_array_equal(steps.survival, np.cumprod((n_risk - n_event) / n_risk))
    empty = km_steps(np.array([]), np.array([]))
    assert empty.time.size == 0 and empty.survival.size == 0


@pytest.mark.parametrize("continuous", [False, True])
def test_unstratified_logrank_equals_the_single_stratum_path_to_the_bit(continuous):
    for seed, n in [(5, 40), (6, 3000)]:
        t, e, g = _tied_sample(n, seed, continuous)
        plain = logrank_arrays(t, e, g, 3)
        one_stratum = logrank_arrays(t, e, g, 3, np.zeros(n, dtype=np.int64))
        for a, b in zip(plain, one_stratum):
            np.testing.assert_array_equal(a, b)


def test_logrank_group_labels_of_any_dtype_sort_by_value():
    t, e, g = _tied_sample(300, 8)
    names = np.array(["sorafenib", "lenvatinib", "other"])[g]
    expected = logrank_test(t, e, names.astype(object))
    # a categorical whose categories are not in sorted order, and a plain string array
    for labels in (pd.Categorical(names, categories=["sorafenib", "other", "lenvatinib"]), names,
                   pd.Series(names, dtype="category"), list(names)):
        res = logrank_test(t, e, labels)
        assert res.table["group"].tolist() == ["lenvatinib", "other", "sorafenib"]
        np.testing.assert_array_equal(res.table["expected"], expected.table["expected"])
        assert res.chisq == expected.chisq
    with pytest.raises(ValueError, match="group: missing labels"):
        logrank_test(t, e, pd.Categorical(np.where(g == 0, None, names)))
