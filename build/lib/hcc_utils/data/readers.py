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
  ``integer`` -> ``Int64``, ``number`` -> ``float64``, ``boolean`` -> ``boolean`` (spellings from
  the dictionary's ``boolean_true`` / ``boolean_false``), ``date`` -> ``datetime64[ns]``
  (ISO 8601 ``YYYY-MM-DD``; a time part is dropped). A column with an unconvertible value is
  kept as normalised text, so the validator can quote the value exactly as the file has it.

The work is shared with other modules of :mod:`hcc_utils.data`: :mod:`~hcc_utils.data.formats` reads each
file format (and defines :class:`CohortFileError`), :mod:`~hcc_utils.data.text` normalises text and
:mod:`~hcc_utils.data.coerce` holds :func:`coerce_column`, the single conversion rule, which the validator and
the derivations use too. Their public names are importable from here as well.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from hcc_utils.data.coerce import CoercedColumn, coerce_column
from hcc_utils.data.dictionary import DataDictionary, load_dictionary
from hcc_utils.data.formats import READERS, SUPPORTED_EXTENSIONS, CohortFileError
from hcc_utils.data.text import arrow_text, clean_arrow_text, is_arrow_text, normalise_column_name, normalise_text


__all__ = [
    "SUPPORTED_EXTENSIONS",
    "CohortFileError",
    "CoercedColumn",
    "coerce_column",
    "normalise_column_name",
    "normalise_frame",
    "normalise_text",
    "read_cohort",
]


# --------------------------------------------------------------------------- normalising a table
def normalise_frame(
    frame: pd.DataFrame | pa.Table, dictionary: DataDictionary | None = None, source: str | os.PathLike[str] = "<frame>"
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

    Returns
    -------
    pandas.DataFrame
        A new frame with a ``RangeIndex``; columns in file order.

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
    for position, name in enumerate(names):
        column = frame.column(position) if is_arrow else frame.iloc[:, position].reset_index(drop=True)
        if name in dictionary:
            coerced = coerce_column(column, dictionary.column(name), dictionary)
            normalised[name] = coerced.text if coerced.invalid.any() else coerced.values
        else:
            if is_arrow:
                column = column.to_pandas() if not is_arrow_text(column) else column
            if isinstance(column, pd.Series):
                text = arrow_text(column, dictionary.missing_values, lower=False)
            else:
                text = clean_arrow_text(column, dictionary.missing_values, lower=False)
            normalised[name] = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
    result = pd.DataFrame(normalised)
    result.index = pd.RangeIndex(n_rows)
    return result


# --------------------------------------------------------------------------- reading a file
def read_cohort(
    path: str | os.PathLike[str], dictionary: DataDictionary | None = None, sheet: int | str | None = None
) -> pd.DataFrame:
    """Read a cohort file, reader chosen by extension, and normalise it.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv`` (UTF-8, delimiter ``,`` ``;`` or tab, detected from the header line),
        ``.xlsx``/``.xlsm`` (and ``.xls`` files that are really .xlsx) through openpyxl,
        or ``.parquet`` through pyarrow.
    dictionary : DataDictionary, optional
        Defaults to :func:`hcc_utils.data.dictionary.load_dictionary`.
    sheet : int or str, optional
        Excel worksheet (index or name); the first worksheet by default.

    Returns
    -------
    pandas.DataFrame
        One row per data row of the file, in file order, ``RangeIndex``; see the module
        docstring for the normalisation. Unknown columns are kept (the validator reports them).

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
    dictionary = dictionary or load_dictionary()
    raw = READERS[extension](path, sheet)
    names = [str(name) for name in (raw.column_names if isinstance(raw, pa.Table) else raw.columns)]
    n_rows = raw.num_rows if isinstance(raw, pa.Table) else len(raw)
    if not names:
        raise CohortFileError(path, "is empty: no header row and no data")
    known = [name for name in names if normalise_column_name(name) in dictionary]
    if not known:
        shown = ", ".join(repr(name[:40]) for name in names[:3])
        raise CohortFileError(
            path,
            f"is not a cohort table: none of its {len(names)} column(s) ({shown}"
            f"{', ...' if len(names) > 3 else ''}) is a column of the data dictionary "
            "(check the file, its header row and, for CSV, the delimiter)",
        )
    if n_rows == 0:
        raise CohortFileError(path, "has a header row but no data rows")
    return normalise_frame(raw, dictionary, source=path)
