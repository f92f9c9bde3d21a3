"""Helpers of the browser tests: serve a built book over HTTP, drive the system Chromium with Playwright, and
inspect a loaded page.

Each check returns a list of problems (plain sentences naming the page and the element), so a test can assert the
list is empty on the real book and non-empty on a page with an injected regression (``test_browser.py`` does both).
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

#: Where the browser tests keep what a reader would look at (screenshots); ignored by git.
TEST_OUTPUT_DIR = Path(__file__).resolve().parent.parent / "test-output"
SCREENSHOT_DIR = TEST_OUTPUT_DIR / "screenshots"

#: Screenshots are JPEG (quality SCREENSHOT_QUALITY): a full-page PNG takes about twice as long to encode.
SCREENSHOT_SUFFIX, SCREENSHOT_QUALITY = ".jpg", 80
#: Set (or CI set) to keep a screenshot of every page; otherwise only the first page's (see ``all_screenshots``).
SCREENSHOTS_VARIABLE = "HCC_STUDY_SCREENSHOTS"


def all_screenshots() -> bool:
    """Whether every page is screenshotted (and the print PDFs written): in CI and with HCC_STUDY_SCREENSHOTS=1.
    They are for a person to look at, no check reads them, and they are a third of a page record's time; a
    developer's run takes the first page's only, which still shows the screenshots work."""
    return bool(os.environ.get(SCREENSHOTS_VARIABLE) or os.environ.get("CI"))
#: The window widths of the screenshots: a desktop window and a phone.
DESKTOP_WIDTH, PHONE_WIDTH = 1400, 390

#: The finest number format of the result registry has three decimals (p-values: 0.001).
MAX_DECIMALS = 3
TOO_MANY_DECIMALS = re.compile(rf"\d\.\d{{{MAX_DECIMALS + 1},}}")
#: Constants a cell may state exactly because they are definitions, not results: days per month (months = days /
#: 30.4375, the data dictionary's derivation of every time-to-event column).
EXACT_CONSTANTS = ("30.4375",)
#: A page counts as loaded once its ``load`` event fired, its fonts (and MathJax, where a page has it) are ready and
#: no request has been in flight for this long: what Playwright's "networkidle" waits for, without its fixed
#: half-second of silence after every load. Requests still in flight after SETTLE_TIMEOUT are a load problem.
QUIET_SECONDS, SETTLE_TIMEOUT = 0.15, 15.0
#: (A page whose MathJax never settles, for instance loaded twice, must not hang the suite: false after 20 s.)
_READY_JS = """() => Promise.race([document.fonts.ready
  .then(() => (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) || null).then(() => true),
  new Promise(resolve => setTimeout(() => resolve(false), 20000))])"""
#: Python values that must never reach a reader's table cell.
PYTHON_ARTEFACTS = re.compile(r"^(True|False|nan|NaN|None|<NA>|NaT)$")


def chromium_path() -> str | None:
    """The system Chromium (Debian's package), or None where it is not installed; never a downloaded browser. The
    build prints the book's PDFs with the same one (:func:`hcc_utils.pipeline.book_pdf.chromium_path`)."""
    from hcc_utils.pipeline.book_pdf import chromium_path as system_chromium

    return system_chromium()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file handler that does not print every request into the test output."""

    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass


@contextmanager
def serve(folder: Path):
    """Serve ``folder`` over HTTP on a free local port (in a thread) and yield its base URL ("http://127.0.0.1:N/").

    The folder path is not resolved: a link (the runner's ``OUT/html``) is followed on every request, so a rebuild
    that swaps the link is served as the new book.
    """
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def reader_tab(browser, width: int = DESKTOP_WIDTH, height: int = 1000, color_scheme: str = "light"):
    """A browser tab (a page in a context of its own) at this window size and colour scheme, to pass as
    ``PageVisit(..., tab=...)`` for page after page: like a reader following links, later pages load the shared
    assets (CSS, JavaScript, fonts) from the tab's cache, and no renderer is started per page. Close it with
    ``tab.context.close()``."""
    return browser.new_context(viewport={"width": width, "height": height}, color_scheme=color_scheme,
                               device_scale_factor=1).new_page()


class PageVisit:
    """One page opened in a fresh browser context (or navigated to in ``tab``, see :func:`reader_tab`), with every
    console error and failed request it produced while loading.

    Use as a context manager: ``with PageVisit(browser, url, width) as visit: visit.page ...``.
    """

    def __init__(self, browser, url: str, width: int = DESKTOP_WIDTH, height: int = 1000,
                 color_scheme: str = "light", tab=None):
        self.browser, self.url, self.width, self.height = browser, url, width, height
        self.color_scheme = color_scheme
        self.tab = tab
        self.console_errors: list[str] = []
        self.failed_requests: list[str] = []
        self._snapshot: dict | None = None
        self._in_flight: set = set()
        self._last_activity = time.monotonic()
        self._handlers = {"console": self._on_console, "pageerror": self._on_page_error,
                          "requestfailed": self._on_failed, "response": self._on_response,
                          "request": self._on_request, "requestfinished": self._on_settled}

    def __enter__(self) -> "PageVisit":
        if self.tab is None:
            self.context = self.browser.new_context(viewport={"width": self.width, "height": self.height},
                                                    color_scheme=self.color_scheme, device_scale_factor=1)
            self.page = self.context.new_page()
        else:
            self.context, self.page = None, self.tab
            size = self.page.viewport_size
            assert (size["width"], size["height"]) == (self.width, self.height), f"the tab is {size}"
        for event, handler in self._handlers.items():
            self.page.on(event, handler)
        self.page.goto(self.url, wait_until="load")
        if not self.page.evaluate(_READY_JS):
            self.console_errors.append("fonts or MathJax still not ready 20 s after load")
        self._wait_for_quiet_network()
        return self

    def __exit__(self, *exc) -> None:
        if self.context is not None:
            self.context.close()
        else:  # the tab stays open for the next page; what it loads next is not this visit's
            for event, handler in self._handlers.items():
                self.page.remove_listener(event, handler)

    def _on_page_error(self, error) -> None:
        self.console_errors.append(f"uncaught: {error}")

    def _on_failed(self, request) -> None:
        self.failed_requests.append(f"{request.url} ({request.failure})")
        self._on_settled(request)

    def _on_request(self, request) -> None:
        self._in_flight.add(request)
        self._last_activity = time.monotonic()

    def _on_settled(self, request) -> None:
        self._in_flight.discard(request)
        self._last_activity = time.monotonic()

    def _wait_for_quiet_network(self) -> None:
        """Wait until no request has been in flight for QUIET_SECONDS (requests started after ``load``, such as the
        favicon's, are waited for and their failures recorded); still in flight after SETTLE_TIMEOUT: a problem."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while self._in_flight or time.monotonic() - self._last_activity < QUIET_SECONDS:
            if time.monotonic() > deadline:
                self.failed_requests += [f"{request.url} (still loading after {SETTLE_TIMEOUT:.0f} s)"
                                         for request in self._in_flight]
                return
            self.page.wait_for_timeout(25)  # lets Playwright deliver the request events

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_response(self, response) -> None:
        if response.status >= 400:
            self.failed_requests.append(f"{response.url} (HTTP {response.status})")

    # ------------------------------------------------------------------ checks
    def snapshot(self) -> dict:
        """Everything the checks read from the page, measured by ONE ``page.evaluate`` (taken once, then kept):
        images, overflowing tables, table cells, sideways scroll, links (downloads, next/previous, sidebar, all),
        code blocks shown at load, folded cells, the article's width and the legibility of captions."""
        if self._snapshot is None:
            self._snapshot = self.page.evaluate(_SNAPSHOT_JS, CONTRAST_SELECTOR)
        return self._snapshot

    def load_problems(self) -> list[str]:
        """Console errors and failed requests (4xx, 5xx, refused) of the page's load."""
        return ([f"console error: {text}" for text in self.console_errors]
                + [f"failed request: {text}" for text in self.failed_requests])

    def broken_images(self) -> list[str]:
        """Images that did not load (zero natural size)."""
        return [f"image without size: {image['src']}" for image in self.snapshot()["images"]
                if not (image["w"] and image["h"])]

    def overflowing_tables(self) -> list[str]:
        """Tables wider than the column that holds them (a table in a phone's scroll wrapper must still fit here)."""
        return [f"table overflows its container: {item}" for item in self.snapshot()["overflow"]]

    def table_cells(self) -> list[dict]:
        """Every table of the page: caption, header text, header cells, stub (first cell of each body row), cells."""
        return self.snapshot()["tables"]

    def cell_problems(self) -> list[str]:
        """Cells with more decimals than the registry's finest format, or a Python value (True, nan, None ...).

        Prose cells (a table's wrapping text columns: notes, reasons, the audit's proofs) are exempt from the decimals
        rule only: a proof may need a fourth decimal to show how a number rounds."""
        return cell_problems(self.table_cells())

    def horizontal_overflow(self) -> int:
        """How many pixels the page scrolls sideways (0 when it fits the window)."""
        return int(self.snapshot()["sideways"])

    def screenshot(self, name: str) -> Path:
        """Save a full-page screenshot as ``test-output/screenshots/<name>-<width>.jpg``."""
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}-{self.width}{SCREENSHOT_SUFFIX}"
        self.page.screenshot(path=str(path), full_page=True, type="jpeg", quality=SCREENSHOT_QUALITY)
        return path


def cell_problems(tables: list[dict]) -> list[str]:
    """Problems of the cells of ``tables`` (:meth:`PageVisit.table_cells`); see :meth:`PageVisit.cell_problems`."""
    problems = []
    for table in tables:
        name = table["caption"][:40] or table["id"] or "table"
        prose = table.get("prose") or [False] * len(table["cells"])
        for text, is_prose in zip(table["cells"], prose):
            if not is_prose and any(TOO_MANY_DECIMALS.search(number) for number in text.split()
                                    if number.strip("(),;") not in EXACT_CONSTANTS):
                problems.append(f"{name}: cell {text!r} has more than {MAX_DECIMALS} decimals")
            if PYTHON_ARTEFACTS.match(text.strip()):
                problems.append(f"{name}: cell shows the Python value {text.strip()!r}")
    return problems


#: Text a reader must be able to read in either theme (captions, muted notes, download lines, the banner).
CONTRAST_SELECTOR = "caption, figcaption, .caption-text, .text-muted, .hcc-downloads, .bd-header-announcement__content"

# The scroll container of a table is the nearest ancestor whose overflow-x is not visible (pydata's
# .pst-scrollable-table-container, or a wrapper of our own); the table must fit its client width, and that
# container must fit the article.
_OVERFLOW_JS = """
function overflowingTables() {
  const article = document.querySelector('article.bd-article') || document.body;
  const limit = article.getBoundingClientRect().right + 1;
  const out = [];
  document.querySelectorAll('table').forEach((table, index) => {
    if (!table.offsetParent) return;                     // hidden (a folded cell)
    let box = table.parentElement;
    while (box && box !== article && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
    box = box || article;
    const name = (table.caption && table.caption.innerText.slice(0, 40)) || table.id || ('table ' + index);
    const width = Math.max(table.scrollWidth, table.getBoundingClientRect().width);
    if (width > box.clientWidth + 1) out.push(`${name}: ${Math.round(width)} px in ${box.clientWidth} px`);
    else if (table.getBoundingClientRect().right > limit)
      out.push(`${name}: right edge ${Math.round(table.getBoundingClientRect().right)} px beyond the article (${Math.round(limit)} px)`);
  });
  return out;
}
"""

_TABLES_JS = """
function tableCells() { return Array.from(document.querySelectorAll('table')).map(table => {
  const text = el => (el.innerText || el.textContent || '').replace(/\\s+/g, ' ').trim();
  const head = table.tHead ? Array.from(table.tHead.querySelectorAll('th, td')).map(text) : [];
  const body = Array.from(table.tBodies).flatMap(b => Array.from(b.rows));
  let caption = table.caption ? text(table.caption) : '';
  if (!caption) {                                         // a caption outside the table (a figure or a heading)
    const holder = table.closest('figure, .cell_output, .output');
    const label = holder && holder.querySelector('figcaption, caption, .caption, p');
    caption = label ? text(label) : '';
  }
  return {
    id: table.id, caption: caption, head: head,
    stub: body.map(row => row.cells.length ? text(row.cells[0]) : ''),
    cells: body.flatMap(row => Array.from(row.cells).slice(1).map(text)),
    // prose cells (a note, a reason, a proof) may quote a number more finely than a result is shown
    prose: body.flatMap(row => Array.from(row.cells).slice(1).map(c => c.classList.contains('hcc-wrap'))),
  };
}); }
"""

# Contrast of the visible elements matching a selector against the background they sit on (WCAG's formula).
_CONTRAST_JS = """
function contrast(selector) {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
                               return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = el => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
                               if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); }
                             return rgb(getComputedStyle(document.body).backgroundColor).slice(0, 3); };
  return Array.from(document.querySelectorAll(selector)).filter(e => e.offsetParent !== null && e.innerText.trim())
    .map(e => { const a = lum(rgb(getComputedStyle(e).color)), b = lum(background(e));
                return {text: e.innerText.trim().slice(0, 40), ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)}; });
}
"""

# Whether every part of each figure and wide table can be reached on this screen: a figure that does not fit the
# window must sit in a box that scrolls to all of it, with a visible hint; a table wider than its box needs a
# visible hint and a first column that stays in view (position: sticky).
_REACH_JS = """
function reach() {
  const visible = e => !!e && e.offsetParent !== null && !e.hidden && getComputedStyle(e).visibility !== 'hidden'
                       && e.getBoundingClientRect().height > 0;
  const scroller = e => { for (let b = e.parentElement; b; b = b.parentElement)
                            if (['auto', 'scroll'].includes(getComputedStyle(b).overflowX)) return b; return null; };
  const hintOf = box => Array.from((box.closest('figure') || box.parentElement).querySelectorAll('.hcc-scroll-hint'))
                          .some(visible);
  const figures = Array.from(document.querySelectorAll('figure img, .cell_output img')).filter(visible).map(img => {
    const figure = img.closest('figure'); const r = img.getBoundingClientRect(); const box = scroller(img);
    const name = (figure && figure.querySelector('figcaption') ? figure.querySelector('figcaption').innerText : img.alt).slice(0, 50);
    const fits = r.left >= -1 && r.right <= document.documentElement.clientWidth + 1;
    const reachable = !!box && box.scrollWidth >= Math.round(r.width) - 1 && box.getBoundingClientRect().right <= document.documentElement.clientWidth + 1;
    return {name: name, fits: fits, reachable: reachable, hint: box ? hintOf(box) : false, width: Math.round(r.width)};
  });
  const tables = Array.from(document.querySelectorAll('.hcc-table-wrap')).filter(visible).map(box => {
    const table = box.querySelector('table');
    const stub = table && table.querySelector('tbody tr:not(.hcc-group-row) > :first-child');
    return {name: (box.parentElement.innerText || '').slice(0, 50), wide: box.scrollWidth > box.clientWidth + 1,
            hint: Array.from(box.parentElement.querySelectorAll(':scope > .hcc-scroll-hint')).some(visible),
            sticky: !!stub && getComputedStyle(stub).position === 'sticky'};
  });
  // a composite figure (panels side by side: the publisher's class, or an alt text naming panels) on a phone
  // (600 px or less): shown as its panels one under the other, each whole on the screen and at least 300 px wide
  const composites = window.innerWidth > 600 ? [] : Array.from(document.querySelectorAll('figure')).map(figure => {
    const wide = figure.querySelector('img.hcc-figure');
    if (!wide || !(wide.classList.contains('hcc-figure--composite') || /\bpanels? [A-H]\b/i.test(wide.alt))) return null;
    const caption = figure.querySelector('figcaption');
    const shown = Array.from(figure.querySelectorAll('img')).filter(visible);
    const panels = shown.filter(img => img !== wide && img.classList.contains('hcc-figure-panel--part'));
    const boxes = panels.map(img => { const r = img.getBoundingClientRect();
      return {left: Math.round(r.left), right: Math.round(r.right), width: Math.round(r.width)}; });
    return {name: (caption ? caption.innerText : wide.alt).slice(0, 50), wide_shown: shown.includes(wide),
            panels: boxes, window: document.documentElement.clientWidth};
  }).filter(Boolean);
  return {figures: figures, tables: tables, composites: composites};
}
"""

# Everything a visit's checks read, in one round trip to the browser.
_SNAPSHOT_JS = "(contrastSelector) => {\n" + _OVERFLOW_JS + _TABLES_JS + _CONTRAST_JS + _REACH_JS + """
  const hrefs = selector => Array.from(document.querySelectorAll(selector)).map(e => e.href);
  const article = document.querySelector('article.bd-article');
  return {
    images: Array.from(document.images).map(e => ({src: e.getAttribute('src'), w: e.naturalWidth, h: e.naturalHeight})),
    overflow: overflowingTables(),
    tables: tableCells(),
    sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    downloads: hrefs('p.hcc-downloads a'),
    next: hrefs('a.right-next'),
    previous: hrefs('a.left-prev'),
    sidebar: hrefs('nav.bd-docs-nav a.reference'),
    links: hrefs('a[href]'),
    // code shown at load (a closed <details> folds its content) and folded cells one click away
    // (the lessons' code below a chapter's "For trainees" box is meant to be read: not counted)
    shown_code: Array.from(document.querySelectorAll('.cell_input pre, div.highlight-ipython3 pre'))
      .filter(e => !e.closest('details:not([open])'))
      .filter(e => !e.closest('.tag_hcc-step-by-step, .tag_hcc-self-check'))
      .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height > 0).length,
    folded_cells: document.querySelectorAll('.cell.tag_hide-input').length,
    article_width: article ? article.getBoundingClientRect().width : 0,
    theme: document.documentElement.dataset.theme,
    reach: reach(),
    contrast: contrast(contrastSelector),
  };
}
"""


def table_with_caption(tables: list[dict], prefix: str) -> dict | None:
    """The table whose caption starts with ``prefix`` ("Table 1."), or None."""
    for table in tables:
        if table["caption"].startswith(prefix) or any(cell.startswith(prefix) for cell in table["head"][:2]):
            return table
    return None


def page_name(toc_entry: str) -> str:
    """A file-name form of a table-of-contents entry ("notebooks/02_baseline" -> "02_baseline")."""
    return toc_entry.split("/")[-1]


#: Least width of a composite figure's panel on a phone, in CSS pixels: its 10 pt type stays readable.
MIN_PANEL_WIDTH = 300


def unreachable_parts(reach: dict) -> list[str]:
    """Figures and wide tables of a snapshot (``snapshot()["reach"]``) a reader cannot see whole without a hint:
    a figure beyond the window's edge that no box scrolls to, or without a visible hint that it scrolls; on a
    phone (600 px or less), a composite figure not shown as its panels one under the other, each whole on the
    screen and at least :data:`MIN_PANEL_WIDTH` wide; a table wider than its box without a hint or without a first
    column that stays in view."""
    problems = []
    for figure in reach["figures"]:
        if figure["fits"]:
            continue
        if not figure["reachable"]:
            problems.append(f"figure {figure['name']!r} ({figure['width']} px) is cut by the window's edge")
        elif not figure["hint"]:
            problems.append(f"figure {figure['name']!r} ({figure['width']} px) scrolls sideways without a hint")
    for figure in reach.get("composites", []):
        name = figure["name"]
        if figure["wide_shown"] or not figure["panels"]:
            problems.append(f"composite figure {name!r} shows its panels side by side, not one under the other")
        for index, panel in enumerate(figure["panels"], 1):
            if panel["left"] < 0 or panel["right"] > figure["window"]:
                problems.append(f"composite figure {name!r}: panel {index} is cut by the window's edge")
            if panel["width"] < MIN_PANEL_WIDTH:
                problems.append(f"composite figure {name!r}: panel {index} is {panel['width']} px wide "
                                f"(< {MIN_PANEL_WIDTH})")
    for table in reach["tables"]:
        if table["wide"] and not table["hint"]:
            problems.append(f"table {table['name']!r} scrolls sideways without a hint")
        if table["wide"] and not table["sticky"]:
            problems.append(f"table {table['name']!r} scrolls its first column out of view")
    return problems


#: The article header's buttons and the panels they open: contents (the book's table of contents) and "on this
#: page". At a phone's width both open a dialog; on a desktop the contents button folds the sidebar away and back.
MENU_JS = """async (width) => {
  const pause = () => new Promise(done => setTimeout(done, 350));
  const shown = e => !!e && e.getBoundingClientRect().width > 0 && getComputedStyle(e).visibility !== 'hidden'
                     && getComputedStyle(e).display !== 'none' && e.checkVisibility();
  const buttons = sel => Array.from(document.querySelectorAll(sel)).filter(shown);
  const problems = [];
  const contents = buttons('.primary-toggle'), onPage = buttons('.secondary-toggle');
  if (contents.length !== 1) problems.push(`${contents.length} visible contents buttons`);
  if (onPage.length !== 1) problems.push(`${onPage.length} visible "on this page" buttons`);
  if (contents.length) {
    const sidebar = () => document.querySelector('#pst-primary-sidebar-modal[open] nav.bd-docs-nav, #pst-primary-sidebar nav.bd-docs-nav');
    const before = shown(sidebar());
    contents[0].click(); await pause();
    const after = shown(sidebar());
    if (width < 992 && !after) problems.push('the contents button opens no table of contents');
    if (width >= 992 && before === after) problems.push('the contents button neither folds nor unfolds the sidebar');
    const dialog = document.querySelector('#pst-primary-sidebar-modal');
    if (dialog && dialog.open) { dialog.close(); await pause(); }
    else if (width >= 992 && before !== after) { contents[0].click(); await pause(); }
  }
  if (onPage.length) {
    onPage[0].click(); await pause();
    const toc = document.querySelector('#pst-secondary-sidebar-modal[open] nav.page-toc');
    if (!shown(toc)) problems.push('the "on this page" button opens no list of the sections of the page');
    const dialog = document.querySelector('#pst-secondary-sidebar-modal');
    if (dialog && dialog.open) dialog.close();
  }
  return problems;
}"""

#: The header bars above the article (pydata's navbar and the book theme's article header) and search fields in
#: them; the sidebar's title, which must not be cut.
HEADER_JS = """() => {
  const shown = e => e.getBoundingClientRect().height > 0 && getComputedStyle(e).display !== 'none' && e.checkVisibility();
  const bars = Array.from(document.querySelectorAll('header.bd-header, .bd-header-article')).filter(shown)
    .filter(e => e.querySelector('button, a, input'));
  const searches = Array.from(document.querySelectorAll('header.bd-header .search-button-field, .bd-header-article .search-button-field')).filter(shown);
  const title = document.querySelector('.bd-sidebar-primary .logo__title');
  if (title) title.closest('.bd-sidebar-primary').scrollTop = 0;  // the theme scrolls the sidebar to the page's link
  const box = title && title.getBoundingClientRect();
  const cut = title && shown(title) && (title.scrollWidth > title.clientWidth + 1 || title.scrollHeight > title.clientHeight + 1
               || box.top < 0 || document.elementFromPoint(box.left + 2, box.top + 2) !== title && !title.contains(document.elementFromPoint(box.left + 2, box.top + 2)));
  const problems = [];
  if (bars.length !== 1) problems.push(`${bars.length} header bars above the page`);
  if (searches.length) problems.push(`${searches.length} search fields in a header bar (the sidebar has one)`);
  if (cut) problems.push('the title of the sidebar is cut');
  return problems;
}"""


def pdf_text_by_page(data: bytes) -> list[str]:
    """The text of each page of a PDF (pypdf), whitespace collapsed and ligatures ("ﬁ") spelt out (NFKC)."""
    import io
    import unicodedata

    from pypdf import PdfReader

    return [re.sub(r"\s+", " ", unicodedata.normalize("NFKC", page.extract_text() or ""))
            for page in PdfReader(io.BytesIO(data)).pages]


def print_problems(pages: list[str], tables: list[dict], statement: str = "synthetic") -> list[str]:
    """What a printed chapter (the text of its PDF's pages) lacks or should not have: a table cell or row label of
    the page's ``tables`` (:meth:`PageVisit.table_cells`) not in the text, the bar "Show code cell source", a page
    without the data statement (``statement``)."""
    squeeze = lambda text: re.sub(r"\s+", "", text)  # noqa: E731 - cells wrap onto lines of their own on paper
    whole = squeeze(" ".join(pages))
    problems = []
    for table in tables:
        name = table["caption"][:40] or table["id"] or "table"
        missing = [cell for cell in table["stub"] + table["cells"] if cell.strip() and squeeze(cell) not in whole]
        if missing:
            problems.append(f"{name}: {len(missing)} cells not printed, e.g. {missing[:3]}")
    if "Show code cell source" in " ".join(pages):
        problems.append("the bar 'Show code cell source' is printed")
    without = [number for number, text in enumerate(pages, 1) if statement not in text]
    if without:
        problems.append(f"pages without the data statement ({statement!r}): {without}")
    return problems
