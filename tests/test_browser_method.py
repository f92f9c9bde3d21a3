"""The method in plain sight (issue 26), in a real browser: formulas rendered offline, each chapter's source links
and notebook download, exercises whose answers unfold.

- Every page of the book whose HTML holds math (MyST ``$...$``/``$$...$$``: Sphinx's ``.math`` elements) loads
  MathJax from the book itself (``_static/mathjax``, :mod:`hcc_utils.pipeline.mathjax`), with no failed request, and
  every formula is typeset (an ``mjx-container`` in each ``.math``; no raw ``\\(``, ``\\[`` or ``$$`` left in the text).
- Every chapter ends with the box *Source of this chapter* (:mod:`hcc_utils.pipeline.chapter_sources`): each of its
  links to source opens a page that holds that function's code, each API link an entry of that name, and its
  notebook download returns a valid notebook.
- Every answer (``.hcc-answer``, a dropdown admonition) is folded at load and unfolds on a click.
- Every article chapter has formulas and exercises with answers (the notebooks' content, from the branch that wrote
  it: this test fails on a book without them).

The last tests inject regressions into copies of real pages (MathJax from a missing file, TeX left raw, a box whose
links point nowhere, a download that is no notebook, answers without the toggle script) and check that the same
checks report them. Fixtures ``browser`` and ``site`` are tests/conftest.py's, shared with ``tests/test_browser.py``.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pytest

from browser_support import PageVisit
from conftest import published
from hcc_utils.pipeline.chapter_sources import BOX_CLASS, NOTEBOOKS_DIR
from hcc_utils.pipeline.mathjax import MATHJAX_PATH
from hcc_utils.pipeline.runner import toc_files
from test_browser import _site_with_pages

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser-method")]

PAGES = toc_files()
CHAPTERS = [entry for entry in PAGES if entry.startswith("notebooks/")]
#: The chapters of the article's own sections (Beyond the article: 09 onwards).
ARTICLE_CHAPTERS = [entry for entry in CHAPTERS if re.match(r"notebooks/0[1-8]_", entry)]

#: What a page's formulas look like after load: Sphinx's math elements, those MathJax typeset, raw TeX left in the
#: article's text, and where MathJax was loaded from.
MATH_JS = """() => {
  const article = document.querySelector('article.bd-article') || document.body;
  const math = [...article.querySelectorAll('.math')];
  const raw = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest('pre, code, script, style, mjx-assistive-mml, .highlight')) continue;
    const text = node.textContent;
    for (const mark of ['\\\\(', '\\\\[', '$$']) if (text.includes(mark)) raw.push(text.trim().slice(0, 80));
  }
  return {math: math.length,
          typeset: math.filter(m => m.querySelector('mjx-container')).length,
          raw: raw,
          scripts: [...document.scripts].map(s => s.src).filter(src => /mathjax|tex-chtml|tex-svg/i.test(src))};
}"""

#: The box's links: to the API reference (with their anchors), to source, to the notebook.
BOX_JS = """(selector) => {
  const box = document.querySelector(selector);
  if (!box) return null;
  return {api: [...box.querySelectorAll('a.reference.internal')].map(a => a.href).filter(h => h.includes('#')),
          source: [...box.querySelectorAll('a.hcc-source-link')].map(a => a.href),
          notebook: [...box.querySelectorAll('a.hcc-notebook-download')].map(a => a.href)};
}"""

#: Each answer: whether its body is visible, before and after a click on its title.
ANSWERS_JS = """() => [...document.querySelectorAll('.hcc-answer')].map(box => {
  const body = [...box.children].filter(child => !child.classList.contains('admonition-title'));
  return body.length > 0 && body.every(child => {
    const style = getComputedStyle(child);
    return style.visibility !== 'hidden' && style.display !== 'none' && parseFloat(style.opacity) > 0
      && child.getBoundingClientRect().height > 0; });
})"""


def math_problems(visit: PageVisit) -> list[str]:
    """What is wrong with the formulas of a loaded page: none typeset, raw TeX in the text, MathJax from elsewhere
    than the book, a failed request or console error of the load."""
    state = visit.page.evaluate(MATH_JS)
    problems = list(visit.load_problems())
    if state["math"] and state["typeset"] < state["math"]:
        problems.append(f"{state['math'] - state['typeset']} of {state['math']} formulas not typeset")
    problems += [f"raw TeX in the text: {text!r}" for text in state["raw"]]
    origin = re.match(r"[a-z]+://[^/]+", visit.page.url).group(0)
    # the component itself, then the TeX extensions it loads on demand (boldsymbol...), all from the book's copy
    problems += [f"MathJax loaded from outside the book: {src}" for src in state["scripts"]
                 if not (src.startswith(origin + "/") and re.search(r"/_static/mathjax/[^?]+\.js(\?|$)", src))]
    if state["scripts"] and not any(re.search(r"/_static/" + re.escape(MATHJAX_PATH) + r"(\?|$)", src)
                                     for src in state["scripts"]):
        problems.append("the page does not load the book's MathJax component")
    if state["math"] and not state["scripts"]:
        problems.append("formulas but no MathJax script")
    return problems


def box_problems(visit: PageVisit, repository_notebook: Path | None = None) -> list[str]:
    """What is wrong with a chapter's box *Source of this chapter*: missing, a link to source whose page lacks the
    function, an API link without its entry, a notebook download that is not a valid notebook."""
    links = visit.page.evaluate(BOX_JS, f".{BOX_CLASS}")
    if links is None:
        return ["no box 'Source of this chapter'"]
    problems = []
    if not links["source"]:
        problems.append("the box links no source")
    request = visit.page.context.request
    pages: dict[str, str] = {}

    def fetched(url: str) -> str | None:
        address = url.split("#")[0]
        if address not in pages:
            response = request.get(address)
            pages[address] = response.text() if response.ok else None
        return pages[address]

    for url in links["source"]:
        name = url.rsplit("#", 1)[-1]
        text = fetched(url)
        if text is None:
            problems.append(f"source link does not load: {url}")
        else:
            block = text.partition(f'id="{name}"')[2][:4000]  # viewcode's block of that object
            code = html.unescape(re.sub(r"<[^>]+>", "", block))
            if not re.search(rf"\b(def|class)\s+{re.escape(name.split('.')[-1])}\b", code):
                problems.append(f"source page lacks the code of {name}: {url}")
    for url in links["api"]:
        anchor = url.rsplit("#", 1)[-1]
        text = fetched(url)
        if text is None or f'id="{anchor}"' not in text:
            problems.append(f"API link without its entry: {url}")
    if len(links["notebook"]) != 1:
        problems.append(f"{len(links['notebook'])} notebook downloads (one expected)")
    for url in links["notebook"]:
        response = request.get(url)
        try:
            notebook = nbformat.reads(response.text(), as_version=4)
            nbformat.validate(notebook)
        except Exception as error:  # noqa: BLE001 - any reason it is no notebook is the finding
            problems.append(f"notebook download is not a valid notebook ({type(error).__name__}): {url}")
            continue
        if not any(cell.cell_type == "code" for cell in notebook.cells):
            problems.append(f"notebook download has no code: {url}")
        if repository_notebook is not None and json.loads(response.text()) != json.loads(
                repository_notebook.read_text(encoding="utf-8")):
            problems.append(f"notebook download differs from the repository's {repository_notebook.name}")
    return problems


def answer_problems(visit: PageVisit) -> list[str]:
    """Answers shown at load, or not shown after a click on their title."""
    before = visit.page.evaluate(ANSWERS_JS)
    problems = [f"answer {index + 1} is open at load" for index, shown in enumerate(before) if shown]
    titles = visit.page.locator(".hcc-answer .admonition-title")
    for index in range(titles.count()):
        titles.nth(index).click()
    visit.page.wait_for_timeout(300)  # the toggle's transition
    after = visit.page.evaluate(ANSWERS_JS)
    problems += [f"answer {index + 1} does not unfold on a click" for index, shown in enumerate(after) if not shown]
    return problems


def _html(bundled_book, entry: str) -> str:
    return (published(bundled_book) / "html" / f"{entry}.html").read_text(encoding="utf-8")


def _pages_with(bundled_book, marker: str) -> list[str]:
    return [entry for entry in PAGES if marker in _html(bundled_book, entry)]


# ---------------------------------------------------------------------------------------------- the built book

def test_every_formula_of_the_book_is_rendered_offline(browser, site, bundled_book):
    pages = _pages_with(bundled_book, 'class="math')
    problems = {}
    for entry in pages:
        with PageVisit(browser, f"{site}{entry}.html") as visit:
            if found := math_problems(visit):
                problems[entry] = found
    assert not problems, problems


@pytest.mark.parametrize("entry", CHAPTERS)
def test_chapter_links_the_source_of_its_functions_and_its_notebook(browser, site, entry):
    repository = Path(__file__).resolve().parent.parent / f"{entry}.ipynb"
    with PageVisit(browser, f"{site}{entry}.html") as visit:
        problems = box_problems(visit, repository)
    assert not problems, problems


def test_every_answer_unfolds_on_a_click(browser, site, bundled_book):
    problems = {}
    for entry in _pages_with(bundled_book, "hcc-answer"):
        with PageVisit(browser, f"{site}{entry}.html") as visit:
            if found := answer_problems(visit):
                problems[entry] = found
    assert not problems, problems


def test_every_article_chapter_has_formulas_and_exercises_with_answers(bundled_book):
    # the notebooks' content (issue 26, "lessons"): a formula in the trainees' box and exercises with answers
    missing = {entry: [what for what, marker in (("formulas", 'class="math'), ("answers", "hcc-answer"))
                       if marker not in _html(bundled_book, entry)]
               for entry in ARTICLE_CHAPTERS}
    assert not {entry: what for entry, what in missing.items() if what}, missing


# ---------------------------------------------------------------------------------------------- regressions

#: What Sphinx writes into a page with math (``sphinx.ext.mathjax`` with MyST's configuration).
MATH_SCRIPTS = ('<script>window.MathJax = {"options": {"processHtmlClass": '
                '"tex2jax_process|mathjax_process|math|output_area"}}</script>'
                '<script defer="defer" src="../_static/{path}"></script>')
MATH_HTML = ('<section id="injected-math"><p>Greenwood: <span class="math notranslate nohighlight">'
             '\\(\\widehat{\\mathrm{Var}}[\\hat S(t)] = \\hat S(t)^2 \\sum_{t_j \\le t} '
             '\\frac{d_j}{n_j (n_j - d_j)}\\)</span></p><div class="math notranslate nohighlight">'
             '\\[\\hat S(t) = \\prod_{t_j \\le t} \\left(1 - \\frac{d_j}{n_j}\\right)\\]</div></section>')
ANSWER_HTML = ('<section id="injected-exercise"><div class="hcc-exercise admonition"><p class="admonition-title">'
               'Exercise 1</p><p>Change the caliper to 0.1.</p></div><div class="dropdown hcc-answer admonition">'
               '<p class="admonition-title">Answer</p><p>Fewer pairs.</p></div></section>')


def _inject(page: str, head: str = "", article: str = "") -> str:
    assert "</head>" in page and '<article class="bd-article">' in page
    return (page.replace("</head>", head + "</head>", 1)
                .replace('<article class="bd-article">', '<article class="bd-article">' + article, 1))


@pytest.fixture
def method_regressions(bundled_book, tmp_path):
    """Copies of the survival chapter: with formulas and an answer as the notebooks write them, and with each defect."""
    # the chapter without its own formulas and MathJax (its trainees' box has some): each copy below brings its own
    page = re.sub(r'<(span|div) class="math notranslate nohighlight"[^>]*>.*?</\1>', "",
                  _html(bundled_book, "notebooks/05_survival"), flags=re.S)
    page = re.sub(r'<script>window\.MathJax = .*?</script>|<script defer="defer" src="[^"]*mathjax[^"]*"></script>',
                  "", page, flags=re.S)
    assert 'class="math' not in page and "MathJax" not in page
    box = re.search(rf'<div class="[^"]*\b{BOX_CLASS}\b', page)
    assert box, "the survival chapter has no box 'Source of this chapter'"
    toggle = re.search(r'<script src="\.\./_static/togglebutton\.js[^"]*"></script>', page)
    assert toggle
    good_head = MATH_SCRIPTS.replace("{path}", MATHJAX_PATH)
    pages = {
        "good": _inject(page, good_head, MATH_HTML + ANSWER_HTML),
        # MathJax named by a path the book does not ship (a failed request; the formulas stay TeX)
        "no-mathjax": _inject(page, MATH_SCRIPTS.replace("{path}", "mathjax-missing/tex-chtml.js"), MATH_HTML),
        # dollar math that MyST did not parse (dollarmath off): the reader sees the dollars
        # (in a section of MyST's, which MathJax is told to skip: only the .math elements are typeset)
        "raw-dollars": _inject(page, good_head, '<section class="tex2jax_ignore mathjax_ignore">'
                                                "<p>$$S(t) = \\prod (1 - d_j / n_j)$$</p></section>"),
        # the box's links into nothing, and a download that is no notebook
        "bad-box": page.replace("#compute", "#no_such_function", 1)
                       .replace(f"{NOTEBOOKS_DIR}/05_survival.ipynb", "_static/hcc.css", 1),
        # the answers without the toggle script: shown at load, no click folds or unfolds them
        "no-toggle": _inject(page.replace(toggle.group(0), "", 1), "", ANSWER_HTML),
    }
    with _site_with_pages(bundled_book, tmp_path, pages) as base_url:
        yield base_url + "notebooks/"


def test_method_checks_report_injected_regressions(browser, method_regressions):
    def visit(name, check):
        with PageVisit(browser, f"{method_regressions}{name}.html") as page:
            return check(page)

    assert visit("good", math_problems) == []
    assert visit("good", answer_problems) == []
    assert visit("good", box_problems) == []
    broken = visit("no-mathjax", math_problems)
    assert any("mathjax-missing/tex-chtml.js" in item and "404" in item for item in broken), broken
    assert any("2 of 2 formulas not typeset" in item for item in broken), broken
    broken = visit("raw-dollars", math_problems)
    assert any(item.startswith("raw TeX in the text") and "$$" in item for item in broken), broken
    broken = visit("bad-box", box_problems)
    assert any("lacks the code of no_such_function" in item for item in broken), broken
    assert any("is not a valid notebook" in item for item in broken), broken
    broken = visit("no-toggle", answer_problems)
    assert "answer 1 is open at load" in broken, broken
