"""The book's PDFs (hcc_utils.pipeline.book_pdf) without a browser: which browser prints them and when none does,
the Submission files page's line, the notice of every printed page, the joined book (deterministic, one bookmark
per page) and the reuse of pages printed by the previous build. The printed pages themselves are checked in
Chromium by tests/test_browser.py."""
from __future__ import annotations

import io
import os
import re
import stat
from pathlib import Path

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
    first = book_pdf.combine_pdfs(parts, "The book", "Synthetic data")
    assert first == book_pdf.combine_pdfs(parts, "The book", "Synthetic data")
    reader = PdfReader(io.BytesIO(first))
    assert len(reader.pages) == 6
    assert [(item.title, reader.get_destination_page_number(item)) for item in reader.outline] == [
        ("Introduction", 0), ("Baseline", 2), ("Survival", 5)]
    assert (reader.metadata.title, reader.metadata.subject) == ("The book", "Synthetic data")
    assert "/CreationDate" not in reader.metadata  # Chromium's date would change the bytes of every build


def numbering_problems(data: bytes) -> list[str]:
    """Pages of a PDF whose text does not carry their own number in the whole document ("Page k of K"), or carries
    another page's number (a count restarted by a part)."""
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    problems = []
    for number, text in enumerate(pages, 1):
        found = re.findall(r"Page (\d+) of (\d+)", text)
        if found != [(str(number), str(len(pages)))]:
            problems.append(f"page {number}: {found}")
    return problems


def test_pages_are_numbered_through_the_whole_book_portrait_and_landscape():
    parts = [("Introduction", _blank_pdf(2)), ("Baseline", _blank_pdf(3, 842, 595)), ("Survival", _blank_pdf(1))]
    book = book_pdf.combine_pdfs(parts, "The book", "Synthetic data", contents=_blank_pdf(1))
    assert numbering_problems(book) == []
    reader = PdfReader(io.BytesIO(book))
    assert len(reader.pages) == 7 and reader.outline[0].title == "Contents"
    # where the style sheet's number stood: 15 mm from the right edge, in the bottom margin (landscape too)
    for page in (reader.pages[0], reader.pages[3]):
        seen = []
        page.extract_text(visitor_text=lambda text, cm, tm, font, size: seen.append((text, tm[4], tm[5])) if text.strip() else None)
        (_, x, y), = seen
        assert float(page.mediabox.width) - 15 * 72 / 25.4 - 60 < x < float(page.mediabox.width) - 15 * 72 / 25.4
        assert 0 < y < 16 * 72 / 25.4
    # the defect: each part numbered on its own, then joined (the count restarts at each part)
    joined = PdfWriter()
    for name, data in parts:
        joined.append(PdfReader(io.BytesIO(book_pdf.combine_pdfs([(name, data)], name, ""))))
    buffer = io.BytesIO()
    joined.write(buffer)
    assert numbering_problems(buffer.getvalue()) == [
        "page 1: [('1', '2')]", "page 2: [('2', '2')]", "page 3: [('1', '3')]", "page 4: [('2', '3')]",
        "page 5: [('3', '3')]", "page 6: [('1', '1')]"]


def test_contents_page_names_each_page_with_its_first_page_number(tmp_path):
    page = book_pdf.contents_html(tmp_path, "A <study>", [("Introduction", 2), ("Baseline & more", 4)])
    assert "<h1>A &lt;study&gt;</h1>" in page
    assert "<tr><td>Introduction</td><td class=n>2</td></tr><tr><td>Baseline &amp; more</td><td class=n>4</td></tr>" in page


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



@pytest.mark.browser
def test_folded_answers_print_as_if_they_had_never_been_folded(browser, tmp_path):
    """sphinx-togglebutton (its own script and style sheet here) folds an answer once the page has loaded and
    unfolds it when printing starts, its content fading out and in. A chapter printed during the fade painted its
    answer's code box in another order, so two printings of one chapter gave different bytes (CI of 2026-12-07).
    Here the fade lasts 10 s: the page must print exactly as the same page with no fade at all, the answer in it."""
    import sphinx_togglebutton

    static = Path(sphinx_togglebutton.__file__).parent / "_static"
    (tmp_path / "book").mkdir()
    for name, fade in (("fading", "10s"), ("still", "0s")):
        (tmp_path / "book" / f"{name}.html").write_text(f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<style>{(static / "togglebutton.css").read_text(encoding="utf-8")}</style>
<style>.admonition.toggle .admonition-title ~ * {{ transition: opacity {fade}, height {fade}; }}
pre {{ background: #eee; border: 1px solid #888; border-radius: 4px; padding: 1em; }}</style>
<script>var togglebuttonSelector = '.toggle, .admonition.dropdown'; var toggleHintShow = 'Click to show';
var toggleHintHide = 'Click to hide'; var toggleOpenOnPrint = 'true';</script>
<script>{(static / "togglebutton.js").read_text(encoding="utf-8")}</script></head>
<body><article class="bd-article"><h1>Exercises</h1><p>Exercise: compute it.</p>
<div class="dropdown admonition"><p class="admonition-title">Answer</p><p>Like this:</p>
<pre>THE-ANSWER-ITSELF = fit(frame)</pre><p>In R, the same.</p></div>
<p>Next exercise.</p></article>
<script>document.body.getBoundingClientRect()  /* styled before the toggles fold: folding starts the fade */</script>
</body></html>""", encoding="utf-8")
    printed = book_pdf._print(tmp_path, ["book/fading", "book/still"], browser_path=book_pdf.chromium_path())
    fading, still = (PdfReader(io.BytesIO(printed[f"book/{name}"][1])).pages[0] for name in ("fading", "still"))
    assert "THE-ANSWER-ITSELF" in fading.extract_text()
    assert fading.get_contents().get_data() == still.get_contents().get_data()
