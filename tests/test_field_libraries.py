"""The field's libraries where they compute what R computes, and why the rest of ``hcc_utils.stats`` is written by
hand (issue 26): each test below either checks that a computation now made by scipy agrees with R, or shows the
difference that keeps a hand-written one.

Replaced: Pearson's chi-square (``scipy.stats.chi2_contingency``) and Fisher's test of a 2x2 table
(``scipy.stats.fisher_exact``) in ``stats.contingency``.
Kept, with the difference shown here: the logistic propensity model (statsmodels' GLM stops by another rule and
does not alias a collinear column as R does), SAS/R quantiles (numpy's methods interpolate with other arithmetic),
McNemar's test (statsmodels corrects a table R leaves uncorrected).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hcc_utils.stats.contingency import chisq_test, fisher_exact_test, mcnemar_test
from hcc_utils.stats.descriptive import descriptive_quantile
from hcc_utils.stats.logistic import logistic_regression

REF = Path(__file__).parent / "reference"


# ---------------------------------------------------------------------------------------------- replaced

@pytest.mark.parametrize("table, correct, r_statistic, r_p", [
    # Rscript -e 'chisq.test(matrix(c(12, 5, 7, 15), 2), correct = FALSE / TRUE)' (R 4.x on this machine)
    ([[12, 7], [5, 15]], False, 5.769596116, 0.01630578158),
    ([[12, 7], [5, 15]], True, 4.322120391, 0.03762001663),
])
def test_chi_square_is_scipys_and_matches_R(table, correct, r_statistic, r_p):
    result = chisq_test(table, correction=correct)
    scipy_result = stats.chi2_contingency(np.asarray(table, float), correction=correct)
    assert (result.statistic, result.p) == (scipy_result.statistic, scipy_result.pvalue)
    assert result.statistic == pytest.approx(r_statistic, rel=1e-9)
    assert result.p == pytest.approx(r_p, rel=1e-9)


def test_fisher_2x2_is_scipys_and_the_2xc_enumeration_agrees_with_it():
    table = np.array([[3, 9], [8, 2]])
    assert fisher_exact_test(table).p == stats.fisher_exact(table).pvalue
    # Rscript -e 'fisher.test(matrix(c(3, 8, 9, 2), 2))$p.value'
    assert fisher_exact_test(table).p == pytest.approx(0.02997312285, rel=1e-9)
    # the hand-written 2 x C enumeration (kept: scipy has no exact R x C test) gives scipy's p on a 2x2 table
    from hcc_utils.stats.contingency import _fisher_2xc_p

    for counts in ([[3, 9], [8, 2]], [[0, 5], [6, 1]], [[10, 10], [10, 10]], [[1, 20], [7, 3]]):
        assert _fisher_2xc_p(np.asarray(counts, float)) == pytest.approx(stats.fisher_exact(counts).pvalue, rel=1e-12)


# ---------------------------------------------------------------------------------------------- kept

def test_statsmodels_glm_stops_by_another_rule_than_R_on_the_propensity_fixtures():
    """statsmodels' GLM (IRLS, like R) stops when the deviance changes by less than an absolute 1e-8; R's
    ``glm.fit`` by less than 1e-8 relative to the deviance. On a large deviance it iterates once more than R, and its
    standard errors (from the last weighted fit, as R's) then differ from R's beyond the 1e-10 the propensity model
    meets (``tests/test_logistic.py``)."""
    import statsmodels.api as sm

    data = pd.read_csv(REF / "logistic_data.csv")
    expected = pd.read_csv(REF / "logistic_reference.csv")
    part = data[data["dataset"] == "large_scale"].dropna(axis=1, how="all")
    reference = expected[expected["dataset"] == "large_scale"]
    x = np.column_stack([np.ones(len(part)), part[[c for c in part.columns if c.startswith("x")]].to_numpy(float)])
    y = part["y"].to_numpy(float)
    glm = sm.GLM(y, x, family=sm.families.Binomial()).fit()
    ours = logistic_regression(x, y)
    r_se = reference["std_error"].to_numpy(float)
    assert glm.fit_history["iteration"] != ours.iterations == int(reference["iterations"].iloc[0])
    assert np.max(np.abs(glm.bse - r_se) / r_se) > 1e-6
    np.testing.assert_allclose(ours.se, r_se, rtol=1e-10)


def test_statsmodels_glm_does_not_alias_a_collinear_column_as_R_does():
    """R (pivoted QR) reports NA for a column that is a multiple of another; statsmodels splits the effect."""
    import statsmodels.api as sm

    a = np.array([1, 2, 3, 4, 5, 6, 7, 8], dtype=float)
    y = np.array([0, 1, 0, 0, 1, 1, 0, 1], dtype=float)
    design = np.column_stack([np.ones(8), a, 2 * a])
    with pytest.warns(Warning):
        glm = sm.GLM(y, design, family=sm.families.Binomial()).fit()
    assert np.isfinite(glm.params).all()
    ours = logistic_regression(design, y)
    assert ours.aliased == (2,) and np.isnan(ours.coef[2])


def test_numpy_quantiles_compute_SAS_and_R_definitions_with_other_arithmetic():
    """numpy's ``averaged_inverted_cdf`` is R's type 2 (SAS PCTLDEF=5) and ``linear`` R's type 7, but numpy
    interpolates as ``a + (b - a) h`` where R computes ``(1 - h) a + h b``: the last bit differs, which moves a
    median exactly halfway between two rounded values (``-4.865``) off its rounding point."""
    x = np.array([3.3, -13.03])
    assert descriptive_quantile(x, 0.5) == 0.5 * 3.3 + 0.5 * -13.03 == -4.865  # R: quantile(x, .5, type = 2)
    assert np.quantile(x, 0.5, method="averaged_inverted_cdf") != -4.865
    rng = np.random.default_rng(7)
    for n in (1, 2, 5, 10, 37, 120):
        sample = np.round(rng.normal(size=n) * 10, 2)
        for method, numpy_method in (("sas5", "averaged_inverted_cdf"), ("r7", "linear")):
            np.testing.assert_allclose(descriptive_quantile(sample, [0.25, 0.5, 0.75], method=method),
                                       np.quantile(sample, [0.25, 0.5, 0.75], method=numpy_method), rtol=1e-12,
                                       atol=1e-12)


def test_statsmodels_mcnemar_corrects_a_table_that_R_leaves_uncorrected():
    from statsmodels.stats.contingency_tables import mcnemar

    balanced = [[5, 3], [3, 5]]  # b == c: Rscript -e 'mcnemar.test(matrix(c(5, 3, 3, 5), 2))' gives 0 and p = 1
    assert mcnemar(balanced, exact=False, correction=True).statistic == pytest.approx(1 / 6)
    assert (mcnemar_test(balanced).statistic, mcnemar_test(balanced).p) == (0.0, 1.0)
    unbalanced = [[5, 9], [2, 5]]  # elsewhere they agree
    assert mcnemar_test(unbalanced).p == pytest.approx(mcnemar(unbalanced, exact=False, correction=True).pvalue,
                                                       rel=1e-12)
    assert mcnemar_test(unbalanced, method="exact").p == pytest.approx(mcnemar(unbalanced, exact=True).pvalue,
                                                                       rel=1e-12)


def test_reference_values_file_is_read_as_json():
    # the stats fixtures used across the suite stay parseable (the tests above read the CSV ones)
    assert isinstance(json.loads((REF / "stats_reference.json").read_text(encoding="utf-8")), (dict, list))
