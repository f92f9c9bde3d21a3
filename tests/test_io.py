"""Tests of hcc_utils.data.readers.read_cohort: file-level rejection and normalisation."""

from __future__ import annotations

import datetime
import os
import re
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from openpyxl.utils.datetime import CALENDAR_MAC_1904

from cohort_factory import as_text, make_cohort, write_cohort
from hcc_utils.config import parse_config
from hcc_utils.data.readers import CohortFileError, read_cohort
from hcc_utils.data.validate import validate_cohort


def assert_file_error(path, *fragments):
    with pytest.raises(CohortFileError) as caught:
        read_cohort(path)
    message = str(caught.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ----------------------------------------------------------------------------- rejected files
def test_missing_file_is_named(tmp_path):
    assert_file_error(tmp_path / "nowhere.csv", "does not exist")


def test_directory_is_not_a_file(tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert_file_error(folder, "not a file")


def test_unknown_extension(tmp_path):
    path = tmp_path / "cohort.json"
    path.write_text('{"patient_id": "P001"}')
    assert_file_error(path, "unsupported file type '.json'", ".csv", ".xlsx", ".parquet")


def test_no_extension(tmp_path):
    path = tmp_path / "cohort"
    path.write_text("patient_id\nP001\n")
    assert_file_error(path, "no extension")


@pytest.mark.parametrize("extension", [".csv", ".xlsx", ".xls", ".parquet"])
def test_zero_byte_file(tmp_path, extension):
    path = tmp_path / f"empty{extension}"
    path.write_bytes(b"")
    assert_file_error(path, "is empty")


def test_whitespace_only_csv(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n\n   \n")
    assert_file_error(path, "empty")


def test_binary_junk_csv(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes() + b"\x00")
    assert_file_error(path, "binary")


def test_excel_saved_with_csv_extension(tmp_path):
    path = write_cohort(make_cohort(), tmp_path / "cohort.xlsx")
    renamed = path.rename(tmp_path / "cohort.csv")
    assert_file_error(renamed, "Excel", ".xlsx")


def test_csv_with_one_column_of_garbage(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_text("lorem ipsum dolor\nsit amet\nconsectetur\n")
    assert_file_error(path, "not a cohort table", "'lorem ipsum dolor'", "delimiter")


def test_csv_of_unrelated_table(tmp_path):
    path = tmp_path / "prices.csv"
    pd.DataFrame({"item": ["a", "b"], "price": [1, 2]}).to_csv(path, index=False)
    assert_file_error(path, "none of its 2 columns")


def test_ragged_csv_names_the_line(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("patient_id,centre\nP001,a\nP002,b,extra,more\n")
    assert_file_error(path, "not a well-formed CSV", "line 3")


@pytest.mark.parametrize("extension", [".csv", ".xlsx", ".parquet"])
def test_header_only(tmp_path, extension):
    path = write_cohort(make_cohort().iloc[0:0], tmp_path / f"header_only{extension}")
    assert_file_error(path, "header row but no data rows")


def test_excel_with_empty_first_sheet(tmp_path):
    path = tmp_path / "blank.xlsx"
    workbook = openpyxl.Workbook()
    workbook.save(path)
    assert_file_error(path, "worksheet 'Sheet' is empty")


def test_excel_without_worksheets(tmp_path):
    template = tmp_path / "template.xlsx"
    openpyxl.Workbook().save(template)
    path = tmp_path / "no_sheets.xlsx"
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", data)
            target.writestr(item, data)
    assert_file_error(path, "without any worksheet")


def test_excel_sheet_selection(tmp_path):
    path = tmp_path / "two_sheets.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"notes": ["read me"]}).to_excel(writer, sheet_name="README", index=False)
        make_cohort().to_excel(writer, sheet_name="cohort", index=False)
    assert len(read_cohort(path, sheet="cohort")) == 40
    assert len(read_cohort(path, sheet=1)) == 40
    with pytest.raises(CohortFileError, match="no worksheet 'data'; its sheets are 'README', 'cohort'"):
        read_cohort(path, sheet="data")
    with pytest.raises(CohortFileError, match="not a cohort table"):
        read_cohort(path)  # first sheet is the README


@pytest.mark.parametrize("extension", [".xlsx", ".xls", ".parquet"])
def test_corrupt_binary_files(tmp_path, extension):
    path = tmp_path / f"corrupt{extension}"
    path.write_bytes(b"this is not a workbook nor parquet" * 20)
    message = assert_file_error(path)
    assert {"xlsx": "not a readable .xlsx", "xls": "legacy Excel 97-2003", "parquet": "not a readable Parquet"}[
        extension[1:]
    ] in message


def test_duplicate_columns_after_normalisation(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("patient_id,Age,age \nP001,60,61\n")
    assert_file_error(path, "'Age'", "'age '", "both mean column 'age'")


# ----------------------------------------------------------------------------- identical frames
def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The read frame with its categorical (category-type) columns as object text, missing as None."""
    plain = frame.copy()
    for name in plain.columns:
        if isinstance(plain[name].dtype, pd.CategoricalDtype):
            values = plain[name].astype(object)
            plain[name] = values.where(values.notna(), None)
    return plain


def test_csv_xlsx_parquet_give_identical_frames(tmp_path):
    cohort = make_cohort()
    frames = {ext: read_cohort(write_cohort(cohort, tmp_path / f"cohort.{ext}")) for ext in ("csv", "xlsx", "parquet")}
    pd.testing.assert_frame_equal(frames["csv"], frames["xlsx"])
    pd.testing.assert_frame_equal(frames["csv"], frames["parquet"])


def test_read_types_match_dictionary(tmp_path):
    frame = read_cohort(write_cohort(make_cohort(), tmp_path / "cohort.csv"))
    assert list(frame.columns) == list(make_cohort().columns)
    assert isinstance(frame.index, pd.RangeIndex)
    assert frame["ecog"].dtype == "Int64"
    assert frame["age"].dtype == "float64"
    assert frame["lymph_node_metastasis"].dtype == "boolean"
    assert frame["death_date"].dtype == "datetime64[ns]"
    assert isinstance(frame["second_line_regimen"].dtype, pd.CategoricalDtype)  # few values: a categorical
    assert frame["patient_id"].dtype == object
    pd.testing.assert_frame_equal(_plain(frame), make_cohort(), check_dtype=True)


# ----------------------------------------------------------------------------- normalisation
def test_normalises_names_categories_booleans_and_missing(tmp_path):
    text = as_text(make_cohort().head(3))
    text = text.rename(columns={"patient_id": " Patient_ID ", "sex": "SEX"})
    text.loc[0, "first_line_end_reason"] = "  Progression "
    text.loc[0, "lymph_node_metastasis"] = " Yes"
    text.loc[1, "lymph_node_metastasis"] = "N"
    text.loc[2, "lymph_node_metastasis"] = "TRUE"
    text.loc[0, "afp_ng_ml"] = "NA"
    text.loc[1, "afp_ng_ml"] = " n/a "
    text.loc[2, "bclc_stage"] = " C "
    text.loc[0, "third_line_regimen"] = "None"  # a regimen value, not a missing marker
    path = tmp_path / "messy.csv"
    text.to_csv(path, index=False)
    frame = read_cohort(path)
    assert "patient_id" in frame.columns and "sex" in frame.columns
    assert frame.loc[0, "patient_id"] == "P001"
    assert frame.loc[0, "first_line_end_reason"] == "progression"
    assert frame["lymph_node_metastasis"].tolist() == [True, False, True]
    assert frame["afp_ng_ml"].isna().tolist() == [True, True, False]
    assert frame.loc[2, "bclc_stage"] == "c"
    assert frame.loc[0, "third_line_regimen"] == "none"


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_other_delimiters_and_bom(tmp_path, delimiter):
    path = tmp_path / "semicolon.csv"
    text = as_text(make_cohort())
    path.write_bytes(b"\xef\xbb\xbf" + text.to_csv(index=False, sep=delimiter).encode("utf-8"))
    frame = read_cohort(path)
    pd.testing.assert_frame_equal(_plain(frame), make_cohort())


def test_unconvertible_values_are_kept_as_text(tmp_path):
    text = as_text(make_cohort())
    text.loc[4, "ecog"] = "2.5"
    text.loc[5, "second_line_start_date"] = "05/03/2022"
    text.loc[6, "age"] = "sixty"
    text.loc[7, "macrovascular_invasion"] = "maybe"
    path = tmp_path / "bad.csv"
    text.to_csv(path, index=False)
    frame = read_cohort(path)  # does not raise: validation reports these
    assert frame.loc[4, "ecog"] == "2.5"
    assert frame.loc[5, "second_line_start_date"] == "05/03/2022"
    assert frame.loc[6, "age"] == "sixty"
    assert frame.loc[7, "macrovascular_invasion"] == "maybe"
    assert frame["tumor_number"].dtype == "Int64"  # untouched columns still converted


def test_date_time_part_dropped_and_impossible_date_kept(tmp_path):
    text = as_text(make_cohort())
    text.loc[0, "data_cutoff_date"] = "2023-12-31 00:00:00"
    text.loc[1, "data_cutoff_date"] = "2023-12-31T10:30"
    path = tmp_path / "times.csv"
    text.to_csv(path, index=False)
    assert read_cohort(path)["data_cutoff_date"].eq(pd.Timestamp("2023-12-31")).all()
    text.loc[2, "data_cutoff_date"] = "2023-02-30"
    text.to_csv(path, index=False)
    assert read_cohort(path).loc[2, "data_cutoff_date"] == "2023-02-30"


def test_unknown_columns_are_kept(tmp_path):
    text = as_text(make_cohort())
    text["Comment "] = "x"
    path = tmp_path / "extra.csv"
    text.to_csv(path, index=False)
    assert "comment" in read_cohort(path).columns


def test_accepts_path_string(tmp_path):
    path = write_cohort(make_cohort(), tmp_path / "cohort.csv")
    assert len(read_cohort(os.fspath(path))) == 40


def test_exact_duplicate_csv_header(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("patient_id,age,age\nP001,60,61\n")
    assert_file_error(path, "both mean column 'age'")


# ----------------------------------------------------------------------------- the dictionary behind the reader
def test_dictionary_loads_from_repository_and_explicit_path(tmp_path):
    from hcc_utils.data.dictionary import default_dictionary_path, load_dictionary

    default = load_dictionary()
    assert default_dictionary_path().name == "data_dictionary.yml"
    assert load_dictionary(default.path) == default
    assert default.column("ecog").maximum == 4
    assert default.column("second_line_regimen").allowed[-1] == "none"
    assert len(default.adverse_event_columns) == 14
    assert "none" not in default.missing_values


def test_malformed_dictionary_is_refused(tmp_path):
    from hcc_utils.data.dictionary import DictionaryError, load_dictionary

    path = tmp_path / "dictionary.yml"
    path.write_text("columns:\n  - {name: age, type: numeric}\n")
    with pytest.raises(DictionaryError, match="type 'numeric' is not one of"):
        load_dictionary(path)
    with pytest.raises(DictionaryError, match="does not exist"):
        load_dictionary(tmp_path / "absent.yml")


def test_dictionary_markdown_lists_every_column():
    from hcc_utils.data.dictionary import dictionary_markdown, dictionary_table, load_dictionary

    markdown = dictionary_markdown()
    lines = markdown.splitlines()
    assert lines[0] == "| Column | Type | Required | Values | Plausible | Unit | Description |"
    assert len(lines) == 2 + len(load_dictionary().columns)
    assert "| `ecog` | integer | enrolled | 0 to 4 | 0 to 2 |" in markdown
    assert "Worst CTCAE v5.0 grade of treatment-related proteinuria" in markdown
    derived = dictionary_table(section="derived")
    assert {"os_months", "pfs_event", "child_pugh_b"} <= set(derived["Variable"])
    assert dictionary_markdown(section="derived").startswith("| Variable | Derivation |")


def test_short_rows_are_read_as_missing_values(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("patient_id,centre,age\nP001,a,60\nP002,b\n")
    frame = read_cohort(path)
    assert frame["patient_id"].tolist() == ["P001", "P002"]
    assert frame["age"].isna().tolist() == [False, True]


def test_xlsx_saved_with_xls_extension_is_read(tmp_path):
    path = write_cohort(make_cohort(), tmp_path / "cohort.xlsx").rename(tmp_path / "cohort.xls")
    pd.testing.assert_frame_equal(_plain(read_cohort(path)), make_cohort())


def test_synthetic_cohort_written_as_parquet_reads_as_its_csv(tmp_path):
    from hcc_utils.synthetic.generator import write_synthetic_cohort

    parquet = write_synthetic_cohort(tmp_path / "cohort.parquet", seed=7, scale=0.5, calibrate=False)
    csv = write_synthetic_cohort(tmp_path / "cohort.csv", seed=7, scale=0.5, calibrate=False)
    assert parquet.read_bytes()[:4] == b"PAR1"  # Parquet, not CSV under another name
    frame = read_cohort(parquet)
    pd.testing.assert_frame_equal(frame, read_cohort(csv))
    assert len(frame) > 50 and frame["death_date"].dtype == "datetime64[ns]"


# ----------------------------------------------------------------------------- encodings and line ends
KOREAN_CENTRES = ["세브란스병원", "분당차병원"]  # Severance Hospital, CHA Bundang Medical Center
WESTERN_CENTRES = ["Hôpital Saint-Éloi", "Universitätsklinikum Köln"]


def cohort_with_centres(names) -> pd.DataFrame:
    text = as_text(make_cohort())
    text["centre"] = [names[i % 2] for i in range(len(text))]
    return text


@pytest.mark.parametrize(("encoding", "bom", "separator", "centres"), [
    ("utf-8", b"", ",", KOREAN_CENTRES),
    ("utf-8", b"\xef\xbb\xbf", ",", KOREAN_CENTRES),  # Excel's "CSV UTF-8"
    ("utf-16-le", b"\xff\xfe", "\t", KOREAN_CENTRES),  # Excel's "Unicode text": UTF-16LE with BOM, tab-separated
    ("cp949", b"", ",", KOREAN_CENTRES),  # Korean hospital systems and Korean Excel
    ("euc-kr", b"", ",", KOREAN_CENTRES),
    ("cp1252", b"", ";", WESTERN_CENTRES),  # a Western Excel's "CSV"
    ("latin-1", b"", ",", WESTERN_CENTRES),
])
def test_each_encoding_is_detected_and_reads_as_the_utf8_file(tmp_path, encoding, bom, separator, centres):
    text = cohort_with_centres(centres)
    reference = tmp_path / "utf8.csv"
    text.to_csv(reference, index=False)
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(bom + text.to_csv(index=False, sep=separator, lineterminator="\r\n").encode(encoding))
    frame = read_cohort(path)
    pd.testing.assert_frame_equal(frame, read_cohort(reference))
    assert frame["centre"].tolist()[:2] == centres  # decoded, not garbled
    expected = {"euc-kr": "cp949", "latin-1": "cp1252", "utf-16-le": "utf-16"}.get(encoding, encoding)
    assert frame.attrs["encoding"] == expected and frame.attrs["read_notes"] == []


def test_korean_text_is_not_read_as_western_text(tmp_path, monkeypatch):
    """The detection is what keeps CP949 text from being read as cp1252 mojibake (shown by disabling it)."""
    import hcc_utils.data.encodings as encodings

    path = tmp_path / "cp949.csv"
    path.write_bytes(cohort_with_centres(KOREAN_CENTRES).to_csv(index=False).encode("cp949"))
    assert read_cohort(path)["centre"].iloc[1] == "분당차병원"
    monkeypatch.setattr(encodings, "_korean_score", lambda text: 0.0)  # injected defect: Hangul not recognised
    garbled = read_cohort(path)
    assert garbled.attrs["encoding"] == "cp1252" and garbled["centre"].iloc[1] == "ºÐ´çÂ÷º´¿ø"


def test_an_uncertain_encoding_guess_names_the_choice_and_the_key(tmp_path):
    text = as_text(make_cohort())
    text.loc[3, "centre"] = "서울"  # two Korean syllables: four bytes that cp1252 reads too
    path = tmp_path / "one_word.csv"
    path.write_bytes(text.to_csv(index=False).encode("cp949"))
    frame = read_cohort(path)
    assert frame["centre"].iloc[3] == "서울"
    [(severity, rule, message, column)] = frame.attrs["read_notes"]
    assert (severity, rule, column) == ("warning", "encoding", None)
    assert "guessed as cp949" in message and "'서울' as cp949" in message and "extract.encoding: cp1252" in message
    report = validate_cohort(frame)
    assert report.ok and [v.rule for v in report.warnings] == ["encoding"]


def test_a_declared_encoding_that_does_not_fit_is_reported_cell_by_cell(tmp_path):
    path = tmp_path / "cp949.csv"
    path.write_bytes(cohort_with_centres(KOREAN_CENTRES).to_csv(index=False).encode("cp949"))
    config = parse_config({"extract": {"encoding": "utf-8"}}, "test")
    report = validate_cohort(read_cohort(path, config=config), source=path.name, config=config)
    garbled = [v for v in report.errors if v.rule == "encoding"]
    assert len(garbled) == 40 and {v.column for v in garbled} == {"centre"}
    assert (garbled[0].row_number, garbled[0].patient_id) == (2, "P001") and "\ufffd" in garbled[0].value
    assert {v.rule for v in report.errors} == {"encoding"}  # and no second error for the same cells
    [note] = [v for v in report.warnings if v.rule == "encoding"]
    assert "the whole file reads as cp949" in note.message and "extract.encoding: cp949" in note.message


def test_a_utf8_file_with_a_stray_byte_keeps_its_text_and_reports_the_cell(tmp_path):
    data = cohort_with_centres(KOREAN_CENTRES).to_csv(index=False).encode("utf-8")
    row_4 = data.index("세브란스병원".encode(), data.index(b"P003"))
    path = tmp_path / "mixed.csv"
    path.write_bytes(data[:row_4] + b"\xc0" + data[row_4:])  # one byte pasted from another system
    frame = read_cohort(path)
    assert frame.attrs["encoding"] == "utf-8" and frame["centre"].iloc[1] == "분당차병원"
    [bad] = validate_cohort(frame, source=path.name).errors
    assert (bad.rule, bad.row_number, bad.patient_id, bad.value) == ("encoding", 4, "P003", "\ufffd세브란스병원")


@pytest.mark.parametrize("line_end", ["\r\n", "\r"])
def test_crlf_and_lone_cr_line_ends(tmp_path, line_end):
    text = as_text(make_cohort())
    path = tmp_path / "lines.csv"
    path.write_bytes(text.to_csv(index=False, lineterminator=line_end).encode())
    frame = read_cohort(path)
    pd.testing.assert_frame_equal(_plain(frame), make_cohort())
    assert not any("\r" in str(name) for name in frame.columns)


# ----------------------------------------------------------------------------- Excel's 1904 date system
def _workbook_1904(path, serial_as):
    """The cohort in a 1904-system workbook: dates as date cells, death_date as serial numbers (typed or text)."""
    cohort = make_cohort()
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904  # as old Mac workbooks count days: day 0 is 1904-01-01
    sheet = book.active
    sheet.append(list(cohort.columns))
    for row in cohort.astype(object).where(cohort.notna(), None).itertuples(index=False):
        cells = [value.to_pydatetime() if isinstance(value, pd.Timestamp) else value for value in row]
        death = cohort.columns.get_loc("death_date")
        if cells[death] is not None:
            serial = (cells[death] - datetime.datetime(1904, 1, 1)).days
            cells[death] = serial_as(serial)
        sheet.append(cells)
    book.save(path)
    return cohort


@pytest.mark.parametrize("serial_as", [int, str], ids=["number cells", "text cells"])
def test_excel_1904_date_system(tmp_path, serial_as, monkeypatch):
    import hcc_utils.data.coerce as coerce

    cohort = _workbook_1904(tmp_path / "mac.xlsx", serial_as)
    frame = read_cohort(tmp_path / "mac.xlsx")
    assert frame.attrs["excel_date_system"] == 1904
    assert frame["second_line_start_date"].equals(cohort["second_line_start_date"])  # date cells
    assert frame["death_date"].equals(cohort["death_date"])  # serial numbers, counted from 1904-01-01
    # Injected defect: serial numbers counted in the 1900 system come out 1462 days early (the difference
    # Microsoft documents between the two systems); the date cells, converted by openpyxl, do not move.
    monkeypatch.setattr(coerce, "EXCEL_1904_EPOCH", coerce.EXCEL_EPOCH)
    wrong = read_cohort(tmp_path / "mac.xlsx")
    assert wrong["death_date"].equals(cohort["death_date"] - pd.Timedelta(days=1462))
    assert wrong["second_line_start_date"].equals(cohort["second_line_start_date"])


def test_utf16_without_a_byte_order_mark_is_read_with_a_note(tmp_path):
    text = cohort_with_centres(KOREAN_CENTRES)
    path = tmp_path / "bare.csv"
    path.write_bytes(text.to_csv(index=False, sep="\t").encode("utf-16-le"))  # no BOM
    frame = read_cohort(path)
    assert frame["centre"].tolist()[:2] == KOREAN_CENTRES and frame.attrs["encoding"] == "utf-16-le"
    [(_, rule, message, _)] = frame.attrs["read_notes"]
    assert rule == "encoding" and "UTF-16-LE (UTF-16 without a byte-order mark)" in message
