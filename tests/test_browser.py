"""The built book in a real browser: Debian's headless Chromium driven by Playwright, over HTTP.

Every page of the table of contents is opened at 1400 px and 390 px: it loads without a console error or a failed
request, its images have a size, no table is wider than its column, no cell shows a raw float or a Python value,
the page does not scroll sideways on a phone, and a screenshot of each width is kept in
``test-output/screenshots/<page>-<width>.jpg`` (of every page in CI and with ``HCC_STUDY_SCREENSHOTS=1``, with the
dark-mode screenshots and print PDFs; of the first page otherwise: no check reads them). Then: the article's tables
carry their labels, download links, navigation, internal links and search work, code is folded in the chapters,
dark-mode captions are legible and the print layout keeps the synthetic-data notice and cuts nothing. The last tests
inject regressions into a copy of a page and check that the same checks report them.

Chromium comes from the system (``apt-get install chromium``; ``.ci/run`` installs it), never from a download. Without
it these tests skip, except in CI (``CI`` set), where they fail.

Speed: each page is loaded once per window width and session (``visits``), the pages of a width one after the other
in one browser tab (shared assets come from its cache, as for a reader following links), every measurement of that
load taken by one ``page.evaluate`` (``PageVisit.snapshot``), and the tests read that record; a load waits for the
``load`` event, the fonts and a quiet network (not Playwright's fixed half-second of "networkidle"). Only the checks
that change the page (the dark theme, print media, a click, a search) load a page of their own. The tests form two pytest-xdist groups
(desktop, phone), so each record is taken in one worker (one Chromium per worker).
"""
from __future__ import annotations

import re
import shutil
import urllib.parse
from pathlib import Path

import pytest

from hcc_utils.pipeline.runner import toc_files
from conftest import published
from browser_support import (DESKTOP_WIDTH, HEADER_JS, MENU_JS, PHONE_WIDTH, SCREENSHOT_DIR, SCREENSHOT_QUALITY,
                             SCREENSHOT_SUFFIX, TEST_OUTPUT_DIR, PageVisit, all_screenshots, page_name,
                             pdf_text_by_page, print_problems, reader_tab, serve, table_with_caption,
                             unreachable_parts)
from hcc_utils.pipeline.book_pdf import BOOK_PDF, PAGES_DIR, page_pdf_name
from test_book_pdf import numbering_problems

pytestmark = [pytest.mark.browser, pytest.mark.slow]
#: The two pytest-xdist groups: tests reading the desktop loads, and those reading the phone loads or loading pages
#: of their own (so that two workers share the browser tests, each keeping the records it reads).
DESKTOP_GROUP, PHONE_GROUP = pytest.mark.xdist_group("browser-desktop"), pytest.mark.xdist_group("browser-phone")

PAGES = toc_files()
#: The pages screenshotted in every run; all of them in CI and with HCC_STUDY_SCREENSHOTS=1 (``all_screenshots``).
SCREENSHOT_PAGES = PAGES[:1]
CHAPTERS = [entry for entry in PAGES if entry.startswith("notebooks/")]
#: Chapters whose tables and figures are offered for download (every chapter with a table or a figure).
CHAPTERS_WITH_DOWNLOADS = ["notebooks/01_cohort_flow", "notebooks/02_baseline", "notebooks/03_matching",
                           "notebooks/04_responses", "notebooks/05_survival", "notebooks/06_predictors",
                           "notebooks/07_third_line", "notebooks/08_safety", "notebooks/11_weighting"]
MIN_ARTICLE_WIDTH = 960  # px at a 1400 px window: the article's widest table (Table 1) needs it
MIN_CONTRAST = 4.5       # WCAG AA for body text


# ---------------------------------------------------------------------------------------------- fixtures

# ``browser`` (the system Chromium) and ``site`` (the shared build served) are fixtures of tests/conftest.py, shared
# with tests/test_browser_method.py (one Chromium per worker).


def page_url(base_url: str, entry: str) -> str:
    return f"{base_url}{entry}.html"


class PageRecords:
    """Each page loaded once per width (1400 px x 1000, 390 px x 844, light theme) and screenshotted; what the
    checks read from it (``PageVisit.snapshot`` plus the load's problems) kept for every test of the session.
    The pages of one width are loaded one after the other in one tab (``reader_tab``), as a reader follows links."""

    def __init__(self, browser, site: str):
        self.browser, self.site, self.records, self.tabs = browser, site, {}, {}

    def __call__(self, entry: str, width: int = DESKTOP_WIDTH) -> dict:
        if (entry, width) not in self.records:
            height = 844 if width == PHONE_WIDTH else 1000
            if width not in self.tabs:
                self.tabs[width] = reader_tab(self.browser, width, height)
            with PageVisit(self.browser, page_url(self.site, entry), width=width, height=height,
                           tab=self.tabs[width]) as visit:
                record = {**visit.snapshot(), "load_problems": visit.load_problems(),
                          "broken_images": visit.broken_images(), "overflowing_tables": visit.overflowing_tables(),
                          "cell_problems": visit.cell_problems()}
                if all_screenshots() or entry in SCREENSHOT_PAGES:
                    visit.screenshot(page_name(entry))
            self.records[entry, width] = record
        return self.records[entry, width]


@pytest.fixture(scope="session")
def visits(browser, site) -> PageRecords:
    """The session's page records (one load per page and width); see :class:`PageRecords`."""
    records = PageRecords(browser, site)
    yield records
    for tab in records.tabs.values():
        tab.context.close()


def _http_status(browser_context, url: str) -> int:
    return browser_context.request.get(url).status


# ---------------------------------------------------------------------------------------------- every page

@DESKTOP_GROUP
@pytest.mark.parametrize("entry", PAGES)
def test_page_loads_cleanly_and_fits_at_desktop_width(visits, entry):
    page = visits(entry)
    problems = page["load_problems"] + page["broken_images"] + page["overflowing_tables"] + page["cell_problems"]
    assert not problems, f"{entry}:\n" + "\n".join(problems)


@PHONE_GROUP
@pytest.mark.parametrize("entry", PAGES)
def test_page_reads_on_a_phone_without_scrolling_sideways(visits, entry):
    page = visits(entry, PHONE_WIDTH)
    problems, sideways = page["load_problems"] + page["broken_images"], page["sideways"]
    assert not problems, f"{entry}:\n" + "\n".join(problems)
    assert sideways == 0, f"{entry} scrolls {sideways} px sideways at {PHONE_WIDTH} px"


@pytest.mark.parametrize("width", [pytest.param(DESKTOP_WIDTH, marks=DESKTOP_GROUP),
                                   pytest.param(PHONE_WIDTH, marks=PHONE_GROUP)])
def test_screenshots_of_every_page_are_kept(visits, width):
    """Every page's screenshot in CI and with HCC_STUDY_SCREENSHOTS=1, the first page's otherwise."""
    for entry in PAGES:  # loaded already by the tests above (in this worker); loads any page they did not
        visits(entry, width)
    expected = PAGES if all_screenshots() else SCREENSHOT_PAGES
    missing = [f"{page_name(e)}-{width}{SCREENSHOT_SUFFIX}" for e in expected
               if not (SCREENSHOT_DIR / f"{page_name(e)}-{width}{SCREENSHOT_SUFFIX}").is_file()]
    assert not missing, f"screenshots not written: {missing}"


@DESKTOP_GROUP
def test_article_column_is_wide_enough_for_the_tables(visits, browser, site):
    width = visits("notebooks/02_baseline")["article_width"]
    with PageVisit(browser, page_url(site, "notebooks/02_baseline"), width=DESKTOP_WIDTH) as visit:
        # The page's contents stay one click away (the list button of the top bar opens them).
        visit.page.click(".bd-header-article button.secondary-toggle")
        visit.page.wait_for_selector("#pst-secondary-sidebar-modal nav.page-toc", state="visible")
    assert width >= MIN_ARTICLE_WIDTH, f"article column {width:.0f} px at {DESKTOP_WIDTH} px"


# ---------------------------------------------------------------------------------------------- the article's tables

@DESKTOP_GROUP
def test_table1_has_the_articles_layout(visits):
    table = table_with_caption(visits("notebooks/02_baseline")["tables"], "Table 1.")
    assert table is not None, "no table captioned 'Table 1.'"
    head = table["head"]
    assert "All enrolled" in head and "PS-matched" in head, head           # column spanners
    with_n = [h for h in head if re.search(r"N\s*=\s*\d+", h)]
    assert len(with_n) >= 4, f"group headers without 'N =': {head}"       # both groups, both cohorts
    assert all(h[0].isupper() for h in with_n), f"group names in lower case: {with_n}"
    assert head.count("P") == 2 and head.count("SMD") == 2, head
    for label in ("Age", "ECOG performance status", "Child-Pugh class", "AFP"):
        assert any(row.startswith(label) for row in table["stub"]), f"no row '{label}': {table['stub']}"
    assert not [c for c in table["stub"] + table["cells"] if re.search(r"\b[a-z]+_[a-z_]+\b", c)], "raw codes"


@DESKTOP_GROUP
def test_table4_has_the_articles_layout(visits):
    table = table_with_caption(visits("notebooks/06_predictors")["tables"], "Table 4.")
    assert table is not None, "no table captioned 'Table 4.'"
    head = table["head"]
    assert "Univariable" in head and "Multivariable" in head, head         # column spanners
    assert head.count("HR (95% CI)") == 2 and head.count("P") == 2, head
    # Row groups: each endpoint is named once, above its rows, not on every row.
    assert table["stub"].count("Overall survival") == 1, table["stub"]
    assert table["stub"].count("Progression-free survival") == 1, table["stub"]
    for label in ("Child-Pugh B", "ECOG"):
        assert any(row.startswith(label) for row in table["stub"]), f"no row '{label}': {table['stub']}"
    assert not [c for c in table["stub"] + table["cells"] if re.search(r"\b[a-z]+_[a-z_]+\b", c)], "raw codes"


# ---------------------------------------------------------------------------------------------- links

@DESKTOP_GROUP
def test_every_download_link_resolves(visits, browser):
    context = browser.new_context()
    found, broken = {}, []
    for entry in PAGES:
        hrefs = visits(entry)["downloads"]
        found[entry] = len(hrefs)
        broken += [f"{entry}: {href} (HTTP {status})" for href in hrefs
                   if (status := _http_status(context, href)) != 200]
    context.close()
    assert not broken, broken
    without = [entry for entry in CHAPTERS_WITH_DOWNLOADS if not found[entry]]
    assert not without, f"chapters with tables or figures but no download link: {without}"


@DESKTOP_GROUP
def test_next_and_previous_links_follow_the_table_of_contents(visits, site):
    problems = []
    for index, entry in enumerate(PAGES):
        page = visits(entry)
        following, preceding, sidebar = page["next"], page["previous"], page["sidebar"]
        if index + 1 < len(PAGES) and following != [page_url(site, PAGES[index + 1])]:
            problems.append(f"{entry}: next is {following}, expected {PAGES[index + 1]}")
        if index > 0 and entry != PAGES[0] and preceding and not preceding[0].startswith(site):
            problems.append(f"{entry}: previous link leaves the book: {preceding}")
        if index > 1 and preceding != [page_url(site, PAGES[index - 1])]:
            problems.append(f"{entry}: previous is {preceding}, expected {PAGES[index - 1]}")
        listed = {urllib.parse.urldefrag(href)[0] for href in sidebar}
        missing = [e for e in PAGES[1:] if page_url(site, e) not in listed]
        if missing:
            problems.append(f"{entry}: sidebar lacks {missing}")
    assert not problems, "\n".join(problems)


@DESKTOP_GROUP
def test_every_internal_link_and_anchor_resolves(visits, browser, site):
    context = browser.new_context()
    links: dict[str, set[str]] = {}
    for entry in PAGES:
        for href in visits(entry)["links"]:
            if href.startswith(site):
                links.setdefault(href, set()).add(entry)
    broken, pages = [], {}
    for href in sorted(links):
        target, fragment = urllib.parse.urldefrag(href)
        if target not in pages:
            response = context.request.get(target)
            pages[target] = (response.status, response.text() if response.ok and target.endswith(".html") else "")
        status, text = pages[target]
        if status != 200:
            broken.append(f"{href} (HTTP {status}) from {sorted(links[href])}")
        elif fragment and text and not re.search(rf'id="{re.escape(urllib.parse.unquote(fragment))}"', text):
            broken.append(f"{href}: no element with id {fragment!r}, from {sorted(links[href])}")
    context.close()
    assert len(links) > len(PAGES), "too few internal links found: the page query is wrong"
    assert not broken, "\n".join(broken)


@PHONE_GROUP
def test_search_finds_the_drugs(browser, site):
    with PageVisit(browser, f"{site}search.html?q=sorafenib") as visit:
        visit.page.wait_for_selector("#search-results ul.search li", timeout=15000)
        results = visit.page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
        problems = visit.load_problems()
    assert not problems, problems
    assert any("notebooks/" in href for href in results), results


# ---------------------------------------------------------------------------------------------- reader features

@DESKTOP_GROUP
@pytest.mark.parametrize("entry", CHAPTERS)
def test_code_of_the_chapters_is_folded_at_load(visits, entry):
    visible, toggles = visits(entry)["shown_code"], visits(entry)["folded_cells"]
    assert visible == 0, f"{entry}: {visible} code blocks shown at load (tag code cells 'hide-input')"
    assert toggles > 0, f"{entry}: no folded code cell to unfold"




@pytest.mark.parametrize("theme", [pytest.param("dark", marks=PHONE_GROUP),  # a load of its own
                                   pytest.param("light", marks=DESKTOP_GROUP)])  # the desktop record
@pytest.mark.parametrize("entry", ["notebooks/02_baseline", "notebooks/05_survival", "book/intro"])
def test_captions_and_muted_text_are_legible_in_either_theme(visits, browser, site, entry, theme):
    if theme == "light":  # the session's desktop load is in the light theme
        page = visits(entry)
    else:
        with PageVisit(browser, page_url(site, entry), color_scheme=theme) as visit:
            page = visit.snapshot()
            if all_screenshots():
                SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
                visit.page.screenshot(path=str(SCREENSHOT_DIR / f"{page_name(entry)}-dark{SCREENSHOT_SUFFIX}"),
                                      type="jpeg", quality=SCREENSHOT_QUALITY)
    assert page["theme"] == theme
    measured = page["contrast"]
    assert measured, f"{entry}: no caption found"
    faint = [f"{m['text']!r}: {m['ratio']:.1f}:1" for m in measured if m["ratio"] < MIN_CONTRAST]
    assert not faint, f"{entry}: below {MIN_CONTRAST}:1 in {theme} mode: {faint}"


@PHONE_GROUP
@pytest.mark.parametrize("entry", ["book/intro", "notebooks/02_baseline", "book/scorecard"])
def test_print_layout_drops_the_menus_and_cuts_nothing(browser, site, entry):
    with PageVisit(browser, page_url(site, entry)) as visit:
        visit.page.emulate_media(media="print")
        state = visit.page.evaluate("""() => {
          const shown = s => Array.from(document.querySelectorAll(s)).some(e => e.offsetParent !== null || getComputedStyle(e).position === 'fixed' && getComputedStyle(e).display !== 'none');
          const article = document.querySelector('article.bd-article');
          const cut = Array.from(document.querySelectorAll('table, pre')).filter(e => e.offsetParent !== null)
            .filter(e => e.getBoundingClientRect().right > article.getBoundingClientRect().right + 1 || e.scrollWidth > e.clientWidth + 1)
            .map(e => e.tagName + ' ' + ((e.caption && e.caption.innerText) || e.innerText).slice(0, 40));
          return {sidebars: shown('.bd-sidebar-primary') || shown('#pst-secondary-sidebar'),
                  buttons: shown('.article-header-buttons') || shown('.bd-header-article'), cut: cut};
        }""")
    assert not state["sidebars"] and not state["buttons"], state
    assert not state["cut"], f"{entry}: cut in print: {state['cut']}"


#: The printed PDFs kept for a reader to look at (test-output/print/): three chapters and the whole book.
PRINT_DIR = TEST_OUTPUT_DIR / "print"
KEPT_PRINTS = ["notebooks/02_baseline", "notebooks/05_survival", "notebooks/06_predictors"]


@DESKTOP_GROUP
@pytest.mark.parametrize("entry", PAGES)
def test_printed_page_has_every_table_cell_and_no_code(visits, bundled_book, entry):
    """The build's PDF of each page (Chromium, the book's print style sheet): every cell and row label of every
    table of the page, no "Show code cell source", the data statement on every page."""
    pdf = published(bundled_book) / "html" / PAGES_DIR / page_pdf_name(entry)
    assert pdf.is_file(), f"{entry}: no printed PDF {pdf.name}"
    pages = pdf_text_by_page(pdf.read_bytes())
    problems = print_problems(pages, visits(entry)["tables"])
    assert not problems, f"{entry} printed:\n" + "\n".join(problems)
    assert all(re.search(rf"Page {number} of {len(pages)}", text) for number, text in enumerate(pages, 1)), \
        f"{entry}: printed pages without their number"
    if entry in KEPT_PRINTS:
        PRINT_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copy2(pdf, PRINT_DIR / pdf.name)


@DESKTOP_GROUP
def test_whole_book_pdf_holds_every_page_in_reading_order(bundled_book):
    from pypdf import PdfReader

    html_dir = published(bundled_book) / "html"
    book = html_dir / BOOK_PDF
    assert book.is_file(), "no book.pdf"
    reader = PdfReader(book)
    outline = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]
    counts = [len(PdfReader(html_dir / PAGES_DIR / page_pdf_name(entry)).pages) for entry in PAGES]
    assert outline[0] == ("Contents", 0)
    contents = outline[1][1]                                           # the contents page(s) first
    assert len(reader.pages) == contents + sum(counts), (len(reader.pages), counts)
    starts = [contents + sum(counts[:index]) for index in range(len(PAGES))]
    assert [start for _, start in outline[1:]] == starts, outline      # one bookmark per page, in reading order
    first = pdf_text_by_page(book.read_bytes())
    assert all("synthetic" in text for text in first), "a page of the book without the data statement"
    assert numbering_problems(book.read_bytes()) == [], "the book's pages are not numbered through"
    listed = " ".join(first[:contents])
    for (title, start) in outline[1:]:                                 # the contents page gives each first page
        assert re.search(re.escape(title.split()[0]) + r".*?\b" + str(start + 1) + r"\b", listed, re.S), title
    assert "synthetic" in reader.metadata.subject and reader.metadata.title
    assert 'href="../downloads/book.pdf"' in (html_dir / "book" / "downloads.html").read_text(encoding="utf-8")
    PRINT_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy2(book, PRINT_DIR / "book.pdf")


# ---------------------------------------------------------------------------------------------- menus, phones

@pytest.mark.parametrize("width", [pytest.param(PHONE_WIDTH, marks=PHONE_GROUP),
                                   pytest.param(DESKTOP_WIDTH, marks=DESKTOP_GROUP)])
@pytest.mark.parametrize("entry", ["book/intro", "notebooks/02_baseline"])
def test_menu_buttons_open_their_panels(browser, site, entry, width):
    with PageVisit(browser, page_url(site, entry), width=width) as visit:
        problems = visit.page.evaluate(MENU_JS, width)
    assert not problems, f"{entry} at {width} px: {problems}"


@DESKTOP_GROUP
@pytest.mark.parametrize("entry", ["book/intro", "notebooks/05_survival"])
def test_one_header_bar_and_the_whole_sidebar_title_at_desktop_width(browser, site, entry):
    with PageVisit(browser, page_url(site, entry), width=DESKTOP_WIDTH) as visit:
        problems = visit.page.evaluate(HEADER_JS)
    assert not problems, f"{entry}: {problems}"


@PHONE_GROUP
@pytest.mark.parametrize("entry", PAGES)
def test_every_panel_and_column_is_reachable_on_a_phone(visits, entry):
    problems = unreachable_parts(visits(entry, PHONE_WIDTH)["reach"])
    assert not problems, f"{entry} at {PHONE_WIDTH} px:\n" + "\n".join(problems)


# ---------------------------------------------------------------------------------------------- regressions

@pytest.fixture
def injected_site(bundled_book, tmp_path):
    """A copy of the Table 1 page with a 3000 px table, a console error, a broken image and raw cells, beside
    the real assets (links), served the same way."""
    html_dir = published(bundled_book) / "html"
    page = (html_dir / "notebooks" / "02_baseline.html").read_text(encoding="utf-8")
    injected = ('<table id="injected-wide" style="width:3000px"><tbody><tr><td>wide</td>'
                '<td>0.0016467654541227025</td><td>True</td></tr></tbody></table>'
                '<img id="injected-broken" src="../_images/no-such-figure.png" alt="missing">'
                '<script>console.error("injected failure")</script>')
    assert '<article class="bd-article">' in page
    regression = page.replace('<article class="bd-article">', '<article class="bd-article">' + injected, 1)
    with _site_with_pages(bundled_book, tmp_path, {"regression": regression, "clean": page}) as base_url:
        yield base_url


@PHONE_GROUP
def test_checks_report_injected_regressions(browser, injected_site):
    # in one tab, as the page records are taken: the clean page first, then the regressions
    tab = reader_tab(browser)
    with PageVisit(browser, f"{injected_site}notebooks/clean.html", tab=tab) as clean:
        baseline = clean.overflowing_tables() + clean.broken_images() + clean.load_problems()
    with PageVisit(browser, f"{injected_site}notebooks/regression.html", tab=tab) as visit:
        overflow = visit.overflowing_tables()
        images = visit.broken_images()
        load = visit.load_problems()
        cells = visit.cell_problems()
    tab.context.close()
    assert not baseline, f"the unmodified copy already fails: {baseline}"
    assert any("injected-wide" in item and "3000 px" in item for item in overflow), overflow
    assert images == ["image without size: ../_images/no-such-figure.png"], images
    assert any("injected failure" in item for item in load), load
    assert any("no-such-figure.png" in item and "404" in item for item in load), load
    assert any("0.0016467654541227025" in item for item in cells) and any("'True'" in item for item in cells), cells


def _site_with_pages(bundled_book, folder: Path, pages: dict[str, str]):
    """The real book's assets (links) with ``pages`` ({name: html}) in ``notebooks/``, served; its base URL."""
    html_dir = published(bundled_book) / "html"
    for item in html_dir.iterdir():
        if item.name != "notebooks":
            try:
                (folder / item.name).symlink_to(item.resolve())
            except OSError:  # Windows without the privilege to make links: copies
                (shutil.copytree if item.is_dir() else shutil.copy2)(item, folder / item.name)
    (folder / "notebooks").mkdir()
    for name, text in pages.items():
        (folder / "notebooks" / f"{name}.html").write_text(text, encoding="utf-8")
    return serve(folder)


#: The defects of issue 24, put back into copies of real pages: pydata's own header bar with its search field and
#: its hidden duplicate toggles (which took the theme's click handlers), a sidebar title cut to one line; the print rule that hid a folded cell's
#: output (the table) and printed its "Show code cell source" bar; no scroll hints (hcc.js left out).
OLD_HEADER = ('<div class="bd-header__inner bd-page-width"><button class="pst-navbar-icon sidebar-toggle primary-toggle" '
              'aria-label="Site navigation"><span class="fa-solid fa-bars"></span></button>'
              '<div class="col-lg-9 navbar-header-items"><div class="navbar-header-items__end">'
              '<div class="navbar-item navbar-persistent--container"><button class="btn search-button-field '
              'search-button__button pst-js-only" title="Search" aria-label="Search"><span>Search</span></button></div>'
              '</div></div><div class="navbar-persistent--mobile"><button class="btn search-button-field '
              'search-button__button pst-js-only" title="Search" aria-label="Search"><span>Search</span></button></div>'
              '<button class="pst-navbar-icon sidebar-toggle secondary-toggle" aria-label="On this page">'
              '<span class="fa-solid fa-outdent"></span></button></div>')
CUT_TITLE = ("<style>.bd-sidebar-primary .logo__title { white-space: nowrap !important; overflow: hidden !important; "
             "text-overflow: ellipsis !important; }</style>")
OLD_PRINT_RULES = ("<style>@media print { details.hide.above-input:not([open]) + div { display: none !important; } "
                   ".cell details.hide { display: block !important; } }</style>")


@pytest.fixture
def theme_regressions(bundled_book, tmp_path):
    html_dir = published(bundled_book) / "html" / "notebooks"
    baseline = (html_dir / "02_baseline.html").read_text(encoding="utf-8")
    survival = (html_dir / "05_survival.html").read_text(encoding="utf-8")
    predictors = (html_dir / "06_predictors.html").read_text(encoding="utf-8")
    header = re.search(r'<header id="pst-header"[^>]*>', baseline)
    script = re.search(r'<script src="\.\./_static/hcc\.js[^"]*"></script>', predictors)
    stacked = re.compile(r'<div class="hcc-figure-panels".*?</div>', re.S)
    assert header and script and "</head>" in baseline and len(stacked.findall(survival)) == 2
    pages = {"baseline": baseline, "survival": survival, "predictors": predictors,
             "old-header": baseline.replace(header.group(0), header.group(0) + OLD_HEADER, 1)
                                   .replace("</head>", CUT_TITLE + "</head>", 1),
             "old-print": baseline.replace("</head>", OLD_PRINT_RULES + "</head>", 1),
             "no-hints": predictors.replace(script.group(0), "", 1),
             # the stacked rendering of Figures 2 and 3 removed: the wide image (panels side by side) is all there is
             "no-stacked": stacked.sub("", survival)}
    with _site_with_pages(bundled_book, tmp_path, pages) as base_url:
        yield base_url + "notebooks/"


@PHONE_GROUP
def test_theme_checks_report_the_defects_of_issue_24(browser, theme_regressions):
    def evaluate(name, width, script, *arguments):
        with PageVisit(browser, f"{theme_regressions}{name}.html", width=width) as visit:
            return visit.page.evaluate(script, *arguments)

    for width in (PHONE_WIDTH, DESKTOP_WIDTH):
        assert evaluate("baseline", width, MENU_JS, width) == [], width
        broken = evaluate("old-header", width, MENU_JS, width)
        assert any("opens no list" in p for p in broken), (width, broken)
        assert any("contents button" in p for p in broken), (width, broken)
    assert evaluate("baseline", DESKTOP_WIDTH, HEADER_JS) == []
    assert set(evaluate("old-header", DESKTOP_WIDTH, HEADER_JS)) >= {
        "2 header bars above the page", "1 search fields in a header bar (the sidebar has one)",
        "the title of the sidebar is cut"}

    def printed(name):
        with PageVisit(browser, f"{theme_regressions}{name}.html") as visit:
            tables = visit.table_cells()
            return print_problems(pdf_text_by_page(visit.page.pdf(prefer_css_page_size=True)), tables)

    assert printed("baseline") == []
    broken = printed("old-print")
    assert any(p.startswith("Table 1.") and "cells not printed" in p for p in broken), broken
    assert "the bar 'Show code cell source' is printed" in broken, broken

    def unreachable(name):
        with PageVisit(browser, f"{theme_regressions}{name}.html", width=PHONE_WIDTH, height=844) as visit:
            return unreachable_parts(visit.snapshot()["reach"])

    assert unreachable("survival") == [] and unreachable("predictors") == []
    broken = unreachable("no-hints")       # the forest plot is wider than a phone: it scrolls, and must say so
    assert any("Figure 6.1." in p and "without a hint" in p for p in broken), broken
    broken = unreachable("no-stacked")
    for figure in ("Figure 2.", "Figure 3."):
        assert any(figure in p and "side by side, not one under the other" in p for p in broken), broken


def test_screenshot_folder_is_ignored_by_git():
    ignored = (Path(__file__).resolve().parent.parent / ".gitignore").read_text().split()
    assert "test-output/" in ignored
