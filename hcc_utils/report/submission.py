"""Tables for submission: each :class:`~hcc_utils.report.journal_table.JournalTable` as a Word table in journal
style (DOCX, python-docx) and as a spreadsheet (XLSX, openpyxl), and the article's tables collected in one
``tables.docx`` / ``tables.xlsx`` in the article's order.

Why both formats: journals ask for editable tables in Word (a three-line table: a rule above and below the header,
one under the last row, no vertical lines); co-authors check numbers in a spreadsheet. Both render the same text
cells as the book, so a number reads the same everywhere.

Both writers are deterministic (same table, same bytes): the document properties (created, modified, revision)
are fixed and every member of the ZIP container gets the same timestamp, so a re-run of unchanged inputs leaves
the files and their checksums in the run's manifest unchanged.
"""
from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from hcc_utils.config.identity import StudyIdentity
from hcc_utils.report.identity import byline
from hcc_utils.report.journal_table import JournalTable
from hcc_utils.report.provenance import Stamp
from hcc_utils.report.spreadsheet import FORMULA_STARTS

#: Document properties written into every file: fixed, so that two exports are byte-identical. The author is the
#: study's (``study.authors`` of the configuration); the program that wrote the file is named as its last editor.
FIXED_TIME = _dt.datetime(2024, 1, 1, 0, 0, 0)
AUTHOR = "hcc-study"
TITLE_PT = 14
#: Typeface and sizes (points) of the tables, captions and footnotes.
FONT = "Times New Roman"
BODY_PT, CAPTION_PT, FOOTNOTE_PT = 9, 10, 8
#: A4 in centimetres and the margins; a table wider than the portrait text width is set on a landscape page.
PAGE_CM, MARGIN_CM = (21.0, 29.7), 2.0
CELL_PADDING_CM = 0.5  # Word's default left and right cell margins together (0.38 cm), and a little air
MIN_STUB_CM, MAX_STUB_CM = 3.5, 7.0  # the row labels' column: never narrower, and no wider than needed
NARROW_CM = 1.6  # data columns narrower than this (P, SMD) keep their width when a wide table must shrink
MAX_STRETCH = 1.6  # a narrow table widens at most this much over its natural width instead of filling the page
PORTRAIT_MAX_COLUMNS = 7  # more columns (stub included) than this go on a landscape page whatever their text
RULE_HEAVY, RULE_LIGHT = 8, 4  # border widths in eighths of a point (1 pt and 0.5 pt)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # characters XML cannot hold


def xml_text(value: str) -> str:
    """Cell text without characters that XML (hence DOCX and XLSX) cannot store."""
    return _CONTROL.sub("", str(value))


# ---------------------------------------------------------------- order of the article's tables

def article_order_key(table: JournalTable) -> tuple:
    """Sort key of the article's order: ``order`` first, then Tables before Supplementary Tables, by number."""
    digits = re.search(r"\d+", table.number)
    return (table.order, "supplementary" in table.number.lower(), int(digits.group()) if digits else 0, table.name)


#: The number of one of the article's tables ("Table 3", "Supplementary Table 1"); the book's own tables are numbered
#: by chapter ("Table 11.1", :func:`hcc_utils.report.presentation.chapter_table_number`) and are not the article's.
ARTICLE_NUMBER = re.compile(r"(Supplementary )?Table \d+")


def article_tables(tables) -> list[JournalTable]:
    """The tables that belong to the submission (numbered as the article's, not by a chapter of the book), in the
    article's order."""
    return sorted((t for t in tables if ARTICLE_NUMBER.fullmatch(t.number)), key=article_order_key)


def read_tables(sections_dir: str | Path) -> list[tuple[Path, JournalTable]]:
    """Every table a run saved (``sections/<notebook>/tables/<name>.json``), with its path, in path order."""
    found = []
    for path in sorted(Path(sections_dir).glob("*/tables/*.json")):
        try:
            found.append((path, JournalTable.from_json(path.read_text(encoding="utf-8"))))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a table this version can read ({exc})") from None
    return found


# ---------------------------------------------------------------- deterministic ZIP containers

def _fixed_zip(data: bytes) -> bytes:
    """The same ZIP with every member dated :data:`FIXED_TIME` (python-docx and openpyxl stamp the clock time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            target.writestr(member, source.read(info.filename))
    return out.getvalue()


def _write_bytes(path: Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_fixed_zip(data))
    return path


# ---------------------------------------------------------------- DOCX

def new_document(title: str = "Tables", study: StudyIdentity | None = None, stamp: Stamp | None = None) -> Document:
    """An empty A4 document in the tables' typeface, with fixed properties: ``title``, the study's authors and
    keywords (``study``: the configuration's ``study`` section, the defaults when None). With a ``stamp`` the
    document says where its data come from in its properties (subject, comments) and in the footer of every
    page."""
    study = study or StudyIdentity()
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(BODY_PT)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    properties = document.core_properties
    properties.author, properties.last_modified_by = xml_text(byline(study)), AUTHOR
    properties.title = xml_text(title)
    properties.keywords = xml_text("; ".join(study.keywords))
    properties.created = properties.modified = properties.last_printed = FIXED_TIME
    properties.revision = 1
    _set_page(document.sections[0], landscape=False)
    if stamp is not None:
        properties.subject, properties.comments = xml_text(stamp.statement), xml_text(stamp.compact())
        footer = document.sections[0].footer.paragraphs[0]  # later sections are linked to it: every page
        run = footer.add_run(xml_text(stamp.line()))
        run.font.size = Pt(7)
    return document


def _set_page(section, landscape: bool) -> None:
    short, long_ = Cm(PAGE_CM[0]), Cm(PAGE_CM[1])
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (long_, short) if landscape else (short, long_)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN_CM))


def _natural_widths(table: JournalTable) -> list[int]:
    """Characters each column needs (spreadsheet column widths): the stub its longest indented label, a data column
    its longest cell or the longest word of its heading (headings wrap); capped so one label cannot take the page."""
    stub = max([len(table.stub)] + [len(r.label) + 3 * r.indent for r in table.rows]) + 2
    widths = [min(max(stub, 12), 48)]
    for index, column in enumerate(table.columns):
        words = max((len(w) for w in column.label.split()), default=0)
        cells = max((len(r.cells[index]) for r in table.rows), default=0)
        widths.append(min(max(words, cells, 4), 22))
    return widths


def _text_cm(text: str, bold: bool = False) -> float:
    """Printed width of ``text`` in the body font, from Times' character widths (in ems: digits and en dash half an
    em, narrow punctuation and spaces about a quarter, signs and capitals over a half, other letters under)."""
    ems = sum(0.5 if c.isdigit() or c in "–−" else 0.28 if c in " .,;:()[]'" else 0.58 if c in "<>≤≥=+±%"
              else 0.68 if c.isupper() else 0.46 for c in text)
    return ems * (1.08 if bold else 1.0) * BODY_PT / 72 * 2.54


def _natural_cm(table: JournalTable) -> list[float]:
    """Centimetres each column needs on one line, cell margins included: a data column its longest cell or the
    longest word of its (bold) heading, the stub its longest indented label, up to :data:`MAX_STUB_CM`."""
    indent_cm = 10 / 72 * 2.54
    stub = max([_text_cm(table.stub, bold=True)] + [_text_cm(r.label) + r.indent * indent_cm for r in table.rows])
    widths = [min(stub, MAX_STUB_CM) + CELL_PADDING_CM]
    for index, column in enumerate(table.columns):
        words = max((_text_cm(w, bold=True) for w in column.label.split()), default=0.0)
        cells = max((_text_cm(r.cells[index]) for r in table.rows), default=0.0)
        widths.append(max(words, cells) + CELL_PADDING_CM)
    return widths


def column_widths(table: JournalTable, text_width: int) -> list[int]:
    """Widths (EMU) of the stub and data columns filling ``text_width``.

    A data column gets at least its natural width (its longest cell on one line), so numbers never wrap; the stub,
    whose labels wrap well, takes the rest, at least :data:`MIN_STUB_CM`. Space left over is shared in proportion
    (up to :data:`MAX_STRETCH`); in a table too wide even so, the columns wider than :data:`NARROW_CM` shrink.
    """
    cm = Cm(1)
    natural = [int(w * cm) for w in _natural_cm(table)]
    stub = max(text_width - sum(natural[1:]), int(MIN_STUB_CM * cm))
    if stub >= natural[0]:  # room to spare: widen in proportion, but a narrow table stays narrow (centred)
        stretch = min(text_width / sum(natural), MAX_STRETCH)
        return [int(w * stretch) for w in natural]
    widths = [stub, *natural[1:]]
    if sum(widths) > text_width:  # too wide even so: the wide columns (which can wrap) give way, P values do not
        narrow = sum(w for w in widths[1:] if w < NARROW_CM * cm)
        scale = (text_width - narrow) / (sum(widths) - narrow)
        widths = [w if 0 < i and w < NARROW_CM * cm else int(w * scale) for i, w in enumerate(widths)]
    return widths


def needs_landscape(table: JournalTable) -> bool:
    """True when the table has many columns or its natural width exceeds the text width of a portrait A4 page."""
    natural = _natural_cm(table)
    portrait_text_cm = PAGE_CM[0] - 2 * MARGIN_CM
    return len(natural) > PORTRAIT_MAX_COLUMNS or sum(natural) > portrait_text_cm


_TCPR_AFTER_BORDERS = ("w:shd", "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark")
_TBLPR_AFTER_BORDERS = ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription")


def _insert_in_order(parent, element, successors) -> None:
    """Insert ``element`` before its first successor present (WordprocessingML fixes the order of properties)."""
    for child in parent:
        if child.tag in {qn(tag) for tag in successors}:
            child.addprevious(element)
            return
    parent.append(element)


def _border(name: str, size: int | None):
    edge = OxmlElement(f"w:{name}")
    if size is None:
        edge.set(qn("w:val"), "nil")
    else:
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), str(size))
        edge.set(qn("w:space"), "0")
        edge.set(qn("w:color"), "000000")
    return edge


def _rule(cell, top: int | None = None, bottom: int | None = None) -> None:
    """Horizontal rules on a cell's top and/or bottom edge (sizes in eighths of a point)."""
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        _insert_in_order(tc_pr, borders, _TCPR_AFTER_BORDERS)
    for name, size in (("top", top), ("bottom", bottom)):
        if size is not None:
            for old in borders.findall(qn(f"w:{name}")):
                borders.remove(old)
            edge = _border(name, size)
            if name == "top":
                borders.insert(0, edge)
            else:
                borders.append(edge)


def _no_table_borders(docx_table) -> None:
    """No grid at all: the three rules are drawn on the cells' edges."""
    tbl_pr = docx_table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for name in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(_border(name, None))
    _insert_in_order(tbl_pr, borders, _TBLPR_AFTER_BORDERS)


def _row_flags(row, header: bool) -> None:
    """A row never splits across pages; header rows repeat at the top of each page."""
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))
    if header:
        tr_pr.append(OxmlElement("w:tblHeader"))


def _write(cell, text: str, bold: bool = False, italic: bool = False, centre: bool = False,
           indent: int = 0, top: bool = False) -> None:
    """Write ``text`` into ``cell``; headings sit on the bottom line, body cells on the first line of a wrapped label."""
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if centre else WD_ALIGN_PARAGRAPH.LEFT
    if indent:
        paragraph.paragraph_format.left_indent = Pt(10 * indent)
    if text:
        run = paragraph.add_run(xml_text(text))
        run.bold, run.italic = bold or None, italic or None
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP if top else WD_CELL_VERTICAL_ALIGNMENT.BOTTOM


def _caption(document, table: JournalTable) -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(6)
    paragraph.paragraph_format.keep_with_next = True
    if table.number:
        label = paragraph.add_run(xml_text(f"{table.number}."))
        label.bold = True
        label.font.size = Pt(CAPTION_PT)
        paragraph.add_run(" ")
    title = paragraph.add_run(xml_text(table.title))
    title.font.size = Pt(CAPTION_PT)


def add_table_to_document(document, table: JournalTable, new_page: bool = False):
    """Append ``table`` to ``document`` in journal style: caption, three-line table, footnotes.

    Parameters
    ----------
    document : a python-docx document (:func:`new_document`).
    table : the table; its cells are already formatted text.
    new_page : start a new section on a new page (its orientation chosen for this table); otherwise the table
        goes on the current section, which is turned to landscape if the table needs it.

    Returns
    -------
    The python-docx table.
    """
    landscape = needs_landscape(table)
    section = document.add_section(WD_SECTION.NEW_PAGE) if new_page else document.sections[-1]
    _set_page(section, landscape)
    text_width = section.page_width - section.left_margin - section.right_margin
    _caption(document, table)

    header_rows = 2 if table.has_spanners else 1
    body: list[tuple[str, str, object]] = []  # ("group", heading, None) or ("row", label, Row), in order
    for group, rows in table.groups():
        if group:
            body.append(("group", group, None))
        body += [("row", row.label, row) for row in rows]
    n_columns = len(table.columns) + 1
    docx_table = document.add_table(rows=header_rows + len(body), cols=n_columns)
    docx_table.alignment = WD_TABLE_ALIGNMENT.CENTER
    docx_table.autofit = False
    _no_table_borders(docx_table)

    widths = column_widths(table, text_width)
    for row in docx_table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width
    for column, width in zip(docx_table.columns, widths):
        column.width = width

    # header: the spanner row (merged cells, a light rule under each spanner), then the column headings
    if table.has_spanners:
        top = docx_table.rows[0]
        start = 1
        for spanner, span in table.spanners():
            cell = top.cells[start]
            if span > 1:
                cell = cell.merge(top.cells[start + span - 1])
            _write(cell, spanner, bold=True, centre=True)
            if spanner:
                _rule(cell, bottom=RULE_LIGHT)
            start += span
    labels = docx_table.rows[header_rows - 1]
    _write(labels.cells[0], table.stub, bold=True)
    for cell, column in zip(labels.cells[1:], table.columns):
        _write(cell, column.label, bold=True, centre=True)
    for index in range(header_rows):
        _row_flags(docx_table.rows[index], header=True)
    for cell in docx_table.rows[0].cells:
        _rule(cell, top=RULE_HEAVY)
    for cell in labels.cells:
        _rule(cell, bottom=RULE_HEAVY)

    for (kind, text, row), docx_row in zip(body, docx_table.rows[header_rows:]):
        _row_flags(docx_row, header=False)
        if kind == "group":
            merged = docx_row.cells[0].merge(docx_row.cells[-1]) if n_columns > 1 else docx_row.cells[0]
            _write(merged, text, bold=True, top=True)
            continue
        _write(docx_row.cells[0], row.label, indent=row.indent, top=True)
        for cell, value in zip(docx_row.cells[1:], row.cells):
            _write(cell, value, centre=True, top=True)
    for cell in docx_table.rows[-1].cells:
        _rule(cell, bottom=RULE_HEAVY)

    for note in table.footnotes:
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.space_before = Pt(2)
        run = paragraph.add_run(xml_text(note))
        run.font.size = Pt(FOOTNOTE_PT)
    return docx_table


def save_document(document, path: str | Path) -> Path:
    buffer = io.BytesIO()
    document.save(buffer)
    return _write_bytes(Path(path), buffer.getvalue())


def write_docx(table: JournalTable, path: str | Path, study: StudyIdentity | None = None,
               stamp: Stamp | None = None) -> Path:
    """One table as a Word document (its own page, landscape if it needs it); ``study``: its authors; ``stamp``:
    where its data come from (properties and footer)."""
    document = new_document(table.caption, study, stamp)
    add_table_to_document(document, table)
    return save_document(document, path)


# ---------------------------------------------------------------- XLSX

_THIN = Side(style="thin", color="000000")


def sheet_title(table: JournalTable, taken: set[str]) -> str:
    """A sheet name Excel accepts (at most 31 characters, none of ``[]:*?/\\``), unique in the workbook."""
    base = table.number.replace("Supplementary", "Suppl.") if table.number else table.name
    base = re.sub(r"[\[\]:*?/\\]", " ", base).strip()[:31] or "Table"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def put_text(sheet, row: int, column: int, text: str, **style):
    """Write ``text`` as a text cell: never a formula, whatever its first character."""
    cell = sheet.cell(row=row, column=column)
    cell.value = xml_text(text)
    cell.data_type = "s"
    if cell.value.startswith(FORMULA_STARTS):
        cell.quotePrefix = True  # Excel keeps the cell as text when it is edited
    for name, value in style.items():
        setattr(cell, name, value)
    return cell


def fill_sheet(sheet, table: JournalTable, stamp: Stamp | None = None) -> None:
    """Write ``table`` on ``sheet``: caption, the ``stamp`` (where the data come from) in the row under it,
    spanners (merged), bold headings, group rows, indents, footnotes."""
    width = len(table.columns) + 1
    bold, centre = Font(bold=True), Alignment(horizontal="center", vertical="bottom", wrap_text=True)
    put_text(sheet, 1, 1, table.caption, font=Font(bold=True, size=12))
    if stamp is not None:
        put_text(sheet, 2, 1, stamp.line(), font=Font(italic=True, size=9))
    line = 3
    if table.has_spanners:
        start = 2
        for spanner, span in table.spanners():
            put_text(sheet, line, start, spanner, font=bold, alignment=centre)
            if span > 1 and spanner:
                sheet.merge_cells(start_row=line, start_column=start, end_row=line, end_column=start + span - 1)
            if spanner:
                for column in range(start, start + span):
                    sheet.cell(row=line, column=column).border = Border(bottom=_THIN)
            start += span
        line += 1
    put_text(sheet, line, 1, table.stub, font=bold, alignment=Alignment(vertical="bottom"))
    for index, column in enumerate(table.columns, start=2):
        put_text(sheet, line, index, column.label, font=bold, alignment=centre)
    for column in range(1, width + 1):
        sheet.cell(row=line, column=column).border = Border(bottom=_THIN)
    sheet.freeze_panes = sheet.cell(row=line + 1, column=2)
    for group, rows in table.groups():
        if group:
            line += 1
            put_text(sheet, line, 1, group, font=bold)
            if width > 1:
                sheet.merge_cells(start_row=line, start_column=1, end_row=line, end_column=width)
        for row in rows:
            line += 1
            put_text(sheet, line, 1, row.label, alignment=Alignment(indent=2 * row.indent))
            for index, value in enumerate(row.cells, start=2):
                put_text(sheet, line, index, value, alignment=Alignment(horizontal="center"))
    for column in range(1, width + 1):
        cell = sheet.cell(row=line, column=column)
        cell.border = Border(bottom=_THIN)
    line += 1
    for note in table.footnotes:
        line += 1
        put_text(sheet, line, 1, note, font=Font(italic=True, size=9))
    for index, characters in enumerate(_natural_widths(table), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = characters + 2


def new_workbook(title: str, study: StudyIdentity | None = None, stamp: Stamp | None = None) -> Workbook:
    """An empty workbook with fixed properties (``title``, the study's authors and keywords; with a ``stamp``, where
    the data come from as its subject and description)."""
    study = study or StudyIdentity()
    workbook = Workbook()
    workbook.remove(workbook.active)
    properties = workbook.properties
    properties.creator, properties.lastModifiedBy = xml_text(byline(study)), AUTHOR
    properties.title, properties.keywords = xml_text(title), xml_text("; ".join(study.keywords))
    properties.created = properties.modified = FIXED_TIME
    if stamp is not None:
        properties.subject, properties.description = xml_text(stamp.statement), xml_text(stamp.compact())
    return workbook


def save_workbook(workbook: Workbook, path: str | Path) -> Path:
    # openpyxl's save() stamps the clock time as "modified"; its writer, called directly, keeps the fixed one
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    return _write_bytes(Path(path), buffer.getvalue())


def write_xlsx(table: JournalTable, path: str | Path, study: StudyIdentity | None = None,
               stamp: Stamp | None = None) -> Path:
    """One table as a one-sheet workbook; every cell is text; ``study``: its authors; ``stamp``: where its data
    come from (properties and the row under the caption)."""
    workbook = new_workbook(table.caption, study, stamp)
    fill_sheet(workbook.create_sheet(sheet_title(table, set())), table, stamp)
    return save_workbook(workbook, path)
