"""Propensity scores and nearest-neighbour matching against R glm() and MatchIt 4.5.1 (tests/reference)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_utils.stats.balance import balance_table
from hcc_utils.config import parse_config
from hcc_utils.stats.cox import cox_model
from hcc_utils.stats.matching import matched_set_weights, nearest_neighbor_match, propensity_scores
from hcc_utils.study.matching import match_cohort

REF = Path(__file__).parent / "reference"
DATA = pd.read_csv(REF / "matching_data.csv")
SETTINGS = pd.read_csv(REF / "matching_settings.csv").set_index("setting")
STATS = json.loads((REF / "stats_reference.json").read_text())
COVS = ["age", "sex_male", "tumor_size_cm", "tumor_multiple", "extrahepatic_metastasis", "lymph_node_metastasis", "child_pugh_b"]
# MatchIt 4.5.1 builds: the installed CRAN binary (integer abs(), MatchIt issue #163) and the same source
# rebuilt with a floating-point abs(); see tests/reference/matching_reference.R.
BUILDS = {"integer_abs": "matchit-4.5.1-integer-abs", "fixed": "matchit-4.5.1"}


def _run(setting: str, compat):
    s = SETTINGS.loc[setting]
    return nearest_neighbor_match(
        DATA[s["score"]].to_numpy(), DATA["treatment"].to_numpy(), ratio=int(s["ratio"]),
        caliper=None if pd.isna(s["caliper"]) else float(s["caliper"]), caliper_scale=s["scale"],
        order=s["order"], ids=DATA["patient_id"], compat=compat)


def _pairs(res) -> pd.DataFrame:
    ids = DATA["patient_id"].to_numpy()
    rows = [(ids[t], slot + 1, ids[c] if c >= 0 else "")
            for row, t in enumerate(res.treated_index) for slot, c in enumerate(res.match_matrix[row])]
    return pd.DataFrame(rows, columns=["treated_id", "slot", "control_id"])


def _r_pairs(setting: str, build: str) -> pd.DataFrame:
    p = pd.read_csv(REF / f"matching_pairs_{build}.csv", keep_default_na=False)
    return p[p["setting"] == setting][["treated_id", "slot", "control_id"]].reset_index(drop=True)


def _assert_same_pairs(setting: str, build: str) -> None:
    mine, theirs = _pairs(_run(setting, BUILDS[build])), _r_pairs(setting, build)
    assert len(mine) == len(theirs)
    merged = mine.merge(theirs, on=["treated_id", "slot"], suffixes=("_py", "_r"), validate="one_to_one")
    diff = merged[merged["control_id_py"] != merged["control_id_r"]]
    assert diff.empty, f"{setting} ({build}): {len(diff)} treated units matched differently:\n{diff.head()}"


@pytest.mark.parametrize("build", BUILDS)
def test_pairs_match_R_MatchIt_nearest_largest(build):
    _assert_same_pairs("tied_largest", build)


@pytest.mark.parametrize("build", BUILDS)
def test_pairs_match_R_MatchIt_nearest_smallest(build):
    _assert_same_pairs("tied_smallest", build)


@pytest.mark.parametrize("build", BUILDS)
def test_pairs_match_R_MatchIt_nearest_data_order(build):
    _assert_same_pairs("tied_data", build)


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("setting", ["tied_largest_ratio2", "tied_smallest_ratio2", "tied_caliper_score_ratio2",
                                     "ps_smallest_ratio2_caliper_logit"])
def test_pairs_match_R_MatchIt_nearest_ratio2(setting, build):
    _assert_same_pairs(setting, build)


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("setting", ["tied_caliper_score", "ps_largest_caliper_score"])
def test_pairs_match_R_MatchIt_caliper_on_score(setting, build):
    _assert_same_pairs(setting, build)


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("setting", ["ps_largest_caliper_logit", "tied_data_caliper_logit"])
def test_pairs_match_R_MatchIt_caliper_on_logit(setting, build):
    _assert_same_pairs(setting, build)


def test_fixture_covers_ties_and_unmatched_treated():
    assert DATA["score_tied"].duplicated().any()
    fixed = pd.read_csv(REF / "matching_pairs_fixed.csv", keep_default_na=False)
    one_to_one_caliper = fixed[(fixed["setting"] == "ps_largest_caliper_logit") & (fixed["control_id"] == "")]
    assert len(one_to_one_caliper) > 0


@pytest.mark.parametrize("build", BUILDS)
def test_caliper_width_matches_R_MatchIt_std_caliper(build):
    widths = pd.read_csv(REF / f"matching_widths_{build}.csv").set_index("setting")["caliper_width"]
    for setting in SETTINGS.index:
        mine = _run(setting, BUILDS[build]).caliper_width
        if pd.isna(widths[setting]):
            assert mine is None
        else:
            assert mine == pytest.approx(widths[setting], rel=1e-12)


def test_default_equals_R_MatchIt_float_abs_build_for_1_to_1():
    for setting in SETTINGS.index[SETTINGS["ratio"] == 1]:
        mine = _pairs(_run(setting, None))
        assert mine["control_id"].tolist() == _r_pairs(setting, "fixed")["control_id"].tolist(), setting


def _greedy_by_hand(d, t, ratio, width, order):
    """Plain O(n^2) statement of the intended rules, to check the fast implementation."""
    n = len(d)
    pos = {u: k for k, u in enumerate(sorted(range(n), key=lambda u: (d[u], u)))}
    treated = [u for u in range(n) if t[u]]
    if order == "largest":
        treated = sorted(treated, key=lambda u: (-d[u], u))
    available = {u for u in range(n) if not t[u]}
    out = {u: [] for u in treated}
    for _ in range(ratio):
        for u in treated:
            below = [c for c in available if pos[c] < pos[u]]
            above = [c for c in available if pos[c] > pos[u]]
            lo = max(below, key=lambda c: pos[c]) if below else None
            hi = min(above, key=lambda c: pos[c]) if above else None
            cands = [(abs(d[c] - d[u]), side, c) for side, c in ((0, lo), (1, hi))
                     if c is not None and (width is None or abs(d[c] - d[u]) <= width)]
            if cands:
                c = min(cands)[2]
                available.discard(c)
                out[u].append(c)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("ratio,caliper", [(1, None), (2, None), (2, 0.1), (3, 0.3)])
def test_default_k_to_1_equals_greedy_rules_by_hand(seed, ratio, caliper):
    rng = np.random.default_rng(seed)
    n = 120
    d = np.round(rng.random(n) * 32) / 32  # many exact ties
    t = rng.random(n) < 0.3
    res = nearest_neighbor_match(d, t, ratio=ratio, caliper=caliper, caliper_scale="score", order="largest")
    expected = _greedy_by_hand(d.tolist(), t.tolist(), ratio, res.caliper_width, "largest")
    for row, u in enumerate(res.treated_index):
        assert [c for c in res.match_matrix[row] if c >= 0] == expected[u]


def test_matchit_451_passes_over_control_after_earlier_match_in_ratio2():
    # treated unit 0; controls 1 (its first match) and 2 (next in data order, nearest for round 2) and 3
    d, t = [0.50, 0.50, 0.51, 0.53], [1, 0, 0, 0]
    default = nearest_neighbor_match(d, t, ratio=2, caliper_scale="score")
    compat = nearest_neighbor_match(d, t, ratio=2, caliper_scale="score", compat="matchit-4.5.1")
    assert default.match_matrix.tolist() == [[1, 2]]
    assert compat.match_matrix.tolist() == [[1, 3]]


def test_integer_abs_build_picks_lower_side_and_ignores_sub_unit_caliper():
    d, t = [0.5, 0.3, 0.6], [1, 0, 0]
    assert nearest_neighbor_match(d, t, caliper_scale="score").match_matrix.tolist() == [[2]]
    bug = nearest_neighbor_match(d, t, caliper_scale="score", caliper=0.01, compat="matchit-4.5.1-integer-abs")
    assert bug.match_matrix.tolist() == [[1]]
    assert nearest_neighbor_match(d, t, caliper_scale="score", caliper=0.01).match_matrix.tolist() == [[-1]]


def test_random_order_is_reproducible_with_seed():
    s = DATA["ps"].to_numpy()
    a = nearest_neighbor_match(s, DATA["treatment"], order="random", seed=5, caliper=0.2)
    b = nearest_neighbor_match(s, DATA["treatment"], order="random", seed=5, caliper=0.2)
    assert a.match_matrix.tolist() == b.match_matrix.tolist()


def test_pair_ids_number_sets_by_treated_unit_in_data_order():
    res = _run("tied_largest_ratio2", None)
    pid = res.pair_id
    assert str(pid.dtype) == "Int64"
    sizes = pid.dropna().value_counts()
    assert set(sizes) <= {2, 3}
    treated_ids = DATA["patient_id"][DATA["treatment"] == 1]
    assert pid[treated_ids].dropna().tolist() == list(range(1, pid[treated_ids].notna().sum() + 1))


def test_nearest_neighbor_match_rejects_bad_arguments():
    with pytest.raises(ValueError, match="order"):
        nearest_neighbor_match([0.2, 0.3], [1, 0], order="closest")
    with pytest.raises(ValueError, match="caliper_scale"):
        nearest_neighbor_match([0.2, 0.3], [1, 0], caliper_scale="probit")
    with pytest.raises(ValueError, match="units P2"):
        nearest_neighbor_match([0.2, 1.0], [1, 0], ids=["P1", "P2"])
    with pytest.raises(ValueError, match="ratio"):
        nearest_neighbor_match([0.2, 0.3], [1, 0], ratio=0)


def test_glm_coefficients_match_R_glm_binomial():
    model = propensity_scores(DATA, "treatment", COVS)
    ref = STATS["glm"]
    assert model.coefficients["term"].tolist() == ref["terms"]
    for col in ("estimate", "std_error", "z", "p"):
        np.testing.assert_allclose(model.coefficients[col], ref[col], rtol=1e-6)
    np.testing.assert_allclose(model.ps, DATA["ps"], rtol=1e-6)


def test_propensity_scores_counts_patients_with_missing_covariates():
    df = DATA.copy()
    df.loc[[3, 7], "age"] = np.nan
    with pytest.raises(ValueError, match="'age' missing for 2 patient") as caught:
        propensity_scores(df, "treatment", COVS)
    assert "P004" not in str(caught.value)  # ids only on the exception, for the validator's terminal report
    assert caught.value.patient_ids == ["P004", "P008"]


def test_propensity_scores_reports_perfect_separation_with_counts_only():
    df = DATA.head(60).copy()
    df["marker"] = df["treatment"]
    with pytest.raises(ValueError, match="separation") as caught:
        propensity_scores(df, "treatment", ["age", "marker"])
    assert not any(str(pid) in str(caught.value) for pid in df["patient_id"])
    assert caught.value.patient_ids


def test_match_cohort_adds_ps_pairs_and_summary():
    config = parse_config({"seed": 1, "matching": {"covariates": COVS, "ratio": 1, "caliper": 0.2,
                                                   "caliper_scale": "logit", "order": "largest"}}, "test")
    out = match_cohort(DATA.drop(columns=["ps"]), config)
    df = out.data
    assert {"ps", "logit_ps", "pair_id", "matched"} <= set(df.columns)
    assert str(df["pair_id"].dtype) == "Int64"
    np.testing.assert_allclose(df["ps"], DATA["ps"], rtol=1e-6)
    per_pair = df.dropna(subset=["pair_id"]).groupby("pair_id")["treatment"].agg(["sum", "count"])
    assert (per_pair["sum"] == 1).all() and (per_pair["count"] == 2).all()
    s = out.summary
    assert s["pairs"] == len(per_pair) == s["matched_treated"] == s["matched_control"]
    assert s["unmatched_treated"] == s["n_treated"] - s["pairs"] == len(s["unmatched_treated_ids"])
    assert s["caliper_width"] == pytest.approx(0.2 * np.std(np.log(df["ps"] / (1 - df["ps"])), ddof=1))
    # same pairs as MatchIt 4.5.1 (float abs build) on R's own propensity scores
    r = _r_pairs("ps_largest_caliper_logit", "fixed")
    r_pairs = {frozenset(x) for x in r[r["control_id"] != ""][["treated_id", "control_id"]].itertuples(index=False)}
    mine = {frozenset(g["patient_id"]) for _, g in df.dropna(subset=["pair_id"]).groupby("pair_id")}
    assert mine == r_pairs


def test_balance_table_smd_before_matching_matches_R_formulas():
    df = DATA.assign(matched=1)
    bal = balance_table(df, ["age", "tumor_size_cm", "sex_male"], "treatment", "matched").set_index("covariate")
    assert bal.loc["age", "smd_before"] == pytest.approx(STATS["baseline"]["age"]["smd"], rel=1e-6)
    assert bal.loc["tumor_size_cm", "smd_before"] == pytest.approx(STATS["baseline"]["tumor_size_cm"]["smd"], rel=1e-6)
    assert bal.loc["sex_male", "smd_before"] == pytest.approx(STATS["baseline"]["sex_male"]["smd"], rel=1e-6)
    assert bal.loc["sex_male", "kind"] == "binary"


# --------------------------------------------------------------------------- speed path (issue 14)
def test_fast_greedy_search_takes_the_decisions_of_the_generic_one():
    """`_greedy` (inlined union-find, the default) and `_greedy_compat` without MatchIt's deviations pick the same
    controls, with and without ties, calipers and k:1 rounds; the whole result equals the one of an explicit
    stable sort of the treated units (the visiting order taken from the sorted units when nothing is tied)."""
    from hcc_utils.stats.matching import _greedy, _greedy_compat, _greedy_sweep
    rng = np.random.default_rng(11)
    for n, tied in [(50, False), (400, True), (3000, False), (3000, True)]:
        d = np.sort(rng.normal(size=n).round(1 if tied else 12))
        is_t = rng.random(n) < 0.4
        controls = np.flatnonzero(~is_t)
        left_of = (np.cumsum(~is_t) - ~is_t)[is_t].tolist()
        d_unit = d[is_t].tolist()
        order = rng.permutation(len(d_unit))
        for ratio, width in [(1, None), (1, 0.05), (2, 0.2), (3, None)]:
            args = (d[controls].tolist(), [left_of[i] for i in order], [d_unit[i] for i in order], ratio, width)
            fast = _greedy(*args)
            generic = _greedy_compat(controls, *args, skip_next=False, integer_abs=False)
            np.testing.assert_array_equal(fast, generic)
            assert (fast >= 0).any()
            if ratio == 1 and not tied:                 # largest first, no ties: the sweep
                down = np.argsort(-np.asarray(d_unit), kind="stable")
                sweep_args = (d[controls].tolist(), [left_of[i] for i in down], [d_unit[i] for i in down])
                np.testing.assert_array_equal(_greedy_sweep(*sweep_args, width),
                                              _greedy(*sweep_args, 1, width))
    for order in ("largest", "smallest"):
        for digits in (12, 2):                      # distinct scores (no second sort) and tied ones
            score = np.round(1 / (1 + np.exp(-rng.normal(size=2000))), digits)
            treated = rng.random(2000) < 0.3
            res = nearest_neighbor_match(score, treated, caliper=0.1, order=order)
            # the same search with every order taken from explicit stable sorts
            d = np.log(score / (1 - score))
            units = np.argsort(d, kind="stable")
            controls = units[~treated[units]]
            before = np.empty(2000, dtype=np.int64)
            before[units] = np.cumsum(~treated[units]) - ~treated[units]
            rows = np.flatnonzero(treated)
            visit = np.argsort(-d[rows] if order == "largest" else d[rows], kind="stable")
            picks = _greedy_compat(controls, d[controls].tolist(), before[rows[visit]].tolist(),
                                   d[rows[visit]].tolist(), 1, res.caliper_width, False, False)
            expected = np.full((rows.size, 1), -1)
            expected[visit] = np.where(picks >= 0, controls[np.maximum(picks, 0)], -1)
            np.testing.assert_array_equal(res.match_matrix, expected)


def test_one_sort_of_packed_words_is_the_stable_argsort():
    """`_stable_argsort` (value bits and position in one 64-bit word, one plain sort) equals numpy's stable argsort:
    distinct values sharing their high bits, ties, -0.0 against 0.0, tiny and huge magnitudes."""
    from hcc_utils.stats.matching import _stable_argsort
    rng = np.random.default_rng(0)
    cases = [rng.normal(size=200_000), np.round(rng.normal(size=20_000), 2), np.array([0.0, -0.0, 1.0, -0.0, 0.0]),
             np.array([1.0]), np.array([2.0, 1.0]), 1 + rng.integers(0, 5, 1000) * 1e-13,
             rng.normal(size=3000) * 1e300, np.concatenate([rng.normal(size=500), -rng.normal(size=500)]) * 1e-300]
    for values in cases:
        order, ordered, tied = _stable_argsort(values)
        expected = np.argsort(values, kind="stable")
        np.testing.assert_array_equal(order, expected)
        np.testing.assert_array_equal(ordered, values[expected])
        assert tied == bool((values[expected][1:] == values[expected][:-1]).any())


# ------------------------------------------------------------------------------------------- k:1 matched sets
def test_matched_set_weights_by_hand():
    """Set 1: one treated, two controls (raw control weight 1/2 each); set 2: one treated, one control (raw 1).
    The three controls' raw weights sum to 2, scaled to sum to 3: 0.75, 0.75, 1.5. Outside every set: 0."""
    weights = matched_set_weights([1, 0, 0, 1, 0, 0, 1], [1, 1, 1, 2, 2, None, np.nan])
    np.testing.assert_allclose(weights, [1, 0.75, 0.75, 1, 1.5, 0, 0], rtol=0, atol=1e-15)
    # full 1:2 sets weigh every patient 1
    np.testing.assert_allclose(matched_set_weights([1, 0, 0, 1, 0, 0], ["a", "a", "a", "b", "b", "b"]), np.ones(6))
    with pytest.raises(ValueError, match="lengths differ"):
        matched_set_weights([1, 0], [1])


def test_matched_set_weights_match_MatchIt():
    """match.data(matchit(..., ratio = 2))$weights for three 1:2 settings, two with a caliper (sets of one and two
    controls), from the sets MatchIt formed (matched_weights_reference.R)."""
    ref = pd.read_csv(REF / "matched_weights_reference.csv")
    assert ref["setting"].nunique() == 3
    for setting, part in ref.groupby("setting"):
        weights = matched_set_weights(part["treatment"], part["subclass"])
        np.testing.assert_allclose(weights, part["weights"], rtol=0, atol=1e-12, err_msg=setting)
        assert sorted(part["weights"].round(4).unique())[-1] > 1   # some sets kept one control: weights differ


def test_weighted_clustered_cox_matches_R_coxph():
    """coxph(Surv(time, status) ~ control, weights = weights, cluster = subclass), Efron: coef, robust SE (the
    clustered sandwich) and naive SE, for the three 1:2 settings."""
    ref = pd.read_csv(REF / "matched_weights_reference.csv")
    cox = pd.read_csv(REF / "matched_weights_cox.csv").set_index("setting")
    for setting, part in ref.groupby("setting"):
        frame = part.assign(control=1 - part["treatment"], w=matched_set_weights(part["treatment"], part["subclass"]))
        table = cox_model(frame, "time", "status", ["control"], weights_col="w", cluster_col="subclass").table()
        row = table.iloc[0]
        assert row["coef"] == pytest.approx(cox.loc[setting, "coef"], abs=1e-9), setting
        assert row["se"] == pytest.approx(cox.loc[setting, "robust_se"], abs=1e-9), setting
        assert row["naive_se"] == pytest.approx(cox.loc[setting, "naive_se"], abs=1e-9), setting
    assert cox.loc["tied_largest_ratio2", "coef"] == pytest.approx(-0.36186883080205, abs=1e-12)
