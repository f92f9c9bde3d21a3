"""Clinical plausibility of a (synthetic) cohort: checks that a calibrated cohort still looks like real patients.

The calibration (:mod:`hcc_utils.synthetic.calibrate`) moves survival times and permutes covariates until the
book's analysis prints the article's numbers. A search that is free to do anything could get there with a cohort
no clinician would believe: five deaths on one day, a progression after death, a patient followed for longer than
the study lasted, a Kaplan-Meier curve that falls by a fifth at a single death. :func:`check_plausibility` lists
every such finding, so that tests can hold the bundled cohort to these rules:

``ties``
    no more than :data:`MAX_EVENTS_PER_DAY` events of one endpoint on the same day of follow-up in one group;
``pfs_after_os``
    progression-free survival never longer than overall survival, and no progression after death or after the
    last follow-up;
``accrual``
    second-line therapy started within the accrual window (:data:`ACCRUAL_START` to the data cut-off), no date
    after the cut-off, the file's cut-off equal to the study's (:data:`DATA_CUTOFF`), so that every censored
    follow-up time is at most the cut-off minus the start;
``range``
    every numeric covariate within the plausible range of the data dictionary (``plausible`` in
    ``data/data_dictionary.yml``);
``km_step``
    no step of a Kaplan-Meier curve of :data:`MIN_CURVE_SIZE` or more patients larger than :data:`MAX_KM_STEP`
    (the curves of the book: OS and PFS by group in the whole and the matched cohort, and OS by receipt of
    third-line therapy within each group).

Each finding names its rule, the group or column, and the patients concerned.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hcc_utils.config import StudyConfig, as_config
from hcc_utils.data.dictionary import DataDictionary, load_dictionary
from hcc_utils.stats.survival import km_steps
from hcc_utils.study import build_study
from hcc_utils.synthetic.plan import (ACCRUAL_START, DATA_CUTOFF, DAYS_PER_MONTH, MAX_EVENTS_PER_DAY, MAX_KM_STEP,
                                     MIN_CURVE_SIZE)

__all__ = ["Finding", "check_plausibility", "MAX_EVENTS_PER_DAY", "MAX_KM_STEP", "MIN_CURVE_SIZE", "RULES"]

#: The rules, in the order findings are reported.
RULES = ("ties", "pfs_after_os", "accrual", "range", "km_step")
_DATE_COLUMNS = ("second_line_start_date", "progression_date", "death_date", "last_followup_date")


@dataclass(frozen=True)
class Finding:
    """One violation of a plausibility rule.

    Attributes
    ----------
    rule : one of :data:`RULES`.
    subject : what is implausible: a group and endpoint, a column, a curve.
    patients : the patient ids concerned (empty for a finding about a whole curve).
    message : a sentence for a reader.
    """

    rule: str
    subject: str
    patients: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        who = f" [{', '.join(self.patients[:8])}{' ...' if len(self.patients) > 8 else ''}]" if self.patients else ""
        return f"{self.rule}: {self.subject}: {self.message}{who}"


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    values = frame[column].astype(object).where(frame[column].notna(), "").astype(str).str.strip()
    return pd.to_datetime(values.where(values != "", None), errors="coerce")


def check_plausibility(frame: pd.DataFrame, config: StudyConfig | dict | None = None,
                       dictionary: DataDictionary | None = None, accrual_start: pd.Timestamp = ACCRUAL_START,
                       data_cutoff: pd.Timestamp = DATA_CUTOFF) -> list[Finding]:
    """List every finding of the plausibility rules (module docstring) on a screened cohort.

    Parameters
    ----------
    frame : the screened cohort (one row per screened patient, canonical columns), as generated or as read by
        :func:`hcc_utils.data.readers.read_cohort`.
    config : study configuration (groups, matching); the bundled defaults when None.
    dictionary : data dictionary with the plausible ranges; the bundled one when None.
    accrual_start, data_cutoff : the study's accrual window (second-line starts) and data cut-off.

    Returns
    -------
    list of Finding
        Empty when the cohort is plausible; otherwise ordered by rule (:data:`RULES`).
    """
    config = as_config(config)
    dictionary = dictionary or load_dictionary()
    study = build_study(frame, config, validate=False)
    findings: list[Finding] = []
    findings += _ties(study.data)
    findings += _pfs_after_os(frame, study.data)
    findings += _accrual(frame, accrual_start, data_cutoff)
    findings += _ranges(frame, dictionary)
    findings += _km_steps(study.data)
    return findings


def _ties(data: pd.DataFrame) -> list[Finding]:
    out = []
    for group, part in data.groupby("group", sort=True, observed=True):
        for endpoint in ("os", "pfs"):
            events = part[part[f"{endpoint}_event"] == 1]
            days = np.rint(events[f"{endpoint}_months"].to_numpy(float) * DAYS_PER_MONTH).astype(int)
            values, counts = np.unique(days, return_counts=True)
            for day, count in zip(values, counts):
                if count > MAX_EVENTS_PER_DAY:
                    ids = tuple(events["patient_id"].astype(str)[days == day])
                    out.append(Finding("ties", f"{group} {endpoint.upper()}", ids,
                                       f"{count} events on day {day} of follow-up (at most {MAX_EVENTS_PER_DAY})"))
    return out


def _pfs_after_os(frame: pd.DataFrame, data: pd.DataFrame) -> list[Finding]:
    out = []
    longer = data[data["pfs_months"] > data["os_months"] + 1e-9]
    if len(longer):
        out.append(Finding("pfs_after_os", "PFS longer than OS", tuple(longer["patient_id"].astype(str)),
                           f"{len(longer)} patient(s) with progression-free survival longer than overall survival"))
    progression = _dates(frame, "progression_date")
    for column, what in (("death_date", "death"), ("last_followup_date", "last follow-up")):
        later = progression.notna() & _dates(frame, column).notna() & (progression > _dates(frame, column))
        if later.any():
            out.append(Finding("pfs_after_os", f"progression after {what}",
                               tuple(frame.loc[later, "patient_id"].astype(str)),
                               f"{int(later.sum())} progression date(s) after the {what}"))
    return out


def _accrual(frame: pd.DataFrame, accrual_start: pd.Timestamp, data_cutoff: pd.Timestamp) -> list[Finding]:
    out = []
    ids = frame["patient_id"].astype(str)
    cutoffs = _dates(frame, "data_cutoff_date")
    wrong_cutoff = cutoffs.notna() & (cutoffs != data_cutoff)
    if wrong_cutoff.any():
        out.append(Finding("accrual", "data_cutoff_date", tuple(ids[wrong_cutoff]),
                           f"cut-off is not the study's {data_cutoff.date()}"))
    start = _dates(frame, "second_line_start_date")
    outside = start.notna() & ((start < accrual_start) | (start > data_cutoff))
    if outside.any():
        out.append(Finding("accrual", "second_line_start_date", tuple(ids[outside]),
                           f"second-line start outside the accrual window {accrual_start.date()} to "
                           f"{data_cutoff.date()}"))
    for column in _DATE_COLUMNS[1:]:
        after = _dates(frame, column) > data_cutoff
        if after.any():
            out.append(Finding("accrual", column, tuple(ids[after]),
                               f"{int(after.sum())} date(s) after the data cut-off {data_cutoff.date()}: follow-up "
                               "longer than the cut-off minus the start"))
    return out


def _ranges(frame: pd.DataFrame, dictionary: DataDictionary) -> list[Finding]:
    out = []
    for spec in dictionary.columns:
        if spec.plausible is None or spec.name not in frame.columns:
            continue
        values = pd.to_numeric(frame[spec.name].astype(object).where(frame[spec.name].notna(), None), errors="coerce")
        low, high = spec.plausible
        outside = values.notna() & ((values < low) | (values > high))
        if outside.any():
            out.append(Finding("range", spec.name, tuple(frame.loc[outside, "patient_id"].astype(str)),
                               f"{int(outside.sum())} value(s) outside the plausible range {low:g} to {high:g}"))
    return out


def _curves(data: pd.DataFrame):
    """(name, part, endpoint) of the Kaplan-Meier curves the book draws."""
    for cohort, part in (("all", data), ("matched", data[data["matched"] == 1])):
        for group, sub in part.groupby("group", sort=True, observed=True):
            for endpoint in ("os", "pfs"):
                yield f"{endpoint.upper()} {group} ({cohort})", sub, endpoint
            received = sub["received_third_line"].astype(bool)
            for label, mask in (("third line", received), ("no third line", ~received)):
                yield f"OS {group}, {label} ({cohort})", sub[mask], "os"


def _km_steps(data: pd.DataFrame) -> list[Finding]:
    out = []
    for name, part, endpoint in _curves(data):
        if len(part) < MIN_CURVE_SIZE:
            continue
        curve = km_steps(part[f"{endpoint}_months"].to_numpy(float), part[f"{endpoint}_event"].to_numpy(int))
        drops = -np.diff(np.concatenate([[1.0], curve.survival]))
        worst = int(np.argmax(drops))
        if drops[worst] > MAX_KM_STEP + 1e-12:
            at = curve.time[worst]
            who = part[np.isclose(part[f"{endpoint}_months"].to_numpy(float), at) & (part[f"{endpoint}_event"] == 1)]
            out.append(Finding("km_step", name, tuple(who["patient_id"].astype(str)),
                               f"the curve of {len(part)} patients falls by {100 * drops[worst]:.1f} percentage points "
                               f"at {at:.1f} months (at most {100 * MAX_KM_STEP:.0f})"))
    return out
