"""Chi-square, Fisher and Clopper-Pearson against R (tests/reference/stats_reference.json) and by hand."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from hcc_utils.stats.contingency import (chisq_test, clopper_pearson, compare_proportions, fisher_exact_test,
                                   independence_test, is_sparse)

STATS = json.loads((Path(__file__).parent / "reference" / "stats_reference.json").read_text())


@pytest.mark.parametrize("case", STATS["chisq"], ids=lambda c: str(np.shape(c["table"])))
def test_chisq_matches_R_chisq_test_correct_false(case):
    res = chisq_test(case["table"])
    assert res.statistic == pytest.approx(case["statistic"], rel=1e-6)
    assert res.df == case["df"]
    assert res.p == pytest.approx(case["p"], rel=1e-6)
    assert res.test == "chisq"


@pytest.mark.parametrize("case", STATS["chisq"], ids=lambda c: str(np.shape(c["table"])))
def test_chisq_yates_matches_R_chisq_test_correct_true(case):
    res = chisq_test(case["table"], correction=True)
    assert res.statistic == pytest.approx(case["statistic_yates"], rel=1e-6)
    assert res.p == pytest.approx(case["p_yates"], rel=1e-6)


def test_chisq_by_hand_18_of_40_vs_44_of_86():
    # expected: 62*40/126 = 19.683 ...; X2 = sum (O-E)^2/E = 0.4149; p = P(chi2_1 > 0.4149) = 0.520
    table = np.array([[18, 22], [44, 42]])
    e = np.outer(table.sum(1), table.sum(0)) / table.sum()
    x2 = ((table - e) ** 2 / e).sum()
    p_hand = math.erfc(math.sqrt(x2 / 2))  # chi-square with 1 df: P(|Z| > sqrt(x2))
    res = compare_proportions(18, 40, 44, 86)
    assert res.p == pytest.approx(p_hand, rel=1e-12)
    assert round(res.p, 3) == 0.520


@pytest.mark.parametrize("case", STATS["fisher"], ids=lambda c: str(np.shape(c["table"])))
def test_fisher_matches_R_fisher_test(case):
    res = fisher_exact_test(case["table"])
    assert res.p == pytest.approx(case["p"], rel=1e-6)
    if np.shape(case["table"]) == (2, 2):
        # R's conditional MLE comes from uniroot() with tolerance ~1.2e-4, so only that close
        assert res.statistic == pytest.approx(case["odds_ratio"], rel=1e-3, abs=1e-9)


def test_fisher_rejects_tables_larger_than_2xC():
    with pytest.raises(NotImplementedError, match="2x2 and 2xC"):
        fisher_exact_test([[1, 2, 3], [4, 5, 6], [7, 8, 9]])


def test_clopper_pearson_matches_R_binom_test():
    for case in STATS["binom"]:
        lo, hi = clopper_pearson(case["k"], case["n"])
        assert lo == pytest.approx(case["lower"], rel=1e-6, abs=1e-12)
        assert hi == pytest.approx(case["upper"], rel=1e-6, abs=1e-12)


def test_clopper_pearson_by_hand_107_of_126():
    lo, hi = clopper_pearson(107, 126)
    assert round(100 * 107 / 126, 1) == 84.9
    # the limits solve P(X >= 107 | lo) = 0.025 and P(X <= 107 | hi) = 0.025
    assert stats.binom.sf(106, 126, lo) == pytest.approx(0.025, rel=1e-8)
    assert stats.binom.cdf(107, 126, hi) == pytest.approx(0.025, rel=1e-8)


def test_fisher_if_sparse_rule_uses_cochran_criterion():
    assert is_sparse([[2, 38], [11, 75]])
    assert compare_proportions(2, 40, 11, 86, rule="fisher_if_sparse").test == "fisher"
    assert compare_proportions(18, 40, 44, 86, rule="fisher_if_sparse").test == "chisq"
    assert independence_test([[18, 22], [44, 42]], "fisher").test == "fisher"
    with pytest.raises(ValueError, match="rule"):
        independence_test([[1, 2], [3, 4]], "exact")


def test_compare_proportions_without_any_event_has_no_p():
    res = compare_proportions(0, 40, 0, 86)
    assert math.isnan(res.p) and res.test == "none"


def test_invalid_tables_raise_with_reason():
    with pytest.raises(ValueError, match="empty margin"):
        chisq_test([[0, 5], [0, 7]])
    with pytest.raises(ValueError, match="whole counts"):
        chisq_test([[1.5, 2], [3, 4]])
    with pytest.raises(ValueError, match="group b"):
        compare_proportions(3, 10, 12, 11)
