"""Date formats an author may declare (``extract.date_format``): the vocabulary shared by the schema and the reader.

A format is written as the author sees it, e.g. ``DD/MM/YYYY``: the tokens ``DD``, ``MM`` and ``YYYY`` in any order,
separated by ``/``, ``.``, ``-`` or a space. The data layer turns it into a pattern with :func:`format_parts`.
"""
from __future__ import annotations

import re

__all__ = ["DETECTABLE_FORMATS", "check_date_format", "format_parts"]

_TOKENS = {"DD": "day", "MM": "month", "YYYY": "year"}
_FORMAT = re.compile(r"^(DD|MM|YYYY)([/.\- ])(DD|MM|YYYY)\2(DD|MM|YYYY)$")

#: Formats tried, in this order, when a date column's format is not declared (ISO 8601 first: today's behaviour).
DETECTABLE_FORMATS = ("YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY", "DD-MM-YYYY", "YYYY/MM/DD",
                      "MM-DD-YYYY")


def format_parts(date_format: str) -> tuple[tuple[str, str, str], str]:
    """The order of the parts (``day``, ``month``, ``year``) and the separator of a format such as ``DD/MM/YYYY``.

    Raises
    ------
    ValueError
        If the format is not three distinct tokens DD, MM, YYYY joined by one separator.
    """
    match = _FORMAT.match(date_format.strip().upper())
    tokens = match.group(1, 3, 4) if match else ()
    if not match or len(set(tokens)) != 3:
        raise ValueError(f"date format {date_format!r} is not understood; write it as DD, MM and YYYY joined by "
                         "'/', '.', '-' or a space, e.g. DD/MM/YYYY")
    return tuple(_TOKENS[token] for token in tokens), match.group(2)


def check_date_format(date_format: str, where: str) -> None:
    """Raise ``ValueError`` naming the configuration key ``where`` if ``date_format`` is not understood."""
    try:
        format_parts(date_format)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
