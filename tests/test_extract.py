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
    assert flow["flow.enrolled_treatment"] == 15 and flow["flow.enrolled_control"] == 15  # groups by role
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


def test_extract_keys_are_checked_with_the_key_named():
    with pytest.raises(ConfigError, match="encoding.*unknown encoding 'klingon'; use auto, utf-8"):
        config_of(encoding="klingon")
    with pytest.raises(ConfigError, match="thousands and extract.decimal are both ','"):
        config_of(decimal=",", thousands=",")
    assert config_of(encoding="EUC-KR", thousands=" ").extract.thousands == " "


def test_bad_date_format_in_the_configuration():
    with pytest.raises(ConfigError, match="extract.*date_format.*not understood.*DD/MM/YYYY"):
        config_of(date_format="dd/mm/yyy")


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
    assert out[1].startswith("The analysis checks (propensity model, covariates, events) found nothing more with the "
                             "3 cells in error (type, value, range, encoding) read as missing")
    assert out[2].startswith("Summary") and re.match(r"\s+error\s+age\s+type\s+3\s+e\.g\.", out[3])
    assert out[4] == "Errors:" and out[5].startswith("  row 3 (patient P002), column age: value 'old'")
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
    assert "mine.csv: 40 data rows, 0 errors, 1 warning." in capsys.readouterr().out
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


# ----------------------------------------------------------------------------- numbers as hospitals write them
def test_thousands_separators_are_read_when_unambiguous_and_refused_otherwise(tmp_path):
    text = as_text(make_cohort())
    text.loc[0, "afp_ng_ml"] = "1,401.5"    # comma groups (a dot follows): 1401.5
    text.loc[1, "afp_ng_ml"] = "1 401,5"    # a space groups, so the comma is the decimal mark: 1401.5
    text.loc[2, "afp_ng_ml"] = "1,401,000"  # several groups: 1401000
    text.loc[3, "afp_ng_ml"] = "2,5"        # a comma before one digit: only a decimal mark
    text.loc[4, "afp_ng_ml"] = "1,401"      # 1401 or 1.401?
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    [ambiguous] = check(path).errors
    assert (ambiguous.rule, ambiguous.row_number, ambiguous.value) == ("type", 6, "1,401")
    assert "could mean 1401 (',' grouping thousands) or 1.401 (',' as the decimal mark)" in ambiguous.message
    assert "extract.thousands: ','" in ambiguous.message
    text.loc[4, "afp_ng_ml"] = "1401"
    text.to_csv(path, index=False)
    assert read_cohort(path)["afp_ng_ml"].iloc[:4].tolist() == [1401.5, 1401.5, 1401000.0, 2.5]
    # Declared grouping: 1,401 is 1401; a comma is then never a decimal mark
    text.loc[4, "afp_ng_ml"] = "1,401"
    text.loc[1, "afp_ng_ml"] = "1 401.5"
    text.loc[3, "afp_ng_ml"] = "25"
    text.to_csv(path, index=False)
    assert check(path, config_of(thousands=",")).ok
    assert read_cohort(path, config=config_of(thousands=","))["afp_ng_ml"].iloc[:5].tolist() == [
        1401.5, 1401.5, 1401000.0, 25.0, 1401.0]
    # Declared decimal comma: 1,401 is one and 401 thousandths; 1,401.5 and 1,401,000 cannot be read
    report = check(path, config_of(decimal=","))
    assert {v.value for v in report.errors if v.column == "afp_ng_ml"} >= {"1,401.5", "1,401,000"}


def test_the_ambiguous_number_guard_is_what_stops_a_misreading(tmp_path, monkeypatch):
    import hcc_utils.data.numbers as numbers

    text = as_text(make_cohort())
    text.loc[4, "afp_ng_ml"] = "1,401"
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    assert not check(path).ok
    # Injected defect: without the single-group rule, '1,401' falls through to the decimal-comma reading
    original = numbers._patterns
    monkeypatch.setattr(numbers, "_patterns", lambda fmt: {**original(fmt), "one_group": re.compile("^$")})
    assert check(path).ok and read_cohort(path)["afp_ng_ml"].iloc[4] == 1.401  # silently 1.401


def test_semicolon_csv_reads_decimal_commas_and_dot_groups(tmp_path):
    text = as_text(make_cohort())
    for name in ("age", "body_weight_kg", "tumor_size_cm", "afp_ng_ml", "pivka_mau_ml"):
        text[name] = text[name].str.replace(".", ",", regex=False)  # as a comma-decimal spreadsheet writes them
    text.loc[0, "afp_ng_ml"] = "1.401,5"
    text.loc[1, "afp_ng_ml"] = "1,401"  # the decimal mark of the file: 1.401
    text.loc[2, "afp_ng_ml"] = "1.401"  # the other mark before three digits: refused
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False, sep=";")
    report = check(path)
    assert [(v.rule, v.value) for v in report.errors] == [("type", "1.401")]
    assert "extract.thousands: '.'" in report.errors[0].message
    frame = read_cohort(path, config=config_of(thousands="."))
    assert frame["afp_ng_ml"].iloc[:3].tolist() == [1401.5, 1.401, 1401.0]
    assert frame["age"].equals(make_cohort()["age"])


def test_zero_point_zero_and_one_point_zero_are_no_and_yes(tmp_path):
    yes_no = ["lymph_node_metastasis", "extrahepatic_metastasis", "macrovascular_invasion", "ae_led_to_discontinuation"]
    text = as_text(make_cohort())
    for name in yes_no:
        text[name] = text[name].map({"yes": "1.0", "no": "0.0", "": ""})
    text["ecog"] = [f"{v}.0" if v else v for v in text["ecog"]]  # whole numbers as a spreadsheet writes them
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    as_text(make_cohort()).to_csv(tmp_path / "plain.csv", index=False)  # yes/no and 2 as usual
    expected, frame = read_cohort(tmp_path / "plain.csv"), read_cohort(path)
    for name in yes_no + ["ecog"]:
        assert frame[name].equals(expected[name]), name
    assert check(path).ok
    # with a decimal comma (semicolon CSV): 0,0 and 1,0
    text[yes_no] = text[yes_no].replace({"1.0": "1,0", "0.0": "0,0"})
    text.to_csv(path, index=False, sep=";")
    assert read_cohort(path)["lymph_node_metastasis"].equals(expected["lymph_node_metastasis"])
    # 2.0 is a number, not yes or no
    text.loc[0, "lymph_node_metastasis"] = "2,0"
    text.to_csv(path, index=False, sep=";")
    [bad] = check(path).errors
    assert (bad.rule, bad.value, bad.column) == ("type", "2,0", "lymph_node_metastasis")


# ----------------------------------------------------------------------------- two-digit years
def test_two_digit_years_are_read_only_in_a_stated_century(tmp_path):
    path = tmp_path / "c.csv"
    day_first(as_text(make_cohort()), fmt="%d/%m/%y").to_csv(path, index=False)
    refused = check(path)
    assert {v.rule for v in refused.errors} == {"type"}  # and no all_censored: the dates in error hold the events
    assert all("two-digit year" in v.message and "extract.two_digit_year_pivot" in v.message for v in refused.errors)
    with pytest.raises(ConfigError, match="DD/MM/YY.*two-digit year.*extract.two_digit_year_pivot"):
        config_of(date_format="DD/MM/YY")
    config = config_of(date_format="DD/MM/YY", two_digit_year_pivot=1950)
    frame = read_cohort(path, config=config)
    for name in DATES:
        assert frame[name].equals(make_cohort()[name]), name
    report = check(path, config)
    assert report.ok and {v.rule for v in report.warnings} == {"two_digit_year"}
    assert "read as the years 1950-2049 (extract.two_digit_year_pivot: 1950), e.g. '03/01/22' as 2022-01-03" in \
        next(v.message for v in report.warnings if v.column == "second_line_start_date")
    # The pivot decides the century: from 1900, '22' is 1922
    earlier = read_cohort(path, config=config_of(date_format="DD/MM/YY", two_digit_year_pivot=1900))
    assert earlier["second_line_start_date"].iloc[0] == pd.Timestamp("1922-01-03")


# ----------------------------------------------------------------------------- every problem in one pass
def test_one_pass_reports_cell_errors_and_a_constant_matching_covariate(tmp_path):
    text = as_text(make_cohort())
    text["sex"] = "male"                         # constant among the enrolled: the propensity model cannot use it
    text.loc[1, "age"] = "sixty"                 # a covariate's cell in error (patient P002)
    text.loc[5, "ecog"] = "7"
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    report = check(path)
    found = {(v.rule, v.patient_id, v.column) for v in report.errors}
    assert found == {("constant_covariate", None, "sex_male"), ("type", "P002", "age"), ("range", "P006", "ecog")}
    constant = next(v for v in report.errors if v.rule == "constant_covariate")
    assert constant.message.endswith("(provisional: found with the cells in error read as missing; check again once "
                                     "they are fixed)")
    assert "The analysis checks (propensity model, covariates, events) ran with the 2 cells in error" in \
        report.format()
    # once the cells are fixed, the same analysis error remains, no longer provisional
    text.loc[1, "age"], text.loc[5, "ecog"] = "41", "1"
    text.to_csv(path, index=False)
    [still] = check(path).errors
    assert still.rule == "constant_covariate" and "provisional" not in still.message


def test_a_constant_covariate_is_quoted_as_written(tmp_path):
    text = as_text(make_cohort())
    text["sex"] = "male"
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    [constant] = check(path).errors
    assert "'sex_male' is constant (all 1) among the 30 enrolled patients" in constant.message
    assert "np." not in constant.message


def test_a_misspelt_group_does_not_hide_the_analysis_findings_of_the_same_pass(tmp_path, monkeypatch):
    """With a group no patient received, the analysis checks run with the regimen its name most likely means
    (said in the report), so a constant matching covariate is reported beside the misspelt group."""
    import hcc_utils.data.validate as validate

    text = as_text(make_cohort())
    text["sex"] = "male"
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    config = parse_config({"groups": {"treatment": "lenvatinib", "control": "sorafenb"}}, "test")
    report = check(path, config)
    assert sorted(v.rule for v in report.errors) == ["constant_covariate", "group_size"]
    assert "and with groups.control as 'sorafenib' (the closest regimen of the data)" in report.format()
    # Injected defect: the groups taken as written, the propensity model has no control group to find it with
    monkeypatch.setattr(validate, "_groups_as_meant", lambda frame, config, groups: (config, groups, ""))
    assert [v.rule for v in check(path, config).errors] == ["group_size"]


def test_a_cell_error_is_not_reported_again_as_an_analysis_error(tmp_path, monkeypatch):
    import hcc_utils.data.validate as validate

    text = as_text(make_cohort())
    text.loc[1, "age"] = "sixty"  # age is a matching covariate: missing for the model, but the type error says so
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    assert [(v.rule, v.patient_id) for v in check(path).errors] == [("type", "P002")]
    # Injected defect: without the check of what the cell errors explain, P002 is reported twice
    monkeypatch.setattr(validate, "_filled", lambda typed, cells, dictionary: typed)
    assert sorted((v.rule, v.patient_id) for v in check(path).errors) == [("covariate_missing", "P002"),
                                                                         ("type", "P002")]


# ----------------------------------------------------------------------------- names: groups and columns
def test_a_misspelt_group_lists_the_regimens_and_suggests_the_closest(tmp_path):
    text = as_text(make_cohort())
    text["second_line_regimen"] = text["second_line_regimen"].replace({"sorafenib": "cabozantinib"})
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    config = parse_config({"groups": {"treatment": "lenvatinib", "control": "cabozantnib"}}, "test")
    [error] = check(path, config).errors
    assert error.rule == "group_size" and error.message.startswith(
        "study group 'cabozantnib' (groups.control) has 0 enrolled patients")
    assert ("second-line regimens of the patients eligible for second line (first line ended by progression, no "
            "deterioration): cabozantinib (15), lenvatinib (15), regorafenib (2), fluorouracil (1); did you mean "
            "'cabozantinib'?") in error.message


@pytest.mark.parametrize(("target", "meant"), [("patient_age", "age"), ("tumour_size", "tumor_size_cm"),
                                               ("death_dat", "death_date"), ("ECOG PS", "ecog")])
def test_mapping_to_a_wrong_name_suggests_the_column_meant(tmp_path, target, meant):
    path = tmp_path / "c.csv"
    as_text(make_cohort()).rename(columns={"age": "Age at 2L"}).to_csv(path, index=False)
    with pytest.raises(ConfigError, match=re.escape(f"maps 'Age at 2L' to {target!r}, which is not a column of the "
                                                    f"data dictionary (did you mean {meant!r}?)")):
        read_cohort(path, config=config_of(columns={"Age at 2L": target}))


def test_an_unmapped_column_that_looks_like_a_dictionary_column_gets_the_mapping_line(tmp_path):
    path = tmp_path / "c.csv"
    as_text(make_cohort()).rename(columns={"age": "Age at 2L"}).to_csv(path, index=False)
    [error] = check(path).errors
    assert (error.rule, error.column) == ("misspelled_column", "age at 2l")
    assert "did you mean 'age'?" in error.message and "extract.columns: {'age at 2l': age}" in error.message
    assert check(path, config_of(columns={"Age at 2L": "age"})).ok


# ----------------------------------------------------------------------------- formula-like text
def test_formula_like_text_cells_are_warned_per_column_with_rows(tmp_path):
    from hcc_utils.report.spreadsheet import neutralise_csv_formulas

    text = as_text(make_cohort())
    text.loc[[0, 2], "patient_id"] = ["=HYPERLINK(\"x\")", "@SUM(A1)"]
    text.loc[3, "centre"] = "-severance"
    text.loc[4, "centre"] = "-1.5"  # a number, not a formula
    path = tmp_path / "c.csv"
    text.to_csv(path, index=False)
    report = check(path)
    assert report.ok
    warned = {v.column: v.message for v in report.warnings if v.rule == "formula_text"}
    assert warned == {
        "patient_id": "2 text cells start with '=', '+', '-' or '@' (rows 2, 4): a spreadsheet opening the file "
                      "would run them as formulas; the build writes such cells into analysis.csv with a leading ' "
                      "so that they stay text",
        "centre": "1 text cell starts with '=', '+', '-' or '@' (row 5): a spreadsheet opening the file would run "
                  "them as formulas; the build writes such cells into analysis.csv with a leading ' so that they "
                  "stay text",
    }
    # one rule: the build's neutraliser quotes exactly these cells
    copy = tmp_path / "copy.csv"
    text[["patient_id", "centre"]].to_csv(copy, index=False)
    assert neutralise_csv_formulas(copy) == {"patient_id": 2, "centre": 1}


# ----------------------------------------------------------------------------- the own-cohort scenario
AUTHOR_NAMES = {"patient_id": "Patient ID", "centre": "Hospital", "second_line_regimen": "2L regimen",
                "second_line_start_date": "2L start", "first_line_end_reason": "Reason ATE/BEV stopped",
                "progression_date": "Date of progression", "death_date": "Date of death",
                "last_followup_date": "Last visit", "data_cutoff_date": "Cut-off", "age": "Age (years)",
                "tumor_size_cm": "Largest tumour (cm)", "afp_ng_ml": "AFP", "pivka_mau_ml": "PIVKA-II"}


def author_extract(tmp_path) -> tuple:
    """The book's example: a workbook whose cohort is on its second sheet, with the author's column names and
    DD/MM/YYYY dates, and a CP949 CSV copy of it (Korean hospital names)."""
    text = day_first(as_text(make_cohort()))
    text["centre"] = ["세브란스병원" if i % 2 else "분당차병원" for i in range(len(text))]
    text = text.rename(columns=AUTHOR_NAMES)
    workbook = tmp_path / "hospital_extract.xlsx"
    with pd.ExcelWriter(workbook) as writer:
        pd.DataFrame({"note": ["extract of 2024-01-15"]}).to_excel(writer, sheet_name="README", index=False)
        text.to_excel(writer, sheet_name="Cohort 2024", index=False)
    copy = tmp_path / "hospital_extract.csv"
    copy.write_bytes(text.to_csv(index=False).encode("cp949"))
    config = {"extract": {"sheet": "Cohort 2024", "date_format": "DD/MM/YYYY",
                          "columns": {author: ours for ours, author in AUTHOR_NAMES.items()}}}
    return workbook, copy, config, text


def test_the_own_cohort_example_reads_alike_from_the_workbook_and_its_cp949_copy(tmp_path):
    workbook, copy, config, _ = author_extract(tmp_path)
    config = parse_config(config, "test")
    from_workbook, from_copy = read_cohort(workbook, config=config), read_cohort(copy, config=config)
    assert from_copy.attrs["encoding"] == "cp949"
    pd.testing.assert_frame_equal(from_workbook, from_copy)
    assert from_workbook["death_date"].equals(make_cohort()["death_date"])
    assert from_workbook["centre"].iloc[:2].tolist() == ["분당차병원", "세브란스병원"]
    assert check(workbook, config).ok and check(copy, config).ok
