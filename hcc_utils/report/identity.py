"""The study's identity as the book and its files show it: title, byline and the book's citation file, from the
configuration's ``study`` section (:class:`hcc_utils.config.schema.StudyIdentity`).

The repository's own ``CITATION.cff`` cites this project (hcc-study) and the article it reproduces; each run writes
the *book's* citation file (``html/CITATION.cff``) from the configuration, citing the configured study and listing
the project and the article as its references.
"""
from __future__ import annotations

from typing import Any

import yaml

from hcc_utils import __version__
from hcc_utils.config import REPO_ROOT, StudyConfig, as_config
from hcc_utils.config.identity import Author, StudyIdentity

#: Name of the book's citation file, at the root of the HTML (beside ``index.html``).
CITATION_FILE = "CITATION.cff"


def byline(study: StudyIdentity) -> str:
    """The authors as a byline prints them: 'Jane Doe', 'Jane Doe and John Roe', 'A, B and C'."""
    names = [author.display_name for author in study.authors]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def identity_texts(config: StudyConfig | dict | None) -> dict[str, str]:
    """Prose pieces of the study's identity for glue: ``study_title``, ``study_short_title``, ``study_byline``."""
    study = as_config(config).study
    return {"study_title": study.title, "study_short_title": study.short_title, "study_byline": byline(study)}


def _cff_author(author: Author) -> dict[str, Any]:
    """One author in the Citation File Format: a person with family and given names, or an entity by name."""
    if author.is_person:
        family, given = (part.strip() for part in author.name.split(",", 1))
        entry: dict[str, Any] = {"family-names": family}
        if given:
            entry["given-names"] = given
        if author.affiliation:
            entry["affiliation"] = author.affiliation
    else:
        entry = {"name": author.name.strip()}
    if author.orcid_url:
        entry["orcid"] = author.orcid_url
    return entry


def _project_references() -> list[dict[str, Any]]:
    """The project (hcc-study, at the version that built the book) and the article it reproduces, from the
    repository's ``CITATION.cff`` (the one place they are written)."""
    project = yaml.safe_load((REPO_ROOT / CITATION_FILE).read_text(encoding="utf-8"))
    software = {key: project[key] for key in ("type", "title", "authors", "license", "repository-code", "url")
                if key in project}  # the repository's address when CITATION.cff gives one
    software["version"] = __version__
    return [software, project["preferred-citation"]]


def citation_cff(config: StudyConfig | dict | None) -> str:
    """The book's citation file (Citation File Format 1.2.0) from the configuration's ``study`` section.

    It cites the configured study's book (title, authors with affiliation and ORCID, abstract, keywords, licence,
    version and release date where given) and lists as references the software that built it and the article whose
    analysis it re-runs. Deterministic: no build date.
    """
    study = as_config(config).study
    cff: dict[str, Any] = {
        "cff-version": "1.2.0",
        "message": ("If you use this book, please cite it as below. It was built with hcc-study, which re-runs the "
                    "analysis of the article listed under references."),
        "type": "software",
        "title": study.title,
        "authors": [_cff_author(author) for author in study.authors],
    }
    optional = {"abstract": study.description, "keywords": list(study.keywords) or None, "license": study.license,
                "version": study.version, "date-released": study.date.isoformat() if study.date else None}
    cff.update({key: value for key, value in optional.items() if value})
    cff["references"] = _project_references()
    return ("# Citation metadata of this book (Citation File Format 1.2.0), written by hcc-study from the study's "
            "configuration.\n" + yaml.safe_dump(cff, sort_keys=False, allow_unicode=True, width=100))
