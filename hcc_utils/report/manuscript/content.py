"""The whole manuscript of a run as one model (:class:`Manuscript`), which the DOCX and HTML writers render.

Every number comes from the run: the abstract's from ``results.csv`` written as the result registry says
(:func:`hcc_utils.report.presentation.result_text`, the function the book's glue uses), the Results' from the
book's own glued paragraphs (:mod:`hcc_utils.report.manuscript.source`), the conclusions from the sentence the book's
introduction glues (:func:`hcc_utils.report.statements.conclusion_sentence`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hcc_utils.config import StudyConfig
from hcc_utils.report.journal_table import JournalTable
from hcc_utils.report.manuscript.checklists import RECORD, STROBE
from hcc_utils.report.manuscript.methods import abstract_methods, methods_sections
from hcc_utils.report.manuscript.references import Citations
from hcc_utils.report.manuscript.source import Chapter, read_chapters
from hcc_utils.report.presentation import p_statement, result_text
from hcc_utils.report.provenance import Stamp
from hcc_utils.report.statements import conclusion_sentence
from hcc_utils.report.submission import article_tables, read_tables

#: Said where the draft leaves the writing to the authors (Introduction, Discussion).
AUTHORS_NOTE = "[To be written by the authors: {what}.]"


@dataclass
class Section:
    """A heading, its paragraphs (text with ``**bold**``/``*italic*``), its subsections, and the tables and figures
    first cited in it (placed after it when ``study.manuscript_floats`` is ``in_place``)."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    subsections: list["Section"] = field(default_factory=list)
    floats: list[str] = field(default_factory=list)


@dataclass
class Figure:
    number: str
    legend: str
    image: Path | None


@dataclass
class Manuscript:
    title: str
    short_title: str
    authors: list[tuple[str, list[int]]]
    affiliations: list[str]
    corresponding: str
    keywords: list[str]
    stamp: Stamp | None
    abstract: list[tuple[str, str]]
    abstract_ids: list[str]
    sections: list[Section]
    tables: dict[str, JournalTable]
    figures: dict[str, Figure]
    references: list[str]
    checklists: list[tuple[str, list[tuple[str, str, str, str]]]]
    floats_in_place: bool
    word_counts: dict[str, int] = field(default_factory=dict)

    def float_order(self) -> list[str]:
        """Every table, then every figure, in journal order (main before supplementary)."""
        return [*self.tables, *self.figures]

    def section_names(self) -> set[str]:
        """Every section as the checklists name it ("Methods — Software")."""
        names = {"Title page", "Abstract", "References", "Tables", "Figures"}
        for section in self.sections:
            names.add(section.title)
            names.update(f"{section.title} — {sub.title}" for sub in section.subsections)
        return names


def words(text: str) -> int:
    """Words of a text as a word processor counts them (runs of non-space characters)."""
    return len(re.findall(r"\S+", re.sub(r"[*_]", "", text)))


def _figure_key(number: str) -> tuple:
    digits = re.search(r"\d+", number)
    return ("Supplementary" in number, int(digits.group()) if digits else 0)


class _Abstract:
    """The abstract's results, each number written from ``results.csv`` and its id kept (for the tests)."""

    def __init__(self, results: pd.DataFrame):
        self.results, self.ids = results, []

    def v(self, key: str) -> str:
        self.ids.append(key)
        return result_text(self.results, key, prose=True)

    def p(self, key: str) -> str:
        self.ids.append(key)
        return p_statement(result_text(self.results, key))


def abstract_results(results: pd.DataFrame, config: StudyConfig) -> tuple[str, list[str]]:
    """The abstract's Results paragraph and the result ids it quotes."""
    a = _Abstract(results)
    t, c = config.groups.treatment, config.groups.control
    text = (f"Of {a.v('flow.eligible')} patients who stopped first-line atezolizumab plus bevacizumab, "
            f"{a.v('flow.enrolled_treatment')} received {t} and {a.v('flow.enrolled_control')} {c}; matching "
            f"formed {a.v('matching.pairs')} pairs. Median OS was {a.v('survival.os_median_treatment')} with {t} and "
            f"{a.v('survival.os_median_control')} with {c} ({a.p('survival.os_logrank_p')}), median PFS "
            f"{a.v('survival.pfs_median_treatment')} and {a.v('survival.pfs_median_control')} "
            f"({a.p('survival.pfs_logrank_p')}). In the matched cohort, median OS was "
            f"{a.v('survival.os_median_treatment_matched')} and {a.v('survival.os_median_control_matched')} "
            f"({a.p('survival.os_logrank_p_matched')}), median PFS {a.v('survival.pfs_median_treatment_matched')} and "
            f"{a.v('survival.pfs_median_control_matched')} ({a.p('survival.pfs_logrank_p_matched')}). The objective "
            f"response rate was {a.v('response.orr_treatment')} and {a.v('response.orr_control')} "
            f"({a.p('response.orr_p')}), the disease control rate {a.v('response.dcr_treatment')} and "
            f"{a.v('response.dcr_control')} ({a.p('response.dcr_p')}). Grade 3–4 adverse events occurred in "
            f"{a.v('safety.g34_treatment')} and {a.v('safety.g34_control')} of patients ({a.p('safety.g34_p')}).")
    return text, a.ids


def _cites(text: str, numbers: list[str]) -> bool:
    """Whether ``text`` names a table or figure of ``numbers`` ("Figures 2 and 3" names Figure 3)."""
    return any(re.search(rf"\b{re.escape(n)}\b", text) for n in numbers)


def name_items(numbers: list[str]) -> str:
    """Tables and figures named as a text cites them: ["Table 3", "Figure 2", "Figure 3"] -> "Table 3; Figures 2
    and 3"; three or more consecutive numbers as a range ("Supplementary Figures 1–4")."""
    groups: dict[str, list[int]] = {}
    for number in numbers:
        kind, _, digits = number.rpartition(" ")
        groups.setdefault(kind, []).append(int(digits))
    parts = []
    for kind, digits in groups.items():
        if len(digits) == 1:
            parts.append(f"{kind} {digits[0]}")
        elif len(digits) > 2 and digits == list(range(digits[0], digits[-1] + 1)):
            parts.append(f"{kind}s {digits[0]}–{digits[-1]}")
        else:
            parts.append(f"{kind}s " + ", ".join(map(str, digits[:-1])) + f" and {digits[-1]}")
    return "; ".join(parts)


def _results_section(chapter: Chapter, tables: list[str], figures: list[str]) -> Section:
    """A chapter's Results: its paragraphs, the first one citing every table and figure of the chapter that the
    text does not name yet."""
    section = Section(chapter.title, list(chapter.paragraphs), floats=[*tables, *figures])
    text = " ".join(section.paragraphs)
    missing = [number for number in (*tables, *figures) if not _cites(text, [number])]
    if missing:
        cited = name_items(missing)
        if section.paragraphs:
            first = section.paragraphs[0]
            section.paragraphs[0] = (first[:-1] + f" ({cited})." if first.endswith(".") else f"{first} ({cited})")
        else:
            section.paragraphs.append(f"The results are given in {cited}.")
    return section


def build_manuscript(run: Path, config: StudyConfig, stamp: Stamp | None) -> Manuscript:
    """The manuscript of the run published in ``run`` (its ``results.csv``, executed notebooks, saved tables and
    figures) under ``config``."""
    from hcc_utils.report.recorder import load_results

    results = load_results(run / "results.csv")
    study = config.study
    chapters = read_chapters(run / "executed" / "notebooks")
    tables_by_chapter: dict[str, list[str]] = {}
    tables: dict[str, JournalTable] = {}
    found = read_tables(run / "sections")
    chapter_of = {id(table): path.parents[1].name for path, table in found}
    for table in article_tables([t for _, t in found]):
        tables[table.number] = table
        tables_by_chapter.setdefault(chapter_of[id(table)], []).append(table.number)
    figures = {}
    for chapter in chapters:
        for block in chapter.figures:
            png = run / "sections" / chapter.notebook / "figures" / f"{block.key}.png"
            figures[block.number] = Figure(block.number, block.legend, png if png.is_file() else None)
    figures = dict(sorted(figures.items(), key=lambda item: _figure_key(item[0])))

    citations = Citations()
    chapters_run = sorted(p.stem for p in (run / "executed" / "notebooks").glob("*.ipynb"))
    synthetic = bool(stamp.synthetic) if stamp else False
    introduction = Section("Introduction", [
        (study.description or study.title),
        AUTHORS_NOTE.format(what="the background, the rationale and the objectives of the study")])
    methods = Section("Methods", subsections=[Section(title, paragraphs)
                                              for title, paragraphs in methods_sections(config, chapters_run, synthetic)])
    results_section = Section("Results", subsections=[
        _results_section(ch, tables_by_chapter.get(ch.notebook, []), [f.number for f in ch.figures])
        for ch in chapters])
    conclusion = conclusion_sentence(results, config)
    discussion = Section("Discussion", [conclusion, AUTHORS_NOTE.format(
        what="the key results against the objectives, the limitations, the interpretation and the generalisability")])
    sections = [introduction, methods, results_section, discussion]
    for section in sections:  # citations numbered in reading order
        section.paragraphs = [citations.number(text) for text in section.paragraphs]
        for sub in section.subsections:
            sub.paragraphs = [citations.number(text) for text in sub.paragraphs]
    for figure in figures.values():
        figure.legend = citations.number(figure.legend)

    abstract_text, abstract_ids = abstract_results(results, config)
    abstract = [("Background", study.description or study.title), ("Methods", abstract_methods(config)),
                ("Results", abstract_text), ("Conclusions", conclusion)]
    affiliations: list[str] = []
    authors = []
    for author in study.authors:
        marks = []
        if author.affiliation:
            if author.affiliation not in affiliations:
                affiliations.append(author.affiliation)
            marks.append(affiliations.index(author.affiliation) + 1)
        authors.append((author.display_name, marks))
    corresponding = study.corresponding.display_name
    if study.corresponding_author is not None:
        corresponding = ", ".join(part for part in (corresponding, study.corresponding_author.address,
                                                    study.corresponding_author.email) if part)
    checklists = [("STROBE statement (cohort studies)", [(i, topic, text, "; ".join(where))
                                                         for i, topic, text, where in STROBE]),
                  ("RECORD statement (routinely collected health data)", [(i, topic, text, "; ".join(where))
                                                                           for i, topic, text, where in RECORD])]
    manuscript = Manuscript(study.title, study.short_title, authors, affiliations, corresponding,
                            list(study.keywords), stamp, abstract, abstract_ids, sections, tables, figures,
                            citations.entries(), checklists, study.manuscript_floats == "in_place")
    main_text = [p for s in sections for p in s.paragraphs + [q for sub in s.subsections for q in sub.paragraphs]]
    manuscript.word_counts = {"abstract": sum(words(text) for _, text in abstract),
                              "main text": sum(words(text) for text in main_text)}
    return manuscript


def author_line(manuscript: Manuscript) -> str:
    """The byline as plain text (affiliation numbers after each name)."""
    return ", ".join(name + ("" if not marks else " " + ",".join(map(str, marks)))
                     for name, marks in manuscript.authors)
