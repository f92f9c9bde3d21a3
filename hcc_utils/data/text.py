"""Text of cohort cells and column names: normalisation, and the few text rules the whole project shares.

Every reader and the type conversion see a cohort column as *normalised text* first: surrounding spaces
removed, the dictionary's ``missing_values`` spellings (``""``, ``NA``, ``N/A``, ``null`` ...) as missing,
optionally lower-cased (``category`` columns). Typed cells (Excel, Parquet) are written as text the way the
file shows them (``3`` not ``3.0``, dates as ``YYYY-MM-DD``), so a validation message can quote the value.
The work is done on Arrow string arrays (vectorised); :func:`normalise_text` returns a pandas Series.

Shared rules: :func:`is_formula_like` (a text cell a spreadsheet would run as a formula; the validator warns
about such cells and :mod:`hcc_utils.report.spreadsheet` quotes them in ``analysis.csv``), :func:`undecoded`
(cells holding U+FFFD, text lost in a decoding), :func:`closest_name` (the suggestion for a misspelt name) and
:func:`plural` (``1 error``, ``2 errors``).
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
from typing import Any, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "FORMULA_STARTS",
    "REPLACEMENT_CHARACTER",
    "arrow_text",
    "cell_to_text",
    "clean_arrow_text",
    "closest_name",
    "formula_like",
    "is_arrow_text",
    "is_formula_like",
    "normalise_column_name",
    "normalise_text",
    "plural",
    "undecoded",
]

#: First characters that make Excel, LibreOffice and Google Sheets read a cell as a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@")
#: What a decoder puts where bytes are not text of its encoding (U+FFFD).
REPLACEMENT_CHARACTER = "\ufffd"


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


# --------------------------------------------------------------------------- shared rules
def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet would run this text cell as a formula: it starts with ``=``, ``+``, ``-`` or ``@``
    and is not a number (``-1.5`` and ``+3`` are numbers, not formulas)."""
    return text.startswith(FORMULA_STARTS) and not _is_number(text)


def formula_like(text: pa.Array) -> np.ndarray:
    """Mask of the cells of a text column for which :func:`is_formula_like` holds (missing cells are False)."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    starts = pc.fill_null(pc.match_substring_regex(text, "^[=+\\-@]"), False)
    if not pc.any(starts).as_py():
        return np.zeros(len(text), dtype=bool)
    candidates = pc.unique(pc.filter(text, starts)).to_pylist()  # the rule once per distinct cell
    formulas = [cell for cell in candidates if is_formula_like(cell)]
    return pc.fill_null(pc.is_in(text, value_set=pa.array(formulas, type=text.type)), False).to_numpy(
        zero_copy_only=False)


def undecoded(text: pa.Array) -> np.ndarray:
    """Mask of the cells holding U+FFFD: bytes that were not text of the file's encoding (here or upstream)."""
    return pc.fill_null(pc.match_substring(text, REPLACEMENT_CHARACTER), False).to_numpy(zero_copy_only=False)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``count`` and the noun it counts: ``1 error``, ``2 errors``, ``0 patients`` (``plural_form`` when not +s)."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


def _tokens(name: str) -> list[str]:
    return [token for token in re.split(r"[^0-9a-z]+", str(name).lower()) if token]


def _same_token(a: str, b: str) -> bool:
    """Equal, or a spelling variant of a word of four letters or more (tumour/tumor, cabozantnib/cabozantinib)."""
    return a == b or (min(len(a), len(b)) >= 4 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.8)


def closest_name(name: str, candidates: Iterable[str], cutoff: float = 0.75) -> str | None:
    """The candidate a misspelt or longer ``name`` most likely means, or None.

    Words first: a candidate all of whose words are words of ``name`` (``patient_age`` -> ``age``), or one holding
    every word of ``name`` (``tumour_size`` -> ``tumor_size_cm``; a word may be misspelt), when exactly one candidate
    is best; otherwise the closest spelling (:func:`difflib.get_close_matches` with ``cutoff``).
    """
    candidates = list(candidates)
    words = _tokens(name)
    scored = []
    for candidate in candidates:
        own = _tokens(candidate)
        if not own or not words:
            continue
        covered = sum(any(_same_token(word, mine) for word in words) for mine in own) / len(own)
        covering = sum(any(_same_token(word, mine) for mine in own) for word in words) / len(words)
        if covered == 1 or covering == 1:
            scored.append((covered + covering, candidate))
    if scored:
        scored.sort(reverse=True)
        if len(scored) == 1 or scored[0][0] > scored[1][0]:
            return scored[0][1]
    close = difflib.get_close_matches("_".join(words) or str(name), candidates, n=1, cutoff=cutoff)
    return close[0] if close else None
