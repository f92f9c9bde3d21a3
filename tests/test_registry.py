"""The registry of result ids: every number has a kind, unit and label, and is written as its kind says."""
from __future__ import annotations

import math

import pytest

from hcc_utils.study import compute_results
from hcc_utils.study.registry import Kind, ResultSet, display_value, parse_value, prose_value, status_of
from hcc_utils.data.readers import read_cohort
from hcc_utils.config import REPO_ROOT, load_config


@pytest.fixture(scope="module")
def results():
    return compute_results(read_cohort(REPO_ROOT / "data" / "synthetic_cohort.csv"), load_config())


def test_every_result_of_the_book_is_registered_with_a_kind_and_a_label(results):
    assert len(results) > 600
    assert set(results.specs) == set(results)
    assert all(spec.label for spec in results.specs.values())
    kinds = {spec.kind for spec in results.specs.values()}
    assert {Kind.COUNT, Kind.PERCENT, Kind.MONTHS, Kind.RATIO, Kind.P, Kind.LIST} <= kinds


@pytest.mark.parametrize("result_id, kind", [
    ("survival.os_median_treatment", Kind.MONTHS), ("survival.os_logrank_p", Kind.P), ("cox.os_cp_b_hr", Kind.RATIO),
    ("cox.os_cp_b_lo", Kind.RATIO), ("response.cr_treatment", Kind.COUNT), ("response.sd_control", Kind.PERCENT),
    ("baseline.age_median", Kind.QUANTITY), ("flow.eligible", Kind.COUNT), ("matching.caliper_width", Kind.WIDTH),
    ("cox.os_univariable_significant", Kind.LIST), ("safety.g34_treatment", Kind.PERCENT),
    ("safety.g34_n_control", Kind.COUNT), ("cox.os_uni_control_hr", Kind.RATIO), ("flow.enrolled_treatment", Kind.COUNT),
])
def test_kinds_follow_the_meaning_not_the_name(results, result_id, kind):
    assert results.spec(result_id).kind is kind


def test_units(results):
    assert results.spec("baseline.age_median").unit_text == "years"
    assert results.spec("baseline.cycles_median").unit_text == "cycles"
    assert results.spec("survival.os_median_treatment").unit_text == "months"


@pytest.mark.parametrize("kind, value, text", [
    (Kind.P, 0.0004, "<0.001"), (Kind.P, 0.0191, "0.019"), (Kind.P, math.nan, "not estimable"),
    (Kind.MONTHS, 5.55, "5.5"), (Kind.MONTHS, math.nan, "NR"), (Kind.RATIO, 2.4721, "2.472"),
    (Kind.RATIO, math.nan, "not estimable"), (Kind.COUNT, 36, "36"), (Kind.PERCENT, 84.9206, "84.9"),
    (Kind.LIST, ["ecog_2", "child_pugh_b"], "ecog 2, child pugh b"), (Kind.LIST, [], "none"),
])
def test_display_by_kind(kind, value, text):
    assert display_value(kind, value) == text


@pytest.mark.parametrize("kind, value, unit, text", [
    (Kind.MONTHS, 10.26, "", "10.3 months"), (Kind.MONTHS, math.nan, "", "not reached"),
    (Kind.QUANTITY, 64.0, "years", "64.0 years"), (Kind.QUANTITY, math.nan, "cycles", "not estimable"),
    (Kind.QUANTITY, 0.123, "SMD", "0.1"), (Kind.QUANTITY, 36.0, "pairs", "36.0"), (Kind.P, 0.0191, "", "0.019"),
    (Kind.PERCENT, 7.5, "", "7.5%"), (Kind.PERCENT, math.nan, "", "not estimable"),
])
def test_prose_writes_times_with_their_unit_and_a_median_not_reached_in_words(kind, value, unit, text):
    """In a sentence a survival time reads '10.3 months' or 'not reached' (a table's 'NR' followed by the typed
    word 'months' read "NR months"), a percentage '7.5%' or 'not estimable' (never "not estimable%"); units the
    sentence names itself (SMD, pairs) are not repeated."""
    assert prose_value(kind, value, unit=unit) == text


def test_prose_of_a_value_not_estimable_by_status_is_never_not_reached():
    """A median of a cohort that cannot be analysed is NaN like a median never reached: its status tells them
    apart (the prose said "not reached" for the matched medians when matching formed no pair)."""
    assert prose_value(Kind.MONTHS, math.nan, status="not estimable") == "not estimable"
    assert prose_value(Kind.MONTHS, math.nan, status="not reached") == "not reached"
    assert prose_value(Kind.PERCENT, 12.0, status="ok") == "12.0%"


def test_list_items_are_written_by_their_labels(results):
    spec = results.spec("cox.os_univariable_significant")
    shown = display_value(spec.kind, results["cox.os_univariable_significant"], spec.item_labels)
    assert "_" not in shown and "Child-Pugh B" in shown


def test_three_statuses_are_kept_apart():
    assert status_of(Kind.MONTHS, math.nan) == "not reached"
    assert status_of(Kind.RATIO, math.nan) == "not estimable"
    assert status_of(Kind.P, None) == "missing"
    assert status_of(Kind.P, 0.2) == "ok"


def test_parse_value_round_trip():
    assert parse_value(Kind.COUNT, "36") == 36
    assert math.isnan(parse_value(Kind.MONTHS, "NA"))
    assert parse_value(Kind.LIST, "a;b") == ["a", "b"]


def test_an_id_is_declared_once():
    first, second = ResultSet(), ResultSet()
    first.add("a.b", 1, Kind.COUNT)
    second.add("a.b", 2, Kind.COUNT)
    with pytest.raises(ValueError, match="computed twice"):
        first.merge(second)
    with pytest.raises(KeyError, match="not registered"):
        first.spec("a.c")


def test_a_whole_summary_of_whole_data_is_written_and_stored_without_decimals():
    """'4 cycles', '34 pairs', never '4.0 cycles' (issue 24): the section stores such a summary as an int
    (:func:`whole_summary`), which display_value writes whole and results.csv keeps whole; a float stays '4.0'."""
    from hcc_utils.report.recorder import _as_text
    from hcc_utils.study.registry import whole_summary

    assert whole_summary(4.0, True) == 4 and isinstance(whole_summary(4.0, True), int)
    assert whole_summary(4.5, True) == 4.5 and isinstance(whole_summary(4.0, False), float)
    assert prose_value(Kind.QUANTITY, whole_summary(4.0, True), unit="cycles") == "4 cycles"
    assert display_value(Kind.QUANTITY, whole_summary(34.0, True)) == "34"
    assert prose_value(Kind.QUANTITY, 4.0, unit="cycles") == "4.0 cycles"  # not declared whole: the defect shows
    stored = _as_text(whole_summary(63.0, True))
    assert stored == "63" and parse_value(Kind.QUANTITY, stored) == 63
    assert display_value(Kind.QUANTITY, parse_value(Kind.QUANTITY, stored)) == "63"
    assert display_value(Kind.QUANTITY, parse_value(Kind.QUANTITY, _as_text(63.0))) == "63.0"
