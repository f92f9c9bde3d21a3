"""The own-cohort guide (``book/own_cohort.md``) followed literally, as an author would, through the command line.

The author's extract is made from the bundled cohort the way a hospital system would export it: a workbook whose
cohort is on its second sheet (``Cohort 2024``, after a ``README`` sheet), the hospital's own column names (the
guide's ``extract.columns``), dates written DD/MM/YYYY, yes/no columns written ``Yes``/``No`` and ``1.0``/``0.0``,
Korean hospital names, two other regimens (cabozantinib vs ramucirumab), ALBI grade (a variable the data dictionary
does not have) added to Table 1, the matching and the Cox candidates as the guide's section 3 shows, and a CP949
CSV copy of the same extract. Its first version has the problems a first extract has: every patient is a man (a
matching covariate that does not vary), an impossible date, an ALBI grade out of range, a regimen misspelt in the
configuration. ``validate`` must report all of them in one pass; once they are fixed, it passes on both files and
the build completes in one pass, every page carries the author's title and regimens, and the scorecard compares by
role.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import BUILD_CACHE, published, write_if_changed
from hcc_utils.config import REPO_ROOT
from hcc_utils.pipeline.runner import toc_files

TITLE = "Cabozantinib vs ramucirumab after atezolizumab/bevacizumab failure"
#: The guide's section 2: the extract's own column names -> the data dictionary's.
COLUMNS = {
    "Patient ID": "patient_id", "Hospital": "centre", "2L regimen": "second_line_regimen",
    "2L start": "second_line_start_date", "Reason ATE/BEV stopped": "first_line_end_reason",
    "Date of progression": "progression_date", "Date of death": "death_date", "Last visit": "last_followup_date",
    "Cut-off": "data_cutoff_date", "Age (years)": "age", "Largest tumour (cm)": "tumor_size_cm", "AFP": "afp_ng_ml",
    "PIVKA-II": "pivka_mau_ml", "ALBI": "albi_grade",
}
REGIMENS = {"lenvatinib": "cabozantinib", "sorafenib": "ramucirumab"}
HOSPITALS = ["분당차병원", "세브란스병원"]
YES_NO = ("deteriorated_after_first_line", "lymph_node_metastasis", "extrahepatic_metastasis",
          "macrovascular_invasion", "ae_led_to_discontinuation")


def hospital_extract(problems: bool) -> pd.DataFrame:
    """The bundled cohort as the hospital exports it (text cells); with ``problems``, as its first version."""
    cohort = pd.read_csv(REPO_ROOT / "data" / "synthetic_cohort.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(7)
    enrolled = cohort["second_line_regimen"].isin(list(REGIMENS))
    cohort["second_line_regimen"] = cohort["second_line_regimen"].replace(REGIMENS)
    cohort["centre"] = [HOSPITALS[i % 2] for i in range(len(cohort))]
    for column in [c for c in cohort.columns if c.endswith("_date")]:
        dates = pd.to_datetime(cohort[column], errors="coerce")
        cohort[column] = dates.dt.strftime("%d/%m/%Y").where(dates.notna(), "")
    for column in YES_NO:  # as the hospital system writes them, and some as a spreadsheet saved them
        cohort[column] = cohort[column].map({"1": "Yes", "0": "No", "": ""})
        cohort.loc[cohort.index % 7 == 3, column] = cohort[column].map({"Yes": "1.0", "No": "0.0", "": ""})
    # ALBI grade follows liver function (Child-Pugh score), with noise: 1-3 for every enrolled patient
    score = pd.to_numeric(cohort["child_pugh_score"], errors="coerce")
    grade = np.clip(np.round((score.fillna(6) - 4) / 1.6 + rng.normal(0, 0.6, len(cohort))), 1, 3).astype(int)
    cohort["albi_grade"] = np.where(enrolled, grade.astype(str), "")
    if problems:
        cohort.loc[enrolled, "sex"] = "male"                                   # a covariate that does not vary
        first = cohort.index[enrolled][0]
        cohort.loc[first, "albi_grade"] = "4"                                  # out of range
        second = cohort.index[enrolled][1]
        cohort.loc[second, "death_date"] = "31/02/2022"                        # no such day
    return cohort.rename(columns={v: k for k, v in COLUMNS.items()})


def write_workbook(frame: pd.DataFrame, path: Path) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"About this file": ["Second-line therapy after ATE+BEV, export of 2024-06-30"]}).to_excel(
            writer, sheet_name="README", index=False)
        frame.to_excel(writer, sheet_name="Cohort 2024", index=False)
    return path


def configuration(data: str, control: str, matching: list[str]) -> str:
    """``my_study.yml`` as the guide's sections 2 and 3 write it."""
    config = {
        "data": data,
        "study": {"title": TITLE, "short_title": "Cabozantinib vs ramucirumab",
                  "authors": [{"name": "Doe, Jane", "affiliation": "Example University Hospital"}]},
        "groups": {"treatment": "cabozantinib", "control": control},
        "variables": [{"name": "albi_grade", "type": "integer", "min": 1, "max": 3, "label": "ALBI grade",
                       "required": "enrolled"}],
        "extract": {"sheet": "Cohort 2024", "date_format": "DD/MM/YYYY", "columns": COLUMNS},
        "baseline": {"rows": ["age", "sex_male", {"variable": "ecog", "kind": "categorical"}, "etiology",
                              "child_pugh_class", {"variable": "albi_grade", "kind": "categorical"}, "tumor_size_cm",
                              "extrahepatic_metastasis"]},
        "matching": {"covariates": matching},
        "cox": {"candidates": ["age_older", "ecog_2", "child_pugh_b", "albi_grade", "tumor_size_large",
                               "extrahepatic_metastasis", "control_group", "atebev_cycles_few"]},
    }
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


FIRST_MATCHING = ["age", "sex_male", "tumor_size_cm", "tumor_multiple", "extrahepatic_metastasis", "child_pugh_b",
                  "albi_grade"]


def hcc_study(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    """``hcc-study ARGUMENTS`` as the guide types it (the package's command line in this environment)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "hcc_utils", *arguments], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=1800, encoding="utf-8")


@pytest.fixture(scope="module")
def author_folder() -> Path:
    """The author's folder (fixed, so the build's cache keys match from one session to the next)."""
    folder = BUILD_CACHE / "own-cohort-guide"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_validate_reports_every_problem_of_a_first_extract_in_one_pass(author_folder, tmp_path):
    first = tmp_path / "first"
    first.mkdir()
    extract = hospital_extract(problems=True)
    write_workbook(extract, first / "hospital_extract.xlsx")
    extract.to_csv(first / "hospital_extract.csv", index=False, encoding="cp949")
    (first / "my_study.yml").write_text(configuration("hospital_extract.xlsx", "ramucirumb", FIRST_MATCHING),
                                        encoding="utf-8")
    run = hcc_study("validate", "--config", "my_study.yml", cwd=first)
    assert run.returncode == 2 and "Traceback" not in run.stderr + run.stdout, run.stderr
    report = run.stdout
    # the misspelt regimen, with the regimens present and the closest
    assert "ramucirumb" in report and "did you mean 'ramucirumab'" in report and "ramucirumab (86)" in report, report
    assert re.search(r"column albi_grade: .*\[range\]", report), report                    # ALBI 4
    assert re.search(r"column death_date: .*\[type\]", report), report                     # 31/02/2022
    # the analysis-level problem in the same pass (provisional while cells have errors)
    assert re.search(r"matching\.covariates: 'sex_male' is constant", report), report
    # the CP949 copy says the same, read as Korean text
    (first / "csv.yml").write_text(configuration("hospital_extract.csv", "ramucirumb", FIRST_MATCHING),
                                   encoding="utf-8")
    copy = hcc_study("validate", "--config", "csv.yml", cwd=first)
    assert copy.returncode == 2
    for line in ("[range]", "[type]", "'sex_male' is constant", "did you mean 'ramucirumab'"):
        assert line in copy.stdout, line
    assert "[encoding]" not in copy.stdout and "�" not in copy.stdout


@pytest.mark.slow
@pytest.mark.extra_build
def test_the_fixed_extract_validates_and_builds_in_one_pass_with_the_authors_study(author_folder):
    extract = hospital_extract(problems=False)
    workbook = author_folder / "hospital_extract.xlsx"
    if not workbook.is_file() or not pd.read_excel(workbook, sheet_name="Cohort 2024", dtype=str,
                                                   keep_default_na=False).equals(extract):
        write_workbook(extract, workbook)  # rewritten only when its content changes: the build's cache key
    write_if_changed(author_folder / "hospital_extract.csv", extract.to_csv(index=False).encode("cp949"))
    fixed = [c for c in FIRST_MATCHING if c != "sex_male"]
    write_if_changed(author_folder / "my_study.yml",
                     configuration("hospital_extract.xlsx", "ramucirumab", fixed).encode("utf-8"))
    write_if_changed(author_folder / "csv.yml",
                     configuration("hospital_extract.csv", "ramucirumab", fixed).encode("utf-8"))
    for config in ("my_study.yml", "csv.yml"):
        run = hcc_study("validate", "--config", config, cwd=author_folder)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "0 errors" in run.stdout.splitlines()[0], run.stdout
    build = hcc_study("build", "--config", "my_study.yml", "--out", "my_book", "--jobs", "2", cwd=author_folder)
    assert build.returncode == 0, build.stderr[-3000:]
    run = published(author_folder / "my_book")

    # every page: the author's title in the browser title and the header
    shown = TITLE.replace("&", "&amp;")
    for page in toc_files():
        html = (run / "html" / f"{page}.html").read_text(encoding="utf-8")
        assert f"{shown}</title>" in html and f'<p class="title logo__title">{shown}</p>' in html, page
    # the sections: the author's regimens in the tables' headings, never the article's
    for page in [p for p in toc_files() if p.startswith("notebooks/")]:
        text = re.sub(r"<[^>]+>", " ", (run / "html" / f"{page}.html").read_text(encoding="utf-8"))
        headings = re.findall(r"(Lenvatinib|Sorafenib)\s+N\s*=", text)
        assert not headings, (page, headings)
    table1 = (run / "html" / "notebooks" / "02_baseline.html").read_text(encoding="utf-8")
    assert "Cabozantinib" in table1 and "Ramucirumab" in table1 and "ALBI grade" in table1
    predictors = (run / "html" / "notebooks" / "06_predictors.html").read_text(encoding="utf-8")
    assert "ALBI grade" in predictors
    # the introduction says whose data these are, and claims no agreement by construction
    intro = re.sub(r"<[^>]+>", " ", (run / "html" / "book" / "intro.html").read_text(encoding="utf-8"))
    assert "supplied by the author of this build" in intro and "by construction, not evidence" not in intro
    # the text's numbers from Table 1 rows the author left out are computed, never 'not estimable'
    baseline_text = re.sub(r"<[^>]+>", " ", table1)
    assert "not estimable" not in baseline_text.split("What the table says")[1].split("For trainees")[0]
    # the citation file of the author's book
    cff = yaml.safe_load((run / "html" / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["title"] == TITLE
    # ALBI in the propensity model's inputs and the analysis table
    analysis = pd.read_csv(run / "analysis.csv")
    assert set(analysis["group"]) == {"cabozantinib", "ramucirumab"} and analysis["albi_grade"].between(1, 3).all()

    # the scorecard compares by role
    score = hcc_study("scorecard", "--out", "my_book", cwd=author_folder)
    assert score.returncode == 0, score.stderr
    assert "compared by role" in score.stdout
    assert re.search(r"\b0 missing\b", score.stdout) or "missing" not in score.stdout.split("reproduced")[-1]
