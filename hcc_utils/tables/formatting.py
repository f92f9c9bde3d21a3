"""How numbers are written in the book's tables and prose (one place, so every page agrees)."""
from __future__ import annotations

import math
import re



def is_missing(value) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def fmt_number(value, digits: int = 1, whole: bool = False, missing: str = "NA") -> str:
    """A number with ``digits`` decimals; with ``whole`` (a count, or a summary of data that are whole numbers: a
    median of treatment cycles, an age in whole years, matched pairs) an integer value is written as an integer
    ('4', never '4.0'), while a half stays a half ('63.5'). ``missing`` when there is no value.

    The one rule of the book's tables and prose for such numbers (Table 1's medians and quartiles,
    :func:`hcc_utils.study.registry.display_value`).
    """
    if is_missing(value):
        return missing
    number = float(value)
    if whole and number.is_integer():
        return str(int(number))
    return f"{number:.{digits}f}"


def is_whole(values) -> bool:
    """Whether every non-missing value of ``values`` is a whole number (the data of a count, cycles, whole
    years), so that their summaries may be written as :func:`fmt_number` writes a ``whole`` number."""
    numbers = [float(v) for v in values if not is_missing(v)]
    return bool(numbers) and all(v.is_integer() for v in numbers)


def fmt_p(p: float, missing: str = "NA") -> str:
    """P-value as journals print it: '<0.001' below 0.001, else three decimals; ``missing`` when not computed."""
    if is_missing(p):
        return missing
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_p_label(p: float, prefix: str = "Log-rank P", missing: str | None = None) -> str:
    """A p-value as a figure annotation: 'Log-rank P = 0.019', 'Log-rank P < 0.001'.

    When the test could not be computed (``p`` missing, for example a subgroup with a single level) the label is
    ``missing`` if given, else '<prefix> not estimable'.
    """
    if is_missing(p):
        return f"{prefix} not estimable" if missing is None else missing
    shown = fmt_p(p)
    return f"{prefix} < {shown[1:]}" if shown.startswith("<") else f"{prefix} = {shown}"


def fmt_months(value: float, digits: int = 1) -> str:
    """A survival time in months; 'NR' (not reached) when missing."""
    return "NR" if is_missing(value) else f"{value:.{digits}f}"


def fmt_percent(count: int, total: int, digits: int = 1) -> str:
    """'n (x.x%)'."""
    return f"{count} ({100 * count / total:.{digits}f}%)" if total else f"{count} (NA)"


def fmt_ratio(value: float, digits: int = 3) -> str:
    return "NA" if is_missing(value) else f"{value:.{digits}f}"


def fmt_median_iqr(median: float, q1: float, q3: float, digits: int = 1) -> str:
    """'10.3 (6.8-NR)' for survival times."""
    return f"{fmt_months(median, digits)} ({fmt_months(q1, digits)}–{fmt_months(q3, digits)})"


#: A limit written as a number, optionally signed (hyphen or true minus) and followed by its unit: '−1.2 months',
#: '7.5%'.
_NUMBER_WITH_UNIT = re.compile(r"^(?P<number>[<>]?[−-]?\d[\d,.]*)(?P<unit>%| [^\d\s].*)?$")


def fmt_interval(low: str, high: str) -> str:
    """Two limits already written as text, as one interval.

    '1.2'–'3.4' -> '1.2–3.4'; with a negative limit the dash would read as a minus: '−1.2 to 0.8'; a unit both
    limits carry is written once, at the end ('3.5 months', '9.3 months' -> '3.5–9.3 months'); limits that are
    the same word (neither is a number) are written once: 'not estimable', never 'not estimable–not estimable';
    a number and a word are joined by 'to' ('6.8 months to not reached').
    """
    low, high = str(low).strip(), str(high).strip()
    parts = [_NUMBER_WITH_UNIT.match(text) for text in (low, high)]
    if not all(parts):
        if low == high:
            return low
        return f"{low} to {high}"
    (a, unit_a), (b, unit_b) = ((m.group("number"), m.group("unit") or "") for m in parts)
    negative = any(text.startswith(("−", "-")) for text in (a, b))
    if unit_a == unit_b:
        joined = f"{a} to {b}" if negative else f"{a}–{b}"
        return joined + unit_a
    return f"{low} to {high}"
