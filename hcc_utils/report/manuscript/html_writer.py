"""The manuscript as one HTML document for printing (``hcc_utils.pipeline.manuscript`` prints it to PDF with the
computer's Chromium): the same content and order as the DOCX, A4 pages numbered, the stamp in every page's bottom
margin. Every text is escaped; figures are the run's PNG files, embedded."""
from __future__ import annotations

import base64
import html

from hcc_utils.report.manuscript.content import Manuscript, Section
from hcc_utils.report.manuscript.docx_writer import INLINE, title_page_lines
from hcc_utils.report.submission import needs_landscape
from hcc_utils.tables.journal import table_html

STYLE = """
@page { size: A4; margin: 22mm 20mm 24mm 20mm;
  @bottom-right { content: counter(page); font: 9pt serif; }
  @bottom-left { content: "%(stamp)s"; font: 6.5pt sans-serif; width: 80%%; vertical-align: top; } }
@page wide { size: A4 landscape; }
.landscape { page: wide; }
body { font: 11pt/1.5 "Times New Roman", "Liberation Serif", serif; color: #000; }
h1.title { font-size: 17pt; line-height: 1.25; margin: 0 0 10pt; }
h2 { font-size: 13pt; margin: 16pt 0 4pt; break-after: avoid; }
h3 { font-size: 11pt; font-style: italic; margin: 10pt 0 2pt; break-after: avoid; }
p { margin: 0 0 6pt; text-align: justify; }
.titlepage p { text-align: left; overflow-wrap: anywhere; }
.stamp { font-weight: bold; border: 1pt solid #000; padding: 4pt 6pt; }
.page { break-before: page; }
.references li { font-size: 10pt; margin-bottom: 2pt; text-align: left; }
figure { margin: 0 0 14pt; break-inside: avoid; }
figure img { width: 100%%; }
figcaption { font-size: 10pt; }
.hcc-journal-table { margin: 0 0 16pt; break-inside: avoid; font-size: 9pt; line-height: 1.25; }
.hcc-journal-table table { border-collapse: collapse; width: 100%%; border-top: 1pt solid #000;
  border-bottom: 1pt solid #000; }
.hcc-journal-table thead tr:last-child th { border-bottom: 0.5pt solid #000; }
.hcc-journal-table th, .hcc-journal-table td { padding: 1pt 4pt; text-align: left; vertical-align: top; }
.hcc-journal-table td.hcc-num { text-align: center; }
.hcc-table-caption { font-size: 10pt; }
.hcc-table-number { font-weight: bold; }
.hcc-table-notes, .hcc-table-notes li { font-size: 8pt; }
.checklist { border-collapse: collapse; font-size: 8.5pt; line-height: 1.25; width: 100%%; }
.checklist th, .checklist td { border: 0.5pt solid #000; padding: 1pt 3pt; text-align: left; vertical-align: top; }
"""


def inline(text: str) -> str:
    """Escaped text with ``**bold**`` and ``*italic*`` as ``<strong>``/``<em>``."""
    out = []
    for piece in INLINE.split(text):
        if piece.startswith("**"):
            out.append(f"<strong>{html.escape(piece.strip('*'))}</strong>")
        elif piece.startswith("*") and len(piece) > 1:
            out.append(f"<em>{html.escape(piece.strip('*'))}</em>")
        else:
            out.append(html.escape(piece))
    return "".join(out)


def _float_html(manuscript: Manuscript, number: str, heading: str = "") -> str:
    """A table or figure (``heading``: the HTML of a heading printed on the same page, before it)."""
    if number in manuscript.tables:
        table = manuscript.tables[number]
        # a table the Word writer sets on a landscape page is printed on one too
        return (f'<div class="landscape">{heading}{table_html(table)}</div>' if needs_landscape(table)
                else heading + table_html(table))
    figure = manuscript.figures[number]
    image = ("<p><em>[The run saved no image of this figure.]</em></p>" if figure.image is None else
             f'<img alt="{html.escape(number)}" src="data:image/png;base64,'
             f'{base64.b64encode(figure.image.read_bytes()).decode()}">')
    return (f"{heading}<figure>{image}<figcaption><strong>{html.escape(number)}.</strong> {inline(figure.legend)}"
            "</figcaption></figure>")


def _section_html(manuscript: Manuscript, section: Section, level: int, placed: set[str]) -> list[str]:
    parts = [f"<h{level + 1}>{html.escape(section.title)}</h{level + 1}>"]
    parts += [f"<p>{inline(text)}</p>" for text in section.paragraphs]
    for sub in section.subsections:
        parts += _section_html(manuscript, sub, level + 1, placed)
    if manuscript.floats_in_place:
        for number in section.floats:
            if number not in placed:
                placed.add(number)
                parts.append(_float_html(manuscript, number))
    return parts


def manuscript_html(manuscript: Manuscript) -> str:
    """The manuscript as one self-contained HTML document."""
    stamp_text = " · ".join(manuscript.stamp.lines()) if manuscript.stamp else ""
    css = STYLE % {"stamp": stamp_text.replace("\\", "\\\\").replace('"', '\\"')}
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(manuscript.title)}</title>",
             f'<meta name="description" content="{html.escape(manuscript.stamp.compact() if manuscript.stamp else "")}">',
             f"<style>{css}</style></head><body>",
             f'<h1 class="title">{html.escape(manuscript.title)}</h1>']
    if manuscript.stamp is not None:
        parts.append(f'<p class="stamp">{html.escape(manuscript.stamp.statement)}</p>')
    parts.append('<div class="titlepage">')
    parts += [f"<p><strong>{html.escape(label)}:</strong> {html.escape(text)}</p>"
              for label, text in title_page_lines(manuscript)]
    parts.append("</div>")
    parts.append('<section class="page"><h2>Abstract</h2>')
    parts += [f"<p><strong>{html.escape(label)}:</strong> {inline(text)}</p>" for label, text in manuscript.abstract]
    parts.append(f"<p><strong>Keywords:</strong> {html.escape('; '.join(manuscript.keywords))}</p></section>")
    placed: set[str] = set()
    parts.append('<section class="page">')
    for section in manuscript.sections:
        parts += _section_html(manuscript, section, 1, placed)
    parts.append('<h2>References</h2><ol class="references">')
    parts += [f"<li>{html.escape(entry)}</li>" for entry in manuscript.references]
    parts.append("</ol></section>")
    remaining = [number for number in manuscript.float_order() if number not in placed]
    for heading, numbers in (("Tables", [n for n in remaining if n in manuscript.tables]),
                             ("Figures", [n for n in remaining if n in manuscript.figures])):
        if numbers:
            parts.append('<section class="page">')
            parts += [_float_html(manuscript, number, f"<h2>{heading}</h2>" if index == 0 else "")
                      for index, number in enumerate(numbers)]
            parts.append("</section>")
    parts.append('<section class="page"><h2>Appendix: reporting checklists</h2>')
    for name, rows in manuscript.checklists:
        parts.append(f'<h3>{html.escape(name)}</h3><table class="checklist"><thead><tr><th>Item</th><th>Topic</th>'
                     "<th>Recommendation</th><th>Section of this manuscript</th></tr></thead><tbody>")
        parts += ["<tr>" + "".join(f"<td>{html.escape(value)}</td>" for value in row) + "</tr>" for row in rows]
        parts.append("</tbody></table>")
    parts.append("</section></body></html>")
    return "\n".join(parts)
