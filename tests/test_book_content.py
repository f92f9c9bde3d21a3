"""What a reader reads in the built book (issue 24): each figure number once, whole numbers without ".0", the counts
stated in prose equal to the tables they refer to, every figure and table numbered in its caption, alt texts that
describe, and a reference list labelled as the text cites.

Each check is a function of the page's HTML, run over the bundled build, and shown failing on an injected defect in a
copy of the page's HTML inside its test.
"""
from __future__ import annotations

import re
from collections import Counter

import pytest
from bs4 import BeautifulSoup

from conftest import published
from hcc_utils.pipeline.runner import toc_files

pytestmark = pytest.mark.slow

PAGES = toc_files()


def _soup(bundled_book, page: str) -> BeautifulSoup:
    return BeautifulSoup((published(bundled_book) / "html" / f"{page}.html").read_text(encoding="utf-8"),
                         "html.parser")


def _main(soup: BeautifulSoup):
    """The article part of a page (no navigation, no search index), scripts and styles dropped."""
    main = soup.select_one("article.bd-article") or soup
    for element in main.select("script, style, .hcc-compared-note"):  # the article's value, shown on focus
        element.decompose()
    return main


def _text(element) -> str:
    """The text a reader sees: without the hidden notes that screen readers get (a compared cell's article value)."""
    shown = [text for text in element.find_all(string=True)
             if not any(parent.has_attr("hidden") for parent in text.parents if parent is not None and parent.name)]
    return re.sub(r"\s+", " ", " ".join(shown)).strip()


# ------------------------------------------------------------------------------------------------ figure numbers
#: How a caption names its figure: "Figure 2.", "Supplementary Figure 3.", "Figure 11.2."
FIGURE_NUMBER = re.compile(r"^((?:Supplementary )?Figure \d+(?:\.\d+)?)\.")


def figure_number_problems(soup: BeautifulSoup) -> list[str]:
    """A figure shown outside a captioned ``<figure>`` (an uncaptioned copy), a caption without its number, a
    number given to two figures, and a second, running number ("Fig. 5") beside the caption's own."""
    main = _main(soup)
    problems = [f"figure image outside a captioned figure: {img.get('alt', '')[:60]!r}"
                for img in main.select("img.hcc-figure") if img.find_parent("figure") is None]
    numbers = []
    for caption in main.select("figure figcaption"):
        text = _text(caption)
        if caption.select(".caption-number") or re.match(r"^Fig\. \d+", text):
            problems.append(f"running number beside the caption's: {text[:40]!r}")
        match = FIGURE_NUMBER.match(re.sub(r"^Fig\. \d+\s*", "", text))
        if match is None:
            problems.append(f"caption without a figure number: {text[:60]!r}")
        else:
            numbers.append(match.group(1))
    problems += [f"{number} given to {count} figures" for number, count in Counter(numbers).items() if count > 1]
    return problems


def test_each_figure_is_shown_once_under_its_one_number(bundled_book):
    figures = 0
    for page in PAGES:
        soup = _soup(bundled_book, page)
        assert figure_number_problems(soup) == [], page
        figures += len(_main(soup).select("figure img.hcc-figure"))
    assert figures >= 18  # the article's figures and the book's own
    # injected defects: the cohort-flow page's figure shown again without a caption (a notebook cell ending with
    # publish_figure), and Sphinx's running number put back
    soup = _soup(bundled_book, "notebooks/01_cohort_flow")
    figure = soup.select_one("figure")
    figure.insert_before(BeautifulSoup(str(figure.select_one("img.hcc-figure")), "html.parser"))
    caption = figure.select_one("figcaption p")
    caption.insert(0, BeautifulSoup('<span class="caption-number">Fig. 1 </span>', "html.parser"))
    problems = figure_number_problems(soup)
    assert any("outside a captioned figure" in p for p in problems)
    assert any("running number" in p for p in problems)


def test_every_table_is_numbered_in_its_caption(bundled_book):
    """The article's tables keep its numbers; every other table of a chapter is numbered by its chapter
    ("Table 11.1"), so the prose can name it; numbers are not repeated on a page."""
    for page in [p for p in PAGES if p.startswith("notebooks/")]:
        captions = [_text(c) for c in _main(_soup(bundled_book, page)).select(".hcc-table-caption")]
        numbers = [re.match(r"^((?:Supplementary )?Table \d+(?:\.\d+)?)\.", c) for c in captions]
        assert all(numbers), (page, [c for c, n in zip(captions, numbers) if n is None])
        assert len({n.group(1) for n in numbers}) == len(numbers), page
    weighting = [_text(c) for c in _main(_soup(bundled_book, "notebooks/11_weighting")).select(".hcc-table-caption")]
    assert [c.split(".")[0] + "." + c.split(".")[1] for c in weighting] == ["Table 11.1", "Table 11.2"]


def test_prose_names_figures_by_number_not_by_place(bundled_book):
    for page in PAGES:
        text = _text(_main(_soup(bundled_book, page)))
        assert not re.search(r"\b(the|a) (figure|table) (above|below)\b", text, re.I), page


def test_alt_texts_describe_the_figure_not_its_file(bundled_book):
    for page in PAGES:
        for img in _main(_soup(bundled_book, page)).select("img.hcc-figure"):
            alt = img.get("alt", "")
            assert len(alt.split()) >= 8, (page, alt)
            assert not re.fullmatch(r"[a-z0-9 ]+", alt), (page, alt)  # "ps overlap", "love plot"


# ------------------------------------------------------------------------------------------------ whole numbers
#: A whole count or a summary of whole data written with a decimal: "34.0 pairs", "4.0 cycles", "63.0 years".
WHOLE_WITH_DECIMAL = re.compile(r"\b\d+\.0 (?:pairs|cycles|years|patients|events|deaths|sets)\b")


def whole_number_problems(soup: BeautifulSoup) -> list[str]:
    """Whole numbers written with '.0': in prose before a unit of whole things, and in the cells of a table row of
    prior cycles (whole data: a median or quartile is an integer or a half)."""
    main = _main(soup)
    problems = [m.group(0) for m in WHOLE_WITH_DECIMAL.finditer(_text(main))]
    for row in main.select("table.hcc-journal tr"):
        stub = row.select_one("th")
        if stub is not None and "cycles, median" in _text(stub):
            problems += [f"{_text(stub)}: {_text(c)}" for c in row.select("td") if re.search(r"\d\.0\b", _text(c))]
    return problems


def test_no_whole_number_is_printed_with_a_trailing_zero(bundled_book):
    # the API reference quotes the package's docstrings (which show, for instance, what is never printed)
    for page in (page for page in PAGES if not page.startswith("book/api/")):
        assert whole_number_problems(_soup(bundled_book, page)) == [], page
    soup = _soup(bundled_book, "notebooks/02_baseline")
    cycles = next(row for row in soup.select("table.hcc-journal tr")
                  if row.select_one("th") is not None and "cycles, median" in _text(row.select_one("th")))
    assert re.fullmatch(r"\d+(\.5)? \(\d+(\.5)?–\d+(\.5)?\)", _text(cycles.select("td")[0]))
    cycles.select("td")[0].string = "4.0 (3.0–6.0)"  # the injected defect
    soup.select_one("article.bd-article").append(BeautifulSoup("<p>a median of 34.0 pairs</p>", "html.parser"))
    problems = whole_number_problems(soup)
    assert "34.0 pairs" in problems and any("4.0 (3.0–6.0)" in p for p in problems)


# ------------------------------------------------------------------------------------------------ prose vs tables
def _table(soup: BeautifulSoup, number: str):
    for holder in soup.select(".hcc-journal-table"):
        caption = holder.select_one(".hcc-table-caption")
        if caption is not None and _text(caption).startswith(number + "."):
            return holder
    raise AssertionError(f"no {number} on the page")


def _rows(holder) -> list[tuple[str, str, list[str]]]:
    """(row group, stub, cells) of each body row of a journal table."""
    out, group = [], ""
    for row in holder.select("tbody tr"):
        if "hcc-group-row" in (row.get("class") or []):
            group = _text(row)
            continue
        out.append((group, _text(row.select_one("th")), [_text(c) for c in row.select("td")]))
    return out


def _number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match, pattern
    return int(match.group(1))


def prose_count_problems(pages: dict[str, BeautifulSoup]) -> list[str]:
    """Counts stated in the prose of a chapter against the table they refer to: deaths and progressions of
    Table 3 (by group and in total), matched pairs against Table 1's matched group sizes, third-line recipients
    against Supplementary Table 1, and the matched sets of Table 10.1 against the chapter's prose."""
    problems = []
    survival = pages["notebooks/05_survival"]
    table3 = _rows(_table(survival, "Table 3"))
    events = {}
    for group, stub, cells in table3:
        events.setdefault(group, {})[stub.lower()] = int(cells[1])
    text = _text(_main(survival))
    os_all = sum(events["Overall survival, All enrolled"].values())
    pfs_all = sum(events["Progression-free survival, All enrolled"].values())
    stated_os = _number(r"Among all enrolled patients, (\d+) died", text)
    stated_pfs = _number(r"and (\d+) progressed or died", text)
    if stated_os != os_all:
        problems.append(f"survival: prose {stated_os} deaths, Table 3 {os_all}")
    if stated_pfs != pfs_all:
        problems.append(f"survival: prose {stated_pfs} progressions or deaths, Table 3 {pfs_all}")

    baseline = pages["notebooks/02_baseline"]
    heads = [_text(th) for th in _table(baseline, "Table 1").select("th.hcc-col-head")]
    matched = [h for h in heads[len(heads) // 2:] if not h.startswith("Overall")]  # the PS-matched groups
    matched_sizes = {int(n) for n in re.findall(r"N = (\d+)", " ".join(matched))}
    intro_pairs = _number(r"After matching \( ?(\d+) ?pairs\)", _text(_main(pages["book/intro"])))
    matching_pairs = _number(r"formed (\d+)", _text(_main(pages["notebooks/03_matching"])))
    for where, pairs in (("introduction", intro_pairs), ("matching", matching_pairs)):
        if matched_sizes != {pairs}:
            problems.append(f"{where}: {pairs} pairs, Table 1's matched groups N = {sorted(matched_sizes)}")

    third = pages["notebooks/07_third_line"]
    any_third = next(cells for _, stub, cells in _rows(_table(third, "Supplementary Table 1"))
                     if stub == "Any third-line therapy")
    stated = [int(n) for n in re.findall(r"(\d+) \w+ patients and (\d+) \w+ patients received a third-line regimen",
                                         _text(_main(third)))[0]]
    shown = [int(cell.split(" ")[0]) for cell in any_third[:2]]
    if stated != shown:
        problems.append(f"third line: prose {stated} recipients, Supplementary Table 1 {shown}")

    choices = pages["notebooks/10_matching_choices"]
    sets = {stub: int(cells[0]) for _, stub, cells in _rows(_table(choices, "Table 10.1"))}
    prose = _text(_main(choices))
    for stub, pattern in (("Cycles in the score", r"propensity model forms (\d+) sets"),
                          ("Exact on MVI and EHM", r"define\) forms (\d+) sets"),
                          ("Both", r"Both changes together leave (\d+) sets")):
        if _number(pattern, prose) != sets[stub]:
            problems.append(f"matching choices: prose {_number(pattern, prose)} sets for {stub!r}, Table 10.1 "
                            f"{sets[stub]}")
    return problems


PROSE_PAGES = ["notebooks/05_survival", "notebooks/02_baseline", "notebooks/03_matching", "book/intro",
               "notebooks/07_third_line", "notebooks/10_matching_choices"]


def test_each_count_stated_in_prose_equals_the_table_it_refers_to(bundled_book):
    pages = {page: _soup(bundled_book, page) for page in PROSE_PAGES}
    assert prose_count_problems(pages) == []
    # injected defect: Table 3 counts one death more than the prose (the data page's 21/60 against 20/61)
    cell = _rows(_table(pages["notebooks/05_survival"], "Table 3"))[0][2][1]
    first = _table(pages["notebooks/05_survival"], "Table 3").select("tbody tr:not(.hcc-group-row)")[0]
    first.select("td")[1].string = str(int(cell) + 1)
    assert any(p.startswith("survival: prose") for p in prose_count_problems(pages))


def test_the_data_page_says_its_events_by_group_are_a_plan_not_the_cohort_s_counts(bundled_book):
    text = _text(_main(_soup(bundled_book, "book/data")))
    assert "planned before calibration: OS deaths" in text and "those of Table 3, not this plan" in text


# ------------------------------------------------------------------------------------------------ references
def reference_label_problems(references: BeautifulSoup, cited: set[str]) -> list[str]:
    """Labels of the reference list that the text never writes ("Aus09"), and citations of the text without a
    label in the list."""
    labels = {re.sub(r"^\[|\]$", "", re.sub(r"\s+", " ", label.get_text()).strip())
              for label in references.select(".citation .label, dt.label")}
    problems = [f"list label not used by the text: {label!r}" for label in sorted(labels - cited)]
    problems += [f"citation without a list label: {label!r}" for label in sorted(cited - labels)]
    return problems


def cited_labels(bundled_book) -> set[str]:
    """What the text's citations say ("Chon et al., 2024"), over every page."""
    cited = set()
    for page in PAGES:
        for link in _main(_soup(bundled_book, page)).select('a[href*="references.html#"]'):
            if "_modules/" in link["href"]:  # the API reference's source link of report/manuscript/references.py
                continue
            cited.add(re.sub(r"\s+", " ", link.get_text()).strip())
    return cited


def test_reference_list_is_labelled_as_the_text_cites(bundled_book):
    cited = cited_labels(bundled_book)
    assert "Chon et al., 2024" in cited and "Wu et al., 2025" in cited
    references = _soup(bundled_book, "book/references")
    assert reference_label_problems(references, cited) == []
    text = re.sub(r" ([,.:])", r"\1", _text(_main(references)))  # markup joined with spaces
    assert "Letter to the editor on “Sorafenib vs. Lenvatinib" in text  # the title's case kept
    assert "Wu, Chang, Jhang, and Gau" in text and "Clinical and Molecular Hepatology, 31(1), 2025" in text
    label = references.select_one(".citation .label, dt.label")
    label.string = "[Aus09]"  # the injected defect: pybtex's alpha label
    assert any("Aus09" in p for p in reference_label_problems(references, cited))
