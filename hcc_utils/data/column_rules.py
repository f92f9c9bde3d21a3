"""Column-level validation rules: the columns present, and each cell against its dictionary entry.

:func:`check_columns` compares the file's column names with the data dictionary: ``missing_column`` (error,
a required column is absent), ``misspelled_column`` (an unknown column looks like an absent dictionary column:
"did you mean ...", with the ``extract.columns`` line that maps it), ``unknown_column`` and
``missing_optional_column`` (warnings).
:func:`check_cells` checks one converted column (:func:`hcc_utils.data.coerce.coerce_column`): ``encoding`` (a cell
holding U+FFFD, text lost in decoding), ``type`` (not a number, whole number, date or yes/no value; an ambiguous
number says why), ``allowed`` (category value not allowed) and ``range`` (outside min/max) are errors;
``plausible`` (outside the dictionary's plausible range), ``formula_text`` (text cells a spreadsheet would run as
formulas) and ``two_digit_year`` (the century two-digit years were read in) are warnings. Each cell gets one error
at most from ``encoding``, ``type`` and ``allowed``. Messages quote the value as the file has it
(:class:`DisplayValues`). The rules are listed in :mod:`hcc_utils.data.validate`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from hcc_utils.data.coerce import CoercedColumn
from hcc_utils.data.dictionary import ColumnSpec, DataDictionary
from hcc_utils.data.text import REPLACEMENT_CHARACTER, closest_name, formula_like, plural, undecoded
from hcc_utils.data.validation_report import ViolationCollector

__all__ = ["OPEN_CATEGORIES", "DisplayValues", "check_cells", "check_columns"]

_TYPE_PROBLEMS = {
    "number": "is not a number",
    "integer": "is not a whole number",
    "date": "is not a date (YYYY-MM-DD, or the format of extract.date_format)",
}
_ROWS_SHOWN = 10  # rows a column-level warning names before "..."
#: Categories whose dictionary list is not a closed set: another regimen is data (a warning, not an error).
OPEN_CATEGORIES = frozenset({"second_line_regimen", "third_line_regimen"})


class DisplayValues:
    """Per-position text of a column as the file has it (typed cells written as text)."""

    def __init__(self, coerced: CoercedColumn):
        self._coerced = coerced

    def __getitem__(self, position: int) -> str | None:
        return self._coerced.text_at(int(position))


def _format_limit(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# --------------------------------------------------------------------------- checks
def check_columns(
    names: list[str], dictionary: DataDictionary, collect: ViolationCollector
) -> None:
    present = set(names)
    known = dictionary.names
    unknown = [name for name in names if name not in dictionary]
    absent = [name for name in known if name not in present]
    claimed: set[str] = set()
    for name in unknown:
        candidate = closest_name(name, known)
        if candidate is not None and candidate in absent and candidate not in claimed:
            claimed.add(candidate)
            collect.table(
                "error" if dictionary.column(candidate).required != "optional" else "warning",
                "misspelled_column",
                f"column {name!r} is not in the data dictionary; did you mean {candidate!r}? "
                f"(column {candidate!r} is missing; rename the column, or map it in the configuration: "
                f"extract.columns: {{{name!r}: {candidate}}})",
                column=name,
            )
        elif candidate is not None:
            collect.table(
                "warning",
                "unknown_column",
                f"column {name!r} is not in the data dictionary and is ignored "
                f"(it looks like {candidate!r}, which is {'also present' if candidate in present else 'matched above'})",
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


def _rows_listed(collect: ViolationCollector, mask: np.ndarray) -> str:
    rows = collect.file_rows[np.flatnonzero(mask)]
    shown = ", ".join(str(int(row)) for row in rows[:_ROWS_SHOWN])
    return f"row{'s' if len(rows) > 1 else ''} {shown}{', ...' if len(rows) > _ROWS_SHOWN else ''}"


def _check_text_cells(spec: ColumnSpec, coerced: CoercedColumn, display: DisplayValues,
                      collect: ViolationCollector) -> np.ndarray:
    """Cells that lost text in decoding (errors; returned, so that no other rule reports them again) and text cells
    a spreadsheet would run as formulas (one warning for the column)."""
    text = coerced.text_array()
    if text is None or not pc.any(pc.match_substring_regex(text, f"^[=+\\-@]|{REPLACEMENT_CHARACTER}")).as_py():
        return np.zeros(len(coerced.invalid), dtype=bool)  # typed cells (Excel, Parquet), or nothing to report
    garbled = undecoded(text)
    collect.cells("error", "encoding", garbled, spec.name, display,
                  "value {value!r} holds U+FFFD (\ufffd), text lost in decoding: the file is not read in its own "
                  "encoding (set extract.encoding), or the text was lost before the export; correct the cell")
    if spec.type in ("string", "category"):
        formulas = formula_like(text) & ~garbled
        if formulas.any():
            collect.table("warning", "formula_text",
                          f"{plural(int(formulas.sum()), 'text cell')} start{'s' if formulas.sum() == 1 else ''} "
                          f"with '=', '+', '-' or '@' ({_rows_listed(collect, formulas)}): a spreadsheet opening "
                          "the file would run them as formulas; the build writes such cells into analysis.csv with "
                          "a leading ' so that they stay text", column=spec.name)
    return garbled


def check_cells(
    spec: ColumnSpec,
    coerced: CoercedColumn,
    display: DisplayValues,
    dictionary: DataDictionary,
    collect: ViolationCollector,
) -> None:
    name = spec.name
    garbled = _check_text_cells(spec, coerced, display, collect)
    invalid = coerced.invalid & ~garbled
    if invalid.any():
        if spec.type == "boolean":
            problem = (
                f"is not a yes/no value (use one of {', '.join(dictionary.boolean_true)} "
                f"or {', '.join(dictionary.boolean_false)})"
            )
        else:
            problem = _TYPE_PROBLEMS[spec.type]
        if coerced.hint:  # the detected or ambiguous date format says more than the generic sentence
            problem = f"is not a date; {coerced.hint}"
        messages = {}
        for position in np.flatnonzero(invalid):
            value = display[position]
            messages[int(position)] = f"value {value!r} {coerced.reasons.get(value, problem)}"
        collect.cells("error", "type", invalid, name, display, messages)
    if coerced.note:
        collect.table("warning", "two_digit_year", coerced.note, column=name)
    values = coerced.values
    if spec.allowed and name in OPEN_CATEGORIES:
        outside = coerced.outside(spec.allowed) & ~garbled
        if outside.any():
            counts = pd.Series(coerced.text[outside]).value_counts()
            for value, count in counts.items():
                collect.table("warning", "other_regimen",
                              f"{value!r} ({plural(int(count), 'patient')}) is not in the dictionary's list "
                              f"({', '.join(spec.allowed)}); it is read as another regimen", column=name)
    elif spec.allowed:
        not_allowed = coerced.outside(spec.allowed) & ~garbled
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
