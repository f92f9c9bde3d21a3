"""Date formats an author may declare (``extract.date_format``): the vocabulary shared by the schema and the reader.

A format is written as the author sees it, e.g. ``DD/MM/YYYY``: the tokens ``DD``, ``MM`` and ``YYYY`` (or ``YY``,
a two-digit year, read in the century that ``extract.two_digit_year_pivot`` states) in any order, separated by
``/``, ``.``, ``-`` or a space. The data layer turns it into a pattern with :func:`format_parts`.
"""
from __future__ import annotations

import re

__all__ = ["DETECTABLE_FORMATS", "TWO_DIGIT_YEAR_FORMATS", "check_date_format", "format_parts", "two_digit_year",
           "year_window"]

_TOKENS = {"DD": "day", "MM": "month", "YYYY": "year", "YY": "year"}
_FORMAT = re.compile(r"^(DD|MM|YYYY|YY)([/.\- ])(DD|MM|YYYY|YY)\2(DD|MM|YYYY|YY)$")

#: Formats tried, in this order, when a date column's format is not declared (ISO 8601 first: today's behaviour).
DETECTABLE_FORMATS = ("YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY", "DD-MM-YYYY", "YYYY/MM/DD",
                      "MM-DD-YYYY", "YYYY.MM.DD")

#: Formats with a two-digit year: detected only when ``extract.two_digit_year_pivot`` states the century; without
#: it, cells of these shapes get a hint naming the keys to set.
TWO_DIGIT_YEAR_FORMATS = ("DD/MM/YY", "MM/DD/YY", "DD.MM.YY", "DD-MM-YY", "YY.MM.DD", "YY/MM/DD", "YY-MM-DD")


def _match(date_format: str) -> re.Match | None:
    match = _FORMAT.match(date_format.strip().upper())
    if match and len({_TOKENS[token] for token in match.group(1, 3, 4)}) == 3:
        return match
    return None


def format_parts(date_format: str) -> tuple[tuple[str, str, str], str]:
    """The order of the parts (``day``, ``month``, ``year``) and the separator of a format such as ``DD/MM/YYYY``.

    Raises
    ------
    ValueError
        If the format is not three distinct tokens DD, MM and YYYY (or YY) joined by one separator.
    """
    match = _match(date_format)
    if match is None:
        raise ValueError(f"date format {date_format!r} is not understood; write it as DD, MM and YYYY (or YY, with "
                         "extract.two_digit_year_pivot) joined by '/', '.', '-' or a space, e.g. DD/MM/YYYY")
    return tuple(_TOKENS[token] for token in match.group(1, 3, 4)), match.group(2)


def two_digit_year(date_format: str) -> bool:
    """True when the format writes the year with two digits (``YY``)."""
    match = _match(date_format)
    return bool(match) and "YY" in match.group(1, 3, 4)


def year_window(pivot: int) -> str:
    """The hundred years two-digit years are read in, e.g. ``1950-2049`` for the pivot 1950."""
    return f"{pivot}-{pivot + 99}"


def check_date_format(date_format: str, where: str) -> None:
    """Raise ``ValueError`` naming the configuration key ``where`` if ``date_format`` is not understood."""
    try:
        format_parts(date_format)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
