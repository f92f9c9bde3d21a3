"""Dates written as text in any declared or detected format, and Excel serial day numbers.

:func:`parse_dates` reads a text column with a format such as ``DD/MM/YYYY`` (ISO 8601 ``YYYY-MM-DD`` cells are
always accepted too, because Excel date cells reach the reader as ISO text beside typed-in text); a two-digit year
(``DD/MM/YY``) is read in the hundred years from the configuration's ``extract.two_digit_year_pivot``.
:func:`detect_format` picks, for an undeclared column, the one format of
:data:`hcc_utils.config.dates.DETECTABLE_FORMATS` (and, with a pivot, of
:data:`~hcc_utils.config.dates.TWO_DIGIT_YEAR_FORMATS`) that reads every value, and says why when none or several
do, so that a failed column gets one hint instead of one unexplained error per cell.
:func:`excel_serial_dates` reads Excel serial day numbers in the workbook's date system (1900, or 1904 as old Mac
workbooks count).
"""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hcc_utils.config.dates import (
    DETECTABLE_FORMATS,
    TWO_DIGIT_YEAR_FORMATS,
    format_parts,
    two_digit_year,
    year_window,
)

__all__ = ["EXCEL_1904_EPOCH", "EXCEL_EPOCH", "detect_format", "excel_serial_dates", "parse_dates",
           "serial_range_hint"]

#: Day 0 of Excel's (1900) date system, as Excel counts it (its 1900-02-29 bug included).
EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
#: Day 0 of Excel's 1904 date system (workbooks created on old Macs; openpyxl's ``workbook.epoch``).
EXCEL_1904_EPOCH = np.datetime64("1904-01-01", "D")
_LAST_DAY = np.datetime64("2199-12-31", "D")
_YEARS = (1900, 2200)
_ISO = "YYYY-MM-DD"
_SHAPE_PIVOT = 1950  # any century: used only to tell whether cells have the shape of a two-digit-year format


def _pattern(date_format: str) -> str:
    order, separator = format_parts(date_format)
    digits = r"\d{2}" if date_format == _ISO else r"\d{1,2}"  # ISO 8601 is strict: 2022-07-01, not 2022-7-1
    year = r"(?P<year>\d{2})" if two_digit_year(date_format) else r"(?P<year>\d{4})"
    widths = {"day": rf"(?P<day>{digits})", "month": rf"(?P<month>{digits})", "year": year}
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


def _parse_one(text: pa.Array, date_format: str, pivot: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    order, _ = format_parts(date_format)
    if two_digit_year(date_format) and pivot is None:  # the century is unknown: no cell is read
        return np.full(len(text), np.datetime64("NaT", "ns")), np.zeros(len(text), dtype=bool)
    parts = pc.extract_regex(text, _pattern(date_format))
    matched = pc.fill_null(pc.is_valid(parts), False).to_numpy(zero_copy_only=False)
    numbers = {}
    for part in order:
        field = pc.struct_field(parts, [order.index(part)])
        numbers[part] = pc.cast(pc.fill_null(field, "0"), pa.float64()).to_numpy(zero_copy_only=False)
    if two_digit_year(date_format):  # the year of the window [pivot, pivot + 99] ending in these two digits
        numbers["year"] = pivot + (numbers["year"] - pivot) % 100
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


def parse_dates(text: pa.Array, date_format: str | None = None,
                pivot: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Dates of a text column in ``date_format`` (ISO 8601 when None; ISO cells are accepted with any format).

    ``pivot`` is the first year of the hundred in which a two-digit year (``YY``) is read (None: such cells are not
    read).

    Returns
    -------
    (numpy.ndarray of datetime64[ns], numpy.ndarray of bool)
        The dates (NaT where missing or invalid) and the mask of cells that are valid dates.
    """
    dates, valid = _parse_iso(text)
    if date_format is not None and format_parts(date_format) != format_parts(_ISO):
        other, other_valid = _parse_one(text, date_format, pivot)
        dates, valid = np.where(valid, dates, other), valid | other_valid
    return dates, valid


def detect_format(text: pa.Array, pivot: int | None = None) -> tuple[str | None, str | None]:
    """The format reading every value of an undeclared date column, or a hint when there is none.

    ``pivot`` (``extract.two_digit_year_pivot``) lets the formats with a two-digit year be detected too; without
    it, cells of their shape get a hint naming the keys to set.

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
    candidates = DETECTABLE_FORMATS + (TWO_DIGIT_YEAR_FORMATS if pivot is not None else ())
    counts = {fmt: int((parse_dates(text, fmt, pivot)[1] & present).sum()) for fmt in candidates}
    complete = [fmt for fmt, count in counts.items() if count == n]
    if len(complete) == 1:
        return complete[0], f"dates read as {complete[0]} (detected)"
    if complete:
        why = "" if any(two_digit_year(fmt) for fmt in complete) else " (no day above 12)"
        return None, (f"the dates fit {' and '.join(complete)} alike{why}: declare the format with "
                      "extract.date_format or extract.date_formats in the configuration")
    best = max(counts, key=counts.get)
    if pivot is None:  # cells (not ISO) of a two-digit-year shape, against those another format reads
        others = present & ~parse_dates(text, _ISO)[1]
        short = max(int((parse_dates(text, fmt, _SHAPE_PIVOT)[1] & others).sum()) for fmt in TWO_DIGIT_YEAR_FORMATS)
        if short > 0 and short >= counts[best] - iso:
            return None, (f"{short} of the column's {n} dates {'has' if short == 1 else 'have'} a two-digit year: "
                          "the century is not guessed; declare the format with extract.date_format (e.g. "
                          "DD/MM/YY) and the century with extract.two_digit_year_pivot (e.g. 1950 reads 50-99 as "
                          "1950-1999 and 00-49 as 2000-2049), or write four-digit years")
    if counts[best] <= counts[_ISO] or counts[best] == 0:
        return None, None
    return best, (f"{counts[best]} of the column's {n} dates read as {best}, this one does not: correct it, or "
                  "declare the format with extract.date_format")


def two_digit_year_note(date_format: str | None, pivot: int | None, text: pa.Array,
                        dates: np.ndarray) -> str | None:
    """What a column read with a two-digit-year format says about the century chosen (None for other formats)."""
    if date_format is None or pivot is None or not two_digit_year(date_format):
        return None
    example = ""
    for position in np.flatnonzero(~np.isnat(dates))[:1]:
        example = f", e.g. {text[int(position)].as_py()!r} as {str(dates[position])[:10]}"
    return (f"two-digit years ({date_format}) read as the years {year_window(pivot)} "
            f"(extract.two_digit_year_pivot: {pivot}){example}")


def excel_serial_dates(numbers: np.ndarray, epoch: np.datetime64 = EXCEL_EPOCH) -> tuple[np.ndarray, np.ndarray]:
    """Excel serial day numbers as datetime64[ns], and the mask of whole numbers of days from 1900 to 2199.

    ``epoch`` is day 0 of the workbook's date system: :data:`EXCEL_EPOCH` (1900) or :data:`EXCEL_1904_EPOCH`.
    """
    low, high = _serial_range(epoch)
    with np.errstate(invalid="ignore"):
        valid = ~np.isnan(numbers) & (numbers == np.floor(numbers)) & (numbers >= low) & (numbers <= high)
    days = np.where(valid, numbers, 0).astype("int64")
    dates = (epoch + days).astype("datetime64[ns]")
    return np.where(valid, dates, np.datetime64("NaT", "ns")), valid


def _serial_range(epoch: np.datetime64) -> tuple[int, int]:
    """The serial numbers of 1900-01-01 and 2199-12-31 in the date system of ``epoch``."""
    first = max(int((np.datetime64("1900-01-01", "D") - epoch).astype(int)), 0)
    if epoch == EXCEL_EPOCH:
        first = 1  # Excel's day 1 is 1900-01-01 (its phantom 1900-02-29 shifts the days before March 1900)
    return first, int((_LAST_DAY - epoch).astype(int))


def serial_range_hint(epoch: np.datetime64 = EXCEL_EPOCH) -> str:
    """Why a number in a date column is not an Excel serial day, naming the workbook's date system."""
    low, high = _serial_range(epoch)
    system = "1904" if epoch == EXCEL_1904_EPOCH else "1900"
    first = "1900-01-01" if epoch == EXCEL_EPOCH else str(epoch + low)
    return (f"Excel serial day numbers must be whole numbers between {low} ({first}) and {high} (2199-12-31) "
            f"in the workbook's {system} date system")
