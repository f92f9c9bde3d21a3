"""CSV files that authors open in a spreadsheet: text cells that a spreadsheet would run as a formula.

The rule (:func:`hcc_utils.data.text.is_formula_like`) lives in the data layer, where the validator warns about such
cells of the author's extract; here it is applied to the files the build writes.
"""
from __future__ import annotations

import csv
from pathlib import Path

from hcc_utils.data.text import FORMULA_STARTS, is_formula_like

__all__ = ["FORMULA_STARTS", "neutralise_csv_formulas"]


def neutralise_csv_formulas(path: str | Path) -> dict[str, int]:
    """Put a single quote before every text cell of ``path`` that starts like a formula; rewrite the file.

    Numbers (``-1.5``, ``+3``) are not text and stay as they are. Returns ``{column: cells changed}`` so the caller
    can warn by column and count, never by value (the cells may be patient identifiers).
    """
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return {}
    header, counts = rows[0], {}
    for row in rows[1:]:
        for i, cell in enumerate(row):
            if is_formula_like(cell):
                row[i] = "'" + cell
                column = header[i] if i < len(header) else str(i)
                counts[column] = counts.get(column, 0) + 1
    if counts:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
    return counts
