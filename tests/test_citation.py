"""CITATION.cff: valid Citation File Format 1.2.0, this project as software, the article as the preferred citation,
and the same references on the book's "How to cite" page."""
from __future__ import annotations

import re

import yaml

from hcc_utils.config import REPO_ROOT
from hcc_utils.pipeline.runner import toc_files

CFF = yaml.safe_load((REPO_ROOT / "CITATION.cff").read_text())


def test_citation_file_has_the_keys_cff_1_2_requires():
    assert CFF["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "type", "version", "license"):
        assert CFF.get(key), f"CITATION.cff lacks {key}"
    assert CFF["type"] == "software"
    assert all("name" in a or "family-names" in a for a in CFF["authors"])


def test_preferred_citation_is_the_article():
    article = CFF["preferred-citation"]
    assert article["type"] == "article"
    assert article["doi"] == "10.3350/cmh.2023.0553"
    assert (article["journal"], article["year"], article["volume"], article["issue"]) == (
        "Clinical and Molecular Hepatology", 2024, 30, 3)
    assert (article["start"], article["end"]) == (345, 359)
    names = [f"{a['family-names']} {''.join(w[0] for w in re.split(r'[ -]', a['given-names']))}"
             for a in article["authors"]]
    assert names[:3] == ["Chon YE", "Kim DY", "Kim MN"] and names[-1] == "Kim DY" and len(names) == 10
    assert article["title"].startswith("Sorafenib vs. Lenvatinib in advanced hepatocellular carcinoma")


def test_citation_file_agrees_with_the_bibliography_and_the_cite_page():
    bib = (REPO_ROOT / "references.bib").read_text()
    entry = bib[bib.index("@article{chon2024"):].split("\n}")[0]
    assert CFF["preferred-citation"]["doi"] in entry
    for author in CFF["preferred-citation"]["authors"]:
        assert f"{author['family-names']}, {author['given-names']}" in entry
    page = (REPO_ROOT / "book" / "cite.md").read_text()
    assert "{cite}`chon2024`" in page and CFF["preferred-citation"]["doi"] in page
    assert f"version = {{{CFF['version']}}}" in page
    assert "book/cite" in toc_files()
