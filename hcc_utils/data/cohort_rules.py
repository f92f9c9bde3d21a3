"""Cohort-level validation rules: values required by the study, unique patients, therapy lines, dates, analysability.

:func:`check_cohort` converts every dictionary column (reporting cell violations through
:func:`hcc_utils.data.column_rules.check_cells`), works out enrolment as the derivations do
(:func:`hcc_utils.data.derive.enrolment_masks`) and applies the rules that look at a whole row or the whole
cohort:

* required values: ``required`` (``always`` columns in every row, ``enrolled`` columns in enrolled rows),
  ``required_with_regimen``, ``start_without_regimen``;
* ``duplicate_id``;
* first against second line: ``second_line_after_death``, ``not_enrolled_with_regimen``,
  ``deterioration_flag_ignored``;
* dates: ``after_cutoff``, ``date_order``, ``after_death``, ``followup_before_progression``, ``several_cutoffs``;
* analysis requirements: ``group_size``, ``all_censored``, ``group_all_censored``, ``missing_share``.

The rules are described in :mod:`hcc_utils.data.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hcc_utils.data.coerce import cell_format, coerce_column
from hcc_utils.data.column_rules import OPEN_CATEGORIES, DisplayValues, check_cells
from hcc_utils.data.derive import enrolment_masks
from hcc_utils.data.dictionary import DataDictionary
from hcc_utils.data.text import closest_name, plural
from hcc_utils.data.validation_report import ViolationCollector

__all__ = ["check_cohort"]

#: Columns the whole-row rules read typed (with the date columns), and those whose original text they quote.
_ENROLMENT_COLUMNS = ("first_line_end_reason", "deteriorated_after_first_line", "second_line_regimen")
_QUOTED = {"patient_id", "second_line_regimen", "deteriorated_after_first_line", "second_line_start_date"}

_NOT_SHARE_CHECKED = {"deteriorated_after_first_line", "second_line_start_date", "progression_date", "death_date"}


def _format_date(value: Any) -> str:
    return value.strftime("%Y-%m-%d")


def _pairwise_messages(template: str, first: pd.Series, second: pd.Series, mask: np.ndarray) -> dict[int, str]:
    """Messages quoting two dates of the same row, built only where ``mask`` is true."""
    return {
        int(position): template.format(first=_format_date(first.iloc[position]), second=_format_date(second.iloc[position]))
        for position in np.flatnonzero(mask)
    }


# --------------------------------------------------------------------------- the cohort under validation
@dataclass
class _CohortView:
    """Typed columns and enrolment of the cohort under validation, shared by the checks."""

    dictionary: DataDictionary
    groups: tuple[str, str]
    present: dict[str, int]  # dictionary column -> position in the frame
    typed: dict[str, pd.Series]  # dictionary columns, typed (absent ones empty): those the rules read, or every one
    isna: dict[str, np.ndarray]  # missing (or unconvertible) cells per column
    invalid: dict[str, np.ndarray]  # wrong-type cells per column
    display: dict[str, DisplayValues]  # original text per present column
    reason: pd.Series  # first_line_end_reason, disallowed values blanked
    regimen: pd.Series  # second_line_regimen, disallowed values blanked
    masks: dict[str, np.ndarray]  # flow boxes (derive.enrolment_masks)
    collect: ViolationCollector

    @property
    def enrolled(self) -> np.ndarray:
        return self.masks["enrolled"]

    @property
    def has_regimen(self) -> np.ndarray:
        return (self.regimen.notna() & (self.regimen != "none")).to_numpy()


def _typed_view(
    df: pd.DataFrame, present: dict[str, int], dictionary: DataDictionary, groups: tuple[str, str],
    collect: ViolationCollector, extract: Any = None, keep_all: bool = True, file_info: dict | None = None,
) -> _CohortView:
    """Convert every column, reporting type, allowed-set, range and plausibility violations.

    A column at a time: each is checked when converted; its typed values (and original text) are kept only for the
    whole-row rules that read them (``keep_all`` keeps every column, for the analysis checks), the others leave only
    their missing and invalid masks."""
    kept = set(_ENROLMENT_COLUMNS) | {spec.name for spec in dictionary.columns_of_type("date")}
    typed: dict[str, pd.Series] = {}
    isna: dict[str, np.ndarray] = {}
    invalid: dict[str, np.ndarray] = {}
    display: dict[str, DisplayValues] = {}
    not_allowed: dict[str, np.ndarray] = {}
    for spec in dictionary.columns:
        if spec.name in present:
            coerced = coerce_column(df.iloc[:, present[spec.name]].reset_index(drop=True), spec, dictionary,
                                    cell_format(extract, spec.name, file_info))
            shown = DisplayValues(coerced)
            check_cells(spec, coerced, shown, dictionary, collect)
            if keep_all or spec.name in kept or spec.name in _QUOTED:
                display[spec.name] = shown
            if spec.allowed and spec.name not in OPEN_CATEGORIES and spec.name in _ENROLMENT_COLUMNS:
                not_allowed[spec.name] = coerced.outside(spec.allowed)
        else:
            coerced = coerce_column(pd.Series(np.full(len(df), None, dtype=object)), spec, dictionary)
        if keep_all or spec.name in kept:
            typed[spec.name] = coerced.values
        isna[spec.name] = coerced.values.isna().to_numpy()
        invalid[spec.name] = coerced.invalid
        del coerced

    def allowed_only(name: str) -> pd.Series:
        return typed[name].mask(not_allowed[name]) if name in not_allowed else typed[name]

    reason = allowed_only("first_line_end_reason")
    regimen = allowed_only("second_line_regimen")
    masks = enrolment_masks(reason, typed["deteriorated_after_first_line"], regimen, groups)
    return _CohortView(dictionary, groups, present, typed, isna, invalid, display, reason, regimen, masks, collect)


# --------------------------------------------------------------------------- rules
def _check_required_values(view: _CohortView) -> None:
    """``always`` columns in every row, ``enrolled`` columns in enrolled rows, start date with a regimen."""
    collect = view.collect
    for spec in view.dictionary.columns:
        if spec.name not in view.present or spec.required == "optional":
            continue
        missing = view.isna[spec.name] & ~view.invalid[spec.name]
        if spec.required == "always":
            collect.cells("error", "required", missing, spec.name, None, "value is missing (required for every patient)")
        else:
            collect.cells(
                "error",
                "required",
                missing & view.enrolled,
                spec.name,
                None,
                "value is missing (required for enrolled patients: first line ended by progression, "
                f"no deterioration after it, second-line {' or '.join(view.groups)})",
            )
    start = view.typed["second_line_start_date"]
    regimen_text = view.regimen.to_numpy(dtype=object)
    no_start = view.has_regimen & start.isna().to_numpy() & ~view.invalid["second_line_start_date"]
    collect.cells(
        "error",
        "required_with_regimen",
        no_start,
        "second_line_start_date",
        None,
        {int(p): f"value is missing although second_line_regimen is {regimen_text[p]!r}" for p in np.flatnonzero(no_start)},
    )
    start_without_regimen = (view.regimen == "none").to_numpy() & start.notna().to_numpy()
    collect.cells(
        "warning",
        "start_without_regimen",
        start_without_regimen,
        "second_line_start_date",
        view.display.get("second_line_start_date"),
        "value {value!r} is given although second_line_regimen is 'none'",
    )


def _check_unique_ids(view: _CohortView) -> None:
    """Every row of a duplicated patient id is reported, naming the rows that share it."""
    if "patient_id" not in view.present:
        return
    patient_ids = view.collect.patient_ids
    ids = pd.Series(patient_ids)
    duplicated = (ids.notna() & ids.duplicated(keep=False)).to_numpy()
    if not duplicated.any():
        return
    rows_of_id = pd.Series(view.collect.file_rows[duplicated]).groupby(ids[duplicated].to_numpy()).agg(list).to_dict()
    messages = {
        int(p): f"patient id {patient_ids[p]!r} appears in more than one row "
        f"(rows {', '.join(str(row) for row in rows_of_id[patient_ids[p]])})"
        for p in np.flatnonzero(duplicated)
    }
    view.collect.cells("error", "duplicate_id", duplicated, "patient_id", view.display.get("patient_id"), messages)


def _check_first_line_against_second_line(view: _CohortView) -> None:
    """Second-line therapy must follow a first line that ended by progression."""
    collect, masks, display = view.collect, view.masks, view.display
    regimen_text = view.regimen.to_numpy(dtype=object)
    collect.cells(
        "error",
        "second_line_after_death",
        masks["died_on_first_line"] & view.has_regimen,
        "second_line_regimen",
        display.get("second_line_regimen"),
        "value {value!r} is given but first_line_end_reason is 'death' (died during first-line treatment)",
    )
    collect.cells(
        "warning",
        "not_enrolled_with_regimen",
        masks["deteriorated_on_first_line"] & view.has_regimen,
        "second_line_regimen",
        display.get("second_line_regimen"),
        "value {value!r} is given but first_line_end_reason is 'deterioration': the patient is counted as "
        "deteriorated on first line and not enrolled; please confirm",
    )
    excluded_with_regimen = masks["deteriorated_after_first_line"] & view.has_regimen
    collect.cells(
        "warning",
        "not_enrolled_with_regimen",
        excluded_with_regimen,
        "deteriorated_after_first_line",
        display.get("deteriorated_after_first_line"),
        {
            int(p): f"value {display['deteriorated_after_first_line'][p]!r} excludes the patient although "
            f"second_line_regimen is {regimen_text[p]!r}; please confirm"
            for p in np.flatnonzero(excluded_with_regimen)
        },
    )
    flag = view.typed["deteriorated_after_first_line"].fillna(False).to_numpy(dtype=bool)
    collect.cells(
        "warning",
        "deterioration_flag_ignored",
        flag & view.reason.notna().to_numpy() & ~masks["progressed"],
        "deteriorated_after_first_line",
        display.get("deteriorated_after_first_line"),
        "value {value!r} is ignored because first line did not end by progression",
    )


def _report_date_pairs(
    view: _CohortView, rule: str, severity: str, column: str, other: str, later: bool, template: str
) -> None:
    """Report rows where date ``column`` is after (``later``) or before ``other`` of the same row."""
    first, second = view.typed[column], view.typed[other]
    wrong = (first > second if later else first < second).to_numpy()
    view.collect.cells(severity, rule, wrong, column, view.display.get(column), _pairwise_messages(template, first, second, wrong))


def _check_dates(view: _CohortView) -> None:
    """Cut-off, order relative to the second-line start, and nothing after death."""
    for spec in view.dictionary.columns_of_type("date"):
        if spec.name != "data_cutoff_date":
            _report_date_pairs(view, "after_cutoff", "error", spec.name, "data_cutoff_date", True,
                               "value '{first}' is after data_cutoff_date {second}")
    for column, what in (("progression_date", "progression"), ("death_date", "death"), ("last_followup_date", "last follow-up")):
        _report_date_pairs(view, "date_order", "error", column, "second_line_start_date", False,
                           f"value '{{first}}' is before second_line_start_date {{second}} ({what} before the start of "
                           "second-line therapy)")
    for column, what in (("progression_date", "progression"), ("last_followup_date", "last follow-up")):
        _report_date_pairs(view, "after_death", "error", column, "death_date", True,
                           f"value '{{first}}' is after death_date {{second}} ({what} after death)")
    followup, progression = view.typed["last_followup_date"], view.typed["progression_date"]
    alive_at_progression = (followup < progression).to_numpy() & view.typed["death_date"].isna().to_numpy()
    view.collect.cells(
        "warning",
        "followup_before_progression",
        alive_at_progression,
        "last_followup_date",
        view.display.get("last_followup_date"),
        _pairwise_messages(
            "value '{first}' is before progression_date {second}; the patient was known alive at progression",
            followup,
            progression,
            alive_at_progression,
        ),
    )
    distinct_cutoffs = view.typed["data_cutoff_date"].dropna().nunique()
    if distinct_cutoffs > 1:
        view.collect.table(
            "warning",
            "several_cutoffs",
            f"data_cutoff_date takes {distinct_cutoffs} different values; each row is checked against its own",
            column="data_cutoff_date",
        )


def _regimens_present(view: _CohortView, group: str) -> str:
    """For a group no patient is enrolled in: the regimens the data hold, with counts, and the closest one."""
    eligible = view.masks["second_line"]
    who = "patients eligible for second line (first line ended by progression, no deterioration)"
    if not eligible.any():
        eligible, who = view.has_regimen, "patients"
    regimens = view.regimen[eligible & view.has_regimen].value_counts()
    if regimens.empty:
        return "; no patient has a second-line regimen"
    listed = ", ".join(f"{name} ({count})" for name, count in sorted(regimens.items(), key=lambda kv: (-kv[1], kv[0])))
    others = [str(name) for name in regimens.index if name not in view.groups]
    close = closest_name(group, others, cutoff=0.6)
    return (f"; second-line regimens of the {who}: {listed}"
            + (f"; did you mean {close!r}?" if close else ""))


def _check_analysis_requirements(view: _CohortView, min_per_group: int, max_missing_share: float) -> None:
    """Group sizes, at least one OS and PFS event, and the share of missing optional variables."""
    collect, enrolled = view.collect, view.enrolled
    n_enrolled = int(enrolled.sum())
    group_of_row = np.where(enrolled, view.regimen.to_numpy(dtype=object), None)
    for role, group in zip(("treatment", "control"), view.groups):
        size = int((group_of_row == group).sum())
        if size < min_per_group:
            collect.table(
                "error",
                "group_size",
                f"study group {group!r} (groups.{role}) has {plural(size, 'enrolled patient')}; the analyses need "
                f"at least {min_per_group} (config min_group_size)" + (_regimens_present(view, group) if not size
                                                                      else ""),
                column="second_line_regimen",
            )
    if n_enrolled == 0:
        return
    death = view.typed["death_date"].notna().to_numpy()
    progression = view.typed["progression_date"].notna().to_numpy()
    for endpoint, events, columns in (
        ("overall survival", death & enrolled, ("death_date",)),
        ("progression-free survival", (death | progression) & enrolled, ("progression_date", "death_date")),
    ):
        column = columns[0]
        if any((view.invalid[name] & enrolled).any() for name in columns):
            continue  # dates in error may hold the events: the type errors say what to fix first
        if not events.any():
            collect.table(
                "error",
                "all_censored",
                f"none of the {plural(n_enrolled, 'enrolled patient')} has an event: {endpoint} is censored for everyone "
                "and cannot be estimated",
                column=column,
            )
            continue
        for group in view.groups:
            in_group = group_of_row == group
            if in_group.any() and not (events & in_group).any():
                collect.table(
                    "warning",
                    "group_all_censored",
                    f"no {endpoint} event in study group {group!r}: its curve cannot reach a median",
                    column=column,
                )
    for spec in view.dictionary.columns_required("optional"):
        if spec.name in _NOT_SHARE_CHECKED or spec.name not in view.present:
            continue
        n_missing = int((view.isna[spec.name] & enrolled).sum())
        if n_missing / n_enrolled > max_missing_share:
            collect.table(
                "warning",
                "missing_share",
                f"value missing for {n_missing} of the {plural(n_enrolled, 'enrolled patient')} "
                f"({n_missing / n_enrolled:.0%}); "
                "analyses using it lose these patients",
                column=spec.name,
            )


# --------------------------------------------------------------------------- all rules
def check_cohort(
    df: pd.DataFrame,
    present: dict[str, int],
    dictionary: DataDictionary,
    groups: tuple[str, str],
    collect: ViolationCollector,
    min_per_group: int,
    max_missing_share: float,
    extract: Any = None,
    keep_all: bool = True,
    file_info: dict | None = None,
) -> dict[str, pd.Series]:
    """Run every cell and cohort-level rule on a cohort with data rows, recording violations in ``collect``.

    Parameters
    ----------
    df : pandas.DataFrame
        The cohort (text or typed columns).
    present : dict
        Dictionary column name -> position of its (first) column in ``df``.
    dictionary : DataDictionary
    groups : tuple of str
        The two study regimens.
    collect : ViolationCollector
    min_per_group : int
        Minimum enrolled patients per study group.
    max_missing_share : float
        Share of enrolled patients above which a missing optional variable is warned about.
    extract : hcc_utils.config.extract.Extract, optional
        Date formats of the configuration (detected per column when undeclared).
    keep_all : bool
        Return every dictionary column typed (for the analysis checks); False keeps only the columns the rules
        read, so a build that derives its own table holds one converted column at a time.
    file_info : dict, optional
        What the reader learnt of the file (the frame's ``attrs``: CSV delimiter, Excel date system), for reading
        text cells as it did (:func:`hcc_utils.data.coerce.cell_format`).

    Returns
    -------
    dict of str to pandas.Series
        Every dictionary column, typed (for the analysis checks); with ``keep_all=False`` only those the rules read.
    """
    view = _typed_view(df, present, dictionary, groups, collect, extract, keep_all, file_info)
    _check_required_values(view)
    _check_unique_ids(view)
    _check_first_line_against_second_line(view)
    _check_dates(view)
    _check_analysis_requirements(view, min_per_group, max_missing_share)
    return view.typed
