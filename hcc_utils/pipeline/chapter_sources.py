"""The box *Source of this chapter* at the end of every chapter, generated from the chapter's own code.

When the book is built, each chapter's executed notebook is read (its code cells, with :mod:`ast`): the names it
imports from ``hcc_utils`` and the ones it calls are resolved to the functions and classes where they are defined,
and the box lists them with a cross-reference into the *API reference* (``book/api/api_<layer>.md``, which Sphinx
checks: a name the reference does not document would fail the strict build) and a link to the highlighted source
of ``sphinx.ext.viewcode`` (``_modules/<module>.html#<name>``). For each chapter module of ``hcc_utils.study.
sections`` the chapter calls, the statistics it uses (the names it imports from ``hcc_utils.stats``) are listed
too: that is where the method is. The box ends with a download of the chapter's notebook (the repository's copy,
without outputs, copied to ``downloads/notebooks/``) and how to run it in JupyterLab.

Nothing here is typed by hand: a chapter that calls another function gets it in its box at the next build.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

#: The layers documented by the API reference (one page each, ``book/api/api_<layer>.md``).
DOCUMENTED_LAYERS = ("config", "stats", "data", "tables", "study", "report")
PACKAGE = "hcc_utils"
#: Where the chapters' notebooks are offered for download in the HTML.
NOTEBOOKS_DIR = "downloads/notebooks"
#: The class of the box (``book/_static/sources.css``; the browser tests find it by it).
BOX_CLASS = "hcc-source"
#: Folder of the chapters among the book's sources.
CHAPTERS_FOLDER = "notebooks"


@dataclass(frozen=True)
class SourceEntry:
    """A documented function or class: where it is defined (``module``, ``qualname``) and the name the chapter used."""
    module: str
    qualname: str
    used_as: str

    @property
    def target(self) -> str:
        """Its full dotted name (the API reference's anchor)."""
        return f"{self.module}.{self.qualname}"

    def source_href(self, depth: int) -> str:
        """The link to its highlighted source from a page ``depth`` folders below the book's root."""
        return "../" * depth + f"_modules/{self.module.replace('.', '/')}.html#{self.qualname}"


def _code(cell_source: str) -> ast.Module | None:
    """A code cell as Python (IPython's magics and shell lines dropped); None if it does not parse."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in cell_source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of attributes on a name; None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def package_names(trees: list[ast.Module]) -> list[tuple[str, str]]:
    """The ``hcc_utils`` names that the code imports and calls (or, for a module it imports, whose attributes it
    calls), in order of first call: each as a dotted path through the import
    (``hcc_utils.study.sections.survival.compute``) and as the code writes it (``survival.compute``)."""
    aliases: dict[str, str] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                    and node.module.split(".")[0] == PACKAGE:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == PACKAGE:
                        aliases[alias.asname or alias.name.split(".")[0]] = (alias.name if alias.asname
                                                                            else alias.name.split(".")[0])
    called: list[tuple[str, str]] = []
    for tree in trees:
        calls = sorted((node for node in ast.walk(tree) if isinstance(node, ast.Call)),
                       key=lambda node: (node.lineno, node.col_offset))
        for call in calls:
            dotted = _dotted(call.func)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            if head in aliases:
                name = aliases[head] + (f".{rest}" if rest else "")
                if name not in [known for known, _ in called]:
                    called.append((name, dotted))
    return called


def resolve(dotted: str, used_as: str = "") -> SourceEntry | None:
    """Where the object ``dotted`` (a path through imports; ``used_as``: as the code writes it, by default its last
    name) is defined, if it is a public function or class of a documented layer; None otherwise (a variable, a
    method of an instance, an undocumented layer)."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attribute in parts[split:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            return None
        break
    else:
        return None
    if not (inspect.isfunction(obj) or inspect.isclass(obj)) or (inspect.isclass(obj)
                                                                  and issubclass(obj, BaseException)):
        return None  # a warning or error class is no step of the computation
    module, qualname = obj.__module__, obj.__qualname__
    layer = module.split(".")[1] if module.count(".") >= 1 else ""
    if module.split(".")[0] != PACKAGE or layer not in DOCUMENTED_LAYERS or "<locals>" in qualname \
            or qualname.startswith("_"):
        return None
    return SourceEntry(module, qualname, used_as or parts[-1])


def method_entries(module_name: str) -> list[SourceEntry]:
    """The functions and classes of ``hcc_utils.stats`` that the module ``module_name`` imports (the statistics of a
    chapter's computation)."""
    module = importlib.import_module(module_name)
    tree = ast.parse(Path(inspect.getsourcefile(module)).read_text(encoding="utf-8"))
    names = [f"{node.module}.{alias.name}" for node in ast.walk(tree)
             if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(f"{PACKAGE}.stats")
             for alias in node.names]
    entries = [resolve(name) for name in names]
    return _unique([entry for entry in entries if entry is not None])


def _unique(entries: list[SourceEntry]) -> list[SourceEntry]:
    seen, unique = set(), []
    for entry in entries:
        if entry.target not in seen:
            seen.add(entry.target)
            unique.append(entry)
    return unique


def chapter_entries(notebook: dict) -> tuple[list[SourceEntry], list[SourceEntry]]:
    """The documented functions and classes a notebook's code calls, and the statistics behind the chapter modules
    among them."""
    trees = [tree for cell in notebook.get("cells", []) if cell.get("cell_type") == "code"
             if (tree := _code("".join(cell.get("source", "")))) is not None]
    called = _unique([entry for name, written in package_names(trees)
                      if (entry := resolve(name, written)) is not None])
    sections = sorted({entry.module for entry in called if entry.module.startswith(f"{PACKAGE}.study.sections.")})
    method = _unique([entry for module in sections for entry in method_entries(module)])
    return called, [entry for entry in method if entry.target not in {e.target for e in called}]


def _item(entry: SourceEntry, depth: int) -> str:
    return (f"- {{py:obj}}`{entry.used_as} <{entry.target}>` "
            f'(<a class="hcc-source-link" href="{entry.source_href(depth)}">source</a>)')


def source_box(entry: str, notebook: dict) -> str:
    """The markdown of the box for the chapter ``entry`` (its path in the table of contents, without extension)."""
    depth = entry.count("/")
    called, method = chapter_entries(notebook)
    name = Path(entry).name
    lines = [f":::{{admonition}} Source of this chapter", f":class: {BOX_CLASS}", ""]
    if called:
        lines += ["The code of this chapter calls these functions of the package `hcc_utils` (each name opens its "
                  "entry in the [API reference](" + "../" * depth + "book/api/index.md); *source* opens its code):",
                  "", *(_item(item, depth) for item in called), ""]
    if method:
        lines += ["They compute with these statistics of `hcc_utils.stats`:", "",
                  *(_item(item, depth) for item in method), ""]
    lines += [f'**Run it yourself.** Download the notebook <a class="hcc-notebook-download" '
              f'href="{"../" * depth}{NOTEBOOKS_DIR}/{name}.ipynb" download>{name}.ipynb</a>. In a clone of the '
              "project's repository run `python3.11 -m hcc_utils lab` (Windows: `py -3.11 -m hcc_utils lab`): it "
              "installs the pinned versions and JupyterLab the first time and opens it; open the notebook from "
              "`notebooks/` (or save the downloaded one there) and run it from the top. It reads the bundled "
              "synthetic cohort and `study.yml`'s settings.", ":::"]
    return "\n".join(lines)


def is_chapter(relative: str) -> bool:
    """Whether a book source (its path relative to the book's root) is a chapter notebook."""
    path = Path(relative)
    return path.suffix == ".ipynb" and path.parts[:1] == (CHAPTERS_FOLDER,)


def with_source_box(relative: str, content: bytes) -> bytes:
    """The executed chapter notebook ``content`` with the box appended as a last markdown cell."""
    notebook = json.loads(content)
    entry = str(Path(relative).with_suffix("")).replace("\\", "/")
    notebook["cells"].append({"cell_type": "markdown", "id": "hcc-source-of-this-chapter",
                              "metadata": {"tags": [BOX_CLASS]}, "source": source_box(entry, notebook)})
    return json.dumps(notebook, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def has_api_reference(root: Path) -> bool:
    """Whether the book at ``root`` holds the API reference the boxes link (a book of one's own may leave it out)."""
    toc = root / "_toc.yml"
    return ((root / "book" / "api" / "index.md").is_file() and toc.is_file()
            and "book/api/index" in toc.read_text(encoding="utf-8"))


def copy_notebooks(root: Path, entries: list[str], html_dir: Path) -> None:
    """Copy the repository's notebook of each chapter among ``entries`` (table-of-contents paths) into
    ``html/downloads/notebooks/``, which the boxes link."""
    for entry in entries:
        source = root / f"{entry}.ipynb"
        if entry.split("/")[0] == CHAPTERS_FOLDER and source.is_file():
            target = html_dir / NOTEBOOKS_DIR / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)

