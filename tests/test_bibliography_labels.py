"""The reference list's labels (hcc_utils.pipeline.bibliography): author-year as the text cites, from the project's
own references.bib; pybtex's default alpha labels ("Aus09", "Lettertteditor25"), the defect of issue 24, differ."""
from __future__ import annotations

from pybtex.database import parse_file
from pybtex.style.labels.alpha import LabelStyle as AlphaLabels

from hcc_utils.config import REPO_ROOT
from hcc_utils.pipeline.bibliography import AuthorYearLabelStyle, author_year_label


def test_every_entry_is_labelled_by_its_authors_and_year():
    entries = parse_file(str(REPO_ROOT / "references.bib")).entries
    labels = {key: author_year_label(entry) for key, entry in entries.items()}
    assert labels["chon2024"] == "Chon et al., 2024"
    assert labels["letter2025"] == "Wu et al., 2025"  # its authors, not "Letter to the editor"
    assert labels["austin2011"] == "Austin, 2011"
    assert labels["austin2015iptw"] == "Austin and Stuart, 2015"
    assert labels["hernan2016"] == "Hernán and Robins, 2016"  # accents rendered, as the text writes them
    assert labels["eisenhauer2009"] == "Eisenhauer et al., 2009"
    assert list(AuthorYearLabelStyle().format_labels(entries.values())) == list(labels.values())
    alpha = dict(zip(entries, AlphaLabels().format_labels(entries.values())))
    assert alpha["austin2009"] == "Aus09" and alpha["austin2009"] != labels["austin2009"]


def test_the_letter_keeps_its_volume_and_issue_without_pages():
    """pybtex's plain style drops volume and issue with missing pages; the letter has no known pages."""
    from hcc_utils.pipeline import bibliography

    bibliography.setup(type("App", (), {})())  # registers the label style, as Sphinx does
    data = parse_file(str(REPO_ROOT / "references.bib"))
    formatted = {e.key: e.text.render_as("text")
                 for e in bibliography.AuthorYearStyle().format_bibliography(data, ["letter2025", "chon2024"]).entries}
    assert "Clinical and Molecular Hepatology, 31(1), 2025" in formatted["letter2025"]
    assert "Wu, Chang, Jhang, and Gau. Letter to the editor on “Sorafenib vs. Lenvatinib" in formatted["letter2025"]
    assert "30(3):345–359, 2024" in formatted["chon2024"]
