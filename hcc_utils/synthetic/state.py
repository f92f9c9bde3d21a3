"""The calibration's search state: the enrolled patients of a generated cohort as arrays, and back."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hcc_utils.config import StudyConfig
from hcc_utils.data.derive import analysis_table
from hcc_utils.study.matching import match_cohort
from hcc_utils.synthetic.plan import DATA_CUTOFF, FIRST_START, MAX_EVENTS_PER_DAY, study_settings


@dataclass
class SearchState:
    raw: pd.DataFrame            # the full screened cohort (modified in place at write-back)
    rows: np.ndarray             # positions of enrolled patients in raw
    group: np.ndarray            # 1 = treatment (lenvatinib), 0 = control
    matched: np.ndarray
    subset: np.ndarray           # 0..3 = group x matched
    start: np.ndarray            # second-line start, days since FIRST_START
    os_t: np.ndarray
    os_e: np.ndarray
    pfs_t: np.ndarray
    pfs_e: np.ndarray
    prog: np.ndarray             # 1 = the PFS event is a radiological progression
    enr: pd.DataFrame = field(repr=False, default=None)  # enrolled raw rows (as generated)
    E: np.ndarray = field(repr=False, default=None)      # the same values as an object matrix (swapped in stage 2)
    col: dict = field(repr=False, default_factory=dict)  # column name -> position in E


def _days(series: pd.Series) -> np.ndarray:
    text = series.astype(object).where(series.notna(), "").astype(str).str.strip()
    d = pd.to_datetime(text.where(text != "", None))
    return ((d - FIRST_START).dt.days).to_numpy()


def state_from_raw(raw: pd.DataFrame, config: StudyConfig | dict | None) -> SearchState:
    settings = study_settings(config)
    config = settings.config
    raw = raw.copy().reset_index(drop=True)
    groups = (settings.treatment, settings.control)
    reg = raw["second_line_regimen"].astype(str).str.lower()
    det = raw["deteriorated_after_first_line"].astype(str).isin(["1", "True", "true", "yes"])
    enrolled = (raw["first_line_end_reason"] == "progression") & ~det & reg.isin(groups)
    rows = np.flatnonzero(enrolled.to_numpy())
    table = analysis_table(raw, config)
    m = match_cohort(table, config).data
    assert list(m["patient_id"].astype(str)) == list(raw.loc[rows, "patient_id"].astype(str))
    enr = raw.loc[rows].reset_index(drop=True)
    start = _days(enr["second_line_start_date"])
    death = _days(enr["death_date"])
    last = _days(enr["last_followup_date"])
    progd = _days(enr["progression_date"])
    os_e = (~np.isnan(death)).astype(int)
    os_end = np.where(os_e == 1, death, last)
    prog = (~np.isnan(progd)).astype(int)
    pfs_end = np.where(prog == 1, progd, os_end)
    pfs_e = np.where(prog == 1, 1, os_e)
    group = (enr["second_line_regimen"] == groups[0]).to_numpy().astype(int)
    matched = m["matched"].to_numpy(dtype=int)
    return SearchState(raw, rows, group, matched, group * 2 + matched, start.astype(int), (os_end - start).astype(int),
                  os_e, (pfs_end - start).astype(int), pfs_e.astype(int), prog, enr,
                  enr.to_numpy(dtype=object, copy=True), {c: k for k, c in enumerate(enr.columns)})


def write_back(st: SearchState) -> pd.DataFrame:
    """Dates from the (possibly changed) times; start moved earlier when needed to respect the cut-off."""
    cutoff = (DATA_CUTOFF - FIRST_START).days
    start = np.minimum(st.start, cutoff - st.os_t)
    start = np.maximum(start, 0)
    base = np.datetime64(FIRST_START.date())

    def fmt(off, valid):
        return np.where(valid, (base + off.astype("timedelta64[D]")).astype(str), "")

    enr = pd.DataFrame(st.E, columns=st.enr.columns)
    enr["second_line_start_date"] = fmt(start, np.ones(len(enr), bool))
    enr["last_followup_date"] = fmt(start + st.os_t, np.ones(len(enr), bool))
    enr["death_date"] = fmt(start + st.os_t, st.os_e == 1)
    enr["progression_date"] = fmt(start + st.pfs_t, st.prog == 1)
    raw = st.raw.copy()
    for col in enr.columns:
        vals = enr[col].to_numpy()
        if raw[col].dtype.name == "Int64":
            raw[col] = raw[col].astype("Int64")
            raw.loc[st.rows, col] = pd.array(vals, dtype="Int64")
        else:
            raw[col] = raw[col].astype(object)
            raw.loc[st.rows, col] = vals
    return raw


def detie(t: np.ndarray, e: np.ndarray, limit: np.ndarray | None = None, lower: np.ndarray | None = None) -> None:
    """Make event times distinct by moving later duplicates one day at a time (in place)."""
    for _ in range(200):
        ev = np.flatnonzero(e == 1)
        vals, counts = np.unique(t[ev], return_counts=True)
        dup = vals[counts > 1]
        if dup.size == 0:
            return
        for v in dup:
            who = ev[t[ev] == v][1:]
            for j, i in enumerate(who):
                step = j + 1
                cand = t[i] + step
                if limit is not None and cand > limit[i]:
                    cand = t[i] - step
                if lower is not None and cand < lower[i]:
                    continue
                t[i] = cand


def ties_ok(st: "SearchState") -> bool:
    """Whether no group has more than MAX_EVENTS_PER_DAY events of OS, or of PFS, on one day of follow-up (the
    plausibility rule; checked after every move that changes times)."""
    for t, e in ((st.os_t, st.os_e), (st.pfs_t, st.pfs_e)):
        keys = (t * 2 + st.group)[e == 1]
        if keys.size and np.bincount(keys).max() > MAX_EVENTS_PER_DAY:
            return False
    return True
