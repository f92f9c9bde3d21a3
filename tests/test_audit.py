"""Findings of the consistency audit of the article."""
from __future__ import annotations

import pytest
from scipy.stats import chi2_contingency

from hcc_utils.reproduction.audit import FACTS, audit_article


@pytest.fixture(scope="module")
def audit():
    return audit_article()


def _row(table, rid, check):
    rows = table[(table["id"] == rid) & (table["check"] == check)]
    assert len(rows) == 1, (rid, check)
    return rows.iloc[0]


def test_chisq_check_is_pearson_without_correction(audit):
    # response.sd_p: 24 of 40 vs 16 of 86 (engine: hcc_utils.stats.contingency, as the book's tables)
    p = chi2_contingency([[24, 16], [16, 70]], correction=False)[1]
    assert f"p = {p:.4f}" in _row(audit[0], "response.sd_p", "chisq").recomputed


def test_pfs_event_percentage_does_not_add_up(audit):
    table, _ = audit
    row = _row(table, "survival.pfs_events", "percent")
    assert not row.consistent
    assert "84.9" in row.reason and "83.6" in row.reason


def test_third_line_percentage_does_not_add_up(audit):
    row = _row(audit[0], "thirdline.len", "percent")
    assert not row.consistent
    assert "45.0" in row.reason


def test_bclc_percentage_off_by_rounding(audit):
    row = _row(audit[0], "baseline.bclc_c", "percent")
    assert not row.consistent
    assert "86.5" in row.reason


def test_grade34_p_not_from_counts(audit):
    table, excluded = audit
    row = _row(table, "safety.g34_p", "chisq")
    assert not row.consistent
    assert "0.716" in row.reason
    assert "safety.g34_p" in excluded


def test_any_ae_p_off(audit):
    table, excluded = audit
    row = _row(table, "safety.any_p", "chisq")
    assert not row.consistent
    assert "0.292" in row.reason
    assert "safety.any_p" in excluded


def test_only_unsatisfiable_ids_are_excluded(audit):
    _, excluded = audit
    assert set(excluded) == {"safety.any_p", "safety.g34_p"}


def test_consistent_p_values(audit):
    table, _ = audit
    for rid in ("baseline.child_pugh_a_p", "response.orr_p", "response.orr_p_matched", "thirdline.p",
                "safety.disc_p", "safety.hfs_p", "response.dcr_p_matched"):
        assert _row(table, rid, "chisq").consistent, rid


def test_cox_results_are_wald_consistent(audit):
    table, _ = audit
    for rid in ("cox.os_cp_b_p", "cox.os_pivka_p", "cox.pfs_ehm_p", "cox.pfs_sor_p"):
        assert _row(table, rid, "wald").consistent, rid


def test_flow_adds_up(audit):
    table, _ = audit
    sums = table[table["check"] == "sum"]
    assert sums["consistent"].all()


def test_grade34_total_tension(audit):
    row = _row(audit[0], "safety.g34_sor", "g34_feasible")
    assert not row.consistent


def test_every_fact_has_a_location():
    assert all(f.get("where") for f in FACTS)


def test_percentages_without_counts_are_achievable(audit):
    table, _ = audit
    assert table[table["check"] == "achievable"]["consistent"].all()


def test_third_line_type_comparison_among_recipients(audit):
    """With 'no third line' as a level, type P=0.920 could not coexist with receipt P=0.009."""
    row = _row(audit[0], "thirdline.os_type_sor_p", "logrank_bound")
    assert not row.consistent
    assert "recipients" in row.reason
    assert _row(audit[0], "thirdline.os_type_len_p", "logrank_bound").consistent
