"""CSV files that authors open in a spreadsheet: text cells that a spreadsheet would run as a formula."""
from __future__ import annotations

import csv
from pathlib import Path

#: First characters that make Excel, LibreOffice and Google Sheets read a cell as a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


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
            if cell.startswith(FORMULA_STARTS) and not _is_number(cell):
                row[i] = "'" + cell
                column = header[i] if i < len(header) else str(i)
                counts[column] = counts.get(column, 0) + 1
    if counts:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
    return counts
