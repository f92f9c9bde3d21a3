"""``hcc-study export --manuscript``: the run's manuscript draft as ``manuscript.docx`` and ``manuscript.pdf``.

The content is :func:`hcc_utils.report.manuscript.content.build_manuscript`'s; the DOCX is written by python-docx
(:mod:`hcc_utils.report.manuscript.docx_writer`), the PDF by printing the manuscript's one HTML document
(:mod:`hcc_utils.report.manuscript.html_writer`) with the computer's own Chromium, as the book's PDFs are printed
(:func:`hcc_utils.pipeline.book_pdf.print_pages`, no downloaded browser), with the stamp in its document information.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from hcc_utils.config import StudyConfig
from hcc_utils.pipeline.book_pdf import combine_pdfs, chromium_path, print_pages
from hcc_utils.report.manuscript.content import build_manuscript
from hcc_utils.report.manuscript.docx_writer import write_manuscript_docx
from hcc_utils.report.manuscript.html_writer import manuscript_html
from hcc_utils.report.provenance import Stamp

DOCX, PDF = "manuscript.docx", "manuscript.pdf"


def write_manuscript(run: Path, config: StudyConfig, stamp: Stamp | None, folder: Path, progress=print) -> list[Path]:
    """Write ``manuscript.docx`` and, where a Chromium is found, ``manuscript.pdf`` into ``folder``; the files
    written."""
    progress("  manuscript: reading the run's prose, results, tables and figures")
    manuscript = build_manuscript(run, config, stamp)
    written = [write_manuscript_docx(manuscript, config.study, folder / DOCX)]
    progress(f"  {DOCX}: {manuscript.word_counts['abstract']}-word abstract, {manuscript.word_counts['main text']}-word "
             f"text, {len(manuscript.tables)} tables, {len(manuscript.figures)} figures, "
             f"{len(manuscript.references)} references")
    browser = chromium_path()  # asked for explicitly: printed even where the book's PDFs are switched off
    if browser is None:
        progress(f"  {PDF} not written: this computer has no Chromium, Chrome or Edge (or set HCC_STUDY_CHROMIUM)")
        return written
    with tempfile.TemporaryDirectory(prefix="hcc-manuscript-") as temporary:
        (Path(temporary) / "manuscript.html").write_text(manuscript_html(manuscript), encoding="utf-8")
        heading, data = print_pages(Path(temporary), ["manuscript"], browser)["manuscript"]
    subject = stamp.compact() if stamp else ""
    (folder / PDF).write_bytes(combine_pdfs([(manuscript.title, data)], manuscript.title, subject))
    written.append(folder / PDF)
    progress(f"  {PDF}: printed by {browser}")
    return written
