"""User errors on the command line end with a message on stderr and exit status 2, never a traceback; the
messages give commands that work as printed."""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys

import pandas as pd
import pytest

from hcc_utils.config import REPO_ROOT
from hcc_utils.pipeline.cli import main

COHORT = REPO_ROOT / "data" / "synthetic_cohort.csv"
pytestmark = pytest.mark.portable  # also run by CI in portable mode (HCC_STUDY_PORTABLE=1)


def test_directory_given_as_data_is_refused_with_exit_2(tmp_path, capsys):
    status = main(["run", "--data", str(tmp_path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2 and "is a folder" in err and "Traceback" not in err


def test_unreadable_data_file_is_refused_with_exit_2(tmp_path, monkeypatch, capsys):
    import hcc_utils.data.readers
    import hcc_utils.pipeline.runner

    locked = tmp_path / "locked.csv"
    locked.write_text(COHORT.read_text())
    locked.chmod(0)  # enough when not root; the tests run as root, so the read is refused below as well

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(hcc_utils.pipeline.runner, "read_cohort", refuse)
    monkeypatch.setattr(hcc_utils.data.readers, "read_cohort", refuse)
    assert main(["run", "--data", str(locked), "--out", str(tmp_path / "out")]) == 2
    assert "cannot be read" in capsys.readouterr().err
    assert main(["validate", str(locked)]) == 2
    err = capsys.readouterr().err
    assert "Permission denied" in err and str(locked) in err


def test_groups_the_data_cannot_hold_are_refused_with_exit_2(tmp_path, capsys):
    """Any regimen may be a group (the list is data), but a group without patients stops the run before any
    notebook, with exit 2; the validation report names the group."""
    config = tmp_path / "study.yml"
    config.write_text(f"data: {COHORT}\ngroups:\n  treatment: nivolumab\n  control: sorafenib\n")
    assert main(["run", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "group_size" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "results.csv").exists()
    assert main(["validate", str(COHORT), "--config", str(config)]) == 2
    out = capsys.readouterr().out
    assert "study group 'nivolumab' (groups.treatment) has 0 enrolled patients" in out
    assert re.search(r"second-line regimens of the patients eligible .*: sorafenib \(\d+\), lenvatinib \(\d+\)", out)


def test_validate_into_a_closed_pipe_ends_quietly(tmp_path):
    cohort = pd.read_csv(COHORT, dtype=str, keep_default_na=False)
    cohort["ecog"] = "7"  # one violation per row: a long report
    bad = tmp_path / "bad.csv"
    cohort.to_csv(bad, index=False)
    process = subprocess.Popen([sys.executable, "-m", "hcc_utils", "validate", str(bad)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    process.stdout.close()  # as `| head` does once it has its lines
    err = process.stderr.read().decode()
    process.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert process.returncode == 141


def test_csv_formula_cells_are_neutralised_but_numbers_stay(tmp_path):
    from hcc_utils.report.spreadsheet import neutralise_csv_formulas

    path = tmp_path / "analysis.csv"
    pd.DataFrame({"patient_id": ["=HYPERLINK(\"x\")", "P2", "@SUM(A1)"], "centre": ["+cmd|' /C calc'!A0", "-x", "ok"],
                  "age": [-1.5, 60, 70], "delta": ["-3", "+4", "5"]}).to_csv(path, index=False)
    counts = neutralise_csv_formulas(path)
    assert counts == {"patient_id": 2, "centre": 2}
    table = pd.read_csv(path, dtype=str)
    assert table["patient_id"].tolist() == ["'=HYPERLINK(\"x\")", "P2", "'@SUM(A1)"]
    assert table["centre"].tolist() == ["'+cmd|' /C calc'!A0", "'-x", "ok"]
    assert table["age"].tolist() == ["-1.5", "60.0", "70.0"] and table["delta"].tolist() == ["-3", "+4", "5"]


def test_validate_lists_every_problem_of_a_malformed_extract_in_words(tmp_path):
    """A malformed file through the command line: exit 2, no traceback, every problem by row, patient, column and
    rule, numbers written as numbers and nouns agreeing with their counts."""
    from cohort_factory import as_text, make_cohort

    text = as_text(make_cohort())
    text.loc[1, "age"] = "sixty"                       # P002: not a number
    text.loc[2, "afp_ng_ml"] = "1,401"                 # P003: 1401 or 1.401?
    text.loc[5, "ecog"] = "7"                          # P006: above the maximum
    text.loc[6, "lymph_node_metastasis"] = "1.0"       # P007: yes, as a spreadsheet writes it (no problem)
    text.loc[7, "death_date"] = "05/03/21"             # P008: a two-digit year without a stated century
    text.loc[8, "patient_id"] = "=P009"                # P009: a formula-like id
    text = text.rename(columns={"tumor_size_cm": "tumour size"})
    text["centre"] = ["세브란스병원" if i % 2 else "분당차병원" for i in range(len(text))]
    data = text.to_csv(index=False).encode()
    at = data.index("분당차병원".encode(), data.index(b"P011"))
    path = tmp_path / "malformed.csv"
    path.write_bytes(data[:at] + b"\xc0" + data[at:])  # P011: a byte that is not UTF-8 in a UTF-8 file
    (tmp_path / "study.yml").write_text(f"data: {path.name}\ngroups: {{treatment: lenvatinib, control: sorafenb}}\n")
    run = subprocess.run([sys.executable, "-m", "hcc_utils", "validate", "--config", str(tmp_path / "study.yml")],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, timeout=300)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    report = run.stdout
    expected = [  # (row, patient, column, rule)
        (3, "P002", "age", "type"), (4, "P003", "afp_ng_ml", "type"), (7, "P006", "ecog", "range"),
        (9, "P008", "death_date", "type"), (12, "P011", "centre", "encoding"),
    ]
    for row, patient, column, rule in expected:
        assert re.search(rf"^  row {row} \(patient {patient}\), column {column}: .* \[{rule}\]$", report, re.M), rule
    for column, rule in (("tumour size", "misspelled_column"), ("second_line_regimen", "group_size"),
                         ("patient_id", "formula_text"), (None, "encoding")):
        assert re.search(rf"^  {'column ' + re.escape(column) + ': ' if column else ''}.* \[{rule}\]$", report,
                         re.M), rule
    assert "did you mean 'sorafenib'?" in report and "did you mean 'tumor_size_cm'?" in report
    assert "P007" not in report  # 1.0 is yes
    assert "np." not in report and "(s)" not in report
    assert not re.search(r"\b1 (errors|warnings|rows|patients|cells|columns)\b", report)
    assert not re.search(r"\b([02-9]|\d\d+) (error|warning|row|patient|cell|column)\b(?!s)", report)
    assert report.startswith("Validation of malformed.csv: 40 data rows, 7 errors, 2 warnings.")


def test_invalid_data_message_gives_the_validate_command_with_the_runs_own_configuration(tmp_path, capsys):
    """The command to see every row concerned names the run's configuration file (quoted when its path has a
    space), or none when it is the default study.yml; never a placeholder."""
    cohort = pd.read_csv(COHORT, dtype=str, keep_default_na=False)
    cohort.loc[5, "ecog"] = "7"
    bad = tmp_path / "bad.csv"
    cohort.to_csv(bad, index=False)
    assert main(["run", "--data", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"See every row concerned with: hcc-study validate {bad}\n" in err
    config = tmp_path / "my study.yml"
    config.write_text("seed: 8\n", encoding="utf-8")
    assert main(["run", "--data", str(bad), "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f'See every row concerned with: hcc-study validate {bad} --config "{config}"\n' in err
    assert "<the configuration" not in err


def test_synth_check_regenerates_and_compares_with_the_recorded_checksum(tmp_path, capsys):
    """`hcc-study synth` records the written cohort's SHA-256 beside it; `synth --check` regenerates into a temporary
    folder and compares (status 0), reports a record the bytes do not match (status 1; injected: a changed record),
    refuses a file without a record (status 2), and never rewrites the checked file."""
    out = tmp_path / "cohort.csv"
    arguments = ["synth", "--seed", "7", "--scale", "0.5", "--no-calibrate", "--out", str(out)]
    assert main(arguments) == 0
    record = tmp_path / "cohort.csv.sha256"
    written = out.read_bytes()
    assert record.read_text(encoding="utf-8").split() == [hashlib.sha256(written).hexdigest(), "cohort.csv"]
    assert main([*arguments, "--check"]) == 0
    assert "the same bytes" in capsys.readouterr().out
    record.write_text("0" * 64 + "  cohort.csv\n", encoding="utf-8")
    assert main([*arguments, "--check"]) == 1
    assert "differs" in capsys.readouterr().err and out.read_bytes() == written
    record.unlink()
    assert main([*arguments, "--check"]) == 2
    assert "nothing to check against" in capsys.readouterr().err
