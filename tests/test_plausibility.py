"""Clinical plausibility of the bundled synthetic cohort (hcc_utils.synthetic.plausibility).

The bundled cohort must pass every rule; a copy broken in one way per rule must fail with a finding that names
the rule and the patients or group concerned.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hcc_utils.config import load_config
from hcc_utils.data.derive import DAYS_PER_MONTH, analysis_table
from hcc_utils.data.readers import read_cohort
from hcc_utils.synthetic.plausibility import Finding, check_plausibility

REPO = Path(__file__).resolve().parent.parent
COMMITTED = REPO / "data" / "synthetic_cohort.csv"


@pytest.fixture(scope="module")
def config():
    return load_config(REPO / "study.yml")


@pytest.fixture(scope="module")
def cohort():
    return read_cohort(COMMITTED)


@pytest.fixture(scope="module")
def table(cohort, config):
    return analysis_table(cohort, config)


def _rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def _shift(frame: pd.DataFrame, pid: str, column: str, days: int) -> None:
    """Move one patient's date by a number of days (in place)."""
    row = frame.index[frame["patient_id"] == pid][0]
    frame.loc[row, column] = pd.Timestamp(frame.loc[row, column]) + pd.Timedelta(days=days)


def test_bundled_cohort_is_plausible(cohort, config):
    findings = check_plausibility(cohort, config)
    assert findings == [], "\n".join(map(str, findings))


def test_five_deaths_on_one_day_are_named(cohort, config, table):
    broken = cohort.copy()
    dead = table[(table["group"] == "sorafenib") & (table["os_event"] == 1)]
    five = list(dead["patient_id"].astype(str)[:5])
    # the first day from 120 on when no other sorafenib patient dies: exactly the five die on it
    others = dead[~dead["patient_id"].astype(str).isin(five)]
    taken = {int(round(m * DAYS_PER_MONTH)) for m in others["os_months"]}
    death_day = next(d for d in range(120, 400) if not taken & {d - 1, d, d + 1})
    for pid in five:
        row = broken.index[broken["patient_id"] == pid][0]
        start = pd.Timestamp(broken.loc[row, "second_line_start_date"])
        day = start + pd.Timedelta(days=death_day)
        broken.loc[row, ["death_date", "last_followup_date"]] = day
        if pd.notna(broken.loc[row, "progression_date"]) and broken.loc[row, "progression_date"] >= day:
            broken.loc[row, "progression_date"] = day - pd.Timedelta(days=10)
    findings = [f for f in check_plausibility(broken, config) if f.rule == "ties"]
    assert findings, f"five deaths on day {death_day} were not found"
    os_finding = [f for f in findings if f.subject == "sorafenib OS"]
    assert len(os_finding) == 1 and f"5 events on day {death_day}" in os_finding[0].message
    assert set(five) <= set(os_finding[0].patients)


def test_progression_after_death_is_named(cohort, config, table):
    broken = cohort.copy()
    progressed = table[(table["os_event"] == 1) & (table["pfs_event"] == 1) & (table["pfs_months"] < table["os_months"])]
    pid = str(progressed["patient_id"].iloc[0])
    row = broken.index[broken["patient_id"] == pid][0]
    broken.loc[row, "progression_date"] = pd.Timestamp(broken.loc[row, "death_date"]) + pd.Timedelta(days=20)
    findings = [f for f in check_plausibility(broken, config) if f.rule == "pfs_after_os"]
    assert findings and all(pid in f.patients for f in findings)
    assert {f.subject for f in findings} >= {"progression after death"}


def test_censoring_after_cutoff_is_named(cohort, config, table):
    broken = cohort.copy()
    alive = table[table["os_event"] == 0]
    pid = str(alive["patient_id"].iloc[0])
    row = broken.index[broken["patient_id"] == pid][0]
    broken.loc[row, "last_followup_date"] = pd.Timestamp(broken.loc[row, "data_cutoff_date"]) + pd.Timedelta(days=45)
    findings = [f for f in check_plausibility(broken, config) if f.rule == "accrual"]
    assert [f.subject for f in findings] == ["last_followup_date"]
    assert findings[0].patients == (pid,)


def test_start_before_accrual_is_named(cohort, config, table):
    broken = cohort.copy()
    pid = str(table["patient_id"].iloc[3])
    row = broken.index[broken["patient_id"] == pid][0]
    broken.loc[row, "second_line_start_date"] = pd.Timestamp("2019-05-02")
    findings = [f for f in check_plausibility(broken, config) if f.rule == "accrual"]
    assert [(f.subject, f.patients) for f in findings] == [("second_line_start_date", (pid,))]
    assert "2019-08-01" in findings[0].message


def test_covariate_outside_plausible_range_is_named(cohort, config, table):
    broken = cohort.copy()
    pid = str(table["patient_id"].iloc[0])
    broken.loc[broken["patient_id"] == pid, "age"] = 101   # valid (max 110) but outside the plausible 30-95
    findings = [f for f in check_plausibility(broken, config) if f.rule == "range"]
    assert [(f.subject, f.patients) for f in findings] == [("age", (pid,))]


def test_large_kaplan_meier_step_is_named(cohort, config, table):
    """Lenvatinib OS (40 patients): 32 censored alive on day 10 leave 8 at risk with S = 1, so the first of their
    deaths (days 100-107) takes 12.5 points off the curve."""
    broken = cohort.copy()
    ids = list(table.loc[table["group"] == "lenvatinib", "patient_id"].astype(str))
    for k, pid in enumerate(ids):
        row = broken.index[broken["patient_id"] == pid][0]
        start = pd.Timestamp(broken.loc[row, "second_line_start_date"])
        end = start + pd.Timedelta(days=10 if k < 32 else 100 + k - 32)
        broken.loc[row, ["last_followup_date", "progression_date"]] = [end, pd.NaT]
        broken.loc[row, "death_date"] = pd.NaT if k < 32 else end
    findings = [f for f in check_plausibility(broken, config) if f.rule == "km_step"]
    finding = next(f for f in findings if f.subject == "OS lenvatinib (all)")
    assert "curve of 40 patients falls by 12.5 percentage points" in finding.message
    assert finding.patients == (ids[32],)


def test_findings_print_rule_subject_and_patients():
    finding = Finding("ties", "sorafenib OS", ("SYN1", "SYN2", "SYN3"), "3 events on day 4 of follow-up (at most 2)")
    assert str(finding) == "ties: sorafenib OS: 3 events on day 4 of follow-up (at most 2) [SYN1, SYN2, SYN3]"


def test_ties_count_events_not_censorings(cohort, config, table):
    """Three patients censored on one day are no finding: the rule counts events."""
    broken = cohort.copy()
    alive = table[(table["group"] == "sorafenib") & (table["os_event"] == 0) & (table["pfs_event"] == 0)]
    for pid in alive["patient_id"].astype(str)[:3]:
        row = broken.index[broken["patient_id"] == pid][0]
        start = pd.Timestamp(broken.loc[row, "second_line_start_date"])
        broken.loc[row, "last_followup_date"] = start + pd.Timedelta(days=33)
    assert "ties" not in _rules(check_plausibility(broken, config))
