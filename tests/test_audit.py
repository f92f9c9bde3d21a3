"""Findings of the consistency audit of the article."""
from __future__ import annotations

import pytest
from scipy.stats import chi2_contingency

from hcc_utils.reproduction.audit import FACTS, audit_article
from hcc_utils.reproduction.targets import TARGETS_PATH, load_targets


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
    assert p < 0.001 and _row(audit[0], "response.sd_p", "chisq").recomputed == "24/40 vs 16/86: p < 0.001"
    # response.orr_p: 3 of 40 vs 5 of 86 -> 0.718 uncorrected (Yates would give about 1.0)
    p = chi2_contingency([[3, 37], [5, 81]], correction=False)[1]
    assert _row(audit[0], "response.orr_p", "chisq").recomputed == f"3/40 vs 5/86: p = {p:.3f}" == "3/40 vs 5/86: p = 0.718"


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


def test_identical_impossible_for_p_values_fixed_by_the_published_counts():
    """3/40 vs 5/86 give an uncorrected chi-square p of 0.7179 (hand: X² = 0.1306 on 1 df), which prints 0.718:
    the article's 0.719 cannot be printed by any data set with its own counts."""
    from hcc_utils.reproduction.audit import identical_infeasible
    table, _ = audit_article()
    proofs = identical_infeasible(table)
    assert set(proofs) >= {"response.orr_p", "thirdline.p", "baseline.child_pugh_a_p"}
    assert "0.7179" in proofs["response.orr_p"] and "printed 0.718" in proofs["response.orr_p"]
    assert "printed <0.001" in proofs["baseline.child_pugh_a_p"]
    assert "response.dcr_p" not in proofs  # 27/40 vs 21/86 prints as published


def test_wald_printability_of_the_published_cox_results():
    """HR 1.991 (1.265-3.132): log limits 0.2351 and 1.1417 give SE 0.2313 and z 2.977, p 0.0029 — never 0.002.
    HR 2.472 (1.433-4.266) with P = 0.001 is printable (p about 0.00114)."""
    from hcc_utils.reproduction.audit import printed_interval, wald_printable
    ok, (low, high) = wald_printable("1.991", "1.265", "3.132", "0.002")
    assert not ok and 0.00285 < low < high < 0.00295
    ok, (low, high) = wald_printable("2.472", "1.433", "4.266", "0.001")
    assert ok and 0.0011 < low < high < 0.0012
    assert wald_printable("1.852", "1.142", "3.003", "0.012")[0]
    assert not wald_printable("1.852", "1.142", "3.003", "0.030")[0]
    assert printed_interval("0.012") == pytest.approx((0.0115, 0.0125))
    assert printed_interval("<0.001") == (0.0, 0.001)


def test_scorecard_shows_the_proof_and_the_basis_of_each_number():
    from hcc_utils.reproduction.audit import identical_infeasible
    from hcc_utils.reproduction.scorecard import score
    table, excluded = audit_article()
    targets = load_targets(TARGETS_PATH)
    scored = score({"response.orr_p": 0.7179, "thirdline.os_type_treatment_p": 0.5}, targets, excluded,
                   identical_infeasible(table)).set_index("id")
    assert scored.loc["response.orr_p", "tier"] == "close"
    assert scored.loc["response.orr_p", "reason"].startswith("identical impossible: ")
    assert scored.loc["response.orr_p", "basis"].startswith("reading: 2x2 comparisons by Pearson")
    assert scored.loc["thirdline.os_type_len_p", "basis"].startswith("reading: type of third-line therapy")
    assert scored.loc["flow.eligible", "basis"] == "the article's method"
