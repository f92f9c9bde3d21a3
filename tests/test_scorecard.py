"""Tolerance rules of the scorecard, on hand-made cases."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from hcc_utils.reproduction.roles import align_targets
from hcc_utils.reproduction.scorecard import (distance, is_identical, is_met, load_targets, printed_decimals, rule_of,
                                              score, summary_line, close_note)
from hcc_utils.reproduction.summary import scorecard_report
from hcc_utils.reproduction.targets import article_terms

REPO = Path(__file__).resolve().parent.parent
TARGETS = REPO / "data" / "targets.csv"


@pytest.mark.parametrize("statistic,rule", [
    ("n", "count"), ("count", "count"), ("events", "count"), ("CR", "count"), ("PR", "count"),
    ("percent", "percent"), ("percent_SD", "percent"), ("median", "time"), ("q25", "time"),
    ("followup_q75", "time"), ("hr:child_pugh_b", "ratio"), ("ci_low:sorafenib", "ratio"),
    ("p", "p"), ("p:sorafenib", "p"), ("significant", "list"),
])
def test_rule_of(statistic, rule):
    assert rule_of(statistic) == rule


def test_rule_of_unknown():
    with pytest.raises(ValueError):
        rule_of("mean")


def test_counts_are_exact():
    assert is_met("count", "36", "36")
    assert is_met("count", "36", 36.0)
    assert not is_met("count", "36", "35")
    assert not is_met("count", "36", "NA")


def test_percent_compared_at_published_decimal():
    assert is_met("percent", "5.8", 100 * 5 / 86)          # 5.81 -> 5.8
    assert is_met("percent", "7.5", 7.5)
    assert is_met("percent", "54.7", 100 * 47 / 86)        # 54.65 -> 54.7 (half up)
    assert not is_met("percent", "86.6", 100 * 109 / 126)  # 86.51 -> 86.5
    assert not is_met("percent", "60.0", 100 * 23 / 40)


def test_time_within_tenth():
    assert is_met("time", "10.3", 10.35)
    assert is_met("time", "10.3", 10.2)
    assert not is_met("time", "10.3", 10.41)
    assert not is_met("time", "10.3", "NA")


def test_not_reached():
    assert is_met("time", "NA", "NA")
    assert is_met("time", "NA", float("nan"))
    assert not is_met("time", "NA", 14.2)
    assert distance("time", "NA", "NA") == 0


def test_ratio_within_five_percent():
    assert is_met("ratio", "2.472", 2.472 * 1.049)
    assert is_met("ratio", "2.472", 2.472 * 0.951)
    assert not is_met("ratio", "2.472", 2.472 * 1.06)


def test_p_same_side_and_within_001():
    assert is_met("p", "0.353", 0.36)
    assert not is_met("p", "0.353", 0.37)
    assert is_met("p", "0.044", 0.049)
    assert not is_met("p", "0.044", 0.051)        # within 0.01 but on the other side of 0.05
    assert not is_met("p", "0.055", 0.049)


def test_p_below_001_uses_0002():
    assert is_met("p", "0.007", 0.0089)
    assert not is_met("p", "0.007", 0.0095)
    assert is_met("p", "0.001", 0.0005)  # close: within 0.002 ...
    assert not is_identical("p", "0.001", 0.0005)  # ... but printed "<0.001", never "0.001"


def test_p_less_than():
    assert is_met("p", "<0.001", 0.0009)
    assert is_met("p", "<0.001", 1e-12)
    assert not is_met("p", "<0.001", 0.001)
    assert not is_met("p", "<0.001", 0.002)


def test_lists_are_sets():
    assert is_met("list", "a;b;c", "c;a;b")
    assert is_met("list", "a;b;c", ["b", "c", "a"])
    assert not is_met("list", "a;b;c", "a;b")
    assert not is_met("list", "a;b", "a;b;d")
    assert distance("list", "a;b", "a;c") == 2


def test_distance_in_tolerance_units():
    assert distance("time", "10.3", 10.4) == pytest.approx(1.0)
    assert distance("p", "0.353", 0.363) == pytest.approx(1.0)
    assert distance("count", "36", 34) == 2
    assert distance("count", "36", "NA") == 10


def test_score_statuses_and_summary():
    targets = pd.DataFrame({
        "id": ["a.n", "a.p", "a.med", "a.x"], "section": ["a"] * 4, "statistic": ["n", "p", "median", "p"],
        "value": ["10", "<0.001", "NA", "0.145"],
    })
    results = pd.DataFrame({"id": ["a.n", "a.p", "a.x"], "value": ["10", "0.0004", "0.7"]})
    scored = score(results, targets, excluded={"a.x": "not reproducible"})
    assert list(scored["status"]) == ["met", "met", "missing", "excluded"]
    assert list(scored["tier"]) == ["identical", "identical", "", ""]
    assert summary_line(scored) == "reproduced 2 of 3 published numbers (2 identical at printed precision)"


@pytest.mark.parametrize("rule, published, reproduced, identical", [
    # the article's own awkward cases (issue 12)
    ("time", "3.5", 3.433, False), ("time", "3.5", 3.45, True), ("time", "3.5", 3.5499, True),
    ("time", "3.5", 3.55, False), ("time", "1.4", 1.347, False), ("time", "5.50", 5.5, True),
    ("ratio", "2.472", 2.4724, True), ("ratio", "2.472", 2.4725, False), ("ratio", "4.266", 4.346, False),
    ("p", "0.012", 0.0085, False), ("p", "0.012", 0.0124, True), ("p", "0.012", 0.0115, True),
    ("p", "0.019", 0.0016, False), ("p", "0.001", 0.0005, False), ("p", "0.001", 0.0014, True),
    ("p", "0.001", 0.00099, False), ("p", "<0.001", 0.00099, True), ("p", "<0.001", 1e-12, True),
    ("p", "<0.001", 0.001, False), ("p", "0.04", 0.0449, True),
    ("percent", "7.5", 7.5, True), ("percent", "5.8", 5.814, True), ("percent", "5.8", 5.86, False),
    ("count", "36", 36, True), ("count", "36", 35, False),
    ("time", "NA", float("nan"), True), ("time", "NA", 12.0, False), ("ratio", "1.7", "NA", False),
    ("list", "a;b;c", "c;a;b", True), ("list", "a;b", "a", False),
])
def test_identical_means_equal_at_the_article_printed_precision(rule, published, reproduced, identical):
    assert is_identical(rule, published, reproduced) is identical


def test_printed_decimals():
    assert [printed_decimals(v) for v in ("3.50", "12", "<0.001", "2.472", "0.04")] == [2, 0, 3, 3, 2]


def test_close_and_identical_tiers_in_the_score():
    targets = pd.DataFrame({"id": ["m", "h"], "section": ["s", "s"], "statistic": ["median", "hr:x"],
                            "value": ["3.5", "2.472"]})
    scored = score({"m": 3.433, "h": 2.4721}, targets)
    assert list(scored["status"]) == ["met", "met"]
    assert list(scored["tier"]) == ["close", "identical"]
    assert summary_line(scored) == "reproduced 2 of 2 published numbers (1 identical at printed precision)"


def test_close_note_counts_the_close_numbers_without_a_proof():
    targets = pd.DataFrame({"id": ["m", "q", "p", "h"], "section": ["s"] * 4,
                            "statistic": ["median", "q25", "p", "hr:x"], "value": ["3.5", "1.6", "0.519", "2.472"]})
    # m and q close, p close with a proof, h identical
    scored = score({"m": 3.433, "q": 1.544, "p": 0.5195, "h": 2.4721}, targets,
                   not_identical={"p": "the counts fix p = 0.5195"})
    assert list(scored["tier"]) == ["close", "close", "close", "identical"]
    assert close_note(scored, synthetic=True).startswith("The other 2 close numbers depend on how the synthetic")
    assert close_note(scored, synthetic=False) == ("The other 2 close numbers come from this cohort as it is: "
                                                   "nothing in it was tuned to the article's values.")
    assert close_note(scored[scored.id.isin(["m", "h"])], synthetic=True).startswith("The other 1 close number depends")
    assert close_note(scored[scored.id.isin(["p", "h"])], synthetic=True) == ""


def test_report_on_targets_themselves(tmp_path):
    """Feeding the published values back gives every non-excluded number met."""
    targets = load_targets(TARGETS)
    results = targets[["id", "value"]].copy()
    results["id"] = [alignment.run_id for alignment in align_targets(targets).values()]  # the run's ids, by role
    lists = targets["statistic"] == "significant"  # published lists name the article's terms; results name columns
    results.loc[lists, "value"] = [";".join(sorted(article_terms(v))) for v in results.loc[lists, "value"]]
    path = tmp_path / "results.csv"
    results.to_csv(path, index=False)
    text = scorecard_report(path, TARGETS)
    last = text.strip().splitlines()[-1]
    n_excluded = text.count("\n  ") - 0  # lines of listings
    assert last.startswith("reproduced ")
    counts = last.replace("reproduced ", "").split(" published numbers")[0]
    n, m = (int(x) for x in counts.split(" of "))
    assert n == m
    assert last.endswith(f"({m} identical at printed precision)")
    assert m == len(targets) - 2  # safety.any_p and safety.g34_p excluded by the audit
    assert "safety.g34_p" in text and n_excluded >= 2


def test_nan_and_text_results():
    assert not is_met("ratio", "1.7", "abc")
    assert math.isclose(distance("ratio", "1.7", "abc"), 10)


def test_scorecard_joins_on_id_and_checks_the_recorded_kind():
    """A value recorded as a count cannot meet a published percentage, however close the number."""
    targets = pd.DataFrame([
        {"id": "response.sd_len", "section": "response", "statistic": "percent", "value": "40.0"},
        {"id": "flow.eligible", "section": "flow", "statistic": "n", "value": "194"},
    ])
    results = pd.DataFrame([
        {"id": "response.sd_treatment", "value": "40.0", "kind": "count", "unit": "patients"},
        {"id": "flow.eligible", "value": "194", "kind": "count", "unit": "patients"},
    ])
    scored = score(results, targets).set_index("id")
    assert scored.loc["response.sd_len", "status"] == "missed"
    assert "records a count" in scored.loc["response.sd_len", "reason"]
    assert scored.loc["flow.eligible", "status"] == "met"
    assert scored.loc["flow.eligible", "unit"] == "patients"
