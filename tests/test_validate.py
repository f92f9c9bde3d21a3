"""Tests of hcc_utils.data.validate: every bad-input class, reported together, naming patient and column."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from cohort_factory import as_text, make_cohort
from hcc_utils.data.readers import read_cohort
from hcc_utils.data.validate import CohortValidationError, ValidationReport, Violation, validate_cohort

SOURCE = "synthetic.csv"


def row_of(patient_id: str) -> int:
    """0-based frame position of a factory patient (P001 is position 0)."""
    return int(patient_id[1:]) - 1


def validate_text(tmp_path, text: pd.DataFrame, config=None) -> ValidationReport:
    """Write the text cohort as CSV, read it back and validate it, as an author would."""
    path = tmp_path / SOURCE
    text.to_csv(path, index=False)
    return validate_cohort(read_cohort(path), source=path.name, config=config)


def only(report: ValidationReport, rule: str, severity: str = "error", **fields) -> Violation:
    """The single violation of ``rule`` matching ``fields``."""
    pool = report.errors if severity == "error" else report.warnings
    found = [v for v in pool if v.rule == rule and all(getattr(v, key) == value for key, value in fields.items())]
    assert len(found) == 1, f"{rule} {fields}: {found}\n{report.format()}"
    return found[0]


def line_of(report: ValidationReport, violation: Violation) -> str:
    return violation.describe(report.source)


@pytest.fixture()
def text() -> pd.DataFrame:
    return as_text(make_cohort())


# ----------------------------------------------------------------------------- the valid cohort
def test_valid_cohort_has_no_error_and_no_warning(tmp_path, text):
    report = validate_text(tmp_path, text)
    assert report.ok, report.format()
    assert report.errors == [] and report.warnings == []
    assert report.raise_if_invalid() is report
    assert report.n_rows == 40


def test_typed_frame_validates_without_a_file():
    assert validate_cohort(make_cohort(), source="in-memory").ok


# ----------------------------------------------------------------------------- columns
def test_missing_required_column(tmp_path, text):
    report = validate_text(tmp_path, text.drop(columns=["ecog"]))
    violation = only(report, "missing_column", column="ecog")
    assert "required column 'ecog'" in violation.message
    assert line_of(report, violation).startswith("synthetic.csv, column ecog:")


def test_misspelled_column_suggests_the_dictionary_name(tmp_path, text):
    report = validate_text(tmp_path, text.rename(columns={"tumor_size_cm": "tumour_size_cm"}))
    violation = only(report, "misspelled_column", column="tumour_size_cm")
    assert "did you mean 'tumor_size_cm'?" in violation.message
    assert not [v for v in report.errors if v.rule == "missing_column"]


def test_column_with_spaces_suggests_underscored_name(tmp_path, text):
    report = validate_text(tmp_path, text.rename(columns={"patient_id": "Patient ID"}))
    assert "did you mean 'patient_id'?" in only(report, "misspelled_column", column="patient id").message


def test_unknown_column_unlike_any_is_a_warning(tmp_path, text):
    text["favourite_colour"] = "blue"
    report = validate_text(tmp_path, text)
    assert report.ok
    assert "ignored" in only(report, "unknown_column", "warning", column="favourite_colour").message


def test_unknown_column_like_a_present_one_is_a_warning(tmp_path, text):
    text["ages"] = text["age"]
    report = validate_text(tmp_path, text)
    assert report.ok
    assert "looks like 'age'" in only(report, "unknown_column", "warning", column="ages").message


def test_absent_optional_column_is_a_warning(tmp_path, text):
    report = validate_text(tmp_path, text.drop(columns=["body_weight_kg"]))
    assert report.ok
    only(report, "missing_optional_column", "warning", column="body_weight_kg")


def test_empty_cohort():
    report = validate_cohort(make_cohort().iloc[0:0], source=SOURCE)
    assert not report.ok
    only(report, "empty")


# ----------------------------------------------------------------------------- cell types, sets and ranges
def test_range_error_line_reads_as_specified(tmp_path, text):
    text.loc[row_of("P017"), "ecog"] = "7"
    report = validate_text(tmp_path, text)
    violation = only(report, "range", patient_id="P017", column="ecog")
    assert line_of(report, violation) == (
        "synthetic.csv row 18 (patient P017), column ecog: value '7' is above the maximum 4 [range]"
    )
    assert violation.row_number == 18 and violation.value == "7"  # the CSV line: header is line 1


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("age", "sixty", "is not a number"),
        ("afp_ng_ml", "1,401", "could mean 1401 (',' grouping thousands) or 1.401 (',' as the decimal mark)"),
        ("ecog", "1.5", "is not a whole number"),
        ("atebev_cycles", "four", "is not a whole number"),
        ("second_line_start_date", "03/01/2022", "fit DD/MM/YYYY and MM/DD/YYYY alike"),
        ("last_followup_date", "2022-02-30", "is not a date"),
        ("last_followup_date", "2022-7-1", "is not a date"),
        ("lymph_node_metastasis", "maybe", "is not a yes/no value"),
    ],
)
def test_wrong_types(tmp_path, text, column, value, expected):
    text.loc[row_of("P008"), column] = value
    report = validate_text(tmp_path, text)
    violation = only(report, "type", patient_id="P008", column=column)
    assert violation.value == value
    assert expected in violation.message
    expected_start = f"synthetic.csv row 9 (patient P008), column {column}: value '{value}'"
    assert line_of(report, violation).startswith(expected_start)


def test_value_outside_allowed_set(tmp_path, text):
    text.loc[row_of("P003"), "sex"] = "Unknown"
    text.loc[row_of("P004"), "second_line_regimen"] = "cabozantinib"
    report = validate_text(tmp_path, text)
    assert "value 'unknown' is not one of male, female" in only(report, "allowed", patient_id="P003").message
    # The regimen list is data, not a closed set: another regimen is read as such, with one warning per value.
    assert not [v for v in report.errors if v.column == "second_line_regimen"]
    assert "'cabozantinib' (1 patient)" in only(report, "other_regimen", "warning").message


def test_below_minimum(tmp_path, text):
    text.loc[row_of("P010"), "tumor_size_cm"] = "-1"
    report = validate_text(tmp_path, text)
    assert "below the minimum 0" in only(report, "range", patient_id="P010", column="tumor_size_cm").message


def test_implausible_value_is_only_a_warning(tmp_path, text):
    text.loc[row_of("P012"), "age"] = "25"
    report = validate_text(tmp_path, text)
    assert report.ok
    violation = only(report, "plausible", "warning", patient_id="P012", column="age")
    assert "outside the plausible range 30 to 95" in violation.message


# ----------------------------------------------------------------------------- required values
def test_always_required_value_missing(tmp_path, text):
    text.loc[row_of("P033"), "centre"] = ""
    report = validate_text(tmp_path, text)
    assert "required for every patient" in only(report, "required", patient_id="P033", column="centre").message


def test_enrolled_required_value_missing_only_matters_when_enrolled(tmp_path, text):
    text.loc[row_of("P002"), "ecog"] = "NA"
    text.loc[row_of("P037"), "ecog"] = ""  # regorafenib: not enrolled
    report = validate_text(tmp_path, text)
    violation = only(report, "required", patient_id="P002", column="ecog")
    assert "required for enrolled patients" in violation.message
    assert not [v for v in report.errors if v.patient_id == "P037"]


def test_second_line_start_required_when_a_regimen_is_given(tmp_path, text):
    text.loc[row_of("P037"), "second_line_start_date"] = ""
    report = validate_text(tmp_path, text)
    violation = only(report, "required_with_regimen", patient_id="P037", column="second_line_start_date")
    assert "second_line_regimen is 'regorafenib'" in violation.message


def test_start_without_regimen_is_a_warning(tmp_path, text):
    text.loc[row_of("P040"), "second_line_start_date"] = "2022-05-01"
    report = validate_text(tmp_path, text)
    assert report.ok
    only(report, "start_without_regimen", "warning", patient_id="P040")


def test_duplicate_patient_id_names_both_rows(tmp_path, text):
    text.loc[row_of("P005"), "patient_id"] = "P004"
    report = validate_text(tmp_path, text)
    duplicates = [v for v in report.errors if v.rule == "duplicate_id"]
    assert [(v.row_number, v.patient_id) for v in duplicates] == [(5, "P004"), (6, "P004")]
    assert all("(rows 5, 6)" in v.message for v in duplicates)


# ----------------------------------------------------------------------------- first line versus second line
def test_second_line_after_death_on_first_line_is_an_error(tmp_path, text):
    text.loc[row_of("P031"), "second_line_regimen"] = "sorafenib"
    text.loc[row_of("P031"), "second_line_start_date"] = "2021-11-01"
    report = validate_text(tmp_path, text)
    violation = only(report, "second_line_after_death", patient_id="P031", column="second_line_regimen")
    assert "first_line_end_reason is 'death'" in violation.message


def test_second_line_after_deterioration_is_a_warning(tmp_path, text):
    text.loc[row_of("P033"), "second_line_regimen"] = "lenvatinib"
    text.loc[row_of("P033"), "second_line_start_date"] = "2022-01-10"
    report = validate_text(tmp_path, text)
    assert report.ok, report.format()
    assert "not enrolled" in only(report, "not_enrolled_with_regimen", "warning", patient_id="P033").message


def test_deterioration_after_first_line_with_a_study_regimen_is_a_warning(tmp_path, text):
    text.loc[row_of("P001"), "deteriorated_after_first_line"] = "yes"
    report = validate_text(tmp_path, text)
    assert report.ok, report.format()
    violation = only(report, "not_enrolled_with_regimen", "warning", patient_id="P001")
    assert violation.column == "deteriorated_after_first_line"


def test_deterioration_flag_without_progression_is_a_warning(tmp_path, text):
    text.loc[row_of("P034"), "deteriorated_after_first_line"] = "yes"
    report = validate_text(tmp_path, text)
    assert report.ok
    only(report, "deterioration_flag_ignored", "warning", patient_id="P034")


# ----------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("patient", "column", "value", "rule", "expected"),
    [
        ("P001", "progression_date", "2021-12-01", "date_order", "is before second_line_start_date 2022-01-03"),
        ("P002", "death_date", "2022-01-01", "date_order", "death before the start"),
        ("P003", "last_followup_date", "2022-01-02", "date_order", "last follow-up before the start"),
        ("P004", "progression_date", "2022-12-01", "after_death", "is after death_date"),
        ("P005", "last_followup_date", "2023-06-01", "after_death", "last follow-up after death"),
        ("P006", "last_followup_date", "2024-02-01", "after_cutoff", "is after data_cutoff_date 2023-12-31"),
        ("P007", "death_date", "2024-01-15", "after_cutoff", "is after data_cutoff_date"),
        ("P037", "second_line_start_date", "2024-01-02", "after_cutoff", "is after data_cutoff_date"),
    ],
)
def test_dates_out_of_order(tmp_path, text, patient, column, value, rule, expected):
    text.loc[row_of(patient), column] = value
    report = validate_text(tmp_path, text)
    violation = only(report, rule, patient_id=patient, column=column)
    assert expected in violation.message
    assert violation.value == value


def test_death_with_later_last_followup_quotes_both_dates(tmp_path, text):
    text.loc[row_of("P001"), "last_followup_date"] = "2022-06-01"  # died 2022-05-03
    report = validate_text(tmp_path, text)
    violation = only(report, "after_death", patient_id="P001", column="last_followup_date")
    assert violation.message.startswith("value '2022-06-01' is after death_date 2022-05-03")


def test_followup_before_progression_is_a_warning(tmp_path, text):
    # P003 (i = 2) is alive, progressed on 2022-03-14 (start 2022-01-23 + 50 days)
    text.loc[row_of("P003"), "last_followup_date"] = "2022-03-01"
    report = validate_text(tmp_path, text)
    assert report.ok, report.format()
    only(report, "followup_before_progression", "warning", patient_id="P003")


def test_several_cutoffs_warned(tmp_path, text):
    text.loc[row_of("P040"), "data_cutoff_date"] = "2023-11-30"
    report = validate_text(tmp_path, text)
    only(report, "several_cutoffs", "warning")


# ----------------------------------------------------------------------------- cohort-level rules
def test_too_few_patients_in_a_group(tmp_path, text):
    sorafenib_rows = text.index[text["second_line_regimen"] == "sorafenib"][:6]
    text.loc[sorafenib_rows, "second_line_regimen"] = "regorafenib"
    report = validate_text(tmp_path, text)
    violation = only(report, "group_size")
    assert "'sorafenib' (groups.control) has 9 enrolled patients" in violation.message
    assert "at least 10" in violation.message


def test_group_minimum_is_configurable(tmp_path, text):
    config = {"min_group_size": 16}
    report = validate_text(tmp_path, text, config=config)
    assert len([v for v in report.errors if v.rule == "group_size"]) == 2
    assert validate_text(tmp_path, text, config={"min_group_size": 15}).ok


def test_configured_groups_change_enrolment(tmp_path, text):
    config = {"groups": {"treatment": "regorafenib", "control": "sorafenib"}, "min_group_size": 2}
    report = validate_text(tmp_path, text, config=config)
    # Enrolment follows the groups; 2 regorafenib patients against 15 are separated by 7 covariates, which the
    # validator predicts as the build's propensity model would fail.
    assert {v.rule for v in report.errors} == {"separation"}, report.format()
    assert {v.patient_id for v in report.errors} <= {f"P{i:03d}" for i in range(1, 31)} | {"P037", "P038"}


def test_any_regimen_may_be_a_group_and_none_may_not(text):
    report = validate_cohort(make_cohort(), config={"groups": {"treatment": "aspirin"}})
    assert "'aspirin' (groups.treatment) has 0 enrolled patients" in only(report, "group_size").message
    with pytest.raises(ValueError, match="groups.treatment = 'none'"):
        validate_cohort(make_cohort(), config={"groups": {"treatment": "none"}})


def test_all_enrolled_censored_for_os(tmp_path, text):
    enrolled = text.index[:30]
    alive_followup = text.loc[enrolled, "last_followup_date"].where(text.loc[enrolled, "death_date"] == "", "2023-06-30")
    text.loc[enrolled, "last_followup_date"] = alive_followup
    text.loc[enrolled, "death_date"] = ""
    report = validate_text(tmp_path, text)
    violation = only(report, "all_censored", column="death_date")
    assert "overall survival is censored for everyone" in violation.message
    assert not [v for v in report.errors if v.rule == "all_censored" and v.column == "progression_date"]


def test_all_enrolled_censored_for_pfs(tmp_path, text):
    enrolled = text.index[:30]
    text.loc[enrolled, "last_followup_date"] = "2023-06-30"
    text.loc[enrolled, ["death_date", "progression_date"]] = ""
    report = validate_text(tmp_path, text)
    assert {v.column for v in report.errors if v.rule == "all_censored"} == {"death_date", "progression_date"}


def test_no_event_in_one_group_is_a_warning(tmp_path, text):
    lenvatinib = text.index[(text["second_line_regimen"] == "lenvatinib") & (text.index < 30)]
    text.loc[lenvatinib, "last_followup_date"] = "2023-06-30"
    text.loc[lenvatinib, "death_date"] = ""
    report = validate_text(tmp_path, text)
    assert report.ok, report.format()
    assert "'lenvatinib'" in only(report, "group_all_censored", "warning", column="death_date").message


def test_high_missing_share_of_tumour_markers_is_a_warning(tmp_path, text):
    text.loc[:9, "afp_ng_ml"] = ""
    report = validate_text(tmp_path, text)
    assert report.ok
    violation = only(report, "missing_share", "warning", column="afp_ng_ml")
    assert "10 of the 30 enrolled patients (33%)" in violation.message
    # the 20 patients with a value all have AFP >= 400: Table 4's afp_high row is not estimable, and validation says so
    assert [(v.rule, v.column) for v in validate_text(tmp_path, text, config={"max_missing_share": 0.5}).warnings] \
        == [("constant_covariate", "afp_high")]


# ----------------------------------------------------------------------------- reporting
def break_many(text: pd.DataFrame) -> pd.DataFrame:
    text = text.drop(columns=["macrovascular_invasion"])
    text.loc[row_of("P017"), "ecog"] = "7"
    text.loc[row_of("P002"), "age"] = "sixty"
    text.loc[row_of("P003"), "progression_date"] = "2021-01-01"
    text.loc[row_of("P005"), "patient_id"] = "P004"
    text.loc[row_of("P009"), "sex"] = "x"
    text.loc[row_of("P011"), "etiology"] = ""
    text.loc[row_of("P012"), "age"] = "25"
    return text


def test_every_violation_is_reported_at_once(tmp_path, text):
    report = validate_text(tmp_path, break_many(text))
    found = {(v.rule, v.patient_id, v.column) for v in report.errors}
    assert found == {
        ("missing_column", None, "macrovascular_invasion"),
        ("range", "P017", "ecog"),
        ("type", "P002", "age"),
        ("date_order", "P003", "progression_date"),
        ("duplicate_id", "P004", "patient_id"),
        ("allowed", "P009", "sex"),
        ("required", "P011", "etiology"),
    }
    assert len(report.errors) == 8  # duplicate id: both rows
    assert [(v.rule, v.patient_id) for v in report.warnings] == [("plausible", "P012")]
    rows = [v.row_number for v in report.errors if v.row_number is not None]
    assert rows == sorted(rows)


def test_format_has_one_line_per_violation(tmp_path, text):
    report = validate_text(tmp_path, break_many(text))
    lines = report.format().splitlines()
    assert lines[0].startswith("Validation of synthetic.csv: 40 data rows, 8 errors, 1 warning.")
    body = [line for line in lines if line.startswith(("  row ", "  column "))]
    assert len(body) == 9
    summary = lines[lines.index(next(line for line in lines if line.startswith("Summary"))) + 1:lines.index("Errors:")]
    assert len(summary) == 8 and any("ecog" in line and "range" in line and line.split()[3] == "1" for line in summary)
    assert "  row 3 (patient P002), column age: value 'sixty' is not a number [type]" in lines
    assert report.format(limit=2).count("... and 6 more") == 1


def test_messages_name_only_the_row_in_question(tmp_path, text):
    report = validate_text(tmp_path, break_many(text))
    for violation in report.errors + report.warnings:
        ids = set(re.findall(r"P\d{3}", violation.describe(report.source)))
        assert ids <= {violation.patient_id}, violation


def test_raise_if_invalid_carries_the_report(tmp_path, text):
    report = validate_text(tmp_path, break_many(text))
    with pytest.raises(CohortValidationError) as caught:
        report.raise_if_invalid()
    assert caught.value.report is report
    assert "row 18 (patient P017), column ecog: value '7' is above the maximum 4 [range]" in str(caught.value)


def test_report_as_table(tmp_path, text):
    table = validate_text(tmp_path, break_many(text)).to_frame()
    assert list(table.columns) == ["severity", "row_number", "patient_id", "column", "value", "rule", "message"]
    assert table["severity"].value_counts().to_dict() == {"error": 8, "warning": 1}


def test_typed_parquet_values_are_quoted(tmp_path):
    cohort = make_cohort()
    cohort.loc[row_of("P017"), "ecog"] = 7
    path = tmp_path / "cohort.parquet"
    cohort.to_parquet(path)
    report = validate_cohort(read_cohort(path), source=path.name)
    violation = only(report, "range", patient_id="P017", column="ecog")
    assert violation.value == "7"


def test_bundled_study_configuration_is_accepted():
    import yaml
    from pathlib import Path

    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "study.yml").read_text())
    assert validate_cohort(make_cohort(), source=SOURCE, config=config).ok
