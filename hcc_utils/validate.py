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
    than ``config['validation']['min_patients_per_group']`` (default 10); ``all_censored`` no
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
    ``config['validation']['max_missing_share']`` (default 0.2) of enrolled patients;
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
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from hcc_utils.derive import enrolment_masks, study_groups
from hcc_utils.dictionary import ColumnSpec, DataDictionary, load_dictionary
from hcc_utils.io import CoercedColumn, coerce_column, normalise_column_name

__all__ = [
    "DEFAULT_MAX_MISSING_SHARE",
    "DEFAULT_MIN_PATIENTS_PER_GROUP",
    "CohortValidationError",
    "ValidationReport",
    "Violation",
    "validate_cohort",
]

#: Minimum enrolled patients per study group (``config['validation']['min_patients_per_group']``).
DEFAULT_MIN_PATIENTS_PER_GROUP = 10
#: Share of enrolled patients above which a missing optional variable is warned about
#: (``config['validation']['max_missing_share']``).
DEFAULT_MAX_MISSING_SHARE = 0.2
_EVENT_DATE_COLUMNS = ("second_line_start_date", "progression_date", "death_date", "last_followup_date")
_NOT_SHARE_CHECKED = {"deteriorated_after_first_line", "second_line_start_date", "progression_date", "death_date"}
_TYPE_PROBLEMS = {
    "number": "is not a number",
    "integer": "is not a whole number",
    "date": "is not a valid date in ISO 8601 form YYYY-MM-DD",
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


def _study_settings(config: Mapping[str, Any] | None) -> tuple[tuple[str, str], int, float]:
    config = config or {}
    settings = dict(config.get("validation") or {})
    minimum = int(settings.get("min_patients_per_group", DEFAULT_MIN_PATIENTS_PER_GROUP))
    share = float(settings.get("max_missing_share", DEFAULT_MAX_MISSING_SHARE))
    return study_groups(config), minimum, share


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
        Output of :func:`hcc_utils.io.read_cohort` (text or typed columns both work; column
        names are normalised again).
    source : str or os.PathLike
        File name shown in the report.
    config : mapping, optional
        Study configuration as a dict: ``groups`` (study regimens, default lenvatinib and
        sorafenib) and ``validation.min_patients_per_group`` (default 10),
        ``validation.max_missing_share`` (default 0.2).
    dictionary : DataDictionary, optional
        Defaults to :func:`hcc_utils.dictionary.load_dictionary`.

    Returns
    -------
    ValidationReport
        ``.ok`` is False if there is any error; ``raise_if_invalid()`` raises
        :class:`CohortValidationError`.

    Raises
    ------
    ValueError
        If the configuration names groups that are not second-line regimens.
    """
    dictionary = dictionary or load_dictionary()
    groups, min_per_group, max_missing_share = _study_settings(config)
    source = str(source)
    names = [normalise_column_name(name) for name in df.columns]
    n_rows = len(df)
    column_order = {name: position for position, name in enumerate(dictionary.names)}
    for position, name in enumerate(names):
        column_order.setdefault(name, len(column_order) + position)

    first_position: dict[str, int] = {}
    duplicated_columns: list[str] = []
    for position, name in enumerate(names):
        if name in first_position:
            duplicated_columns.append(name)
        else:
            first_position[name] = position

    # Patient ids (as text) label every row-level violation.
    if "patient_id" in first_position:
        id_column = coerce_column(
            df.iloc[:, first_position["patient_id"]].reset_index(drop=True), dictionary.column("patient_id"), dictionary
        )
        patient_ids = id_column.text.to_numpy(dtype=object)
        patient_ids = np.where(pd.isna(patient_ids), None, patient_ids)
    else:
        patient_ids = np.full(n_rows, None, dtype=object)
    collect = _Collector(patient_ids, column_order)

    for name in sorted(set(duplicated_columns)):
        collect.table("error", "duplicate_column", f"column {name!r} appears more than once; only the first is checked", column=name)
    _check_columns(list(first_position), dictionary, collect)
    if n_rows == 0:
        collect.table("error", "empty", "the cohort has no data rows")
        return ValidationReport(source, 0, collect.sorted(collect.errors), collect.sorted(collect.warnings))

    # Per-column type, allowed set, range and plausibility.
    typed: dict[str, pd.Series] = {}
    invalid: dict[str, np.ndarray] = {}
    display: dict[str, _DisplayValues] = {}
    not_allowed_cells: dict[str, np.ndarray] = {}
    for spec in dictionary.columns:
        if spec.name in first_position:
            series = df.iloc[:, first_position[spec.name]].reset_index(drop=True)
            coerced = coerce_column(series, spec, dictionary)
            display[spec.name] = _DisplayValues(coerced)
            _check_cells(spec, coerced, display[spec.name], dictionary, collect)
            if spec.allowed:
                not_allowed_cells[spec.name] = coerced.outside(spec.allowed)
        else:
            coerced = coerce_column(pd.Series(np.full(n_rows, None, dtype=object)), spec, dictionary)
        typed[spec.name] = coerced.values
        invalid[spec.name] = coerced.invalid

    def usable(name: str) -> pd.Series:
        """Values that are present and not flagged as a wrong type or a disallowed category."""
        values = typed[name]
        if name in not_allowed_cells:
            return values.mask(not_allowed_cells[name])
        return values

    reason = usable("first_line_end_reason")
    regimen = usable("second_line_regimen")
    masks = enrolment_masks(reason, typed["deteriorated_after_first_line"], regimen, groups)
    enrolled = masks["enrolled"]
    n_enrolled = int(enrolled.sum())

    # Required values.
    for spec in dictionary.columns:
        if spec.name not in first_position or spec.required == "optional":
            continue
        missing = (typed[spec.name].isna().to_numpy()) & ~invalid[spec.name]
        if spec.required == "always":
            collect.cells("error", "required", missing, spec.name, None, "value is missing (required for every patient)")
        else:
            collect.cells(
                "error",
                "required",
                missing & enrolled,
                spec.name,
                None,
                f"value is missing (required for enrolled patients: first line ended by progression, "
                f"no deterioration after it, second-line {' or '.join(groups)})",
            )
    has_regimen = (regimen.notna() & (regimen != "none")).to_numpy()
    start = typed["second_line_start_date"]
    if "second_line_start_date" in first_position or has_regimen.any():
        no_start = has_regimen & start.isna().to_numpy() & ~invalid["second_line_start_date"]
        regimen_text = regimen.to_numpy(dtype=object)
        collect.cells(
            "error",
            "required_with_regimen",
            no_start,
            "second_line_start_date",
            None,
            {int(p): f"value is missing although second_line_regimen is {regimen_text[p]!r}" for p in np.flatnonzero(no_start)},
        )
    start_without_regimen = (regimen == "none").to_numpy() & start.notna().to_numpy()
    collect.cells(
        "warning",
        "start_without_regimen",
        start_without_regimen,
        "second_line_start_date",
        display.get("second_line_start_date"),
        "value {value!r} is given although second_line_regimen is 'none'",
    )

    # Unique patient ids: name every row of each duplicated id.
    if "patient_id" in first_position:
        ids = pd.Series(patient_ids)
        duplicated = (ids.notna() & ids.duplicated(keep=False)).to_numpy()
        if duplicated.any():
            rows_of_id = (
                pd.Series(np.flatnonzero(duplicated) + 1).groupby(ids[duplicated].to_numpy()).agg(list).to_dict()
            )
            messages = {
                int(p): f"patient id {patient_ids[p]!r} appears in more than one row (rows "
                f"{', '.join(str(row) for row in rows_of_id[patient_ids[p]])})"
                for p in np.flatnonzero(duplicated)
            }
            collect.cells("error", "duplicate_id", duplicated, "patient_id", display.get("patient_id"), messages)

    # First-line end reason against second-line therapy.
    regimen_text = regimen.to_numpy(dtype=object)
    died_with_regimen = masks["died_on_first_line"] & has_regimen
    collect.cells(
        "error",
        "second_line_after_death",
        died_with_regimen,
        "second_line_regimen",
        display.get("second_line_regimen"),
        "value {value!r} is given but first_line_end_reason is 'death' (died during first-line treatment)",
    )
    deteriorated_with_regimen = masks["deteriorated_on_first_line"] & has_regimen
    collect.cells(
        "warning",
        "not_enrolled_with_regimen",
        deteriorated_with_regimen,
        "second_line_regimen",
        display.get("second_line_regimen"),
        "value {value!r} is given but first_line_end_reason is 'deterioration': the patient is counted as "
        "deteriorated on first line and not enrolled; please confirm",
    )
    excluded_with_regimen = masks["deteriorated_after_first_line"] & has_regimen
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
    flag = typed["deteriorated_after_first_line"].fillna(False).to_numpy(dtype=bool)
    flag_ignored = flag & reason.notna().to_numpy() & ~masks["progressed"]
    collect.cells(
        "warning",
        "deterioration_flag_ignored",
        flag_ignored,
        "deteriorated_after_first_line",
        display.get("deteriorated_after_first_line"),
        "value {value!r} is ignored because first line did not end by progression",
    )

    # Dates: cut-off, order, events after death.
    cutoff = typed["data_cutoff_date"]
    for name in _EVENT_DATE_COLUMNS:
        after_cutoff = (typed[name] > cutoff).to_numpy()
        collect.cells(
            "error",
            "after_cutoff",
            after_cutoff,
            name,
            display.get(name),
            _pairwise_messages("value '{first}' is after data_cutoff_date {second}", typed[name], cutoff, after_cutoff),
        )
    for name, what in (("progression_date", "progression"), ("death_date", "death"), ("last_followup_date", "last follow-up")):
        before_start = (typed[name] < start).to_numpy()
        collect.cells(
            "error",
            "date_order",
            before_start,
            name,
            display.get(name),
            _pairwise_messages(
                f"value '{{first}}' is before second_line_start_date {{second}} ({what} before the start of second-line therapy)",
                typed[name],
                start,
                before_start,
            ),
        )
    death = typed["death_date"]
    for name, what in (("progression_date", "progression"), ("last_followup_date", "last follow-up")):
        after_death = (typed[name] > death).to_numpy()
        collect.cells(
            "error",
            "after_death",
            after_death,
            name,
            display.get(name),
            _pairwise_messages(f"value '{{first}}' is after death_date {{second}} ({what} after death)", typed[name], death, after_death),
        )
    progression = typed["progression_date"]
    followup_before_progression = (typed["last_followup_date"] < progression).to_numpy() & death.isna().to_numpy()
    collect.cells(
        "warning",
        "followup_before_progression",
        followup_before_progression,
        "last_followup_date",
        display.get("last_followup_date"),
        _pairwise_messages(
            "value '{first}' is before progression_date {second}; the patient was known alive at progression",
            typed["last_followup_date"],
            progression,
            followup_before_progression,
        ),
    )
    distinct_cutoffs = cutoff.dropna().nunique()
    if distinct_cutoffs > 1:
        collect.table(
            "warning",
            "several_cutoffs",
            f"data_cutoff_date takes {distinct_cutoffs} different values; each row is checked against its own",
            column="data_cutoff_date",
        )

    # Cohort-level requirements of the analyses.
    group_of_row = np.where(enrolled, regimen_text, None)
    for group in groups:
        size = int((group_of_row == group).sum())
        if size < min_per_group:
            collect.table(
                "error",
                "group_size",
                f"study group {group!r} has {size} enrolled patient(s); the analyses need at least {min_per_group} "
                "(config validation.min_patients_per_group)",
                column="second_line_regimen",
            )
    if n_enrolled > 0:
        os_events = death.notna().to_numpy() & enrolled
        pfs_events = (death.notna() | progression.notna()).to_numpy() & enrolled
        for endpoint, events, column in (("overall survival", os_events, "death_date"),
                                         ("progression-free survival", pfs_events, "progression_date")):
            if not events.any():
                collect.table(
                    "error",
                    "all_censored",
                    f"none of the {n_enrolled} enrolled patients has an event: {endpoint} is censored for everyone "
                    "and cannot be estimated",
                    column=column,
                )
                continue
            for group in groups:
                in_group = group_of_row == group
                if in_group.any() and not (events & in_group).any():
                    collect.table(
                        "warning",
                        "group_all_censored",
                        f"no {endpoint} event in study group {group!r}: its curve cannot reach a median",
                        column=column,
                    )
        for spec in dictionary.columns:
            if spec.required != "optional" or spec.name in _NOT_SHARE_CHECKED or spec.name not in first_position:
                continue
            n_missing = int((typed[spec.name].isna().to_numpy() & enrolled).sum())
            if n_missing / n_enrolled > max_missing_share:
                collect.table(
                    "warning",
                    "missing_share",
                    f"value missing for {n_missing} of {n_enrolled} enrolled patients ({n_missing / n_enrolled:.0%}); "
                    "analyses using it lose these patients",
                    column=spec.name,
                )

    return ValidationReport(source, n_rows, collect.sorted(collect.errors), collect.sorted(collect.warnings))
