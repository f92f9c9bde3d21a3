"""Read a cohort file (CSV, Excel, Parquet) into a normalised DataFrame.

The reader is the first gate for a hospital's own extract. It refuses files that are not a
table at all with a :class:`CohortFileError` naming the file, and otherwise returns every
row, leaving value-level problems to :func:`hcc_utils.data.validate.validate_cohort`, which reports
them all at once.

Normalisation
-------------
* column names: surrounding spaces removed, lower case;
* text cells: surrounding spaces removed; the dictionary's ``missing_values`` (``""``, ``NA``,
  ``N/A``, ``null`` ...) become missing; ``category`` values are lower-cased;
* typed columns are converted only when **every** non-missing value of the column converts:
  ``integer`` -> ``Int64``, ``number`` -> ``float64`` (decimal mark and thousands separators as the file
  writes them: :mod:`~hcc_utils.data.numbers`), ``boolean`` -> ``boolean`` (spellings from the dictionary's
  ``boolean_true`` / ``boolean_false``, or 1/0 written as numbers), ``date`` -> ``datetime64[ns]`` (ISO 8601 or
  the configured/detected format, two-digit years with a stated pivot, Excel dates and serial numbers in the
  workbook's date system; a time part is dropped). A column with an unconvertible value is kept as normalised
  text, so the validator can quote the value exactly as the file has it.

The configuration's ``extract`` block (column names, sheet, encoding, date and number formats) is applied here,
before validation. What the reader learnt of the file is kept in the frame's ``attrs`` for the validator:
``csv_delimiter``, ``encoding``, ``excel_date_system``, ``file_rows`` and ``read_notes`` (warnings on how the file
was read: an uncertain encoding, two-digit years read in a stated century).

The work is shared with other modules of :mod:`hcc_utils.data`: :mod:`~hcc_utils.data.formats` reads each
file format (and defines :class:`CohortFileError`), :mod:`~hcc_utils.data.text` normalises text and
:mod:`~hcc_utils.data.coerce` holds :func:`coerce_column`, the single conversion rule, which the validator and
the derivations use too. Their public names are importable from here as well.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hcc_utils.config import ConfigError, StudyConfig
from hcc_utils.config.extract import Extract
from hcc_utils.data.coerce import CoercedColumn, cell_format, coerce_column
from hcc_utils.data.dictionary import DataDictionary, load_dictionary
from hcc_utils.data.variables import study_dictionary
from hcc_utils.data.formats import READERS, SUPPORTED_EXTENSIONS, CohortFileError, RawTable
from hcc_utils.data.text import (
    arrow_text,
    clean_arrow_text,
    closest_name,
    is_arrow_text,
    normalise_column_name,
    normalise_text,
    plural,
)


__all__ = [
    "SUPPORTED_EXTENSIONS",
    "CohortFileError",
    "CoercedColumn",
    "coerce_column",
    "normalise_column_name",
    "normalise_frame",
    "normalise_text",
    "read_cohort",
    "rename_columns",
]


# --------------------------------------------------------------------------- normalising a table
#: A text column of type ``string`` is read as a categorical when it has at most one distinct value in this many
#: cells (``centre``; not ``patient_id``); ``category`` columns always are.
_FEW_DISTINCT = 20


def normalise_frame(
    frame: pd.DataFrame | pa.Table,
    dictionary: DataDictionary | None = None,
    source: str | os.PathLike[str] = "<frame>",
    extract: Extract | None = None,
    file_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Normalise column names and values of a cohort table (see the module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame or pyarrow.Table
        Cohort as read, any dtypes.
    dictionary : DataDictionary, optional
        Defaults to :func:`hcc_utils.data.dictionary.load_dictionary`.
    source : str or os.PathLike
        Named in errors.
    extract : hcc_utils.config.extract.Extract, optional
        The configuration's ``extract`` block: date formats (detected per column when undeclared), year pivot,
        decimal mark and thousands separator.
    file_info : dict, optional
        What the reader learnt of the file (:class:`~hcc_utils.data.formats.RawTable` ``info``): its CSV delimiter
        and Excel date system (see :func:`hcc_utils.data.coerce.cell_format`).

    Returns
    -------
    pandas.DataFrame
        A new frame with a ``RangeIndex``; columns in file order. ``attrs["read_notes"]`` lists how converted
        columns were read where the author should know it (two-digit years), as ``(severity, rule, message,
        column)``.

    Raises
    ------
    CohortFileError
        If two columns have the same name after normalisation.
    """
    dictionary = dictionary or load_dictionary()
    is_arrow = isinstance(frame, pa.Table)
    original_names = list(frame.column_names if is_arrow else frame.columns)
    n_rows = frame.num_rows if is_arrow else len(frame)
    names = [normalise_column_name(name) for name in original_names]
    seen: dict[str, Any] = {}
    for original, name in zip(original_names, names):
        if name in seen:
            raise CohortFileError(
                source, f"columns {seen[name]!r} and {original!r} both mean column {name!r}; keep only one"
            )
        seen[name] = original
    normalised = {}
    notes = []
    for position, name in enumerate(names):
        column = frame.column(position) if is_arrow else frame.iloc[:, position].reset_index(drop=True)
        kind = dictionary.column(name).type if name in dictionary else None
        if kind in ("category", "string"):
            if is_arrow and is_arrow_text(column):
                text = clean_arrow_text(column, dictionary.missing_values, lower=kind == "category")
            else:
                text = arrow_text(column.to_pandas() if is_arrow else column, dictionary.missing_values,
                                  lower=kind == "category")
            if kind == "category" or pc.count_distinct(text).as_py() * _FEW_DISTINCT <= len(text):
                # few distinct values: a categorical holds a million cells in a megabyte, not a million strings
                normalised[name] = pd.Series(pc.dictionary_encode(text).to_pandas())
            else:
                normalised[name] = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
        elif name in dictionary:
            coerced = coerce_column(column, dictionary.column(name), dictionary,
                                    cell_format(extract, name, file_info))
            if not coerced.invalid.any():
                normalised[name] = coerced.values
                if coerced.note:  # a column left as text is converted again by the validator, which notes it then
                    notes.append(("warning", "two_digit_year", coerced.note, name))
            else:
                normalised[name] = coerced.text
        else:
            if is_arrow:
                column = column.to_pandas() if not is_arrow_text(column) else column
            if isinstance(column, pd.Series):
                text = arrow_text(column, dictionary.missing_values, lower=False)
            else:
                text = clean_arrow_text(column, dictionary.missing_values, lower=False)
            normalised[name] = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
    # the normalised columns as they are (no consolidating copy of the cohort into one block per dtype)
    result = pd.DataFrame(normalised, index=pd.RangeIndex(n_rows), copy=False)
    result.attrs["read_notes"] = notes
    return result


# --------------------------------------------------------------------------- memory
def _malloc_trim() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to trim
        return None


_MALLOC_TRIM = _malloc_trim()


def release_freed_memory() -> None:
    """Hand memory freed by Arrow and by the C heap back to the system.

    Reading and converting a large cohort frees many column-sized buffers that Arrow's pool and the C heap keep for
    reuse (a third of a GB at 10^6 patients); returning them lowers the resident peak of every later step.
    """
    pa.default_memory_pool().release_unused()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


# --------------------------------------------------------------------------- the author's own column names
def rename_columns(names: list[str], mapping: dict[str, str], dictionary: DataDictionary) -> list[str]:
    """The file's column names with the configuration's ``extract.columns`` applied (matched ignoring case/spaces).

    Raises
    ------
    ConfigError
        When a target is not a column of the data dictionary, with the one it most likely means as a suggestion
        (:func:`hcc_utils.data.text.closest_name`: ``patient_age`` -> ``age``).
    """
    problems = []
    for source, target in mapping.items():
        if normalise_column_name(target) not in dictionary:
            close = closest_name(normalise_column_name(target), dictionary.names, cutoff=0.6)
            hint = f" (did you mean {close!r}?)" if close else " (the data page lists the dictionary's columns)"
            problems.append(f"extract.columns maps {source!r} to {target!r}, which is not a column of the data "
                            f"dictionary{hint}")
    if problems:
        raise ConfigError("; ".join(problems))
    by_name = {normalise_column_name(source): target for source, target in mapping.items()}
    return [by_name.get(normalise_column_name(name), name) for name in names]


def _sheet_hint(raw: RawTable) -> str:
    """For a workbook of several sheets, which one was read and how to name another."""
    names = raw.info.get("sheet_names", [])
    if len(names) < 2:
        return ""
    return (f"; this is worksheet {raw.info['sheet']!r} of {', '.join(map(repr, names))}: name the cohort's sheet "
            "with extract.sheet in the configuration")


# --------------------------------------------------------------------------- reading a file
def read_cohort(
    path: str | os.PathLike[str],
    dictionary: DataDictionary | None = None,
    sheet: int | str | None = None,
    config: StudyConfig | None = None,
) -> pd.DataFrame:
    """Read a cohort file, reader chosen by extension, and normalise it.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv`` (encoding declared or detected: :mod:`~hcc_utils.data.encodings`; delimiter ``,`` ``;`` or tab,
        detected from the header line),
        ``.xlsx``/``.xlsm`` (and ``.xls`` files that are really .xlsx) through openpyxl,
        or ``.parquet`` through pyarrow.
    dictionary : DataDictionary, optional
        The configuration's (:func:`hcc_utils.data.variables.study_dictionary`): the data dictionary with its
        ``variables``.
    sheet : int or str, optional
        Excel worksheet (index or name); the configuration's ``extract.sheet``, else the first worksheet, by default.
    config : StudyConfig, optional
        Its ``extract`` block says how to read the author's file as it comes: column names mapped to the
        dictionary's, the sheet, the encoding, date formats, the decimal mark and thousands separator (the schema's
        defaults when None).

    Returns
    -------
    pandas.DataFrame
        One row per data row of the file, in file order, ``RangeIndex``; see the module
        docstring for the normalisation. Unknown columns are kept (the validator reports them).
        ``attrs["file_rows"]`` holds each row's Excel row number when blank rows were skipped (otherwise the
        row the author sees is the data row + 1 for the header); ``attrs`` also keeps ``csv_delimiter``,
        ``encoding``, ``excel_date_system`` and ``read_notes`` (see the module docstring).

    Raises
    ------
    CohortFileError
        The file is missing, has an unsupported extension, is empty, is not a table
        (binary, undecodable, no column of the dictionary, an Excel file without worksheets),
        or has a header but no data rows.
    """
    path = Path(path)
    if not path.exists():
        raise CohortFileError(path, "file does not exist")
    if not path.is_file():
        raise CohortFileError(path, "is not a file")
    extension = path.suffix.lower()
    if extension not in READERS:
        raise CohortFileError(
            path, f"unsupported file type {extension or '(no extension)'!r}; use one of {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    if path.stat().st_size == 0:
        raise CohortFileError(path, "is empty (0 bytes)")
    dictionary = dictionary or study_dictionary(config)  # with the configuration's own variables
    extract = (config or StudyConfig()).extract
    raw = READERS[extension](path, sheet if sheet is not None else extract.sheet, extract.encoding)
    table = raw.table
    names = [str(name) for name in (table.column_names if isinstance(table, pa.Table) else table.columns)]
    if extract.columns:
        names = rename_columns(names, extract.columns, dictionary)
        table = table.rename_columns(names) if isinstance(table, pa.Table) else table.set_axis(names, axis=1)
    n_rows = table.num_rows if isinstance(table, pa.Table) else len(table)
    if not names:
        raise CohortFileError(path, "is empty: no header row and no data")
    known = [name for name in names if normalise_column_name(name) in dictionary]
    if not known:
        shown = ", ".join(repr(name[:40]) for name in names[:3])
        raise CohortFileError(
            path,
            f"is not a cohort table: {'none of its ' + plural(len(names), 'column') if len(names) > 1 else 'its column'} "
            f"({shown}"
            f"{', ...' if len(names) > 3 else ''}) {'is' if len(names) > 1 else 'is not'} a column of the data dictionary "
            "(check the file, its header row and, for CSV, the delimiter)" + _sheet_hint(raw),
        )
    if n_rows == 0:
        raise CohortFileError(path, "has a header row but no data rows")
    raw.table = None  # the normalised frame replaces it, column by column
    frame = normalise_frame(table, dictionary, source=path, extract=extract, file_info=raw.info)
    del table
    release_freed_memory()
    for key in ("csv_delimiter", "encoding", "excel_date_system", "file_rows"):
        if key in raw.info:  # Excel rows when blank rows were skipped; otherwise data row + 1 for the header
            frame.attrs[key] = raw.info[key]
    frame.attrs["read_notes"] = raw.notes + frame.attrs["read_notes"]
    return frame
