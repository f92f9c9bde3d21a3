"""``hcc-study export --manuscript``: the manuscript draft (DOCX and PDF) of a built run.

The fast tests check the pieces on hand-made inputs (the conclusion sentence against P values and the configured
level, Vancouver numbering, the glue of a notebook, the configuration's new keys, the refusal without a run). The
slow tests export the manuscript of the session's bundled build and of a second generated cohort comparing other
regimens (``extra_build``), open the DOCX with python-docx and the PDF with pypdf, and check every number of the
abstract against ``results.csv`` by hand-rounding (not with the project's formatter), every table, figure and
reference cited and present, the configuration's title and regimens, the stamp, and that each Results paragraph
is the text the book shows.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import docx
import pandas as pd
import pytest
from pypdf import PdfReader

from hcc_utils.config import REPO_ROOT, ConfigError, as_config, parse_config
from hcc_utils.pipeline.cli import main
from hcc_utils.report.manuscript.checklists import AUTHORS
from hcc_utils.report.manuscript.references import Citations, ReferenceError
from hcc_utils.report.manuscript.source import SourceError, read_chapter
from hcc_utils.report.statements import conclusion_sentence, significance_phrase
from conftest import BUILD_CACHE, published, session_build, write_if_changed


# ----------------------------------------------------------------------------- the shared conclusion sentence

def _p_results(os_p: str, pfs_p: str, os_p_matched: str = "0.2", pfs_p_matched: str = "0.9") -> pd.DataFrame:
    rows = [("survival.os_logrank_p", os_p), ("survival.pfs_logrank_p", pfs_p),
            ("survival.os_logrank_p_matched", os_p_matched), ("survival.pfs_logrank_p_matched", pfs_p_matched)]
    return pd.DataFrame([{"id": key, "value": value, "status": "ok" if value != "NA" else "not estimable",
                          "kind": "p", "unit": "p", "section": "05_survival", "label": key} for key, value in rows])


def test_conclusion_sentence_says_no_significant_difference_exactly_when_p_is_at_or_above_the_level():
    config = as_config({"groups": {"treatment": "cabozantinib", "control": "ramucirumab"}})
    text = conclusion_sentence(_p_results("0.049", "0.05"), config)
    assert text.startswith("Among all enrolled patients, cabozantinib and ramucirumab showed a significant "
                           "difference in overall survival (P = 0.049) and no significant difference in "
                           "progression-free survival (P = 0.050)")
    assert "in the propensity-score-matched cohort, no significant difference in overall survival (P = 0.200)" in text
    assert text.endswith("at a significance level of 0.05.")
    # the configured level decides: at 0.01 the same P = 0.049 is no longer significant
    stricter = conclusion_sentence(_p_results("0.049", "0.05"), as_config({"significance_level": 0.01}))
    assert "no significant difference in overall survival (P = 0.049)" in stricter
    assert "at a significance level of 0.01." in stricter
    # a P that could not be estimated supports no statement
    assert "no estimable difference in overall survival (P not estimable)" in \
        conclusion_sentence(_p_results("NA", "0.5"), config)


def test_significance_phrase_at_the_boundary():
    assert significance_phrase(0.0499, 0.05, "OS") == "a significant difference in OS"
    assert significance_phrase(0.05, 0.05, "OS") == "no significant difference in OS"
    assert significance_phrase(float("nan"), 0.05, "OS") == "no estimable difference in OS"


# ----------------------------------------------------------------------------- references, glue, configuration

def test_citations_are_numbered_in_order_of_first_citation_and_listed_in_vancouver_style():
    citations = Citations()
    first = citations.number("Matching {cite}`austin2011` as MatchIt {cite}`ho2011,austin2011,kaplan1958`.")
    second = citations.number("Again {cite}`ho2011`; later {cite}`efron1977,kaplan1958,ho2011`.")
    assert first == "Matching [1] as MatchIt [1–3]."
    assert second == "Again [2]; later [2–4]."
    entries = citations.entries()
    assert [entry.split(" ")[0] for entry in entries] == ["Austin", "Ho", "Kaplan", "Efron"]
    assert entries[1].startswith("Ho DE, Imai K, King G, Stuart EA. MatchIt")  # Vancouver: initials, no dots
    assert "2011;42(8):1–28" in entries[1]


def test_a_citation_missing_from_the_bibliography_is_named():
    citations = Citations()
    citations.number("{cite}`austin2011` and {cite}`nobody1999`")
    with pytest.raises(ReferenceError, match="nobody1999"):
        citations.entries()


def _notebook(markdown: list[str], glued: dict[str, str]) -> dict:
    outputs = [{"output_type": "display_data", "metadata": {"scrapbook": {"name": key, "mime_prefix":
                                                                             "application/papermill.record/"}},
                "data": {"application/papermill.record/text/plain": repr(value)}} for key, value in glued.items()]
    cells = [{"cell_type": "code", "metadata": {}, "source": "glue()", "outputs": outputs, "execution_count": 1}]
    cells += [{"cell_type": "markdown", "metadata": {}, "source": text} for text in markdown]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_a_chapter_s_glued_paragraphs_are_read_with_their_values_and_teaching_sections_left_out(tmp_path):
    path = tmp_path / "05_survival.ipynb"
    path.write_text(json.dumps(_notebook([
        "# Survival\n\nIntro citing {cite}`chon2024`.",
        "```{glue:figure} figure2\n:name: fig-2\n\nFigure 2. Curves of {glue:text}`treatment`.\n```\n\n"
        "Median OS was {glue:text}`os` with {glue:text}`treatment` ({numref}`fig-2`).",
        "## For trainees: a box\n\nNot results: {glue:text}`os`.",
        "## Exercises\n\n### Exercise 1\n\nRecompute {glue:text}`os` by hand.",
        "## Results again\n\nSecond {glue:text}`os` paragraph.",
    ], {"os": "10.3 months", "treatment": "cabozantinib"})))
    chapter = read_chapter(path)
    assert chapter.title == "Survival"
    assert chapter.paragraphs == ["Median OS was 10.3 months with cabozantinib (Figure 2).",
                                  "Second 10.3 months paragraph."]
    assert [(f.number, f.legend, f.key) for f in chapter.figures] == [("Figure 2", "Curves of cabozantinib.", "figure2")]
    # a value the notebook did not glue is an error, as in the book's strict build
    path.write_text(json.dumps(_notebook(["Median {glue:text}`missing_key`."], {})))
    with pytest.raises(SourceError, match="missing_key"):
        read_chapter(path)


def test_the_corresponding_author_must_be_one_of_the_authors_and_errors_name_the_file_and_key(tmp_path, capsys):
    study = {"authors": [{"name": "Doe, Jane", "affiliation": "Uni A"}, {"name": "Roe, John"}],
             "corresponding_author": {"name": "Roe, John", "email": "john.roe@example.org"},
             "manuscript_floats": "in_place"}
    config = parse_config({"study": study}, "mine.yml")
    assert config.study.corresponding.display_name == "John Roe"
    assert as_config(None).study.corresponding.display_name == "The hcc-study contributors"  # default: first author
    with pytest.raises(ConfigError, match=r"mine\.yml: key 'study': corresponding_author\.name 'Poe, Edgar' is not"):
        parse_config({"study": {**study, "corresponding_author": {"name": "Poe, Edgar"}}}, "mine.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("study:\n  corresponding_author: {name: 'The hcc-study contributors', email: not-an-address}\n"
                   "  manuscript_floats: sideways\n")
    assert main(["validate", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yml" in err and "study.corresponding_author.email" in err and "study.manuscript_floats" in err


def test_export_manuscript_without_a_built_run_exits_2(tmp_path, capsys):
    assert main(["export", "--out", str(tmp_path / "nothing"), "--manuscript"]) == 2
    assert "no published run" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the whole manuscript of a build

def _export(out: Path, destination: Path) -> tuple[docx.Document, Path, Path]:
    assert main(["export", "--out", str(out), "--to", str(destination), "--manuscript"]) == 0
    return docx.Document(destination / "manuscript.docx"), destination / "manuscript.pdf", published(out)


def _abstract(document) -> dict[str, str]:
    texts = [p.text for p in document.paragraphs]
    start = texts.index("Abstract")
    return {t.split(":", 1)[0]: t.split(":", 1)[1].strip() for t in texts[start + 1:start + 6] if ":" in t}


#: The abstract's results in the order it states them: result id and how it is written (by hand, not with the
#: project's formatter: counts whole, months and percentages to one decimal, P to three or "< 0.001").
ABSTRACT_ORDER = [("flow.eligible", "count"), ("flow.enrolled_treatment", "count"), ("flow.enrolled_control", "count"),
                  ("matching.pairs", "count")] + [
    (f"survival.{endpoint}_{what}{suffix}", kind)
    for suffix in ("", "_matched") for endpoint in ("os", "pfs")
    for what, kind in (("median_treatment", "1dp"), ("median_control", "1dp"), ("logrank_p", "p"))] + [
    ("response.orr_treatment", "1dp"), ("response.orr_control", "1dp"), ("response.orr_p", "p"),
    ("response.dcr_treatment", "1dp"), ("response.dcr_control", "1dp"), ("response.dcr_p", "p"),
    ("safety.g34_treatment", "1dp"), ("safety.g34_control", "1dp"), ("safety.g34_p", "p")]


def _hand_written(value: str, kind: str) -> str:
    if value == "NA":
        return "not reached" if kind == "1dp" else "not estimable"
    number = float(value)
    if kind == "count":
        return str(int(number))
    if kind == "p":
        return "P < 0.001" if number < 0.001 else f"P = {number:.3f}"
    return f"{number:.1f}"


def check_manuscript(document, pdf: Path, run: Path, config) -> None:
    results = pd.read_csv(run / "results.csv", dtype=str, keep_default_na=False).set_index("id")
    texts = [p.text for p in document.paragraphs]
    body = "\n".join(texts)

    # title, regimens and the stamp
    manifest = json.loads((run / "manifest.json").read_text())
    stamp = manifest["stamp"]
    assert texts[0] == config.study.title and document.core_properties.title == config.study.title
    assert config.study.short_title in body
    statement = "SYNTHETIC DATA" if stamp["synthetic"] else "the author's own cohort"
    assert statement in texts[1]
    assert stamp["data_sha256"] in body and stamp["config_sha256"] in body and stamp["commit"] in body
    assert stamp["data_sha256"] in document.core_properties.comments
    assert stamp["data_sha256"] in document.sections[0].footer.paragraphs[0].text

    # every number of the abstract's results equals results.csv, in order
    abstract = _abstract(document)
    assert list(abstract) == ["Background", "Methods", "Results", "Conclusions", "Keywords"]
    treatment, control = config.groups.treatment, config.groups.control
    assert treatment in abstract["Results"] and control in abstract["Results"]
    shown = re.findall(r"P [<=] \d\.\d+|not reached|not estimable|\d+(?:\.\d+)?",
                       abstract["Results"].replace("Grade 3–4", "").replace("first-line", ""))
    expected = [_hand_written(results.loc[key, "value"], kind) for key, kind in ABSTRACT_ORDER]
    assert shown == expected
    # the conclusions state what the P values support at the configured level
    for key, words in (("survival.os_logrank_p", "overall survival"), ("survival.pfs_logrank_p", "progression-free")):
        p = float(results.loc[key, "value"])
        verdict = "a significant" if p < config.significance_level else "no significant"
        assert re.search(rf"{verdict} difference in {words}", abstract["Conclusions"].split(";")[0]), (key, p)

    # every table and figure is present and cited in the text before the reference list
    text_part = body[body.index("\nIntroduction\n"):body.index("\nReferences\n")]
    captions = [t for t in texts if re.match(r"(Supplementary )?(Table|Figure) \d+\. ", t)]
    numbers = [re.match(r"((?:Supplementary )?(?:Table|Figure) \d+)\.", t).group(1) for t in captions]
    assert {"Table 1", "Table 2", "Table 3", "Table 4", "Table 5", "Figure 1", "Figure 2", "Figure 3"} <= set(numbers)
    assert len(numbers) == len(set(numbers))
    cited_items = named_items(text_part)
    for number in numbers:
        assert number in cited_items, f"{number} is not cited in the text"
    figures = [n for n in numbers if "Figure" in n]
    assert len(document.inline_shapes) == len(figures)

    # every reference cited is listed, and every listed one is cited
    references = texts[texts.index("References") + 1:]
    listed = [int(m.group(1)) for m in (re.match(r"(\d+)\. ", t) for t in references) if m]
    assert listed == list(range(1, len(listed) + 1)) and listed
    cited = set()
    for group in re.findall(r"\[([\d,–]+)\]", text_part + "\n".join(captions)):
        for piece in group.split(","):
            low, _, high = piece.partition("–")
            cited.update(range(int(low), int(high or low) + 1))
    assert cited == set(listed)

    # the STROBE and RECORD appendix names sections that exist
    checklist = [row.cells[3].text for table in document.tables[-2:] for row in table.rows[1:]]
    headings = {"Title page", "Abstract", "Tables", "Figures", AUTHORS, *(t for t in texts if len(t) < 80)}
    for sections in checklist:
        for section in sections.split("; "):
            assert section.split(" — ")[-1] in headings, section

    # the PDF: pages, title and stamp in its text and metadata
    reader = PdfReader(pdf)
    assert len(reader.pages) > 3
    first = re.sub(r"\s+", " ", reader.pages[0].extract_text())
    assert config.study.title.split(" — ")[0] in first
    assert ("SYNTHETIC DATA" if stamp["synthetic"] else "the author's own cohort") in first
    assert reader.metadata["/Title"] == config.study.title and stamp["data_sha256"] in reader.metadata["/Subject"]


def named_items(text: str) -> set[str]:
    """Every table and figure a text names: "Table 3", "Figures 2 and 3", "Supplementary Figures 1–4"."""
    named = set()
    for kind, plural, numbers in re.findall(r"((?:Supplementary )?(?:Table|Figure))(s?) ((?:\d+(?:–\d+)?(?:, | and )?)+)",
                                            text):
        for piece in re.split(r", | and ", numbers.strip(", ")):
            if not piece:
                continue
            low, _, high = piece.partition("–")
            named.update(f"{kind} {n}" for n in range(int(low), int(high or low) + 1))
    return named


def test_named_items_reads_ranges_and_lists():
    assert named_items("as shown (Table 3; Figures 2 and 3) and Supplementary Figures 1–4, Tables 1, 4 and 5") == {
        "Table 3", "Figure 2", "Figure 3", "Supplementary Figure 1", "Supplementary Figure 2", "Supplementary Figure 3",
        "Supplementary Figure 4", "Table 1", "Table 4", "Table 5"}


def test_tables_and_figures_are_named_as_a_text_cites_them():
    from hcc_utils.report.manuscript.content import name_items

    assert name_items(["Table 3", "Figure 2", "Figure 3"]) == "Table 3; Figures 2 and 3"
    assert name_items(["Supplementary Table 1", "Supplementary Table 2"] + [f"Supplementary Figure {n}" for n in
                                                                            range(1, 5)]) == \
        "Supplementary Tables 1 and 2; Supplementary Figures 1–4"
    assert name_items(["Table 1", "Table 3", "Table 5"]) == "Tables 1, 3 and 5"


def _book_text(run: Path, page: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((run / "html" / "notebooks" / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article") or soup
    for note in article.select("[hidden]"):  # the article's value beside a compared number (pipeline.comparison)
        note.decompose()
    return re.sub(r"\s+", " ", article.get_text()).replace("\u2019", "'")  # Sphinx's smart quotes


def check_results_are_the_book_s(document, run: Path) -> None:
    """Each Results paragraph of the manuscript is the text of the book's page (the table and figure citations the
    manuscript adds at its end set aside)."""
    texts = [p.text for p in document.paragraphs]
    start, end = texts.index("Results"), texts.index("Discussion")
    chapters = {json.loads(p.read_text())["cells"][0]["source"][0].lstrip("# ").strip(): p.stem
                for p in (run / "executed" / "notebooks").glob("0[1-8]_*.ipynb")}
    page = None
    checked = 0
    for text in texts[start + 1:end]:
        if text in chapters:
            page = _book_text(run, chapters[text])
            continue
        core = re.sub(r" \((?:Supplementary )?(?:Table|Figure)s? [^()]*\)\.$", ".", text)
        sentences = [s for s in re.split(r"(?<=\.) ", core) if len(s) > 20]
        for sentence in sentences:
            assert re.sub(r"\s+", " ", sentence).strip(" .") in page, sentence
            checked += 1
    assert checked >= 8


@pytest.mark.slow
def test_bundled_run_manuscript_docx_and_pdf(bundled_book, tmp_path):
    document, pdf, run = _export(bundled_book, tmp_path / "submission")
    config = as_config(json.loads((run / "manifest.json").read_text())["config"])
    check_manuscript(document, pdf, run, config)
    check_results_are_the_book_s(document, run)
    # the book's introduction states the same conclusion sentence as the manuscript's abstract
    intro = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", (run / "html" / "book" / "intro.html").read_text()))
    assert _abstract(document)["Conclusions"] in intro.replace("&#8217;", "'").replace("’", "'")

    # the checks fail on injected defects: a wrong number in the abstract, a reference missing from the list
    wrong = docx.Document(tmp_path / "submission" / "manuscript.docx")
    paragraph = next(p for p in wrong.paragraphs if p.text.startswith("Results:"))
    eligible = results_value(run, "flow.eligible")
    paragraph.text = paragraph.text.replace(f"Of {eligible} ", f"Of {int(eligible) + 1} ", 1)
    with pytest.raises(AssertionError):
        check_manuscript(wrong, pdf, run, config)
    short = docx.Document(tmp_path / "submission" / "manuscript.docx")
    texts = [p.text for p in short.paragraphs]
    last = short.paragraphs[max(i for i, t in enumerate(texts) if re.match(r"\d+\. ", t))]
    last._element.getparent().remove(last._element)
    with pytest.raises(AssertionError, match="assert"):
        check_manuscript(short, pdf, run, config)


def results_value(run: Path, key: str) -> str:
    results = pd.read_csv(run / "results.csv", dtype=str, keep_default_na=False).set_index("id")
    return results.loc[key, "value"]


def _other_regimens_build() -> Path:
    """A second generated cohort (other seed) whose compared regimens are cabozantinib and ramucirumab, with a
    configured title, authors with affiliations, a corresponding author and tables and figures in place."""
    folder = BUILD_CACHE / "manuscript-other"
    data, config = folder / "other_regimens.csv", folder / "other_regimens.yml"

    def prepare():
        from hcc_utils.synthetic.generator import generate_cohort

        cohort = generate_cohort(seed=2718)
        cohort["second_line_regimen"] = cohort["second_line_regimen"].replace(
            {"lenvatinib": "cabozantinib", "sorafenib": "ramucirumab"})
        write_if_changed(data, cohort.to_csv(index=False).encode())
        write_if_changed(config, (
            f"data: {data.name}\ngroups: {{treatment: cabozantinib, control: ramucirumab}}\n"
            "study:\n  title: Cabozantinib or ramucirumab after immunotherapy\n  short_title: Cabozantinib or ramucirumab\n"
            "  description: Second-line cabozantinib or ramucirumab after atezolizumab plus bevacizumab.\n"
            "  authors:\n    - {name: 'Doe, Jane', affiliation: Hospital A}\n"
            "    - {name: 'Roe, John', affiliation: Hospital B}\n"
            "  corresponding_author: {name: 'Roe, John', email: john.roe@example.org}\n"
            "  keywords: [cabozantinib, ramucirumab]\n  manuscript_floats: in_place\n").encode())

    return session_build("manuscript-other", ["--config", str(config)], prepare=prepare)


@pytest.mark.slow
@pytest.mark.extra_build
def test_other_regimens_manuscript_names_the_configured_study(tmp_path):
    out = _other_regimens_build()
    document, pdf, run = _export(out, tmp_path / "submission")
    config = as_config(json.loads((run / "manifest.json").read_text())["config"])
    assert config.groups.treatment == "cabozantinib"
    check_manuscript(document, pdf, run, config)
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Jane Doe 1, John Roe 2" in body and "Hospital B" in body
    assert "John Roe, john.roe@example.org" in body
    assert "lenvatinib" not in body.split("\nReferences\n")[0].replace("Chon et al.", "")
    # in place: Table 1 comes before the Discussion
    assert body.index("Table 1. ") < body.index("\nDiscussion\n")


def test_export_manuscript_of_a_run_without_executed_notebooks_exits_2_and_writes_nothing(tmp_path, capsys):
    from test_export import fake_run

    out = tmp_path / "out"
    fake_run(out, REPO_ROOT / "data" / "synthetic_cohort.csv")  # a run of an older layout: no executed/ folder
    assert main(["export", "--out", str(out), "--manuscript"]) == 2
    assert "kept no executed notebooks" in capsys.readouterr().err
    assert not (out / "submission").exists()


def test_methods_are_written_from_the_configuration():
    from hcc_utils.report.manuscript.methods import methods_sections

    config = parse_config({"groups": {"treatment": "cabozantinib", "control": "ramucirumab"},
                           "matching": {"caliper": None, "ratio": 2, "order": "random",
                                        "covariates": ["age", "child_pugh_b"]},
                           "baseline": {"categorical_test": "fisher_if_sparse"}, "seed": 99,
                           "cox": {"selection_p": 0.1, "forced": ["ecog_2"]}, "significance_level": 0.01,
                           "bootstrap": {"replicates": 250}}, "mine.yml")
    sections = dict(methods_sections(config, ["05_survival", "13_bootstrap"], synthetic=False))
    matching = sections["Propensity-score matching"][0]
    assert "logistic regression on Age and Child-Pugh B" in matching
    assert "matched to 2 ramucirumab patients (1:2)" in matching and "in random order (seed 99), without a caliper" in matching
    statistics = " ".join(sections["Outcomes and statistical analysis"])
    assert "or Fisher's exact test when an expected count is below 5 (Table 1)" in statistics
    assert "those with P < 0.1 entered one multivariable model" in statistics and "ECOG 2 entered the multivariable" in statistics
    assert "P < 0.01 was considered significant" in statistics
    assert sections["Sensitivity analyses"] == ["Sensitivity analyses comprised a bootstrap of the matched estimates with 250 "
                                                "replicates, each re-fitting the propensity model and re-matching "
                                                "{cite}`austin2014bootstrap`."]
    assert "the authors' own cohort" in sections["Study design and patients"][0]
    # a run without the chapters beyond the article states no sensitivity analysis
    assert "Sensitivity analyses" not in dict(methods_sections(config, ["05_survival"], synthetic=True))
