"""How numbers are written in the book's tables and prose (one place, so every page agrees)."""
from __future__ import annotations

import math



def is_missing(value) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def fmt_p(p: float, missing: str = "NA") -> str:
    """P-value as journals print it: '<0.001' below 0.001, else three decimals; ``missing`` when not computed."""
    if is_missing(p):
        return missing
    return "<0.001" if p < 0.001 else f"{p:.3f}"


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
