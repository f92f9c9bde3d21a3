"""Read a cohort file (CSV, Excel, Parquet) into a normalised DataFrame.

The reader is the first gate for a hospital's own extract. It refuses files that are not a
table at all with a :class:`CohortFileError` naming the file, and otherwise returns every
row, leaving value-level problems to :func:`hcc_utils.validate.validate_cohort`, which reports
them all at once.

Normalisation
-------------
* column names: surrounding spaces removed, lower case;
* text cells: surrounding spaces removed; the dictionary's ``missing_values`` (``""``, ``NA``,
  ``N/A``, ``null`` ...) become missing; ``category`` values are lower-cased;
* typed columns are converted only when **every** non-missing value of the column converts:
  ``integer`` -> ``Int64``, ``number`` -> ``float64``, ``boolean`` -> ``boolean`` (spellings from
  the dictionary's ``boolean_true`` / ``boolean_false``), ``date`` -> ``datetime64[ns]``
  (ISO 8601 ``YYYY-MM-DD``; a time part is dropped). A column with an unconvertible value is
  kept as normalised text, so the validator can quote the value exactly as the file has it.

:func:`coerce_column` is the single conversion rule; the validator and the derivations use it too.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_numeric_dtype,
)

from hcc_utils.dictionary import ColumnSpec, DataDictionary, load_dictionary

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "CohortFileError",
    "CoercedColumn",
    "coerce_column",
    "normalise_column_name",
    "normalise_frame",
    "normalise_text",
    "read_cohort",
]

#: File extensions :func:`read_cohort` understands, and the reader of each.
SUPPORTED_EXTENSIONS = (".csv", ".xlsx", ".xlsm", ".xls", ".parquet")
_SNIFF_BYTES = 64 * 1024
_CANDIDATE_DELIMITERS = (",", ";", "\t")
_ISO_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"


class CohortFileError(ValueError):
    """The cohort file cannot be read as a table.

    Parameters
    ----------
    path : str or os.PathLike
        The offending file; its name starts the message.
    problem : str
        What is wrong and, where possible, how to fix it.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass(frozen=True)
class CoercedColumn:
    """Result of :func:`coerce_column`.

    Attributes
    ----------
    values : pandas.Series
        The column in its dictionary type; unconvertible cells are missing.
    text : pandas.Series
        The column as normalised text (object dtype, missing as ``None``/``NaN``), used
        to quote original values in messages.
    invalid : numpy.ndarray of bool
        True where the cell has a value that does not convert to the dictionary type.
    """

    values: pd.Series
    text: pd.Series
    invalid: np.ndarray


# --------------------------------------------------------------------------- text normalisation
def normalise_column_name(name: Any) -> str:
    """Column name as the dictionary spells it: ``str``, surrounding spaces removed, lower case."""
    return str(name).strip().lower()


def _cell_to_text(value: Any) -> Any:
    """One cell of a typed or mixed column (Excel, Parquet) as text; missing stays ``None``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))
    if isinstance(value, (_dt.datetime, pd.Timestamp)):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.strftime("%Y-%m-%d")
        return value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def normalise_text(series: pd.Series, missing_values: tuple[str, ...] = ("",), lower: bool = False) -> pd.Series:
    """Return ``series`` as text: stripped, optionally lower-cased, missing spellings as NaN.

    Parameters
    ----------
    series : pandas.Series
        Any dtype; numbers, booleans and dates are written as text first.
    missing_values : tuple of str
        Lower-case spellings that mean "empty".
    lower : bool
        Lower-case the result (category columns).

    Returns
    -------
    pandas.Series
        Object dtype, ``NaN`` where missing; same index as ``series``.
    """
    if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
        kind = pd.api.types.infer_dtype(series, skipna=True)
        if kind in ("string", "empty"):
            text = series.astype(object)
        else:
            text = series.map(_cell_to_text, na_action="ignore").astype(object)
    else:
        text = series.astype(object).map(_cell_to_text, na_action="ignore").astype(object)
    text = text.where(text.notna(), None)
    text = text.str.strip()
    folded = text.str.lower()
    if lower:
        text = folded
    missing = folded.isin(list(missing_values)) | text.isna()
    if missing.any():
        text = text.mask(missing)
    return text.astype(object)


# --------------------------------------------------------------------------- typed conversion
def _coerce_number(series: pd.Series, text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if is_numeric_dtype(series.dtype) and not is_bool_dtype(series.dtype):
        numbers = pd.to_numeric(series, errors="coerce").astype("float64")
        invalid = np.zeros(len(series), dtype=bool)
    else:
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
        invalid = (text.notna() & numbers.isna()).to_numpy()
    infinite = np.isinf(numbers.to_numpy())
    if infinite.any():
        invalid = invalid | infinite
        numbers = numbers.mask(infinite)
    return numbers, invalid


def _coerce_integer(series: pd.Series, text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    numbers, invalid = _coerce_number(series, text)
    values = numbers.to_numpy()
    fractional = np.zeros(len(values), dtype=bool)
    present = ~np.isnan(values)
    fractional[present] = values[present] != np.floor(values[present])
    invalid = invalid | fractional
    integers = numbers.mask(fractional).astype("Int64")
    return integers, invalid


def _coerce_boolean(series: pd.Series, text: pd.Series, dictionary: DataDictionary) -> tuple[pd.Series, np.ndarray]:
    if is_bool_dtype(series.dtype):
        return series.astype("boolean"), np.zeros(len(series), dtype=bool)
    if is_numeric_dtype(series.dtype):
        numbers = pd.to_numeric(series, errors="coerce")
        flags = pd.Series(pd.NA, index=series.index, dtype="boolean")
        flags[numbers == 1] = True
        flags[numbers == 0] = False
        invalid = (numbers.notna() & flags.isna()).to_numpy()
        return flags, invalid
    spelling = {value: True for value in dictionary.boolean_true}
    spelling.update({value: False for value in dictionary.boolean_false})
    flags = text.str.lower().map(spelling).astype("boolean")
    invalid = (text.notna() & flags.isna()).to_numpy()
    return flags, invalid


def _coerce_date(series: pd.Series, text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if is_datetime64_any_dtype(series.dtype):
        dates = series
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)
        return dates.dt.normalize().astype("datetime64[ns]"), np.zeros(len(series), dtype=bool)
    iso = text.str.match(_ISO_DATE_PATTERN, na=False)
    dates = pd.to_datetime(text.str.slice(0, 10).where(iso), format="%Y-%m-%d", errors="coerce")
    invalid = (text.notna() & dates.isna()).to_numpy()
    return dates.astype("datetime64[ns]"), invalid


def coerce_column(series: pd.Series, spec: ColumnSpec, dictionary: DataDictionary) -> CoercedColumn:
    """Convert one column to its dictionary type, flagging what does not convert.

    Parameters
    ----------
    series : pandas.Series
        Text (as read from CSV) or already typed (Parquet, Excel, a converted column).
    spec : ColumnSpec
        The column's dictionary entry.
    dictionary : DataDictionary
        Supplies the boolean and missing-value spellings.

    Returns
    -------
    CoercedColumn
        ``values`` in the dictionary type (``object`` text for string/category, ``float64``,
        ``Int64``, ``boolean`` or ``datetime64[ns]``), ``text`` and the ``invalid`` mask.
        Allowed sets and ranges are *not* checked here (see :mod:`hcc_utils.validate`).
    """
    typed_input = spec.type in ("number", "integer", "boolean", "date") and (
        is_numeric_dtype(series.dtype) or is_datetime64_any_dtype(series.dtype)
    )
    if typed_input:
        # Text is only needed for quoting values; build it lazily from the typed values.
        text = pd.Series(np.nan, index=series.index, dtype=object)
    else:
        text = normalise_text(series, dictionary.missing_values, lower=spec.type == "category")
    if spec.type in ("string", "category"):
        return CoercedColumn(text, text, np.zeros(len(series), dtype=bool))
    if spec.type == "number":
        values, invalid = _coerce_number(series, text)
    elif spec.type == "integer":
        values, invalid = _coerce_integer(series, text)
    elif spec.type == "boolean":
        values, invalid = _coerce_boolean(series, text, dictionary)
    elif spec.type == "date":
        values, invalid = _coerce_date(series, text)
    else:  # pragma: no cover - the dictionary loader rejects other types
        raise ValueError(f"unknown column type {spec.type!r}")
    if typed_input and invalid.any():
        text = normalise_text(series, dictionary.missing_values)
    return CoercedColumn(values, text, np.asarray(invalid, dtype=bool))


def normalise_frame(
    frame: pd.DataFrame, dictionary: DataDictionary | None = None, source: str | os.PathLike[str] = "<frame>"
) -> pd.DataFrame:
    """Normalise column names and values of a cohort table (see the module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
        Cohort as read, any dtypes.
    dictionary : DataDictionary, optional
        Defaults to :func:`hcc_utils.dictionary.load_dictionary`.
    source : str or os.PathLike
        Named in errors.

    Returns
    -------
    pandas.DataFrame
        A new frame with a ``RangeIndex``; columns in file order.

    Raises
    ------
    CohortFileError
        If two columns have the same name after normalisation.
    """
    dictionary = dictionary or load_dictionary()
    names = [normalise_column_name(name) for name in frame.columns]
    seen: dict[str, Any] = {}
    for original, name in zip(frame.columns, names):
        if name in seen:
            raise CohortFileError(
                source, f"columns {seen[name]!r} and {original!r} both mean column {name!r}; keep only one"
            )
        seen[name] = original
    normalised = {}
    for position, name in enumerate(names):
        series = frame.iloc[:, position].reset_index(drop=True)
        if name in dictionary:
            spec = dictionary.column(name)
            coerced = coerce_column(series, spec, dictionary)
            normalised[name] = coerced.text if coerced.invalid.any() else coerced.values
        else:
            normalised[name] = normalise_text(series, dictionary.missing_values)
    return pd.DataFrame(normalised, index=pd.RangeIndex(len(frame)))


# --------------------------------------------------------------------------- file readers
def _sniff_delimiter(first_line: str) -> str:
    counts = {delimiter: first_line.count(delimiter) for delimiter in _CANDIDATE_DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _read_csv(path: Path, sheet: Any) -> pd.DataFrame:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith(b"PK\x03\x04"):
        raise CohortFileError(path, "is a zip/Excel file, not a CSV text file; rename it to .xlsx or export it as CSV")
    if b"\x00" in head:
        raise CohortFileError(path, "is a binary file, not a CSV text table")
    try:
        first_line = head.decode("utf-8-sig", errors="strict").splitlines()[0] if head.strip() else ""
    except UnicodeDecodeError:
        # The head may end inside a multi-byte character; decode what is complete.
        try:
            first_line = head[: head.find(b"\n") if b"\n" in head else len(head)].decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CohortFileError(path, "is not UTF-8 text; save it as 'CSV UTF-8'") from None
    try:
        return pd.read_csv(
            path,
            sep=_sniff_delimiter(first_line),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        raise CohortFileError(path, "is empty: no header row and no data") from None
    except UnicodeDecodeError:
        raise CohortFileError(path, "is not UTF-8 text; save it as 'CSV UTF-8'") from None
    except pd.errors.ParserError as error:
        raise CohortFileError(path, f"is not a well-formed CSV table ({error})") from None


def _read_excel(path: Path, sheet: Any) -> pd.DataFrame:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with path.open("rb") as handle:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
            try:
                worksheets = workbook.worksheets
                if not worksheets:
                    raise CohortFileError(path, "is an Excel workbook without any worksheet")
                if sheet is None or isinstance(sheet, int):
                    index = sheet or 0
                    if index >= len(worksheets):
                        raise CohortFileError(path, f"has {len(worksheets)} worksheet(s); there is no sheet {index}")
                    worksheet = worksheets[index]
                elif sheet in workbook.sheetnames:
                    worksheet = workbook[sheet]
                else:
                    raise CohortFileError(
                        path, f"has no worksheet {sheet!r}; its sheets are {', '.join(map(repr, workbook.sheetnames))}"
                    )
                rows = [row for row in worksheet.iter_rows(values_only=True) if any(
                    cell is not None and str(cell).strip() != "" for cell in row)]
            finally:
                workbook.close()
    except CohortFileError:
        raise
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        legacy = path.suffix.lower() == ".xls"
        hint = (
            "legacy Excel 97-2003 (.xls) workbooks cannot be read; save it as .xlsx or 'CSV UTF-8'"
            if legacy
            else f"is not a readable .xlsx workbook ({type(error).__name__})"
        )
        raise CohortFileError(path, hint) from None
    if not rows:
        raise CohortFileError(path, f"worksheet {worksheet.title!r} is empty: no header row and no data")
    width = max(len(row) for row in rows)
    header = list(rows[0]) + [None] * (width - len(rows[0]))
    body = [list(row) + [None] * (width - len(row)) for row in rows[1:]]
    frame = pd.DataFrame(body, columns=range(width), dtype=object)
    keep = [position for position in range(width) if header[position] is not None or frame[position].notna().any()]
    frame = frame[keep]
    frame.columns = [
        str(header[position]) if header[position] is not None else f"unnamed_{position + 1}" for position in keep
    ]
    return frame


def _read_parquet(path: Path, sheet: Any) -> pd.DataFrame:
    import pyarrow

    try:
        frame = pd.read_parquet(path, engine="pyarrow")
    except (pyarrow.ArrowException, OSError, ValueError) as error:
        raise CohortFileError(path, f"is not a readable Parquet file ({type(error).__name__})") from None
    frame.columns = [str(name) for name in frame.columns]
    return frame.reset_index(drop=True)


_READERS: dict[str, Callable[[Path, Any], pd.DataFrame]] = {
    ".csv": _read_csv,
    ".xlsx": _read_excel,
    ".xlsm": _read_excel,
    ".xls": _read_excel,
    ".parquet": _read_parquet,
}


def read_cohort(
    path: str | os.PathLike[str], dictionary: DataDictionary | None = None, sheet: int | str | None = None
) -> pd.DataFrame:
    """Read a cohort file, reader chosen by extension, and normalise it.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv`` (UTF-8, delimiter ``,`` ``;`` or tab, detected from the header line),
        ``.xlsx``/``.xlsm`` (and ``.xls`` files that are really .xlsx) through openpyxl,
        or ``.parquet`` through pyarrow.
    dictionary : DataDictionary, optional
        Defaults to :func:`hcc_utils.dictionary.load_dictionary`.
    sheet : int or str, optional
        Excel worksheet (index or name); the first worksheet by default.

    Returns
    -------
    pandas.DataFrame
        One row per data row of the file, in file order, ``RangeIndex``; see the module
        docstring for the normalisation. Unknown columns are kept (the validator reports them).

    Raises
    ------
    CohortFileError
        The file is missing, has an unsupported extension, is empty, is not a table
        (binary, undecodable, no column of the dictionary, an Excel file without worksheets),
        or has a header but no data rows.
    """
    path = Path(path)
    if not path.exists():
        raise CohortFileError(path, "file does not exist")
    if not path.is_file():
        raise CohortFileError(path, "is not a file")
    extension = path.suffix.lower()
    if extension not in _READERS:
        raise CohortFileError(
            path, f"unsupported file type {extension or '(no extension)'!r}; use one of {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    if path.stat().st_size == 0:
        raise CohortFileError(path, "is empty (0 bytes)")
    dictionary = dictionary or load_dictionary()
    raw = _READERS[extension](path, sheet)
    if raw.shape[1] == 0:
        raise CohortFileError(path, "is empty: no header row and no data")
    known = [name for name in raw.columns if normalise_column_name(name) in dictionary]
    if not known:
        shown = ", ".join(repr(str(name)[:40]) for name in list(raw.columns)[:3])
        raise CohortFileError(
            path,
            f"is not a cohort table: none of its {raw.shape[1]} column(s) ({shown}"
            f"{', ...' if raw.shape[1] > 3 else ''}) is a column of the data dictionary "
            "(check the file, its header row and, for CSV, the delimiter)",
        )
    if len(raw) == 0:
        raise CohortFileError(path, "has a header row but no data rows")
    return normalise_frame(raw, dictionary, source=path)
