"""The book's own prose, read back for the manuscript: the paragraphs of the article's chapters that state the run's
numbers, with every ``{glue:text}`` replaced by the value the book shows, so that the book and the manuscript cannot
disagree.

The chapters are the run's executed notebooks (``executed/notebooks/01_*.ipynb`` ... ``08_*``, the article's order);
the values are the notebooks' own glue outputs, rendered by myst-nb's functions (:func:`glue_values`), as the book
renders them. Kept: every paragraph that quotes a glued value, outside a fenced block and outside the teaching
sections (:data:`TEACHING_HEADINGS`); the ``{glue:figure}`` blocks give the figures' numbers and legends. MyST roles
become manuscript text (:func:`resolve_roles`): ``{numref}`` a figure's number, ``{cite}`` stays for
:mod:`hcc_utils.report.manuscript.references` to number.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

#: The article's chapters: executed notebooks whose name starts with these numbers, in this order.
ARTICLE_CHAPTERS = ("01", "02", "03", "04", "05", "06", "07", "08")
#: Sections of a chapter written for trainees, not results: their paragraphs (and their subsections') stay out of
#: the manuscript.
TEACHING_HEADINGS = ("for trainees", "step by step", "exercise")
#: A figure's number as the article numbers it ("Figure 2", "Supplementary Figure 1"); the book's own figures are
#: numbered by chapter ("Figure 3.1") and are not the article's.
ARTICLE_FIGURE = re.compile(r"^((?:Supplementary )?Figure \d+)\.\s+", re.S)
GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`([^`]+)`")
NUMREF_ROLE = re.compile(r"\{(?:numref|ref)\}`([^`]+)`")
FENCE = re.compile(r"^(`{3,}|:{3,})\s*(\{([\w:-]+)\})?\s*(\S*)\s*$")


class SourceError(ValueError):
    """A chapter's prose names a glued value or a label the run does not have."""


@dataclass
class FigureBlock:
    """A figure of a chapter: its glue key (the file's stem), label, number and legend (values glued)."""

    key: str
    label: str
    number: str
    legend: str
    chapter: str


@dataclass
class Chapter:
    """One of the article's chapters: its title, its paragraphs of results (values glued, roles resolved except
    ``{cite}``) and its figures."""

    notebook: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[FigureBlock] = field(default_factory=list)


def glue_values(notebook: dict) -> dict[str, str]:
    """``{name: text}`` of every value the notebook glued, as ``{glue:text}`name``` shows it (myst-nb's own
    extraction and plain-text formatting)."""
    from myst_nb.core.variables import format_plain_text
    from myst_nb.ext.glue import extract_glue_data_cell
    from nbformat import from_dict

    values = {}
    for cell in from_dict(notebook).cells:
        if cell.cell_type != "code":
            continue
        for key, output in extract_glue_data_cell(cell):
            if "text/plain" in output.data:
                values[key] = format_plain_text(output.data["text/plain"], "")
    return values


def fill_glue(text: str, values: dict[str, str], where: str) -> str:
    """``text`` with every ``{glue:text}`key``` (or ``key:format``) replaced by its value.

    Raises
    ------
    SourceError
        A key the notebook did not glue (the book's strict build would have failed too).
    """
    from myst_nb.core.variables import format_plain_text

    def value(match: re.Match) -> str:
        key, _, spec = match.group(1).partition(":")
        if key not in values:
            raise SourceError(f"{where}: {{glue:text}}`{key}` was not glued by the notebook")
        return format_plain_text(repr(values[key]), spec) if spec else values[key]

    return GLUE_ROLE.sub(value, text)


def resolve_roles(text: str, labels: dict[str, str]) -> str:
    """MyST roles as manuscript text: ``{numref}`fig-2``` -> "Figure 2" (``labels``: label -> number), inline code
    as plain text; ``{cite}`` is left for the reference list to number."""
    def number(match: re.Match) -> str:
        target = match.group(1)
        shown = re.match(r"(.*?)\s*<(.+)>$", target)
        label = shown.group(2) if shown else target
        return labels.get(label, shown.group(1) if shown else label)

    text = NUMREF_ROLE.sub(number, text)
    return re.sub(r"(?<!\})`([^`]+)`", r"\1", text)


def _blocks(source: str):
    """(kind, text) of a markdown cell in order: ("heading", title), ("paragraph", text), ("fence", (directive,
    argument, body))."""
    lines = source.splitlines()
    index, paragraph = 0, []

    def flush():
        if paragraph:
            yield "paragraph", " ".join(line.strip() for line in paragraph)
            paragraph.clear()

    while index < len(lines):
        line = lines[index]
        fence = FENCE.match(line)
        if fence and fence.group(1):
            yield from flush()
            marker, body, index = fence.group(1), [], index + 1
            while index < len(lines) and lines[index].strip() != marker:
                body.append(lines[index])
                index += 1
            yield "fence", (fence.group(3) or "", fence.group(4), body)
        elif re.match(r"^#{1,6}\s", line):
            yield from flush()
            yield "heading", (len(line) - len(line.lstrip("#")), line.lstrip("#").strip())
        elif not line.strip():
            yield from flush()
        else:
            paragraph.append(line)
        index += 1
    yield from flush()


def _figure(directive_body: list[str], key: str, values: dict[str, str], chapter: str) -> FigureBlock | None:
    options = {m.group(1): m.group(2).strip() for m in (re.match(r"^:(\w+):(.*)$", line) for line in directive_body)
               if m}
    caption = " ".join(line.strip() for line in directive_body if not line.startswith(":")).strip()
    caption = fill_glue(caption, values, f"{chapter}, figure {key}")
    numbered = ARTICLE_FIGURE.match(caption)
    if not numbered:
        return None
    return FigureBlock(key, options.get("name", key), numbered.group(1), caption[numbered.end():].strip(), chapter)


def read_chapter(path: Path) -> Chapter:
    """The prose and figures of one executed chapter notebook."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    values = glue_values(notebook)
    chapter = Chapter(path.stem, path.stem)
    teaching_level = None  # the level of the teaching section the text is in (its subsections included), or None
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for kind, block in _blocks(source):
            teaching = teaching_level is not None
            if kind == "heading":
                level, title = block
                if level == 1:
                    chapter.title = fill_glue(title, values, path.name)
                if teaching_level is None or level <= teaching_level:
                    teaching_level = level if title.lower().startswith(TEACHING_HEADINGS) else None
            elif kind == "fence":
                directive, argument, body = block
                if directive == "glue:figure" and not teaching:
                    figure = _figure(body, argument, values, path.name)
                    if figure is not None:
                        chapter.figures.append(figure)
            elif not teaching and GLUE_ROLE.search(block):
                chapter.paragraphs.append(fill_glue(block, values, path.name))
    labels = {figure.label: figure.number for figure in chapter.figures}
    chapter.paragraphs = [resolve_roles(text, labels) for text in chapter.paragraphs]
    for figure in chapter.figures:
        figure.legend = resolve_roles(figure.legend, labels)
    return chapter


def read_chapters(executed_dir: Path) -> list[Chapter]:
    """The article's chapters of a run (``executed/notebooks``), in the article's order."""
    paths = sorted(p for p in Path(executed_dir).glob("*.ipynb") if p.name[:2] in ARTICLE_CHAPTERS)
    if not paths:
        raise SourceError(f"no executed chapter of the article in {executed_dir}")
    return [read_chapter(path) for path in paths]
