"""One model of a table as a journal prints it, rendered for the book (HTML), for submission (DOCX, XLSX) and for
machines (CSV, JSON).

A :class:`JournalTable` holds text cells only: numbers are already written as the result registry says (the
sections format them), so every rendering shows exactly the same characters.

Layout
------
- ``stub``: the row labels (first column, sticky on a phone);
- ``columns``: one :class:`Column` per data column, with an optional ``spanner`` (a heading over several adjacent
  columns, e.g. "All enrolled" / "PS-matched");
- ``rows``: one :class:`Row` per body row: its label, its cells (one per column), an ``indent`` level (a category
  under its variable) and the ``group`` it belongs to (a row-group heading such as "Overall survival"; consecutive
  rows with the same group form one group, ``""`` for none);
- ``footnotes``: each test named, abbreviations spelled out.

The JSON form (:meth:`JournalTable.to_json` / :meth:`JournalTable.from_json`) is what a run writes beside the CSV
(``sections/<notebook>/tables/<name>.json``) and what ``hcc-study export`` reads back.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Column:
    """A data column: its heading and the spanner heading over it ("" for none)."""
    label: str
    spanner: str = ""


@dataclass(frozen=True)
class Row:
    """A body row: its stub label, one text cell per column, indent level and row group ("" for none)."""
    label: str
    cells: tuple[str, ...]
    indent: int = 0
    group: str = ""


@dataclass
class JournalTable:
    """A table in the article's layout.

    Parameters
    ----------
    name : file stem of every rendering (``table1_baseline``); also the HTML id, so two builds give the same page.
    number : the article's numbering ("Table 1", "Supplementary Table 2"), "" for the book's own tables.
    title : the caption after the number.
    stub : heading of the row-label column ("Characteristic").
    columns, rows, footnotes : see the module docstring.
    order : position among the article's tables (``tables.docx`` lists them by it); book tables keep 0.
    """
    name: str
    number: str
    title: str
    stub: str
    columns: list[Column]
    rows: list[Row]
    footnotes: list[str] = field(default_factory=list)
    order: int = 0

    def __post_init__(self) -> None:
        width = len(self.columns)
        bad = [row.label for row in self.rows if len(row.cells) != width]
        if bad:
            raise ValueError(f"table {self.name}: rows {bad[:5]} do not have {width} cells")

    # ------------------------------------------------------------------ names
    @property
    def caption(self) -> str:
        """"Table 1. Baseline characteristics …" (the number, then the title)."""
        return f"{self.number}. {self.title}" if self.number else self.title

    @property
    def has_spanners(self) -> bool:
        return any(column.spanner for column in self.columns)

    @property
    def has_groups(self) -> bool:
        return any(row.group for row in self.rows)

    def groups(self) -> list[tuple[str, list[Row]]]:
        """Consecutive rows of the same group, in order: ``[(group, rows), …]``."""
        out: list[tuple[str, list[Row]]] = []
        for row in self.rows:
            if out and out[-1][0] == row.group:
                out[-1][1].append(row)
            else:
                out.append((row.group, [row]))
        return out

    def spanners(self) -> list[tuple[str, int]]:
        """Runs of adjacent columns under the same spanner: ``[(spanner, width), …]``."""
        out: list[tuple[str, int]] = []
        for column in self.columns:
            if out and out[-1][0] == column.spanner:
                out[-1] = (column.spanner, out[-1][1] + 1)
            else:
                out.append((column.spanner, 1))
        return out

    # ------------------------------------------------------------------ flat and JSON forms
    def to_frame(self) -> pd.DataFrame:
        """One row per body row, group and indent as columns, headings as "spanner: label" (the CSV form)."""
        headings = [f"{c.spanner}: {c.label}" if c.spanner else c.label for c in self.columns]
        records = []
        for row in self.rows:
            record = {"Group": row.group, self.stub or "Row": ("  " * row.indent) + row.label}
            record.update(dict(zip(headings, row.cells)))
            records.append(record)
        frame = pd.DataFrame(records, columns=["Group", self.stub or "Row", *headings])
        return frame if self.has_groups else frame.drop(columns="Group")

    def to_json(self) -> str:
        payload = {"schema": SCHEMA_VERSION, **asdict(self)}
        return json.dumps(payload, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "JournalTable":
        payload = json.loads(text)
        if payload.pop("schema", None) != SCHEMA_VERSION:
            raise ValueError("table JSON of another schema version; rebuild the run")
        payload["columns"] = [Column(**c) for c in payload["columns"]]
        payload["rows"] = [Row(label=r["label"], cells=tuple(r["cells"]), indent=r["indent"], group=r["group"])
                           for r in payload["rows"]]
        return cls(**payload)

    def save(self, output_dir: str | Path) -> dict[str, Path]:
        """Write ``tables/<name>.csv`` and ``tables/<name>.json`` under ``output_dir``; return the paths by format."""
        folder = Path(output_dir) / "tables"
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"csv": folder / f"{self.name}.csv", "json": folder / f"{self.name}.json"}
        self.to_frame().to_csv(paths["csv"], index=False)
        paths["json"].write_text(self.to_json(), encoding="utf-8")
        return paths
