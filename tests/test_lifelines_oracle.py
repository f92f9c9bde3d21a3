"""lifelines as an independent second oracle, beside the R fixtures, where it estimates the same quantity.

lifelines (Davidson-Pilon) is a separate implementation in Python: the Kaplan-Meier curve, the log-rank test and
the Cox model with Efron ties must agree with :mod:`hcc_utils.stats` on the R reference data set
(``tests/reference/survival_data.csv``). Where conventions differ they are not compared: lifelines' median
takes the first time S(t) <= 0.5 without R's midpoint rule, and its confidence intervals differ from R's.
Tolerances: 1e-10 relative for Kaplan-Meier and log-rank (closed forms); 1e-5 relative for Cox, whose fits
lifelines stops at a looser convergence criterion than R's coxph (this package matches R to 1e-14, see
``test_cox.py``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

lifelines = pytest.importorskip("lifelines")
from lifelines.statistics import logrank_test as ll_logrank_test  # noqa: E402
from lifelines.statistics import multivariate_logrank_test  # noqa: E402

from hcc_utils.stats.cox import cox_model  # noqa: E402
from hcc_utils.stats.survival import kaplan_meier, logrank_test  # noqa: E402

DATA = pd.read_csv(Path(__file__).parent / "reference" / "survival_data.csv")


def test_kaplan_meier_curve_matches_lifelines():
    ours = kaplan_meier(DATA["time"], DATA["status"]).table.set_index("time")["survival"]
    fitter = lifelines.KaplanMeierFitter().fit(DATA["time"], DATA["status"])
    theirs = fitter.survival_function_["KM_estimate"].reindex(ours.index)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-10)


def test_logrank_two_groups_matches_lifelines():
    a, b = DATA[DATA["arm"] == 1], DATA[DATA["arm"] == 0]
    ours = logrank_test(DATA["time"], DATA["status"], DATA["arm"])
    theirs = ll_logrank_test(a["time"], b["time"], a["status"], b["status"])
    assert ours.chisq == pytest.approx(theirs.test_statistic, rel=1e-10)
    assert ours.p == pytest.approx(theirs.p_value, rel=1e-10)


def test_logrank_k_groups_matches_lifelines():
    ours = logrank_test(DATA["time"], DATA["status"], DATA["group"])
    theirs = multivariate_logrank_test(DATA["time"], DATA["group"], DATA["status"])
    assert ours.chisq == pytest.approx(theirs.test_statistic, rel=1e-10)
    assert ours.df == theirs.degrees_of_freedom


def test_cox_efron_matches_lifelines():
    covariates = ["arm", "age", "size"]
    complete = DATA[["time", "status", *covariates]].dropna()  # both fit complete cases; lifelines refuses NaN
    ours = cox_model(complete, "time", "status", covariates, ties="efron").table().set_index("covariate")
    fitter = lifelines.CoxPHFitter().fit(complete, "time", "status")
    theirs = fitter.summary
    np.testing.assert_allclose(ours.loc[covariates, "coef"], theirs.loc[covariates, "coef"], rtol=1e-5)
    np.testing.assert_allclose(ours.loc[covariates, "se"], theirs.loc[covariates, "se(coef)"], rtol=1e-5)
