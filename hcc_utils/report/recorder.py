"""Recording every computed number under a stable id, with its kind, unit and label.

Each notebook owns a :class:`ResultsRecorder`; it writes ``OUT/sections/<notebook>/results.csv`` and the runner
concatenates the parts into ``OUT/results.csv`` (columns :data:`RESULT_COLUMNS`). Ids of numbers the article
reports are those of ``data/targets.csv``; the scorecard joins on them. Kind, unit and label come from the
registry (:mod:`hcc_utils.study.registry`): a section declares them as it computes each value.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from hcc_utils.study.registry import Kind, ResultSet, ResultSpec, status_of

_ID_PATTERN = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
RESULT_COLUMNS = ["id", "value", "status", "kind", "unit", "section", "label"]


def _as_text(value: Any) -> str:
    """Canonical text of a value: full precision for floats, 'NA' for not reached / missing, lists joined by ';'."""
    if value is None:
        return "NA"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ";".join(sorted(str(v) for v in value))
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (int,)) or (hasattr(value, "dtype") and getattr(value, "dtype").kind in "iu"):
        return str(int(value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number) or math.isinf(number):
        return "NA"
    return repr(number)


class ResultsRecorder:
    """Collects one notebook's numbers and writes them as a CSV part.

    Parameters
    ----------
    output_dir : the notebook's output folder (``OUT/sections/<notebook>``, the papermill parameter ``output_dir``).
    section : the notebook's name, e.g. ``"05_survival"``.
    """

    def __init__(self, output_dir: str | Path, section: str):
        self.output_dir = Path(output_dir)
        self.section = section
        self._rows: dict[str, dict[str, str]] = {}

    def record(self, result_id: str, value: Any, kind: Kind | str, label: str = "", unit: str = "") -> Any:
        """Store ``value`` under ``result_id`` as a number of ``kind`` (overwrites within the notebook); return it."""
        return self._store(ResultSpec(result_id, Kind(kind), label, unit), value)

    def record_many(self, values: ResultSet) -> None:
        """Store every value of a section's :class:`~hcc_utils.study.registry.ResultSet` with its registered spec."""
        if not isinstance(values, ResultSet):
            raise TypeError("record_many takes a ResultSet (values declared with their kind); "
                            "use record(id, value, kind) for a single number")
        for result_id, value in values.items():
            self._store(values.spec(result_id), value)

    def _store(self, spec: ResultSpec, value: Any) -> Any:
        if not _ID_PATTERN.match(spec.id):
            raise ValueError(f"result id {spec.id!r} must look like 'section.name' (lower case, digits, _)")
        self._rows[spec.id] = {"id": spec.id, "value": _as_text(value), "status": status_of(spec.kind, value, spec),
                               "kind": spec.kind.value, "unit": spec.unit_text, "section": self.section,
                               "label": spec.label}
        return value

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self._rows.values()), columns=RESULT_COLUMNS)

    def save(self) -> Path:
        """Write the notebook's part (``output_dir/results.csv``) and return its path."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = self.output_dir / "results.csv"
        self.frame().to_csv(path, index=False)
        return path


class DuplicateResultError(ValueError):
    """Two notebooks recorded the same id."""


def combine_parts(sections_dir: str | Path, target: str | Path) -> pd.DataFrame:
    """Concatenate every notebook's part (``sections_dir/*/results.csv``) into ``target``, sorted by id.

    Two notebooks giving the same id is an error, so no number is silently overwritten.
    """
    parts = sorted(Path(sections_dir).glob("*/results.csv"))
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in parts]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
    dupes = table[table["id"].duplicated(keep=False)]
    if not dupes.empty:
        listing = ", ".join(f"{r.id} ({r.section})" for r in dupes.itertuples())
        raise DuplicateResultError(f"result ids recorded by more than one notebook: {listing}")
    table = table.sort_values("id").reset_index(drop=True)
    table.to_csv(target, index=False)
    return table


def load_results(path: str | Path) -> pd.DataFrame:
    """Read a ``results.csv`` keeping values as text ('NA' stays 'NA')."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)
