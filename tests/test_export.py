"""``hcc-study export``: the published run's tables and figures in submission formats, written whole or not at all.

The runs here are fake run folders with the runner's layout (``OUT/.runs/<id>`` published as ``OUT/current``),
so the tests take seconds; the slow test at the end builds the bundled book and opens its ``tables.docx``.
"""
from __future__ import annotations

import json
from pathlib import Path

import docx
import openpyxl
import pytest

from hcc_utils.config import REPO_ROOT
from hcc_utils.pipeline.cli import main
from hcc_utils.pipeline.export import README, export_submission
from hcc_utils.pipeline.publish import publish
from conftest import published
from test_submission import baseline_table, small_table

pytestmark = pytest.mark.portable  # the published run read in either layout


def fake_run(out: Path, data: Path, with_tables: bool = True, config: dict | None = None) -> Path:
    """An output folder whose published run has two sections' tables and figures, laid out as the runner does
    (``config``: the run's configuration in its manifest; none, as a run of an older version wrote it, by default)."""
    run = out / ".runs" / "20240101T000000-test"
    if with_tables:
        baseline_table().save(run / "sections" / "02_baseline")
        small_table("table2_responses", "Table 2", 2, "Responses").save(run / "sections" / "04_responses")
        small_table("scorecard_table", "", 0, "Scorecard").save(run / "sections" / "scorecard")
    figures = run / "sections" / "05_survival" / "figures"
    figures.mkdir(parents=True)
    for suffix in (".pdf", ".svg", ".png"):
        (figures / f"figure3a_os{suffix}").write_bytes(b"figure " + suffix.encode())
    (figures / "notes.txt").write_text("not a figure")
    (run / "results.csv").write_text("id,value\n")
    manifest = {"data": str(data), "data_sha256": "ab" * 32, "finished": "2024-01-01T00:00:00+00:00", "files": {},
                **({"config": config} if config is not None else {})}
    (run / "manifest.json").write_text(json.dumps(manifest))
    publish(run, out, lambda message: None)  # as the runner publishes it, in this platform's layout
    return published(out)


def test_export_writes_every_table_figure_and_the_collection(tmp_path, capsys):
    out = tmp_path / "out"
    fake_run(out, REPO_ROOT / "data" / "synthetic_cohort.csv")
    assert main(["export", "--out", str(out)]) == 0
    folder = out / "submission"
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == [README, "figures/figure3a_os.pdf", "figures/figure3a_os.png", "figures/figure3a_os.svg",
                     "tables.docx", "tables.xlsx",
                     *[f"tables/{name}.{ext}" for name in ("scorecard_table", "table1_baseline", "table2_responses")
                       for ext in ("csv", "docx", "xlsx")]]
    document = docx.Document(folder / "tables.docx")
    assert [p.text for p in document.paragraphs if p.text.startswith("Table ")] == \
        ["Table 1. Baseline characteristics", "Table 2. Responses"] * 2  # on the title page, then above each table
    assert "Responses note" in [p.text for p in document.paragraphs]
    assert openpyxl.load_workbook(folder / "tables.xlsx").sheetnames == ["Contents", "Table 1", "Table 2"]
    assert (folder / "figures" / "figure3a_os.pdf").read_bytes() == b"figure .pdf"
    readme = (folder / README).read_text()
    assert "synthetic_cohort.csv" in readme and "THE DATA WERE SYNTHETIC" in readme
    from hcc_utils.config import StudyConfig
    assert f"Study: {StudyConfig().study.title}\nAuthors: The hcc-study contributors\n" in readme  # no config: defaults
    assert "table1_baseline  Table 1. Baseline characteristics" in readme
    printed = capsys.readouterr().out
    assert "exporting 3 tables and 3 figure files" in printed and f"wrote {folder}" in printed
    assert not [p for p in out.iterdir() if p.name.startswith(".submission")]  # no temporary folder left


def test_the_export_names_the_configured_study(tmp_path):
    """README.txt and tables.docx carry the title and authors of the run's configuration (from its manifest)."""
    from hcc_utils.config import parse_config

    config = parse_config({"study": {"title": "Cabozantinib vs regorafenib", "authors": [{"name": "Doe, Jane"}]}},
                          "test").to_dict()
    out = tmp_path / "out"
    fake_run(out, REPO_ROOT / "data" / "synthetic_cohort.csv", config=config)
    assert main(["export", "--out", str(out)]) == 0
    readme = (out / "submission" / README).read_text()
    assert "Study: Cabozantinib vs regorafenib\nAuthors: Jane Doe\n" in readme
    document = docx.Document(out / "submission" / "tables.docx")
    assert document.paragraphs[0].text == "Tables: Cabozantinib vs regorafenib"
    assert document.core_properties.author == "Jane Doe"


def test_export_of_real_data_does_not_say_synthetic_and_is_repeatable(tmp_path):
    data = tmp_path / "hospital.csv"
    data.write_text("patient_id,centre\nP1,Seoul\n")
    out = tmp_path / "out"
    fake_run(out, data)
    first = export_submission(out, tmp_path / "export", progress=lambda line: None)
    assert (first.tables, first.article_tables, first.figures) == (3, 2, 3)
    snapshot = {p.name: p.read_bytes() for p in (tmp_path / "export").rglob("*") if p.is_file()}
    assert "SYNTHETIC" not in snapshot[README].decode() and "hospital.csv" in snapshot[README].decode()
    export_submission(out, tmp_path / "export", progress=lambda line: None)  # replaces the earlier export
    assert {p.name: p.read_bytes() for p in (tmp_path / "export").rglob("*") if p.is_file()} == snapshot


def test_export_without_a_run_exits_2_with_a_message(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["export", "--out", str(empty)]) == 2
    err = capsys.readouterr().err
    assert f"no published run in {empty}" in err and "Traceback" not in err
    assert not (empty / "submission").exists()


def test_export_of_a_run_without_tables_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    fake_run(out, tmp_path / "gone.csv", with_tables=False)
    assert main(["export", "--out", str(out), "--to", str(tmp_path / "export")]) == 2
    assert "saved no table" in capsys.readouterr().err
    assert not (tmp_path / "export").exists()


def test_export_refuses_to_replace_a_folder_it_did_not_write(tmp_path, capsys):
    out = tmp_path / "out"
    fake_run(out, tmp_path / "gone.csv")
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "thesis.docx").write_text("keep me")
    assert main(["export", "--out", str(out), "--to", str(mine)]) == 2
    assert "not an earlier export" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["thesis.docx"]


def test_failed_export_leaves_the_earlier_export_whole(tmp_path, monkeypatch):
    out = tmp_path / "out"
    fake_run(out, tmp_path / "gone.csv")
    export_submission(out, progress=lambda line: None)
    before = sorted(p.name for p in (out / "submission").rglob("*"))

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("hcc_utils.pipeline.export.write_tables_xlsx", broken)
    with pytest.raises(OSError, match="disk full"):
        export_submission(out, progress=lambda line: None)
    assert sorted(p.name for p in (out / "submission").rglob("*")) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".submission")]


SAVING_CELL = """
from hcc_utils.report.journal_table import Column, JournalTable, Row
JournalTable(name="table2_responses", number="Table 2", title="Responses", stub="Response",
             columns=[Column("Lenvatinib"), Column("Sorafenib")], rows=[Row("Partial response", ("3", "5"))],
             footnotes=["Responses by RECIST."], order=2).save(output_dir)
"""


def test_runner_writes_docx_and_xlsx_beside_each_table_checksummed_and_reused(tmp_path):
    from test_runner import RECORDING_CELL, _config, _notebook

    from hcc_utils.pipeline.runner import copy_downloads, run_study

    root = tmp_path / "project"
    (root / "book").mkdir(parents=True)
    (root / "book" / "intro.md").write_text("# Intro\n")
    (root / "_toc.yml").write_text(json.dumps({"format": "jb-book", "root": "book/intro",
                                               "chapters": [{"file": "notebooks/04_responses"}]}))
    _notebook(root / "notebooks" / "04_responses.ipynb",
              [RECORDING_CELL.format(name="responses", value=1), SAVING_CELL])
    out = tmp_path / "out"
    run_study(_config(tmp_path), out, validate=False, root=root)
    tables = published(out) / "sections" / "04_responses" / "tables"
    assert sorted(p.name for p in tables.iterdir()) == [f"table2_responses.{ext}" for ext in ("csv", "docx", "json",
                                                                                                "xlsx")]
    assert "Table 2. Responses" in [p.text for p in docx.Document(published(out) / "tables.docx").paragraphs]
    manifest = json.loads((published(out) / "manifest.json").read_text())
    assert {"sections/04_responses/tables/table2_responses.docx", "sections/04_responses/tables/table2_responses.xlsx"} \
        <= set(manifest["files"]["04_responses"])
    assert set(manifest["files"]["_run"]) >= {"tables.docx", "tables.xlsx"}
    first = (tables / "table2_responses.docx").read_bytes()

    again = run_study(_config(tmp_path), out, validate=False, root=root)  # reused: the same files, same checksums
    assert again.reused == ["notebooks/04_responses.ipynb"]
    assert (published(out) / "sections" / "04_responses" / "tables" / "table2_responses.docx").read_bytes() == first
    assert json.loads((published(out) / "manifest.json").read_text())["files"] == manifest["files"]

    html = tmp_path / "html"
    copy_downloads(published(out), html)
    assert (html / "downloads" / "tables.docx").read_bytes() == (published(out) / "tables.docx").read_bytes()
    assert (html / "downloads" / "04_responses" / "tables" / "table2_responses.xlsx").is_file()


@pytest.mark.slow
def test_bundled_build_exports_every_article_table_in_order(bundled_book, tmp_path):
    """Needs the sections to save their tables as JournalTable JSON (the tables work of issue 11). Reads the session's
    shared build (tests/conftest.py) and exports beside the test, not into the shared folder."""
    out = bundled_book
    assert (published(out) / "html" / "downloads" / "tables.docx").is_file()
    assert main(["export", "--out", str(out), "--to", str(tmp_path / "submission")]) == 0
    document = docx.Document(tmp_path / "submission" / "tables.docx")
    numbers = [p.text.split(".")[0] for p in document.paragraphs
               if p.text.startswith(("Table ", "Supplementary Table "))]
    order = ["Table 1", "Table 2", "Table 3", "Table 4", "Table 5", "Supplementary Table 1", "Supplementary Table 2"]
    assert numbers == order + order  # listed on the title page, then above each table
    assert len(document.tables) == 7
