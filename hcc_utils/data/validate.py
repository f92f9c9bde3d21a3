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
    mean ...", with the ``extract.columns`` line that maps it); ``duplicate_column``; ``encoding`` a cell holding
    U+FFFD (text lost in decoding); ``type`` not a number (or an ambiguous one, such as ``1,401`` without a declared
    thousands separator) / not a whole number / not a date / not a yes-no value; ``allowed`` category value not
    allowed; ``range`` outside min/max;
    ``required`` value missing (``always`` columns in every row, ``enrolled`` columns in enrolled
    rows); ``required_with_regimen`` no ``second_line_start_date`` although a regimen is given;
    ``duplicate_id``; ``after_cutoff`` a date after ``data_cutoff_date``; ``date_order``
    progression, death or last follow-up before the second-line start; ``after_death``
    progression or last follow-up after death; ``second_line_after_death`` a second-line regimen
    although first line ended by death; ``group_size`` fewer enrolled patients in a study group
    than ``config.min_group_size`` (a group without any: the regimens of the data, with counts, and the closest
    one); ``all_censored`` no OS (or no PFS) event among the enrolled patients.
Warnings
    ``encoding`` (the file's encoding was guessed with some doubt, or bytes did not decode: names the encoding
    and ``extract.encoding``); ``two_digit_year`` (the century two-digit years were read in);
    ``formula_text`` (text cells starting with ``=``, ``+``, ``-`` or ``@``, which the build quotes in
    ``analysis.csv``; the rule is :func:`hcc_utils.data.text.is_formula_like`);
    ``unknown_column`` (ignored column); ``missing_optional_column``; ``plausible`` outside the
    dictionary's plausible range; ``not_enrolled_with_regimen`` first line ended by
    deterioration, or deterioration after first line, yet a second-line regimen is recorded
    (the patient is excluded as in the article's flow, so the data owner should confirm);
    ``deterioration_flag_ignored`` ``deteriorated_after_first_line`` set although first line did
    not end by progression; ``start_without_regimen``; ``followup_before_progression``
    ``last_followup_date`` earlier than ``progression_date`` (the patient was alive at
    progression); ``missing_share`` an optional analysis variable missing for more than
    ``config.max_missing_share`` of enrolled patients;
    ``group_all_censored`` no OS/PFS event in one group; ``several_cutoffs``; ``other_regimen`` a regimen
    outside the dictionary's list (read as such: the list is not a closed set).
Analysis rules (:mod:`~hcc_utils.data.analysis_rules`, run with the run's configuration: validation predicts the build)
    errors ``unknown_variable``, ``variable_kind``, ``variable_name`` (the lists and variables of the configuration),
    ``group_size`` (a group of one patient), ``model_column_empty``, ``covariate_absent``, ``covariate_missing``,
    ``constant_covariate`` (matching), ``separation``, ``propensity_model``, ``baseline_levels``; warnings
    ``near_constant_covariate``, ``collinear_covariates``, ``ps_overlap``, ``unmatched``, ``matched_size``,
    ``few_events``, ``constant_covariate`` (Cox lists), ``no_event_in_level``. Each message names the key to change.
    They run in the same pass as the others. When cells have errors, they run on the cohort with the cells of
    wrong type, value or range read as missing; their findings are then marked provisional (a sentence at the
    top of the report and in each message), and a finding the cell errors explain (it is gone when every cell
    in error holds a valid value of its column: a ``covariate_missing`` of a row whose age is not a number) is
    not reported a second time. A build, which validates a file that ``hcc-study validate`` has passed, skips
    them when cells have errors.

Rows are those the author sees (Excel row, CSV line; the header is row 1). The configuration's ``extract.columns``
is applied here too, so a frame read without the configuration is validated with the author's names mapped.

A first line ended by *death* with a second-line regimen is an error because it is impossible;
a first line ended by *deterioration* with a regimen is only a warning because it can happen
clinically, and the study definition (excluded) is applied as documented.

Privacy: a violation quotes only its own row (the patient id, the cell, and for date rules the
other date of the same row); nothing is logged. The report is for the data owner, not the book.

Modules: :mod:`~hcc_utils.data.validation_report` (:class:`Violation`, :class:`ValidationReport`,
:class:`CohortValidationError`), :mod:`~hcc_utils.data.column_rules` (columns present, cell types, allowed sets,
ranges) and :mod:`~hcc_utils.data.cohort_rules` (required values, ids, therapy lines, dates, group sizes and
events); this module checks duplicate columns and empty files and runs them all.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Mapping

import numpy as np
import pandas as pd

from hcc_utils.config import StudyConfig, as_config
from hcc_utils.data.analysis_rules import check_analysis, check_variable_lists
from hcc_utils.data.coerce import coerce_column
from hcc_utils.data.cohort_rules import check_cohort
from hcc_utils.data.column_rules import check_columns
from hcc_utils.data.derive import study_groups
from hcc_utils.data.dictionary import ColumnSpec, DataDictionary
from hcc_utils.data.readers import release_freed_memory, rename_columns
from hcc_utils.data.text import closest_name, normalise_column_name, plural
from hcc_utils.data.validation_report import CohortValidationError, ValidationReport, Violation, ViolationCollector
from hcc_utils.data.variables import study_dictionary

__all__ = [
    "CohortValidationError",
    "ValidationReport",
    "Violation",
    "validate_cohort",
]

#: Rules whose cells hold a value the analysis cannot use: read as missing by the provisional analysis checks.
_UNUSABLE_CELL_RULES = frozenset({"encoding", "type", "allowed", "range"})
#: ... and with those, the rules of cells without a value: what a valid value in each would change is what these
#: errors explain.
_VALUE_CELL_RULES = _UNUSABLE_CELL_RULES | {"required", "required_with_regimen"}
_PROVISIONAL = " (provisional: found with the cells in error read as missing; check again once they are fixed)"


def _patient_ids(df: pd.DataFrame, present: dict[str, int], dictionary: DataDictionary) -> np.ndarray:
    """Patient id text per row (None where missing or without an id column)."""
    if "patient_id" not in present:
        return np.full(len(df), None, dtype=object)
    coerced = coerce_column(df.iloc[:, present["patient_id"]].reset_index(drop=True), dictionary.column("patient_id"), dictionary)
    ids = coerced.text.to_numpy(dtype=object)
    return np.where(pd.isna(ids), None, ids)


def _cells_in_error(collect: ViolationCollector, columns: Any, rules: frozenset) -> dict[str, np.ndarray]:
    """Positions of the cells (of ``columns``) with an error of ``rules``, by column."""
    position_of_row = {int(row): position for position, row in enumerate(collect.file_rows)}
    cells: dict[str, list[int]] = {}
    for violation in collect.errors:
        if violation.row_number is not None and violation.column in columns and violation.rule in rules:
            cells.setdefault(violation.column, []).append(position_of_row[violation.row_number])
    return {column: np.unique(positions) for column, positions in cells.items()}


def _blanked(typed: pd.DataFrame, cells: dict[str, np.ndarray]) -> pd.DataFrame:
    """``typed`` with the given cells missing."""
    columns = {}
    for name in typed.columns:
        column = typed[name]
        if name in cells:
            mask = np.zeros(len(column), dtype=bool)
            mask[cells[name]] = True
            column = column.mask(mask)
            if column.dtype == object:
                column = column.where(~mask, None)
        columns[name] = column
    return pd.DataFrame(columns, copy=False)


def _valid_value(column: pd.Series, spec: ColumnSpec) -> Any:
    """A valid value of a column: its first one, else one the dictionary allows (its lowest allowed value...)."""
    present = column.dropna()
    if len(present):
        return present.iloc[0]
    if spec.type == "category":
        return spec.allowed[0] if spec.allowed else "other"
    if spec.type in ("number", "integer"):
        return spec.minimum if spec.minimum is not None else 0
    if spec.type == "boolean":
        return False
    if spec.type == "date":
        return pd.Timestamp("2000-01-01")
    return "-"


def _filled(typed: pd.DataFrame, cells: dict[str, np.ndarray], dictionary: DataDictionary) -> pd.DataFrame:
    """``typed`` with the given cells holding a valid value of their column."""
    columns = {}
    for name in typed.columns:
        column = typed[name]
        if name in cells and name in dictionary:
            column = column.copy()
            column.iloc[cells[name]] = _valid_value(column, dictionary.column(name))
        columns[name] = column
    return pd.DataFrame(columns, copy=False)


def _analysis_findings(frame: pd.DataFrame, config: StudyConfig, groups: tuple[str, str],
                       collect: ViolationCollector) -> ViolationCollector:
    found = ViolationCollector(collect.patient_ids, collect.column_order, collect.file_rows)
    check_analysis(frame, config, groups, found)
    return found


def _groups_as_meant(frame: pd.DataFrame, config: StudyConfig, groups: tuple[str, str]
                     ) -> tuple[StudyConfig, tuple[str, str], str]:
    """The configuration with a study group that no patient received replaced by the regimen of the data its name
    most likely means (``ramucirumb`` -> ``ramucirumab``), so that a misspelt group does not hide the other analysis
    findings of the same pass; returns the configuration, the groups and the clause saying what was assumed."""
    if "second_line_regimen" not in frame:
        return config, groups, ""
    present = [str(name) for name in frame["second_line_regimen"].dropna().unique() if str(name) != "none"]
    meant, said = list(groups), []
    for index, (role, group) in enumerate(zip(("treatment", "control"), groups)):
        if group in present:
            continue
        close = closest_name(group, [name for name in present if name not in meant], cutoff=0.6)
        if close is not None:
            meant[index] = close
            said.append(f"groups.{role} as {close!r}")
    if not said:
        return config, groups, ""
    changed = config.replace(**{"groups.treatment": meant[0], "groups.control": meant[1]})
    return changed, (meant[0], meant[1]), f", and with {' and '.join(said)} (the closest regimen of the data)"


def _provisional_analysis(typed: dict[str, pd.Series], config: StudyConfig, groups: tuple[str, str],
                          collect: ViolationCollector, dictionary: DataDictionary, present: Any) -> str:
    """The analysis rules on the cohort with the unusable cells read as missing (``collect`` has cell errors).

    Findings are added to ``collect`` marked provisional, except those the cell errors explain: a finding that is
    gone when every cell without a usable value (and every cell of a missing required column) holds a valid value
    (a ``covariate_missing`` of a row whose age is not a number, a covariate empty because all its cells are in
    error) repeats an error already reported. Returns the sentence the report opens with.
    """
    frame = pd.DataFrame(typed, copy=False)
    config, groups, assumed = _groups_as_meant(frame, config, groups)
    unusable = _cells_in_error(collect, frame.columns, _UNUSABLE_CELL_RULES)
    n_unusable = sum(len(positions) for positions in unusable.values())
    analysed = _blanked(frame, unusable)
    try:
        found = _analysis_findings(analysed, config, groups, collect)
        if found.errors or found.warnings:  # which of them do the cell errors explain?
            in_error = _cells_in_error(collect, frame.columns, _VALUE_CELL_RULES)
            for spec in dictionary.columns:  # a required column absent (or misspelt) is an error of all its cells
                if spec.required != "optional" and spec.name not in present:
                    in_error[spec.name] = np.arange(len(frame))
            with_values = _analysis_findings(_filled(analysed, in_error, dictionary), config, groups, collect)
            robust = {(v.rule, v.column, v.row_number) for v in with_values.errors + with_values.warnings}
        else:
            robust = set()
    except ValueError as exc:  # a derivation the cell errors break: said, and checked again once they are fixed
        return (f"The analysis checks (propensity model, covariates, events) could not run while cells have errors "
                f"({exc}); run the validation again once they are fixed.")
    reported = 0
    for source, target in ((found.errors, collect.errors), (found.warnings, collect.warnings)):
        kept = [replace(violation, message=violation.message + _PROVISIONAL) for violation in source
                if (violation.rule, violation.column, violation.row_number) in robust]
        target.extend(kept)
        reported += len(kept)
    cells = f"the {plural(n_unusable, 'cell')} in error (type, value, range, encoding) read as missing" if n_unusable \
        else "the cells as they are"
    cells += assumed
    if not reported:
        return (f"The analysis checks (propensity model, covariates, events) found nothing more with {cells}; they "
                "run again once the errors are fixed.")
    return (f"The analysis checks (propensity model, covariates, events) ran with {cells}: their findings, marked "
            "provisional, may change once the errors are fixed (findings that only the cells in error cause are "
            "left out).")


def validate_cohort(
    df: pd.DataFrame,
    source: str | os.PathLike[str] = "cohort",
    config: StudyConfig | Mapping[str, Any] | None = None,
    dictionary: DataDictionary | None = None,
    shared: dict | None = None,
) -> ValidationReport:
    """Check a screened cohort and report every error and warning at once.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`hcc_utils.data.readers.read_cohort` (text or typed columns both work; column
        names are normalised again).
    source : str or os.PathLike
        File name shown in the report.
    config : StudyConfig or mapping, optional
        Study configuration (the schema's defaults when None): ``groups`` (study regimens, default lenvatinib and
        sorafenib), ``min_group_size`` (default 10), ``max_missing_share`` (default 0.2), ``extract`` (how text
        cells are written) and what the analysis rules need (matching, cut-points).
    dictionary : DataDictionary, optional
        Defaults to :func:`hcc_utils.data.dictionary.load_dictionary`; the configuration's variables are added and
        columns no configured analysis uses made optional (:func:`hcc_utils.data.variables.study_dictionary`).
    shared : dict, optional
        For a build that derives and matches after validating (:func:`hcc_utils.study.build_study`): its
        ``"analysis_table"`` callable gives the table the analysis rules check, and the propensity model and match
        they fit are left in it (``"propensity"``, ``"match"``) so that the build does not repeat them.

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
    config = as_config(config)
    dictionary = study_dictionary(config, dictionary)  # the configuration's variables; unused columns optional
    groups = study_groups(config)
    file_info = dict(df.attrs)  # what the reader learnt of the file: delimiter, date system, rows, notes
    file_rows = file_info.get("file_rows")
    if config.extract.columns:  # idempotent: a frame read with the configuration is already renamed
        df = df.set_axis(rename_columns([str(name) for name in df.columns], config.extract.columns, dictionary),
                         axis=1)
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
    collect = ViolationCollector(_patient_ids(df, present, dictionary), column_order, file_rows)
    for severity, rule, message, column in file_info.get("read_notes", ()):
        collect.table(severity, rule, message, column=column)
    check_variable_lists(config, collect)

    for name in sorted(duplicated_columns):
        collect.table("error", "duplicate_column", f"column {name!r} appears more than once; only the first is checked", column=name)
    check_columns(list(present), dictionary, collect)
    notes = []
    if len(df) == 0:
        collect.table("error", "empty", "the cohort has no data rows")
    else:
        own_table = bool(shared and "analysis_table" in shared)  # a build derives the table the analysis checks
        typed = check_cohort(df, present, dictionary, groups, collect, config.min_group_size,
                             config.max_missing_share, config.extract, keep_all=not own_table, file_info=file_info)
        if not collect.errors:  # the cohort as the build will analyse it
            frame = None if own_table else pd.DataFrame(typed, copy=False)
            del typed
            release_freed_memory()  # the typed columns' memory, before the analysis table and the propensity model
            check_analysis(frame, config, groups, collect, shared)
        elif not own_table:  # every problem in one pass: the analysis rules too, on the usable cells
            notes.append(_provisional_analysis(typed, config, groups, collect, dictionary, present))
    return ValidationReport(str(source), len(df), collect.sorted(collect.errors), collect.sorted(collect.warnings),
                            notes)
