"""Every file the book offers for download, and every file ``hcc-study export`` writes, says where its data come
from (issue 24): whether they are synthetic, the data file's and the configuration's SHA-256 and the commit, in its
metadata and visibly. Each file is opened with its format's own reader; the expected values are computed here from
the data file, the run's configuration and git, not read from the stamp.

Each check is shown failing on a file written without the stamp.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import published
from hcc_utils.config import REPO_ROOT

pytestmark = pytest.mark.slow

FORMATS = ("docx", "xlsx", "csv", "pdf", "svg", "png")


def expected_stamp(run: Path) -> dict:
    """What every file of ``run`` must say: computed from the data file, the manifest's configuration and git."""
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    data = Path(manifest["data"])
    config = hashlib.sha256(json.dumps(manifest["config"], sort_keys=True, default=str).encode()).hexdigest()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    return {"synthetic": data.name == "synthetic_cohort.csv", "data": hashlib.sha256(data.read_bytes()).hexdigest(),
            "config": config, "commit": head, "stamp_commit": manifest["stamp"]["commit"]}


def _says(text: str, expected: dict, full: bool) -> list[str]:
    """What ``text`` fails to say: the statement, the checksums and the commit (whole, or their first 16 digits)."""
    digits = None if full else 16
    problems = []
    statement = "SYNTHETIC DATA" if expected["synthetic"] else "the author's own cohort"
    if statement not in text:
        problems.append(f"no {statement!r}")
    for name in ("data", "config"):
        if expected[name][:digits] not in text:
            problems.append(f"no {name} SHA-256")
    # the commit of the code that wrote the file: the run's for the runner's files (DOCX, XLSX), the commit a
    # section was computed at for a section's files (a section re-used by a later build keeps its commit)
    if not re.search(r"commit [0-9a-f]{%d}" % (digits or 40), text):
        problems.append("no commit")
    return problems


def stamp_problems(path: Path, expected: dict) -> list[str]:
    """What a downloadable file lacks of its stamp, in its metadata and visibly, read with the format's reader."""
    suffix = path.suffix.lower()[1:]
    if suffix == "csv":
        lines = path.read_text(encoding="utf-8").splitlines()
        return [f"csv last line: {p}" for p in _says(lines[-1] if lines else "", expected, True)]
    if suffix == "svg":
        text = path.read_text(encoding="utf-8")
        description = re.search(r"<dc:description>(.*?)</dc:description>", text, re.S)
        visible = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", text))
        return ([f"svg metadata: {p}" for p in _says(description.group(1) if description else "", expected, True)]
                + [f"svg visible: {p}" for p in _says(visible, expected, False)])
    if suffix == "png":
        from PIL import Image

        with Image.open(path) as image:
            info = " ".join(str(v) for v in image.info.values())
        return [f"png metadata: {p}" for p in _says(info, expected, True)]
    if suffix == "pdf":
        data = path.read_bytes()
        info = re.search(rb"/Subject \(((?:\\.|[^\\)])*)\)", data, re.S)
        subject = re.sub(r"\\(.)", r"\1", info.group(1).decode("latin-1")) if info else ""
        from pypdf import PdfReader

        first = PdfReader(str(path)).pages[0].extract_text() if path.stat().st_size else ""
        return ([f"pdf metadata: {p}" for p in _says(subject, expected, True)]
                + [f"pdf visible: {p}" for p in _says(" ".join(first.split()), expected, False)])
    if suffix == "docx":
        from docx import Document

        document = Document(str(path))
        footer = " ".join(p.text for s in document.sections for p in s.footer.paragraphs)
        return ([f"docx properties: {p}" for p in _says(document.core_properties.comments or "", expected, True)]
                + [f"docx footer: {p}" for p in _says(footer, expected, True)])
    if suffix == "xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(path)
        problems = [f"xlsx properties: {p}" for p in _says(workbook.properties.description or "", expected, True)]
        for sheet in workbook.worksheets:
            top = " ".join(str(c.value) for row in sheet.iter_rows(min_row=1, max_row=3) for c in row if c.value)
            problems += [f"xlsx sheet {sheet.title}: {p}" for p in _says(top, expected, True)]
        return problems
    return [f"unexpected format {suffix}"]


def _files(folder: Path) -> dict[str, list[Path]]:
    found = {fmt: sorted(p for p in folder.rglob(f"*.{fmt}") if p.is_file()) for fmt in FORMATS}
    return found


def test_every_download_of_the_book_carries_its_stamp(bundled_book):
    run = published(bundled_book)
    expected = expected_stamp(run)
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", expected["stamp_commit"])  # the commit the run was built at
    files = _files(run / "html" / "downloads")
    files["docx"] += [run / "tables.docx"]
    files["xlsx"] += [run / "tables.xlsx"]
    for fmt in FORMATS:
        assert files[fmt], f"no {fmt} download"
        for path in files[fmt]:
            assert stamp_problems(path, expected) == [], path


def test_an_unstamped_file_of_each_format_is_reported(bundled_book, tmp_path):
    """The injected defect: each format written without the stamp (the writers' own functions, no stamp given)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hcc_utils.report.figures.style import save_figure
    from hcc_utils.report.journal_table import Column, JournalTable, Row
    from hcc_utils.report.provenance import use_stamp
    from hcc_utils.report.submission import write_docx, write_xlsx

    expected = expected_stamp(published(bundled_book))
    use_stamp(None)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    paths = save_figure(fig, tmp_path, "bare")
    plt.close(fig)
    table = JournalTable("bare", "Table 9", "A table", "Row", [Column("A")], [Row("x", ("1",))], [])
    table.save(tmp_path)
    paths += [write_docx(table, tmp_path / "bare.docx"), write_xlsx(table, tmp_path / "bare.xlsx"),
              tmp_path / "tables" / "bare.csv"]
    for path in paths:
        assert stamp_problems(path, expected), path


def test_the_export_carries_the_run_s_stamp(bundled_book, tmp_path):
    from hcc_utils.pipeline.export import export_submission

    out = tmp_path / "export"
    export_submission(bundled_book, out, progress=lambda line: None)
    expected = expected_stamp(published(bundled_book))
    files = _files(out)
    for fmt in FORMATS:
        assert files[fmt], f"export wrote no {fmt}"
        for path in files[fmt]:
            assert stamp_problems(path, expected) == [], path
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert _says(readme, expected, True) == [] and expected["stamp_commit"] in readme
    from docx import Document

    footer = " ".join(p.text for p in Document(str(out / "tables.docx")).sections[0].footer.paragraphs)
    assert expected["stamp_commit"] in footer  # written by the export from the run's manifest: the run's commit
