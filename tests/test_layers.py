"""The package's layers import only downward: config < stats < data < tables < study < report < pipeline."""
from __future__ import annotations

import ast

import pytest

from hcc_utils.config import REPO_ROOT

PACKAGE = REPO_ROOT / "hcc_utils"
#: Layers from the bottom up; ``reproduction`` and ``synthetic`` stand beside them and are not checked here.
LAYERS = ["config", "stats", "data", "tables", "study", "report", "pipeline"]


def _imported_layers(path) -> set[tuple[str, int]]:
    """(top-level subpackage of hcc_utils, line) of every import in ``path``, function-level ones included."""
    layer_of_file = path.relative_to(PACKAGE).parts[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: inside the file's own subpackage unless it climbs out of it
                names = [f"hcc_utils.{layer_of_file}" if node.level == 1 else f"hcc_utils.{node.module or ''}"]
            else:
                names = [node.module or ""]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "hcc_utils" and len(parts) > 1:
                found.add((parts[1], node.lineno))
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_itself_and_layers_below(layer):
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{line} imports hcc_utils.{imported}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for imported, line in sorted(_imported_layers(path))
        if imported in LAYERS and imported not in allowed
    ]
    assert not offenders, "upward imports: " + "; ".join(offenders)


def test_stats_imports_nothing_of_the_other_layers():
    outside = [
        f"{path.relative_to(REPO_ROOT)}:{line} imports hcc_utils.{imported}"
        for path in sorted((PACKAGE / "stats").rglob("*.py"))
        for imported, line in sorted(_imported_layers(path))
        if imported != "stats"
    ]
    assert not outside, "stats must be pure statistics: " + "; ".join(outside)
