"""Execute the study's notebooks with papermill and assemble the Jupyter Book from the executed copies.

Layout of an output folder ``OUT`` (default ``_build``)::

    OUT/executed/<path>.ipynb     executed notebooks (what the book renders)
    OUT/sections/<name>/          what each notebook wrote: results part, tables (CSV, JSON; DOCX and XLSX written
                                  by the runner), figures (PNG, SVG, PDF)
    OUT/results.csv               every computed number, one row per id (ids of data/targets.csv where reported)
    OUT/analysis.csv              the derived analysis table, for checking numbers in R, SAS or Stata (never in the book)
    OUT/current/tables.docx       the article's tables in article order (Word), and tables.xlsx (one sheet each)
    OUT/manifest.json             data checksum, configuration, cache keys, versions, timings
    OUT/logs/<notebook>.log       what each notebook's kernel wrote to stderr
    OUT/html/                     the book (``build`` only)

These are links into ``OUT/current``, the published run (:mod:`hcc_utils.pipeline.publish`). A run happens in a
folder of its own (``OUT/.runs/<id>``), is checked against its manifest, and is published by one atomic swap of
``current`` only when every notebook (and, for ``build``, the book) succeeded: a failed or interrupted run never
replaces the previous one or mixes with it. ``OUT/.lock`` keeps a second build out of the same folder.

Execution is planned as a small dependency graph: the section notebooks (``notebooks/``) depend only on the data,
configuration and code, so they may run in parallel (``jobs``); the book's own notebook pages (``book/*.ipynb``)
read the combined ``run_dir/results.csv`` and run after them. Each notebook has a cache key (hash of its inputs); with
``reuse`` a notebook whose key matches the previous run is copied instead of re-executed.
"""
from __future__ import annotations

import concurrent.futures
import datetime as _dt
import hashlib
import html
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hcc_utils.config import REPO_ROOT, StudyConfig
from hcc_utils.pipeline.execute import NotebookTask, StudyRunError, _log, execute_notebook
from hcc_utils.pipeline import publish as _publish_mod
from hcc_utils.pipeline.publish import checkpoint, sha256_file as _sha256_file
from hcc_utils.data.readers import read_cohort
from hcc_utils.data.validate import validate_cohort
from hcc_utils.report.downloads import DOWNLOAD_FORMATS, DOWNLOADS_DIR
from hcc_utils.report.spreadsheet import neutralise_csv_formulas
from hcc_utils.report.submission import COLLECTION_NAMES, convert_run_tables
from hcc_utils.report.recorder import combine_parts
from hcc_utils.study.cohort import is_synthetic_file

SECTION_DIR = "notebooks"
PAGES_DIR = "book"


@dataclass
class RunSummary:
    out_dir: Path
    executed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def toc_files(toc_path: Path = REPO_ROOT / "_toc.yml") -> list[str]:
    """Every file named in the book's table of contents, in reading order (without extension)."""
    toc = yaml.safe_load(toc_path.read_text())
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
    digest = hashlib.sha256()
    files = sorted((root / "hcc_utils").rglob("*.py")) + [root / "requirements.lock", root / "data" / "data_dictionary.yml"]
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def source_provenance() -> str:
    """The git commit of the code, and ``+dirty`` when tracked files have uncommitted changes ("" outside git)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""
    return git("rev-parse", "HEAD") + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def cache_key(task: NotebookTask, root: Path, data_sha: str, config: StudyConfig, code_sha: str, results_sha: str = "") -> str:
    digest = hashlib.sha256()
    for part in (task.relpath, _sha256_file(root / task.relpath), data_sha,
                 json.dumps(config.results_dict(), sort_keys=True), code_sha, results_sha if task.stage > 1 else ""):
        digest.update(part.encode())
    return digest.hexdigest()


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


def _validate_data(config: StudyConfig) -> None:
    """Read and validate the cohort file; stops the run before any notebook if it has errors.

    Only counts by rule are printed here (runs are logged); the report naming rows and patients is for the data
    owner, from ``hcc-study validate``.
    """
    path = Path(config.data)
    try:
        frame = read_cohort(path, config=config)  # the extract settings: sheet, column names, dates
    except OSError as exc:  # unreadable after all (permissions checked as root pass, a vanished file...)
        raise UserInputError(f"the data file {path} cannot be read: {exc.strerror or exc}") from None
    report = validate_cohort(frame, source=path.name, config=config)

    def by_rule(violations) -> str:
        return ", ".join(f"{rule} {n}" for rule, n in sorted(Counter(v.rule for v in violations).items()))

    if report.warnings:
        _log(f"{path.name}: {len(report.warnings)} warnings ({by_rule(report.warnings)}); "
             f"details: hcc-study validate {path} --config <the configuration of this run>")
    if not report.ok:
        raise InvalidCohortError(f"{path.name} is not valid: {len(report.errors)} errors ({by_rule(report.errors)}); "
                                 f"nothing was run. See every row concerned with: hcc-study validate {path} "
                                 "--config <the configuration of this run>")


def run_study(config: StudyConfig, out_dir: str | Path, jobs: int = 1, reuse: bool = True,
              build_book: bool = False, validate: bool = True, root: Path = REPO_ROOT) -> RunSummary:
    """Execute every notebook of the table of contents and publish the run into ``out_dir``.

    Parameters
    ----------
    config : the resolved configuration (:func:`hcc_utils.config.load_config`).
    out_dir : output folder; created if needed. Another folder gives another, independent book.
    jobs : section notebooks executed at once (they are independent of each other).
    reuse : copy a notebook's previous outputs instead of re-executing it when its inputs are unchanged and its
        previous outputs still match their checksums.
    build_book : also build the Jupyter Book HTML into ``out_dir/html``.
    validate : validate the data file first (the default; ``False`` only for tests of the runner).
    root : the project folder holding ``_toc.yml``, ``_config.yml`` and the notebooks.

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
    if validate:
        _validate_data(config)
    tasks = plan_tasks(root)
    if not tasks:
        raise StudyRunError("the table of contents (_toc.yml) names no notebook")
    with _publish_mod.output_lock(out_dir, _log):
        return _run_locked(config, out_dir, tasks, jobs, reuse, build_book, root)


def _run_locked(config: StudyConfig, out_dir: Path, tasks: list[NotebookTask], jobs: int, reuse: bool,
                build_book: bool, root: Path) -> RunSummary:
    data_path = Path(config.data)
    staging = _publish_mod.new_run_dir(out_dir)
    previous = _read_manifest(out_dir)
    data_sha = _sha256_file(data_path)
    code_sha = code_fingerprint()
    parameters = {"data_path": str(data_path), "config": config.to_dict(), "run_dir": str(staging)}
    summary = RunSummary(out_dir=out_dir)
    keys: dict[str, str] = {}
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

    for stage in sorted({t.stage for t in tasks}):
        results_sha = ""
        if stage > 1:
            combine_parts(staging / "sections", staging / "results.csv")
            # the book's pages state the code's commit and uncommitted changes (About): a page re-used from a run
            # of another commit would state that run's, so they are part of these pages' key
            results_sha = _sha256_file(staging / "results.csv") + source_provenance()
        to_run = []
        for task in (t for t in tasks if t.stage == stage):
            keys[task.relpath] = cache_key(task, root, data_sha, config, code_sha, results_sha)
            if reuse and previous.get("cache_keys", {}).get(task.relpath) == keys[task.relpath] \
                    and _copy_previous(task, out_dir, staging, previous):
                finish(task, None)
            else:
                to_run.append(task)
        if jobs > 1 and len(to_run) > 1:
            with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = {pool.submit(execute_notebook, t, root, staging, parameters): t for t in to_run}
                for task in to_run:
                    _log(f"executing {task.relpath} ...")
                for future in concurrent.futures.as_completed(futures):
                    finish(futures[future], future.result())
        else:
            for task in to_run:
                _log(f"executing {task.relpath} ...")
                finish(task, execute_notebook(task, root, staging, parameters))

    combine_parts(staging / "sections", staging / "results.csv")
    analysis_from, neutralised = "", {}
    for candidate in (staging / "sections").glob("*/analysis.csv"):  # written by the matching notebook
        analysis_from = candidate.parent.name
        shutil.move(candidate, staging / "analysis.csv")
    if (staging / "analysis.csv").is_file():
        neutralised = neutralise_csv_formulas(staging / "analysis.csv")
        if analysis_from in {Path(r).stem for r in summary.reused}:  # neutralised by its own run: say it again
            neutralised = previous.get("analysis_neutralised", {})
        for column, count in neutralised.items():
            _log(f"warning: analysis.csv: {count} text cells of column {column!r} began with =, +, - or @ "
                 "(read as formulas by spreadsheets); a quote was put before each")

    _write_submission_formats(staging)

    manifest = {
        "data": str(data_path), "data_sha256": data_sha, "config": config.to_dict(), "code_sha256": code_sha,
        "analysis_from": analysis_from, "analysis_neutralised": neutralised,
        "cache_keys": keys, "seconds": summary.seconds, "python": platform.python_version(),
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "files": _publish_mod.file_checksums(staging),
    }
    manifest["files"]["_run"].update({name: _sha256_file(staging / name) for name in COLLECTION_NAMES
                                      if (staging / name).is_file()})
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    checkpoint("staged", _log)
    if build_book:
        build_html(staging, root)
        checkpoint("book-built", _log)
    _publish_mod.check_complete(staging, tasks)
    _publish_mod.publish(staging, out_dir, _log)
    return summary


def _write_submission_formats(run_dir: Path) -> None:
    """Each saved table (``sections/*/tables/<name>.json``) as ``<name>.docx`` and ``<name>.xlsx`` beside it, and
    the article's tables as ``tables.docx`` / ``tables.xlsx`` in the run folder: outputs of the run, checksummed
    in its manifest like the rest (deterministic, so a reused notebook's files are rewritten identically)."""
    start = time.perf_counter()
    try:
        written = convert_run_tables(run_dir)
    except ValueError as exc:
        raise StudyRunError(f"the tables could not be written as DOCX and XLSX: {exc}") from None
    if written:
        _log(f"submission formats: {len(written)} files (DOCX, XLSX) in {time.perf_counter() - start:.1f} s")


def _read_manifest(out_dir: Path) -> dict:
    try:
        return json.loads((out_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}


def _copy_previous(task: NotebookTask, out_dir: Path, staging: Path, previous: dict) -> bool:
    """Copy a notebook's previous outputs into the new run, only if they match the previous manifest's checksums."""
    entries = previous.get("files", {}).get(task.name)
    executed = f"executed/{task.relpath}"
    if not entries or executed not in entries:
        return False  # a run of an older version of the runner: nothing to verify against
    problems = _publish_mod.verify_files(out_dir, entries)
    section = out_dir / "sections" / task.name
    on_disk = {str(p.relative_to(section.parent.parent)) for p in section.rglob("*") if p.is_file()} if section.is_dir() else set()
    problems += [f"{name} is not in the manifest" for name in sorted(on_disk - set(entries))]
    if problems or not section.is_dir():
        _log(f"{task.relpath}: previous outputs damaged ({'; '.join(problems[:3]) or 'no section folder'}); re-executing")
        return False
    moved = previous.get("analysis_from") == task.name  # its analysis.csv was moved to OUT/analysis.csv
    if moved:
        problems += _publish_mod.verify_files(out_dir, {"analysis.csv": previous["files"]["_run"].get("analysis.csv", "")})
    if problems:
        _log(f"{task.relpath}: previous outputs damaged ({'; '.join(problems[:3])}); re-executing")
        return False
    (staging / executed).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(out_dir / executed, staging / executed)
    shutil.copytree(section, staging / "sections" / task.name)
    if moved:
        shutil.copy2(out_dir / "analysis.csv", staging / "sections" / task.name / "analysis.csv")
    return True


# ---------------------------------------------------------------- book assembly

def _book_config(run_dir: Path, root: Path) -> dict:
    """The book's _config.yml for this run (the project's, with a banner naming the data source)."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    data_name = html.escape(Path(manifest["data"]).name)  # the banner is raw HTML on every page

    if is_synthetic_file(Path(manifest["data"])):
        banner = (f"Every result in this book is computed from <b>{data_name}</b>, a <b>synthetic</b> cohort "
                  "calibrated to the article's published aggregates: it contains no real patient.")
    else:
        banner = f"Results computed from the cohort file <b>{data_name}</b> (not the article's data)."
    config.setdefault("html", {})["announcement"] = banner
    return config


def copy_downloads(run_dir: Path, html_dir: Path) -> None:
    """Copy each section's tables and figures (the formats offered for download) into ``html/downloads/<notebook>/``,
    where the links under the book's tables and figures point (:mod:`hcc_utils.report.downloads`), and the run's
    ``tables.docx`` / ``tables.xlsx`` into ``html/downloads/``."""
    for path in sorted((run_dir / "sections").glob("*/*/*")):
        if path.is_file() and path.suffix in DOWNLOAD_FORMATS:
            target = html_dir / DOWNLOADS_DIR / path.relative_to(run_dir / "sections")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    for name in COLLECTION_NAMES:  # the article's tables in one file each (book/downloads.md links them)
        if (run_dir / name).is_file():
            (html_dir / DOWNLOADS_DIR).mkdir(parents=True, exist_ok=True)
            shutil.copy2(run_dir / name, html_dir / DOWNLOADS_DIR / name)


def build_html(run_dir: Path, root: Path = REPO_ROOT) -> Path:
    """Assemble the book's sources with the executed notebooks in ``run_dir`` and build the HTML strictly."""
    source = run_dir / "book_src"
    if source.exists():
        shutil.rmtree(source)
    source.mkdir()
    (source / "_config.yml").write_text(yaml.safe_dump(_book_config(run_dir, root), sort_keys=False))
    shutil.copy2(root / "_toc.yml", source / "_toc.yml")
    for extra in ("references.bib",):
        if (root / extra).is_file():
            shutil.copy2(root / extra, source / extra)
    for folder in (PAGES_DIR, SECTION_DIR):
        for path in (root / folder).rglob("*"):
            if path.is_file() and path.suffix in {".md", ".png", ".svg", ".css"} and ".ipynb_checkpoints" not in path.parts:
                target = source / path.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
    shutil.copytree(run_dir / "executed", source, dirs_exist_ok=True)
    build_dir = run_dir / "book_build"
    command = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(source), "--path-output", str(build_dir),
               "--builder", "html", "--warningiserror", "--nitpick", "--keep-going", "--quiet"]
    _log("building the book (strict: warnings are errors) ...")
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    if completed.returncode != 0:
        lines = re.sub(r"\x1b\[[0-9;]*m", "", completed.stdout + "\n" + completed.stderr).splitlines()  # no colours
        problems = [line for line in lines if "WARNING" in line or "ERROR" in line or "Exception" in line]
        detail = "\n".join(problems[:60] or lines[-40:])
        raise StudyRunError(f"the book build failed (jupyter-book exit {completed.returncode}; warnings are errors):\n{detail}")
    shutil.move(build_dir / "_build" / "html", run_dir / "html")
    copy_downloads(run_dir, run_dir / "html")
    shutil.rmtree(build_dir, ignore_errors=True)
    shutil.rmtree(source, ignore_errors=True)
    _log(f"book built in {time.perf_counter() - start:.1f} s")
    return run_dir / "html"
