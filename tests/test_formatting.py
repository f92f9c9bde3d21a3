"""How p-values are written in figure annotations (one formatter for every Kaplan-Meier panel)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hcc_utils.tables.formatting import fmt_p, fmt_p_label


@pytest.mark.parametrize("p, expected", [
    (0.019, "Log-rank P = 0.019"),
    (0.0194, "Log-rank P = 0.019"),
    (0.001, "Log-rank P = 0.001"),
    (0.00099, "Log-rank P < 0.001"),
    (1e-12, "Log-rank P < 0.001"),
    (0.0, "Log-rank P < 0.001"),
    (1.0, "Log-rank P = 1.000"),
    (np.float64(0.5), "Log-rank P = 0.500"),
])
def test_p_label_is_written_as_journals_print_it(p, expected):
    assert fmt_p_label(p) == expected


@pytest.mark.parametrize("missing", [float("nan"), np.nan, None, math.nan])
def test_p_label_of_a_test_that_could_not_be_computed_says_so(missing):
    assert fmt_p_label(missing) == "Log-rank P not estimable"
    assert fmt_p_label(missing, missing="") == ""


def test_p_label_prefix_and_agreement_with_tables():
    assert fmt_p_label(0.2346, prefix="P") == "P = 0.235"
    assert fmt_p_label(0.0001, prefix="P") == "P < 0.001"
    for p in (0.0004, 0.001, 0.0456, 0.9):  # the figure shows the number the table shows
        assert fmt_p_label(p).endswith(fmt_p(p).lstrip("<"))


def test_prose_states_a_p_value_as_a_journal_does():
    """'P = 0.002' and 'P < 0.001', never 'P = <0.001' (prose quotes ``<id>_stated``)."""
    from hcc_utils.report.presentation import p_statement

    assert p_statement("0.002") == "P = 0.002"
    assert p_statement("<0.001") == "P < 0.001"
    assert p_statement("not estimable") == "P not estimable"
    assert p_statement("") == "P not reported"


def test_prose_prints_negative_numbers_with_a_minus_sign(monkeypatch):
    """Glued prose numbers below zero carry U+2212, as journals print them; tables and p-values are unchanged."""
    from hcc_utils.config import REPO_ROOT
    from hcc_utils.report import presentation
    from hcc_utils.study import load_study
    from hcc_utils.study.registry import Kind, ResultSet

    glued = {}
    monkeypatch.setattr(presentation, "glue", lambda name, value, display=False: glued.__setitem__(name, value))
    values = ResultSet()
    values.add("sensitivity.median_difference", -0.43, Kind.MONTHS)
    values.add("sensitivity.median_difference_hi", 1.2, Kind.MONTHS)
    values.add("sensitivity.some_p", 0.0004, Kind.P)
    presentation.glue_results(values, load_study(REPO_ROOT / "data" / "synthetic_cohort.csv"))
    assert glued["sensitivity_median_difference"] == "\u22120.4"
    assert glued["sensitivity_median_difference_hi"] == "1.2"
    assert glued["sensitivity_some_p_stated"] == "P < 0.001"
