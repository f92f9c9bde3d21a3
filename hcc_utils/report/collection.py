"""The article's tables collected in one ``tables.docx`` and one ``tables.xlsx``, in the article's order, after a
first page (sheet) naming the study, its authors and the tables; and a run's tables converted to DOCX and XLSX.

The writers of one table are :mod:`hcc_utils.report.submission`'s; like them these files are deterministic.
"""
from __future__ import annotations

from pathlib import Path

from docx.shared import Pt
from openpyxl.styles import Font

from hcc_utils.config.identity import StudyIdentity
from hcc_utils.report.identity import byline
from hcc_utils.report.provenance import Stamp
from hcc_utils.report.submission import (TITLE_PT, add_table_to_document, article_tables, fill_sheet, new_document,
                                         new_workbook, put_text, read_tables, save_document, save_workbook,
                                         sheet_title, write_docx, write_xlsx, xml_text)


def collection_title(study: StudyIdentity | None = None) -> str:
    """Title of ``tables.docx`` and ``tables.xlsx``: 'Tables: <the study's title>'."""
    return f"Tables: {(study or StudyIdentity()).title}"


def write_tables_docx(tables, path: str | Path, study: StudyIdentity | None = None, stamp: Stamp | None = None) -> Path:
    """The article's tables (those with a number) in article order, one per page, as one Word document, after a
    first page with the study's title, its authors and the list of the tables (``study``: the configuration's
    ``study`` section; the defaults when None) and, with a ``stamp``, where the data come from (first page,
    footers, properties)."""
    chosen = article_tables(tables)
    if not chosen:
        raise ValueError("no article table (every table is numbered by a chapter of the book, or not at all)")
    study = study or StudyIdentity()
    document = new_document(collection_title(study), study, stamp)
    heading = document.add_paragraph()
    run = heading.add_run(xml_text(collection_title(study)))
    run.bold, run.font.size = True, Pt(TITLE_PT)
    heading.paragraph_format.space_after = Pt(6)
    document.add_paragraph(xml_text(byline(study))).paragraph_format.space_after = Pt(12)
    if stamp is not None:
        document.add_paragraph(xml_text(stamp.line())).paragraph_format.space_after = Pt(12)
    for table in chosen:
        document.add_paragraph(xml_text(table.caption))
    for table in chosen:
        add_table_to_document(document, table, new_page=True)
    return save_document(document, path)


#: Name of the first sheet of ``tables.xlsx``: the study's title, its authors and the list of the tables.
CONTENTS_SHEET = "Contents"


def write_tables_xlsx(tables, path: str | Path, study: StudyIdentity | None = None, stamp: Stamp | None = None) -> Path:
    """The article's tables in article order, one sheet each, after a sheet :data:`CONTENTS_SHEET` with the
    study's title, its authors and each table's sheet and caption."""
    chosen = article_tables(tables)
    if not chosen:
        raise ValueError("no article table (every table is numbered by a chapter of the book, or not at all)")
    study = study or StudyIdentity()
    workbook, taken = new_workbook(collection_title(study), study, stamp), {CONTENTS_SHEET.lower()}
    contents = workbook.create_sheet(CONTENTS_SHEET)
    put_text(contents, 1, 1, collection_title(study), font=Font(bold=True, size=TITLE_PT))
    put_text(contents, 2, 1, byline(study))
    if stamp is not None:
        put_text(contents, 3, 1, stamp.line(), font=Font(italic=True, size=9))
    put_text(contents, 4, 1, "Sheet", font=Font(bold=True))
    put_text(contents, 4, 2, "Table", font=Font(bold=True))
    for line, table in enumerate(chosen, start=5):
        sheet = workbook.create_sheet(sheet_title(table, taken))
        fill_sheet(sheet, table, stamp)
        put_text(contents, line, 1, sheet.title)
        put_text(contents, line, 2, table.caption)
    contents.column_dimensions["A"].width = 16
    contents.column_dimensions["B"].width = max(len(t.caption) for t in chosen) + 2
    return save_workbook(workbook, path)


COLLECTION_NAMES = ("tables.docx", "tables.xlsx")


def convert_run_tables(run_dir: str | Path, study: StudyIdentity | None = None, stamp: Stamp | None = None
                       ) -> list[Path]:
    """Write ``<name>.docx`` and ``<name>.xlsx`` beside every ``sections/*/tables/<name>.json`` of a run, and
    ``tables.docx`` / ``tables.xlsx`` (the article's tables) in the run folder; return the files written.
    ``study``: the configuration's ``study`` section (title and authors of the files); ``stamp``: where the data
    come from, in every file."""
    run_dir = Path(run_dir)
    written, tables = [], []
    for path, table in read_tables(run_dir / "sections"):
        written += [write_docx(table, path.with_suffix(".docx"), study, stamp),
                    write_xlsx(table, path.with_suffix(".xlsx"), study, stamp)]
        tables.append(table)
    if article_tables(tables):
        written += [write_tables_docx(tables, run_dir / COLLECTION_NAMES[0], study, stamp),
                    write_tables_xlsx(tables, run_dir / COLLECTION_NAMES[1], study, stamp)]
    return written
