"""Publishing is atomic as a whole: an interrupted build leaves the previous run whole, the next build equals a
clean one, damaged cached outputs are re-executed, and one build at a time writes into an output folder.

The interruptions use the runner's test hook (``HCC_STUDY_TEST_PAUSE_AT``: the runner pauses at a named step) or a
notebook that sleeps, and a real signal sent to a ``hcc-study run`` subprocess.

Notebooks are executed by papermill with their cells run in-process (``in_process_notebooks``,
tests/inprocess_engine.py), also in the interrupted subprocess, except for Ctrl-C during a notebook: that one
reaches a real kernel, as a user's does (the runner's workers stop the kernels they started).
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hcc_utils.config import REPO_ROOT
from hcc_utils.pipeline import publish
from hcc_utils.pipeline.cli import main
from hcc_utils.pipeline.runner import plan_tasks, run_study
from conftest import BUILD_CACHE, published, session_build, write_if_changed
from inprocess_engine import in_process_engine
from test_runner import RECORDING_CELL, _config, _notebook, _project

pytestmark = pytest.mark.usefixtures("in_process_notebooks")

TESTS = Path(__file__).resolve().parent
#: The signals of the interruption tests (a killed process, Ctrl-C to a process group): POSIX's.
SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)
posix_signals = pytest.mark.skipif(os.name != "posix", reason="sends POSIX signals to a process group (Windows: "
                                                             "no process groups of that kind, no SIGKILL)")
SLEEP_CELL = "import os, time\ntime.sleep(float(os.environ.get('HCC_TEST_SLEEP', '0')))"


def _sleepy_project(tmp_path: Path) -> Path:
    """The runner tests' project, whose second notebook sleeps when HCC_TEST_SLEEP is set (to be killed mid-run)."""
    root = _project(tmp_path)
    _notebook(root / "notebooks" / "02_second.ipynb", [SLEEP_CELL, RECORDING_CELL.format(name="second", value=2)])
    return root


def _assert_whole(out: Path, root: Path) -> None:
    """Every file the published manifest lists is present with its checksum, and the run passes the check."""
    run = published(out)
    manifest = json.loads((run / "manifest.json").read_text())
    for entries in manifest["files"].values():
        assert publish.verify_files(run, entries) == []
    publish.check_complete(run, plan_tasks(root))


#: A build as `hcc-study run --force` does it, without validation (the tiny project's data are not a cohort); with
#: the tests folder as argv[4], its notebooks' cells run in-process.
BUILD = """
import sys
from pathlib import Path
if len(sys.argv) > 4:
    sys.path.insert(0, sys.argv[4])
    import inprocess_engine
    inprocess_engine.install()
from hcc_utils.config import StudyConfig
from hcc_utils.pipeline.runner import run_study
try:
    run_study(StudyConfig(data=sys.argv[1], seed=8), sys.argv[2], validate=False, reuse=False, root=Path(sys.argv[3]))
except KeyboardInterrupt:
    print("hcc-study: interrupted", file=sys.stderr)
    sys.exit(130)
"""


def _start(root: Path, out: Path, data: str, env: dict, in_process: bool) -> subprocess.Popen:
    command = [sys.executable, "-c", BUILD, data, str(out), str(root)] + ([str(TESTS)] if in_process else [])
    # Ctrl-C must reach the build even when this test session runs in the background (a non-interactive shell
    # starts background jobs with SIGINT ignored, and a child inherits that).
    return subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env})


def _wait_for(process: subprocess.Popen, text: str, seconds: float = 120) -> str:
    seen = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen += line
        if text in line:
            return seen
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"never saw {text!r}; stderr:\n{seen}")


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory) -> Path:
    """A published run (seed 7) of the sleepy project: each interruption test starts from a copy of it (its links
    are relative), instead of building it again."""
    base = tmp_path_factory.mktemp("previous")
    with in_process_engine():
        run_study(_config(base, seed=7), base / "out", validate=False, root=_sleepy_project(base))
    return base / "out"


@pytest.fixture(scope="module")
def clean_results(tmp_path_factory) -> str:
    """results.csv of a clean build (seed 8) of the same project, the one every interrupted folder must end at."""
    base = tmp_path_factory.mktemp("clean")
    with in_process_engine():
        run_study(_config(base, seed=8), base / "clean", validate=False, root=_sleepy_project(base))
    return (published(base / "clean") / "results.csv").read_text()


@pytest.mark.portable
@posix_signals
@pytest.mark.parametrize("point, sig", [
    pytest.param("notebook", signal.SIGINT, marks=pytest.mark.real_kernel),  # Ctrl-C reaches a real kernel
    ("notebook", SIGKILL), ("staged", signal.SIGINT), ("swap", SIGKILL), ("cleanup", SIGKILL),
    ("swap-midway", SIGKILL),  # folder layout: the previous run moved aside, the new one not yet in place
])
def test_interrupted_build_leaves_previous_run_whole_and_next_build_is_clean(tmp_path, point, sig, capsys, request,
                                                                             previous_run, clean_results):
    if point == "swap-midway" and publish.uses_links():
        pytest.skip("the links layout swaps in one rename (run with HCC_STUDY_PORTABLE=1)")
    root = _sleepy_project(tmp_path)
    out = tmp_path / "out"
    shutil.copytree(previous_run, out, symlinks=True, ignore=shutil.ignore_patterns(".lock*"))
    _assert_whole(out, root)
    before = (published(out) / "results.csv").read_text()
    # the interrupted build would change every result (another seed), so a mix would show
    data = _config(tmp_path).data
    env = {"HCC_TEST_SLEEP": "60"} if point == "notebook" else {publish.PAUSE_ENV: point}
    real_kernel = request.node.get_closest_marker("real_kernel") is not None
    process = _start(root, out, data, env, in_process=not real_kernel)
    try:
        _wait_for(process, "executing notebooks/02_second.ipynb" if point == "notebook" else f"paused at {point}")
        if point == "notebook":
            time.sleep(3 if real_kernel else 1)  # the notebook is sleeping in its first cell (a kernel starts first)
        if sig == signal.SIGINT:
            os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C: the whole foreground group
        else:
            process.send_signal(sig)  # the runner alone dies (OOM killer, kill -9): no clean-up at all
        rest = process.communicate(timeout=120)[1]
    finally:
        with contextlib.suppress(ProcessLookupError):  # kernels orphaned by SIGKILL
            os.killpg(process.pid, SIGKILL)
    assert process.returncode != 0
    assert "Traceback" not in rest
    if sig == signal.SIGINT:
        assert "interrupted" in rest or "KeyboardInterrupt" in rest
    _assert_whole(out, root)  # whichever run readers see is whole
    if point in ("cleanup", "swap-midway"):  # after the swap (or its journal): the new run
        assert (published(out) / "results.csv").read_text() == clean_results
    else:  # before the swap: the previous run
        assert (published(out) / "results.csv").read_text() == before
    # the next build (reusing what it can verify) equals a clean build; its notebooks need no kernel
    capsys.readouterr()
    with in_process_engine():
        run_study(_config(tmp_path, seed=8), out, validate=False, root=root)
    assert (published(out) / "results.csv").read_text() == clean_results
    _assert_whole(out, root)
    assert [p for p in (out / ".runs").iterdir() if p.resolve() != published(out)] == []  # leftovers deleted
    assert not (out / publish.JOURNAL_NAME).exists()
    if sig == SIGKILL:
        assert "taking over the lock" in capsys.readouterr().err
    assert not (out / publish.LOCK_NAME).exists() and not (out / publish.HOLDER_NAME).exists()


@pytest.mark.portable
def test_damaged_cached_section_is_re_executed_not_reused(tmp_path, monkeypatch, capsys):
    import hcc_utils.pipeline.runner

    monkeypatch.setattr(hcc_utils.pipeline.runner, "code_fingerprint", lambda: "fixed")
    root = _project(tmp_path)
    out = tmp_path / "out"
    run_study(_config(tmp_path), out, validate=False, root=root)
    clean = (published(out) / "results.csv").read_text()
    # the failure seen by users: a section folder half deleted by an interruption, then reused
    (published(out) / "sections" / "02_second" / "results.csv").unlink()
    again = run_study(_config(tmp_path), out, validate=False, root=root)
    assert "notebooks/02_second.ipynb" in again.executed and "notebooks/01_first.ipynb" in again.reused
    assert "previous outputs damaged" in capsys.readouterr().err
    assert (published(out) / "results.csv").read_text() == clean
    # a changed file (not only a missing one) is caught by its checksum
    (published(out) / "sections" / "01_first" / "results.csv").write_text("id,value\nfirst.value,99\n")
    again = run_study(_config(tmp_path), out, validate=False, root=root)
    assert "notebooks/01_first.ipynb" in again.executed
    assert (published(out) / "results.csv").read_text() == clean


@pytest.mark.portable
def test_incomplete_run_is_not_published(tmp_path):
    root = _project(tmp_path)
    out = tmp_path / "out"
    run_study(_config(tmp_path), out, validate=False, root=root)
    run = published(out)
    publish.check_complete(run, plan_tasks(root))
    (run / "sections" / "02_second" / "results.csv").unlink()
    with pytest.raises(publish.IncompleteRunError, match="sections/02_second/results.csv is missing"):
        publish.check_complete(run, plan_tasks(root))


@pytest.mark.portable
def test_second_build_into_the_same_folder_stops_naming_the_lock_and_its_holder(tmp_path, capsys):
    from hcc_utils.config.platforms import hostname

    out = tmp_path / "out"
    with publish.output_lock(out, print):  # what a running build holds (another open of the file: refused too)
        status = main(["run", "--project", str(_project(tmp_path)), "--data", str(REPO_ROOT / "data" / "synthetic_cohort.csv"),
                       "--out", str(out)])
        assert (out / publish.LOCK_NAME).exists()  # the refused build leaves the holder's lock alone
    assert status == 2
    err = capsys.readouterr().err
    assert str(out / ".lock") in err and f"process {os.getpid()} on {hostname()}" in err and "Traceback" not in err
    assert publish.published_run(out) is None
    assert sorted(p.name for p in out.iterdir()) == []  # the holder's lock is gone with it


@pytest.mark.portable
def test_no_lock_file_is_left_however_a_build_ends(tmp_path, capsys):
    """Finished, failed, refused by validation: the next person finds no `.lock` that looks like a running build."""
    out = tmp_path / "out"
    run_study(_config(tmp_path), out, validate=False, root=_project(tmp_path))
    assert not (out / publish.LOCK_NAME).exists() and not (out / publish.HOLDER_NAME).exists()
    from hcc_utils.pipeline.runner import StudyRunError

    with pytest.raises(StudyRunError):
        run_study(_config(tmp_path, seed=3), out, validate=False, root=_project(tmp_path / "b", broken=True))
    assert not (out / publish.LOCK_NAME).exists() and not (out / publish.HOLDER_NAME).exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("patient_id,centre\nP1,x\n")
    assert main(["run", "--project", str(_project(tmp_path / "c")), "--data", str(bad), "--out", str(out)]) == 2
    assert "is not valid" in capsys.readouterr().err
    assert not (out / publish.LOCK_NAME).exists() and not (out / publish.HOLDER_NAME).exists()


def _overlapping_holds(out: Path, seconds: float = 1.5) -> int:
    """Two threads take the output lock again and again (each its own open file, as two builds); how often both
    held it at once."""
    import threading

    holders, overlaps, stop = [0], [0], time.monotonic() + seconds

    def hammer():
        while time.monotonic() < stop:
            try:
                with publish.output_lock(out, lambda message: None):
                    holders[0] += 1
                    overlaps[0] += holders[0] > 1
                    time.sleep(0.0005)
                    holders[0] -= 1
            except publish.OutputLockedError:
                pass

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return overlaps[0]


@pytest.mark.portable
def test_deleting_the_lock_file_never_lets_two_builds_hold_it(tmp_path, monkeypatch):
    """The lock file is deleted while it is still held, and a build that locked a file already unlinked opens
    the path again (filelock re-checks the file): no two holders, ever. Deleting it after the release instead (the
    injected defect) can delete the next holder's lock file, and a third build then locks a new one beside it."""
    assert _overlapping_holds(tmp_path / "right") == 0

    def release_then_delete(lock, out_dir):
        lock.release()
        time.sleep(0.0005)
        with contextlib.suppress(OSError):
            (out_dir / publish.LOCK_NAME).unlink()

    monkeypatch.setattr(publish, "_release_lock", release_then_delete)
    assert _overlapping_holds(tmp_path / "wrong") > 0


@pytest.mark.portable
def test_outputs_of_the_former_layout_are_replaced_by_the_new_run(tmp_path):
    out = tmp_path / "out"
    (out / "sections" / "old").mkdir(parents=True)
    (out / "results.csv").write_text("id,value\nold.value,1\n")
    (out / "manifest.json").write_text("{}")
    root = _project(tmp_path)
    run_study(_config(tmp_path), out, validate=False, root=root)
    assert "first.value" in (published(out) / "results.csv").read_text()
    if publish.uses_links():
        assert (out / "results.csv").is_symlink() and "first.value" in (out / "results.csv").read_text()
    else:  # the folder layout puts nothing at the top of OUT but `current`
        assert not (out / "results.csv").exists()
    assert not (out / "sections" / "old").exists() and not (published(out) / "sections" / "old").exists()
    _assert_whole(out, root)


@pytest.mark.slow
@pytest.mark.extra_build
def test_hostile_file_name_and_cells_are_escaped_in_the_book_and_neutralised_in_analysis_csv(capsys):
    import pandas as pd

    cohort = pd.read_csv(REPO_ROOT / "data" / "synthetic_cohort.csv", dtype=str, keep_default_na=False)
    cohort["patient_id"] = [f'=HYPERLINK("http://x/{i}")' if i % 2 else f"@P{i}" for i in range(len(cohort))]
    cohort["centre"] = "-2+3+cmd|' /C calc'!A0"
    # a session build kept warm across sessions (tests/conftest.py): a fixed data path, as the cache key holds it
    hostile = BUILD_CACHE / "hostile-data" / "<img src=x onerror=alert(1)>.csv"
    capsys.readouterr()
    out = session_build("hostile", ["--data", str(hostile)],
                        prepare=lambda: write_if_changed(hostile, cohort.to_csv(index=False).encode()))
    err = capsys.readouterr().err
    pages = list((published(out) / "html").rglob("*.html"))
    assert pages
    for page in pages:
        assert "<img src=x" not in page.read_text(), page.name
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in (published(out) / "html" / "book" / "intro.html").read_text()  # banner
    assert "&lt;img src=x" in (published(out) / "html" / "notebooks" / "01_cohort_flow.html").read_text()  # data note
    analysis = pd.read_csv(published(out) / "analysis.csv", dtype=str, keep_default_na=False)
    assert analysis["patient_id"].str.startswith(("'=", "'@")).all()
    text_cells = analysis.drop(columns=["patient_id"] + (["centre"] if "centre" in analysis else []))
    assert not text_cells.apply(lambda column: column.str.startswith("'")).any().any()
    assert f"{len(analysis)} text cells of column 'patient_id'" in err and "HYPERLINK" not in err
