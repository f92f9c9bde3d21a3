"""Read a cohort file as a raw table, by format: CSV (delimiter sniffing), Excel and Parquet.

Each reader returns the file's table as it is (a pandas DataFrame of text or cell values, or an Arrow
table), or refuses a file that is not a table with a :class:`CohortFileError` naming the file and the fix:

* CSV: text in the declared or detected encoding (:mod:`hcc_utils.data.encodings`: UTF-8 with or without BOM,
  UTF-16, CP949/EUC-KR, cp1252/Latin-1), line ends LF, CRLF or CR; the delimiter ``,``, ``;`` or tab is the one
  the header line contains most; every column is read as text (Arrow's multi-threaded reader, pandas for its
  precise error messages); zip/Excel and binary files are recognised and refused; two header names that mean the
  same column are refused;
* Excel (``.xlsx``, ``.xlsm``, and ``.xls`` files that are really .xlsx) through openpyxl: the first or the
  given worksheet, blank rows dropped, unnamed empty columns dropped; the workbook's date system (1900 or 1904);
* Parquet through pyarrow, without pandas index columns.

:data:`READERS` maps each supported extension to its reader, which returns a :class:`RawTable`: the table and what
was learnt of the file (delimiter, encoding, sheet, date system, Excel row numbers) with notes for the validation
report; :func:`hcc_utils.data.readers.read_cohort` picks one and normalises the result.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pa_parquet

from hcc_utils.data.encodings import decode_csv_bytes, utf16_without_bom
from hcc_utils.data.text import normalise_column_name, plural

__all__ = ["READERS", "SUPPORTED_EXTENSIONS", "CohortFileError", "RawTable"]

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


@dataclass
class RawTable:
    """A file's table as read, and what the reader learnt of the file.

    Attributes
    ----------
    table : pandas.DataFrame or pyarrow.Table
        Text or cell values as the file holds them.
    info : dict
        ``csv_delimiter`` and ``encoding`` (CSV), ``sheet``, ``sheet_names``, ``excel_date_system`` (1900 or 1904)
        and ``file_rows`` (the Excel row of each data row, when blank rows were skipped).
    notes : list of (str, str, str, str or None)
        ``(severity, rule, message, column)`` for the validation report (an uncertain encoding: no column).
    """

    table: pd.DataFrame | pa.Table
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[tuple[str, str, str, str | None]] = field(default_factory=list)


# --------------------------------------------------------------------------- file readers
def _sniff_delimiter(first_line: str) -> str:
    counts = {delimiter: first_line.count(delimiter) for delimiter in _CANDIDATE_DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _utf8_head(head: bytes) -> str | None:
    """The head of a file as UTF-8 (a BOM dropped; a character cut at the end ignored), or None if it is not."""
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 3 and error.reason == "unexpected end of data":
            return head[:error.start].decode("utf-8-sig")
        return None


def _read_csv(path: Path, sheet: Any = None, encoding: str = "auto") -> RawTable:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith(b"PK\x03\x04"):
        raise CohortFileError(path, "is a zip/Excel file, not a CSV text file; rename it to .xlsx or export it as CSV")
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff")) or utf16_without_bom(head) is not None
    if b"\x00" in head and not utf16 and not encoding.lower().replace("_", "-").startswith("utf-16"):
        raise CohortFileError(path, "is a binary file, not a CSV text table")
    source: Path | io.BytesIO = path
    notes: list[tuple[str, str, str, str | None]] = []
    text_head = _utf8_head(head) if encoding in ("auto", "utf-8", "utf8", "utf-8-sig") and not utf16 else None
    used = "utf-8"
    if text_head is None:  # not UTF-8 (or declared otherwise): decoded here, then parsed as UTF-8 by Arrow
        decoded = decode_csv_bytes(path.read_bytes(), encoding)
        source, text_head, used = io.BytesIO(decoded.text.encode("utf-8")), decoded.text[:_SNIFF_BYTES], decoded.encoding
        if decoded.note:
            notes.append(("warning", "encoding", decoded.note, None))
    table = _parse_csv(path, source, text_head)
    if table is None:  # UTF-8 in its head, not further on: decoded as a whole
        decoded = decode_csv_bytes(path.read_bytes(), encoding)
        used = decoded.encoding
        if decoded.note:
            notes.append(("warning", "encoding", decoded.note, None))
        table = _parse_csv(path, io.BytesIO(decoded.text.encode("utf-8")), decoded.text[:_SNIFF_BYTES], final=True)
    return RawTable(table, {"csv_delimiter": _sniff_delimiter(_first_line(text_head)), "encoding": used}, notes)


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text.strip() else ""


def _parse_csv(path: Path, source: Path | io.BytesIO, text_head: str, final: bool = False) -> pa.Table | pd.DataFrame | None:
    """The table of CSV text (UTF-8 bytes); None when ``source`` turns out not to be UTF-8 (unless ``final``)."""
    first_line = _first_line(text_head)
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
                source,
                parse_options=pa_csv.ParseOptions(delimiter=delimiter),
                convert_options=pa_csv.ConvertOptions(
                    column_types={name: pa.string() for name in header},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError) as error:
            if not final and "UTF8" in str(error):
                return None
            # ragged rows and the like: pandas gives the precise message below
        if isinstance(source, io.BytesIO):
            source.seek(0)
    try:
        return pd.read_csv(
            source,
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
        if not final:
            return None
        raise CohortFileError(path, "is not text in any encoding the reader knows; save it as 'CSV UTF-8'") from None
    except pd.errors.ParserError as error:
        raise CohortFileError(path, f"is not a well-formed CSV table ({error})") from None


def _read_excel(path: Path, sheet: Any = None, encoding: str = "auto") -> RawTable:
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
                        raise CohortFileError(path, f"has {plural(len(worksheets), 'worksheet')}; there is no sheet {index}")
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
                # openpyxl reads date cells in the workbook's system itself; serial numbers typed as numbers or
                # text are read by the conversion, which needs the system's day 0
                date_system = 1904 if workbook.epoch.year == 1904 else 1900
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
    info = {"sheet": worksheet.title, "sheet_names": list(workbook.sheetnames), "excel_date_system": date_system}
    file_rows = np.array([number for number, _ in numbered[1:]], dtype=np.int64)
    if not np.array_equal(file_rows, np.arange(2, len(file_rows) + 2)):
        info["file_rows"] = file_rows  # Excel row numbers where blank rows were skipped
    return RawTable(frame, info)


def _read_parquet(path: Path, sheet: Any = None, encoding: str = "auto") -> RawTable:
    try:
        table = pa_parquet.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise CohortFileError(path, f"is not a readable Parquet file ({type(error).__name__})") from None
    index_columns = [name for name in table.column_names if str(name).startswith("__index_level_")]
    return RawTable(table.drop_columns(index_columns) if index_columns else table)


#: Reader of each extension of :data:`SUPPORTED_EXTENSIONS`: ``reader(path, sheet, encoding)``.
READERS: dict[str, Callable[[Path, Any, str], RawTable]] = {
    ".csv": _read_csv,
    ".xlsx": _read_excel,
    ".xlsm": _read_excel,
    ".xls": _read_excel,
    ".parquet": _read_parquet,
}
