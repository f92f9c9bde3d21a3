"""The book's PDFs (hcc_utils.pipeline.book_pdf) without a browser: which browser prints them and when none does,
the Submission files page's line, the notice of every printed page, the joined book (deterministic, one bookmark
per page) and the reuse of pages printed by the previous build. The printed pages themselves are checked in
Chromium by tests/test_browser.py."""
from __future__ import annotations

import io
import os
import stat

import pytest
from pypdf import PdfReader, PdfWriter

from hcc_utils.pipeline import book_pdf
from hcc_utils.pipeline.book import pdf_line


def _blank_pdf(pages: int, width: float = 595, height: float = 842) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width, height)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_print_browser_is_the_named_one_or_none_with_the_reason(tmp_path, monkeypatch):
    program = tmp_path / "my-chromium"
    program.write_text("#!/bin/sh\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(book_pdf.PRINT_VARIABLE, "1")
    monkeypatch.setenv(book_pdf.CHROMIUM_VARIABLE, str(program))
    if os.name != "nt":  # an executable bit means nothing on Windows
        assert book_pdf.print_browser() == (str(program), "")
    monkeypatch.setenv(book_pdf.CHROMIUM_VARIABLE, str(tmp_path / "no-such-browser"))
    assert book_pdf.print_browser() == (None, "the computer that built it has no Chromium, Chrome or Edge")
    monkeypatch.setenv(book_pdf.PRINT_VARIABLE, "0")
    browser, reason = book_pdf.print_browser()
    assert browser is None and "HCC_STUDY_PRINT_PDF=0" in reason


def test_submission_page_links_the_pdfs_or_says_why_there_are_none():
    printed = pdf_line()
    assert 'href="../downloads/book.pdf"' in printed and 'href="../downloads/pdf/02_baseline.pdf"' in printed
    missing = pdf_line("the computer <b>has</b> no browser")
    assert "href" not in missing and "&lt;b&gt;has&lt;/b&gt;" in missing and book_pdf.CHROMIUM_VARIABLE in missing


def test_every_printed_page_states_the_data_in_its_top_margin():
    css = book_pdf.print_banner_css('Computed from <b>my "odd" \\ file.csv</b>: a <b>synthetic</b> cohort.')
    assert '@top-center { content: "Computed from my \\"odd\\" \\\\ file.csv: a synthetic cohort."' in css
    assert "<b>" not in css and "@bottom-left" not in css  # no stamp given, none printed
    stamped = book_pdf.print_banner_css("Synthetic.", ["SYNTHETIC DATA", 'data my "odd".csv SHA-256 0123456789abcdef',
                                                       "configuration SHA-256 fedcba9876543210 · commit 1f9263a6d5856935"])
    assert ('@bottom-left { content: "SYNTHETIC DATA · data my \\"odd\\".csv SHA-256 0123456789abcdef · configuration '
            'SHA-256 fedcba9876543210 · commit 1f9263a6d5856935"') in stamped  # the provenance at the foot of each page


def test_joined_book_has_one_bookmark_per_page_and_the_same_bytes_twice():
    parts = [("Introduction", _blank_pdf(2)), ("Baseline", _blank_pdf(3)), ("Survival", _blank_pdf(1))]
    first = book_pdf._document(parts, "The book", "Synthetic data")
    assert first == book_pdf._document(parts, "The book", "Synthetic data")
    reader = PdfReader(io.BytesIO(first))
    assert len(reader.pages) == 6
    assert [(item.title, reader.get_destination_page_number(item)) for item in reader.outline] == [
        ("Introduction", 0), ("Baseline", 2), ("Survival", 5)]
    assert (reader.metadata.title, reader.metadata.subject) == ("The book", "Synthetic data")
    assert "/CreationDate" not in reader.metadata  # Chromium's date would change the bytes of every build


def test_an_unchanged_page_is_not_printed_again(tmp_path, monkeypatch):
    html = tmp_path / "html"
    (html / "_static").mkdir(parents=True)
    (html / "_static" / "hcc.css").write_text("p {}")
    (html / "book").mkdir()
    for name in ("a", "b"):
        (html / "book" / f"{name}.html").write_text(f"<h1>{name}</h1>")
    browser = tmp_path / "chromium"
    browser.write_text("")
    printed_now = []

    def fake_print(html_dir, entries, browser_path):
        printed_now.append(list(entries))
        return {entry: (entry.upper(), _blank_pdf(1)) for entry in entries}

    monkeypatch.setattr(book_pdf, "_print", fake_print)
    cache = tmp_path / "cache"
    pages = ["book/a", "book/b"]
    first = book_pdf.print_pages(html, pages, str(browser), cache)
    assert book_pdf.print_pages(html, pages, str(browser), cache) == first
    (html / "book" / "b.html").write_text("<h1>b, edited</h1>")
    book_pdf.print_pages(html, pages, str(browser), cache)
    (html / "_static" / "hcc.css").write_text("p { color: red }")  # the print style sheet changed: every page
    book_pdf.print_pages(html, pages, str(browser), cache)
    assert printed_now == [pages, ["book/b"], pages]
    assert len(list(cache.glob("*.pdf"))) == 2  # only this build's pages are kept


@pytest.mark.parametrize("entry, name", [("notebooks/02_baseline", "02_baseline.pdf"), ("book/intro", "intro.pdf")])
def test_each_page_has_its_own_pdf_name(entry, name):
    assert book_pdf.page_pdf_name(entry) == name


def test_pages_print_where_an_asyncio_loop_runs(tmp_path, monkeypatch):
    """A build called from a Jupyter kernel, or from a test process that drives a browser itself, runs inside an
    asyncio loop, where Playwright's synchronous API refuses to start: the printing runs in a thread of its own."""
    import asyncio

    def like_playwright(html_dir, entries, browser_path):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return {entry: (entry, b"%PDF") for entry in entries}
        raise RuntimeError("It looks like you are using Playwright Sync API inside the asyncio loop.")

    monkeypatch.setattr(book_pdf, "_print_now", like_playwright)

    async def build():
        return book_pdf._print(tmp_path, ["book/intro"], "chromium")

    async def build_in_this_thread():  # what the build did before: issue 24's whole-book PDF failed in the tests
        return like_playwright(tmp_path, ["book/intro"], "chromium")

    def in_a_loop(coroutine_function):  # a fresh thread: this test process may itself be driving a browser
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(lambda: asyncio.run(coroutine_function())).result()

    assert in_a_loop(build) == {"book/intro": ("book/intro", b"%PDF")}
    with pytest.raises(RuntimeError, match="inside the asyncio loop"):
        in_a_loop(build_in_this_thread)
