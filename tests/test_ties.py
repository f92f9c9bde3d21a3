"""Ties that stay ties: patients with identical covariates get bit-identical propensity scores and distances, so
that matching breaks their ties by data order as MatchIt does (R's ``lalonde`` fixture, tests/reference)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hcc_utils.stats.logistic import linear_predictor
from hcc_utils.stats.matching import nearest_neighbor_match, propensity_scores

REF = Path(__file__).parent / "reference"
LALONDE = pd.read_csv(REF / "lalonde_data.csv")
R_PAIRS = pd.read_csv(REF / "lalonde_pairs.csv", keep_default_na=False)
COVS = ["age", "educ", "racehispan", "racewhite", "married", "nodegree", "re74", "re75"]
TIED = ["PSID377", "PSID397", "PSID422", "PSID429"]  # identical covariates in MatchIt's lalonde


def _pairs(distance: np.ndarray) -> pd.DataFrame:
    res = nearest_neighbor_match(distance, LALONDE["treat"], ratio=2, caliper_scale="score",
                                 compat="matchit-4.5.1-integer-abs")
    ids = LALONDE["id"].to_numpy()
    rows = [(ids[t], slot + 1, ids[c] if c >= 0 else "")
            for row, t in enumerate(res.treated_index) for slot, c in enumerate(res.match_matrix[row])]
    return pd.DataFrame(rows, columns=["treated_id", "slot", "control_id"])


def _differing_pairs(distance: np.ndarray) -> int:
    merged = _pairs(distance).merge(R_PAIRS, on=["treated_id", "slot"], suffixes=("_py", "_r"), validate="one_to_one")
    return int((merged["control_id_py"] != merged["control_id_r"]).sum())


def test_identical_covariates_give_bit_identical_scores_on_lalonde():
    model = propensity_scores(LALONDE, "treat", COVS, id_col="id")
    tied = LALONDE["id"].isin(TIED).to_numpy()
    assert len(set(model.ps[tied].tolist())) == 1
    assert len(set(model.logit_ps[tied].tolist())) == 1
    np.testing.assert_allclose(model.ps, LALONDE["distance"], rtol=1e-9)   # and they are R's glm scores


def test_ratio2_pairs_equal_MatchIt_on_lalonde_with_our_scores():
    model = propensity_scores(LALONDE, "treat", COVS, id_col="id")
    assert len(R_PAIRS) == 370
    assert _differing_pairs(model.ps.to_numpy()) == 0


def test_one_rounding_between_tied_controls_changes_MatchIt_pairs():
    # the defect the fixed-order linear predictor removes: a matrix product gave the tied controls values one
    # rounding apart, and the data-order tie rule no longer applied
    distance = LALONDE["distance"].to_numpy().copy()
    assert _differing_pairs(distance) == 0
    first = np.flatnonzero(LALONDE["id"].to_numpy() == TIED[0])[0]
    distance[first] = np.nextafter(distance[first], 1.0)
    assert _differing_pairs(distance) > 0


def test_linear_predictor_is_equal_on_equal_rows_wherever_they_stand():
    rng = np.random.default_rng(20241207)
    rows = rng.normal(size=(7, 9)) * rng.choice([1e-3, 1.0, 1e4], size=(7, 9))
    x = rows[rng.integers(0, 7, size=5003)]        # 5003 rows, each one of 7 distinct rows, at every offset
    coef = rng.normal(size=9)
    eta = linear_predictor(x, coef)
    for r in range(7):
        same = (x == rows[r]).all(axis=1)
        assert np.unique(eta[same]).size == 1
    np.testing.assert_allclose(eta, x @ coef, rtol=1e-12, atol=1e-9)


def test_linear_predictor_is_equal_on_lalonde_tied_rows_where_a_matrix_product_was_not():
    # with these coefficients OpenBLAS's x @ coef (numpy 1.26, scipy-openblas 0.3.x) puts the four tied controls
    # 1.1e-16 apart; the fixed-order sum may not
    x = np.column_stack([np.ones(len(LALONDE)), LALONDE[COVS].to_numpy(float)])
    coef = np.array([1.5, -4.7e-2, 1.6e-1, -2.08, -1.4, 0.8, -6.9e-5, 5.9e-5, 0.3])
    tied = LALONDE["id"].isin(TIED).to_numpy()
    assert np.unique(linear_predictor(x, coef)[tied]).size == 1
