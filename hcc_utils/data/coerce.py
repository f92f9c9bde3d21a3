"""Convert a cohort column to its data-dictionary type, flagging the cells that do not convert.

:func:`coerce_column` is the single conversion rule; the reader, the validator and the derivations all use it.
Conversion works on the column's normalised text (:mod:`hcc_utils.data.text`), or directly on already typed
values (Parquet, Excel):

* ``integer`` -> ``Int64`` (a fractional number is invalid), ``number`` -> ``float64`` (infinity is invalid);
* ``boolean`` -> ``boolean``: the dictionary's ``boolean_true`` / ``boolean_false`` spellings, or 1 / 0;
* ``date`` -> ``datetime64[ns]``: ISO 8601 ``YYYY-MM-DD`` or a declared/detected format such as ``DD/MM/YYYY``
  (:mod:`hcc_utils.data.dates`), with a real calendar day in the years 1900 to 2200 (a time part is dropped);
  Excel date cells, and whole numbers as Excel serial days;
* ``string`` and ``category`` stay normalised text (``category`` lower-cased).

The result, a :class:`CoercedColumn`, holds the typed values, the mask of invalid cells and the text to quote
them with. Allowed sets and ranges are checked by the validator, not here.
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

from hcc_utils.data.dates import detect_format, excel_serial_dates, parse_dates
from hcc_utils.data.dictionary import ColumnSpec, DataDictionary
from hcc_utils.data.text import arrow_text, cell_to_text, clean_arrow_text, is_arrow_text

__all__ = ["CoercedColumn", "coerce_column"]


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
        self.hint: str | None = None  # why a date column did not convert (detected or ambiguous format)

    def _arrow_text(self) -> pa.Array:
        if self._text_array is None:
            self._text_array = arrow_text(self._original, self._missing_values, lower=False)
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


def _coerce_date(
    series: pd.Series, text: pa.Array | None, date_format: str | None
) -> tuple[pd.Series, np.ndarray, str | None]:
    if text is None:
        if is_numeric_dtype(series.dtype) and not is_datetime64_any_dtype(series.dtype):
            numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            dates, valid = excel_serial_dates(numbers)
            invalid = ~np.isnan(numbers) & ~valid
            return pd.Series(dates, index=series.index, dtype="datetime64[ns]"), invalid, (
                "Excel serial day numbers must be whole numbers between 1 (1900-01-01) and 109574 (2199-12-31)"
                if invalid.any() else None)
        dates = series
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)
        return dates.dt.normalize().astype("datetime64[ns]"), np.zeros(len(series), dtype=bool), None
    hint = None
    if date_format == "auto":
        date_format, hint = detect_format(text)
    elif date_format is not None:
        hint = f"the configuration declares {date_format}"
    dates, valid = parse_dates(text, date_format)
    # Whole numbers in a date column are Excel serial days (a date cell pasted as a number).
    serial = pc.fill_null(pc.match_substring_regex(text, r"^\d{1,6}$"), False).to_numpy(zero_copy_only=False) & ~valid
    if serial.any():
        serial_dates, serial_valid = excel_serial_dates(np.where(serial, _parse_numbers(text), np.nan))
        dates, valid = np.where(serial_valid, serial_dates, dates), valid | serial_valid
    invalid = _valid_mask(text) & ~valid
    return pd.Series(dates, index=series.index, dtype="datetime64[ns]"), invalid, hint if invalid.any() else None


def coerce_column(series: pd.Series | pa.Array | pa.ChunkedArray, spec: ColumnSpec, dictionary: DataDictionary,
                  date_format: str | None = None, decimal_comma: bool = False) -> CoercedColumn:
    """Convert one column to its dictionary type, flagging what does not convert.

    Parameters
    ----------
    series : pandas.Series or pyarrow.Array
        Text (as read from CSV) or already typed (Parquet, Excel, a converted column).
    spec : ColumnSpec
        The column's dictionary entry.
    dictionary : DataDictionary
        Supplies the boolean and missing-value spellings.
    date_format : str, optional
        Format of dates written as text (e.g. ``DD/MM/YYYY``; ISO cells are read too), ``"auto"`` to detect it
        (:func:`hcc_utils.data.dates.detect_format`), None for ISO 8601 only. Whole numbers are Excel serial days.
    decimal_comma : bool
        Read ``1,5`` as 1.5 in number columns written as text.

    Returns
    -------
    CoercedColumn
        ``values`` in the dictionary type (``object`` text for string/category, ``float64``,
        ``Int64``, ``boolean`` or ``datetime64[ns]``), the ``invalid`` mask and the text.
        Allowed sets and ranges are *not* checked here (see :mod:`hcc_utils.data.validate`).
    """
    lower = spec.type == "category"
    if isinstance(series, (pa.Array, pa.ChunkedArray)):
        if is_arrow_text(series):
            text = clean_arrow_text(series, dictionary.missing_values, lower)
            placeholder = pd.Series(np.empty(len(text)), dtype="float64")  # index and length only
            return _coerce_text(text, placeholder, spec, dictionary, date_format, decimal_comma)
        series = _arrow_to_pandas(series)
    typed_input = spec.type in ("number", "integer", "boolean", "date") and (
        is_numeric_dtype(series.dtype) or is_datetime64_any_dtype(series.dtype)
    )
    text = None if typed_input else arrow_text(series, dictionary.missing_values, lower)
    return _coerce_text(text, series, spec, dictionary, date_format, decimal_comma)


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
    text: pa.Array | None, series: pd.Series, spec: ColumnSpec, dictionary: DataDictionary,
    date_format: str | None = None, decimal_comma: bool = False,
) -> CoercedColumn:
    """Second half of :func:`coerce_column`: ``text`` is the cleaned text, or None for typed ``series``."""
    if spec.type == "category" or isinstance(series.dtype, pd.CategoricalDtype):
        values = pd.Series(_few_texts(text), index=series.index, dtype=object)
        return CoercedColumn(values, np.zeros(len(series), dtype=bool), text, series, dictionary.missing_values)
    if spec.type == "string":
        values = pd.Series(text.to_numpy(zero_copy_only=False), index=series.index, dtype=object)
        return CoercedColumn(values, np.zeros(len(series), dtype=bool), text, series, dictionary.missing_values)
    hint = None
    if decimal_comma and text is not None and spec.type in ("number", "integer"):
        text = pc.replace_substring(text, ",", ".")
    if spec.type == "number":
        values, invalid = _coerce_number(series, text)
    elif spec.type == "integer":
        values, invalid = _coerce_integer(series, text)
    elif spec.type == "boolean":
        values, invalid = _coerce_boolean(series, text, dictionary)
    elif spec.type == "date":
        values, invalid, hint = _coerce_date(series, text, date_format)
    else:  # pragma: no cover - the dictionary loader rejects other types
        raise ValueError(f"unknown column type {spec.type!r}")
    coerced = CoercedColumn(values, np.asarray(invalid, dtype=bool), text, series, dictionary.missing_values)
    coerced.hint = hint
    return coerced
