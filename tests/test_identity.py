"""The study's identity comes from the configuration (``study:``): the book's title and authors on every page,
its citation file, and the errors of a badly written ``study`` section."""
from __future__ import annotations

import json

import pytest
import yaml

from hcc_utils import __version__
from hcc_utils.config import REPO_ROOT, ConfigError, parse_config
from hcc_utils.pipeline.book import EXTRA_DIR, _book_config, _wanted_sources
from hcc_utils.report.identity import CITATION_FILE, byline, citation_cff, identity_texts

STUDY = {"title": "Cabozantinib vs regorafenib after atezolizumab/bevacizumab: a cohort of two centres",
         "short_title": "Cabozantinib vs regorafenib",
         "authors": [{"name": "Doe, Jane", "affiliation": "Test University Hospital", "orcid": "0000-0002-1825-0097"},
                     {"name": "Roe, John"}, {"name": "HCC Study Group"}],
         "keywords": ["cabozantinib", "regorafenib"], "license": "CC-BY-4.0", "version": "1.2", "date": "2025-05-01"}


def _run_dir(tmp_path, study: dict | None):
    """A run folder with the manifest the book's configuration is read from."""
    config = parse_config({"study": study} if study else {}, "test")
    run = tmp_path / "run"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"data": str(REPO_ROOT / "data" / "synthetic_cohort.csv"),
                                                   "config": config.to_dict()}))
    return run


def test_the_book_carries_the_configured_title_and_authors_on_every_page(tmp_path):
    """Jupyter Book writes ``title`` into every page's header and browser title; the footer names the authors."""
    book = _book_config(_run_dir(tmp_path, STUDY), REPO_ROOT)
    assert book["title"] == STUDY["title"]
    assert book["author"] == "Jane Doe, John Roe and HCC Study Group"
    assert book["copyright"] == "2025"
    assert book["sphinx"]["config"]["html_short_title"] == "Cabozantinib vs regorafenib"
    assert EXTRA_DIR in book["sphinx"]["config"]["html_extra_path"]
    assert book["html"]["announcement"].startswith("Every result in this book")  # the banner is kept
    # the theme writes the navbar's title and the authors as HTML: escaped there (Sphinx escapes the <title>)
    marked = _book_config(_run_dir(tmp_path / "marked", {"title": "Lenvatinib & sorafenib",
                                                         "authors": [{"name": "Smith & Co"}]}), REPO_ROOT)
    assert marked["title"] == "Lenvatinib & sorafenib" and marked["author"] == "Smith &amp; Co"
    assert marked["sphinx"]["config"]["html_theme_options"]["logo"]["text"] == "Lenvatinib &amp; sorafenib"
    (tmp_path / "default").mkdir()
    default = _book_config(_run_dir(tmp_path / "default", None), REPO_ROOT)
    assert default["title"] == yaml.safe_load((REPO_ROOT / "_config.yml").read_text())["title"]  # the project's


def test_each_run_writes_the_book_s_citation_file_beside_its_pages(tmp_path):
    sources = _wanted_sources(_run_dir(tmp_path, STUDY), REPO_ROOT)
    cff = yaml.safe_load(sources[f"{EXTRA_DIR}/{CITATION_FILE}"])
    assert cff["title"] == STUDY["title"]
    assert yaml.safe_load(sources["_config.yml"])["title"] == STUDY["title"]


def test_the_citation_file_is_cff_1_2_and_cites_the_study_with_the_article_and_project_as_references():
    cff = yaml.safe_load(citation_cff(parse_config({"study": STUDY}, "test")))
    for key in ("cff-version", "message", "title", "authors", "type"):  # what CFF 1.2.0 requires
        assert cff[key], key
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["authors"] == [
        {"family-names": "Doe", "given-names": "Jane", "affiliation": "Test University Hospital",
         "orcid": "https://orcid.org/0000-0002-1825-0097"},
        {"family-names": "Roe", "given-names": "John"}, {"name": "HCC Study Group"}]
    assert (cff["license"], cff["version"], cff["date-released"], cff["keywords"]) == (
        "CC-BY-4.0", "1.2", "2025-05-01", ["cabozantinib", "regorafenib"])
    project = yaml.safe_load((REPO_ROOT / "CITATION.cff").read_text())
    software, article = cff["references"]
    assert (software["title"], software["version"]) == (project["title"], __version__)
    assert article == project["preferred-citation"] and article["doi"] == "10.3350/cmh.2023.0553"
    # the defaults: this project's reproduction of the article, with no release date or version invented
    default = yaml.safe_load(citation_cff(None))
    assert default["title"] == parse_config({}, "test").study.title and "date-released" not in default
    assert citation_cff(None) == citation_cff(None)  # no build date: rebuilds are identical


def test_identity_texts_for_the_pages():
    texts = identity_texts(parse_config({"study": STUDY}, "test"))
    assert texts == {"study_title": STUDY["title"], "study_short_title": "Cabozantinib vs regorafenib",
                     "study_byline": "Jane Doe, John Roe and HCC Study Group"}
    assert byline(parse_config({}, "test").study) == "The hcc-study contributors"


def test_a_badly_written_study_section_is_refused_with_every_problem_at_once():
    given = {"study": {"title": " ", "short_title": "<script>", "date": "May 2025",
                       "authors": [{"nmae": "Doe, Jane"}, {"name": "Roe, John", "orcid": "12"}]}}
    with pytest.raises(ConfigError) as error:
        parse_config(given, "my_study.yml")
    message = str(error.value)
    for expected in ("unknown key 'study.authors[0].nmae' (did you mean 'study.authors[0].name'?)",
                     "key 'study.title': a title may not be empty", "key 'study.authors.1.orcid': not an ORCID iD",
                     "key 'study.short_title': may not contain < or >",
                     "key 'study.date'"):
        assert expected in message, message
    assert all(line.startswith("my_study.yml: ") for line in message.splitlines())
    with pytest.raises(ConfigError, match="has an affiliation but is written as an organisation"):
        parse_config({"study": {"authors": [{"name": "HCC Study Group", "affiliation": "Somewhere"}]}}, "test")
    with pytest.raises(ConfigError, match="study.authors"):
        parse_config({"study": {"authors": []}}, "test")  # a book has at least one author
