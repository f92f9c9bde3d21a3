"""End-to-end: the whole book from a clean state, on the bundled cohort and on a second generated cohort.

These are the slowest tests (a few minutes together): each executes every notebook with papermill and builds the
Jupyter Book strictly. Run only the fast suite with ``pytest -m "not slow"``. Each build (bundled, second cohort,
no pair) is made once per session into ``.cache/test-builds/<name>`` by the runner, which re-executes whatever the
current code, data or notebooks change and re-uses only verified outputs (``tests/conftest.py``); the bundled build is
shared with the browser, identical-builds and export tests.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from hcc_utils.pipeline.cli import main
from hcc_utils.config import REPO_ROOT
from hcc_utils.pipeline.runner import toc_files
from conftest import BUILD_CACHE, published, session_build, write_if_changed

pytestmark = pytest.mark.slow

EXPECTED_FIGURES = {
    "notebooks/01_cohort_flow": ["figure1_flow"],
    "notebooks/03_matching": ["ps_overlap", "love_plot"],
    "notebooks/05_survival": ["figure2", "figure3"],
    "notebooks/06_predictors": ["forest_multivariable"],
    "notebooks/07_third_line": [f"supp_figure{n}" for n in "1234"],
    "notebooks/08_safety": ["adverse_events_dot_chart"],
    "notebooks/10_matching_choices": ["caliper_sweep"],
    "notebooks/11_weighting": ["weighted_love_plot", "weighted_km_iptw", "weighted_km_overlap"],
    "notebooks/13_bootstrap": ["boot_hr_figure"],
}
EXPECTED_TABLES = {
    "notebooks/02_baseline": "Table 1. Baseline characteristics",
    "notebooks/04_responses": "Table 2. Best overall response",
    "notebooks/05_survival": "Table 3. Overall and progression-free survival",
    "notebooks/06_predictors": "Table 4. Predictors of overall and progression-free survival",
    "notebooks/07_third_line": "Supplementary Table 1",
    "notebooks/08_safety": "Table 5. Treatment-related adverse events",
    "notebooks/09_matched_analyses": "Unpaired and paired analyses of the propensity-score-matched cohort",
    "notebooks/10_matching_choices": "Matched sets, balance and hazard ratios under other ways to match",
    "notebooks/13_bootstrap": "Bootstrap of the matched estimates",
}


@pytest.fixture(scope="module")
def marker_cohort():
    """A second generated cohort (other seed, other size) whose ids carry a marker, to find any leak of rows."""
    from hcc_utils.synthetic.generator import generate_cohort

    cohort = generate_cohort(seed=4242, n_scale=1.5)
    cohort["patient_id"] = [f"LEAKMARK{i:05d}" for i in range(len(cohort))]
    # Move every date a century on, so no patient's date can coincide with a date the book states as a constant
    # (the synthetic generator's calendar window) or of the build (the About page prints the commit's date).
    for column in [c for c in cohort.columns if c.endswith("_date")]:
        shifted = pd.to_datetime(cohort[column], errors="coerce") + pd.DateOffset(years=100)  # empty stays empty
        cohort[column] = shifted.dt.strftime("%Y-%m-%d").where(shifted.notna(), "")
    # a fixed path: the data file's path is part of the configuration, hence of the runner's cache key
    path = write_if_changed(BUILD_CACHE / "marker-data" / "marker_cohort.csv", cohort.to_csv(index=False).encode())
    return path, cohort


def _tree_state(folder: Path) -> dict:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*")} if folder.exists() else {}


@pytest.fixture(scope="module")
def marker_book(marker_cohort):
    default_before = _tree_state(REPO_ROOT / "_build")
    out = session_build("marker", ["--data", str(marker_cohort[0])])
    assert _tree_state(REPO_ROOT / "_build") == default_before, "building elsewhere touched the default book"
    return out


def _html(out: Path, page: str) -> str:
    return (published(out) / "html" / f"{page}.html").read_text()


@pytest.mark.portable  # the end-to-end build in portable mode too (CI)
def test_bundled_build_has_one_page_per_toc_entry(bundled_book):
    assert (published(bundled_book) / "html" / "index.html").is_file()
    for page in toc_files():
        assert (published(bundled_book) / "html" / f"{page}.html").is_file(), page
    assert (published(bundled_book) / "results.csv").is_file() and (published(bundled_book) / "analysis.csv").is_file()
    assert not (bundled_book / ".staging").exists()


def test_bundled_build_shows_every_table_and_figure(bundled_book):
    for page, names in EXPECTED_FIGURES.items():
        html = _html(bundled_book, page)
        assert html.count("<img") >= len(names), page
        for name in names:
            assert (published(bundled_book) / "sections" / Path(page).name / "figures" / f"{name}.png").is_file()
            assert (published(bundled_book) / "sections" / Path(page).name / "figures" / f"{name}.svg").is_file()
    for page, caption in EXPECTED_TABLES.items():
        text = re.sub(r"<[^>]+>", "", _html(bundled_book, page))  # the caption's number is a span of its own
        assert caption in text, (page, caption)


@pytest.mark.portable  # the end-to-end build in portable mode too (CI)
def test_bundled_build_records_every_published_number(bundled_book):
    from hcc_utils.reproduction.roles import align_targets
    from hcc_utils.reproduction.targets import load_targets

    results = pd.read_csv(published(bundled_book) / "results.csv", dtype=str, keep_default_na=False)
    run_ids = {key: a.run_id for key, a in align_targets(load_targets()).items()}  # the article's ids, by role
    missing = sorted(key for key, run_id in run_ids.items() if run_id not in set(results["id"]))
    assert not missing, f"published numbers without a computed value: {missing}"


def test_bundled_build_says_the_data_are_synthetic_on_every_page(bundled_book):
    for page in toc_files():
        assert "synthetic" in _html(bundled_book, page), page


def test_prose_reports_the_computed_numbers(bundled_book):
    results = pd.read_csv(published(bundled_book) / "results.csv", dtype=str).set_index("id")["value"]
    html = _html(bundled_book, "notebooks/03_matching")
    assert re.search(rf"formed\s*(<[^>]+>\s*)*{int(results['matching.pairs'])}\b", html)


@pytest.mark.extra_build
def test_second_cohort_builds_unchanged_and_reports_its_own_numbers(marker_book, bundled_book):
    ours = pd.read_csv(published(marker_book) / "results.csv", dtype=str).set_index("id")["value"]
    assert int(ours["flow.eligible"]) != int(pd.read_csv(published(bundled_book) / "results.csv", dtype=str)
                                            .set_index("id")["value"]["flow.eligible"])
    flow_page = _html(marker_book, "notebooks/01_cohort_flow")
    assert re.search(rf"Of\s*(<[^>]+>\s*)*{ours['flow.eligible']}\b", flow_page)
    assert "marker_cohort.csv" in _html(marker_book, "book/about")


@pytest.mark.extra_build
def test_no_patient_row_reaches_the_built_book(marker_book, marker_cohort):
    _, cohort = marker_cohort
    dates = set()
    for column in [c for c in cohort.columns if c.endswith("_date")]:
        dates |= {str(v) for v in cohort[column].dropna() if str(v)}
    leaks = []
    for path in (published(marker_book) / "html").rglob("*"):
        if path.is_file() and path.suffix in {".html", ".js", ".txt", ".ipynb", ".json", ".csv"}:
            text = path.read_text(errors="ignore")
            if "LEAKMARK" in text:
                leaks.append(f"{path.name}: patient id")
            found = [d for d in dates if d in text]
            if found:
                leaks.append(f"{path.name}: dates {found[:3]}")
    assert not leaks, leaks


@pytest.mark.portable  # the end-to-end build in portable mode too (CI)
def test_rebuild_reuses_unchanged_notebooks_and_keeps_results(bundled_book, tmp_path, capsys):
    # on a copy (its links are relative): other tests of the session, in other workers, read the shared build
    copy = tmp_path / "book"
    shutil.copytree(bundled_book, copy, symlinks=True, ignore=shutil.ignore_patterns(".lock", "submission"))
    before = (published(copy) / "results.csv").read_text(), (published(copy) / "analysis.csv").read_text()
    capsys.readouterr()
    assert main(["build", "--out", str(copy)]) == 0
    assert "executing" not in capsys.readouterr().err, "an unchanged notebook was executed again"
    assert ((published(copy) / "results.csv").read_text(), (published(copy) / "analysis.csv").read_text()) == before


#: The title and authors the no-pair build configures (its ``study`` section).
NO_PAIRS_TITLE = "A study whose matching forms no pair & other odd things"


def _no_pairs_build() -> Path:
    config = BUILD_CACHE / "no-pairs-config" / "no_pairs.yml"
    text = (f"data: {REPO_ROOT / 'data' / 'synthetic_cohort.csv'}\nmatching:\n  caliper: 0.0000001\n"
            f"study:\n  title: \"{NO_PAIRS_TITLE}\"\n  short_title: No pairs\n  authors:\n    - name: Doe, Jane\n")
    return session_build("no-pairs", ["--config", str(config)], prepare=lambda: write_if_changed(config, text.encode()))


@pytest.mark.extra_build
def test_a_configured_study_names_every_page_and_the_book_s_citation_file():
    """The configuration's ``study`` section, not the article, titles the book: every page's header and browser
    title, the introduction's heading and byline, and the CITATION.cff beside the pages (the title is escaped)."""
    out = _no_pairs_build()
    shown = NO_PAIRS_TITLE.replace("&", "&amp;")
    for page in toc_files():
        html = _html(out, page)
        assert re.search(rf"<title>[^<]*&#8212; {re.escape(shown)}</title>", html), page
        assert f'<p class="title logo__title">{shown}</p>' in html, page  # the navbar's title, escaped
    intro = re.sub(r"<[^>]+>", "", _html(out, "book/intro"))
    assert "No pairs#" in intro and "Jane Doe" in intro
    cff = yaml.safe_load((published(out) / "html" / "CITATION.cff").read_text())
    assert cff["title"] == NO_PAIRS_TITLE and cff["authors"] == [{"family-names": "Doe", "given-names": "Jane"}]
    assert 'href="../CITATION.cff"' in _html(out, "book/cite")


@pytest.mark.extra_build
def test_a_run_whose_matching_forms_no_pair_builds_and_says_not_estimable():
    """Odd but legal settings (a caliper no pair meets): the book builds strictly, matched-cohort numbers are
    'not estimable' in results.csv and on the pages, all-enrolled numbers are unchanged."""
    out = _no_pairs_build()
    results = pd.read_csv(published(out) / "results.csv", dtype=str, keep_default_na=False).set_index("id")
    matched = results[results.index.str.endswith("_matched")]
    assert len(matched) > 100 and (matched["status"] == "not estimable").all()
    assert results.loc["matching.pairs", "value"] == "0"
    survival = _html(out, "notebooks/05_survival")
    assert "cannot be analysed: no pair was formed by the matching" in survival
