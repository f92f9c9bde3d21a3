"""Numbers written as text the way hospital systems write them: decimal mark, thousands separators.

:class:`NumberFormat` says how a file writes numbers (the configuration's ``extract.decimal`` and
``extract.thousands``, and the CSV separator); :func:`parse_number_text` reads a text column with it. A cell is
read when it can mean one number only and refused otherwise, never guessed:

* with the decimal mark ``D`` of the file (``.``, or ``,`` in a semicolon-separated CSV or as declared): ``1.5``
  (``1,5``) and plain integers; the other mark ``O`` groups thousands when that is the only reading:
  ``1,401.5``, ``1,401,000`` (``1.401,5``, ``1.401.000``); spaces (also non-breaking ones) group thousands:
  ``1 401,5``; a declared ``extract.thousands`` groups thousands: ``1,401``;
* a single group ``1,401`` (``1.401``) without a declared separator is refused: it is 1401 if ``O`` groups
  thousands and 1.401 if ``O`` is a decimal mark; the message names the key to set;
* with an undeclared decimal mark (``extract.decimal: auto``), a cell written with the other mark that can mean
  one number only is read (``2,5`` is 2.5 in a comma-separated file, ``1.401,5`` is 1401.5); a declared mark
  refuses it.

Plain numbers (every cell of an ordinary extract) take Arrow's vectorised cast; the rules above run once per
distinct cell that is not plain.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["NumberFormat", "parse_number_text"]

_SPACES = " \u00a0\u202f"  # a space, a non-breaking space and a narrow one (French spreadsheets)


@dataclass(frozen=True)
class NumberFormat:
    """How a file writes numbers as text.

    Attributes
    ----------
    decimal : str
        The decimal mark, ``"."`` or ``","``.
    declared : bool
        The configuration declares it (``extract.decimal`` or ``extract.thousands``): the other mark is never read
        as a decimal mark.
    thousands : str or None
        The declared thousands separator (``extract.thousands``).
    """

    decimal: str = "."
    declared: bool = False
    thousands: str | None = None

    @classmethod
    def of(cls, extract: Any = None, csv_delimiter: str | None = None) -> "NumberFormat":
        """The format of a file under the configuration's ``extract`` block (None: its defaults), given its CSV
        delimiter (None for a workbook or Parquet)."""
        decimal = getattr(extract, "decimal", "auto")
        thousands = getattr(extract, "thousands", None)
        if decimal in (".", ","):
            return cls(decimal, True, thousands)
        if thousands in (".", ","):  # the other mark is then the decimal mark
            return cls("," if thousands == "." else ".", True, thousands)
        return cls("," if csv_delimiter == ";" else ".", False, thousands)

    @property
    def other(self) -> str:
        """The mark that is not the decimal mark."""
        return "," if self.decimal == "." else "."


def _patterns(fmt: NumberFormat) -> dict[str, re.Pattern]:
    d, o = re.escape(fmt.decimal), re.escape(fmt.other)
    space = f"[{_SPACES}]"
    exponent = r"(?:[eE][+-]?\d+)?"
    lead = r"[1-9]\d{0,2}"  # the digits before the first group separator (1 to 3, not starting with 0)
    patterns = {
        "plain": rf"^(?:\d+(?:{d}\d*)?|{d}\d+){exponent}$",
        "spaced": rf"^{lead}(?:{space}\d{{3}})+(?:{d}\d+)?$",
        "grouped": rf"^{lead}(?:{o}\d{{3}}){{2,}}(?:{d}\d+)?$|^{lead}(?:{o}\d{{3}})+{d}\d+$",
        "one_group": rf"^{lead}{o}\d{{3}}$",
        "other_decimal": rf"^\d+{o}\d+$|^{lead}(?:(?:{d}|{space})\d{{3}})+{o}\d+$",
    }
    if fmt.thousands is not None:
        t = re.escape(fmt.thousands)
        patterns["declared"] = rf"^{lead}(?:{t}\d{{3}})+(?:{d}\d+)?$"
    return {name: re.compile(pattern) for name, pattern in patterns.items()}


def _read_cell(cell: str, fmt: NumberFormat, patterns: dict[str, re.Pattern]) -> tuple[float, str | None]:
    """One cell that Arrow's cast did not read: its value, or NaN and the reason (None: not a number at all)."""
    sign = "-" if cell[:1] == "-" else ""
    body = cell[1:] if cell[:1] in "+-" else cell
    d, o = fmt.decimal, fmt.other

    def number(text: str, decimal: str, *groups: str) -> float:
        for group in groups:
            text = text.replace(group, "")
        return float(sign + text.replace(decimal, "."))

    if patterns["plain"].match(body):
        return number(body, d), None
    if "declared" in patterns and patterns["declared"].match(body):
        return number(body, d, fmt.thousands), None
    if patterns["spaced"].match(body):
        return number(body, d, *_SPACES), None
    if fmt.thousands != o and patterns["grouped"].match(body):
        return number(body, d, o), None
    if fmt.thousands != o and patterns["one_group"].match(body):
        return np.nan, (f"could mean {sign}{body.replace(o, '')} ({o!r} grouping thousands) or "
                        f"{sign}{body.replace(o, '.')} ({o!r} as the decimal mark): declare which with "
                        f"extract.thousands: '{o}' (or extract.decimal: '{o}')")
    if patterns["other_decimal"].match(body) and fmt.thousands != o:
        if not fmt.declared:
            return number(body, o, d, *_SPACES), None
        return np.nan, (f"is not a number with the decimal mark {d!r} the configuration declares "
                        "(extract.decimal, extract.thousands)")
    return np.nan, None


def parse_number_text(text: pa.Array, fmt: NumberFormat | None = None) -> tuple[np.ndarray, dict[str, str]]:
    """Numbers of a text column written as :class:`NumberFormat` says (see the module docstring).

    Parameters
    ----------
    text : pyarrow.Array
        Normalised text (stripped; missing as null).
    fmt : NumberFormat, optional
        The file's format; ``.`` as the decimal mark when None.

    Returns
    -------
    (numpy.ndarray of float64, dict of str to str)
        The values (NaN where missing or not read) and, for cells refused with a reason (an ambiguous group, a
        decimal mark the configuration does not declare), that reason by cell text.
    """
    fmt = fmt or NumberFormat()
    plain = text if fmt.decimal == "." else pc.replace_substring(text, ",", ".")
    if fmt.decimal == "." or not pc.any(pc.fill_null(pc.match_substring(text, "."), False)).as_py():
        try:  # an ordinary column: Arrow's vectorised cast reads every cell
            return pc.cast(plain, pa.float64()).to_numpy(zero_copy_only=False).astype("float64"), {}
        except pa.ArrowInvalid:
            pass
    cells = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
    patterns = _patterns(fmt)
    values, reasons = {}, {}
    for cell in cells.dropna().unique():
        values[cell], reason = _read_cell(cell, fmt, patterns)
        if reason is not None:
            reasons[cell] = reason
    return cells.map(values).to_numpy(dtype="float64", na_value=np.nan), reasons
