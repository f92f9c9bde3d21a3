"""Validate a screened cohort against the data dictionary and the study's logic.

:func:`validate_cohort` runs every check and returns a :class:`ValidationReport` holding
*all* errors and warnings at once, so a data owner can fix an extract in one pass.
The checks are vectorised pandas/numpy operations (a million rows validate in seconds);
Python work is proportional to the number of violations only.

Why not pandera: its lazy failure cases cover per-column type/range checks, but most rules
here are conditional (required when enrolled, date order, group sizes) and the report needs
the file's original text, the patient id and a rule-specific sentence for each cell. Plain
vectorised checks give all of that directly and faster.

Rules (``Violation.rule``)
--------------------------
Errors
    ``empty`` no data rows; ``missing_column`` a required (always / enrolled) column is absent;
    ``misspelled_column`` an unknown column looks like an absent dictionary column ("did you
    mean ..."); ``duplicate_column``; ``type`` not a number / not a whole number / not an ISO date
    / not a yes-no value; ``allowed`` category value not allowed; ``range`` outside min/max;
    ``required`` value missing (``always`` columns in every row, ``enrolled`` columns in enrolled
    rows); ``required_with_regimen`` no ``second_line_start_date`` although a regimen is given;
    ``duplicate_id``; ``after_cutoff`` a date after ``data_cutoff_date``; ``date_order``
    progression, death or last follow-up before the second-line start; ``after_death``
    progression or last follow-up after death; ``second_line_after_death`` a second-line regimen
    although first line ended by death; ``group_size`` fewer enrolled patients in a study group
    than ``config.min_group_size``; ``all_censored`` no
    OS (or no PFS) event among the enrolled patients.
Warnings
    ``unknown_column`` (ignored column); ``missing_optional_column``; ``plausible`` outside the
    dictionary's plausible range; ``not_enrolled_with_regimen`` first line ended by
    deterioration, or deterioration after first line, yet a second-line regimen is recorded
    (the patient is excluded as in the article's flow, so the data owner should confirm);
    ``deterioration_flag_ignored`` ``deteriorated_after_first_line`` set although first line did
    not end by progression; ``start_without_regimen``; ``followup_before_progression``
    ``last_followup_date`` earlier than ``progression_date`` (the patient was alive at
    progression); ``missing_share`` an optional analysis variable missing for more than
    ``config.max_missing_share`` of enrolled patients;
    ``group_all_censored`` no OS/PFS event in one group; ``several_cutoffs``.

A first line ended by *death* with a second-line regimen is an error because it is impossible;
a first line ended by *deterioration* with a regimen is only a warning because it can happen
clinically, and the study definition (excluded) is applied as documented.

Privacy: a violation quotes only its own row (the patient id, the cell, and for date rules the
other date of the same row); nothing is logged. The report is for the data owner, not the book.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from hcc_utils.config import StudyConfig, as_config
from hcc_utils.data.derive import enrolment_masks, study_groups
from hcc_utils.data.dictionary import ColumnSpec, DataDictionary, load_dictionary
from hcc_utils.data.readers import CoercedColumn, coerce_column, normalise_column_name

__all__ = [
    "CohortValidationError",
    "ValidationReport",
    "Violation",
    "validate_cohort",
]

_NOT_SHARE_CHECKED = {"deteriorated_after_first_line", "second_line_start_date", "progression_date", "death_date"}
_TYPE_PROBLEMS = {
    "number": "is not a number",
    "integer": "is not a whole number",
    "date": "is not a valid date in ISO 8601 form YYYY-MM-DD (years 1900 to 2200)",
}


@dataclass(frozen=True)
class Violation:
    """One problem found in the cohort.

    Attributes
    ----------
    row_number : int or None
        Data row, 1 = first row below the header (file order); None for file-level problems.
    patient_id : str or None
        The row's patient id as written, if any.
    column : str or None
        The column concerned.
    value : str or None
        The cell's value as written in the file (normalised spaces/case), if relevant.
    rule : str
        Short rule id (see the module docstring).
    message : str
        What is wrong, in words.
    """

    row_number: int | None
    patient_id: str | None
    column: str | None
    value: str | None
    rule: str
    message: str

    def describe(self, source: str) -> str:
        """One line: ``source row N (patient X), column c: message [rule]``."""
        location = str(source)
        if self.row_number is not None:
            location += f" row {self.row_number}"
            location += f" (patient {self.patient_id})" if self.patient_id is not None else " (no patient id)"
        if self.column is not None:
            location += f", column {self.column}"
        return f"{location}: {self.message} [{self.rule}]"


@dataclass
class ValidationReport:
    """All violations of one cohort.

    Attributes
    ----------
    source : str
        File name shown in every line.
    n_rows : int
        Data rows checked.
    errors, warnings : list of Violation
        Sorted: file-level first, then by row and column order.
    """

    source: str
    n_rows: int
    errors: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def format(self, limit: int | None = None, warnings: bool = True) -> str:
        """Readable report, one line per violation.

        Parameters
        ----------
        limit : int, optional
            Show at most this many lines per section (the rest is counted).
        warnings : bool
            Include the warnings section.

        Returns
        -------
        str
        """
        lines = [
            f"Validation of {self.source}: {self.n_rows} data row(s), {len(self.errors)} error(s), "
            f"{len(self.warnings)} warning(s). Row 1 is the first data row below the header."
        ]
        sections = [("Errors", self.errors)] + ([("Warnings", self.warnings)] if warnings else [])
        for title, violations in sections:
            if not violations:
                continue
            lines.append(f"{title}:")
            shown = violations if limit is None else violations[:limit]
            lines += ["  " + violation.describe(self.source) for violation in shown]
            if len(shown) < len(violations):
                lines.append(f"  ... and {len(violations) - len(shown)} more")
        return "\n".join(lines)

    __str__ = format

    def to_frame(self) -> pd.DataFrame:
        """Violations as a table with a ``severity`` column (for export to the data owner)."""
        records = [{"severity": "error", **vars(v)} for v in self.errors]
        records += [{"severity": "warning", **vars(v)} for v in self.warnings]
        columns = ["severity", "row_number", "patient_id", "column", "value", "rule", "message"]
        return pd.DataFrame.from_records(records, columns=columns)

    def raise_if_invalid(self) -> "ValidationReport":
        """Raise :class:`CohortValidationError` if there is any error; otherwise return ``self``."""
        if self.errors:
            raise CohortValidationError(self)
        return self


class CohortValidationError(ValueError):
    """The cohort has validation errors; ``.report`` holds the full :class:`ValidationReport`."""

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__(report.format(limit=50))


# --------------------------------------------------------------------------- collecting violations
class _Collector:
    """Accumulates violations from boolean masks (Python work only per violation)."""

    def __init__(self, patient_ids: np.ndarray, column_order: Mapping[str, int]):
        self.patient_ids = patient_ids
        self.column_order = column_order
        self.errors: list[Violation] = []
        self.warnings: list[Violation] = []

    def _target(self, severity: str) -> list[Violation]:
        return self.errors if severity == "error" else self.warnings

    def table(self, severity: str, rule: str, message: str, column: str | None = None) -> None:
        """A file-level violation."""
        self._target(severity).append(Violation(None, None, column, None, rule, message))

    def cells(
        self,
        severity: str,
        rule: str,
        mask: np.ndarray,
        column: str,
        values: Sequence[Any] | np.ndarray | None,
        messages: str | Sequence[str],
    ) -> None:
        """Violations at the rows where ``mask`` is true.

        ``values`` and ``messages`` are aligned with the whole frame (indexed by position);
        a str ``messages`` is a template with ``{value}``.
        """
        positions = np.flatnonzero(mask)
        if positions.size == 0:
            return
        target = self._target(severity)
        ids = self.patient_ids[positions]
        shown = [None] * positions.size if values is None else [values[p] for p in positions]
        if isinstance(messages, str):
            texts = [messages.format(value=value) for value in shown]
        else:
            texts = [messages[p] for p in positions]
        target.extend(
            Violation(int(p) + 1, patient_id, column, value, rule, text)
            for p, patient_id, value, text in zip(positions, ids, shown, texts)
        )

    def sorted(self, violations: list[Violation]) -> list[Violation]:
        def key(violation: Violation) -> tuple:
            return (
                violation.row_number is not None,
                violation.row_number or 0,
                self.column_order.get(violation.column or "", -1),
                violation.rule,
            )

        return sorted(violations, key=key)


class _DisplayValues:
    """Per-position text of a column as the file has it (typed cells written as text)."""

    def __init__(self, coerced: CoercedColumn):
        self._coerced = coerced

    def __getitem__(self, position: int) -> str | None:
        return self._coerced.text_at(int(position))


def _format_limit(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _format_date(value: Any) -> str:
    return value.strftime("%Y-%m-%d")


def _pairwise_messages(template: str, first: pd.Series, second: pd.Series, mask: np.ndarray) -> dict[int, str]:
    """Messages quoting two dates of the same row, built only where ``mask`` is true."""
    return {
        int(position): template.format(first=_format_date(first.iloc[position]), second=_format_date(second.iloc[position]))
        for position in np.flatnonzero(mask)
    }


# --------------------------------------------------------------------------- checks
def _check_columns(
    names: list[str], dictionary: DataDictionary, collect: _Collector
) -> None:
    present = set(names)
    known = dictionary.names
    unknown = [name for name in names if name not in dictionary]
    absent = [name for name in known if name not in present]
    claimed: set[str] = set()
    for name in unknown:
        candidates = difflib.get_close_matches(name.replace(" ", "_").replace("-", "_"), known, n=1, cutoff=0.75)
        if candidates and candidates[0] in absent:
            match = candidates[0]
            claimed.add(match)
            collect.table(
                "error" if dictionary.column(match).required != "optional" else "warning",
                "misspelled_column",
                f"column {name!r} is not in the data dictionary; did you mean {match!r}? "
                f"(column {match!r} is missing)",
                column=name,
            )
        elif candidates:
            collect.table(
                "warning",
                "unknown_column",
                f"column {name!r} is not in the data dictionary and is ignored "
                f"(it looks like {candidates[0]!r}, which is also present)",
                column=name,
            )
        else:
            collect.table("warning", "unknown_column", f"column {name!r} is not in the data dictionary and is ignored", column=name)
    for name in absent:
        if name in claimed:
            continue
        spec = dictionary.column(name)
        if spec.required == "optional":
            collect.table(
                "warning", "missing_optional_column", f"optional column {name!r} is absent; read as empty", column=name
            )
        else:
            scope = "every patient" if spec.required == "always" else "enrolled patients"
            collect.table("error", "missing_column", f"required column {name!r} (needed for {scope}) is missing", column=name)


def _check_cells(
    spec: ColumnSpec,
    coerced: CoercedColumn,
    display: _DisplayValues,
    dictionary: DataDictionary,
    collect: _Collector,
) -> None:
    name = spec.name
    if coerced.invalid.any():
        if spec.type == "boolean":
            problem = (
                f"is not a yes/no value (use one of {', '.join(dictionary.boolean_true)} "
                f"or {', '.join(dictionary.boolean_false)})"
            )
        else:
            problem = _TYPE_PROBLEMS[spec.type]
        collect.cells("error", "type", coerced.invalid, name, display, f"value {{value!r}} {problem}")
    values = coerced.values
    if spec.allowed:
        not_allowed = coerced.outside(spec.allowed)
        collect.cells(
            "error", "allowed", not_allowed, name, display, f"value {{value!r}} is not one of {', '.join(spec.allowed)}"
        )
    if spec.type in ("number", "integer"):
        numbers = values.astype("float64").to_numpy()
        present = ~np.isnan(numbers)
        if spec.minimum is not None:
            below = present & (numbers < spec.minimum)
            collect.cells("error", "range", below, name, display, f"value {{value!r}} is below the minimum {_format_limit(spec.minimum)}")
        if spec.maximum is not None:
            above = present & (numbers > spec.maximum)
            collect.cells("error", "range", above, name, display, f"value {{value!r}} is above the maximum {_format_limit(spec.maximum)}")
        if spec.plausible is not None:
            low, high = spec.plausible
            within_limits = present.copy()
            if spec.minimum is not None:
                within_limits &= numbers >= spec.minimum
            if spec.maximum is not None:
                within_limits &= numbers <= spec.maximum
            implausible = within_limits & ((numbers < low) | (numbers > high))
            collect.cells(
                "warning",
                "plausible",
                implausible,
                name,
                display,
                f"value {{value!r}} is outside the plausible range {_format_limit(low)} to {_format_limit(high)}; please check it",
            )


def _study_settings(config: StudyConfig | Mapping[str, Any] | None) -> tuple[tuple[str, str], int, float]:
    config = as_config(config)
    return study_groups(config), config.min_group_size, config.max_missing_share


@dataclass
class _CohortView:
    """Typed columns and enrolment of the cohort under validation, shared by the checks."""

    dictionary: DataDictionary
    groups: tuple[str, str]
    present: dict[str, int]  # dictionary column -> position in the frame
    typed: dict[str, pd.Series]  # every dictionary column, typed (absent ones empty)
    invalid: dict[str, np.ndarray]  # wrong-type cells per column
    display: dict[str, _DisplayValues]  # original text per present column
    reason: pd.Series  # first_line_end_reason, disallowed values blanked
    regimen: pd.Series  # second_line_regimen, disallowed values blanked
    masks: dict[str, np.ndarray]  # flow boxes (derive.enrolment_masks)
    collect: _Collector

    @property
    def enrolled(self) -> np.ndarray:
        return self.masks["enrolled"]

    @property
    def has_regimen(self) -> np.ndarray:
        return (self.regimen.notna() & (self.regimen != "none")).to_numpy()


def _typed_view(
    df: pd.DataFrame, present: dict[str, int], dictionary: DataDictionary, groups: tuple[str, str], collect: _Collector
) -> _CohortView:
    """Convert every column, reporting type, allowed-set, range and plausibility violations."""
    typed: dict[str, pd.Series] = {}
    invalid: dict[str, np.ndarray] = {}
    display: dict[str, _DisplayValues] = {}
    not_allowed: dict[str, np.ndarray] = {}
    for spec in dictionary.columns:
        if spec.name in present:
            coerced = coerce_column(df.iloc[:, present[spec.name]].reset_index(drop=True), spec, dictionary)
            display[spec.name] = _DisplayValues(coerced)
            _check_cells(spec, coerced, display[spec.name], dictionary, collect)
            if spec.allowed:
                not_allowed[spec.name] = coerced.outside(spec.allowed)
        else:
            coerced = coerce_column(pd.Series(np.full(len(df), None, dtype=object)), spec, dictionary)
        typed[spec.name] = coerced.values
        invalid[spec.name] = coerced.invalid

    def allowed_only(name: str) -> pd.Series:
        return typed[name].mask(not_allowed[name]) if name in not_allowed else typed[name]

    reason = allowed_only("first_line_end_reason")
    regimen = allowed_only("second_line_regimen")
    masks = enrolment_masks(reason, typed["deteriorated_after_first_line"], regimen, groups)
    return _CohortView(dictionary, groups, present, typed, invalid, display, reason, regimen, masks, collect)


def _check_required_values(view: _CohortView) -> None:
    """``always`` columns in every row, ``enrolled`` columns in enrolled rows, start date with a regimen."""
    collect = view.collect
    for spec in view.dictionary.columns:
        if spec.name not in view.present or spec.required == "optional":
            continue
        missing = view.typed[spec.name].isna().to_numpy() & ~view.invalid[spec.name]
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
    rows_of_id = pd.Series(np.flatnonzero(duplicated) + 1).groupby(ids[duplicated].to_numpy()).agg(list).to_dict()
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


def _check_analysis_requirements(view: _CohortView, min_per_group: int, max_missing_share: float) -> None:
    """Group sizes, at least one OS and PFS event, and the share of missing optional variables."""
    collect, enrolled = view.collect, view.enrolled
    n_enrolled = int(enrolled.sum())
    group_of_row = np.where(enrolled, view.regimen.to_numpy(dtype=object), None)
    for group in view.groups:
        size = int((group_of_row == group).sum())
        if size < min_per_group:
            collect.table(
                "error",
                "group_size",
                f"study group {group!r} has {size} enrolled patient(s); the analyses need at least {min_per_group} "
                "(config min_group_size)",
                column="second_line_regimen",
            )
    if n_enrolled == 0:
        return
    death = view.typed["death_date"].notna().to_numpy()
    progression = view.typed["progression_date"].notna().to_numpy()
    for endpoint, events, column in (
        ("overall survival", death & enrolled, "death_date"),
        ("progression-free survival", (death | progression) & enrolled, "progression_date"),
    ):
        if not events.any():
            collect.table(
                "error",
                "all_censored",
                f"none of the {n_enrolled} enrolled patients has an event: {endpoint} is censored for everyone "
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
        n_missing = int((view.typed[spec.name].isna().to_numpy() & enrolled).sum())
        if n_missing / n_enrolled > max_missing_share:
            collect.table(
                "warning",
                "missing_share",
                f"value missing for {n_missing} of {n_enrolled} enrolled patients ({n_missing / n_enrolled:.0%}); "
                "analyses using it lose these patients",
                column=spec.name,
            )


def _patient_ids(df: pd.DataFrame, present: dict[str, int], dictionary: DataDictionary) -> np.ndarray:
    """Patient id text per row (None where missing or without an id column)."""
    if "patient_id" not in present:
        return np.full(len(df), None, dtype=object)
    coerced = coerce_column(df.iloc[:, present["patient_id"]].reset_index(drop=True), dictionary.column("patient_id"), dictionary)
    ids = coerced.text.to_numpy(dtype=object)
    return np.where(pd.isna(ids), None, ids)


def validate_cohort(
    df: pd.DataFrame,
    source: str | os.PathLike[str] = "cohort",
    config: Mapping[str, Any] | None = None,
    dictionary: DataDictionary | None = None,
) -> ValidationReport:
    """Check a screened cohort and report every error and warning at once.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`hcc_utils.data.readers.read_cohort` (text or typed columns both work; column
        names are normalised again).
    source : str or os.PathLike
        File name shown in the report.
    config : mapping, optional
        Study configuration as a dict: ``groups`` (study regimens, default lenvatinib and
        sorafenib), ``min_group_size`` (default 10) and ``max_missing_share`` (default 0.2).
    dictionary : DataDictionary, optional
        Defaults to :func:`hcc_utils.data.dictionary.load_dictionary`.

    Returns
    -------
    ValidationReport
        ``.ok`` is False if there is any error; ``raise_if_invalid()`` raises
        :class:`CohortValidationError`.

    Raises
    ------
    ValueError
        If the configuration names groups that are not second-line regimens.

    Examples
    --------
    >>> report = validate_cohort(read_cohort("cohort.csv"), source="cohort.csv", config=config)  # doctest: +SKIP
    >>> print(report.format())  # doctest: +SKIP
    """
    dictionary = dictionary or load_dictionary()
    groups, min_per_group, max_missing_share = _study_settings(config)
    names = [normalise_column_name(name) for name in df.columns]
    present: dict[str, int] = {}
    duplicated_columns: set[str] = set()
    for position, name in enumerate(names):
        if name in present:
            duplicated_columns.add(name)
        else:
            present[name] = position
    column_order = {name: position for position, name in enumerate(dictionary.names)}
    for name in names:
        column_order.setdefault(name, len(column_order))
    collect = _Collector(_patient_ids(df, present, dictionary), column_order)

    for name in sorted(duplicated_columns):
        collect.table("error", "duplicate_column", f"column {name!r} appears more than once; only the first is checked", column=name)
    _check_columns(list(present), dictionary, collect)
    if len(df) == 0:
        collect.table("error", "empty", "the cohort has no data rows")
    else:
        view = _typed_view(df, present, dictionary, groups, collect)
        _check_required_values(view)
        _check_unique_ids(view)
        _check_first_line_against_second_line(view)
        _check_dates(view)
        _check_analysis_requirements(view, min_per_group, max_missing_share)
    return ValidationReport(str(source), len(df), collect.sorted(collect.errors), collect.sorted(collect.warnings))
