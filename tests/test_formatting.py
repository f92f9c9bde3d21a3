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
    values.add("sensitivity.median_difference_lo", -1.5, Kind.MONTHS)
    values.add("sensitivity.median_difference_hi", 1.2, Kind.MONTHS)
    values.add("sensitivity.some_p", 0.0004, Kind.P)
    values.add("sensitivity.x_hr_lo", math.nan, Kind.RATIO)
    values.add("sensitivity.x_hr_hi", math.nan, Kind.RATIO)
    values.add("survival.os_q1_control", 4.7, Kind.MONTHS)
    values.add("survival.os_q3_control", math.nan, Kind.MONTHS)
    presentation.glue_results(values, load_study(REPO_ROOT / "data" / "synthetic_cohort.csv"))
    assert glued["sensitivity_median_difference"] == "\u22120.4 months"
    assert glued["sensitivity_median_difference_hi"] == "1.2 months"
    assert glued["sensitivity_some_p_stated"] == "P < 0.001"
    # intervals of two glued limits, glued once more as one text: the unit once, "to" beside a negative limit,
    # limits that are both not estimable read "not estimable" once
    assert glued["sensitivity_median_difference_ci"] == "\u22121.5 to 1.2 months"
    assert glued["sensitivity_x_hr_ci"] == "not estimable"
    assert glued["survival_os_iqr_control"] == "4.7 months to not reached"


@pytest.mark.parametrize("low, high, text", [
    ("1.234", "3.456", "1.234–3.456"), ("3.5 months", "9.3 months", "3.5–9.3 months"),
    ("\u22121.2 months", "0.8 months", "\u22121.2 to 0.8 months"), ("not estimable", "not estimable", "not estimable"),
    ("NA", "NA", "NA"), ("6.8 months", "not reached", "6.8 months to not reached"),
    ("0.512", "not estimable", "0.512 to not estimable"), ("4.0 cycles", "10.0 years", "4.0 cycles to 10.0 years"),
    ("1.2%", "3.4%", "1.2–3.4%"),
])
def test_an_interval_is_written_once_and_never_as_two_missing_limits(low, high, text):
    from hcc_utils.tables.formatting import fmt_interval

    assert fmt_interval(low, high) == text


def test_interval_glue_names_pair_the_limits_and_refuse_to_hide_a_result():
    from hcc_utils.report.presentation import interval_glue_names

    names = interval_glue_names(["a.hr", "a.hr_lo", "a.hr_hi", "b.cycles_q1_control", "b.cycles_q3_control", "c.lo"])
    assert names == {"a.hr_ci": ("a.hr_lo", "a.hr_hi"), "b.cycles_iqr_control": ("b.cycles_q1_control",
                                                                                 "b.cycles_q3_control")}
    with pytest.raises(ValueError, match="already a result id"):
        interval_glue_names(["a.hr_lo", "a.hr_hi", "a.hr_ci"])


# ------------------------------------------------------------------------------------------ whole numbers (issue 24)
@pytest.mark.parametrize("value, whole, text", [
    (4.0, True, "4"), (63.0, True, "63"), (63.5, True, "63.5"), (34.0, True, "34"), (0.0, True, "0"),
    (4.0, False, "4.0"), (6.54, False, "6.5"), (float("nan"), True, "NA")])
def test_a_whole_summary_of_whole_data_is_written_without_decimals(value, whole, text):
    from hcc_utils.tables.formatting import fmt_number

    assert fmt_number(value, 1, whole) == text


def test_whole_data_are_recognised_and_a_measured_variable_is_not():
    from hcc_utils.tables.formatting import is_whole

    assert is_whole([3, 4.0, 6, float("nan")]) and is_whole(np.array([55, 70], dtype=float))
    assert not is_whole([6.5, 4.4]) and not is_whole([]) and not is_whole([float("nan")])


def test_table_1_writes_cycles_and_ages_of_whole_data_without_decimals():
    """Table 1 from a small cohort: the median (IQR) of whole cycles and years has no '.0', that of a measured
    size keeps its decimal; the same builder with the rule removed (the injected defect) writes '4.0 (3.0–6.0)'."""
    import pandas as pd

    from hcc_utils.tables import baseline

    frame = pd.DataFrame({"group": ["a"] * 4 + ["b"] * 4, "cycles": [3, 4, 4, 6, 2, 3, 5, 7],
                          "size": [4.0, 5.0, 6.0, 7.0, 3.0, 5.0, 6.0, 8.0]})
    specs = [("cycles", "Cycles", "median_iqr"), ("size", "Size, cm", "median_iqr")]
    table = baseline.baseline_table(frame, "group", specs, groups=("a", "b")).table.set_index("variable")
    assert ".0" not in table.loc["cycles", "a"] and ".0" not in table.loc["cycles", "Overall"]
    assert table.loc["cycles", "a"].startswith("4 (") and table.loc["size", "a"].count(".") == 3
    original = baseline.is_whole
    try:
        baseline.is_whole = lambda values: False  # the injected defect: whole data not recognised
        defect = baseline.baseline_table(frame, "group", specs, groups=("a", "b")).table.set_index("variable")
    finally:
        baseline.is_whole = original
    assert ".0" in defect.loc["cycles", "a"]
