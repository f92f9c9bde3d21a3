"""The reference list's labels as the text cites: author-year ("Chon et al., 2024"), never pybtex's alpha keys.

The text cites with sphinxcontrib-bibtex's ``author_year`` reference style ("[Chon et al., 2024]"), but the
bibliography directive formats its list with a pybtex style whose labels are alpha keys ("[Aus09]",
"[Lettertteditor25]" for an entry without personal authors). This Sphinx extension registers the label style
``author_year`` and the formatting style ``author_year`` (pybtex's ``plain`` with those labels); ``_config.yml``
selects it (``bibtex_default_style``), so each entry of the list carries the label its citations show.
"""
from __future__ import annotations

import re

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting import toplevel
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.formatting.unsrt import date, pages
from pybtex.style.template import field, first_of, join, optional, optional_field, sentence, tag, words
from pybtex.style.labels import BaseLabelStyle

#: The name of the label and formatting styles (``bibtex_default_style: author_year``).
STYLE_NAME = "author_year"


def _plain(text: str) -> str:
    """A BibTeX name or field as text: braces (grouping) dropped, LaTeX accents rendered ('Hern{\\'a}n' ->
    'Hernán', 'G{\\o}tzsche' -> 'Gøtzsche'), as the citations in the text write them."""
    return re.sub(r"[{}]", "", Text.from_latex(str(text)).render_as("text")).strip()


def author_year_label(entry) -> str:
    """'Chon et al., 2024', 'Austin and Stuart, 2015', 'Austin, 2011': the surnames (prefixes included, 'von Elm')
    of the authors, or editors, or the organisation when there is no person, and the year; as
    sphinxcontrib-bibtex's ``author_year`` reference style writes a citation."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_plain(" ".join(person.prelast_names + person.last_names)) for person in persons]
    names = [name for name in names if name.lower() != "others"] or \
        [_plain(entry.fields.get("organization", entry.fields.get("title", "Anonymous")))]
    if len(names) >= 3 or (len(persons) == 2 and "others" in str(persons[1]).lower()):
        who = f"{names[0]} et al."
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = names[0]
    return f"{who}, {_plain(entry.fields.get('year', 'n.d.'))}"


class AuthorYearLabelStyle(BaseLabelStyle):
    """pybtex label style: :func:`author_year_label` for each entry."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield author_year_label(entry)


class AuthorYearStyle(PlainStyle):
    """pybtex's ``plain`` formatting with author-year labels; an article without pages (a letter known by its
    volume and issue only) keeps its volume and issue, which ``plain`` drops with the missing pages."""

    default_label_style = STYLE_NAME

    def get_article_template(self, e):
        volume_and_pages = first_of[
            optional[join[field("volume"), optional["(", field("number"), ")"], ":", pages]],
            optional[join[field("volume"), optional["(", field("number"), ")"]]],
            words["pages", pages],
        ]
        return toplevel[
            self.format_names("author"),
            self.format_title(e, "title"),
            sentence[tag("em")[field("journal")], optional[volume_and_pages], date],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]


def setup(app) -> dict:
    """Sphinx extension entry point: register the styles before sphinxcontrib-bibtex formats the list."""
    register_plugin("pybtex.style.labels", STYLE_NAME, AuthorYearLabelStyle, force=True)
    register_plugin("pybtex.style.formatting", STYLE_NAME, AuthorYearStyle, force=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
