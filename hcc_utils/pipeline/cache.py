"""What decides whether a notebook is executed again, and whether the book is rebuilt: cache keys.

A notebook's key hashes what its outputs depend on: its code cells (source and tags) and kernel, the data, the
configuration (less the execution-only keys), the ``hcc_utils`` sources and lock file, and for the book's own pages
the combined results of the sections. Markdown is left out: a notebook whose prose alone changed keeps its
executed outputs, and the new markdown is patched into the executed copy (:func:`patch_markdown`).

The book's key hashes the sources Sphinx reads besides the notebooks (``_config.yml``, ``_toc.yml``, the
bibliography, the Markdown pages, images, style sheets and scripts) and the data file's name (the banner of every page).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hcc_utils.config.checksums import code_fingerprint  # noqa: F401 (the notebooks' code key)
from hcc_utils.config.checksums import source_provenance  # noqa: F401 (the About page's commit; one implementation)

#: Files of the book's folders that Sphinx reads as they are (the notebooks come from the run's executed copies).
BOOK_SUFFIXES = {".md", ".png", ".svg", ".css", ".js"}
BOOK_FILES = ("_config.yml", "_toc.yml", "references.bib")
BOOK_FOLDERS = ("book", "notebooks")


def cell_source(cell: dict) -> str:
    """A notebook cell's source as one string (stored as a string or as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def notebook_code_sha(path: Path) -> str:
    """Hash of what executing the notebook depends on: its kernel and its code cells (source and tags), in order.

    Markdown and raw cells, outputs and other metadata are left out.
    """
    notebook = json.loads(path.read_bytes())
    code = [[cell_source(cell), sorted(cell.get("metadata", {}).get("tags", []))]
            for cell in notebook.get("cells", []) if cell.get("cell_type") == "code"]
    kernel = notebook.get("metadata", {}).get("kernelspec", {}).get("name", "")
    return hashlib.sha256(json.dumps([kernel, code]).encode()).hexdigest()


#: Notebook metadata (``{"hcc_study": {"states_provenance": true}}``) of a page that prints the code's commit and
#: uncommitted state (the book's About page): only such pages are re-executed when only the commit changes.
PROVENANCE_FLAG = ("hcc_study", "states_provenance")


def _study_metadata(path: Path, key: tuple[str, str], default):
    """The value of the notebook's metadata ``key`` (section, name), or ``default``."""
    section, name = key
    return json.loads(path.read_bytes()).get("metadata", {}).get(section, {}).get(name, default)


def states_provenance(path: Path) -> bool:
    """Whether the notebook at ``path`` declares that it prints the code's commit (:data:`PROVENANCE_FLAG`)."""
    return bool(_study_metadata(path, PROVENANCE_FLAG, False))


#: Notebook metadata (``{"hcc_study": {"reads_verification": true}}``) of a page that shows what ``hcc-study verify``
#: wrote into the output folder (the book's Validation page): its cache key includes that file, so that the page is
#: executed again when verify has run.
VERIFICATION_FLAG = ("hcc_study", "reads_verification")
#: The file of the output folder such a page reads (``reproduction.verify`` writes it).
VERIFICATION_FILE = ("verify", "verify.json")


def reads_verification(path: Path) -> bool:
    """Whether the notebook at ``path`` declares that it shows verify's summary (:data:`VERIFICATION_FLAG`)."""
    return bool(_study_metadata(path, VERIFICATION_FLAG, False))


def verification_key(out_dir: Path) -> str:
    """The SHA-256 of verify's summary in ``out_dir`` ("" when verify has not run there)."""
    path = Path(out_dir).joinpath(*VERIFICATION_FILE)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


#: Notebook metadata (``{"hcc_study": {"expected_seconds": 14}}``): about how long the notebook takes on the bundled
#: cohort. A run with no timings of its own (a first build) starts the longest notebooks first by it, so that a long
#: one does not start last and run alone on one core.
EXPECTED_SECONDS = ("hcc_study", "expected_seconds")


def expected_seconds(path: Path) -> float:
    """The notebook's :data:`EXPECTED_SECONDS` (0 when it has none or it is not a number)."""
    value = _study_metadata(path, EXPECTED_SECONDS, 0)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def cache_key(task, root: Path, data_sha: str, config, code_sha: str, results_sha: str = "") -> str:
    """The key of a notebook's outputs; equal keys mean that executing it again would give the same outputs."""
    digest = hashlib.sha256()
    for part in (task.relpath, notebook_code_sha(root / task.relpath), data_sha,
                 json.dumps(config.results_dict(), sort_keys=True), code_sha, results_sha if task.stage > 1 else ""):
        digest.update(part.encode())
    return digest.hexdigest()


def book_sources(root: Path) -> list[Path]:
    """The files (besides the executed notebooks) that the book is built from, sorted."""
    files = [root / name for name in BOOK_FILES if (root / name).is_file()]
    for folder in BOOK_FOLDERS:
        files += sorted(path for path in (root / folder).rglob("*")
                        if path.is_file() and path.suffix in BOOK_SUFFIXES and ".ipynb_checkpoints" not in path.parts)
    return files


def book_key(root: Path, data_path: Path) -> str:
    """Hash of the book's own sources and the data file's name (shown in every page's banner)."""
    digest = hashlib.sha256(data_path.name.encode())
    for path in book_sources(root):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _tags(cell: dict) -> list:
    return cell.get("metadata", {}).get("tags", [])


#: A code cell's metadata written by its execution (kept from the executed copy by :func:`patch_markdown`).
_RUN_METADATA = ("execution", "papermill")


def patch_markdown(source: Path, executed: Path) -> bool:
    """Give the executed copy ``executed`` the markdown (and raw) cells of ``source`` and its code cells' display
    metadata (for example a fold's label), keeping the executed code cells' outputs and run records and papermill's
    injected-parameters cell; return whether the file changed.

    Only valid when the code cells are unchanged (equal :func:`notebook_code_sha`), which the cache key ensures.
    Plain JSON (no schema validation): this runs on the path of a quick rebuild.
    """
    new = json.loads(source.read_bytes())
    old_text = executed.read_text(encoding="utf-8")
    old = json.loads(old_text)
    injected = [c for c in old["cells"] if "injected-parameters" in _tags(c)]
    code = iter([c for c in old["cells"] if c.get("cell_type") == "code" and "injected-parameters" not in _tags(c)])
    cells = []
    for cell in new["cells"]:
        if cell.get("cell_type") != "code":
            cells.append(cell)
            continue
        ran = next(code)
        kept = {key: value for key, value in ran.get("metadata", {}).items() if key in _RUN_METADATA}
        ran["metadata"] = {**cell.get("metadata", {}), **kept}  # tags equal (the cache key): display metadata new
        cells.append(ran)
        if "parameters" in _tags(cell) and injected:
            cells.append(injected.pop())  # papermill puts it right after the parameters cell
    old["cells"] = injected + cells  # without a parameters cell, papermill puts it first
    text = json.dumps(old, sort_keys=True, indent=1, ensure_ascii=False) + "\n"  # as nbformat writes
    if text == old_text:
        return False
    executed.write_text(text, encoding="utf-8")
    return True


