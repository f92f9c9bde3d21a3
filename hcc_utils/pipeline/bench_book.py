"""Book sources for ``hcc-study bench``: a copy of the project to edit, and the same sources as Jupyter Book
would execute them itself (the peer of the cold build)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

PROJECT_FILES = ("_toc.yml", "_config.yml", "references.bib", "study.yml")
PROJECT_FOLDERS = ("notebooks", "book")
#: The sentence appended to a markdown cell by the "after editing one notebook" rebuild.
EDIT = "\n\n(Edited by `hcc-study bench` to time a markdown-only rebuild.)\n"


def copy_project(root: Path, target: Path) -> Path:
    """Copy what ``hcc-study build --project`` reads (table of contents, book configuration, notebooks, pages)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, target / name)
    for folder in PROJECT_FOLDERS:
        shutil.copytree(root / folder, target / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return target


def edit_markdown(notebook: Path) -> None:
    """Append a sentence to the notebook's first markdown cell (prose only: no code, no result changes)."""
    content = json.loads(notebook.read_text(encoding="utf-8"))
    cell = next(c for c in content["cells"] if c["cell_type"] == "markdown")
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = source + EDIT
    notebook.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def jupyter_book_project(root: Path, target: Path, cohort: Path, run: Path | None = None) -> Path:
    """The book's sources as plain Jupyter Book would run them: ``execute_notebooks: force`` (no time limit per
    cell: the bootstrap's cell runs for minutes), each notebook's parameters cell pointing at ``cohort`` and at
    an output folder inside ``target``. The book's own pages read the combined ``results.csv`` (and the
    manifest), which only the runner writes: they are copied from ``run`` (a build of the same cohort), so that
    every page executes in full."""
    copy_project(root, target)
    config_path = target / "_config.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["execute"] = {"execute_notebooks": "force", "timeout": -1}
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    run_dir = target / "_manual"
    run_dir.mkdir()
    for name in ("results.csv", "manifest.json"):
        if run is not None and (run / name).is_file():
            shutil.copy2(run / name, run_dir / name)
    for notebook in sorted(target.rglob("*.ipynb")):
        content = json.loads(notebook.read_text(encoding="utf-8"))
        for cell in content["cells"]:
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                cell["source"] = (f"data_path = {str(cohort)!r}\nconfig = None\n"
                                  f"output_dir = {str(run_dir / notebook.stem)!r}\nrun_dir = {str(run_dir)!r}\n")
        notebook.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target
