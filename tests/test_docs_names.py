"""The documentation names only what exists: every ``hcc_utils`` name in the developers' and readers' documents
(``docs/ARCHITECTURE.md``, ``README.md``, the book's Markdown pages, the notebooks' markdown) and in the package's
own docstrings resolves by import and ``getattr``.

Two forms are collected: a full dotted name (``hcc_utils.stats.logistic.fit_logistic``) anywhere, and a name
relative to the package written in backticks (```study.cohort.load_study```, ```report.presentation.show_table(...)```)
whose second part is a module of that layer, or that is called: ```study.yml``` or a configuration key such as
```study.title``` is neither. A path of the package's files (``hcc_utils/stats/logistic.py``) must exist too.
"""
from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

from hcc_utils.config import REPO_ROOT

PACKAGE = "hcc_utils"
LAYERS = ("config", "stats", "data", "tables", "study", "report", "pipeline", "reproduction", "synthetic")
FULL_NAME = re.compile(r"\bhcc_utils(?:\.[A-Za-z_]\w*)+")
RELATIVE_NAME = re.compile(r"`(?:hcc_utils\.)?((?:" + "|".join(LAYERS) + r")(?:\.[A-Za-z_]\w*)+)(\()?[^`]*`")
FILE_PATH = re.compile(r"\bhcc_utils/[\w/]+\.py\b")
#: Endings that make a dotted word a file name, not a Python name.
FILE_ENDINGS = {"yml", "yaml", "csv", "md", "py", "json", "ipynb", "txt", "cff", "lock", "pkl", "docx", "xlsx", "pdf",
                "R", "html", "svg", "png", "js", "css", "log", "sha256", "parquet", "xlsx"}


def resolves(dotted: str) -> bool:
    """Whether ``dotted`` (``hcc_utils....``) names a module, or an attribute reached from one by ``getattr``."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        try:
            for attribute in parts[split:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            # a dataclass or pydantic field is an attribute of its instances only
            fields = getattr(obj, "__dataclass_fields__", None) or getattr(obj, "model_fields", None) or {}
            return attribute == parts[-1] and attribute in fields
        return True
    return False


def _is_module(layer_module: str) -> bool:
    path = REPO_ROOT / PACKAGE / Path(*layer_module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def names_in(text: str) -> set[str]:
    """The ``hcc_utils`` names a text mentions (full names; relative names in backticks, see the module's doc)."""
    names = {name.rstrip(".") for name in FULL_NAME.findall(text)}
    for match in RELATIVE_NAME.finditer(text):
        dotted, called = match.group(1), match.group(2)
        parts = dotted.split(".")
        if parts[-1] in FILE_ENDINGS:
            continue
        if _is_module(".".join(parts[:2])) or called:
            names.add(f"{PACKAGE}.{dotted}")
    return {name for name in names if name.split(".")[-1] not in FILE_ENDINGS}


def stale_names(text: str) -> list[str]:
    """The names of ``text`` that do not resolve, and the package paths that do not exist."""
    stale = sorted(name for name in names_in(text) if not resolves(name))
    stale += sorted(path for path in set(FILE_PATH.findall(text)) if not (REPO_ROOT / path).is_file())
    return stale


def documents() -> dict[str, str]:
    """Every document checked: its path (and, for a docstring, the object) -> its text."""
    texts = {}
    for path in [REPO_ROOT / "README.md", REPO_ROOT / "docs" / "ARCHITECTURE.md",
                 *sorted((REPO_ROOT / "book").rglob("*.md"))]:
        texts[str(path.relative_to(REPO_ROOT))] = path.read_text(encoding="utf-8")
    for path in sorted([*(REPO_ROOT / "notebooks").glob("*.ipynb"), *(REPO_ROOT / "book").glob("*.ipynb")]):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        texts[str(path.relative_to(REPO_ROOT))] = "\n".join("".join(cell["source"]) for cell in cells
                                                            if cell["cell_type"] == "markdown")
    for path in sorted((REPO_ROOT / PACKAGE).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in [tree, *ast.walk(tree)]:
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                docstring = ast.get_docstring(node, clean=False)
                if docstring:
                    where = getattr(node, "name", "module")
                    texts[f"{path.relative_to(REPO_ROOT)}:{where}:{getattr(node, 'lineno', 1)}"] = docstring
    return texts


def test_every_package_name_the_documentation_mentions_exists():
    stale = {where: found for where, text in documents().items() if (found := stale_names(text))}
    assert not stale, "names that do not exist:\n" + "\n".join(f"{where}: {', '.join(names)}"
                                                                  for where, names in stale.items())


def test_the_check_reports_injected_stale_names():
    text = ("`study.load_study(path, config)` reads; `study.cohort.compute_results` computes "
            "(:func:`hcc_utils.stats.logistic.no_such_fit`); see `hcc_utils/stats/no_such_module.py`, "
            "`report.presentation.show_table`, `study.yml`, `study.title`.")
    assert stale_names(text) == ["hcc_utils.stats.logistic.no_such_fit", "hcc_utils.study.cohort.compute_results",
                                 "hcc_utils/stats/no_such_module.py"]
    assert names_in(text) >= {"hcc_utils.study.load_study", "hcc_utils.report.presentation.show_table"}
    assert not {name for name in names_in(text) if name.endswith((".yml", ".title"))}


@pytest.mark.parametrize("where", ["docs/ARCHITECTURE.md", "README.md"])
def test_statements_on_the_propensity_model_match_its_code(where):
    # the propensity model is stats.logistic's own IRLS: a document saying statsmodels fits it is stale
    source = (REPO_ROOT / PACKAGE / "stats" / "logistic.py").read_text(encoding="utf-8")
    text = (REPO_ROOT / where).read_text(encoding="utf-8")
    claims = [sentence for sentence in re.split(r"(?<=[.;])\s", text)
              if re.search(r"propensity", sentence, re.I) and re.search(r"statsmodels|\bGLM\b", sentence)]
    if "import statsmodels" not in source and "from statsmodels" not in source:
        assert not [claim for claim in claims if not re.search(r"not|instead|unlike", claim)], claims
