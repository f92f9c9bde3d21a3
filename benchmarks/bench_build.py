"""Time the book build as a user runs it (`hcc-study build` in a fresh process): cold, warm with nothing changed,
after editing one notebook's markdown, and Jupyter Book's own execution of the same notebooks.

Usage: .venv/bin/python benchmarks/bench_build.py [--out DIR] [--jobs auto] [--rounds 1] [--no-jupyter-book]
       [--cold-only]

Every scenario works on a copy of the book's sources (``_toc.yml``, ``_config.yml``, ``references.bib``, ``book/``,
``notebooks/``) in a temporary project, so that the markdown edit never touches the repository; the library, data
and ``study.yml`` are the repository's. Scenarios, one line each (seconds, and notebooks executed / reused):

- ``cold``: ``hcc-study build --force`` into an empty folder (every notebook executed, the book built from nothing);
- ``warm``: the same command again (nothing changed: nothing executed, no book build);
- ``markdown edit``: a sentence appended to one markdown cell of ``notebooks/05_survival.ipynb``, then ``build``;
- ``jupyter-book``: Jupyter Book's own execution of the same notebooks: the copied sources with
  ``execute_notebooks: force`` (no cell time-out) and every notebook's parameters at their defaults (the bundled
  cohort, ``study.yml``), timed ``jupyter-book build``. The book's own pages read the sections' combined
  ``results.csv`` from ``_build/manual/``; the one of the cold build is put there first, so that they run in full.

With ``--rounds N`` the cold build and Jupyter Book's execution alternate N times (a shared machine drifts; the
ratio of neighbours holds better than absolute seconds). The last line gives the ratio of the medians.
The first README command (`make book`) on a fresh clone adds the virtual environment's installation to ``cold``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from hcc_utils.pipeline.publish import published_path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("_toc.yml", "_config.yml", "references.bib", "book", "notebooks")
EDITED = "notebooks/05_survival.ipynb"


def copy_project(target: Path) -> Path:
    """The book's sources in ``target`` (the library, data and configuration stay the repository's)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        elif source.is_file():
            shutil.copy2(source, target / name)
    shutil.copytree(REPO / "data", target / "data")  # notebooks' defaults and pages read ../data and study.yml
    shutil.copy2(REPO / "study.yml", target / "study.yml")  # (copies, not links: Windows needs no privilege)
    return target


def hcc_build(project: Path, out: Path, jobs: str, force: bool = False) -> tuple[float, str]:
    command = [sys.executable, "-m", "hcc_utils", "build", "--project", str(project), "--out", str(out),
               "--jobs", jobs] + (["--force"] if force else [])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"hcc-study build failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    lines = completed.stdout.strip().splitlines()
    return seconds, (lines[0] if lines else "")


def edit_markdown(project: Path) -> None:
    """Append a sentence to the first markdown cell of one section notebook (prose only; no code changes)."""
    path = project / EDITED
    notebook = json.loads(path.read_text())
    cell = next(c for c in notebook["cells"] if c["cell_type"] == "markdown")
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = source + f"\n\nEdited for the benchmark at {time.time():.0f}."
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")


def jupyter_book_build(project: Path, results: Path | None) -> float:
    """Jupyter Book executing every notebook itself (``execute_notebooks: force``), parameters at their defaults."""
    folder = project / "_jb"
    if folder.exists():
        shutil.rmtree(folder)
    copy_project(folder)
    config = yaml.safe_load((folder / "_config.yml").read_text())
    config["execute"] = {"execute_notebooks": "force", "timeout": -1}
    (folder / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    if results is not None and results.is_file():  # what the book's own pages read (``run_dir`` default)
        (folder / "_build" / "manual").mkdir(parents=True)
        shutil.copy2(results, folder / "_build" / "manual" / "results.csv")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    command = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(folder),
               "--builder", "html", "--quiet"]
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    failures = [line for line in re.sub(r"\x1b\[[0-9;]*m", "", completed.stderr).splitlines()
                if "Executing notebook failed" in line or "Execution Failed" in line]
    if completed.returncode != 0 or failures:
        print(f"  (jupyter-book: exit {completed.returncode}, {len(failures)} notebooks failed to execute: "
              f"{'; '.join(failures[:3])})", flush=True)
    return seconds


def line(label: str, seconds: float, detail: str = "") -> None:
    print(f"{label:<28} {seconds:7.1f} s  {detail}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="working folder (default: a temporary one, deleted afterwards)")
    parser.add_argument("--jobs", default="auto", help="hcc-study build --jobs (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=1, help="alternations of cold build and Jupyter Book")
    parser.add_argument("--no-jupyter-book", action="store_true", help="skip Jupyter Book's own execution")
    parser.add_argument("--cold-only", action="store_true", help="only the cold build (and Jupyter Book)")
    args = parser.parse_args()
    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="hcc-bench-build-"))
    try:
        project = copy_project(work / "project")
        out = work / "out"
        ours, theirs = [], []
        for round_ in range(args.rounds):
            seconds, detail = hcc_build(project, out, args.jobs, force=True)
            ours.append(seconds)
            line(f"cold (jobs {args.jobs})", seconds, detail)
            if not args.no_jupyter_book:
                theirs.append(jupyter_book_build(work, published_path(out, "results.csv")))
                line("jupyter-book (own execution)", theirs[-1])
        if not args.cold_only:
            for label in ("warm (nothing changed)", "warm again"):
                line(label, *hcc_build(project, out, args.jobs))
            edit_markdown(project)
            line("markdown edit (one notebook)", *hcc_build(project, out, args.jobs))
            line("warm after the edit", *hcc_build(project, out, args.jobs))
        if theirs:
            print(f"cold / jupyter-book = {statistics.median(ours) / statistics.median(theirs):.2f} "
                  f"(medians of {len(ours)}; target <= 0.5)", flush=True)
    finally:
        if not args.out:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
