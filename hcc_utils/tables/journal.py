"""One model of a table as a journal prints it, rendered for the book (HTML), for submission (DOCX, XLSX) and for
machines (CSV, JSON).

A :class:`JournalTable` holds text cells only: numbers are already written as the result registry says (the
sections format them), so every rendering shows exactly the same characters.

Layout
------
- ``stub``: the row labels (first column, sticky on a phone);
- ``columns``: one :class:`Column` per data column, with an optional ``spanner`` (a heading over several adjacent
  columns, e.g. "All enrolled" / "PS-matched"); a line break in a heading is written ``\\n`` ("Lenvatinib\\nN = 40");
- ``rows``: one :class:`Row` per body row: its label, its cells (one per column), an ``indent`` level (a category
  under its variable) and the ``group`` it belongs to (a row-group heading such as "Overall survival"; consecutive
  rows with the same group form one group, ``""`` for none);
- ``footnotes``: each test named, abbreviations spelled out.

The JSON form (:meth:`JournalTable.to_json` / :meth:`JournalTable.from_json`) is what a run writes beside the CSV
(``sections/<notebook>/tables/<name>.json``) and what ``hcc-study export`` reads back.

Why a small hand renderer, not pandas Styler or great_tables
-------------------------------------------------------------
The issue asked for great_tables or pandas Styler. great_tables is not a dependency of the project (and would bring
polars-era machinery for ~100 lines of HTML). pandas Styler gives column spanners (MultiIndex columns) and
escaping, but not the two things that make a table read like the article's: a row-group heading that spans the
whole width (Styler renders only one cell per column in the body, so a group would be a row with empty cells, and
its label would stay inside the sticky first column), and footnotes under the table (Styler has a caption only).
Styler also gives each table a random id unless told otherwise, and its output changes with pandas versions.
:func:`table_html` writes the table directly: every piece of text passes through :func:`html.escape`, the output
depends only on the table (two builds give byte-identical pages), and the markup carries classes that
``book/_static/tables.css`` styles (sticky stub, wrapping headers, numbers that do not wrap, print rules).
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

SCHEMA_VERSION = 1

#: A cell that reads as a number (counts, percentages, intervals, p-values, "NR", "—"): it never wraps.
_NUMBER_WORDS = re.compile(r"NR|NA|CI|not estimable|\bto\b|—")
_NUMBER_CHARACTERS = re.compile(r"[\s\d.,%()\[\]<>≥≤±×–\-−;:=/+·]*")


@dataclass(frozen=True)
class Column:
    """A data column: its heading, the spanner heading over it ("" for none), and whether its cells are prose
    that may wrap (``wrap``; numbers never wrap)."""
    label: str
    spanner: str = ""
    wrap: bool = False


@dataclass(frozen=True)
class Row:
    """A body row: its stub label, one text cell per column, indent level and row group ("" for none), and for
    each cell the result ids it shows (``sources``: ids separated by spaces, "" for a cell of none; empty when
    the table does not say), which the book uses to show the article's value of a cell
    (:mod:`hcc_utils.pipeline.comparison`)."""
    label: str
    cells: tuple[str, ...]
    indent: int = 0
    group: str = ""
    sources: tuple[str, ...] = ()


@dataclass
class JournalTable:
    """A table in the article's layout.

    Parameters
    ----------
    name : file stem of every rendering (``table1_baseline``); also the HTML id, so two builds give the same page.
    number : the article's numbering ("Table 1", "Supplementary Table 2"); "" for the book's own tables, which
        ``report.presentation.show_table`` numbers by chapter when it shows them ("Table 11.1").
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
        bad = [row.label for row in self.rows if len(row.cells) != width or len(row.sources) not in (0, width)]
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

    def column(self, heading: str, spanner: str | None = None) -> list[str]:
        """The cells of the column whose heading (first line) is ``heading`` (under ``spanner`` if given)."""
        for index, column in enumerate(self.columns):
            if column.label.split("\n")[0] == heading and spanner in (None, column.spanner):
                return [row.cells[index] for row in self.rows]
        raise KeyError(f"table {self.name}: no column {heading!r}" + (f" under {spanner!r}" if spanner else ""))

    def row(self, label: str, group: str | None = None) -> Row:
        """The first body row labelled ``label`` (in ``group`` if given)."""
        for row in self.rows:
            if row.label == label and group in (None, row.group):
                return row
        raise KeyError(f"table {self.name}: no row {label!r}" + (f" in group {group!r}" if group else ""))

    # ------------------------------------------------------------------ flat and JSON forms
    def to_frame(self) -> pd.DataFrame:
        """One row per body row, group and indent as columns, headings as "spanner: label" (the CSV form)."""
        headings = [(f"{c.spanner}: {c.label}" if c.spanner else c.label).replace("\n", " ") for c in self.columns]
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
        payload["rows"] = [Row(label=r["label"], cells=tuple(r["cells"]), indent=r["indent"], group=r["group"],
                               sources=tuple(r.get("sources", ()))) for r in payload["rows"]]
        return cls(**payload)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, name: str, title: str, number: str = "", stub: str | None = None,
                   footnotes: list[str] | tuple[str, ...] = (), wrap_longer_than: int = 24) -> "JournalTable":
        """A plain frame as a table: its first column is the stub, the others data columns (two-level column
        names give spanners). A column whose cells are longer than ``wrap_longer_than`` characters (prose) may
        wrap; missing values show as empty cells. For the book's own pages (scorecard, data dictionary …)."""
        def text(value) -> str:
            return "" if value is None or (isinstance(value, float) and value != value) else str(value)

        names = list(frame.columns)
        heads = [n if isinstance(n, tuple) else ("", n) for n in names]
        columns = []
        for (spanner, label), values in zip(heads[1:], frame.iloc[:, 1:].T.itertuples(index=False)):
            longest = max((len(text(v)) for v in values), default=0)
            columns.append(Column(str(label), str(spanner), wrap=longest > wrap_longer_than))
        rows = [Row(text(values[0]), tuple(text(v) for v in values[1:])) for values in frame.itertuples(index=False)]
        return cls(name, number, title, str(heads[0][1]) if stub is None else stub, columns, rows, list(footnotes))

    def save(self, output_dir: str | Path) -> dict[str, Path]:
        """Write ``tables/<name>.csv`` and ``tables/<name>.json`` under ``output_dir``; return the paths by format."""
        folder = Path(output_dir) / "tables"
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"csv": folder / f"{self.name}.csv", "json": folder / f"{self.name}.json"}
        self.to_frame().to_csv(paths["csv"], index=False)
        paths["json"].write_text(self.to_json(), encoding="utf-8")
        return paths

    # ------------------------------------------------------------------ HTML
    def to_html(self) -> str:
        return table_html(self)

    def _repr_html_(self) -> str:
        return table_html(self)


# ---------------------------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------------------------
def _text(value: str) -> str:
    """Escaped text, a ``\\n`` written as a line break."""
    return "<br>".join(html.escape(part) for part in str(value).split("\n"))


def html_id(name: str) -> str:
    """The table's id in the page: ``hcc-table-<name>`` with anything but letters, digits, ``-`` and ``_`` as ``-``."""
    return "hcc-table-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _number_html(value: str) -> str:
    """A number cell: a line may break only before "(" and after ";", each piece between those breaks kept in
    a ``<span class="hcc-nowrap">`` (no break inside a number or an interval: "63 (55–70)" folds as "63" over
    "(55–70)" in a narrow column, never as "(55–" over "70)")."""
    lines = []
    for line in str(value).split("\n"):
        pieces = re.split(r" (?=\()|(?<=;) ", line)
        lines.append(" ".join(f'<span class="hcc-nowrap">{html.escape(piece)}</span>' for piece in pieces))
    return "<br>".join(lines)


def _cell_class(column: Column, value: str) -> str:
    number = _NUMBER_CHARACTERS.fullmatch(_NUMBER_WORDS.sub("", value)) is not None
    return "hcc-num" if number and not column.wrap else "hcc-wrap"


def _header(table: JournalTable) -> list[str]:
    stub = f'<th scope="col" class="hcc-stub-head"{{span}}>{_text(table.stub)}</th>'
    lines = ["<thead>"]
    if table.has_spanners:
        cells = [stub.format(span=' rowspan="2"')]
        for spanner, width in table.spanners():
            if spanner:
                cells.append(f'<th scope="colgroup" colspan="{width}" class="hcc-spanner">{_text(spanner)}</th>')
            else:
                cells.append(f'<th colspan="{width}" class="hcc-spanner-empty"></th>' if width > 1
                             else '<th class="hcc-spanner-empty"></th>')
        lines.append("<tr>" + "".join(cells) + "</tr>")
        lines.append("<tr>" + "".join(f'<th scope="col" class="hcc-col-head">{_text(c.label)}</th>'
                                      for c in table.columns) + "</tr>")
    else:
        lines.append("<tr>" + stub.format(span="") + "".join(
            f'<th scope="col" class="hcc-col-head">{_text(c.label)}</th>' for c in table.columns) + "</tr>")
    lines.append("</thead>")
    return lines


def _cell(column: Column, value: str, source: str = "") -> str:
    kind = _cell_class(column, value)
    results = f' data-results="{_text(source)}"' if source else ""
    return f'<td class="{kind}"{results}>{_number_html(value) if kind == "hcc-num" else _text(value)}</td>'


def _body(table: JournalTable) -> list[str]:
    width = len(table.columns) + 1
    lines = []
    for group, rows in table.groups():
        lines.append("<tbody>")
        if group:
            lines.append(f'<tr class="hcc-group-row"><th scope="rowgroup" colspan="{width}">'
                         f'<span class="hcc-group-label">{_text(group)}</span></th></tr>')
        for row in rows:
            indent = f" hcc-indent-{min(row.indent, 3)}" if row.indent else ""
            sources = row.sources or ("",) * len(row.cells)
            cells = "".join(_cell(c, v, source) for c, v, source in zip(table.columns, row.cells, sources))
            lines.append(f'<tr><th scope="row" class="hcc-stub{indent}">{_text(row.label)}</th>{cells}</tr>')
        lines.append("</tbody>")
    return lines


def table_html(table: JournalTable) -> str:
    """The table as the book shows it.

    A ``<div class="hcc-journal-table">`` holds the caption ("Table 1. …", outside the scrolling area so it stays
    in view on a phone), a ``<div class="hcc-table-wrap">`` that scrolls sideways when the table is wider than
    the page (the stub column stays in place), the table (spanners, N in the headings, row-group rows spanning
    the width, indented categories) and the footnotes under it. All text is escaped; the output depends only on
    the table.
    """
    ident = html_id(table.name)
    caption = (f'<span class="hcc-table-number">{_text(table.number)}.</span> ' if table.number else "") + \
        _text(table.title)
    lines = [f'<div class="hcc-journal-table" id="{ident}">',
             f'<p class="hcc-table-caption" id="{ident}-caption">{caption}</p>',
             f'<div class="hcc-table-wrap" role="region" tabindex="0" aria-labelledby="{ident}-caption">',
             f'<table class="hcc-table hcc-journal" aria-labelledby="{ident}-caption">',
             *_header(table), *_body(table), "</table>", "</div>"]
    if table.footnotes:
        lines.append('<div class="hcc-table-notes">')
        lines += [f"<p>{_text(note)}</p>" for note in table.footnotes]
        lines.append("</div>")
    lines.append("</div>")
    return "\n".join(lines)
