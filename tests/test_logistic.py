"""hcc_utils.stats.logistic against R glm(family = binomial) (tests/reference/logistic_reference.R, R 4.2.2).

Tolerance 1e-10 relative: the same IRLS, stopping rule and covariance as R, so the two differ only by rounding
(LINPACK vs LAPACK QR). statsmodels' GLM, with its own stopping rule, differs from R by up to ~1e-6 in the
standard errors on the same data (tests/test_field_libraries.py shows it), which is why the propensity model does not use it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_utils.stats.logistic import logistic_regression
from hcc_utils.stats.matching import propensity_scores

REF = Path(__file__).parent / "reference"
DATA = pd.read_csv(REF / "logistic_data.csv")
EXPECTED = pd.read_csv(REF / "logistic_reference.csv")


def _design(name):
    part = DATA[DATA["dataset"] == name].dropna(axis=1, how="all")
    covariates = [c for c in part.columns if c.startswith("x")]
    return part, covariates


@pytest.mark.parametrize("name", sorted(EXPECTED["dataset"].unique()))
def test_logistic_regression_matches_R_glm_binomial(name):
    part, covariates = _design(name)
    x = np.column_stack([np.ones(len(part)), part[covariates].to_numpy(float)])
    fit = logistic_regression(x, part["y"].to_numpy(float))
    ref = EXPECTED[EXPECTED["dataset"] == name]
    for ours, column in ((fit.coef, "estimate"), (fit.se, "std_error"), (fit.z, "z"), (fit.p, "p")):
        np.testing.assert_allclose(ours, ref[column].to_numpy(float), rtol=1e-10, err_msg=column)
    assert fit.iterations == int(ref["iterations"].iloc[0])
    assert fit.deviance == pytest.approx(float(ref["deviance"].iloc[0]), rel=1e-12)
    assert fit.converged


@pytest.mark.parametrize("name", sorted(EXPECTED["dataset"].unique()))
def test_propensity_model_matches_R_glm_to_1e_10(name):
    part, covariates = _design(name)
    model = propensity_scores(part.assign(patient_id=range(len(part))), "y", covariates)
    ref = EXPECTED[EXPECTED["dataset"] == name]
    for column in ("estimate", "std_error", "z", "p"):
        np.testing.assert_allclose(model.coefficients[column], ref[column].to_numpy(float), rtol=1e-10,
                                   err_msg=column)


def test_an_aliased_column_gets_NA_as_in_R():
    """R: glm(y ~ a + b) with b = 2a reports NA for b and fits y ~ a; the fit here is the same."""
    a = np.array([1, 2, 3, 4, 5, 6, 7, 8], dtype=float)
    y = np.array([0, 1, 0, 0, 1, 1, 0, 1], dtype=float)
    full = logistic_regression(np.column_stack([np.ones(8), a, 2 * a]), y)
    reduced = logistic_regression(np.column_stack([np.ones(8), a]), y)
    assert full.aliased == (2,)
    assert np.isnan(full.coef[2]) and np.isnan(full.se[2])
    np.testing.assert_allclose(full.coef[:2], reduced.coef, rtol=1e-12)
    np.testing.assert_allclose(full.fitted, reduced.fitted, rtol=1e-12)
