"""Submission formats of a JournalTable: a journal-style Word table, a text-only spreadsheet, and the article's
tables collected in order; every file byte-identical when written twice."""
from __future__ import annotations

import time
import zipfile

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn

from hcc_utils.report.journal_table import Column, JournalTable, Row
from hcc_utils.config import parse_config
from hcc_utils.report.collection import CONTENTS_SHEET, convert_run_tables, write_tables_docx, write_tables_xlsx
from hcc_utils.report.submission import article_tables, needs_landscape, write_docx, write_xlsx


def baseline_table() -> JournalTable:
    """Spanners, row groups, an indented category, footnotes, and cells a spreadsheet would run as formulas."""
    columns = [Column("Lenvatinib (N = 40)", "All enrolled"), Column("Sorafenib (N = 86)", "All enrolled"),
               Column("P", "All enrolled"), Column("Lenvatinib (N = 30)", "PS-matched"),
               Column("Sorafenib (N = 30)", "PS-matched"), Column("P", "PS-matched"), Column("SMD")]
    rows = [Row("Age, years", ("66 (58–72)", "68 (60–74)", "0.412", "66 (59–71)", "67 (60–73)", "0.655", "0.08"),
                group="Demographics"),
            Row("Male sex", ("33 (82.5)", "72 (83.7)", "0.866", "25 (83.3)", "24 (80.0)", "0.739", "0.09"),
                group="Demographics"),
            Row("Child-Pugh class", ("", "", "0.210", "", "", "0.584", ""), group="Liver function"),
            Row("B", ("=cmd", "+1+2", "0.210", "@SUM(A1)", "-x", "0.584", "0.14"), indent=1, group="Liver function")]
    return JournalTable(name="table1_baseline", number="Table 1", title="Baseline characteristics",
                        stub="Characteristic", columns=columns, rows=rows,
                        footnotes=["Values are median (IQR) or n (%).", "P: chi-square test; SMD: standardised "
                                   "mean difference."], order=1)


def small_table(name: str, number: str, order: int, title: str) -> JournalTable:
    return JournalTable(name=name, number=number, title=title, stub="Outcome", columns=[Column("Lenvatinib"),
                        Column("Sorafenib")], rows=[Row(f"{title} row", ("1", "2"))], footnotes=[f"{title} note"],
                        order=order)


def _cell_borders(document) -> list:
    return document.element.body.findall(".//" + qn("w:tcBorders"))


def test_docx_has_caption_merged_spanners_groups_rows_and_footnotes(tmp_path):
    path = write_docx(baseline_table(), tmp_path / "t.docx")
    document = docx.Document(path)
    paragraphs = [p for p in document.paragraphs if p.text]
    assert paragraphs[0].text == "Table 1. Baseline characteristics"
    assert paragraphs[0].runs[0].text == "Table 1." and paragraphs[0].runs[0].bold
    assert [p.text for p in paragraphs[1:]] == baseline_table().footnotes
    assert all(r.font.size.pt == 8 for p in paragraphs[1:] for r in p.runs)

    table = document.tables[0]
    spanner_row = table.rows[0]._tr.tc_lst
    assert [(tc.grid_span, "".join(t.text for t in tc.iter(qn("w:t")))) for tc in spanner_row] == \
        [(1, ""), (3, "All enrolled"), (3, "PS-matched"), (1, "")]
    assert [c.text for c in table.rows[1].cells] == ["Characteristic", "Lenvatinib (N = 40)", "Sorafenib (N = 86)",
                                                     "P", "Lenvatinib (N = 30)", "Sorafenib (N = 30)", "P", "SMD"]
    body = [(len(r._tr.tc_lst), r.cells[0].text) for r in table.rows[2:]]
    assert body == [(1, "Demographics"), (8, "Age, years"), (8, "Male sex"), (1, "Liver function"),
                    (8, "Child-Pugh class"), (8, "B")]
    assert table.rows[-1].cells[1].text == "=cmd"
    assert table.rows[-1].cells[0].paragraphs[0].paragraph_format.left_indent.pt == 10  # the indented category
    assert table.rows[2].cells[0].paragraphs[0].runs[0].bold  # a group heading
    assert table.rows[3].cells[1].paragraphs[0].alignment == 1  # numbers centred


def test_docx_draws_three_horizontal_rules_and_no_vertical_line(tmp_path):
    document = docx.Document(write_docx(baseline_table(), tmp_path / "t.docx"))
    table_borders = document.element.body.find(".//" + qn("w:tblBorders"))
    assert {e.get(qn("w:val")) for e in table_borders} == {"nil"}
    for borders in _cell_borders(document):
        for edge in borders:
            assert edge.tag in (qn("w:top"), qn("w:bottom")), "a vertical cell border"
    rows = document.tables[0].rows

    def edges(row, side):
        return {tc.find(qn("w:tcPr")).find(qn("w:tcBorders")).find(qn(f"w:{side}")).get(qn("w:sz"))
                for tc in row._tr.tc_lst}

    assert edges(rows[0], "top") == {"8"}       # rule above the header
    assert edges(rows[1], "bottom") == {"8"}    # rule under the header
    assert edges(rows[-1], "bottom") == {"8"}   # rule under the last row
    spanner = rows[0]._tr.tc_lst[1].find(qn("w:tcPr")).find(qn("w:tcBorders")).find(qn("w:bottom"))
    assert spanner.get(qn("w:sz")) == "4"       # light rule under a spanner
    assert all(row._tr.trPr.find(qn("w:tblHeader")) is not None for row in rows[:2])  # repeated on each page


def test_wide_table_goes_on_a_landscape_page_and_a_narrow_one_stays_portrait(tmp_path):
    wide, narrow = baseline_table(), small_table("table2_responses", "Table 2", 2, "Responses")
    assert needs_landscape(wide) and not needs_landscape(narrow)
    assert docx.Document(write_docx(wide, tmp_path / "w.docx")).sections[0].orientation == 1
    assert docx.Document(write_docx(narrow, tmp_path / "n.docx")).sections[0].orientation == 0


def test_xlsx_merges_spanners_and_groups_and_never_writes_a_formula(tmp_path):
    sheet = openpyxl.load_workbook(write_xlsx(baseline_table(), tmp_path / "t.xlsx")).active
    assert sheet.title == "Table 1"
    assert sheet["A1"].value == "Table 1. Baseline characteristics" and sheet["A1"].font.bold
    assert {str(r) for r in sheet.merged_cells.ranges} == {"B3:D3", "E3:G3", "A5:H5", "A8:H8"}
    assert sheet["B3"].value == "All enrolled" and sheet["E3"].value == "PS-matched"
    assert [c.value for c in sheet[4]] == ["Characteristic", "Lenvatinib (N = 40)", "Sorafenib (N = 86)", "P",
                                           "Lenvatinib (N = 30)", "Sorafenib (N = 30)", "P", "SMD"]
    assert sheet["A4"].font.bold and sheet["A5"].value == "Demographics" and sheet["A5"].font.bold
    last = sheet[10]
    assert last[0].value == "B" and last[0].alignment.indent == 2
    for cell, text in zip(last[1:5], ("=cmd", "+1+2", "0.210", "@SUM(A1)")):
        assert cell.value == text and cell.data_type == "s"
    assert last[1].quotePrefix and not last[3].quotePrefix
    with zipfile.ZipFile(tmp_path / "t.xlsx") as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")
    assert sheet["B6"].value == "66 (58–72)" and sheet["B6"].data_type == "s"  # numbers stay text, as printed
    assert [sheet["A12"].value, sheet["A13"].value] == baseline_table().footnotes
    assert sheet.column_dimensions["A"].width > sheet.column_dimensions["D"].width


def test_collection_holds_article_tables_in_article_order_with_titles_and_footnotes(tmp_path):
    tables = [small_table("supp2", "Supplementary Table 2", 7, "Third-line survival"),
              small_table("scorecard", "", 0, "Scorecard"),  # a book-only table: not submitted
              small_table("table2_responses", "Table 2", 2, "Responses"),
              baseline_table(),
              small_table("supp1", "Supplementary Table 1", 6, "Third-line regimens")]
    assert [t.name for t in article_tables(tables)] == ["table1_baseline", "table2_responses", "supp1", "supp2"]
    document = docx.Document(write_tables_docx(tables, tmp_path / "tables.docx"))
    captions = [p.text for p in document.paragraphs if p.text.startswith(("Table ", "Supplementary"))]
    expected = ["Table 1. Baseline characteristics", "Table 2. Responses",
                "Supplementary Table 1. Third-line regimens", "Supplementary Table 2. Third-line survival"]
    assert captions == expected + expected  # listed on the title page, then above each table
    texts = [p.text for p in document.paragraphs]
    for note in ["Responses note", "Third-line regimens note", "Third-line survival note", *baseline_table().footnotes]:
        assert note in texts
    assert len(document.tables) == 4 and "Scorecard row" not in [c.text for t in document.tables for c in t.column_cells(0)]
    # a title page, then Table 1 landscape and a page each
    assert [s.orientation for s in document.sections] == [0, 1, 0, 0, 0]
    assert [s.start_type for s in document.sections[1:]] == [2, 2, 2, 2]  # WD_SECTION.NEW_PAGE
    workbook = openpyxl.load_workbook(write_tables_xlsx(tables, tmp_path / "tables.xlsx"))
    assert workbook.sheetnames == [CONTENTS_SHEET, "Table 1", "Table 2", "Suppl. Table 1", "Suppl. Table 2"]


def test_collection_without_article_table_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no article table"):
        write_tables_docx([small_table("scorecard", "", 0, "Scorecard")], tmp_path / "t.docx")


def test_two_writes_are_byte_identical(tmp_path, monkeypatch):
    tables = [baseline_table(), small_table("table2_responses", "Table 2", 2, "Responses")]
    first = [write_docx(tables[0], tmp_path / "a.docx").read_bytes(), write_xlsx(tables[0], tmp_path / "a.xlsx").read_bytes(),
             write_tables_docx(tables, tmp_path / "a_all.docx").read_bytes(),
             write_tables_xlsx(tables, tmp_path / "a_all.xlsx").read_bytes()]
    later = time.time() + 3 * 86400  # a later day and time: nothing may depend on the clock
    monkeypatch.setattr(time, "time", lambda: later)
    monkeypatch.setattr(time, "localtime", lambda secs=None: time.gmtime(later))
    second = [write_docx(tables[0], tmp_path / "b.docx").read_bytes(), write_xlsx(tables[0], tmp_path / "b.xlsx").read_bytes(),
              write_tables_docx(tables, tmp_path / "b_all.docx").read_bytes(),
              write_tables_xlsx(tables, tmp_path / "b_all.xlsx").read_bytes()]
    assert first == second
    with zipfile.ZipFile(tmp_path / "b.docx") as archive:
        assert {i.date_time for i in archive.infolist()} == {(2024, 1, 1, 0, 0, 0)}
        assert b"2024-01-01T00:00:00Z" in archive.read("docProps/core.xml")
    with zipfile.ZipFile(tmp_path / "b.xlsx") as archive:
        assert b"2024-01-01T00:00:00Z" in archive.read("docProps/core.xml")


def test_run_tables_are_converted_beside_their_json(tmp_path):
    baseline_table().save(tmp_path / "sections" / "02_baseline")
    small_table("scorecard", "", 0, "Scorecard").save(tmp_path / "sections" / "scorecard")
    written = convert_run_tables(tmp_path)
    names = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert names == ["sections/02_baseline/tables/table1_baseline.docx",
                     "sections/02_baseline/tables/table1_baseline.xlsx",
                     "sections/scorecard/tables/scorecard.docx", "sections/scorecard/tables/scorecard.xlsx",
                     "tables.docx", "tables.xlsx"]
    assert "Table 1. Baseline characteristics" in [p.text for p in docx.Document(tmp_path / "tables.docx").paragraphs]


def test_the_collection_and_every_file_carry_the_configured_title_and_authors(tmp_path):
    """tables.docx opens with the study's title, its authors and the list of tables, tables.xlsx with a Contents
    sheet; the document properties of every file name the study's authors (not the program)."""
    study = parse_config({"study": {"title": "Cabozantinib vs regorafenib after ATE+BEV", "authors": [
        {"name": "Doe, Jane", "affiliation": "Uni", "orcid": "0000-0002-1825-0097"}, {"name": "Roe, John"}],
        "keywords": ["cabozantinib"]}}, "test").study
    tables = [baseline_table(), small_table("table2_responses", "Table 2", 2, "Responses")]
    document = docx.Document(write_tables_docx(tables, tmp_path / "tables.docx", study))
    texts = [p.text for p in document.paragraphs]
    assert texts[:4] == ["Tables: Cabozantinib vs regorafenib after ATE+BEV", "Jane Doe and John Roe",
                         "Table 1. Baseline characteristics", "Table 2. Responses"]
    assert document.paragraphs[0].runs[0].bold
    properties = document.core_properties
    assert (properties.title, properties.author, properties.keywords) == (
        "Tables: Cabozantinib vs regorafenib after ATE+BEV", "Jane Doe and John Roe", "cabozantinib")
    workbook = openpyxl.load_workbook(write_tables_xlsx(tables, tmp_path / "tables.xlsx", study))
    contents = workbook[CONTENTS_SHEET]
    assert [contents.cell(row, 1).value for row in (1, 2, 5, 6)] == [
        "Tables: Cabozantinib vs regorafenib after ATE+BEV", "Jane Doe and John Roe", "Table 1", "Table 2"]
    assert contents.cell(6, 2).value == "Table 2. Responses"
    assert (workbook.properties.title, workbook.properties.creator) == (
        "Tables: Cabozantinib vs regorafenib after ATE+BEV", "Jane Doe and John Roe")
    one = docx.Document(write_docx(tables[1], tmp_path / "one.docx", study)).core_properties
    assert (one.title, one.author) == ("Table 2. Responses", "Jane Doe and John Roe")
    assert openpyxl.load_workbook(write_xlsx(tables[1], tmp_path / "one.xlsx", study)).properties.creator == \
        "Jane Doe and John Roe"
    default = docx.Document(write_tables_docx(tables, tmp_path / "default.docx")).paragraphs[0].text
    assert default == "Tables: " + parse_config({}, "test").study.title  # the defaults: this project's study


def test_columns_fill_the_page_without_wrapping_p_values(tmp_path):
    from docx.shared import Cm

    from hcc_utils.report.submission import column_widths

    table = baseline_table()
    landscape_text = Cm(29.7 - 4)
    widths = column_widths(table, landscape_text)
    assert len(widths) == 8 and sum(widths) <= landscape_text
    assert widths[3] >= Cm(0.9) and widths[6] >= Cm(0.9)  # "0.412" on one line, margins included
    squeezed = column_widths(table, Cm(12))  # far too narrow: the P columns keep their width, the others give way
    assert squeezed[3] == widths[3] or squeezed[3] >= Cm(0.9)
    assert squeezed[1] < widths[1] and sum(squeezed) <= Cm(12) + 8
    narrow = small_table("table2_responses", "Table 2", 2, "Responses")
    assert sum(column_widths(narrow, Cm(17))) < Cm(17) * 0.8  # a narrow table is not stretched over the page
