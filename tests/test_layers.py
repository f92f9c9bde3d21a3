"""The package's layers import only downward, with no circles (docs/ARCHITECTURE.md).

Layers from the bottom up: config < stats < data < tables < study < report < pipeline. ``reproduction`` (the
article's numbers, scorecard, audit) and ``synthetic`` (the generator and its calibration) stand beside the
analysis: they may use it, but no analysis layer may import them, so "the analysis never reads a published
number" is checked here by reading the import graph, function-level imports included.
"""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from hcc_utils.config import REPO_ROOT

PACKAGE = REPO_ROOT / "hcc_utils"
LAYERS = ["config", "stats", "data", "tables", "study", "report", "pipeline"]
ANALYSIS = LAYERS[:-1]
#: What each layer may import (itself included).
ALLOWED = {layer: set(LAYERS[: i + 1]) for i, layer in enumerate(LAYERS)}
ALLOWED["stats"] = {"stats"}  # pure statistics: not even the configuration
ALLOWED["reproduction"] = set(ANALYSIS) | {"reproduction"}
ALLOWED["synthetic"] = set(ANALYSIS) | {"reproduction", "synthetic"}
ALLOWED["pipeline"] = set(LAYERS) | {"reproduction", "synthetic"}


def _imports(path: Path, package: Path) -> list[tuple[str, int]]:
    """(imported module under hcc_utils, line) of every import in ``path``, function-level ones included."""
    module = ".".join(path.relative_to(package.parent).with_suffix("").parts)
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level] if path.name != "__init__.py" else \
                    module.split(".")[: len(module.split(".")) - node.level + 1]
                names = [".".join(base + ([node.module] if node.module else []))]
            else:
                names = [node.module or ""]
            names = [f"{names[0]}.{alias.name}" for alias in node.names] + names
        else:
            continue
        found += [(name, node.lineno) for name in names if name.startswith("hcc_utils.")]
    return found


def layer_violations(package: Path = PACKAGE) -> list[str]:
    """Every import of a layer that its rules forbid, as 'file:line imports module'."""
    problems = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).parts
        if len(parts) < 2:  # hcc_utils/__init__.py and __main__.py
            continue
        layer = parts[0]
        for name, line in _imports(path, package):
            imported = name.split(".")[1]
            if imported in ALLOWED and imported not in ALLOWED.get(layer, set()):
                problems.append(f"{path.relative_to(package.parent)}:{line} imports {name}")
    return sorted(set(problems))


def module_cycles(package: Path = PACKAGE) -> list[list[str]]:
    """Cycles in the module import graph (module A imports B, ..., back to A)."""
    modules = {".".join(p.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in package.rglob("*.py")}
    graph = {m: set() for m in modules}
    for module, path in modules.items():
        for name, _ in _imports(path, package):
            while name and name not in modules:  # 'a.b.func' -> 'a.b'
                name = name.rpartition(".")[0]
            if name and name != module and not module.startswith(name + "."):
                graph[module].add(name)
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return cycles


def test_layers_import_only_downward():
    assert layer_violations() == []


def test_no_analysis_layer_imports_reproduction_or_synthetic():
    """The rule 'the analysis never reads a published number', checked on the import graph."""
    leaks = [v for v in layer_violations() if v.split(" imports ")[1].split(".")[1] in ("reproduction", "synthetic")]
    assert leaks == []
    for layer in ANALYSIS:
        assert not ALLOWED[layer] & {"reproduction", "synthetic"}


def test_no_import_cycles_between_modules():
    """A section module may import the package it lives in (``study.sections`` defines SectionResult before
    importing its modules), which is not a cycle of layers; every other cycle is."""
    cycles = [c for c in module_cycles() if not all(m.startswith("hcc_utils.study.sections") for m in c)]
    assert cycles == []


@pytest.mark.parametrize("layer, forbidden", [
    ("stats", "from hcc_utils.config import StudyConfig"),
    ("data", "from hcc_utils.study.cohort import Study"),
    ("study", "from hcc_utils.reproduction.targets import load_targets"),
    ("report", "import hcc_utils.synthetic.generator"),
    ("tables", "def f():\n    from hcc_utils.reproduction import scorecard\n"),
])
def test_a_forbidden_import_is_caught(tmp_path, layer, forbidden):
    """Add one forbidden import to a copy of the package: the check names the file and the import."""
    copy = tmp_path / "hcc_utils"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / layer / "leak.py").write_text(forbidden + "\n")
    found = layer_violations(copy)
    assert len(found) >= 1 and all(f"hcc_utils/{layer}/leak.py" in v for v in found), found


def test_a_cycle_is_caught(tmp_path):
    copy = tmp_path / "hcc_utils"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "stats" / "a.py").write_text("from hcc_utils.stats import b\n")
    (copy / "stats" / "b.py").write_text("from hcc_utils.stats.a import x\n")
    assert any("hcc_utils.stats.a" in c and "hcc_utils.stats.b" in c for c in module_cycles(copy))


def test_no_module_is_much_longer_than_500_lines():
    long = {str(p.relative_to(REPO_ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 520}
    assert long == {}
