"""The study's identity in the configuration (``study:``): its title, short title and authors, shown on every page
of the book, in its files and in its citation file; the defaults are this project's reproduction of the article."""
from __future__ import annotations

import datetime as _dt
import re
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from hcc_utils.config.section import Section


def _no_markup(text: str) -> str:
    """``text`` if it holds no ``<`` or ``>``: the book's theme writes titles and author names into pages as HTML
    in places no setting reaches (the search page's title), so they may not carry markup."""
    if "<" in text or ">" in text:
        raise ValueError("may not contain < or > (the book writes it into every page)")
    return text


ORCID_PATTERN = re.compile(r"^(https://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$")


class Author(Section):
    """An author of the study's book: a person written 'Family, Given' or an organisation by its name."""

    name: str = Field(description="A person as 'Family, Given' (e.g. 'Chon, Young Eun'); an organisation (no "
                                  "comma) as its name.")
    affiliation: Optional[str] = Field(None, description="The person's institution (a person only).")
    orcid: Optional[str] = Field(None, description="ORCID iD, 0000-0002-1825-0097 or https://orcid.org/0000-0002-"
                                                   "1825-0097.")

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an author's name may not be empty")
        return _no_markup(value)

    @field_validator("orcid")
    @classmethod
    def _orcid(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not ORCID_PATTERN.match(value.strip()):
            raise ValueError("not an ORCID iD such as 0000-0002-1825-0097")
        return value

    @model_validator(mode="after")
    def _person_affiliated(self):
        if self.affiliation is not None and not self.is_person:
            raise ValueError(f"{self.name!r} has an affiliation but is written as an organisation: write a person "
                             "as 'Family, Given'")
        return self

    @property
    def is_person(self) -> bool:
        """A person ('Family, Given'), not an organisation."""
        return "," in self.name

    @property
    def display_name(self) -> str:
        """The name as a byline prints it: 'Young Eun Chon' for 'Chon, Young Eun', an organisation as written."""
        if not self.is_person:
            return self.name.strip()
        family, given = (part.strip() for part in self.name.split(",", 1))
        return f"{given} {family}".strip()

    @property
    def orcid_url(self) -> Optional[str]:
        """The ORCID iD as a URL (the Citation File Format's form), or None."""
        return None if self.orcid is None else "https://orcid.org/" + ORCID_PATTERN.match(self.orcid.strip()).group(2)


EMAIL_PATTERN = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class CorrespondingAuthor(Section):
    """The author to whom a manuscript's correspondence goes (its title page)."""

    name: str = Field(description="One of study.authors' names, written as there ('Family, Given').")
    email: Optional[str] = Field(None, description="E-mail address printed on the manuscript's title page.")
    address: Optional[str] = Field(None, description="Postal address printed on the manuscript's title page.")

    @field_validator("email")
    @classmethod
    def _email(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not EMAIL_PATTERN.match(value.strip()):
            raise ValueError("not an e-mail address such as jane.doe@example.org")
        return value

    @field_validator("name", "address")
    @classmethod
    def _plain(cls, value: Optional[str]) -> Optional[str]:
        return None if value is None else _no_markup(value)


class StudyIdentity(Section):
    """The study's identity: its title and authors on every page, in the exports and in the book's CITATION.cff
    (defaults: this project's reproduction of the article)."""

    title: str = Field("Sorafenib vs lenvatinib after atezolizumab/bevacizumab failure — a re-runnable study",
                       description="Title of the book: every page's header and browser title, the submission files.")
    short_title: str = Field("Sorafenib vs lenvatinib after atezolizumab/bevacizumab failure",
                             description="A shorter title: the introduction's heading, hence the name of the first "
                                         "page in the navigation.")
    authors: list[Author] = Field([Author(name="The hcc-study contributors")], min_length=1,
                                  description="Authors in byline order, each with name, and optionally affiliation "
                                              "and orcid.")
    description: Optional[str] = Field(
        "A re-runnable reproduction of Chon et al., Clin Mol Hepatol 2024: second-line sorafenib or lenvatinib in "
        "advanced hepatocellular carcinoma after atezolizumab/bevacizumab failure.",
        description="One or two sentences on the study (the citation file's abstract); the default "
                    "describes this project's reproduction, so change it with the title.")
    keywords: list[str] = Field(["hepatocellular carcinoma", "sorafenib", "lenvatinib", "reproducible research",
                                 "Jupyter Book"], description="Keywords of the citation file and of the DOCX/XLSX files (the "
                                                        "default: this project's).")
    license: Optional[str] = Field("MIT", description="Licence of the book as an SPDX identifier (MIT, CC-BY-4.0 "
                                                      "...); null for none stated.")
    version: Optional[str] = Field(None, description="Version of the study's book, if it has one.")
    date: Optional[_dt.date] = Field(None, description="Date of release, YYYY-MM-DD (never the build's date, "
                                                       "so that rebuilds are identical).")
    corresponding_author: Optional[CorrespondingAuthor] = Field(
        None, description="The manuscript's corresponding author ({name, email, address}; name: one of authors); "
                          "null: the first author, without address.")
    manuscript_floats: Literal["end", "in_place"] = Field(
        "end", description="Where `hcc-study export --manuscript` puts tables and figures: end (after the "
                           "references, each on its own page, as journals ask) or in_place (after the paragraph "
                           "of Results that first cites them).")

    @model_validator(mode="after")
    def _corresponding_is_an_author(self):
        if self.corresponding_author is not None:
            names = [author.name.strip() for author in self.authors]
            if self.corresponding_author.name.strip() not in names:
                raise ValueError(f"corresponding_author.name {self.corresponding_author.name!r} is not one of the "
                                 f"authors ({'; '.join(names)})")
        return self

    @property
    def corresponding(self) -> Author:
        """The corresponding author: the one named by ``corresponding_author``, else the first author."""
        if self.corresponding_author is None:
            return self.authors[0]
        return next(a for a in self.authors if a.name.strip() == self.corresponding_author.name.strip())

    @field_validator("title", "short_title")
    @classmethod
    def _titled(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a title may not be empty")
        return _no_markup(value)
