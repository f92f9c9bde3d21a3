"""Convert a cohort column to its data-dictionary type, flagging the cells that do not convert.

:func:`coerce_column` is the single conversion rule; the reader, the validator and the derivations all use it.
Conversion works on the column's normalised text (:mod:`hcc_utils.data.text`), or directly on already typed
values (Parquet, Excel):

* ``number`` -> ``float64`` (infinity is invalid), numbers written as text read as the file writes them
  (decimal mark, thousands separators: :mod:`hcc_utils.data.numbers`);
* ``integer`` -> ``Int64``: a number as above that is whole (``6`` and ``6.0``; ``6.5`` is invalid);
* ``boolean`` -> ``boolean``: the dictionary's ``boolean_true`` / ``boolean_false`` spellings, or a number as
  above equal to 1 or 0 (``1.0``, ``0,0`` where the decimal mark is a comma): the integer rule, one rule for both;
* ``date`` -> ``datetime64[ns]``: ISO 8601 ``YYYY-MM-DD`` or a declared/detected format such as ``DD/MM/YYYY``
  (:mod:`hcc_utils.data.dates`; two-digit years with a stated pivot), with a real calendar day in the years 1900
  to 2200 (a time part is dropped); Excel date cells, and whole numbers as Excel serial days in the workbook's date
  system (1900 or 1904);
* ``string`` and ``category`` stay normalised text (``category`` lower-cased).

How text cells are written (date format, year pivot, decimal mark, thousands separator, Excel date system) is a
:class:`CellFormat`, built from the configuration's ``extract`` block and what the reader learnt of the file
(:func:`cell_format`). The result, a :class:`CoercedColumn`, holds the typed values, the mask of invalid cells, the
text to quote them with, the reason of each refused cell where there is one, and a note on how the column was read
(two-digit years). Allowed sets and ranges are checked by the validator, not here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_numeric_dtype,
)

from dataclasses import dataclass, field
from typing import Any, Mapping

from hcc_utils.data.dates import (
    EXCEL_1904_EPOCH,
    EXCEL_EPOCH,
    detect_format,
    excel_serial_dates,
    parse_dates,
    serial_range_hint,
    two_digit_year_note,
)
from hcc_utils.data.dictionary import ColumnSpec, DataDictionary
from hcc_utils.data.numbers import NumberFormat, parse_number_text
from hcc_utils.data.text import arrow_text, cell_to_text, clean_arrow_text, is_arrow_text

__all__ = ["CellFormat", "CoercedColumn", "cell_format", "coerce_column"]


@dataclass(frozen=True)
class CellFormat:
    """How the text cells of one column are written.

    Attributes
    ----------
    date_format : str or None
        A format such as ``DD/MM/YYYY``, ``"auto"`` to detect it, None for ISO 8601 only.
    two_digit_year_pivot : int or None
        First year of the hundred in which two-digit years are read (``extract.two_digit_year_pivot``).
    numbers : NumberFormat
        Decimal mark and thousands separator.
    excel_epoch : numpy.datetime64
        Day 0 of the workbook's date system, for serial day numbers.
    """

    date_format: str | None = None
    two_digit_year_pivot: int | None = None
    numbers: NumberFormat = field(default_factory=NumberFormat)
    excel_epoch: np.datetime64 = EXCEL_EPOCH


def cell_format(extract: Any, name: str, file_info: Mapping[str, Any] | None = None) -> CellFormat:
    """The :class:`CellFormat` of column ``name`` under the configuration's ``extract`` block.

    Parameters
    ----------
    extract : hcc_utils.config.extract.Extract or None
        Declared date formats (``date_formats`` over ``date_format``; detected when neither), year pivot, decimal
        mark and thousands separator; None: the schema's defaults (dates detected).
    name : str
        Dictionary column name.
    file_info : mapping, optional
        What the reader learnt of the file (a cohort frame's ``attrs``): ``csv_delimiter`` (a ``;`` makes the
        comma the decimal mark unless declared) and ``excel_date_system`` (1904 for a workbook of that system).
    """
    info = file_info or {}
    declared = (extract.date_formats.get(name) or extract.date_format) if extract is not None else None
    return CellFormat(
        date_format=declared or "auto",
        two_digit_year_pivot=getattr(extract, "two_digit_year_pivot", None),
        numbers=NumberFormat.of(extract, info.get("csv_delimiter")),
        excel_epoch=EXCEL_1904_EPOCH if info.get("excel_date_system") == 1904 else EXCEL_EPOCH,
    )


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
        self._from_text = text is not None
        self._original = original
        self._missing_values = missing_values
        self.hint: str | None = None  # why a date column did not convert (detected or ambiguous format)
        self.reasons: dict[str, str] = {}  # why a refused cell, by its text, is not read (an ambiguous number)
        self.note: str | None = None  # how the column was read, for the author to confirm (two-digit years)

    def _arrow_text(self) -> pa.Array:
        if self._text_array is None:
            self._text_array = arrow_text(self._original, self._missing_values, lower=False)
        return self._text_array

    def text_array(self) -> pa.Array | None:
        """The column's normalised text as Arrow when it was read from text (CSV, text cells), else None."""
        return self._text_array if self._from_text else None

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
            return None if pd.isna(value) else cell_to_text(value)
        return self._text_array[position].as_py()


# --------------------------------------------------------------------------- Arrow to pandas
_NULLABLE_PANDAS_TYPES = {
    pa.int8(): pd.Int64Dtype(), pa.int16(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype(), pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.Int64Dtype(), pa.uint16(): pd.Int64Dtype(), pa.uint32(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def _arrow_to_pandas(array: pa.Array | pa.ChunkedArray) -> pd.Series:
    """A typed (non-text) Arrow column as pandas: nullable integers/booleans, dates as datetime64."""
    if pa.types.is_date(array.type):
        array = pc.cast(array, pa.timestamp("ns"))
    return array.to_pandas(types_mapper=_NULLABLE_PANDAS_TYPES.get).reset_index(drop=True)


# --------------------------------------------------------------------------- typed conversion
def _valid_mask(text: pa.Array) -> np.ndarray:
    return pc.is_valid(text).to_numpy(zero_copy_only=False)


def _coerce_number(series: pd.Series, text: pa.Array | None,
                   fmt: NumberFormat | None = None) -> tuple[pd.Series, np.ndarray, dict[str, str]]:
    reasons: dict[str, str] = {}
    if text is None:
        if series.dtype == np.float64 and not np.isinf(series.to_numpy()).any():
            return series, np.zeros(len(series), dtype=bool), reasons
        numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        invalid = np.zeros(len(series), dtype=bool)
    else:
        numbers, reasons = parse_number_text(text, fmt)
        invalid = _valid_mask(text) & np.isnan(numbers)
    infinite = np.isinf(numbers)
    if infinite.any():
        invalid = invalid | infinite
        numbers = np.where(infinite, np.nan, numbers)
    return pd.Series(numbers, index=series.index, dtype="float64"), invalid, reasons


def _coerce_integer(series: pd.Series, text: pa.Array | None,
                    fmt: NumberFormat | None = None) -> tuple[pd.Series, np.ndarray, dict[str, str]]:
    if text is None and isinstance(series.dtype, pd.Int64Dtype):
        return series, np.zeros(len(series), dtype=bool), {}
    numbers, invalid, reasons = _coerce_number(series, text, fmt)
    values = numbers.to_numpy()
    with np.errstate(invalid="ignore"):
        fractional = ~np.isnan(values) & (values != np.floor(values))
    invalid = invalid | fractional
    missing = np.isnan(values) | fractional
    data = np.where(missing, 0, values).astype("int64")
    return pd.Series(pd.arrays.IntegerArray(data, missing), index=series.index), invalid, reasons


def _coerce_boolean(series: pd.Series, text: pa.Array | None, dictionary: DataDictionary,
                    fmt: NumberFormat | None = None) -> tuple[pd.Series, np.ndarray, dict[str, str]]:
    if text is None and is_bool_dtype(series.dtype):
        return series.astype("boolean"), np.zeros(len(series), dtype=bool), {}
    if text is None:  # numbers (Excel, Parquet)
        present = series.notna().to_numpy()
        is_true = is_false = np.zeros(len(series), dtype=bool)
        numeric_text = None
    else:  # the dictionary's spellings first
        present = _valid_mask(text)
        folded = pc.utf8_lower(text)
        is_true = pc.is_in(folded, value_set=pa.array(list(dictionary.boolean_true))).to_numpy(zero_copy_only=False)
        is_false = pc.is_in(folded, value_set=pa.array(list(dictionary.boolean_false))).to_numpy(zero_copy_only=False)
        numeric_text = pc.if_else(pa.array(present & ~is_true & ~is_false), text, pa.scalar(None, text.type))
    rest = present & ~is_true & ~is_false
    if rest.any():  # 1 and 0 written as numbers (1.0, or 0,0 with a decimal comma): the integer rule reads them
        numbers = _coerce_integer(series, numeric_text, fmt)[0].to_numpy(dtype="float64", na_value=np.nan)
        is_true, is_false = is_true | (rest & (numbers == 1)), is_false | (rest & (numbers == 0))
    flags = pd.array(is_true, dtype="boolean")
    flags[~(is_true | is_false)] = pd.NA
    return pd.Series(flags, index=series.index), present & ~is_true & ~is_false, {}


def _coerce_date(
    series: pd.Series, text: pa.Array | None, fmt: CellFormat
) -> tuple[pd.Series, np.ndarray, str | None, str | None]:
    """Dates, the invalid mask, the hint explaining the invalid cells and the note on two-digit years."""
    if text is None:
        if is_numeric_dtype(series.dtype) and not is_datetime64_any_dtype(series.dtype):
            numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            dates, valid = excel_serial_dates(numbers, fmt.excel_epoch)
            invalid = ~np.isnan(numbers) & ~valid
            return pd.Series(dates, index=series.index, dtype="datetime64[ns]"), invalid, (
                serial_range_hint(fmt.excel_epoch) if invalid.any() else None), None
        dates = series
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)
        return dates.dt.normalize().astype("datetime64[ns]"), np.zeros(len(series), dtype=bool), None, None
    hint = None
    date_format, pivot = fmt.date_format, fmt.two_digit_year_pivot
    if date_format == "auto":
        date_format, hint = detect_format(text, pivot)
    elif date_format is not None:
        hint = f"the configuration declares {date_format}"
    dates, valid = parse_dates(text, date_format, pivot)
    note = two_digit_year_note(date_format, pivot, text, np.where(valid, dates, np.datetime64("NaT", "ns")))
    # Whole numbers in a date column are Excel serial days (a date cell pasted as a number).
    serial = pc.fill_null(pc.match_substring_regex(text, r"^\d{1,6}$"), False).to_numpy(zero_copy_only=False) & ~valid
    if serial.any():
        serial_numbers = parse_number_text(pc.if_else(pa.array(serial), text, pa.scalar(None, text.type)))[0]
        serial_dates, serial_valid = excel_serial_dates(serial_numbers, fmt.excel_epoch)
        dates, valid = np.where(serial_valid, serial_dates, dates), valid | serial_valid
    invalid = _valid_mask(text) & ~valid
    return (pd.Series(dates, index=series.index, dtype="datetime64[ns]"), invalid, hint if invalid.any() else None,
            note)


def coerce_column(series: pd.Series | pa.Array | pa.ChunkedArray, spec: ColumnSpec, dictionary: DataDictionary,
                  fmt: CellFormat | None = None) -> CoercedColumn:
    """Convert one column to its dictionary type, flagging what does not convert.

    Parameters
    ----------
    series : pandas.Series or pyarrow.Array
        Text (as read from CSV) or already typed (Parquet, Excel, a converted column).
    spec : ColumnSpec
        The column's dictionary entry.
    dictionary : DataDictionary
        Supplies the boolean and missing-value spellings.
    fmt : CellFormat, optional
        How text cells are written (:func:`cell_format`): date format (``"auto"`` detects it with
        :func:`hcc_utils.data.dates.detect_format`; ISO cells are read with any format), two-digit-year pivot,
        decimal mark and thousands separator, Excel date system. None: ISO 8601 dates, ``.`` as the decimal mark,
        the 1900 date system. Whole numbers in a date column are Excel serial days.

    Returns
    -------
    CoercedColumn
        ``values`` in the dictionary type (``object`` text for string/category, ``float64``,
        ``Int64``, ``boolean`` or ``datetime64[ns]``), the ``invalid`` mask and the text.
        Allowed sets and ranges are *not* checked here (see :mod:`hcc_utils.data.validate`).
    """
    fmt = fmt or CellFormat()
    lower = spec.type == "category"
    if isinstance(series, (pa.Array, pa.ChunkedArray)):
        if is_arrow_text(series):
            text = clean_arrow_text(series, dictionary.missing_values, lower)
            placeholder = pd.Series(np.empty(len(text)), dtype="float64")  # index and length only
            return _coerce_text(text, placeholder, spec, dictionary, fmt)
        series = _arrow_to_pandas(series)
    typed_input = spec.type in ("number", "integer", "boolean", "date") and (
        is_numeric_dtype(series.dtype) or is_datetime64_any_dtype(series.dtype)
    )
    text = None if typed_input else arrow_text(series, dictionary.missing_values, lower)
    return _coerce_text(text, series, spec, dictionary, fmt)


def _few_texts(text: pa.Array) -> np.ndarray:
    """Object array of a text column with few distinct values (None where missing): each cell refers to one
    string per distinct value, instead of a string of its own (faster, and a tenth of the memory)."""
    encoded = pc.dictionary_encode(text)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    distinct = np.array([*encoded.dictionary.to_pylist(), None], dtype=object)
    codes = pc.fill_null(encoded.indices, len(distinct) - 1).to_numpy(zero_copy_only=False)
    return distinct[codes]


def _coerce_text(
    text: pa.Array | None, series: pd.Series, spec: ColumnSpec, dictionary: DataDictionary, fmt: CellFormat,
) -> CoercedColumn:
    """Second half of :func:`coerce_column`: ``text`` is the cleaned text, or None for typed ``series``."""
    if spec.type == "category" or isinstance(series.dtype, pd.CategoricalDtype):
        values = pd.Series(_few_texts(text), index=series.index, dtype=object)
        return CoercedColumn(values, np.zeros(len(series), dtype=bool), text, series, dictionary.missing_values)
    if spec.type == "string":
        values = pd.Series(text.to_numpy(zero_copy_only=False), index=series.index, dtype=object)
        return CoercedColumn(values, np.zeros(len(series), dtype=bool), text, series, dictionary.missing_values)
    hint, note, reasons = None, None, {}
    if spec.type == "number":
        values, invalid, reasons = _coerce_number(series, text, fmt.numbers)
    elif spec.type == "integer":
        values, invalid, reasons = _coerce_integer(series, text, fmt.numbers)
    elif spec.type == "boolean":
        values, invalid, reasons = _coerce_boolean(series, text, dictionary, fmt.numbers)
    elif spec.type == "date":
        values, invalid, hint, note = _coerce_date(series, text, fmt)
    else:  # pragma: no cover - the dictionary loader rejects other types
        raise ValueError(f"unknown column type {spec.type!r}")
    coerced = CoercedColumn(values, np.asarray(invalid, dtype=bool), text, series, dictionary.missing_values)
    coerced.hint, coerced.note, coerced.reasons = hint, note, reasons
    return coerced
