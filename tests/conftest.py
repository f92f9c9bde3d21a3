"""Fixtures shared by the test files: the session's builds of the whole book, kept warm across sessions.

``tests/test_book_build.py`` (the build's contents), ``tests/test_browser.py`` (the pages in Chromium),
``tests/test_identical_builds.py`` (two builds give the same bytes) and ``tests/test_export.py`` read the build of the
bundled cohort (``bundled_book``); the second-cohort, no-pair and hostile-name builds are shared the same way.

Each build is written into a persistent folder, ``.cache/test-builds/<name>`` (ignored by git), by the runner's own
``hcc-study build`` WITHOUT ``--force``: the runner re-executes every notebook whose cache key (the notebook, the
data, the configuration, every ``hcc_utils`` source, the lock file) changed and re-uses only those whose key and
output checksums match, then rebuilds the book. A warm session therefore tests the current code in seconds, and any
code or data change re-executes what it affects; a fresh clone (CI) has no cache and builds everything for real.
One build per folder and session: under pytest-xdist the first worker that needs it builds it while holding a file
lock, the others wait for it and then read it.

``HCC_STUDY_TEST_BOOK=<folder>`` points the session at a book already built with
``hcc-study build --force --out <folder>`` from the same sources, to iterate on the browser tests without a rebuild.
It is for working on the tests; CI always builds.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import platform
import uuid
from pathlib import Path

import pytest

from hcc_utils.config import REPO_ROOT
from hcc_utils.pipeline.cli import main

#: Environment variable naming a book already built from the same sources (see the module docstring).
PREBUILT_BOOK_VARIABLE = "HCC_STUDY_TEST_BOOK"
#: The persistent builds and results of the test suite (ignored by git; delete it to test from a cold state).
TEST_CACHE = REPO_ROOT / ".cache"
BUILD_CACHE = TEST_CACHE / "test-builds"
#: One id for the whole test run, the same in every pytest-xdist worker.
SESSION_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
#: Everything a build of the book reads besides the tests: the package, notebooks, book pages, data, settings, pins.
BUILD_INPUTS = ("hcc_utils", "notebooks", "book", "data", "_config.yml", "_toc.yml", "study.yml", "references.bib",
                "requirements.lock", "pyproject.toml")


def inputs_fingerprint(paths=BUILD_INPUTS, extra: str = "") -> str:
    """SHA-256 over the named files and folders of the repository (names and bytes), the Python version and every
    installed distribution's version: a key that changes whenever anything a build or a calibration reads changes."""
    digest = hashlib.sha256(f"{platform.python_version()}\n{extra}\n".encode())
    versions = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    digest.update("\n".join(versions).encode())
    for name in paths:
        top = REPO_ROOT / name
        files = sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else [top]
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts:
                digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@contextlib.contextmanager
def cache_lock(name: str):
    """Hold ``.cache/test-builds/<name>.lock`` exclusively (pytest-xdist workers and concurrent sessions)."""
    from filelock import FileLock

    BUILD_CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(BUILD_CACHE / f"{name}.lock"), thread_local=False):
        yield


@contextlib.contextmanager
def real_kernels():
    """Papermill's own engine (real kernels, through the kernel fork server) inside the block, even in a test
    whose notebooks otherwise run in-process (``in_process_notebooks``)."""
    from papermill.engines import NBClientEngine, papermill_engines

    from hcc_utils.pipeline.kernel_server import SWITCH_ENV
    from hcc_utils.pipeline.workers import WORKER_SETUP_ENV

    engine = papermill_engines._engines.get(None)
    saved = {name: os.environ.pop(name, None) for name in (SWITCH_ENV, WORKER_SETUP_ENV)}
    papermill_engines.register(None, NBClientEngine)
    try:
        yield
    finally:
        papermill_engines.register(None, engine)
        for name, value in saved.items():
            if value is not None:
                os.environ[name] = value


#: Only the builds whose PDFs a test reads print them (the bundled book and the second build that must equal it):
#: Chromium takes about 40 s to print every page of a book, and the other builds of the suite do not read them.
from hcc_utils.pipeline.book_pdf import PRINT_VARIABLE  # noqa: E402

os.environ[PRINT_VARIABLE] = "0"


@contextlib.contextmanager
def printing_pdfs():
    """Builds inside the block print the book's PDFs (``hcc_utils.pipeline.book_pdf``)."""
    os.environ[PRINT_VARIABLE] = "1"
    try:
        yield
    finally:
        os.environ[PRINT_VARIABLE] = "0"


def published(out: Path) -> Path:
    """The folder of the run published in the output folder ``out``, in either layout (symbolic links, or the
    folder ``current`` of Windows and portable mode: hcc_utils.pipeline.publish)."""
    from hcc_utils.pipeline.publish import published_run

    run = published_run(out)
    assert run is not None, f"no published run in {out}"
    return run


def session_build(name: str, arguments: list[str], prepare=None, print_pdfs: bool = False) -> Path:
    """The output folder ``.cache/test-builds/<name>`` (``<name>-portable`` in portable mode, so that a portable
    session builds for real), built once per test session with ``hcc-study build --out <folder> <arguments>``
    (re-using what the runner can verify; see the module docstring).

    ``prepare()``, called under the lock before the build, writes the build's inputs (data, configuration) at fixed
    paths, so that their cache keys match from one session to the next. ``print_pdfs``: the build prints the book's
    PDFs (:func:`printing_pdfs`)."""
    from hcc_utils.config.platforms import portable
    from hcc_utils.pipeline.publish import published_path

    name = f"{name}-portable" if portable() else name
    out = BUILD_CACHE / name
    stamp = BUILD_CACHE / f"{name}.session"
    with cache_lock(name):
        if stamp.is_file() and stamp.read_text() == SESSION_ID and (published_path(out, "html") / "index.html").is_file():
            return out  # another worker of this session built it
        if prepare is not None:
            prepare()
        stamp.unlink(missing_ok=True)
        with real_kernels(), (printing_pdfs() if print_pdfs else contextlib.nullcontext()):
            # a shared build is the real thing, whatever the calling test's notebooks use
            assert main(["build", "--out", str(out), "--jobs", "2", *arguments]) == 0
        stamp.write_text(SESSION_ID)
    return out


def write_if_changed(path: Path, content: bytes) -> Path:
    """Write ``content`` to ``path`` unless it already holds exactly that (a stable input of a cached build)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_bytes() != content:
        path.write_bytes(content)
    return path


#: Markers of tests the default run leaves out, each with the option that runs them: the regeneration of the
#: calibrated cohort (minutes), and the end-to-end builds of the whole book beyond the bundled cohort's (another
#: cohort, a configured study without pairs, hostile names, a second build for byte identity, the own-cohort guide,
#: an odd cohort; each minutes on two cores). CI runs both kinds of build (.ci/run); the regeneration is on demand.
OPTIONAL_MARKERS = {"regenerate": "--regenerate", "extra_build": "--extra-builds"}


def pytest_addoption(parser):
    parser.addoption("--regenerate", action="store_true", default=False,
                     help="also run the tests marked 'regenerate': the full calibration of the bundled cohort "
                          "(minutes), checked against data/synthetic_cohort.csv.sha256")
    parser.addoption("--extra-builds", action="store_true", default=False,
                     help="also run the tests marked 'extra_build': end-to-end builds of the whole book beyond the "
                          "bundled cohort's one (CI runs them)")


def _left_out(config, item) -> bool:
    return any(item.get_closest_marker(marker) and not config.getoption(option)
               for marker, option in OPTIONAL_MARKERS.items())


def pytest_collection_modifyitems(config, items):
    # the calibrated cohort is data: regenerating it is an explicit act, never a side effect of a test run; the
    # default run keeps one end-to-end build (the bundled cohort's, with the browser tests) and leaves out the others
    deselected = [item for item in items if _left_out(config, item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not _left_out(config, item)]


def pytest_configure(config):
    # declared here, not in pyproject.toml: that file is an input of the cached builds
    config.addinivalue_line("markers", "regenerate: regenerates the calibrated synthetic cohort (minutes); "
                                       "deselected unless pytest is given --regenerate")
    config.addinivalue_line("markers", "extra_build: an end-to-end build of the whole book beyond the bundled one "
                                       "(minutes); deselected unless pytest is given --extra-builds")
    config.addinivalue_line("markers", "real_kernel: executes its notebooks in real Jupyter kernels (the runner "
                                       "tests otherwise execute cells in-process, see in_process_notebooks)")
    config.addinivalue_line("markers", "portable: also run by CI with HCC_STUDY_PORTABLE=1 (the paths of macOS and "
                                       "Windows on Linux: hcc_utils.config.platforms): the end-to-end build, "
                                       "publishing, interruptions, the command line, kernels and workers")


@pytest.fixture
def in_process_notebooks(request):
    """Papermill executes notebooks in-process (``tests/inprocess_engine.py``), unless the test is marked
    ``real_kernel``: the runner's bookkeeping is tested without paying a kernel start per notebook, and the
    behaviours that need a kernel (a failing cell's report, the kernel-start retry, Ctrl-C and ``kill -9`` during
    a notebook, parallel kernels' sockets) keep real ones. Yields whether the engine is in-process."""
    if request.node.get_closest_marker("real_kernel"):
        yield False
        return
    from inprocess_engine import in_process_engine

    with in_process_engine():
        yield True


@pytest.fixture(scope="session")
def bundled_book() -> Path:
    """The output folder of this session's build of the whole book on the bundled synthetic cohort."""
    prebuilt = os.environ.get(PREBUILT_BOOK_VARIABLE)
    if prebuilt and not os.environ.get("CI"):
        folder = Path(prebuilt)
        assert (folder / "html" / "index.html").is_file(), f"{PREBUILT_BOOK_VARIABLE}={prebuilt} holds no built book"
        return folder
    return session_build("bundled", [], print_pdfs=True)


# ---------------------------------------------------------------------------------------------- browser tests
# (tests/test_browser.py, tests/test_browser_method.py: one Chromium and one served book per worker)

@pytest.fixture(scope="session")
def browser():
    """The system Chromium, headless. Skips (fails in CI) when it or Playwright is missing."""
    from browser_support import chromium_path

    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        sync_playwright = None
    if executable is None or sync_playwright is None:
        reason = ("Chromium not found (apt-get install chromium; .ci/run installs it)" if executable is None
                  else "playwright is not installed (pip install -r requirements.lock)")
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def site(bundled_book):
    """The shared build's html/ served over HTTP; its base URL."""
    from browser_support import serve

    with serve(published(bundled_book) / "html") as base_url:
        yield base_url
