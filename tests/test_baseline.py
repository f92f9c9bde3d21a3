"""Table 1 builder: tests and SMDs against R (tests/reference/stats_reference.json), layout, hand checks."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_utils.stats.balance import smd_binary, smd_categorical, smd_continuous
from hcc_utils.stats.two_sample import mann_whitney_test, student_t_test
from hcc_utils.tables.baseline import VariableSpec, baseline_table, side_by_side

REF = Path(__file__).parent / "reference"
STATS = json.loads((REF / "stats_reference.json").read_text())
DATA = pd.read_csv(REF / "matching_data.csv")
DATA["group"] = DATA["treatment"].map({1: "lenvatinib", 0: "sorafenib"})
GROUPS = ("lenvatinib", "sorafenib")
A, B = DATA["treatment"] == 1, DATA["treatment"] == 0
VARIABLES = [
    VariableSpec("age", "mean_sd", "Age, years"),
    {"name": "tumor_size_cm", "kind": "median_iqr", "label": "Tumour size, cm"},
    ("sex_male", "Male sex", "binary"),
    VariableSpec("best_response_recist", "categorical", "Best response", levels=["cr", "pr", "sd", "pd", "ne"]),
]


@pytest.fixture(scope="module")
def table():
    return baseline_table(DATA, "group", VARIABLES, groups=GROUPS)


@pytest.mark.parametrize("case", STATS["ttest"], ids=lambda c: c["variable"])
def test_ttest_matches_R_t_test_var_equal(case):
    t, df, p = student_t_test(DATA.loc[A, case["variable"]], DATA.loc[B, case["variable"]])
    assert t == pytest.approx(case["statistic"], rel=1e-6)
    assert df == case["df"]
    assert p == pytest.approx(case["p"], rel=1e-6)


@pytest.mark.parametrize("case", [c for c in STATS["wilcox"] if c["method"] == "asymptotic"], ids=lambda c: c["variable"])
def test_wilcox_matches_R_wilcox_test_exact_false_correct_true(case):
    w, p = mann_whitney_test(DATA.loc[A, case["variable"]], DATA.loc[B, case["variable"]])
    assert w == pytest.approx(case["statistic"], rel=1e-6)
    assert p == pytest.approx(case["p"], rel=1e-6)


def test_wilcox_r_default_matches_R_wilcox_test_exact_small_samples():
    case = next(c for c in STATS["wilcox"] if c["method"] == "r_default")
    w, p = mann_whitney_test(case["x"], case["y"], method="r_default")
    assert w == case["statistic"]
    assert p == pytest.approx(case["p"], rel=1e-6)


def test_smds_match_R_formulas_and_yang_dalton():
    ref = STATS["baseline"]
    assert smd_continuous(DATA.loc[A, "age"], DATA.loc[B, "age"]) == pytest.approx(ref["age"]["smd"], rel=1e-6)
    assert smd_binary(DATA.loc[A, "sex_male"], DATA.loc[B, "sex_male"]) == pytest.approx(ref["sex_male"]["smd"], rel=1e-6)
    assert smd_categorical(DATA.loc[A, "sex_male"], DATA.loc[B, "sex_male"]) == pytest.approx(ref["sex_male"]["smd"], rel=1e-6)
    cat = smd_categorical(DATA.loc[A, "best_response_recist"], DATA.loc[B, "best_response_recist"])
    assert cat == pytest.approx(ref["best_response_recist"]["smd"], rel=1e-6)


def test_baseline_p_values_match_R(table):
    nums = table.numbers.groupby("variable").first()
    ttest = next(c for c in STATS["ttest"] if c["variable"] == "age")
    wilcox = next(c for c in STATS["wilcox"] if c["variable"] == "tumor_size_cm")
    assert nums.loc["age", "p"] == pytest.approx(ttest["p"], rel=1e-6)
    assert nums.loc["tumor_size_cm", "p"] == pytest.approx(wilcox["p"], rel=1e-6)
    assert nums.loc["sex_male", "p"] == pytest.approx(STATS["baseline"]["sex_male"]["p"], rel=1e-6)
    assert nums.loc["best_response_recist", "p"] == pytest.approx(STATS["baseline"]["best_response_recist"]["p"], rel=1e-6)
    assert nums.loc["age", "test"] == "ttest" and nums.loc["tumor_size_cm", "test"] == "mannwhitney"


def test_quartiles_match_R_quantile_type2(table):
    nums = table.numbers
    for case in STATS["quantile_type2"]:
        for key, group in (("group1", "lenvatinib"), ("group0", "sorafenib")):
            row = nums[(nums["variable"] == case["variable"]) & (nums["group"] == group)].iloc[0]
            np.testing.assert_allclose([row["q1"], row["median"], row["q3"]], case[key], rtol=1e-12)


def test_table_layout_and_formatting(table):
    t = table.table
    assert list(t.columns) == ["variable", "label", "level", "Overall", "lenvatinib", "sorafenib", "p", "test", "smd"]
    assert t.iloc[0][["Overall", "lenvatinib", "sorafenib"]].tolist() == ["300", "105", "195"]
    age = t[t["variable"] == "age"].iloc[0]
    ref = STATS["baseline"]["age"]
    assert age["lenvatinib"] == f"{ref['mean1']:.1f} ± {ref['sd1']:.1f}"
    assert t[t["variable"] == "best_response_recist"]["level"].tolist() == ["", "cr", "pr", "sd", "pd", "ne"]
    sex = t[t["variable"] == "sex_male"].iloc[0]
    k = int(DATA.loc[A, "sex_male"].sum())
    assert sex["lenvatinib"] == f"{k} ({100 * k / 105:.1f})"
    assert sex["p"] == f"{STATS['baseline']['sex_male']['p']:.3f}"


def test_hand_calculation_107_of_126_percent():
    df = pd.DataFrame({"g": ["a"] * 126 + ["b"] * 10, "x": [1] * 107 + [0] * 19 + [1] * 5 + [0] * 5})
    bt = baseline_table(df, "g", [("x", "X", "binary")])
    row = bt.numbers[(bt.numbers["group"] == "a")].iloc[0]
    assert row["count"] == 107 and row["n"] == 126
    assert round(row["percent"], 1) == 84.9
    assert bt.table.iloc[1]["a"] == "107 (84.9)"


def test_missing_values_leave_denominators_and_are_counted():
    df = DATA[["group", "sex_male", "age"]].copy()
    df.loc[df.index[:5], "sex_male"] = np.nan
    df.loc[df.index[:3], "age"] = np.nan
    bt = baseline_table(df, "group", [("sex_male", "Male", "binary"), ("age", "Age", "mean_sd")], groups=GROUPS)
    overall = bt.numbers[(bt.numbers["group"] == "Overall")].set_index("variable")
    assert overall.loc["sex_male", "n"] == 295 and overall.loc["sex_male", "missing"] == 5
    assert overall.loc["age", "missing"] == 3
    assert overall.loc["age", "mean"] == pytest.approx(df["age"].mean())


def test_fisher_rule_switches_sparse_tables():
    df = pd.DataFrame({"g": ["a"] * 40 + ["b"] * 86, "x": [1] * 2 + [0] * 38 + [1] * 11 + [0] * 75})
    bt = baseline_table(df, "g", [("x", "X", "binary")], categorical_test="fisher_if_sparse")
    assert bt.numbers["test"].iloc[0] == "fisher"
    fisher = next(c for c in STATS["fisher"] if c["table"] == [[2, 38], [11, 75]])
    assert bt.numbers["p"].iloc[0] == pytest.approx(fisher["p"], rel=1e-6)


def test_side_by_side_puts_unmatched_then_matched(table):
    matched = baseline_table(DATA.iloc[::2], "group", VARIABLES, groups=GROUPS)
    wide = side_by_side(table, matched)
    assert wide.columns.get_level_values(0).unique().tolist() == ["", "Before matching", "After matching"]
    assert ("After matching", "smd") in wide.columns
    assert len(wide) == len(table.table)
    other = baseline_table(DATA, "group", VARIABLES[:2], groups=GROUPS)
    with pytest.raises(ValueError, match="same rows"):
        side_by_side(table, other)


def test_bad_specs_raise_naming_the_variable():
    with pytest.raises(ValueError, match="'age'.*kind"):
        VariableSpec("age", "mean")
    with pytest.raises(KeyError, match="missing_col"):
        baseline_table(DATA, "group", [("missing_col", "M", "binary")])
    with pytest.raises(ValueError, match="'age' is declared binary"):
        baseline_table(DATA, "group", [("age", "Age", "binary")])
    with pytest.raises(ValueError, match="exactly two groups"):
        baseline_table(DATA.assign(group="x"), "group", [("age", "Age", "mean_sd")])
    assert math.isnan(smd_continuous([1.0], [2.0, 3.0]))
