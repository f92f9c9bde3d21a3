"""Execute the study's notebooks with papermill and assemble the Jupyter Book from the executed copies.

Layout of an output folder ``OUT`` (default ``_build``)::

    OUT/executed/<path>.ipynb     executed notebooks (what the book renders)
    OUT/sections/<name>/          what each notebook wrote: results part, tables (CSV), figures (PNG, SVG)
    OUT/results.csv               every computed number, one row per id (ids of data/targets.csv where reported)
    OUT/analysis.csv              the derived analysis table, for checking numbers in R, SAS or Stata (never in the book)
    OUT/manifest.json             data checksum, configuration, cache keys, versions, timings
    OUT/logs/                     what each notebook's kernel wrote to stderr
    OUT/html/                     the book (``build`` only)

A run happens in ``OUT/.staging`` and is moved into place only when every notebook (and, for ``build``, the
book) succeeded, so a failed run never replaces or masquerades as a finished book.

Execution is planned as a small dependency graph: the section notebooks (``notebooks/``) depend only on the data,
configuration and code, so they may run in parallel (``jobs``); the book's own notebook pages (``book/*.ipynb``)
read the combined ``run_dir/results.csv`` and run after them. Each notebook has a cache key (hash of its inputs); with
``reuse`` a notebook whose key matches the previous run is copied instead of re-executed.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as _dt
import hashlib
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

import nbformat
import yaml

from hcc_utils.config import REPO_ROOT, StudyConfig
from hcc_utils.data.readers import read_cohort
from hcc_utils.data.validate import validate_cohort
from hcc_utils.report.recorder import combine_parts
from hcc_utils.study.cohort import is_synthetic_file

SECTION_DIR = "notebooks"
PAGES_DIR = "book"
#: Tag that hides a cell entirely in the rendered book (myst-nb).
HIDE_TAG = "remove-cell"


class StudyRunError(RuntimeError):
    """A notebook or the book build failed; the message names the notebook, the cell and the error."""


@dataclass(frozen=True)
class NotebookTask:
    """One notebook to execute: its path relative to the repository and the stage it runs in."""

    relpath: str
    stage: int

    @property
    def name(self) -> str:
        return Path(self.relpath).stem


@dataclass
class RunSummary:
    out_dir: Path
    executed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _log(message: str) -> None:
    print(f"[hcc-study] {message}", file=sys.stderr, flush=True)


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


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def code_fingerprint(root: Path = REPO_ROOT) -> str:
    """Hash of everything a notebook's output depends on besides data and configuration."""
    digest = hashlib.sha256()
    files = sorted((root / "hcc_utils").rglob("*.py")) + [root / "requirements.lock", root / "data" / "data_dictionary.yml"]
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(task: NotebookTask, root: Path, data_sha: str, config: StudyConfig, code_sha: str, results_sha: str = "") -> str:
    digest = hashlib.sha256()
    for part in (task.relpath, _sha256_file(root / task.relpath), data_sha,
                 json.dumps(config.to_dict(), sort_keys=True), code_sha, results_sha if task.stage > 1 else ""):
        digest.update(part.encode())
    return digest.hexdigest()


def _hide_parameter_cells(executed: Path) -> None:
    """Hide papermill's injected-parameters cell and the defaults cell in the rendered book."""
    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if ("injected-parameters" in tags or "parameters" in tags) and HIDE_TAG not in tags:
            cell.setdefault("metadata", {})["tags"] = [*tags, HIDE_TAG]
    nbformat.write(nb, executed)


def _injected_cell_index(executed: Path) -> int:
    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:
        return -1
    for index, cell in enumerate(nb.cells):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            return index
    return -1


@contextlib.contextmanager
def _kernel_messages_to(path: Path):
    """Send what kernels write to stderr (start-up notices, shutdown chatter) to a log file, not the terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _execute_one(task: NotebookTask, root: Path, staging: Path, parameters: dict) -> float:
    """Run one notebook with papermill (in a worker process when parallel); return seconds taken."""
    import papermill  # imported here: a second or so, and only a run that executes notebooks needs it
    from papermill.exceptions import PapermillExecutionError

    source = root / task.relpath
    target = staging / "executed" / task.relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    section_dir = staging / "sections" / task.name
    section_dir.mkdir(parents=True, exist_ok=True)
    params = {**parameters, "output_dir": str(section_dir)}
    start = time.perf_counter()
    log_path = staging / "logs" / f"{task.name}.kernel.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _kernel_messages_to(log_path):
            papermill.execute_notebook(
                str(source), str(target), parameters=params, kernel_name="python3",
                cwd=str(source.parent), progress_bar=False, log_output=False,
                request_save_on_cell_execute=False,
            )
    except PapermillExecutionError as exc:
        # papermill counts its injected-parameters cell; report the position in the notebook the author edits
        position = exc.cell_index + 1 - (1 if exc.cell_index > _injected_cell_index(target) >= 0 else 0)
        first_line = (exc.source or "").strip().splitlines()[:1]
        raise StudyRunError(
            f"notebook {task.relpath} failed in cell {position} (counting from 1"
            f"{', which starts: ' + first_line[0] if first_line else ''}): {exc.ename}: {exc.evalue}\n"
            f"the partly executed copy is {target}"
        ) from None
    except Exception as exc:  # kernel death, unreadable notebook...
        raise StudyRunError(f"notebook {task.relpath} could not be executed: {type(exc).__name__}: {exc}") from None
    _hide_parameter_cells(target)
    return time.perf_counter() - start


class InvalidCohortError(ValueError):
    """The cohort file failed validation; the message gives counts by rule, never patient rows."""


def _validate_data(config: StudyConfig) -> None:
    """Read and validate the cohort file; stops the run before any notebook if it has errors.

    Only counts by rule are printed here (runs are logged); the report naming rows and patients is for the data
    owner, from ``hcc-study validate``.
    """
    path = Path(config.data)
    report = validate_cohort(read_cohort(path), source=path.name, config=config)

    def by_rule(violations) -> str:
        return ", ".join(f"{rule} {n}" for rule, n in sorted(Counter(v.rule for v in violations).items()))

    if report.warnings:
        _log(f"{path.name}: {len(report.warnings)} warnings ({by_rule(report.warnings)}); "
             f"details: hcc-study validate {path}")
    if not report.ok:
        raise InvalidCohortError(f"{path.name} is not valid: {len(report.errors)} errors ({by_rule(report.errors)}); "
                                 f"nothing was run. See every row concerned with: hcc-study validate {path}")


def run_study(config: StudyConfig, out_dir: str | Path, jobs: int = 1, reuse: bool = True,
              build_book: bool = False, validate: bool = True, root: Path = REPO_ROOT) -> RunSummary:
    """Execute every notebook of the table of contents and publish the run into ``out_dir``.

    Parameters
    ----------
    config : the resolved configuration (:func:`hcc_utils.config.load_config`).
    out_dir : output folder; created if needed. Another folder gives another, independent book.
    jobs : section notebooks executed at once (they are independent of each other).
    reuse : copy a notebook's previous outputs instead of re-executing it when its inputs are unchanged.
    build_book : also build the Jupyter Book HTML into ``out_dir/html``.
    validate : validate the data file first (the default; ``False`` only for tests of the runner).
    root : the project folder holding ``_toc.yml``, ``_config.yml`` and the notebooks.
    """
    out_dir = Path(out_dir).resolve()
    data_path = Path(config.data)
    if not data_path.is_file():
        raise StudyRunError(f"data file not found: {data_path}")
    if validate:
        _validate_data(config)

    staging = out_dir / ".staging"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    previous = _read_manifest(out_dir)
    data_sha = _sha256_file(data_path)
    code_sha = code_fingerprint()
    parameters = {"data_path": str(data_path), "config": config.to_dict(), "run_dir": str(staging)}
    summary = RunSummary(out_dir=out_dir)
    keys: dict[str, str] = {}
    tasks = plan_tasks(root)
    if not tasks:
        raise StudyRunError("the table of contents (_toc.yml) names no notebook")
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
            results_sha = _sha256_file(staging / "results.csv")
        stage_tasks = [t for t in tasks if t.stage == stage]
        to_run = []
        for task in stage_tasks:
            keys[task.relpath] = cache_key(task, root, data_sha, config, code_sha, results_sha)
            if reuse and previous.get("cache_keys", {}).get(task.relpath) == keys[task.relpath] and _copy_previous(task, out_dir, staging):
                finish(task, None)
            else:
                to_run.append(task)
        if jobs > 1 and len(to_run) > 1:
            with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = {pool.submit(_execute_one, t, root, staging, parameters): t for t in to_run}
                for future in concurrent.futures.as_completed(futures):
                    finish(futures[future], future.result())
        else:
            for task in to_run:
                _log(f"executing {task.relpath} ...")
                finish(task, _execute_one(task, root, staging, parameters))

    combine_parts(staging / "sections", staging / "results.csv")
    for candidate in (staging / "sections").glob("*/analysis.csv"):  # written by the matching notebook
        shutil.move(candidate, staging / "analysis.csv")

    manifest = {
        "data": str(data_path), "data_sha256": data_sha, "config": config.to_dict(), "code_sha256": code_sha,
        "cache_keys": keys, "seconds": summary.seconds, "python": platform.python_version(),
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    if build_book:
        build_html(staging, root)
    _publish(staging, out_dir, with_html=build_book)
    return summary


def _read_manifest(out_dir: Path) -> dict:
    try:
        return json.loads((out_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}


def _copy_previous(task: NotebookTask, out_dir: Path, staging: Path) -> bool:
    executed = out_dir / "executed" / task.relpath
    section = out_dir / "sections" / task.name
    if not executed.is_file() or not section.is_dir():
        return False
    (staging / "executed" / task.relpath).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, staging / "executed" / task.relpath)
    shutil.copytree(section, staging / "sections" / task.name)
    return True


def _publish(staging: Path, out_dir: Path, with_html: bool) -> None:
    """Move a finished run from staging into place, replacing the previous run's outputs."""
    names = ["executed", "sections", "logs", "results.csv", "analysis.csv", "manifest.json"] + (["html"] if with_html else [])
    stale_html = out_dir / "html"
    if not with_html and stale_html.exists():
        shutil.rmtree(stale_html)  # a book of an older run must not sit beside newer results
    for name in names:
        source = staging / name
        target = out_dir / name
        if not source.exists():
            continue
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        shutil.move(source, target)
    shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------- book assembly

def _book_config(run_dir: Path, root: Path) -> dict:
    """The book's _config.yml for this run (the project's, with a banner naming the data source)."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    data_name = Path(manifest["data"]).name

    if is_synthetic_file(Path(manifest["data"])):
        banner = (f"Every result in this book is computed from <b>{data_name}</b>, a <b>synthetic</b> cohort "
                  "calibrated to the article's published aggregates: it contains no real patient.")
    else:
        banner = f"Results computed from the cohort file <b>{data_name}</b> (not the article's data)."
    config.setdefault("html", {})["announcement"] = banner
    return config


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
    shutil.rmtree(build_dir, ignore_errors=True)
    shutil.rmtree(source, ignore_errors=True)
    _log(f"book built in {time.perf_counter() - start:.1f} s")
    return run_dir / "html"
