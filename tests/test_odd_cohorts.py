"""Validation predicts the build: on odd but legal cohorts (``tests/odd_cohorts.py``), a cohort that ``validate``
accepts is one on which every notebook's computation completes; and the author's own variables work everywhere.

The property is checked on cohorts drawn by a seeded generator (one to three perturbations each) and on a few chosen
ones; the generator must make cohorts of both kinds, or the property would hold vacuously. One real
``hcc-study build`` (marked ``slow``) builds the book on an odd cohort with an author's variable in every list.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from odd_cohorts import NOTEBOOKS, NotebookFailed, odd_cohort, odd_cohorts, run_notebooks
from hcc_utils.data.readers import read_cohort
from hcc_utils.data.validate import validate_cohort
from hcc_utils.study import build_study
from hcc_utils.study.registry import display_value
from hcc_utils.study.sections import baseline, matching, predictors

#: Cohorts of the property test: drawn (seeded), and chosen ones that must validate and build.
DRAWN = odd_cohorts(8)
CHOSEN = [odd_cohort("constant_candidate"), odd_cohort("tiny_cohort", "albi_everywhere"),
          odd_cohort("small_group", "group_all_censored", "same_death_day", seed=3),
          odd_cohort("no_lymph_node_column", "no_tumour_markers", "no_metastasis_columns", "quoted_rows_left_out"),
          odd_cohort("covariate_is_the_group_not_matched", "no_progression", "mrecist_in_one_group"),
          odd_cohort("author_variables_of_each_type", "constant_forced", "no_pairs", "diagnostics_left_out")]


def _validated(cohort, folder):
    path, config = cohort.write(folder)
    return path, config, validate_cohort(read_cohort(path, config=config), path.name, config)


@pytest.mark.parametrize("cohort", DRAWN + CHOSEN, ids=lambda cohort: "+".join(cohort.made_by))
def test_a_cohort_that_validates_runs_every_notebook(cohort, tmp_path):
    path, config, report = _validated(cohort, tmp_path)
    if cohort in CHOSEN:
        assert report.ok, report.format()
    if report.ok:
        run_notebooks(path, config, tmp_path)     # raises NotebookFailed naming the notebook and cell
    else:
        assert report.errors and all(violation.message for violation in report.errors)


def test_the_generator_makes_cohorts_validation_accepts_and_refuses(tmp_path):
    outcomes = [_validated(cohort, tmp_path / str(i))[2].ok for i, cohort in enumerate(odd_cohorts(10))]
    assert 4 <= sum(outcomes) <= 9, outcomes


def test_every_notebook_is_run():
    assert [path.stem[:2] for path in NOTEBOOKS] == [f"{i:02d}" for i in range(1, 14)]


# ---------------------------------------------------------------------------------------------------- the defect
def test_a_constant_candidate_is_a_warning_naming_the_key_and_its_rows_are_not_estimable(tmp_path):
    path, config, report = _validated(odd_cohort("constant_candidate", seed=1), tmp_path)
    assert report.ok
    warning = next(v for v in report.warnings if v.rule == "constant_covariate")
    column = warning.column
    assert warning.message.startswith(f"cox.candidates: {column!r} is constant (all ")
    assert warning.message.endswith(f"remove it from cox.candidates")
    study = build_study(read_cohort(path, config=config), config)
    values = predictors.compute(study).values
    short = predictors.id_name(study, column)
    assert math.isnan(values[f"cox.os_uni_{short}_hr"])
    assert values.spec(f"cox.os_uni_{short}_hr").status == "not estimable"
    assert "constant among the complete cases" in values.spec(f"cox.os_uni_{short}_hr").label
    table4 = predictors.compute(study).tables["table4"]
    assert any("constant among the complete cases" in note for note in table4.footnotes)


def test_the_diagnostics_stop_on_a_constant_candidate_when_the_degrade_is_undone(tmp_path, monkeypatch):
    """The defect re-injected: the Cox screen raises on a constant candidate again (as before this change), and the
    cohort that validation accepts stops 12_diagnostics with the issue's error."""
    path, config, report = _validated(odd_cohort("constant_candidate", seed=1), tmp_path)
    assert report.ok
    diagnostics = [nb for nb in NOTEBOOKS if nb.stem == "12_diagnostics"]
    run_notebooks(path, config, tmp_path / "fixed", diagnostics)
    screen = predictors.multivariable_from_univariable
    monkeypatch.setattr(predictors, "multivariable_from_univariable",
                        lambda *args, **kwargs: screen(*args, **{**kwargs, "not_estimable": False}))
    with pytest.raises(NotebookFailed, match=r"12_diagnostics.*constant among the complete cases"):
        run_notebooks(path, config, tmp_path / "defect", diagnostics)


def test_a_constant_matching_covariate_is_an_error_naming_the_key_and_removing_it_builds(tmp_path):
    _, _, report = _validated(odd_cohort("constant_matching_covariate"), tmp_path / "kept")
    errors = [(v.rule, v.message) for v in report.errors]
    assert errors == [("constant_covariate", "matching.covariates: 'lymph_node_metastasis' is constant (all 0) "
                                             "among the 30 enrolled patients; remove it from matching.covariates")]
    assert [v.message for v in report.warnings if v.rule == "constant_covariate"] == [
        "cox.candidates: 'lymph_node_metastasis' is constant (all 0) among the 30 enrolled patients with a value; "
        "its univariable models are not estimable; remove it from cox.candidates"]
    path, config, report = _validated(odd_cohort("constant_covariate_removed"), tmp_path / "removed")
    assert report.ok and not report.warnings
    run_notebooks(path, config, tmp_path / "removed", [nb for nb in NOTEBOOKS if nb.stem[:2] in ("02", "06")])


# ------------------------------------------------------------------------------------------- names and columns
def test_names_the_analysis_cannot_take_are_errors_naming_the_key(tmp_path):
    expected = {"misspelled_candidate": ("unknown_variable", "cox.candidates: 'albi' is not a column of the analysis "
                                         "table nor a variable of the configuration's variables list"),
                "category_in_a_model": ("variable_kind", "cox.candidates: 'etiology' is a category"),
                "levels_short_of_the_values": ("baseline_levels", "baseline.rows: 'ecog' has the values 2, which are "
                                               "not among its levels (0, 1)")}
    for name, (rule, start) in expected.items():
        _, _, report = _validated(odd_cohort(name), tmp_path / name)
        assert [v.rule for v in report.errors] == [rule], (name, report.format())
        assert report.errors[0].message.startswith(start), report.errors[0].message
    _, _, report = _validated(odd_cohort("albi_everywhere", "misspelled_candidate"), tmp_path / "close")
    assert report.errors[0].message.endswith("(did you mean 'albi_grade'?)")


def test_a_variable_may_not_take_a_name_the_study_uses(tmp_path):
    cohort = odd_cohort()
    cohort.frame["ps"] = 0.5
    cohort.frame["male"] = True
    cohort.settings["variables"] = [{"name": "ps", "type": "number"}, {"name": "sex", "type": "boolean"},
                                    {"name": "male", "type": "boolean"}]
    cohort.settings["cox"] = {"candidates": ["sex_male", "male"]}
    _, _, report = _validated(cohort, tmp_path)
    assert {(v.rule, v.column) for v in report.errors} == {("variable_name", "ps"), ("variable_name", "sex"),
                                                           ("variable_name", "male")}
    assert "cox.candidates: 'male' would share its result ids with 'sex_male'" in \
        next(v.message for v in report.errors if v.column == "male")


def test_a_column_no_configured_analysis_uses_is_not_required(tmp_path):
    _, _, report = _validated(odd_cohort("no_lymph_node_column_kept_in_lists"), tmp_path / "kept")
    assert [(v.rule, v.column) for v in report.errors] == [("missing_column", "lymph_node_metastasis")]
    _, _, report = _validated(odd_cohort("no_lymph_node_column"), tmp_path / "removed")
    assert report.ok
    assert [(v.rule, v.column) for v in report.warnings] == [("missing_optional_column", "lymph_node_metastasis")]


def test_quoted_numbers_do_not_depend_on_the_rows_table1_shows(tmp_path):
    """The text quotes the number of men, the median age and the Child-Pugh test whether or not Table 1 shows their
    rows: left out of ``baseline.rows``, they are computed for the text alone, with the same values."""
    numbers = {}
    for name, cohort in (("shown", odd_cohort()), ("left_out", odd_cohort("quoted_rows_left_out"))):
        path, config, report = _validated(cohort, tmp_path / name)
        assert report.ok, report.format()
        study = build_study(read_cohort(path, config=config), config)
        section = baseline.compute(study)
        numbers[name] = {key: section.values[key] for key in ("baseline.male", "baseline.age_median",
                                                               "baseline.age_q1", "baseline.child_pugh_a_p",
                                                               "baseline.child_pugh_a_treatment")}
        assert section.values.spec("baseline.male").status is None   # an ordinary value
    assert numbers["left_out"] == numbers["shown"]
    assert numbers["left_out"]["baseline.male"] == int(study.data["sex_male"].sum())   # by hand
    assert "Male sex" not in [row.label for row in section.tables["table1"].rows]


def test_quoted_numbers_of_a_column_the_cohort_lacks_are_not_estimable(tmp_path):
    path, config, report = _validated(odd_cohort("quoted_rows_left_out", "no_sex_column"), tmp_path)
    assert report.ok, report.format()
    section = baseline.compute(build_study(read_cohort(path, config=config), config))
    for key in ("baseline.male", "baseline.male_matched"):
        spec = section.values.spec(key)
        assert math.isnan(section.values[key]) and spec.status == "not estimable", key
        assert "no value in the cohort" in spec.label
        assert display_value(spec.kind, section.values[key]) == "not estimable"
    assert section.values.spec("baseline.age_median").status is None   # age is there, only not shown


# --------------------------------------------------------------------------------------- the author's variables
def test_an_author_variable_is_read_validated_derived_and_labelled_in_every_analysis(tmp_path):
    path, config, report = _validated(odd_cohort("albi_everywhere", seed=5), tmp_path)
    assert report.ok, report.format()
    raw = read_cohort(path, config=config)
    study = build_study(raw, config)
    enrolled = raw.set_index("patient_id").loc[study.data["patient_id"], "albi_grade"]
    assert study.data["albi_grade"].dtype == "Int64"
    assert study.data["albi_grade"].tolist() == enrolled.astype(int).tolist()
    table1 = baseline.compute(study).tables["table1"]
    labels = [row.label for row in table1.rows]
    assert "ALBI grade, n (%)" in labels and [lv for lv in ("1", "2", "3") if lv in labels]
    assert "ALBI grade" in matching.compute(study).tables["coefficients"]["Term"].tolist()   # the propensity model
    section = predictors.compute(study)
    assert "cox.os_uni_albi_grade_hr" in section.values and "cox.os_albi_grade_hr" in section.values  # forced in
    assert "ALBI grade" in [row.label for row in section.tables["table4"].rows]
    assert section.inputs["models"]["os"].forced == ["albi_grade"]


def test_an_author_variable_out_of_range_is_a_validation_error_naming_row_and_column(tmp_path):
    cohort = odd_cohort("albi_everywhere")
    cohort.frame.loc[3, "albi_grade"] = 5
    _, _, report = _validated(cohort, tmp_path)
    assert [(v.rule, v.column, v.patient_id) for v in report.errors] == [("range", "albi_grade", "P004")]


def test_extract_columns_may_map_to_an_author_variable(tmp_path):
    cohort = odd_cohort("albi_everywhere")
    cohort.frame = cohort.frame.rename(columns={"albi_grade": "ALBI (grade)"})
    cohort.settings["extract"] = {"columns": {"ALBI (grade)": "albi_grade"}}
    path, config, report = _validated(cohort, tmp_path)
    assert report.ok, report.format()
    assert "albi_grade" in read_cohort(path, config=config).columns


# ---------------------------------------------------------------------------------------------- the real build
@pytest.mark.slow
@pytest.mark.extra_build
def test_hcc_study_build_completes_on_an_odd_cohort_that_validates(tmp_path):
    import json

    import yaml

    from hcc_utils.pipeline.cli import main

    cohort = odd_cohort("constant_covariate_removed", "albi_everywhere", "no_tumour_markers", "group_all_censored",
                        seed=7)
    path, config, report = _validated(cohort, tmp_path)
    assert report.ok, report.format()
    settings = {**cohort.settings, "data": path.name, "bootstrap": {"replicates": 9, "n_jobs": 1}}
    (tmp_path / "study.yml").write_text(yaml.safe_dump(settings, sort_keys=False))
    assert main(["build", "--config", str(tmp_path / "study.yml"), "--out", str(tmp_path / "book")]) == 0
    results = pd.read_csv(tmp_path / "book" / "results.csv")
    assert {"cox.os_uni_albi_grade_hr", "cox.os_albi_grade_hr"} <= set(results["id"])
    assert "cox.os_uni_lnm_hr" not in set(results["id"])
    tables = tmp_path / "book" / "sections" / "02_baseline" / "tables"
    table1 = json.loads((tables / "table1_baseline.json").read_text())
    assert "ALBI grade" in json.dumps(table1)
