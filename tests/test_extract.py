"""The author's extract as it comes (configuration ``extract``, any two regimens); validation predicting the build.

Each test writes a small cohort (``cohort_factory``) the way a hospital extract arrives, reads it with the run's
configuration and validates it, as ``hcc-study validate --config`` does.
"""
from __future__ import annotations

import csv
import io
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from cohort_factory import as_text, make_cohort
from hcc_utils.config import ConfigError, parse_config
from hcc_utils.data.derive import cohort_flow
from hcc_utils.data.readers import CohortFileError, read_cohort
from hcc_utils.data.validate import validate_cohort
from hcc_utils.pipeline.cli import main

DATES = ["second_line_start_date", "progression_date", "death_date", "last_followup_date", "data_cutoff_date"]


def config_of(**extract):
    return parse_config({"extract": extract}, "test")


def day_first(text: pd.DataFrame, columns=DATES, fmt="%d/%m/%Y") -> pd.DataFrame:
    text = text.copy()
    for name in columns:
        text[name] = [pd.Timestamp(v).strftime(fmt) if v else "" for v in text[name]]
    return text


def check(path, config=None):
    return validate_cohort(read_cohort(path, config=config), source=path.name, config=config)


# ----------------------------------------------------------------------------- column names
def test_author_column_names_are_mapped_before_validation(tmp_path):
    text = as_text(make_cohort()).rename(columns={"patient_id": "Patient ID", "death_date": "Date of death"})
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    config = config_of(columns={"Patient ID": "patient_id", "date of death": "death_date"})
    frame = read_cohort(path, config=config)
    assert {"patient_id", "death_date"} <= set(frame.columns)
    assert check(path, config).ok
    # validate_cohort applies the mapping too (a frame read without the configuration, as the runner reads it)
    assert validate_cohort(read_cohort(path), source="c.csv", config=config).ok


def test_unknown_mapping_target_is_a_configuration_error_with_a_suggestion(tmp_path):
    path = tmp_path / "c.csv"
    as_text(make_cohort()).to_csv(path, index=False)
    with pytest.raises(ConfigError, match=r"'death_dat'.*did you mean 'death_date'"):
        read_cohort(path, config=config_of(columns={"Date of death": "death_dat"}))


# ----------------------------------------------------------------------------- any two regimens
def test_any_two_regimens_are_the_groups_and_other_regimens_are_counted(tmp_path):
    text = as_text(make_cohort())
    text["second_line_regimen"] = text["second_line_regimen"].replace(
        {"lenvatinib": "Cabozantinib", "sorafenib": "ramucirumab", "fluorouracil": "FOLFOX 4"})
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    config = parse_config({"groups": {"treatment": "cabozantinib", "control": "ramucirumab"}}, "test")
    report = check(path, config)
    assert report.ok, report.format()
    assert {v.rule for v in report.warnings} == {"other_regimen"}
    flow = cohort_flow(read_cohort(path, config=config), config)
    assert flow["flow.enrolled_cabozantinib"] == 15 and flow["flow.enrolled_ramucirumab"] == 15
    assert flow["flow.second_line_folfox_4"] == 1 and flow["flow.second_line_regorafenib"] == 2
    assert flow["flow.second_line_lenvatinib"] == 0  # the article's regimens keep their boxes


# ----------------------------------------------------------------------------- dates
def test_declared_day_first_dates(tmp_path):
    path = tmp_path / "c.csv"
    day_first(as_text(make_cohort())).to_csv(path, index=False)
    config = config_of(date_format="DD/MM/YYYY")
    frame = read_cohort(path, config=config)
    assert frame["second_line_start_date"].iloc[1] == pd.Timestamp("2022-01-13")
    assert check(path, config).ok


def test_per_column_format_overrides_and_detection_reads_the_rest(tmp_path):
    text = day_first(as_text(make_cohort()))
    text = day_first(as_text(make_cohort()), ["death_date"], "%m/%d/%Y").assign(
        **{c: text[c] for c in DATES if c != "death_date"})
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    config = config_of(date_formats={"death_date": "MM/DD/YYYY"})
    frame = read_cohort(path, config=config)
    assert frame["death_date"].iloc[0] == make_cohort()["death_date"].iloc[0]
    assert frame["progression_date"].iloc[0] == make_cohort()["progression_date"].iloc[0]  # detected DD/MM/YYYY
    assert check(path, config).ok


def test_undeclared_dates_fail_with_one_hint_naming_the_format(tmp_path):
    text = day_first(as_text(make_cohort()))
    text.loc[3, "last_followup_date"] = "31/02/2022"  # not a day
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    report = check(path)
    [bad] = [v for v in report.errors if v.rule == "type"]
    assert bad.value == "31/02/2022" and bad.row_number == 5
    assert "34 of the column's 35 dates read as DD/MM/YYYY, this one does not" in bad.message
    # Ambiguous (no day above 12): a hint to declare the format, not a guess
    ambiguous = as_text(make_cohort())
    ambiguous["data_cutoff_date"] = "01/02/2024"
    ambiguous.to_csv(path, index=False)
    messages = {v.message for v in check(path).errors if v.column == "data_cutoff_date"}
    assert len(messages) == 1 and "fit DD/MM/YYYY and MM/DD/YYYY alike" in messages.pop()


def test_bad_date_format_in_the_configuration():
    with pytest.raises(ConfigError, match="extract.*date_format.*not understood.*DD/MM/YYYY"):
        config_of(date_format="dd/mm/yy")


def test_excel_date_cells_and_serial_numbers(tmp_path):
    typed = make_cohort()
    serials = (typed["death_date"] - pd.Timestamp("1899-12-30")).dt.days
    workbook = typed.assign(death_date=serials.astype("float64"))  # a date column formatted as numbers
    path = tmp_path / "c.xlsx"
    workbook.to_excel(path, index=False)
    frame = read_cohort(path)
    assert frame["death_date"].equals(typed["death_date"].rename("death_date"))
    assert frame["progression_date"].dtype == "datetime64[ns]"  # real Excel date cells
    assert check(path).ok


# ----------------------------------------------------------------------------- decimal comma, sheets
def test_decimal_comma_in_semicolon_csv(tmp_path):
    text = as_text(make_cohort())
    text.loc[0, "tumor_size_cm"] = "2,5"
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False, sep=";")
    frame = read_cohort(path)
    assert frame["tumor_size_cm"].iloc[0] == 2.5
    assert check(path).ok
    with pytest.raises(AssertionError):  # configurable: '.' keeps the comma an error
        assert check(path, config_of(decimal=".")).ok


def test_named_sheet_and_a_clear_error_listing_the_sheets(tmp_path):
    path = tmp_path / "c.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"note": ["read me"]}).to_excel(writer, sheet_name="README", index=False)
        as_text(make_cohort()).to_excel(writer, sheet_name="Cohort", index=False)
    assert len(read_cohort(path, config=config_of(sheet="Cohort"))) == 40
    with pytest.raises(CohortFileError, match="no worksheet 'Data'; its sheets are 'README', 'Cohort'"):
        read_cohort(path, config=config_of(sheet="Data"))
    with pytest.raises(CohortFileError, match="worksheet 'README' of 'README', 'Cohort'.*extract.sheet"):
        read_cohort(path)


# ----------------------------------------------------------------------------- the report
def test_excel_rows_are_the_rows_the_author_sees(tmp_path):
    path = tmp_path / "c.xlsx"
    as_text(make_cohort()).to_excel(path, index=False)
    book = openpyxl.load_workbook(path)
    sheet = book.active
    sheet.insert_rows(5)  # a blank row after data row 3
    sheet.cell(row=8, column=list(make_cohort().columns).index("age") + 1).value = "sixty"  # patient P006
    book.save(path)
    [bad] = check(path).errors
    assert (bad.row_number, bad.patient_id) == (8, "P006")


def test_summary_comes_first_and_csv_output(tmp_path, capsys):
    text = as_text(make_cohort())
    text.loc[[1, 2, 3], "age"] = "old"
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("Summary") and re.match(r"\s+error\s+age\s+type\s+3\s+e\.g\.", out[2])
    assert out[3] == "Errors:" and out[4].startswith("  row 3 (patient P002), column age: value 'old'")
    assert main(["validate", str(path), "--format", "csv"]) == 2
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == ["severity", "row", "patient", "column", "value", "rule", "message"]
    assert [(r["row"], r["patient"], r["rule"]) for r in rows] == [("3", "P002", "type"), ("4", "P003", "type"),
                                                                   ("5", "P004", "type")]


def test_detail_lines_do_not_repeat_the_explanation(tmp_path):
    text = as_text(make_cohort())
    text.loc[[1, 2, 3], "ecog"] = ""
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    lines = check(path).format().splitlines()
    details = [line for line in lines if line.startswith("  row ")]
    assert "required for enrolled patients" in details[0]
    assert details[1:] == ["  row 4 (patient P003), column ecog: value is missing (as above) [required]",
                           "  row 5 (patient P004), column ecog: value is missing (as above) [required]"]


def test_validate_reads_data_and_groups_from_the_config(tmp_path, capsys):
    text = as_text(make_cohort())
    text["second_line_regimen"] = text["second_line_regimen"].replace({"lenvatinib": "cabozantinib"})
    text.to_csv(tmp_path / "mine.csv", index=False)
    (tmp_path / "my_study.yml").write_text("data: mine.csv\ngroups: {treatment: cabozantinib, control: sorafenib}\n")
    assert main(["validate", "--config", str(tmp_path / "my_study.yml")]) == 0
    assert "mine.csv: 40 data row(s), 0 error(s)" in capsys.readouterr().out
    assert main(["validate", str(tmp_path / "mine.csv")]) == 2  # the article's groups: lenvatinib has none


# ----------------------------------------------------------------------------- analysis checks
def test_constant_and_absent_matching_covariates(tmp_path):
    text = as_text(make_cohort())
    text["lymph_node_metastasis"] = "no"
    path = tmp_path / "c.csv"
    text.drop(columns=["afp_ng_ml"]).to_csv(path, index=False)
    config = parse_config({"matching": {"covariates": ["age", "lymph_node_metastasis", "afp_high"]}}, "test")
    rules = {(v.rule, v.column) for v in check(path, config).errors}
    assert rules == {("constant_covariate", "lymph_node_metastasis"), ("covariate_absent", "afp_high")}


def test_optional_columns_the_analyses_need(tmp_path):
    # The Cox models take AFP and PIVKA-II: without the columns the build stops ("no complete cases"), and so
    # does validation; an optional column no analysis needs stays a warning.
    path = tmp_path / "c.csv"
    as_text(make_cohort()).drop(columns=["afp_ng_ml", "pivka_mau_ml", "body_weight_kg"]).to_csv(path, index=False)
    report = check(path)
    assert {(v.rule, v.column) for v in report.errors} == {("model_column_empty", "afp_high"),
                                                           ("model_column_empty", "pivka_high")}
    assert ("missing_optional_column", "body_weight_kg") in {(v.rule, v.column) for v in report.warnings}


def test_near_constant_covariate_is_a_warning(tmp_path):
    text = as_text(make_cohort())
    text.loc[:29, "lymph_node_metastasis"] = "no"
    text.loc[[0, 3], "lymph_node_metastasis"] = "yes"
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    config = parse_config({"matching": {"covariates": ["age", "lymph_node_metastasis"]}}, "test")
    report = check(path, config)
    assert [v.rule for v in report.warnings] == ["near_constant_covariate"]


def test_separation_names_patients_in_the_report_only(tmp_path):
    text = as_text(make_cohort())
    text.loc[:29, "lymph_node_metastasis"] = np.where(np.arange(30) % 2 == 0, "yes", "no")  # = the group
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    report = check(path)
    separated = [v for v in report.errors if v.rule == "separation"]
    assert separated and all(v.patient_id and v.patient_id not in v.message for v in separated)
    assert {v.rule for v in report.errors} == {"separation"}


def test_few_events_and_few_pairs(tmp_path):
    text = as_text(make_cohort())
    alive = text.index[(text.index < 30) & (text.index % 2 == 1)][2:]  # sorafenib: keep 2 deaths
    text.loc[alive, "death_date"] = ""
    text.loc[alive, "last_followup_date"] = "2023-12-01"
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    report = check(path, parse_config({"min_group_size": 15}, "test"))
    assert "'sorafenib' has 2 overall survival event(s)" in next(v.message for v in report.warnings
                                                                  if v.rule == "few_events")
    assert any(v.rule == "matched_size" for v in report.warnings)
