"""Proportional-hazards test (R cox.zph), RMST (R print(survfit, rmean =)), E-values and Schoenfeld's sample
size. R fixtures: tests/reference/diagnostics_reference.R (survival 3.5-3) on tests/reference/survival_data.csv;
agreement to 1e-6 (absolute on chi-square, p, residuals, RMST and its SE)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_utils.stats.cox_zph import cox_zph, time_transform
from hcc_utils.stats.evalue import evalue_hr, evalue_rr, hr_to_rr
from hcc_utils.stats.rmst import rmst, rmst_difference
from hcc_utils.stats.sample_size import schoenfeld_events, schoenfeld_patients

REF = Path(__file__).parent / "reference"
TOL = 1e-6
DATA = pd.read_csv(REF / "survival_data.csv")
AB = DATA[DATA["group"].isin(["A", "B"])]
MODELS = {  # model name of the R script -> (data, covariates, ties)
    "uni_arm_efron": (AB, ["arm"], "efron"),
    "uni_xbin_efron": (DATA, ["x_bin"], "efron"),
    "multi_efron": (DATA, ["arm", "age", "x_bin", "size"], "efron"),
    "multi_breslow": (DATA, ["arm", "age", "x_bin", "size"], "breslow"),
    "multi_identity": (AB, ["arm", "age", "x_bin"], "efron"),
    "multi_rank": (DATA, ["arm", "x_bin"], "efron"),
    "multi_log": (DATA, ["arm", "size"], "efron"),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_cox_zph_matches_R_cox_zph(name):
    expected = pd.read_csv(REF / "diagnostics_zph.csv")
    expected = expected[expected["model"] == name]
    frame, covariates, ties = MODELS[name]
    result = cox_zph(frame, "time", "status", covariates, ties=ties, transform=expected["transform"].iloc[0])
    assert list(result.table["term"]) == list(expected["term"])
    np.testing.assert_allclose(result.table["chisq"], expected["chisq"], rtol=0, atol=TOL)
    np.testing.assert_allclose(result.table["p"], expected["p"], rtol=0, atol=TOL)
    assert list(result.table["df"]) == list(expected["df"])


def test_scaled_schoenfeld_residuals_match_R_cox_zph():
    expected = pd.read_csv(REF / "diagnostics_zph_resid.csv")
    frame, covariates, ties = MODELS["multi_efron"]
    result = cox_zph(frame, "time", "status", covariates, ties=ties)
    np.testing.assert_allclose(result.time, expected["time"], rtol=0, atol=TOL)
    np.testing.assert_allclose(result.x, expected["x"], rtol=0, atol=TOL)
    for term in covariates:
        np.testing.assert_allclose(result.residuals[term], expected[term], rtol=0, atol=TOL)
    assert result.global_p == pytest.approx(0.0767920318538923, abs=TOL)


def test_km_transform_is_one_minus_left_continuous_km():
    # 4 patients, deaths at 1 and 3, censored at 2 and 4: S = 3/4 after 1, 3/4 * 1/2 after 3
    g = time_transform(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 0, 1, 0]))
    np.testing.assert_allclose(g, [0.0, 0.25, 0.25, 0.625])


@pytest.mark.parametrize("tau", [5, 6, 12, 20.3])
def test_rmst_matches_R_print_survfit_rmean(tau):
    expected = pd.read_csv(REF / "diagnostics_rmst.csv")
    for row in expected[expected["tau"] == tau].itertuples():
        part = DATA[DATA["group"] == row.group]
        got = rmst(part["time"], part["status"], tau)
        assert got.rmst == pytest.approx(row.rmean, abs=TOL)
        assert got.se == pytest.approx(row.se, abs=TOL)


def test_rmst_by_hand_and_difference():
    # deaths at 1 and 3 of 4 patients (censored at 2 and 4); tau = 3.5:
    # area = 1*1 + 2*0.75 + 0.5*0.375 = 2.6875; var = A(1)^2 * 1/(4*3) + A(3)^2 * 1/(2*1),
    # A(1) = 1.5 + 0.1875 = 1.6875, A(3) = 0.1875
    got = rmst([1, 2, 3, 4], [1, 0, 1, 0], 3.5)
    assert got.rmst == pytest.approx(2.6875, abs=1e-12)
    assert got.se == pytest.approx(math.sqrt(1.6875 ** 2 / 12 + 0.1875 ** 2 / 2), abs=1e-12)
    assert not got.beyond_followup and rmst([1, 2], [1, 0], 3).beyond_followup
    assert not rmst([1, 2], [1, 1], 3).beyond_followup       # the curve reached 0: the area is known
    diff = rmst_difference([1, 2, 3, 4, 1, 2], [1, 0, 1, 0, 1, 1], [1, 1, 1, 1, 0, 0], 2)
    g0 = rmst([1, 2], [1, 1], 2)                       # 1 + 0.5 = 1.5
    assert g0.rmst == pytest.approx(1.5)
    assert diff.diff == pytest.approx(diff.group1.rmst - 1.5)
    assert diff.se == pytest.approx(math.hypot(diff.group1.se, g0.se))
    assert diff.ci_high - diff.diff == pytest.approx(1.959963984540054 * diff.se)


def test_evalues_by_hand():
    # risk ratio 0.80 (VanderWeele & Ding's leukaemia example): 1/0.8 = 1.25, E = 1.25 + sqrt(1.25 * 0.25)
    assert evalue_rr(0.80) == pytest.approx(1.25 + math.sqrt(0.3125))
    assert evalue_rr(0.80) == pytest.approx(1.809016994, abs=1e-9)
    # hazard ratio 0.56 (0.46-0.69), common outcome: RR = (1 - 0.5^sqrt(0.56)) / (1 - 0.5^sqrt(1/0.56))
    rr = (1 - 0.5 ** math.sqrt(0.56)) / (1 - 0.5 ** math.sqrt(1 / 0.56))
    assert hr_to_rr(0.56) == pytest.approx(rr) and rr == pytest.approx(0.6701, abs=1e-4)
    e = evalue_hr(0.56, 0.46, 0.69)
    assert e.point == pytest.approx(1 / rr + math.sqrt(1 / rr * (1 / rr - 1)))
    rr_hi = (1 - 0.5 ** math.sqrt(0.69)) / (1 - 0.5 ** math.sqrt(1 / 0.69))
    assert e.ci == pytest.approx(1 / rr_hi + math.sqrt(1 / rr_hi * (1 / rr_hi - 1)))
    assert e.point == pytest.approx(2.3495, abs=1e-4) and e.ci == pytest.approx(1.9080, abs=1e-4)
    # rare outcome: RR = HR; an HR above 1 uses the lower limit; a CI containing 1 gives 1
    assert evalue_hr(2.0, 1.5, 2.5, rare=True).point == pytest.approx(2 + math.sqrt(2))
    assert evalue_hr(2.0, 1.5, 2.5, rare=True).ci == pytest.approx(1.5 + math.sqrt(0.75))
    assert evalue_hr(0.8, 0.6, 1.1).ci == 1.0
    assert math.isnan(evalue_hr(math.nan, math.nan, math.nan).point)


def test_schoenfeld_sample_size_by_hand():
    # HR 0.7, 1:1, alpha 0.05 two-sided, power 0.8: 4 (1.959964 + 0.841621)^2 / log(0.7)^2 = 246.79 -> 247
    assert 4 * (1.959963985 + 0.841621234) ** 2 / math.log(0.7) ** 2 == pytest.approx(246.79, abs=0.01)
    assert schoenfeld_events(0.7) == 247
    # power 0.9: 4 (1.959964 + 1.281552)^2 / log(0.7)^2 = 330.4 -> 331
    assert schoenfeld_events(0.7, power=0.9) == 331
    assert schoenfeld_events(1 / 0.7) == 247            # symmetric in log HR
    assert schoenfeld_patients(247, 0.8) == 309          # 308.75 -> 309
    with pytest.raises(ValueError):
        schoenfeld_events(1.0)
