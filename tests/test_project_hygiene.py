"""Project rules that keep the book honest: clean notebooks, one environment, numbers in prose come from code."""
from __future__ import annotations

import json
import re
import tomllib

import pytest
import yaml

from hcc_utils.config import REPO_ROOT
from hcc_utils.pipeline.runner import plan_tasks, toc_files

NOTEBOOKS = sorted(p for p in (REPO_ROOT / "notebooks").glob("*.ipynb")) + sorted((REPO_ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} cell {index + 1} has outputs"
            assert cell.get("execution_count") is None, f"{path.name} cell {index + 1} has an execution count"


#: Tags that keep code off a reader's first screen: folded behind a "show" button, or not shown at all.
FOLDING_TAGS = {"hide-input", "remove-input", "remove-cell"}
#: Code meant to be read, shown unfolded: a chapter's "Step by step" computation and its exercises' self-checks,
#: only below the chapter's "For trainees" box (the trainees' part of the page).
LESSON_TAGS = {"hcc-step-by-step", "hcc-self-check"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_is_folded_and_bookkeeping_cells_are_not_shown(path):
    """A clinician's first screen of a page is the article's section, not Python: every code cell is folded
    (``hide-input``: one click shows it, for trainees) or removed; saving results is bookkeeping, never shown. The
    lessons' code (``LESSON_TAGS``) is shown, but only after the page's "For trainees" box."""
    nb = json.loads(path.read_text())
    trainees_part = False
    for index, cell in enumerate(nb["cells"], start=1):
        trainees_part = trainees_part or (cell["cell_type"] == "markdown"
                                          and "".join(cell["source"]).startswith("## For trainees"))
        if cell["cell_type"] != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        source = "".join(cell["source"]).strip()
        if "parameters" in tags:
            continue  # the runner removes it (and papermill's injected cell) from the book
        if tags & LESSON_TAGS:
            assert trainees_part, f"{path.name} cell {index}: a lesson's code shown before the 'For trainees' box"
            continue
        assert tags & FOLDING_TAGS, f"{path.name} cell {index}: code shown unfolded (tag it hide-input)"
        if source.startswith("results.save("):
            assert "remove-cell" in tags, f"{path.name} cell {index}: bookkeeping cell shown (tag it remove-cell)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_a_parameters_cell_with_the_run_parameters(path):
    nb = json.loads(path.read_text())
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: exactly one cell tagged 'parameters'"
    source = "".join(tagged[0]["source"])
    for name in ("data_path", "config", "output_dir", "run_dir"):
        assert re.search(rf"^{name} = ", source, re.M), f"{path.name}: parameter {name} missing"


def test_every_article_section_has_its_notebook_in_order():
    sections = ["cohort_flow", "baseline", "matching", "responses", "survival", "predictors", "third_line", "safety"]
    listed = [f for f in toc_files() if f.startswith("notebooks/")]
    # the article's sections first, in order; the chapters beyond the article follow them
    assert listed[:len(sections)] == [f"notebooks/{i:02d}_{name}" for i, name in enumerate(sections, start=1)]
    assert all((REPO_ROOT / f"{f}.ipynb").is_file() for f in listed)
    stages = {t.relpath: t.stage for t in plan_tasks()}
    assert all(stages[f"{f}.ipynb"] == 1 for f in listed)
    assert stages["book/intro.ipynb"] == 2  # the introduction reads every section's results


def test_environment_yml_installs_the_lock_with_the_same_python_on_every_platform():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    conda = [d.split("#")[0].strip() for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "python" + pyproject["project"]["requires-python"] in conda
    assert pyproject["project"]["requires-python"].startswith(">=3.11.5,<3.12")
    # nothing one platform's conda channel lacks: no build strings (python=3.11.9=h1234_0_cpython), no pinned
    # platform packages; the platform-specific ones come from the lock's markers
    assert all(re.fullmatch(r"[a-z0-9_-]+([<>=!]=?[0-9.]+,?)*", spec) for spec in conda), conda
    assert sorted(re.match(r"[a-z0-9_-]+", spec)[0] for spec in conda) == ["jupyterlab", "pip", "python"]
    assert "-r requirements.lock" in pip and "-e ." in pip


def test_lock_pins_every_dependency_exactly_and_satisfies_pyproject():
    from packaging.requirements import Requirement

    lock = {}
    for line in (REPO_ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            pinned = Requirement(line)  # an environment marker after ";" is checked for its syntax here
            assert len(pinned.specifier) == 1 and next(iter(pinned.specifier)).operator == "==", \
                f"requirements.lock: {line!r} is not pinned with =="
            if pinned.marker is None or pinned.marker.evaluate():  # the pins that apply on this platform
                lock[pinned.name.lower().replace("_", "-")] = next(iter(pinned.specifier)).version
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    for spec in pyproject["project"]["dependencies"] + pyproject["project"]["optional-dependencies"]["test"]:
        requirement = Requirement(spec)
        name = requirement.name.lower().replace("_", "-")
        assert name in lock, f"{name} is a dependency but not in requirements.lock"
        assert requirement.specifier.contains(lock[name], prereleases=True), f"lock has {name}=={lock[name]}, pyproject wants {requirement.specifier}"


# Digits that may stand in prose because they are names, not results: article tables and figures, instrument
# versions, grades, standard thresholds explained in the text.
ALLOWED_NUMBER_PHRASES = [
    r"(Supplementary )?(Table|Figure|Figures|Tables|Fig\.) ?\d+(\.\d+)?[A-D]?(( and| or|,|–) ?\d+(\.\d+)?[A-D]?)*",
    r"RECIST 1\.1", r"version 5\.0", r"grade 3–4", r"grade 1", r"grade 3 and 4", r"2×2", r"0–100%", r"ten events",
    r"below 5", r"below 0\.1", r"marks 0\.1", r"P < 0\.05", r"at 0\.05", r"S\(t\)", r"0\.5", r"0\.75 and 0\.25",
    r"1 of", r"\b0\b and 1", r"5-FU", r"01_cohort_flow", r"08_safety", r"1:1", r"k:1", r"L2",
    r"30\.4375", r"^\d+\. ", r"chapters? \d+", r"UTF-8", r"\b(19|20)\d\d\b",  # years last, after longer numbers
]


def _prose_sources():
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        for index, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "markdown":
                yield f"{path.name} cell {index + 1}", "".join(cell["source"])
    for path in sorted((REPO_ROOT / "book").glob("*.md")):
        yield path.name, path.read_text()


def _strip_non_prose(text: str) -> str:
    text = re.sub(r"```.*?```", " ", text, flags=re.S)           # code blocks and directives' bodies
    text = re.sub(r"`[^`]*`", " ", text)                          # inline code and roles' targets
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)          # display math: notation, not results
    text = re.sub(r"\$[^$]+?\$", " ", text)                         # inline math (may wrap a line)
    text = re.sub(r"^\s*:+\{?[\w-]+\}?.*$", " ", text, flags=re.M)  # colon fences
    text = re.sub(r"\[[^\]]*\]\([^)]*\)", " ", text)              # links
    text = re.sub(r"^\s*\|.*\|\s*$", " ", text, flags=re.M)       # tables of settings (own_cohort page)
    text = re.sub(r"^#+ .*$", " ", text, flags=re.M)              # headings
    for phrase in ALLOWED_NUMBER_PHRASES:
        text = re.sub(phrase, " ", text, flags=re.M)
    return text


def test_no_number_in_prose_is_typed_by_hand():
    offenders = []
    for where, text in _prose_sources():
        prose = _strip_non_prose(text)
        for match in re.finditer(r"\d+(\.\d+)?", prose):
            context = " ".join(prose[max(0, match.start() - 30): match.end() + 30].split())
            offenders.append(f"{where}: {match.group()!r} in '...{context}...'")
    assert not offenders, "numbers typed in prose (glue them from the computation): " + "; ".join(offenders)


def test_prose_check_catches_a_typed_result():
    assert re.search(r"\d", _strip_non_prose("Median OS was 10.3 months with {glue:text}`x`."))
    assert not re.search(r"\d", _strip_non_prose("Median OS was {glue:text}`survival_os_median_treatment` months (Table 3)."))
    # formulas are notation; a number typed beside one is still caught
    assert not re.search(r"\d", _strip_non_prose("The median is $\\hat t_{0.5}$ and\n$$\nX^2 = \\sum_j (d_{1j} - e_{1j})^2\n$$"))
    assert re.search(r"\d", _strip_non_prose("The median $\\hat t_{0.5}$ was 10.3 months."))


def test_study_yml_restates_every_default_of_the_schema():
    """study.yml is the schema's defaults written out for readers: every key, the same values, nothing else."""
    import yaml

    from hcc_utils.config import DEFAULTS, load_config

    written = yaml.safe_load((REPO_ROOT / "study.yml").read_text())

    def keys(mapping, prefix=""):
        return {f"{prefix}{k}" for k, v in mapping.items()} | {
            key for k, v in mapping.items() if isinstance(v, dict) for key in keys(v, f"{prefix}{k}.")}

    assert keys(written) == keys(DEFAULTS)
    loaded = load_config().to_dict()
    assert {k: v for k, v in loaded.items() if k != "data"} == {k: v for k, v in DEFAULTS.items() if k != "data"}
