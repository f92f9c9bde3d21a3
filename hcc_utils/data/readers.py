"""Read a cohort file (CSV, Excel, Parquet) into a normalised DataFrame.

The reader is the first gate for a hospital's own extract. It refuses files that are not a
table at all with a :class:`CohortFileError` naming the file, and otherwise returns every
row, leaving value-level problems to :func:`hcc_utils.data.validate.validate_cohort`, which reports
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

import csv
import datetime as _dt
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pa_parquet
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_numeric_dtype,
)

from hcc_utils.data.dictionary import ColumnSpec, DataDictionary, load_dictionary

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


class CoercedColumn:
    """Result of :func:`coerce_column`.

    Attributes
    ----------
    values : pandas.Series
        The column in its dictionary type; unconvertible cells are missing.
    invalid : numpy.ndarray of bool
        True where the cell has a value that does not convert to the dictionary type.
    text : pandas.Series
        The column as normalised text (object dtype, missing as ``None``), used to quote
        original values; built on first access.

    Notes
    -----
    Built by :func:`coerce_column`; ``text`` is an Arrow array for text input, or derived
    lazily from the typed ``original`` (Parquet, Excel) only when a value must be quoted.
    """

    def __init__(
        self,
        values: pd.Series,
        invalid: np.ndarray,
        text: pa.Array | None,
        original: pd.Series,
        missing_values: tuple[str, ...],
    ):
        self.values = values
        self.invalid = invalid
        self._text_array = text
        self._original = original
        self._missing_values = missing_values

    def _arrow_text(self) -> pa.Array:
        if self._text_array is None:
            self._text_array = _arrow_text(self._original, self._missing_values, lower=False)
        return self._text_array

    @property
    def text(self) -> pd.Series:
        """Normalised text of the whole column (object dtype)."""
        return pd.Series(self._arrow_text().to_numpy(zero_copy_only=False), index=self.values.index, dtype=object)

    def outside(self, allowed: tuple[str, ...]) -> np.ndarray:
        """True where the cell has a value that is not in ``allowed`` (text columns)."""
        if self._text_array is not None:
            inside = pc.is_in(self._text_array, value_set=pa.array(list(allowed), type=self._text_array.type))
            return (_valid_mask(self._text_array) & ~inside.to_numpy(zero_copy_only=False)).astype(bool)
        return (self.values.notna() & ~self.values.isin(list(allowed))).to_numpy()

    def text_at(self, position: int) -> str | None:
        """Normalised text of one cell (``None`` if missing)."""
        if self._text_array is None:
            value = self._original.iloc[position]
            return None if pd.isna(value) else _cell_to_text(value)
        return self._text_array[position].as_py()


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


def _clean_text(text: pa.Array, missing_values: tuple[str, ...], lower: bool) -> pa.Array:
    """Strip an Arrow string array, optionally lower-case it, and null the missing spellings."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        text = pc.cast(text, pa.string())
    text = pc.utf8_trim_whitespace(text)
    folded = pc.utf8_lower(text)
    if lower:
        text = folded
    is_missing = pc.is_in(folded, value_set=pa.array(list(missing_values), type=text.type))
    if pc.any(is_missing).as_py():
        text = pc.if_else(is_missing, pa.scalar(None, type=text.type), text)
    return text


def _arrow_text(series: pd.Series, missing_values: tuple[str, ...], lower: bool) -> pa.Array:
    """Text of ``series`` as an Arrow string array: stripped, missing spellings as null."""
    if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
        kind = pd.api.types.infer_dtype(series, skipna=True)
        cells = series.to_numpy(dtype=object)
        if kind not in ("string", "empty"):
            cells = series.map(_cell_to_text, na_action="ignore").to_numpy(dtype=object)
    else:
        cells = series.astype(object).map(_cell_to_text, na_action="ignore").to_numpy(dtype=object)
    return _clean_text(pa.array(cells, type=pa.string(), from_pandas=True), missing_values, lower)


_NULLABLE_PANDAS_TYPES = {
    pa.int8(): pd.Int64Dtype(), pa.int16(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype(), pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.Int64Dtype(), pa.uint16(): pd.Int64Dtype(), pa.uint32(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def _is_arrow_text(array: pa.Array | pa.ChunkedArray) -> bool:
    kind = array.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)


def _arrow_to_pandas(array: pa.Array | pa.ChunkedArray) -> pd.Series:
    """A typed (non-text) Arrow column as pandas: nullable integers/booleans, dates as datetime64."""
    if pa.types.is_date(array.type):
        array = pc.cast(array, pa.timestamp("ns"))
    return array.to_pandas(types_mapper=_NULLABLE_PANDAS_TYPES.get).reset_index(drop=True)


def normalise_text(series: pd.Series, missing_values: tuple[str, ...] = ("",), lower: bool = False) -> pd.Series:
    """Return ``series`` as text: stripped, optionally lower-cased, missing spellings as ``None``.

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
        Object dtype, ``None`` where missing; same index as ``series``.
    """
    text = _arrow_text(series, missing_values, lower)
    return pd.Series(text.to_numpy(zero_copy_only=False), index=series.index, dtype=object)


# --------------------------------------------------------------------------- typed conversion
def _valid_mask(text: pa.Array) -> np.ndarray:
    return pc.is_valid(text).to_numpy(zero_copy_only=False)


def _parse_numbers(text: pa.Array) -> np.ndarray:
    """float64 array; NaN where missing or not a number."""
    try:
        return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False).astype("float64")
    except pa.ArrowInvalid:  # some cell is not a number: slower, tolerant parse
        cells = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
        return pd.to_numeric(cells, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _coerce_number(series: pd.Series, text: pa.Array | None) -> tuple[pd.Series, np.ndarray]:
    if text is None:
        if series.dtype == np.float64 and not np.isinf(series.to_numpy()).any():
            return series, np.zeros(len(series), dtype=bool)
        numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        invalid = np.zeros(len(series), dtype=bool)
    else:
        numbers = _parse_numbers(text)
        invalid = _valid_mask(text) & np.isnan(numbers)
    infinite = np.isinf(numbers)
    if infinite.any():
        invalid = invalid | infinite
        numbers = np.where(infinite, np.nan, numbers)
    return pd.Series(numbers, index=series.index, dtype="float64"), invalid


def _coerce_integer(series: pd.Series, text: pa.Array | None) -> tuple[pd.Series, np.ndarray]:
    if text is None and isinstance(series.dtype, pd.Int64Dtype):
        return series, np.zeros(len(series), dtype=bool)
    numbers, invalid = _coerce_number(series, text)
    values = numbers.to_numpy()
    with np.errstate(invalid="ignore"):
        fractional = ~np.isnan(values) & (values != np.floor(values))
    invalid = invalid | fractional
    missing = np.isnan(values) | fractional
    data = np.where(missing, 0, values).astype("int64")
    return pd.Series(pd.arrays.IntegerArray(data, missing), index=series.index), invalid


def _coerce_boolean(series: pd.Series, text: pa.Array | None, dictionary: DataDictionary) -> tuple[pd.Series, np.ndarray]:
    if text is None:
        if is_bool_dtype(series.dtype):
            return series.astype("boolean"), np.zeros(len(series), dtype=bool)
        numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        is_true, is_false = numbers == 1, numbers == 0
        invalid = ~np.isnan(numbers) & ~is_true & ~is_false
    else:
        folded = pc.utf8_lower(text)
        is_true = pc.is_in(folded, value_set=pa.array(list(dictionary.boolean_true))).to_numpy(zero_copy_only=False)
        is_false = pc.is_in(folded, value_set=pa.array(list(dictionary.boolean_false))).to_numpy(zero_copy_only=False)
        invalid = _valid_mask(text) & ~is_true & ~is_false
    flags = pd.array(is_true, dtype="boolean")
    flags[~(is_true | is_false)] = pd.NA
    return pd.Series(flags, index=series.index), invalid


def _coerce_date(series: pd.Series, text: pa.Array | None) -> tuple[pd.Series, np.ndarray]:
    if text is None:
        dates = series
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)
        return dates.dt.normalize().astype("datetime64[ns]"), np.zeros(len(series), dtype=bool)
    iso = pc.fill_null(pc.match_substring_regex(text, _ISO_DATE_PATTERN), False).to_numpy(zero_copy_only=False)
    year = _parse_numbers(pc.utf8_slice_codeunits(text, 0, 4))
    month = _parse_numbers(pc.utf8_slice_codeunits(text, 5, 7))
    day = _parse_numbers(pc.utf8_slice_codeunits(text, 8, 10))
    candidate = iso & (month >= 1) & (month <= 12) & (day >= 1) & (year >= 1900) & (year <= 2200)
    year_i = np.where(candidate, year, 1970).astype("int64")
    month_i = np.where(candidate, month, 1).astype("int64")
    first_of_month = (year_i - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (month_i - 1)
    days_in_month = ((first_of_month + 1).astype("datetime64[D]") - first_of_month.astype("datetime64[D]")).astype("int64")
    valid = candidate & (day <= days_in_month)
    day_i = np.where(valid, day, 1).astype("int64")
    dates = (first_of_month.astype("datetime64[D]") + (day_i - 1)).astype("datetime64[ns]")
    dates = np.where(valid, dates, np.datetime64("NaT", "ns"))
    invalid = _valid_mask(text) & ~valid
    return pd.Series(dates, index=series.index, dtype="datetime64[ns]"), invalid


def coerce_column(series: pd.Series | pa.Array | pa.ChunkedArray, spec: ColumnSpec, dictionary: DataDictionary) -> CoercedColumn:
    """Convert one column to its dictionary type, flagging what does not convert.

    Parameters
    ----------
    series : pandas.Series or pyarrow.Array
        Text (as read from CSV) or already typed (Parquet, Excel, a converted column).
    spec : ColumnSpec
        The column's dictionary entry.
    dictionary : DataDictionary
        Supplies the boolean and missing-value spellings.

    Returns
    -------
    CoercedColumn
        ``values`` in the dictionary type (``object`` text for string/category, ``float64``,
        ``Int64``, ``boolean`` or ``datetime64[ns]``), the ``invalid`` mask and the text.
        Allowed sets and ranges are *not* checked here (see :mod:`hcc_utils.data.validate`).
    """
    lower = spec.type == "category"
    if isinstance(series, (pa.Array, pa.ChunkedArray)):
        if _is_arrow_text(series):
            text = _clean_text(series, dictionary.missing_values, lower)
            placeholder = pd.Series(np.empty(len(text)), dtype="float64")  # index and length only
            return _coerce_text(text, placeholder, spec, dictionary)
        series = _arrow_to_pandas(series)
    typed_input = spec.type in ("number", "integer", "boolean", "date") and (
        is_numeric_dtype(series.dtype) or is_datetime64_any_dtype(series.dtype)
    )
    if spec.type == "date" and typed_input and not is_datetime64_any_dtype(series.dtype):
        typed_input = False  # numbers in a date column are not dates
    text = None if typed_input else _arrow_text(series, dictionary.missing_values, lower)
    return _coerce_text(text, series, spec, dictionary)


def _coerce_text(
    text: pa.Array | None, series: pd.Series, spec: ColumnSpec, dictionary: DataDictionary
) -> CoercedColumn:
    """Second half of :func:`coerce_column`: ``text`` is the cleaned text, or None for typed ``series``."""
    if spec.type in ("string", "category"):
        values = pd.Series(text.to_numpy(zero_copy_only=False), index=series.index, dtype=object)
        return CoercedColumn(values, np.zeros(len(series), dtype=bool), text, series, dictionary.missing_values)
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
    return CoercedColumn(values, np.asarray(invalid, dtype=bool), text, series, dictionary.missing_values)


def normalise_frame(
    frame: pd.DataFrame | pa.Table, dictionary: DataDictionary | None = None, source: str | os.PathLike[str] = "<frame>"
) -> pd.DataFrame:
    """Normalise column names and values of a cohort table (see the module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame or pyarrow.Table
        Cohort as read, any dtypes.
    dictionary : DataDictionary, optional
        Defaults to :func:`hcc_utils.data.dictionary.load_dictionary`.
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
    is_arrow = isinstance(frame, pa.Table)
    original_names = list(frame.column_names if is_arrow else frame.columns)
    n_rows = frame.num_rows if is_arrow else len(frame)
    names = [normalise_column_name(name) for name in original_names]
    seen: dict[str, Any] = {}
    for original, name in zip(original_names, names):
        if name in seen:
            raise CohortFileError(
                source, f"columns {seen[name]!r} and {original!r} both mean column {name!r}; keep only one"
            )
        seen[name] = original
    normalised = {}
    for position, name in enumerate(names):
        column = frame.column(position) if is_arrow else frame.iloc[:, position].reset_index(drop=True)
        if name in dictionary:
            coerced = coerce_column(column, dictionary.column(name), dictionary)
            normalised[name] = coerced.text if coerced.invalid.any() else coerced.values
        else:
            if is_arrow:
                column = column.to_pandas() if not _is_arrow_text(column) else column
            if isinstance(column, pd.Series):
                text = _arrow_text(column, dictionary.missing_values, lower=False)
            else:
                text = _clean_text(column, dictionary.missing_values, lower=False)
            normalised[name] = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
    result = pd.DataFrame(normalised)
    result.index = pd.RangeIndex(n_rows)
    return result


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
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CohortFileError(path, "is UTF-16 text ('Unicode text'); save it as 'CSV UTF-8'")
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
    delimiter = _sniff_delimiter(first_line)
    header = next(csv.reader([first_line], delimiter=delimiter), [])
    normalised_header = [normalise_column_name(name) for name in header]
    for position, name in enumerate(normalised_header):
        if name in normalised_header[:position]:
            first = header[normalised_header.index(name)]
            raise CohortFileError(
                path, f"columns {first!r} and {header[position]!r} both mean column {name!r}; keep only one"
            )
    if header:
        try:  # fast path: Arrow's multi-threaded reader, every column as text
            return pa_csv.read_csv(
                path,
                parse_options=pa_csv.ParseOptions(delimiter=delimiter),
                convert_options=pa_csv.ConvertOptions(
                    column_types={name: pa.string() for name in header},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError):
            pass  # ragged rows, bad encoding, ...: pandas gives the precise message below
    try:
        return pd.read_csv(
            path,
            sep=delimiter,
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
    except Exception as error:  # openpyxl raises many types on malformed workbooks
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


def _read_parquet(path: Path, sheet: Any) -> pa.Table:
    try:
        table = pa_parquet.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise CohortFileError(path, f"is not a readable Parquet file ({type(error).__name__})") from None
    index_columns = [name for name in table.column_names if str(name).startswith("__index_level_")]
    return table.drop_columns(index_columns) if index_columns else table


_READERS: dict[str, Callable[[Path, Any], pd.DataFrame | pa.Table]] = {
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
        Defaults to :func:`hcc_utils.data.dictionary.load_dictionary`.
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
    names = [str(name) for name in (raw.column_names if isinstance(raw, pa.Table) else raw.columns)]
    n_rows = raw.num_rows if isinstance(raw, pa.Table) else len(raw)
    if not names:
        raise CohortFileError(path, "is empty: no header row and no data")
    known = [name for name in names if normalise_column_name(name) in dictionary]
    if not known:
        shown = ", ".join(repr(name[:40]) for name in names[:3])
        raise CohortFileError(
            path,
            f"is not a cohort table: none of its {len(names)} column(s) ({shown}"
            f"{', ...' if len(names) > 3 else ''}) is a column of the data dictionary "
            "(check the file, its header row and, for CSV, the delimiter)",
        )
    if n_rows == 0:
        raise CohortFileError(path, "has a header row but no data rows")
    return normalise_frame(raw, dictionary, source=path)
