"""The papermill runner: order, parameters, failure reporting, atomic publishing, reuse and parallel runs.

These tests use a tiny project of their own (a _toc.yml and two or three notebooks) so they run in seconds. Its
notebooks are executed by papermill as in a real run, but their cells run in the test's process
(``in_process_notebooks``, tests/inprocess_engine.py) except in the tests marked ``real_kernel``: a failing cell's
report, the kernel-start retry (the retried notebook) and the parallel kernels' sockets are tested on real kernels.
"""
from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from hcc_utils.config import StudyConfig
from hcc_utils.pipeline import publish
from hcc_utils.pipeline.execute import NotebookTask
from hcc_utils.pipeline.runner import StudyRunError, longest_first, plan_tasks, run_study
from conftest import published

pytestmark = [pytest.mark.usefixtures("in_process_notebooks"), pytest.mark.portable]  # portable: CI runs it twice

RECORDING_CELL = textwrap.dedent(
    """
    from hcc_utils.report.recorder import ResultsRecorder
    recorder = ResultsRecorder(output_dir, "{name}")
    recorder.record("{name}.value", {value}, "quantity")
    recorder.record("{name}.seed", config["seed"], "count")
    recorder.save()
    """
)


def _notebook(path: Path, cells: list[str]) -> None:
    parameters = nbformat.v4.new_code_cell('data_path = ""\nconfig = {"seed": 0}\noutput_dir = "."\nrun_dir = "."')
    parameters.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[parameters] + [nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _project(tmp_path: Path, broken: bool = False) -> Path:
    root = tmp_path / "project"
    (root / "book").mkdir(parents=True)
    (root / "book" / "intro.md").write_text("# Intro\n")
    toc = {"format": "jb-book", "root": "book/intro",
           "chapters": [{"file": "notebooks/01_first"}, {"file": "notebooks/02_second"}, {"file": "book/summary"}]}
    (root / "_toc.yml").write_text(json.dumps(toc))
    _notebook(root / "notebooks" / "01_first.ipynb", [RECORDING_CELL.format(name="first", value=1.5)])
    second = [RECORDING_CELL.format(name="second", value=2)]
    if broken:
        second = ["x = 1", "raise ValueError('deliberately broken for the test')"]
    _notebook(root / "notebooks" / "02_second.ipynb", second)
    _notebook(root / "book" / "summary.ipynb", [
        "import pandas as pd, pathlib\n"
        "combined = pd.read_csv(pathlib.Path(run_dir) / 'results.csv')\n"
        + RECORDING_CELL.format(name="summary", value="len(combined)")])
    return root


def _config(tmp_path: Path, seed: int = 7) -> StudyConfig:
    data = tmp_path / "data.csv"
    if not data.exists():
        data.write_text("patient_id\nP1\n")
    return StudyConfig(data=str(data), seed=seed)


def test_plan_follows_toc_order_and_runs_sections_before_pages(tmp_path):
    tasks = plan_tasks(_project(tmp_path))
    assert [t.relpath for t in tasks] == ["notebooks/01_first.ipynb", "notebooks/02_second.ipynb", "book/summary.ipynb"]
    assert [t.stage for t in tasks] == [1, 1, 2]


def test_run_injects_parameters_and_combines_results(tmp_path):
    root = _project(tmp_path)
    out = tmp_path / "out"
    summary = run_study(_config(tmp_path), out, validate=False, root=root)
    assert len(summary.executed) == 3
    results = pd.read_csv(published(out) / "results.csv", dtype=str).set_index("id")["value"]
    assert results["first.value"] == "1.5"
    assert results["second.value"] == "2"
    assert results["first.seed"] == "7"
    # the summary page ran after both sections and saw their 4 results
    assert results["summary.value"] == "4"
    executed = nbformat.read(published(out) / "executed" / "notebooks" / "01_first.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "remove-cell" in injected[0].metadata["tags"]
    assert not (out / ".staging").exists()


@pytest.mark.real_kernel
def test_broken_notebook_stops_the_run_naming_notebook_and_cell(tmp_path):
    root = _project(tmp_path, broken=True)
    out = tmp_path / "out"
    with pytest.raises(StudyRunError) as info:
        run_study(_config(tmp_path), out, validate=False, root=root)
    message = str(info.value)
    assert "notebooks/02_second.ipynb" in message
    assert "failed in cell 3 " in message  # counted from 1 in the source notebook, not counting the injected cell
    assert "ValueError" in message and "deliberately broken" in message
    # nothing of the failed run is published
    assert publish.published_run(out) is None
    assert not (out / "results.csv").exists() and not (out / "executed").exists()


def test_failed_run_leaves_previous_outputs_untouched(tmp_path):
    out = tmp_path / "out"
    run_study(_config(tmp_path), out, validate=False, root=_project(tmp_path))
    before = (published(out) / "results.csv").read_text()
    broken_root = _project(tmp_path / "b", broken=True)
    with pytest.raises(StudyRunError):
        run_study(_config(tmp_path, seed=99), out, validate=False, root=broken_root, reuse=False)
    assert (published(out) / "results.csv").read_text() == before


def test_unchanged_notebooks_are_reused_and_changed_inputs_rerun(tmp_path, monkeypatch):
    import hcc_utils.pipeline.runner

    monkeypatch.setattr(hcc_utils.pipeline.runner, "code_fingerprint", lambda: "fixed")  # code edits are another test
    root = _project(tmp_path)
    out = tmp_path / "out"
    run_study(_config(tmp_path), out, validate=False, root=root)
    again = run_study(_config(tmp_path), out, validate=False, root=root)
    assert again.executed == [] and len(again.reused) == 3
    changed = run_study(_config(tmp_path, seed=8), out, validate=False, root=root)
    assert len(changed.executed) == 3
    assert pd.read_csv(published(out) / "results.csv", dtype=str).set_index("id")["value"]["first.seed"] == "8"


def test_parallel_run_gives_the_same_results(tmp_path):
    root = _project(tmp_path)
    serial = run_study(_config(tmp_path), tmp_path / "serial", validate=False, root=root)
    parallel = run_study(_config(tmp_path), tmp_path / "parallel", validate=False, root=root, jobs=2)
    assert len(serial.executed) == len(parallel.executed) == 3
    assert (published(tmp_path / "serial") / "results.csv").read_text() == \
        (published(tmp_path / "parallel") / "results.csv").read_text()


def test_cli_run_exits_non_zero_naming_the_broken_notebook_and_the_log_holding_its_traceback(tmp_path, capsys):
    import re

    from hcc_utils.pipeline.cli import main
    from hcc_utils.config import REPO_ROOT

    root = _project(tmp_path, broken=True)
    status = main(["run", "--project", str(root), "--data", str(REPO_ROOT / "data" / "synthetic_cohort.csv"),
                   "--out", str(tmp_path / "out")])
    assert status == 1
    err = capsys.readouterr().err
    assert "notebooks/02_second.ipynb" in err and "cell 3" in err and "ValueError" in err
    # the log the message names holds the cell's traceback (it used to hold only the kernel's start-up chatter)
    log = Path(re.search(r"the cell's traceback is in (\S+?);", err)[1])
    assert log.name == "02_second.log"
    text = log.read_text(encoding="utf-8")
    assert "cell 3 (counting from 1) raised ValueError" in text and "deliberately broken for the test" in text
    assert "\x1b[" not in text  # no terminal colour codes


def test_cli_refuses_invalid_data_before_running_any_notebook(tmp_path, capsys):
    from hcc_utils.pipeline.cli import main

    bad = tmp_path / "bad.csv"
    bad.write_text("patient_id,centre\nP1,x\n")
    status = main(["run", "--project", str(_project(tmp_path)), "--data", str(bad), "--out", str(tmp_path / "out")])
    assert status == 2
    assert "bad.csv" in capsys.readouterr().err
    assert not (tmp_path / "out" / "executed").exists()


def test_code_fingerprint_changes_when_the_library_changes(tmp_path):
    from hcc_utils.pipeline.runner import code_fingerprint

    (tmp_path / "hcc_utils").mkdir()
    (tmp_path / "hcc_utils" / "a.py").write_text("x = 1\n")
    first = code_fingerprint(tmp_path)
    assert code_fingerprint(tmp_path) == first
    (tmp_path / "hcc_utils" / "a.py").write_text("x = 2\n")
    assert code_fingerprint(tmp_path) != first


def test_run_on_invalid_data_prints_counts_not_patient_rows(tmp_path, capsys):
    from hcc_utils.pipeline.cli import main
    from hcc_utils.config import REPO_ROOT

    cohort = pd.read_csv(REPO_ROOT / "data" / "synthetic_cohort.csv", dtype=str, keep_default_na=False)
    cohort.loc[5, "ecog"] = "7"
    cohort["patient_id"] = [f"SECRET{i}" for i in range(len(cohort))]
    bad = tmp_path / "bad.csv"
    cohort.to_csv(bad, index=False)
    status = main(["run", "--project", str(_project(tmp_path)), "--data", str(bad), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert status == 2
    assert "bad.csv is not valid: 1 error (range 1)" in captured.err
    assert "SECRET" not in captured.err + captured.out
    assert main(["validate", str(bad)]) == 2
    assert "SECRET5" in capsys.readouterr().out  # the data owner's report names the patient


def test_failure_in_the_first_cell_after_the_parameters_is_numbered_as_in_the_source(tmp_path):
    root = _project(tmp_path)
    _notebook(root / "notebooks" / "02_second.ipynb", ["raise ValueError('first cell after the parameters')"])
    with pytest.raises(StudyRunError) as info:
        run_study(_config(tmp_path), tmp_path / "out", validate=False, root=root)
    # the source notebook is [parameters, failing cell]: cell 2, although papermill injected a cell before it
    assert "failed in cell 2 " in str(info.value)


def test_kernel_that_fails_to_start_is_retried_and_the_message_names_the_log(tmp_path, monkeypatch, capsys):
    import papermill

    real = papermill.execute_notebook
    calls = []

    def flaky(*args, **kwargs):  # what a kernel port collision between parallel kernels looks like
        calls.append(args[0])
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        if len(calls) == 2:  # the retry starts a real kernel (the other notebooks run in-process)
            kwargs["engine_name"] = "nbclient"
        return real(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    out, root = tmp_path / "out", _project(tmp_path)
    summary = run_study(_config(tmp_path), out, validate=False, root=root, jobs=1)  # counted in this process
    assert len(summary.executed) == 3 and len(calls) == 4
    err = capsys.readouterr().err
    assert "kernel failed to start" in err and "retrying" in err and "logs/01_first.log" in err
    assert (published(out) / "logs" / "01_first.log").is_file()

    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("Kernel died before replying to kernel_info")))
    # the run starts with the notebook the previous run timed longest: either may be the one that fails
    with pytest.raises(StudyRunError, match=r"kernel_info\nits kernel's messages are in .*logs/0[12]_(first|second)\.log"):
        run_study(_config(tmp_path, seed=3), out, validate=False, root=root, reuse=False, jobs=1)


def _add_markdown(path: Path, text: str) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(text))
    nbformat.write(nb, path)


def _book_project(tmp_path: Path) -> Path:
    """The tiny project with a book configuration, so that ``build`` renders it."""
    root = _project(tmp_path)
    (root / "_config.yml").write_text("title: Tiny\nonly_build_toc_files: true\nexecute:\n  execute_notebooks: 'off'\n"
                                      "sphinx:\n  config:\n    html_last_updated_fmt: null\n")
    for notebook in ("notebooks/01_first", "notebooks/02_second", "book/summary"):
        path = root / f"{notebook}.ipynb"
        nb = nbformat.read(path, as_version=4)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"# {path.stem}"))  # a page needs a title
        nbformat.write(nb, path)
    return root


def test_nothing_changed_builds_nothing_and_a_markdown_edit_rebuilds_without_executing(tmp_path, monkeypatch, capsys):
    import hcc_utils.pipeline.runner as runner

    monkeypatch.setattr(runner, "code_fingerprint", lambda: "fixed")
    root, out = _book_project(tmp_path), tmp_path / "out"
    first = run_study(_config(tmp_path), out, validate=False, root=root, build_book=True)
    assert len(first.executed) == 3 and (published(out) / "html" / "notebooks" / "01_first.html").is_file()
    first_run = published(out)
    assert json.loads((published(out) / "manifest.json").read_text())["files"]["_html"]  # the HTML is checksummed too
    capsys.readouterr()

    def no_sphinx(*args, **kwargs):
        raise AssertionError("the book was built although nothing changed")

    monkeypatch.setattr(runner, "build_html", no_sphinx)
    monkeypatch.setattr(runner, "execute_notebook", no_sphinx)
    again = run_study(_config(tmp_path), out, validate=False, root=root, build_book=True)
    assert again.up_to_date and again.executed == [] and len(again.reused) == 3
    assert published(out) == first_run  # nothing was published
    assert "nothing changed since the published run" in capsys.readouterr().err
    monkeypatch.undo()
    monkeypatch.setattr(runner, "code_fingerprint", lambda: "fixed")

    # prose edited in a section: its executed copy gets the new text, nothing is executed, the page changes
    _add_markdown(root / "notebooks" / "01_first.ipynb", "A sentence added by the test.")
    edited = run_study(_config(tmp_path), out, validate=False, root=root, build_book=True)
    assert edited.executed == [] and len(edited.reused) == 3 and not edited.up_to_date
    err = capsys.readouterr().err
    assert "only its markdown changed" in err and "1 sources changed, re-reading only those" in err
    assert "A sentence added by the test." in (published(out) / "html" / "notebooks" / "01_first.html").read_text()
    executed = nbformat.read(published(out) / "executed" / "notebooks" / "01_first.ipynb", as_version=4)
    assert executed.cells[-1].source == "A sentence added by the test."
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    assert (published(out) / "sections" / "01_first" / "results.csv").is_file()
    _assert_results(out, {"first.value": "1.5", "summary.value": "4"})

    # a damaged page of the published book is noticed: the next build is a real one
    (published(out) / "html" / "notebooks" / "01_first.html").write_text("damaged")
    repaired = run_study(_config(tmp_path), out, validate=False, root=root, build_book=True)
    assert not repaired.up_to_date and repaired.executed == []
    assert "A sentence added by the test." in (published(out) / "html" / "notebooks" / "01_first.html").read_text()


def _assert_results(out: Path, expected: dict) -> None:
    results = pd.read_csv(published(out) / "results.csv", dtype=str).set_index("id")["value"]
    for key, value in expected.items():
        assert results[key] == value, key


def test_code_edit_re_executes_but_markdown_edit_does_not(tmp_path, monkeypatch):
    import hcc_utils.pipeline.runner as runner

    monkeypatch.setattr(runner, "code_fingerprint", lambda: "fixed")
    root, out = _project(tmp_path), tmp_path / "out"
    _notebook(root / "notebooks" / "01_first.ipynb", [  # as the matching notebook, it writes the analysis table
        RECORDING_CELL.format(name="first", value=1.5),
        "import pathlib\npathlib.Path(output_dir, 'analysis.csv').write_text('patient_id\\n=1+1\\n')"])
    run_study(_config(tmp_path), out, validate=False, root=root, jobs=1)
    assert (published(out) / "analysis.csv").read_text() == "patient_id\n'=1+1\n"
    _add_markdown(root / "notebooks" / "02_second.ipynb", "Prose only.")
    prose = run_study(_config(tmp_path), out, validate=False, root=root, jobs=1)
    assert prose.executed == []
    assert "Prose only." in (published(out) / "executed" / "notebooks" / "02_second.ipynb").read_text()
    assert (published(out) / "analysis.csv").read_text() == "patient_id\n'=1+1\n"  # kept although its notebook was reused
    assert (published(out) / "logs" / "01_first.log").is_file()
    _notebook(root / "notebooks" / "02_second.ipynb", [RECORDING_CELL.format(name="second", value=3)])
    code = run_study(_config(tmp_path), out, validate=False, root=root, jobs=1)
    # the section re-ran, and so did the summary page, whose input (the combined results) changed
    assert code.executed == ["notebooks/02_second.ipynb", "book/summary.ipynb"]
    _assert_results(out, {"second.value": "3", "summary.value": "4"})
    assert (published(out) / "analysis.csv").is_file()
    assert "Prose only." not in (published(out) / "executed" / "notebooks" / "02_second.ipynb").read_text()


def test_jobs_auto_resolves_to_a_number_and_bad_values_are_refused(tmp_path, capsys):
    import os

    from hcc_utils.pipeline.cli import main
    from hcc_utils.pipeline.runner import UserInputError, resolve_jobs

    cores = os.cpu_count()
    assert resolve_jobs("auto", 1000) == cores
    assert resolve_jobs("auto", 1) == 1 and resolve_jobs("auto", 0) == 1
    assert resolve_jobs("3", 1) == 3 and resolve_jobs(2, 5) == 2
    for bad in ("0", "-1", "two", "1.5", ""):
        with pytest.raises(UserInputError, match="--jobs must be 'auto' or a whole number"):
            resolve_jobs(bad, 3)
    status = main(["run", "--project", str(_project(tmp_path)), "--jobs", "many", "--out", str(tmp_path / "out")])
    assert status == 2 and "--jobs must be" in capsys.readouterr().err


@pytest.mark.real_kernel
def test_parallel_kernels_cannot_be_handed_the_same_endpoint():
    """Kernels started at once cannot collide: each has its own Unix socket folder (Linux, macOS), or TCP ports
    reserved across processes (Windows, portable mode); both are released with the kernel."""
    import asyncio
    import concurrent.futures

    from hcc_utils.config import platforms
    from hcc_utils.pipeline.kernels import PortReservations, kernel_manager_class

    async def start_two():
        managers = [kernel_manager_class()(kernel_name="python3") for _ in range(2)]
        await asyncio.gather(*(m.start_kernel() for m in managers))
        try:
            infos = [m.get_connection_info() for m in managers]
            reserved = sorted(os.listdir(os.environ["HCC_STUDY_KERNEL_PORTS"]))
            for manager in managers:
                client = manager.client()
                client.start_channels()
                await client.wait_for_ready(timeout=60)
                client.stop_channels()
            return infos, [m._socket_dir for m in managers], reserved
        finally:
            await asyncio.gather(*(m.shutdown_kernel(now=True) for m in managers))

    # a thread of its own: an earlier test of this worker may have left an event loop running in this one
    with PortReservations() as reservations, concurrent.futures.ThreadPoolExecutor(1) as pool:
        infos, folders, reserved = pool.submit(lambda: asyncio.run(start_two())).result()
        left = os.listdir(reservations.folder)
    if platforms.unix_socket_kernels():
        assert [info["transport"] for info in infos] == ["ipc", "ipc"]
        assert infos[0]["ip"] != infos[1]["ip"] and folders[0] != folders[1]
        assert all(info["ip"].startswith(folder) for info, folder in zip(infos, folders))
        assert not any(Path(folder).exists() for folder in folders)  # removed with their kernels
    else:
        assert [info["transport"] for info in infos] == ["tcp", "tcp"]
        ports = [info[f"{name}_port"] for info in infos for name in ("shell", "iopub", "stdin", "hb", "control")]
        assert len(set(ports)) == 10 and reserved == sorted(str(port) for port in ports)
        assert left == []  # released with their kernels


def test_only_pages_that_state_the_commit_re_execute_when_only_the_commit_changes(tmp_path, monkeypatch):
    """A new commit that changes no code, data or notebook re-executes the pages flagged as stating the commit
    (``hcc_study.states_provenance``, the About page) and reuses every other notebook."""
    import hcc_utils.pipeline.cache
    import hcc_utils.pipeline.runner

    monkeypatch.setattr(hcc_utils.pipeline.runner, "code_fingerprint", lambda: "fixed")
    root = _project(tmp_path)
    toc = json.loads((root / "_toc.yml").read_text())
    toc["chapters"].append({"file": "book/about"})
    (root / "_toc.yml").write_text(json.dumps(toc))
    _notebook(root / "book" / "about.ipynb", ["print('commit')"])
    about = nbformat.read(root / "book" / "about.ipynb", as_version=4)
    about.metadata["hcc_study"] = {"states_provenance": True}
    nbformat.write(about, root / "book" / "about.ipynb")
    out = tmp_path / "out"
    monkeypatch.setattr(hcc_utils.pipeline.cache, "source_provenance", lambda root: "abc123")
    first = run_study(_config(tmp_path), out, validate=False, root=root)
    assert len(first.executed) == 4
    monkeypatch.setattr(hcc_utils.pipeline.cache, "source_provenance", lambda root: "def456+dirty")
    again = run_study(_config(tmp_path), out, validate=False, root=root)
    assert again.executed == ["book/about.ipynb"]
    assert sorted(again.reused) == ["book/summary.ipynb", "notebooks/01_first.ipynb", "notebooks/02_second.ipynb"]


def test_incremental_search_index_drops_words_no_page_contains(tmp_path):
    """Sphinx 7's incremental build keeps a word whose pages were all re-read without it (an empty list); the
    cleaned index is what a build from nothing writes: the same words, the same bytes."""
    from hcc_utils.pipeline.book import drop_stale_search_terms

    index = tmp_path / "searchindex.js"
    fresh = {"docnames": ["a", "b"], "terms": {"0": [0, 1], "hazard": 1}, "titleterms": {"surviv": 0}}
    stale = {**fresh, "terms": {**fresh["terms"], "566": [], "277no": []}, "titleterms": {"old": [], "surviv": 0}}
    index.write_text("Search.setIndex(" + json.dumps(stale, sort_keys=True) + ")")
    drop_stale_search_terms(index)
    assert index.read_text() == "Search.setIndex(" + json.dumps(fresh, sort_keys=True) + ")"
    index.write_text("not an index")
    drop_stale_search_terms(index)  # another format: left alone
    assert index.read_text() == "not an index"


def test_first_build_starts_the_notebooks_expected_longest_then_follows_the_previous_timings(tmp_path):
    root = _project(tmp_path)
    (root / "notebooks" / "03_third.ipynb").write_text((root / "notebooks" / "01_first.ipynb").read_text())
    for name, seconds in (("02_second", 9), ("03_third", 4.5)):
        path = root / "notebooks" / f"{name}.ipynb"
        nb = json.loads(path.read_text())
        nb["metadata"]["hcc_study"] = {"expected_seconds": seconds}
        path.write_text(json.dumps(nb))
    tasks = [t for t in plan_tasks(root) if t.stage == 1] + [NotebookTask("notebooks/03_third.ipynb", 1)]
    assert [t.name for t in tasks] == ["01_first", "02_second", "03_third"]
    assert [t.name for t in longest_first(tasks, {}, root)] == ["02_second", "03_third", "01_first"]
    took = {"notebooks/01_first.ipynb": 20.0, "notebooks/02_second.ipynb": 1.0, "notebooks/03_third.ipynb": 2.0}
    assert [t.name for t in longest_first(tasks, took, root)] == ["01_first", "03_third", "02_second"]


def test_bundled_notebooks_state_expected_seconds_bootstrap_first():
    from hcc_utils.config import REPO_ROOT
    from hcc_utils.pipeline.cache import expected_seconds

    sections = [t for t in plan_tasks(REPO_ROOT) if t.stage == 1]
    assert all(expected_seconds(REPO_ROOT / t.relpath) > 0 for t in sections)
    assert longest_first(sections, {}, REPO_ROOT)[0].name == "13_bootstrap"



#: A run of three independent notebooks, two at once, their cells in-process (argv: data, out, project, tests).
PARALLEL_RUN = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
import inprocess_engine
from hcc_utils.config import StudyConfig
from hcc_utils.pipeline.runner import run_study

if __name__ == "__main__":
    inprocess_engine.install()
    run_study(StudyConfig(data=sys.argv[1]), sys.argv[2], jobs=2, validate=False, root=Path(sys.argv[3]))
"""


def test_a_workers_announcement_is_one_write_so_parallel_lines_never_run_together(monkeypatch):
    """Workers share the build's stderr; a line written in two pieces (text, then newline, as ``print`` does on a
    write-through stderr) can be split by another worker's line. Each announcement must be a single write."""
    import sys

    from hcc_utils.pipeline import execute

    class Recording:
        def __init__(self):
            self.writes = []

        def write(self, text):
            self.writes.append(text)
            return len(text)

        def flush(self):
            pass

    recording = Recording()
    monkeypatch.setattr(sys, "stderr", recording)
    execute._log("executing notebooks/01_first.ipynb ...")
    execute._log("executing notebooks/02_second.ipynb ...")
    assert recording.writes == ["[hcc-study] executing notebooks/01_first.ipynb ...\n",
                                "[hcc-study] executing notebooks/02_second.ipynb ...\n"]


def test_a_parallel_run_says_executing_when_a_notebook_really_starts(tmp_path):
    """With two workers and three notebooks, the third is announced when a worker takes it, once one of the first
    two is done, not with the first two. The first two wait for the test's go (a file) after both were announced;
    the third must not have been announced by then."""
    import queue
    import subprocess
    import sys
    import threading
    import time

    from hcc_utils.config import REPO_ROOT

    root, go = _project(tmp_path), tmp_path / "go"
    wait = f"import os, time\nfor _ in range(2400):\n    if os.path.exists({str(go)!r}):\n        break\n    time.sleep(0.05)"
    for name in ("01_first", "02_second"):
        _notebook(root / "notebooks" / f"{name}.ipynb", [wait, RECORDING_CELL.format(name=name[3:], value=1)])
    _notebook(root / "notebooks" / "03_third.ipynb", [RECORDING_CELL.format(name="third", value=3)])
    toc = json.loads((root / "_toc.yml").read_text())
    toc["chapters"].insert(2, {"file": "notebooks/03_third"})
    (root / "_toc.yml").write_text(json.dumps(toc))
    process = subprocess.Popen([sys.executable, "-c", PARALLEL_RUN, _config(tmp_path).data, str(tmp_path / "out"),
                                str(root), str(Path(__file__).parent)], stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    announced: list[str] = []

    def read(seconds: float, until=lambda: False) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not until():
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if "executing notebooks/" in line:
                announced.append(line.split("executing notebooks/")[1].split(".ipynb")[0])

    try:
        read(120, until=lambda: {"01_first", "02_second"} <= set(announced))
        assert {"01_first", "02_second"} <= set(announced), announced
        read(1.5)  # whatever else is printed meanwhile
        assert "03_third" not in announced, "the third notebook was announced before a worker could take it"
    finally:
        go.touch()
    assert process.wait(timeout=300) == 0


def test_a_reused_notebook_gets_the_new_markdown_and_code_cell_display_metadata_but_keeps_its_outputs(tmp_path):
    """An edit of a fold's label (a code cell's metadata) reached the page only on a forced build: the reused executed
    copy kept its old metadata. Outputs and run records stay those of the execution."""
    from hcc_utils.pipeline.cache import notebook_code_sha, patch_markdown

    source = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(1)", metadata={"tags": ["hide-input"],
                                                          "mystnb": {"code_prompt_show": "Show the answer"}})
    source.cells = [nbformat.v4.new_markdown_cell("New text."), code]
    executed = nbformat.v4.new_notebook()
    ran = nbformat.v4.new_code_cell("print(1)", metadata={"tags": ["hide-input"], "execution": {"when": "then"},
                                                         "papermill": {"duration": 0.1}})
    ran.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    executed.cells = [nbformat.v4.new_markdown_cell("Old text."), ran]
    nbformat.write(source, tmp_path / "source.ipynb")
    nbformat.write(executed, tmp_path / "executed.ipynb")
    assert notebook_code_sha(tmp_path / "source.ipynb") == notebook_code_sha(tmp_path / "executed.ipynb")

    assert patch_markdown(tmp_path / "source.ipynb", tmp_path / "executed.ipynb")
    patched = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    assert patched.cells[0].source == "New text."
    cell = patched.cells[1]
    assert cell.metadata["mystnb"] == {"code_prompt_show": "Show the answer"}          # the new display metadata
    assert cell.metadata["execution"] == {"when": "then"} and cell.metadata["papermill"] == {"duration": 0.1}
    assert cell.outputs[0]["text"] == "1\n"                                            # the execution's output
    assert not patch_markdown(tmp_path / "source.ipynb", tmp_path / "executed.ipynb")  # patched once
