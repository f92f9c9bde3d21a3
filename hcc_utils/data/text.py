"""Text normalisation of cohort cells and column names.

Every reader and the type conversion see a cohort column as *normalised text* first: surrounding spaces
removed, the dictionary's ``missing_values`` spellings (``""``, ``NA``, ``N/A``, ``null`` ...) as missing,
optionally lower-cased (``category`` columns). Typed cells (Excel, Parquet) are written as text the way the
file shows them (``3`` not ``3.0``, dates as ``YYYY-MM-DD``), so a validation message can quote the value.
The work is done on Arrow string arrays (vectorised); :func:`normalise_text` returns a pandas Series.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "arrow_text",
    "cell_to_text",
    "clean_arrow_text",
    "is_arrow_text",
    "normalise_column_name",
    "normalise_text",
]


def normalise_column_name(name: Any) -> str:
    """Column name as the dictionary spells it: ``str``, surrounding spaces removed, lower case."""
    return str(name).strip().lower()


def cell_to_text(value: Any) -> Any:
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


def clean_arrow_text(text: pa.Array, missing_values: tuple[str, ...], lower: bool) -> pa.Array:
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


def arrow_text(series: pd.Series, missing_values: tuple[str, ...], lower: bool) -> pa.Array:
    """Text of ``series`` as an Arrow string array: stripped, missing spellings as null."""
    if isinstance(series.dtype, pd.CategoricalDtype) and pd.api.types.infer_dtype(series.cat.categories) in (
            "string", "empty"):  # the reader's categories: decoded by Arrow, no Python string per cell
        return clean_arrow_text(pa.array(series.array, from_pandas=True), missing_values, lower)
    if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
        kind = pd.api.types.infer_dtype(series, skipna=True)
        cells = series.to_numpy(dtype=object)
        if kind not in ("string", "empty"):
            cells = series.map(cell_to_text, na_action="ignore").to_numpy(dtype=object)
    else:
        cells = series.astype(object).map(cell_to_text, na_action="ignore").to_numpy(dtype=object)
    return clean_arrow_text(pa.array(cells, type=pa.string(), from_pandas=True), missing_values, lower)


def is_arrow_text(array: pa.Array | pa.ChunkedArray) -> bool:
    kind = array.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)


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
    text = arrow_text(series, missing_values, lower)
    return pd.Series(text.to_numpy(zero_copy_only=False), index=series.index, dtype=object)
