"""Read a cohort file as a raw table, by format: CSV (delimiter sniffing), Excel and Parquet.

Each reader returns the file's table as it is (a pandas DataFrame of text or cell values, or an Arrow
table), or refuses a file that is not a table with a :class:`CohortFileError` naming the file and the fix:

* CSV: UTF-8 text (a BOM is allowed); the delimiter ``,``, ``;`` or tab is the one the header line contains
  most; every column is read as text (Arrow's multi-threaded reader, pandas for its precise error messages);
  zip/Excel, UTF-16 and binary files are recognised and refused; two header names that mean the same column
  are refused;
* Excel (``.xlsx``, ``.xlsm``, and ``.xls`` files that are really .xlsx) through openpyxl: the first or the
  given worksheet, blank rows dropped, unnamed empty columns dropped;
* Parquet through pyarrow, without pandas index columns.

:data:`READERS` maps each supported extension to its reader; :func:`hcc_utils.data.readers.read_cohort` picks
one and normalises the result.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pa_parquet

from hcc_utils.data.text import normalise_column_name

__all__ = ["READERS", "SUPPORTED_EXTENSIONS", "CohortFileError", "sniff_csv_delimiter"]

#: File extensions :func:`hcc_utils.data.readers.read_cohort` understands; :data:`READERS` has the reader of each.
SUPPORTED_EXTENSIONS = (".csv", ".xlsx", ".xlsm", ".xls", ".parquet")
_SNIFF_BYTES = 64 * 1024
_CANDIDATE_DELIMITERS = (",", ";", "\t")


class CohortFileError(ValueError):
    """The cohort file cannot be read as a table.

    Parameters
    ----------
    path : str or os.PathLike
        The offending file; its name starts the message.
    problem : str
        What is wrong and, where possible, how to fix it.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


# --------------------------------------------------------------------------- file readers
def _sniff_delimiter(first_line: str) -> str:
    counts = {delimiter: first_line.count(delimiter) for delimiter in _CANDIDATE_DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def sniff_csv_delimiter(path: Path) -> str:
    """The delimiter of a CSV file (``,``, ``;`` or tab: the one its header line contains most)."""
    with Path(path).open("rb") as handle:
        first_line = handle.readline(_SNIFF_BYTES).decode("utf-8-sig", errors="replace")
    return _sniff_delimiter(first_line)


def _read_csv(path: Path, sheet: Any) -> pd.DataFrame:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith(b"PK\x03\x04"):
        raise CohortFileError(path, "is a zip/Excel file, not a CSV text file; rename it to .xlsx or export it as CSV")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CohortFileError(path, "is UTF-16 text ('Unicode text'); save it as 'CSV UTF-8'")
    if b"\x00" in head:
        raise CohortFileError(path, "is a binary file, not a CSV text table")
    try:
        first_line = head.decode("utf-8-sig", errors="strict").splitlines()[0] if head.strip() else ""
    except UnicodeDecodeError:
        # The head may end inside a multi-byte character; decode what is complete.
        try:
            first_line = head[: head.find(b"\n") if b"\n" in head else len(head)].decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CohortFileError(path, "is not UTF-8 text; save it as 'CSV UTF-8'") from None
    delimiter = _sniff_delimiter(first_line)
    header = next(csv.reader([first_line], delimiter=delimiter), [])
    normalised_header = [normalise_column_name(name) for name in header]
    for position, name in enumerate(normalised_header):
        if name in normalised_header[:position]:
            first = header[normalised_header.index(name)]
            raise CohortFileError(
                path, f"columns {first!r} and {header[position]!r} both mean column {name!r}; keep only one"
            )
    if header:
        try:  # fast path: Arrow's multi-threaded reader, every column as text
            return pa_csv.read_csv(
                path,
                parse_options=pa_csv.ParseOptions(delimiter=delimiter),
                convert_options=pa_csv.ConvertOptions(
                    column_types={name: pa.string() for name in header},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError):
            pass  # ragged rows, bad encoding, ...: pandas gives the precise message below
    try:
        return pd.read_csv(
            path,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        raise CohortFileError(path, "is empty: no header row and no data") from None
    except UnicodeDecodeError:
        raise CohortFileError(path, "is not UTF-8 text; save it as 'CSV UTF-8'") from None
    except pd.errors.ParserError as error:
        raise CohortFileError(path, f"is not a well-formed CSV table ({error})") from None


def _read_excel(path: Path, sheet: Any) -> pd.DataFrame:
    import openpyxl

    try:
        with path.open("rb") as handle:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
            try:
                worksheets = workbook.worksheets
                if not worksheets:
                    raise CohortFileError(path, "is an Excel workbook without any worksheet")
                if sheet is None or isinstance(sheet, int):
                    index = sheet or 0
                    if index >= len(worksheets):
                        raise CohortFileError(path, f"has {len(worksheets)} worksheet(s); there is no sheet {index}")
                    worksheet = worksheets[index]
                elif sheet in workbook.sheetnames:
                    worksheet = workbook[sheet]
                else:
                    raise CohortFileError(
                        path, f"has no worksheet {sheet!r}; its sheets are {', '.join(map(repr, workbook.sheetnames))}"
                    )
                numbered = [(number, row) for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1)
                            if any(cell is not None and str(cell).strip() != "" for cell in row)]
                rows = [row for _, row in numbered]
            finally:
                workbook.close()
    except CohortFileError:
        raise
    except Exception as error:  # openpyxl raises many types on malformed workbooks
        legacy = path.suffix.lower() == ".xls"
        hint = (
            "legacy Excel 97-2003 (.xls) workbooks cannot be read; save it as .xlsx or 'CSV UTF-8'"
            if legacy
            else f"is not a readable .xlsx workbook ({type(error).__name__})"
        )
        raise CohortFileError(path, hint) from None
    if not rows:
        raise CohortFileError(path, f"worksheet {worksheet.title!r} is empty: no header row and no data")
    width = max(len(row) for row in rows)
    header = list(rows[0]) + [None] * (width - len(rows[0]))
    body = [list(row) + [None] * (width - len(row)) for row in rows[1:]]
    frame = pd.DataFrame(body, columns=range(width), dtype=object)
    keep = [position for position in range(width) if header[position] is not None or frame[position].notna().any()]
    frame = frame[keep]
    frame.columns = [
        str(header[position]) if header[position] is not None else f"unnamed_{position + 1}" for position in keep
    ]
    file_rows = np.array([number for number, _ in numbered[1:]], dtype=np.int64)
    if not np.array_equal(file_rows, np.arange(2, len(file_rows) + 2)):
        # Excel row numbers where blank rows were skipped; an array, as pandas deep-copies attrs on every operation.
        frame.attrs["file_rows"] = file_rows
    frame.attrs["sheet"], frame.attrs["sheet_names"] = worksheet.title, list(workbook.sheetnames)
    return frame


def _read_parquet(path: Path, sheet: Any) -> pa.Table:
    try:
        table = pa_parquet.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise CohortFileError(path, f"is not a readable Parquet file ({type(error).__name__})") from None
    index_columns = [name for name in table.column_names if str(name).startswith("__index_level_")]
    return table.drop_columns(index_columns) if index_columns else table


#: Reader of each extension of :data:`SUPPORTED_EXTENSIONS`: ``reader(path, sheet)``.
READERS: dict[str, Callable[[Path, Any], pd.DataFrame | pa.Table]] = {
    ".csv": _read_csv,
    ".xlsx": _read_excel,
    ".xlsm": _read_excel,
    ".xls": _read_excel,
    ".parquet": _read_parquet,
}
