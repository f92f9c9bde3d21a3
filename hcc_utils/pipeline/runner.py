"""Execute the study's notebooks with papermill and assemble the Jupyter Book from the executed copies.

Layout of the published run ``OUT/current`` (``OUT`` is ``_build`` by default)::

    executed/<path>.ipynb     executed notebooks (what the book renders)
    sections/<name>/          what each notebook wrote: results part, tables (CSV, JSON; DOCX and XLSX written
                              by the runner), figures (PNG, SVG, PDF)
    results.csv               every computed number, one row per id (ids of data/targets.csv where reported)
    analysis.csv              the derived analysis table, for checking numbers in R, SAS or Stata (never in the book)
    tables.docx               the article's tables in article order (Word), and tables.xlsx (one sheet each)
    manifest.json             data checksum, configuration, cache keys, versions, timings
    logs/<notebook>.log       what each notebook's kernel wrote to stderr, and a failing cell's traceback
    html/                     the book (``build`` only)

On Linux and macOS these names are also at the top of ``OUT`` (links into ``current``). A run happens in a folder
of its own (``OUT/.runs/<id>``), is checked against its manifest, and is published (:mod:`hcc_utils.pipeline.publish`:
an atomic swap of the link ``current``, or on Windows a journaled rename of the folder) only when every notebook (and,
for ``build``, the book) succeeded: a failed or interrupted run never replaces the previous one or mixes with it.
The previous run is read through :func:`hcc_utils.pipeline.publish.published_run`. ``OUT/.lock`` keeps a second build
out of the same folder.

Execution is planned as a small dependency graph: the section notebooks (``notebooks/``) depend only on the data,
configuration and code, so they may run in parallel (``jobs``); the book's own notebook pages (``book/*.ipynb``)
read the combined ``run_dir/results.csv`` and run after them; the notebooks of a stage run ``jobs`` at once (``"auto"``:
one per core). Each notebook has a cache key (hash of its code cells and inputs, :mod:`hcc_utils.pipeline.cache`);
with ``reuse`` a notebook whose key matches the previous run is copied instead of re-executed (a markdown edit is
patched into the copy), a run where nothing changed at all returns at once without publishing, and the book is
rebuilt incrementally (:mod:`hcc_utils.pipeline.book`).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hcc_utils.config import DEFAULT_CONFIG_PATH, REPO_ROOT, StudyConfig, platforms
from hcc_utils.pipeline import cache as _cache
from hcc_utils.pipeline.book import AREA, BookProcess, build_html, copy_downloads, print_book  # noqa: F401 (copy_downloads: public here)
from hcc_utils.pipeline.cache import cache_key, notebook_code_sha  # noqa: F401 (cache_key: public here)
from hcc_utils.pipeline.execute import NotebookTask, StudyRunError, _log, execute_notebook, longest_first
from hcc_utils.pipeline.kernel_server import KernelForkServer, notebook_imports
from hcc_utils.pipeline.kernels import PortReservations
from hcc_utils.pipeline import publish as _publish_mod
from hcc_utils.pipeline.publish import checkpoint, sha256_file as _sha256_file
from hcc_utils.config.checksums import settings_sha256
from hcc_utils.report.provenance import Stamp, stamp_csv
from hcc_utils.study.cache import take_notes
from hcc_utils.study.cohort import STUDY_CACHE_DIR, STUDY_CACHE_ENV, is_synthetic_file, prepare_study_cache
from hcc_utils.pipeline.reuse import copy_previous as _copy_previous, copy_run_files as _copy_run_files, \
    read_manifest as _read_manifest

# The analysis layers (pandas, scipy, statsmodels...) are imported only by a run that executes something, so that
# a rebuild with nothing changed starts and ends in well under a second.
_LAZY = {"read_cohort": "hcc_utils.data.readers", "validate_cohort": "hcc_utils.data.validate"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


#: The article's tables in one file each (:data:`hcc_utils.report.collection.COLLECTION_NAMES`, named here so that a
#: run reusing every notebook need not load python-docx and openpyxl).
COLLECTIONS = ("tables.docx", "tables.xlsx")
SECTION_DIR = "notebooks"
PAGES_DIR = "book"


@dataclass
class RunSummary:
    out_dir: Path
    executed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    #: Nothing had changed: the published run was kept as it was (nothing executed, built or published).
    up_to_date: bool = False


def toc_files(toc_path: Path = REPO_ROOT / "_toc.yml") -> list[str]:
    """Every file named in the book's table of contents, in reading order (without extension)."""
    toc = yaml.load(toc_path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C: faster
    files: list[str] = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for key in ("chapters", "sections", "parts"):
                for child in node.get(key, []) or []:
                    walk(child)

    walk(toc)
    return files


def plan_tasks(root: Path = REPO_ROOT) -> list[NotebookTask]:
    """The notebooks to execute, in table-of-contents order, with their stage (1 sections, 2 summary pages)."""
    tasks = []
    for entry in toc_files(root / "_toc.yml"):
        path = root / f"{entry}.ipynb"
        if path.is_file():
            stage = 1 if entry.startswith(SECTION_DIR + "/") else 2
            tasks.append(NotebookTask(f"{entry}.ipynb", stage))
    return tasks


def code_fingerprint(root: Path = REPO_ROOT) -> str:
    """Hash of everything a notebook's output depends on besides data and configuration."""
    return _cache.code_fingerprint(root)


def resolve_jobs(jobs: int | str, ready: int) -> int:
    """Notebooks to execute at once: ``"auto"`` is the number of cores, at most the number of ``ready`` notebooks.

    Raises
    ------
    UserInputError
        ``jobs`` is neither ``"auto"`` nor a positive whole number.
    """
    if isinstance(jobs, str) and jobs.strip().lower() == "auto":
        return max(1, min(os.cpu_count() or 1, ready))
    try:
        number = int(jobs)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or str(jobs).strip() != str(number):
        raise UserInputError(f"--jobs must be 'auto' or a whole number of at least 1, not {jobs!r}")
    return number


class UserInputError(ValueError):
    """The data file, the configuration or the output folder cannot be used as given (exit status 2)."""


class InvalidCohortError(UserInputError):
    """The cohort file failed validation; the message gives counts by rule, never patient rows."""


def check_inputs(config: StudyConfig) -> None:
    """Refuse, with a message, a data path that is not a readable file."""
    path = Path(config.data)
    if path.is_dir():
        raise UserInputError(f"the data path {path} is a folder; give the cohort file itself (.csv, .xlsx or .parquet)")
    if not path.is_file():
        raise UserInputError(f"data file not found: {path}")
    if not os.access(path, os.R_OK):
        raise UserInputError(f"the data file {path} cannot be read (permission denied)")


def validate_command(data_path: Path, config_path: str | Path | None) -> str:
    """The ``hcc-study validate`` command that reports every row of this run's data with this run's configuration
    (``--config`` only when it is not the default ``study.yml``)."""
    command = f"hcc-study validate {_quoted(data_path)}"
    if config_path is not None and Path(config_path).resolve() != DEFAULT_CONFIG_PATH.resolve():
        command += f" --config {_quoted(config_path)}"
    return command


def _quoted(path: str | Path) -> str:
    """A path as typed on a command line (in double quotes when it holds a space: both shells accept those)."""
    text = str(path)
    return f'"{text}"' if any(c.isspace() for c in text) else text


def _validate_data(config: StudyConfig, config_path: str | Path | None = None) -> None:
    """Read and validate the cohort file; stops the run before any notebook if it has errors.

    Only counts by rule are printed here (runs are logged); the report naming rows and patients is for the data
    owner, from ``hcc-study validate`` (the message gives the command, with ``config_path``, the run's
    configuration file).
    """
    from hcc_utils.data import readers, text, validate

    path = Path(config.data)
    try:
        frame = readers.read_cohort(path, config=config)  # the extract settings: sheet, column names, dates
    except OSError as exc:  # unreadable after all (permissions checked as root pass, a vanished file...)
        raise UserInputError(f"the data file {path} cannot be read: {exc.strerror or exc}") from None
    report = validate.validate_cohort(frame, source=path.name, config=config)

    def by_rule(violations) -> str:
        return ", ".join(f"{rule} {n}" for rule, n in sorted(Counter(v.rule for v in violations).items()))

    if report.warnings:
        _log(f"{path.name}: {text.plural(len(report.warnings), 'warning')} ({by_rule(report.warnings)}); "
             f"details: {validate_command(path, config_path)}")
    if not report.ok:
        raise InvalidCohortError(f"{path.name} is not valid: {text.plural(len(report.errors), 'error')} "
                                 f"({by_rule(report.errors)}); nothing was run. See every row concerned with: "
                                 f"{validate_command(path, config_path)}")


def run_study(config: StudyConfig, out_dir: str | Path, jobs: int | str = "auto", reuse: bool = True,
              build_book: bool = False, validate: bool = True, root: Path = REPO_ROOT,
              config_path: str | Path | None = None) -> RunSummary:
    """Execute every notebook of the table of contents and publish the run into ``out_dir``.

    Parameters
    ----------
    config : the resolved configuration (:func:`hcc_utils.config.load_config`).
    out_dir : output folder; created if needed. Another folder gives another, independent book.
    jobs : notebooks executed at once (those of a stage are independent of each other): a number, or ``"auto"``
        for the number of cores (at most the number of notebooks ready to run).
    reuse : copy a notebook's previous outputs instead of re-executing it when its inputs are unchanged and its
        previous outputs still match their checksums; publish nothing new when nothing changed at all; rebuild
        the book incrementally. ``False`` re-executes every notebook and builds the book from nothing.
    build_book : also build the Jupyter Book HTML into ``out_dir/html``.
    validate : validate the data file first (the default; ``False`` only for tests of the runner).
    root : the project folder holding ``_toc.yml``, ``_config.yml`` and the notebooks.
    config_path : the configuration file ``config`` was read from (``None``: the default ``study.yml``), named in
        the messages that give a command to run with the same configuration.

    Raises
    ------
    UserInputError
        Unusable data file or configuration, invalid cohort (nothing runs).
    OutputLockedError
        Another build is writing into ``out_dir``.
    StudyRunError
        A notebook or the book build failed; the previous run stays published.
    """
    out_dir = Path(out_dir).resolve()
    check_inputs(config)
    resolve_jobs(jobs, 1)  # a bad value stops here, before anything runs
    tasks = plan_tasks(root)
    if not tasks:
        raise StudyRunError("the table of contents (_toc.yml) names no notebook")
    with _publish_mod.output_lock(out_dir, _log):
        _publish_mod.recover(out_dir, _log)  # a swap an interruption cut short is finished first
        state = _RunState.of(config, out_dir, tasks, root)
        if reuse and (summary := _unchanged(state, build_book)) is not None:
            return summary
        if validate and not (reuse and state.validated_before()):
            _validate_data(config, config_path)
        with contextlib.ExitStack() as ahead:  # processes started ahead of their use, stopped if unused
            ahead.enter_context(platforms.utf8_children())  # workers, kernels, the book build: UTF-8 mode
            return _run_locked(state, jobs, reuse, build_book, ahead)


@dataclass
class _RunState:
    """What a run's cache keys are made of, computed once (hashes of data, code, notebooks and book sources)."""

    config: StudyConfig
    out_dir: Path
    tasks: list[NotebookTask]
    root: Path
    previous: dict
    #: The published run's folder (either layout, :func:`hcc_utils.pipeline.publish.published_run`); its files are
    #: what ``previous`` (its manifest) lists.
    published: Path | None
    data_sha: str
    code_sha: str
    sources: dict[str, str]
    book_key: str
    provenance: str = ""

    @classmethod
    def of(cls, config: StudyConfig, out_dir: Path, tasks: list[NotebookTask], root: Path) -> "_RunState":
        data_path = Path(config.data)
        published = _publish_mod.published_run(out_dir)
        return cls(config, out_dir, tasks, root, _read_manifest(published), published, _sha256_file(data_path),
                   code_fingerprint(),
                   {t.relpath: _sha256_file(root / t.relpath) for t in tasks}, _cache.book_key(root, data_path),
                   _cache.source_provenance(REPO_ROOT))

    def validated_before(self) -> bool:
        """The published run read and validated the same data file with the same configuration and code."""
        previous = self.previous
        same = (previous.get("data_sha256") == self.data_sha and previous.get("code_sha256") == self.code_sha
                and previous.get("config") == self.config.to_dict() and self.published is not None)
        if same:
            _log("data, configuration and code as in the published run, which validated them: not validated again")
        return same

    def key(self, task: NotebookTask, results_sha: str = "") -> str:
        # a page that states the code's commit and uncommitted changes (About) would state another run's if it
        # were re-used from it: for such pages they are part of the key
        extra = self.provenance if task.stage > 1 and _cache.states_provenance(self.root / task.relpath) else ""
        # a page showing `hcc-study verify`'s summary (Validation) is executed again when verify has run
        if task.stage > 1 and _cache.reads_verification(self.root / task.relpath):
            extra += _cache.verification_key(self.out_dir)
        return cache_key(task, self.root, self.data_sha, self.config, self.code_sha, results_sha + extra)


def _unchanged(state: _RunState, build_book: bool) -> RunSummary | None:
    """The published run's summary when nothing it was made from changed and its files are intact, else ``None``.

    Nothing changed means: every notebook's cache key and source (markdown included) as in the published manifest,
    the same book sources (for ``build``, which also needs the published HTML), and every file the manifest lists
    still matching its checksum. Then nothing is executed, built or published.
    """
    previous = state.previous
    keys = previous.get("cache_keys", {})
    if set(keys) != set(state.sources) or previous.get("sources") != state.sources:
        return None
    if build_book and (previous.get("book_key") != state.book_key or not previous.get("files", {}).get("_html")):
        return None
    stage_inputs = previous.get("stage_results", {})
    for task in state.tasks:
        if task.stage > 1 and str(task.stage) not in stage_inputs:
            return None
        if keys[task.relpath] != state.key(task, stage_inputs.get(str(task.stage), "")):
            return None
    run = state.published
    if run is None:
        return None
    problems = [p for entries in previous.get("files", {}).values() for p in _publish_mod.verify_files(run, entries)]
    if problems:
        _log(f"the published run is damaged ({'; '.join(problems[:3])}); running again")
        return None
    _publish_mod.discard_unpublished(state.out_dir)  # what an interrupted build left
    _warn_neutralised(previous.get("analysis_neutralised", {}))  # the published analysis.csv's, said again
    _log(f"nothing changed since the published run {run.name} (notebooks, data, configuration, code"
         f"{', book sources and HTML' if build_book else ''}): nothing executed, no book build")
    return RunSummary(out_dir=state.out_dir, reused=[t.relpath for t in state.tasks], up_to_date=True)


def _warn_neutralised(neutralised: dict) -> None:
    """Say which columns of analysis.csv had text cells quoted so that spreadsheets do not run them as formulas."""
    for column, count in neutralised.items():
        _log(f"warning: analysis.csv: {count} text cells of column {column!r} began with =, +, - or @ "
             "(read as formulas by spreadsheets); a quote was put before each")


def _execute_stage(to_run: list[NotebookTask], jobs: int | str, root: Path, staging: Path, parameters: dict,
                   finish, side=None) -> None:
    """Execute the independent notebooks ``to_run``, ``jobs`` at once (``"auto"``: one per core), and the call
    ``side`` (a function and its arguments, independent of them) alongside."""
    calls = len(to_run) + (side is not None)
    workers = resolve_jobs(jobs, calls)
    if workers > 1 and calls > 1:
        from hcc_utils.pipeline.workers import run_in_workers

        def done(call: tuple, result) -> None:
            if call[0] is execute_notebook:
                finish(call[1], result)

        run_in_workers(([side] if side else []) + [(execute_notebook, t, root, staging, parameters) for t in to_run],
                       workers, done)
    else:
        if side:
            side[0](*side[1:])
        for task in to_run:
            finish(task, execute_notebook(task, root, staging, parameters))


def _prepare_study_cache(data_path: Path, config: StudyConfig, out_dir: Path) -> None:
    """Compute the study once for every notebook of the run (``HCC_STUDY_CACHE_DIR``). Best effort: if the study
    cannot be built here (a project whose notebooks do not use it, or data the notebooks will reject with their own
    message), the notebooks compute it themselves and report the problem where it belongs."""
    os.environ.pop(STUDY_CACHE_ENV, None)
    take_notes(out_dir / STUDY_CACHE_DIR)  # a previous run's, left by an interruption: not this run's
    try:
        os.environ[STUDY_CACHE_ENV] = str(prepare_study_cache(data_path, config, out_dir / STUDY_CACHE_DIR))
    except Exception as error:  # noqa: BLE001 - any failure only means "no cache"
        _log(f"study cache not built ({type(error).__name__}); each notebook computes the study itself")


def _run_locked(state: _RunState, jobs: int | str, reuse: bool, build_book: bool,
                ahead: contextlib.ExitStack) -> RunSummary:
    config, out_dir, tasks, root, previous = state.config, state.out_dir, state.tasks, state.root, state.previous
    data_path = Path(config.data)
    staging = _publish_mod.new_run_dir(out_dir, _log)
    published = state.published
    stamp = Stamp(bool(is_synthetic_file(data_path)), data_path.name, state.data_sha,
                  settings_sha256(config.to_dict()), state.provenance)  # what the run's downloads say of it
    parameters = {"data_path": str(data_path), "config": config.to_dict(), "run_dir": str(staging)}
    summary = RunSummary(out_dir=out_dir)
    keys: dict[str, str] = {}
    stage_results: dict[str, str] = {}
    total = len(tasks)
    done = 0

    def finish(task: NotebookTask, seconds: float | None) -> None:
        nonlocal done
        done += 1
        if seconds is None:
            summary.reused.append(task.relpath)
            _log(f"[{done}/{total}] {task.relpath}: unchanged, reused")
        else:
            summary.executed.append(task.relpath)
            summary.seconds[task.relpath] = round(seconds, 2)
            _log(f"[{done}/{total}] {task.relpath}: executed in {seconds:.1f} s")

    def combine() -> None:
        from hcc_utils.report.recorder import combine_parts  # imports the analysis: only when something ran

        combine_parts(staging / "sections", staging / "results.csv")

    last, tables_written = max(t.stage for t in tasks), False
    book_process = forking = None  # the fork server lives from the first notebook executed to the last
    with contextlib.ExitStack() as kernels:
        for stage in sorted({t.stage for t in tasks}):
            results_sha = ""
            if stage > 1:
                # Nothing executed so far: the sections' outputs are the published run's, checked against their
                # checksums, and so is their combination.
                results_sha = previous.get("stage_results", {}).get(str(stage), "") if not summary.executed else ""
                if not results_sha:
                    combine()
                    results_sha = _sha256_file(staging / "results.csv")
                stage_results[str(stage)] = results_sha
            to_run = []
            for task in (t for t in tasks if t.stage == stage):
                keys[task.relpath] = state.key(task, results_sha)
                if reuse and published is not None \
                        and previous.get("cache_keys", {}).get(task.relpath) == keys[task.relpath] \
                        and _copy_previous(task, published, staging, previous, state.sources[task.relpath], root):
                    finish(task, None)
                else:
                    to_run.append(task)
            if to_run and stage > 1 and not (staging / "results.csv").is_file():
                combine()  # what these pages read
            to_run = longest_first(to_run, previous.get("durations", previous.get("seconds", {})), root)
            side = None
            if stage == last and stage > 1 and summary.executed:  # the sections' tables are final: convert them
                side, tables_written = (_convert_tables, staging, config.study, stamp), True  # beside the pages
            if to_run and not forking:  # started while the study cache is prepared
                forking = kernels.enter_context(KernelForkServer(notebook_imports(root / t.relpath for t in tasks)))
                kernels.enter_context(PortReservations())  # TCP kernels of every worker reserve their ports here
            if to_run and stage == 1:  # the study (read, validate, derive, match) once; every notebook loads it
                _prepare_study_cache(data_path, config, out_dir)
            if build_book and stage == last and book_process is None:  # its imports while the pages execute
                book_process = ahead.enter_context(BookProcess())
            _execute_stage(to_run, jobs, root, staging, parameters, finish, side)

    for note in take_notes(out_dir / STUDY_CACHE_DIR):  # why a notebook computed the study itself: the log, not a page
        _log(note)
    if summary.executed or not _copy_run_files(published, staging, previous, ("results.csv",)):
        combine()
    for candidate in (staging / "sections").glob("*/analysis.csv"):  # written by the matching notebook
        shutil.move(candidate, staging / "analysis.csv")
    neutralised: dict = {}
    if (staging / "analysis.csv").is_file():
        from hcc_utils.report.spreadsheet import neutralise_csv_formulas

        neutralised = neutralise_csv_formulas(staging / "analysis.csv")
        if not neutralised and published is not None and (published / "analysis.csv").is_file() \
                and _sha256_file(published / "analysis.csv") == _sha256_file(staging / "analysis.csv"):
            neutralised = previous.get("analysis_neutralised", {})  # the same file, neutralised by that run
    elif summary.reused:  # its notebook was reused (its file had left its section folder): the published one
        if _copy_run_files(published, staging, previous, ("analysis.csv",)):
            neutralised = previous.get("analysis_neutralised", {})  # neutralised by that run: said again
    _warn_neutralised(neutralised)

    if not tables_written:
        _write_submission_formats(staging, published, previous, bool(summary.executed), config.study, stamp)

    for table_csv in sorted(staging.glob("sections/*/tables/*.csv")):  # the book pages' tables too
        stamp_csv(table_csv, stamp)
    manifest = {
        "data": str(data_path), "data_sha256": state.data_sha, "config": config.to_dict(),
        "code_sha256": state.code_sha, "cache_keys": keys, "sources": state.sources, "stage_results": stage_results,
        "analysis_neutralised": neutralised,
        "seconds": summary.seconds, "python": platform.python_version(),
        "durations": {**previous.get("durations", previous.get("seconds", {})), **summary.seconds},  # latest known
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "stamp": stamp.to_dict(),  # what the run's DOCX and XLSX say of their data (hcc-study export reads it)
        "files": _publish_mod.file_checksums(staging),
    }
    manifest["files"]["_run"].update({name: _sha256_file(staging / name) for name in COLLECTIONS
                                      if (staging / name).is_file()})
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    checkpoint("staged", _log)
    if build_book:
        area = out_dir / AREA
        if not reuse:
            shutil.rmtree(area, ignore_errors=True)  # --force: the book too is built from nothing
        html_dir = build_html(staging, root, area=area, process=book_process)
        print_book(html_dir, staging, toc_files(root / "_toc.yml"), area)  # the PDFs, where a Chromium is installed
        manifest["book_key"] = state.book_key
        manifest["files"]["_html"] = {p.relative_to(staging).as_posix(): _sha256_file(p)
                                      for p in sorted(html_dir.rglob("*")) if p.is_file()}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
        checkpoint("book-built", _log)
    _publish_mod.check_complete(staging, tasks)
    _publish_mod.publish(staging, out_dir, _log)
    return summary


def _write_submission_formats(run_dir: Path, published: Path | None, previous: dict, executed_any: bool,
                              study=None, stamp=None) -> None:
    """Each saved table (``sections/*/tables/<name>.json``) as ``<name>.docx`` and ``<name>.xlsx`` beside it, and
    the article's tables as ``tables.docx`` / ``tables.xlsx`` in the run folder: outputs of the run, checksummed
    in its manifest like the rest.

    When no notebook was executed, every table is the previous run's (its DOCX and XLSX came with its section), and
    the previous collections are copied once checked against their checksums instead of being written again.
    """
    if not executed_any and _copy_run_files(published, run_dir, previous, COLLECTIONS):
        return
    _convert_tables(run_dir, study, stamp)


def _convert_tables(run_dir: Path, study=None, stamp=None) -> None:
    """Write every table of the run as DOCX and XLSX, titled and signed by ``study`` and stamped with ``stamp``
    (:class:`hcc_utils.report.provenance.Stamp`; in a worker process when run beside notebooks)."""
    from hcc_utils.report.collection import convert_run_tables

    start = time.perf_counter()
    try:
        written = convert_run_tables(run_dir, study, stamp)
    except ValueError as exc:
        raise StudyRunError(f"the tables could not be written as DOCX and XLSX: {exc}") from None
    if written:
        _log(f"submission formats: {len(written)} files (DOCX, XLSX) in {time.perf_counter() - start:.1f} s")
