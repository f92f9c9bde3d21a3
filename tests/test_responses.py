"""Best-response summary against R binom.test / chisq.test / fisher.test and by hand."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_utils.tables.responses import response_display, response_table, response_tables

REF = Path(__file__).parent / "reference"
STATS = json.loads((REF / "stats_reference.json").read_text())
DATA = pd.read_csv(REF / "matching_data.csv")
DATA["group"] = DATA["treatment"].map({1: "lenvatinib", 0: "sorafenib"})
GROUPS = ("lenvatinib", "sorafenib")


def _rows(table, measure):
    return table[table["measure"] == measure].set_index("group")


@pytest.mark.parametrize("measure", ["orr", "dcr"])
def test_rates_match_R_binom_test_and_chisq_test_correct_false(measure):
    ref = STATS["responses"][measure]
    rows = _rows(response_table(DATA, "group", "best_response_recist", groups=GROUPS), measure)
    assert rows.loc["lenvatinib", ["count", "n"]].tolist() == [ref["k1"], ref["n1"]]
    assert rows.loc["sorafenib", ["count", "n"]].tolist() == [ref["k0"], ref["n0"]]
    np.testing.assert_allclose(rows.loc["lenvatinib", ["ci_low", "ci_high"]].astype(float), np.array(ref["ci1"]) * 100, rtol=1e-6)
    np.testing.assert_allclose(rows.loc["sorafenib", ["ci_low", "ci_high"]].astype(float), np.array(ref["ci0"]) * 100, rtol=1e-6)
    assert rows["p"].iloc[0] == pytest.approx(ref["p_chisq"], rel=1e-6)
    assert (rows["test"] == "chisq").all()


@pytest.mark.parametrize("measure", ["orr", "dcr"])
def test_rates_match_R_fisher_test_under_fisher_rule(measure):
    rows = _rows(response_table(DATA, "group", "best_response_recist", groups=GROUPS, rule="fisher"), measure)
    assert rows["p"].iloc[0] == pytest.approx(STATS["responses"][measure]["p_fisher"], rel=1e-6)


def test_not_evaluable_stays_in_denominator_by_hand():
    # 126 patients: 10 CR, 97 PR, 5 SD, 4 PD, 10 NE -> ORR 107/126 = 84.9%, DCR 112/126
    resp = ["cr"] * 10 + ["pr"] * 97 + ["sd"] * 5 + ["pd"] * 4 + ["ne"] * 10
    df = pd.DataFrame({"g": ["a"] * 126 + ["b"] * 4, "r": resp + ["pd", "pd", "sd", "ne"]})
    t = response_table(df, "g", "r")
    orr = _rows(t, "orr").loc["a"]
    assert (orr["count"], orr["n"]) == (107, 126)
    assert round(orr["percent"], 1) == 84.9
    assert orr["text"].startswith("107 (84.9%; 95% CI ")
    assert _rows(t, "ne").loc["a", "count"] == 10
    assert _rows(t, "dcr").loc["a", "count"] == 112


def test_missing_responses_are_left_out_and_counted():
    df = DATA.copy()
    df["best_response_mrecist"] = df["best_response_recist"].str.upper()
    df.loc[df.index[:6], "best_response_mrecist"] = None
    t = response_tables(df, "group", groups=GROUPS)
    assert t["criterion"].unique().tolist() == ["RECIST 1.1", "mRECIST"]
    m = t[t["criterion"] == "mRECIST"]
    assert m.groupby("group")["missing"].first().sum() == 6
    assert m.groupby("group")["n"].first().sum() == 294
    wide = response_display(t)
    assert list(wide.columns) == ["criterion", "measure", "label", "lenvatinib", "sorafenib", "p"]
    assert len(wide) == 15  # 7 measures per criterion and a 'Not assessed (missing)' row for mRECIST
    missing = wide[wide["measure"] == "missing"]
    assert missing["criterion"].tolist() == ["mRECIST"]
    assert int(missing["lenvatinib"].iloc[0]) + int(missing["sorafenib"].iloc[0]) == 6


def test_unknown_response_category_raises_naming_column():
    df = DATA.assign(best_response_recist="partial")
    with pytest.raises(ValueError, match="'best_response_recist'.*partial"):
        response_table(df, "group", "best_response_recist")
