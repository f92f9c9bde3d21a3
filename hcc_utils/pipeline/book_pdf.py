"""The book on paper: every page of the table of contents printed by the system's Chromium with the book's print
style sheet (``book/_static/hcc.css``: tables and figures in, code, menus and buttons out, the synthetic-data notice
heading every page, each page numbered), one PDF per page and the whole book as one PDF, offered as downloads.

Chromium is the computer's own (Debian's ``chromium``, Chrome or Edge, or the program named by
``HCC_STUDY_CHROMIUM``), driven by Playwright with ``executable_path``: nothing is downloaded. Where no such browser
is found (or ``HCC_STUDY_PRINT_PDF=0``) the book is built without its PDFs, and the *Submission files* page says
so. An incremental build prints again only the pages whose HTML or shared files (style sheets, scripts, images)
changed; the others come from the previous build's copies (``OUT/.sphinx/pdf``).

Files (under the book's ``html/downloads/``): ``book.pdf`` (a contents page naming each page's first page number, then
every page in reading order, one bookmark per page, numbered "Page k of K" through the whole book) and
``pdf/<page>.pdf`` (each page alone, numbered on its own). The numbers are written by :func:`number_pages` after
printing: Chromium counts the pages of each printed document only, so the build prints without the style sheet's own
number (``NO_PAGE_NUMBER_CSS``) and numbers each PDF as a whole. The PDFs are deterministic: Chromium's creation and modification dates are
replaced by the document information the book gives (title, subject: the data statement), so two builds of the same
inputs give the same bytes.
"""
from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
from pathlib import Path

#: Environment variable naming the browser to print with (a Chromium, Chrome or Edge program).
CHROMIUM_VARIABLE = "HCC_STUDY_CHROMIUM"
#: Program names tried in order on the PATH, then the usual install locations.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "msedge")
BROWSER_PATHS = ("/usr/bin/chromium",
                 "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
                 "/Applications/Chromium.app/Contents/MacOS/Chromium",
                 r"C:\Program Files\Google\Chrome\Application\chrome.exe",
                 r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe")
#: Set to 0 to build the book without its PDFs (the test suite's builds that do not read them).
PRINT_VARIABLE = "HCC_STUDY_PRINT_PDF"
#: Where the PDFs go, relative to the book's ``html/`` folder.
BOOK_PDF = "downloads/book.pdf"
PAGES_DIR = "downloads/pdf"
#: The paper size; the margins and notice are the print style sheet's (``@page``).
PAPER = "A4"
#: The print style sheet numbers the pages of what a reader prints from the browser; the build's own print turns it
#: off and writes the numbers itself (:func:`number_pages`), counted through the whole book.
NO_PAGE_NUMBER_CSS = "@page { @bottom-right { content: none; } } @page hcc-landscape { @bottom-right { content: none; } }"
#: Added to every page printed here, whatever the medium: no transition or animation. sphinx-togglebutton folds the
#: answers once a page has loaded and unfolds them when printing starts, their content fading over 0.3 s; a page
#: printed during a fade painted the answers' code boxes in another order (a running fade makes its own layer), so
#: two printings of one page gave different bytes.
STILL_CSS = " *, *::before, *::after { transition: none !important; animation: none !important; }"
#: Where and how the number is written: the bottom-right margin of the style sheet's pages (15 mm from the right
#: edge, in the middle of the 16 mm bottom margin), 8 pt Helvetica (one of the PDF's standard fonts, not embedded).
NUMBER_RIGHT_MM, NUMBER_BASELINE_MM, NUMBER_PT = 15.0, 7.0, 8.0
#: Helvetica's advance widths (thousandths of the type size) of the characters of "Page 12 of 345".
_HELVETICA = {"P": 667, "a": 556, "g": 556, "e": 556, " ": 278, "o": 556, "f": 278, **{d: 556 for d in "0123456789"}}
_MM = 72 / 25.4


def chromium_path() -> str | None:
    """The computer's own Chromium (or Chrome, Edge), or None: ``HCC_STUDY_CHROMIUM``, then the PATH, then the usual
    install locations. Never a browser downloaded by Playwright."""
    named = os.environ.get(CHROMIUM_VARIABLE)
    candidates = [named] if named else [*(shutil.which(name) for name in BROWSER_NAMES), *BROWSER_PATHS]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def print_browser() -> tuple[str | None, str]:
    """The browser that prints this build's PDFs, or None and the reason there is none."""
    if os.environ.get(PRINT_VARIABLE, "1").strip() == "0":
        return None, f"the build was told not to print them ({PRINT_VARIABLE}=0)"
    path = chromium_path()
    return path, "" if path else "the computer that built it has no Chromium, Chrome or Edge"


def page_pdf_name(entry: str) -> str:
    """The PDF of a table-of-contents entry ("notebooks/02_baseline" -> "02_baseline.pdf")."""
    return entry.split("/")[-1] + ".pdf"


def _plain(text: str) -> str:
    """HTML (the banner) as plain text."""
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _page_keys(html_dir: Path, entries: list[str], browser_path: str) -> dict[str, str]:
    """A key per page of what its print depends on: the browser, the page and the book's shared files (style
    sheets, scripts, images)."""
    shared = hashlib.sha256(f"{browser_path}\0{Path(browser_path).stat().st_size}\0{PAPER}\0{NO_PAGE_NUMBER_CSS}".encode())
    for folder in ("_static", "_images"):
        for path in sorted((html_dir / folder).rglob("*")):
            if path.is_file():
                shared.update(path.relative_to(html_dir).as_posix().encode() + b"\0" + path.read_bytes())
    return {entry: hashlib.sha256(shared.digest() + (html_dir / f"{entry}.html").read_bytes()).hexdigest()
            for entry in entries}


def print_pages(html_dir: Path, entries: list[str], browser_path: str,
                cache_dir: Path | None = None) -> dict[str, tuple[str, bytes]]:
    """Print each page ``html_dir/<entry>.html`` with the book's print styles; its title (the page's heading) and
    PDF bytes by entry.

    Links into the book itself are dropped from the printed copy (they would name the build's own folder); links
    to the web are kept. With ``cache_dir``, a page whose key (:func:`_page_keys`) is unchanged since the previous
    build is taken from there instead of being printed again; the folder keeps this build's pages only."""
    keys = _page_keys(html_dir, entries, browser_path)
    printed = {}
    if cache_dir is not None:
        for entry, key in keys.items():
            pdf, title = cache_dir / f"{key}.pdf", cache_dir / f"{key}.title"
            if pdf.is_file() and title.is_file():
                printed[entry] = title.read_text(encoding="utf-8"), pdf.read_bytes()
    to_print = [entry for entry in entries if entry not in printed]
    if to_print:
        printed.update(_print(html_dir, to_print, browser_path))
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for path in cache_dir.iterdir():
            if path.stem not in keys.values():
                path.unlink()
        for entry in to_print:
            title, data = printed[entry]
            (cache_dir / f"{keys[entry]}.title").write_text(title, encoding="utf-8")
            (cache_dir / f"{keys[entry]}.pdf").write_bytes(data)
    return printed


def _print(html_dir: Path, entries: list[str], browser_path: str) -> dict[str, tuple[str, bytes]]:
    """:func:`_print_now` in a thread of its own: Playwright's synchronous API refuses to start in a thread where an
    asyncio loop runs (a Jupyter kernel, or a test process that drives a browser itself), and a new thread has none."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hcc-print") as pool:
        return pool.submit(_print_now, html_dir, entries, browser_path).result()


def _print_now(html_dir: Path, entries: list[str], browser_path: str) -> dict[str, tuple[str, bytes]]:
    from playwright.sync_api import sync_playwright

    printed = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path)
        try:
            page = browser.new_page()
            for entry in entries:
                page.goto((html_dir / f"{entry}.html").absolute().as_uri(), wait_until="load")
                page.add_style_tag(content=NO_PAGE_NUMBER_CSS + STILL_CSS)
                heading = page.evaluate("""() => document.fonts.ready
                  .then(() => (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) || null)
                  .then(() => document.fonts.ready)  // the web fonts MathJax's typesetting asked for
                  .then(() => {
                    document.querySelectorAll('a[href]').forEach(a => {
                      if (a.href.startsWith('file:')) a.removeAttribute('href'); });
                    const h1 = document.querySelector('article.bd-article h1');
                    return h1 ? h1.innerText.replace(/#$/, '').trim() : document.title; })""")
                printed[entry] = heading, page.pdf(format=PAPER, print_background=True, prefer_css_page_size=True,
                                          outline=True, tagged=True)
        finally:
            browser.close()
    return printed


def number_pages(writer, first: int = 1) -> None:
    """Write "Page k of K" in the bottom-right margin of every page of ``writer`` (a ``pypdf.PdfWriter``), k counted
    from ``first`` on its first page, K its last page's number."""
    from pypdf import PageObject
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    total = first + len(writer.pages) - 1
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica"),
                             NameObject("/Encoding"): NameObject("/WinAnsiEncoding")})
    for index, page in enumerate(writer.pages):
        text = f"Page {first + index} of {total}"
        box = page.mediabox
        width = sum(_HELVETICA[c] for c in text) * NUMBER_PT / 1000
        x = float(box.right) - NUMBER_RIGHT_MM * _MM - width
        y = float(box.bottom) + NUMBER_BASELINE_MM * _MM
        overlay = PageObject.create_blank_page(width=float(box.width), height=float(box.height))
        overlay[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/HccPageNumber"): font})})
        stream = StreamObject()
        stream.set_data(f"BT /HccPageNumber {NUMBER_PT:g} Tf 0 g 1 0 0 1 {x:.2f} {y:.2f} Tm ({text}) Tj ET".encode("ascii"))
        overlay[NameObject("/Contents")] = stream
        page.merge_page(overlay)


def combine_pdfs(pdfs: list[tuple[str, bytes]], title: str, subject: str, contents: bytes | None = None):
    """One PDF of ``pdfs`` (title, bytes) in order, one bookmark per part, its pages numbered through
    (:func:`number_pages`), with fixed document information; ``contents`` (a printed contents page) first."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    if contents is not None:
        writer.append(PdfReader(io.BytesIO(contents)), import_outline=False)
        writer.add_outline_item(title="Contents", page_number=0)
    for name, data in pdfs:
        start = len(writer.pages)
        writer.append(PdfReader(io.BytesIO(data)), import_outline=False)
        writer.add_outline_item(title=name, page_number=start)
    number_pages(writer)
    writer.metadata = {"/Title": title, "/Subject": subject, "/Creator": "hcc-study (Chromium, pypdf)"}
    writer._ID = None  # no random file identifier: the same inputs give the same bytes
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _page_count(data: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


def contents_html(html_dir: Path, title: str, rows: list[tuple[str, int]]) -> str:
    """The book's contents page: its title, then each page's heading and first page number, with the book's print
    style sheets (the data statement at the top of the page, the stamp at its foot)."""
    sheets = "".join(f'<link rel="stylesheet" href="{(html_dir / "_static" / name).absolute().as_uri()}">'
                     for name in ("hcc.css", "hcc-print-banner.css") if (html_dir / "_static" / name).is_file())
    items = "".join(f"<tr><td>{html.escape(heading)}</td><td class=n>{number}</td></tr>" for heading, number in rows)
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">' + sheets +
            "<style>body{font:10pt sans-serif;color:#000} h1{font-size:18pt} h2{font-size:13pt;margin-top:1.5em}"
            " table{border-collapse:collapse;width:100%} td{padding:2pt 0;border-bottom:0.5pt dotted #999}"
            " td.n{text-align:right;width:3em}</style>"
            f"<title>Contents</title></head><body><h1>{html.escape(title)}</h1><h2>Contents</h2>"
            f"<table>{items}</table></body></html>")


def _print_contents(html_dir: Path, title: str, headings: list[str], counts: list[int], browser_path: str) -> bytes:
    """The contents page(s), printed: page numbers start after the contents itself (printed again when it turns out
    longer than one page)."""
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    def printed(length: int) -> bytes:
        starts = [length + 1 + sum(counts[:index]) for index in range(len(counts))]
        with tempfile.TemporaryDirectory(prefix="hcc-contents-") as folder:
            path = Path(folder) / "contents.html"
            path.write_text(contents_html(html_dir, title, list(zip(headings, starts))), encoding="utf-8")
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hcc-print") as pool:
                return pool.submit(_print_file, path, browser_path).result()

    data = printed(1)
    length = _page_count(data)
    return data if length == 1 else printed(length)


def _print_file(path: Path, browser_path: str) -> bytes:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path)
        try:
            page = browser.new_page()
            page.goto(path.absolute().as_uri(), wait_until="load")
            page.add_style_tag(content=NO_PAGE_NUMBER_CSS)
            return page.pdf(format=PAPER, print_background=True, prefer_css_page_size=True, tagged=True)
        finally:
            browser.close()


def write_book_pdfs(html_dir: Path, entries: list[str], title: str, banner_html: str,
                    browser_path: str | None = None, cache_dir: Path | None = None, stamp: str = "") -> list[Path]:
    """Print every page of ``entries`` (table-of-contents order) into ``html_dir/downloads/pdf/<page>.pdf`` and the
    whole book into ``html_dir/downloads/book.pdf`` (a contents page first, pages numbered through the book); return
    the files written (none without a browser).

    Parameters
    ----------
    html_dir : the built book (``html/``), its print style sheet included.
    entries : the table of contents' files, without extension, in reading order.
    title : the book's title (the PDFs' document title).
    banner_html : the data statement of every page (the subject of every PDF).
    browser_path : the browser; by default :func:`print_browser`'s.
    cache_dir : the previous build's printed pages (:func:`print_pages`).
    stamp : the run's provenance (synthetic or the author's cohort, the data's and the configuration's SHA-256, the
        commit; :meth:`hcc_utils.report.provenance.Stamp.compact`), added to every PDF's subject, as every other
        download of the book carries it.
    """
    browser_path = browser_path or print_browser()[0]
    if browser_path is None:
        return []
    subject = " ".join(part for part in (_plain(banner_html), stamp) if part)
    printed = print_pages(html_dir, entries, browser_path, cache_dir)
    written = []
    (html_dir / PAGES_DIR).mkdir(parents=True, exist_ok=True)
    for entry, (heading, data) in printed.items():
        path = html_dir / PAGES_DIR / page_pdf_name(entry)
        path.write_bytes(combine_pdfs([(heading, data)], f"{heading} — {title}", subject))
        written.append(path)
    parts = [printed[entry] for entry in entries]
    contents = _print_contents(html_dir, title, [heading for heading, _ in parts],
                               [_page_count(data) for _, data in parts], browser_path)
    book = html_dir / BOOK_PDF
    book.write_bytes(combine_pdfs(parts, title, subject, contents))
    return [book, *written]


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def print_banner_css(banner_html: str, stamp_lines: list[str] | None = None) -> str:
    """The print style sheet's notice: the banner's text in the top margin of every printed page (``@page``), and
    the run's provenance stamp (``stamp_lines``: :meth:`hcc_utils.report.provenance.Stamp.lines`) in its bottom-left
    margin, so that a printed or downloaded page says what data and code it comes from."""
    text = _css_string(_plain(banner_html))
    return ("/* Written by hcc_utils.pipeline.book for this build: the data statement heads every printed page. */\n"
            "@page {\n"
            f'  @top-center {{ content: "{text}"; font: 7.5pt sans-serif; color: #000; '
            "border-bottom: 0.5pt solid #000; vertical-align: bottom; padding-bottom: 1.5mm; }\n"
            + (f'  @bottom-left {{ content: "{_css_string(" · ".join(stamp_lines))}"; font: 6pt sans-serif; width: 80%; '
               "color: #000; vertical-align: top; }\n" if stamp_lines else "")
            + "}\n")
