"""Dates written as text in any declared or detected format, and Excel serial day numbers.

:func:`parse_dates` reads a text column with a format such as ``DD/MM/YYYY`` (ISO 8601 ``YYYY-MM-DD`` cells are
always accepted too, because Excel date cells reach the reader as ISO text beside typed-in text);
:func:`detect_format` picks, for an undeclared column, the one format of
:data:`hcc_utils.config.dates.DETECTABLE_FORMATS` that reads every value, and says why when none or several do,
so that a failed column gets one hint instead of one unexplained error per cell.
"""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hcc_utils.config.dates import DETECTABLE_FORMATS, format_parts

__all__ = ["EXCEL_EPOCH", "column_date_format", "detect_format", "excel_serial_dates", "parse_dates"]

#: Day 0 of Excel's (1900) date system, as Excel counts it (its 1900-02-29 bug included).
EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_SERIAL_RANGE = (1, 109_574)  # 1900-01-01 .. 2199-12-31
_YEARS = (1900, 2200)
_ISO = "YYYY-MM-DD"


def _pattern(date_format: str) -> str:
    order, separator = format_parts(date_format)
    digits = r"\d{2}" if date_format == _ISO else r"\d{1,2}"  # ISO 8601 is strict: 2022-07-01, not 2022-7-1
    widths = {"day": rf"(?P<day>{digits})", "month": rf"(?P<month>{digits})", "year": r"(?P<year>\d{4})"}
    body = re.escape(separator).join(widths[part] for part in order)
    return rf"^{body}(?:[T ]\d{{1,2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?)?$"  # a time part is dropped


def _calendar(
    year: np.ndarray, month: np.ndarray, day: np.ndarray, candidate: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """datetime64[ns] and validity of (year, month, day) triples: real calendar days, years 1900 to 2200."""
    candidate = candidate & (month >= 1) & (month <= 12) & (day >= 1) & (year >= _YEARS[0]) & (year <= _YEARS[1])
    year_i = np.where(candidate, year, 1970).astype("int64")
    month_i = np.where(candidate, month, 1).astype("int64")
    first = (year_i - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (month_i - 1)
    days_in_month = ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype("int64")
    valid = candidate & (day <= days_in_month)
    day_i = np.where(valid, day, 1).astype("int64")
    dates = (first.astype("datetime64[D]") + (day_i - 1)).astype("datetime64[ns]")
    return np.where(valid, dates, np.datetime64("NaT", "ns")), valid


def _parse_one(text: pa.Array, date_format: str) -> tuple[np.ndarray, np.ndarray]:
    order, _ = format_parts(date_format)
    parts = pc.extract_regex(text, _pattern(date_format))
    matched = pc.fill_null(pc.is_valid(parts), False).to_numpy(zero_copy_only=False)
    numbers = {}
    for part in order:
        field = pc.struct_field(parts, [order.index(part)])
        numbers[part] = pc.cast(pc.fill_null(field, "0"), pa.float64()).to_numpy(zero_copy_only=False)
    return _calendar(numbers["year"], numbers["month"], numbers["day"], matched)


def _parse_iso(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_parse_one` in ISO 8601: Arrow's own cast when every cell is a plain ``YYYY-MM-DD`` calendar day of
    1900 to 2200 (the same cells, ten times faster), the pattern otherwise (time parts, other years, bad cells)."""
    try:
        days = pc.cast(text, pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _parse_one(text, _ISO)
    low, high = pc.min_max(days).values()
    if low.is_valid and (low.as_py().year < _YEARS[0] or high.as_py().year > _YEARS[1]):
        return _parse_one(text, _ISO)
    valid = pc.is_valid(days).to_numpy(zero_copy_only=False)
    dates = pc.cast(days, pa.timestamp("ns")).to_numpy(zero_copy_only=False).astype("datetime64[ns]")
    return dates, valid


def parse_dates(text: pa.Array, date_format: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Dates of a text column in ``date_format`` (ISO 8601 when None; ISO cells are accepted with any format).

    Returns
    -------
    (numpy.ndarray of datetime64[ns], numpy.ndarray of bool)
        The dates (NaT where missing or invalid) and the mask of cells that are valid dates.
    """
    dates, valid = _parse_iso(text)
    if date_format is not None and format_parts(date_format) != format_parts(_ISO):
        other, other_valid = _parse_one(text, date_format)
        dates, valid = np.where(valid, dates, other), valid | other_valid
    return dates, valid


def detect_format(text: pa.Array) -> tuple[str | None, str | None]:
    """The format reading every value of an undeclared date column, or a hint when there is none.

    Returns
    -------
    (str or None, str or None)
        The format (None when no single one fits) and a sentence for the author (None when the column is ISO
        8601, today's convention, or empty).
    """
    present = pc.is_valid(text).to_numpy(zero_copy_only=False)
    if not present.any():
        return None, None
    n = int(present.sum())
    iso = int((parse_dates(text, _ISO)[1] & present).sum())
    if iso == n:  # today's convention: no other format is tried
        return _ISO, None
    counts = {fmt: int((parse_dates(text, fmt)[1] & present).sum()) for fmt in DETECTABLE_FORMATS}
    complete = [fmt for fmt, count in counts.items() if count == n]
    if len(complete) == 1:
        return complete[0], f"dates read as {complete[0]} (detected)"
    if complete:
        return None, (f"the dates fit {' and '.join(complete)} alike (no day above 12): declare the format with "
                      "extract.date_format or extract.date_formats in the configuration")
    best = max(counts, key=counts.get)
    if counts[best] <= counts[_ISO] or counts[best] == 0:
        return None, None
    return best, (f"{counts[best]} of the column's {n} dates read as {best}, this one does not: correct it, or "
                  "declare the format with extract.date_format")


def excel_serial_dates(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Excel serial day numbers (1900 system) as datetime64[ns], and the mask of whole numbers in 1900 to 2199."""
    with np.errstate(invalid="ignore"):
        valid = ~np.isnan(numbers) & (numbers == np.floor(numbers)) & (numbers >= _SERIAL_RANGE[0]) & (
            numbers <= _SERIAL_RANGE[1])
    days = np.where(valid, numbers, 0).astype("int64")
    dates = (EXCEL_EPOCH + days).astype("datetime64[ns]")
    return np.where(valid, dates, np.datetime64("NaT", "ns")), valid


def column_date_format(extract, name: str) -> str:
    """The date format of column ``name`` under the configuration's ``extract`` block (None: detected).

    Returns the declared format (``extract.date_formats``, else ``extract.date_format``) or ``"auto"``.
    """
    if extract is None:
        return "auto"
    return extract.date_formats.get(name) or extract.date_format or "auto"
