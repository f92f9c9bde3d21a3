"""The API reference covers the analysis layers, and each chapter's box *Source of this chapter* is generated from
the chapter's code (:mod:`hcc_utils.pipeline.chapter_sources`), with offline MathJax (:mod:`hcc_utils.pipeline.mathjax`)."""
from __future__ import annotations

import ast
import json
import re

import pytest

from hcc_utils.config import REPO_ROOT
from hcc_utils.pipeline import chapter_sources
from hcc_utils.pipeline.api_reference import descriptions_not_types, headings_as_rubrics
from hcc_utils.pipeline.mathjax import MATHJAX_PATH, RUNTIME_PARTS, copy_mathjax, mathjax_source
from hcc_utils.pipeline.runner import toc_files

CHAPTERS = [entry for entry in toc_files() if entry.startswith("notebooks/")]


def _documented_modules() -> set[str]:
    return {module for layer in chapter_sources.DOCUMENTED_LAYERS
            for module in re.findall(r"automodule:: (\S+)",
                                     (REPO_ROOT / "book" / "api" / f"api_{layer}.md").read_text(encoding="utf-8"))}


def test_api_reference_documents_every_module_of_the_analysis_layers():
    expected = {".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
                for layer in chapter_sources.DOCUMENTED_LAYERS
                for path in (REPO_ROOT / "hcc_utils" / layer).rglob("*.py") if path.name != "__init__.py"}
    assert _documented_modules() == expected
    assert {f"book/api/api_{layer}" for layer in chapter_sources.DOCUMENTED_LAYERS} <= set(toc_files())


def test_calls_are_resolved_to_where_they_are_defined():
    code = ("from hcc_utils.study import load_study\nfrom hcc_utils.study.sections import survival\n"
            "import hcc_utils.stats.survival as km\n%matplotlib inline\n"
            "study = load_study(path)\nsection = survival.compute(study)\nkm.kaplan_meier(t, e)\nprint(section)\n")
    notebook = {"cells": [{"cell_type": "code", "source": code}, {"cell_type": "markdown", "source": "x"}]}
    called, method = chapter_sources.chapter_entries(notebook)
    assert [(entry.target, entry.used_as) for entry in called] == [
        ("hcc_utils.study.cohort.load_study", "load_study"),
        ("hcc_utils.study.sections.survival.compute", "survival.compute"),
        ("hcc_utils.stats.survival.kaplan_meier", "km.kaplan_meier")]
    # the statistics behind the chapter module: what sections/survival.py imports from hcc_utils.stats
    tree = ast.parse((REPO_ROOT / "hcc_utils" / "study" / "sections" / "survival.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("hcc_utils.stats") for alias in node.names}
    assert {entry.qualname for entry in method} == imported - {"kaplan_meier", "CoxConvergenceWarning"}
    assert called[1].source_href(1) == "../_modules/hcc_utils/study/sections/survival.html#compute"


@pytest.mark.parametrize("entry", CHAPTERS)
def test_every_chapter_box_links_documented_functions_and_its_notebook(entry):
    notebook = json.loads((REPO_ROOT / f"{entry}.ipynb").read_text(encoding="utf-8"))
    called, method = chapter_sources.chapter_entries(notebook)
    assert any(item.module.startswith("hcc_utils.study.sections.") for item in called), entry
    assert {item.module for item in called + method} <= _documented_modules()
    box = chapter_sources.source_box(entry, notebook)
    name = entry.split("/")[-1]
    assert f'href="../{chapter_sources.NOTEBOOKS_DIR}/{name}.ipynb" download' in box
    assert "python3.11 -m hcc_utils lab" in box
    for item in called + method:
        assert f"<{item.target}>`" in box and item.source_href(1) in box


def test_only_chapters_get_a_box():
    assert chapter_sources.is_chapter("notebooks/05_survival.ipynb")
    assert not chapter_sources.is_chapter("book/scorecard.ipynb")
    content = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
    boxed = json.loads(chapter_sources.with_source_box("notebooks/05_survival.ipynb", content))
    assert boxed["cells"][-1]["source"].startswith(":::{admonition} Source of this chapter")


def test_docstrings_are_read_as_numpydoc_without_broken_markup():
    lines = ["Summary.", "", "What is estimated", "-----------------", "Text.", "", "Parameters", "----------",
             "method : ``\"chisq\"`` (R ``mcnemar.test``: ``(b - c)^2 /", "    (b + c)``).", "alpha : float"]
    descriptions_not_types(lines)
    headings_as_rubrics(lines)
    assert lines == ["Summary.", "", ".. rubric:: What is estimated", "", "Text.", "", "Parameters", "----------",
                     "method", "    ``\"chisq\"`` (R ``mcnemar.test``: ``(b - c)^2 /", "    (b + c)``).",
                     "alpha : float"]


def test_mathjax_is_copied_from_the_pinned_package(tmp_path):
    source = mathjax_source()
    assert "sphinx-mathjax-offline==" in (REPO_ROOT / "requirements.lock").read_text(encoding="utf-8")
    copy_mathjax(source, tmp_path)
    assert (tmp_path / MATHJAX_PATH).is_file()
    for part in RUNTIME_PARTS:
        assert (tmp_path / "mathjax" / part).exists(), part
    fonts = list((tmp_path / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert fonts, "the CommonHTML output's fonts are missing"
    assert not (tmp_path / "mathjax" / "tex-svg-full.js").exists()  # only what tex-chtml uses
