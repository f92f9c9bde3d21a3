"""``hcc-study bench``: its CSV and table, its measurements and its errors (no timing is asserted)."""
from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hcc_utils.config import REPO_ROOT
from hcc_utils.pipeline.bench import COLUMNS, Bench, BenchError, format_table, measure, parse_sizes
from hcc_utils.pipeline.bench_book import EDIT, edit_markdown, jupyter_book_project
from hcc_utils.study import SECTIONS

ENV = {**os.environ, "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def hcc_study(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hcc_utils", *args], capture_output=True, text=True, env=ENV,
                          cwd=REPO_ROOT)


# ------------------------------------------------------------------------------------------ errors
def test_sizes_are_parsed_sorted_and_deduplicated():
    assert parse_sizes("1e4,1e5,1e6") == [10_000, 100_000, 1_000_000]
    assert parse_sizes("1e5, 1e4,10000,2_000") == [2_000, 10_000, 100_000]


@pytest.mark.parametrize("text, message", [
    ("1e4,abc", "'abc' is not a number"),
    ("1e4,", "'' is not a number"),
    ("12345.5", "'12345.5' is not a whole number of patients"),
    ("nan", "'nan' is not a whole number of patients"),
    ("10", "10 is outside 1,000..1e+08 patients"),
    ("1e9", "1e9 is outside 1,000..1e+08 patients"),
])
def test_bad_sizes_are_named(text, message):
    with pytest.raises(BenchError, match=message.replace("+", r"\+").replace(".", r"\.")):
        parse_sizes(text)


def test_bad_sizes_stop_the_command_with_one_line_and_exit_2(tmp_path):
    done = hcc_study("bench", "--sizes", "1e4,lots", "--out", str(tmp_path / "bench"))
    assert done.returncode == 2
    assert done.stderr.strip() == ("hcc-study bench: --sizes: 'lots' is not a number "
                                   "(expected e.g. --sizes 1e4,1e5,1e6)")
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "bench").exists()  # nothing generated


def test_a_folder_given_as_csv_is_refused_with_exit_2(tmp_path):
    done = hcc_study("bench", "--quick", "--out", str(tmp_path), "--csv", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip() == f"hcc-study bench: --csv: {tmp_path} is a folder"


# ------------------------------------------------------------------------------------------ measuring
def test_measure_takes_the_step_seconds_and_the_child_peak_memory():
    # the child holds 300 MB of ones (written, so resident) and reports its own 0.25 s
    code = ("import numpy as np, json; a = np.ones(300 * 2**20 // 8); "
            "print('noise'); print(json.dumps({'seconds': 0.25}))")
    got = measure([sys.executable, "-c", code])
    assert got.seconds == 0.25 and got.error == ""
    assert 300 <= got.peak_mb < 600
    small = measure([sys.executable, "-c", "pass"])  # each measurement is its own process: no carried-over peak
    assert small.peak_mb < 100 and small.seconds > 0


def test_a_failing_step_is_noted_with_its_exit_status_and_last_line():
    got = measure([sys.executable, "-c", "import sys; print('first', file=sys.stderr); "
                                         "sys.exit('the cohort could not be read')"])
    assert math.isnan(got.seconds)
    assert got.error == "exit 1: the cohort could not be read"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_peer_past_its_timeout_is_stopped_with_its_children(tmp_path):
    pid_file = tmp_path / "pid"
    # the measured command's own child sleeps: both must go when the timeout stops the measurement
    code = ("import subprocess, sys; child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
            f"open({str(pid_file)!r}, 'w').write(str(child.pid)); child.wait()")
    got = measure([sys.executable, "-c", code], timeout=3)
    assert got.error == "stopped after 3 s (--peer-timeout)" and math.isnan(got.seconds)
    status = Path(f"/proc/{pid_file.read_text()}/status")
    for _ in range(100):  # SIGKILL is delivered at once, the exit itself may take a moment on a busy machine
        state = status.read_text().split("State:")[1].split()[0] if status.exists() else "gone"
        if state in ("gone", "Z"):  # killed (a zombie until its new parent reaps it)
            break
        time.sleep(0.1)
    assert state in ("gone", "Z")


def test_a_generated_cohort_in_the_output_folder_is_reused(tmp_path):
    cached = tmp_path / "cohorts" / "cohort_5000_seed7.parquet"
    cached.parent.mkdir()
    cached.write_bytes(b"cached")
    bench = Bench(tmp_path, tmp_path / "bench.csv", peers=False, quick=True, seed=7)
    assert bench.cohort(5000) == cached and cached.read_bytes() == b"cached"


def test_table_lists_step_size_seconds_memory_peer_and_ratio():
    rows = [{"step": "cox", "size": 10**6, "rows": 640_000, "seconds": 0.5, "peak_mb": 812.4, "peer": "lifelines",
             "peer_seconds": 1.5, "peer_peak_mb": 900.0, "ratio": 3.0, "note": ""},
            {"step": "book_cold", "size": 194, "rows": "bundled", "seconds": math.nan, "peak_mb": 400.0,
             "peer": "", "peer_seconds": math.nan, "peer_peak_mb": math.nan, "ratio": math.nan, "note": "exit 1"}]
    lines = format_table(rows).splitlines()
    assert lines[0].split() == ["step", "size", "seconds", "peak", "MB", "peer", "peer", "s", "ratio"]
    assert lines[2].split() == ["cox", "1e6", "0.500", "812", "lifelines", "1.500", "3.00"]
    assert lines[3].split() == ["book_cold", "bundled", "failed", "400"]


# ------------------------------------------------------------------------------------------ the book's sources
def test_jupyter_books_copy_executes_every_notebook_on_the_given_cohort(tmp_path):
    cohort = tmp_path / "cohort.parquet"
    project = jupyter_book_project(REPO_ROOT, tmp_path / "jb", cohort)
    assert yaml.safe_load((project / "_config.yml").read_text())["execute"] == {"execute_notebooks": "force",
                                                                               "timeout": -1}
    notebook = json.loads((project / "notebooks" / "05_survival.ipynb").read_text())
    parameters = next(c for c in notebook["cells"] if "parameters" in c["metadata"].get("tags", []))
    assert f"data_path = {str(cohort)!r}" in parameters["source"]
    assert f"output_dir = {str(project / '_manual' / '05_survival')!r}" in parameters["source"]
    assert (REPO_ROOT / "_toc.yml").read_text() == (project / "_toc.yml").read_text()


def test_the_markdown_edit_changes_one_markdown_cell_only(tmp_path):
    source = REPO_ROOT / "notebooks" / "05_survival.ipynb"
    edited = tmp_path / source.name
    edited.write_text(source.read_text())
    edit_markdown(edited)
    before, after = json.loads(source.read_text())["cells"], json.loads(edited.read_text())["cells"]
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if "".join(a["source"]) != "".join(b["source"])]
    assert len(before) == len(after) and len(changed) == 1
    assert after[changed[0]]["cell_type"] == "markdown" and after[changed[0]]["source"].endswith(EDIT)


# ------------------------------------------------------------------------------------------ a quick run
#: What ``hcc-study bench --quick`` reads: the package, the data (dictionary, targets), the settings and the pins
#: (``inputs_fingerprint`` adds every installed version and the Python version).
BENCH_INPUTS = ("hcc_utils", "data", "study.yml", "requirements.lock", "pyproject.toml")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """``hcc-study bench --quick``: its exit status and output, and its output folder (CSV, generated cohort).

    The run takes a minute (a 10^4 cohort generated, about twenty processes each importing the package), so a
    successful one is kept in ``.cache/test-bench/<key>`` (without its scratch folder ``work/``), the key being a
    hash of everything the command reads (``BENCH_INPUTS``, the installed versions): after any change of the code,
    data, settings or environment the bench runs again; a warm session with none of them changed checks the
    result that the very same inputs gave. The tests assert no timing. A fresh clone (CI) has no cache and runs it.
    """
    from conftest import TEST_CACHE, cache_lock, inputs_fingerprint

    key = inputs_fingerprint(BENCH_INPUTS, extra="hcc-study bench --quick")
    cached = TEST_CACHE / "test-bench" / key
    with cache_lock("bench"):
        if not (cached / "result.json").is_file():
            out = tmp_path_factory.mktemp("bench")
            done = hcc_study("bench", "--quick", "--out", str(out), "--csv", str(out / "rows.csv"))
            if done.returncode != 0 or inputs_fingerprint(BENCH_INPUTS, extra="hcc-study bench --quick") != key:
                return done, out  # a failure (or sources edited meanwhile) is reported, never kept
            shutil.rmtree(cached.parent, ignore_errors=True)  # the results of other inputs: stale
            shutil.copytree(out, cached, ignore=shutil.ignore_patterns("work"))
            (cached / "result.json").write_text(json.dumps({"stdout": done.stdout, "stderr": done.stderr}))
    result = json.loads((cached / "result.json").read_text())
    return subprocess.CompletedProcess(["hcc-study", "bench", "--quick"], 0, result["stdout"], result["stderr"]), cached


@pytest.mark.slow  # generates a 10^4 cohort and runs about twenty processes (a minute or two; cached, see quick_run)
def test_quick_run_writes_every_step_once_at_ten_thousand(quick_run):
    done, out = quick_run
    assert done.returncode == 0, done.stderr[-2000:]
    with (out / "rows.csv").open() as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames) == COLUMNS
    sections = [f"section:{m.__name__.rsplit('.', 1)[-1]}" for m in SECTIONS]
    ours = list(dict.fromkeys(r["step"] for r in rows))
    assert ours == ["read", "validate", "derive", "match", *sections, "analysis", "km_logrank", "cox"]
    assert {r["size"] for r in rows} == {"10000"}
    assert all(float(r["seconds"]) >= 0 and float(r["peak_mb"]) > 50 and "exit" not in r["note"] for r in rows)
    assert {r["rows"] for r in rows if r["step"] in ("read", "analysis")} == {"10000"}
    assert not any(r["step"].startswith("book") for r in rows) and not any(r["peer"].startswith("R") for r in rows)
    assert (out / "cohorts" / "cohort_10000_seed1.parquet").is_file()


@pytest.mark.slow
def test_quick_run_prints_the_table_and_a_progress_line_per_step(quick_run):
    done, out = quick_run
    table = done.stdout.splitlines()
    assert table[0].split()[:3] == ["step", "size", "seconds"]
    assert sum(line.startswith("section:") for line in table) == len(SECTIONS)
    progress = [line for line in done.stderr.splitlines() if line.startswith("bench: ") and " n=10,000: " in line]
    assert len(progress) >= 4 + len(SECTIONS) + 3
    try:
        import lifelines  # noqa: F401
    except ImportError:
        return
    peers = {line.split()[0]: line.split() for line in table if "lifelines" in line}
    assert set(peers) == {"km_logrank", "cox"}
    assert all(float(p[-1]) > 0 for p in peers.values())  # a ratio, whatever its value
