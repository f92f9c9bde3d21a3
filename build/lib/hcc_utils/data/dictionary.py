"""The study's data dictionary (``data/data_dictionary.yml``) as typed objects.

The dictionary is the single description of the canonical input table (one row per
*screened* patient). The reader (:mod:`hcc_utils.data.readers`), the validator
(:mod:`hcc_utils.data.validate`), the derivations (:mod:`hcc_utils.data.derive`) and the book's
data page all read it through :func:`load_dictionary`.

Examples
--------
>>> from hcc_utils.data.dictionary import load_dictionary
>>> dictionary = load_dictionary()
>>> dictionary.column("ecog").maximum
4.0
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import yaml

__all__ = [
    "COLUMN_TYPES",
    "REQUIREMENT_LEVELS",
    "DICTIONARY_ENV_VAR",
    "ColumnSpec",
    "DataDictionary",
    "DerivedSpec",
    "DictionaryError",
    "default_dictionary_path",
    "dictionary_markdown",
    "dictionary_table",
    "load_dictionary",
]

#: Column types the dictionary may declare.
COLUMN_TYPES = ("string", "category", "integer", "number", "boolean", "date")
#: Values of a column's ``required`` field.
REQUIREMENT_LEVELS = ("always", "enrolled", "optional")
#: Environment variable that may point to another dictionary file.
DICTIONARY_ENV_VAR = "HCC_DATA_DICTIONARY"
_RELATIVE_PATH = Path("data") / "data_dictionary.yml"
_DEFAULT_MISSING_VALUES = ("", "na", "n/a", "nan", "null", "#n/a")


class DictionaryError(ValueError):
    """The data dictionary file is missing or malformed."""


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the canonical input table.

    Attributes
    ----------
    name : str
        Column name (lower case, as in the input file after normalisation).
    type : str
        One of :data:`COLUMN_TYPES`.
    required : str
        One of :data:`REQUIREMENT_LEVELS`.
    description : str
        Free text shown on the book's data page.
    unit : str or None
        Measurement unit.
    allowed : tuple of str or None
        Permitted values of a ``category`` column (lower case).
    minimum, maximum : float or None
        Hard limits; a value outside is a validation error.
    plausible : tuple of (float, float) or None
        Soft limits; a value outside is a validation warning.
    unique : bool
        Whether values must be unique across rows.
    ae_term : str or None
        For adverse-event grade columns, the event's display name.
    """

    name: str
    type: str
    required: str = "optional"
    description: str = ""
    unit: str | None = None
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    plausible: tuple[float, float] | None = None
    unique: bool = False
    ae_term: str | None = None

    @property
    def is_adverse_event(self) -> bool:
        """Whether the column is a worst-grade adverse-event column (``ae_<term>``)."""
        return self.ae_term is not None


@dataclass(frozen=True)
class DerivedSpec:
    """A variable derived for the analysis table (documentation only)."""

    name: str
    rule: str


@dataclass(frozen=True)
class DataDictionary:
    """The whole data dictionary.

    Attributes
    ----------
    version : int
        Schema version.
    days_per_month : float
        Days in a month for converting survival times (30.4375).
    boolean_true, boolean_false : tuple of str
        Lower-case spellings read as true / false in boolean columns.
    missing_values : tuple of str
        Lower-case spellings read as an empty cell (besides an empty string).
    columns : tuple of ColumnSpec
        Input columns in dictionary order.
    derived : tuple of DerivedSpec
        Derived variables of the analysis table.
    path : pathlib.Path or None
        The file the dictionary was read from.
    """

    version: int
    days_per_month: float
    boolean_true: tuple[str, ...]
    boolean_false: tuple[str, ...]
    missing_values: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    derived: tuple[DerivedSpec, ...] = ()
    path: Path | None = None
    _by_name: Mapping[str, ColumnSpec] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {spec.name: spec for spec in self.columns})

    @property
    def names(self) -> list[str]:
        """Column names in dictionary order."""
        return [spec.name for spec in self.columns]

    def column(self, name: str) -> ColumnSpec:
        """Return the specification of column ``name``.

        Raises
        ------
        KeyError
            If the dictionary has no such column.
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"column {name!r} is not in the data dictionary") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def columns_of_type(self, column_type: str) -> list[ColumnSpec]:
        """Columns whose ``type`` is ``column_type``."""
        return [spec for spec in self.columns if spec.type == column_type]

    def columns_required(self, level: str) -> list[ColumnSpec]:
        """Columns whose ``required`` level is ``level``."""
        return [spec for spec in self.columns if spec.required == level]

    @property
    def adverse_event_columns(self) -> list[ColumnSpec]:
        """The worst-grade adverse-event columns (those with an ``ae_term``)."""
        return [spec for spec in self.columns if spec.is_adverse_event]


def default_dictionary_path() -> Path:
    """Locate ``data/data_dictionary.yml``.

    Search order: the environment variable :data:`DICTIONARY_ENV_VAR`; the repository
    root containing this package (``hcc_utils/..``); the current directory and its parents.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DictionaryError
        If no dictionary file is found.
    """
    from_environment = os.environ.get(DICTIONARY_ENV_VAR)
    if from_environment:
        return Path(from_environment)
    candidates = [Path(__file__).resolve().parents[2] / _RELATIVE_PATH]
    cwd = Path.cwd().resolve()
    candidates += [directory / _RELATIVE_PATH for directory in (cwd, *cwd.parents)]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DictionaryError(
        f"cannot find {_RELATIVE_PATH} next to the hcc_utils package or in the current directory "
        f"or its parents; pass its path explicitly or set {DICTIONARY_ENV_VAR}"
    )


def _as_float(value: Any, where: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DictionaryError(f"{where}: {value!r} is not a number") from None


def _parse_column(entry: Any, position: int) -> ColumnSpec:
    if not isinstance(entry, Mapping) or "name" not in entry:
        raise DictionaryError(f"columns[{position}] must be a mapping with a 'name'")
    name = str(entry["name"]).strip().lower()
    where = f"column {name!r}"
    column_type = entry.get("type")
    if column_type not in COLUMN_TYPES:
        raise DictionaryError(f"{where}: type {column_type!r} is not one of {', '.join(COLUMN_TYPES)}")
    required = entry.get("required", "optional")
    if required not in REQUIREMENT_LEVELS:
        raise DictionaryError(f"{where}: required {required!r} is not one of {', '.join(REQUIREMENT_LEVELS)}")
    allowed = entry.get("allowed")
    if allowed is not None:
        allowed = tuple(str(value).strip().lower() for value in allowed)
    if column_type == "category" and not allowed:
        raise DictionaryError(f"{where}: a category column needs an 'allowed' list")
    plausible = entry.get("plausible")
    if plausible is not None:
        if len(plausible) != 2:
            raise DictionaryError(f"{where}: plausible must be [low, high]")
        plausible = (_as_float(plausible[0], where), _as_float(plausible[1], where))
    return ColumnSpec(
        name=name,
        type=column_type,
        required=required,
        description=str(entry.get("description", "") or "").strip(),
        unit=entry.get("unit"),
        allowed=allowed,
        minimum=_as_float(entry.get("min"), where),
        maximum=_as_float(entry.get("max"), where),
        plausible=plausible,
        unique=bool(entry.get("unique", False)),
        ae_term=entry.get("ae_term"),
    )


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path, modified_ns: int) -> DataDictionary:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise DictionaryError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(raw, Mapping) or not isinstance(raw.get("columns"), list):
        raise DictionaryError(f"{path}: expected a mapping with a 'columns' list")
    columns = tuple(_parse_column(entry, position) for position, entry in enumerate(raw["columns"]))
    names = [spec.name for spec in columns]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise DictionaryError(f"{path}: duplicated column names {duplicated}")
    derived = tuple(
        DerivedSpec(name=str(entry["name"]), rule=str(entry.get("rule", ""))) for entry in raw.get("derived", []) or []
    )
    return DataDictionary(
        version=int(raw.get("version", 1)),
        days_per_month=float(raw.get("days_per_month", 30.4375)),
        boolean_true=tuple(str(value).lower() for value in raw.get("boolean_true", ["1", "true"])),
        boolean_false=tuple(str(value).lower() for value in raw.get("boolean_false", ["0", "false"])),
        missing_values=tuple(str(value).lower() for value in raw.get("missing_values", _DEFAULT_MISSING_VALUES)),
        columns=columns,
        derived=derived,
        path=path,
    )


def load_dictionary(path: str | os.PathLike[str] | None = None) -> DataDictionary:
    """Read the data dictionary.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Dictionary file; by default :func:`default_dictionary_path`.

    Returns
    -------
    DataDictionary
        Cached per file and modification time, so repeated calls are cheap.

    Raises
    ------
    DictionaryError
        If the file is missing or does not describe a valid dictionary.
    """
    resolved = Path(path) if path is not None else default_dictionary_path()
    if not resolved.is_file():
        raise DictionaryError(f"data dictionary {resolved} does not exist")
    return _load_cached(resolved.resolve(), resolved.stat().st_mtime_ns)


def _format_number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _values_text(spec: ColumnSpec) -> str:
    if spec.allowed:
        return ", ".join(spec.allowed)
    if spec.type == "boolean":
        return "yes / no"
    if spec.type == "date":
        return "YYYY-MM-DD"
    if spec.minimum is None and spec.maximum is None:
        return ""
    return f"{_format_number(spec.minimum) or '-inf'} to {_format_number(spec.maximum) or 'inf'}"


def dictionary_table(dictionary: DataDictionary | None = None, section: str = "columns") -> pd.DataFrame:
    """Tabulate the dictionary for the book's data page.

    Parameters
    ----------
    dictionary : DataDictionary, optional
        Defaults to :func:`load_dictionary`.
    section : {"columns", "derived"}
        Input columns, or the derived variables of the analysis table.

    Returns
    -------
    pandas.DataFrame
        For ``"columns"``: Column, Type, Required, Values (allowed set or hard range),
        Plausible, Unit, Description. For ``"derived"``: Variable, Derivation.
    """
    dictionary = dictionary or load_dictionary()
    if section == "derived":
        return pd.DataFrame(
            {"Variable": [spec.name for spec in dictionary.derived], "Derivation": [spec.rule for spec in dictionary.derived]}
        )
    if section != "columns":
        raise ValueError(f"section must be 'columns' or 'derived', not {section!r}")
    rows = []
    for spec in dictionary.columns:
        description = spec.description
        if spec.is_adverse_event and not description:
            description = f"Worst CTCAE v5.0 grade of treatment-related {spec.ae_term.lower()} (0 = none)."
        rows.append(
            {
                "Column": spec.name,
                "Type": spec.type,
                "Required": spec.required,
                "Values": _values_text(spec),
                "Plausible": (
                    f"{_format_number(spec.plausible[0])} to {_format_number(spec.plausible[1])}" if spec.plausible else ""
                ),
                "Unit": spec.unit or "",
                "Description": description,
            }
        )
    return pd.DataFrame(rows, columns=["Column", "Type", "Required", "Values", "Plausible", "Unit", "Description"])


def _markdown_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def dictionary_markdown(dictionary: DataDictionary | None = None, section: str = "columns") -> str:
    """Render :func:`dictionary_table` as a Markdown (MyST) pipe table.

    Parameters
    ----------
    dictionary : DataDictionary, optional
        Defaults to :func:`load_dictionary`.
    section : {"columns", "derived"}
        Which part of the dictionary to render.

    Returns
    -------
    str
        A pipe table (no pandas ``tabulate`` dependency), column names in backticks.
    """
    table = dictionary_table(dictionary, section=section)
    first = table.columns[0]
    table[first] = "`" + table[first].astype(str) + "`"
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "|".join("---" for _ in table.columns) + "|"]
    lines += ["| " + " | ".join(_markdown_cell(value) for value in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines) + "\n"
