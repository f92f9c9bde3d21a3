"""Adverse-event table against R chisq.test / fisher.test (tests/reference/stats_reference.json)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from hcc_utils.tables.adverse_events import adverse_event_display, adverse_event_table, adverse_event_terms

REF = Path(__file__).parent / "reference"
STATS = json.loads((REF / "stats_reference.json").read_text())
DATA = pd.read_csv(REF / "matching_data.csv")
DATA["group"] = DATA["treatment"].map({1: "lenvatinib", 0: "sorafenib"})
GROUPS = ("lenvatinib", "sorafenib")
TERMS = {"ae_hypertension": "Hypertension", "ae_proteinuria": "Proteinuria", "ae_rash": "Rash"}


def _cases():
    for key, ref in STATS["adverse_events"].items():
        term, _, section = key.partition(".")
        yield pytest.param(term, section or "summary", ref, id=key)


@pytest.mark.parametrize("term,section,ref", list(_cases()))
@pytest.mark.parametrize("rule,p_key", [("chisq", "p_chisq"), ("fisher", "p_fisher")])
def test_counts_and_p_match_R_chisq_test_and_fisher_test(term, section, ref, rule, p_key):
    t = adverse_event_table(DATA, "group", groups=GROUPS, terms=TERMS, rule=rule)
    rows = t[(t["term"] == term) & (t["section"] == section)].set_index("group")
    assert rows.loc["lenvatinib", "count"] == ref["k1"]
    assert rows.loc["sorafenib", "count"] == ref["k0"]
    assert rows.loc["lenvatinib", "n"] == 105 and rows.loc["sorafenib", "n"] == 195
    assert rows["p"].iloc[0] == pytest.approx(ref[p_key], rel=1e-6)


def test_event_absent_in_both_groups_has_no_p():
    t = adverse_event_table(DATA, "group", groups=GROUPS, terms=TERMS)
    rash = t[(t["term"] == "ae_rash")]
    assert (rash["count"] == 0).all()
    assert rash["p"].isna().all() and (rash["test"] == "none").all()


def test_grade_5_counts_as_any_grade_not_grade_3_4():
    df = pd.DataFrame({"g": ["a", "a", "b", "b"], "ae_x": [5, 3, 0, 4], "ae_led_to_discontinuation": [0, 1, 0, 0]})
    t = adverse_event_table(df, "g", terms={"ae_x": "X"})
    got = t.set_index(["section", "term", "group"])["count"]
    assert got[("any_grade", "ae_x", "a")] == 2 and got[("grade_3_4", "ae_x", "a")] == 1
    assert got[("summary", "ae_led_to_discontinuation", "a")] == 1
    assert got[("summary", "ae_any", "b")] == 1


def test_labels_come_from_the_data_dictionary():
    terms = adverse_event_terms()
    assert terms["ae_hand_foot_syndrome"] == "Hand-foot syndrome"
    assert list(adverse_event_terms(DATA)) == ["ae_proteinuria", "ae_hypertension", "ae_rash"]
    t = adverse_event_table(DATA, "group", groups=GROUPS)
    assert t.loc[t["term"] == "ae_hypertension", "label"].iloc[0] == "Hypertension"


def test_display_has_one_row_per_term_with_summary_first():
    t = adverse_event_table(DATA, "group", groups=GROUPS, terms=TERMS)
    wide = adverse_event_display(t)
    assert wide["term"].tolist()[:3] == ["ae_any", "ae_grade_3_4", "ae_led_to_discontinuation"]
    assert "lenvatinib grade 3-4" in wide.columns and len(wide) == 6
    hyp = wide.set_index("term").loc["ae_hypertension"]
    assert hyp["p (any grade)"] == f"{STATS['adverse_events']['ae_hypertension.any_grade']['p_chisq']:.3f}"


def test_missing_grade_raises_naming_patient():
    df = DATA.copy()
    df.loc[4, "ae_proteinuria"] = math.nan
    with pytest.raises(ValueError, match="'ae_proteinuria'.*P005"):
        adverse_event_table(df, "group", groups=GROUPS, terms=TERMS)
