"""The lessons of the article chapters (issue 26): a "Step by step" computation and exercises in every chapter 1-8.

Checked four ways: the self-check helper alone (``hcc_utils.report.exercises.self_check``); the notebooks' structure
(a visible step-by-step cell with an assertion right after the "For trainees" box, at least two numbered exercises,
each with its answer in a dropdown and, for a number, a self-check against a value the notebook computes); every
article chapter's code run on the bundled cohort in this process (the step-by-step assertions hold, and each
self-check says "Correct" for the computed value and "Not quite" for another); and the built book (each exercise's
answer is a dropdown that unfolds, and every self-check cell ran in the build). The odd cohorts of
``tests/test_odd_cohorts.py`` run the same cells, so the lessons also run where a cohort cannot answer them.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import re
from pathlib import Path

import pytest

from hcc_utils.config import REPO_ROOT, load_config
from hcc_utils.report.exercises import CORRECT, NOT_ANSWERED, NOT_COMPUTABLE, NOT_QUITE, self_check, verdict

ARTICLE_CHAPTERS = sorted((REPO_ROOT / "notebooks").glob("0[1-8]_*.ipynb"))
SELF_CHECK = re.compile(r'self_check\("(?P<name>\d+\.\d+)", your_answer, (?P<expected>[A-Za-z_]\w*)'
                        r'(, tolerance=(?P<tolerance>[0-9.e-]+))?\)')


def _tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _source(cell: dict) -> str:
    return "".join(cell["source"])


# ---------------------------------------------------------------------------------------------------- the helper
def test_the_verdict_is_not_answered_correct_or_not_quite_and_never_an_error_for_the_trainee():
    assert verdict("5.1", None, 10.3, 0.05).startswith(NOT_ANSWERED)
    assert verdict("5.1", 10.32, 10.3, 0.05).startswith(CORRECT)
    assert verdict("5.1", 10.3, 10.3).startswith(CORRECT)             # exact, no tolerance
    too_high = verdict("5.1", 11, 10.3, 0.05)
    assert too_high.startswith(NOT_QUITE) and "too high" in too_high and "10.3" not in too_high  # no give-away
    assert "too low" in verdict("5.1", 9, 10.3, 0.05)
    assert verdict("5.1", 10.36, 10.3, 0.05).startswith(NOT_QUITE)  # just outside the tolerance
    assert verdict("5.1", "ten", 10.3).startswith(NOT_QUITE)
    assert verdict("5.1", 3, math.nan).startswith(NOT_COMPUTABLE)
    assert verdict("3.1", 34, 34) == f"{CORRECT} (exercise 3.1)."


def test_self_check_prints_the_verdict_once_and_returns_nothing(capsys):
    assert self_check("2.1", None, 0.25) is None                      # a notebook shows no second copy
    assert capsys.readouterr().out.strip() == verdict("2.1", None, 0.25)


def test_a_negative_tolerance_is_refused():
    with pytest.raises(ValueError, match="tolerance"):
        verdict("2.1", 0.2, 0.25, tolerance=-1)


# ---------------------------------------------------------------------------------------------- the notebooks
def lesson_problems(notebook: dict, chapter: int) -> list[str]:
    """What a chapter's lessons lack: the step-by-step section right after the "For trainees" box with a visible
    computation that asserts, an "Exercises" section, at least two exercises numbered ``chapter.k`` in order, each
    with its answer in a dropdown, and self-checks whose expected value is a name computed in the notebook."""
    cells = notebook["cells"]
    problems = []
    box = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and _source(c).startswith("## For trainees")]
    if len(box) != 1:
        return ["no single 'For trainees' box"]
    after = cells[box[0] + 1: box[0] + 3]
    if len(after) < 2 or not _source(after[0]).startswith("## Step by step"):
        problems.append("'## Step by step' does not follow the 'For trainees' box")
    elif (after[1]["cell_type"] != "code" or "hcc-step-by-step" not in _tags(after[1])
          or _tags(after[1]) & {"hide-input", "remove-input", "remove-cell"} or "assert" not in _source(after[1])):
        problems.append("the step-by-step computation is not a visible code cell with an assertion")
    if not any(c["cell_type"] == "markdown" and _source(c).startswith("## Exercises") for c in cells):
        problems.append("no '## Exercises' section")
    text = "\n".join(_source(c) for c in cells if c["cell_type"] == "markdown")
    names = re.findall(r"\{admonition\} Exercise (\d+\.\d+)\n:class: hcc-exercise", text)
    if len(names) < 2:
        problems.append(f"{len(names)} exercises (at least two wanted)")
    if names != [f"{chapter}.{k}" for k in range(1, len(names) + 1)]:
        problems.append(f"exercises numbered {names}, not {chapter}.1, {chapter}.2, ...")
    for name in names:
        if not re.search(rf"\{{admonition\}} Answer to exercise {re.escape(name)}\n:class: dropdown hcc-answer", text):
            problems.append(f"exercise {name} has no answer in a dropdown")
    for cell in cells:
        if "hcc-self-check" in _tags(cell):
            found = SELF_CHECK.search(_source(cell))
            if not found or not _source(cell).startswith("your_answer = None"):
                problems.append(f"a self-check cell is not 'your_answer = None' and self_check(name, your_answer, "
                                f"<computed name>): {_source(cell)!r}")
            elif found["name"] not in names:
                problems.append(f"a self-check of exercise {found['name']}, which the chapter does not set")
    return problems


@pytest.mark.parametrize("path", ARTICLE_CHAPTERS, ids=lambda p: p.stem)
def test_every_article_chapter_has_its_step_by_step_and_exercises_with_answers(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert lesson_problems(notebook, int(path.stem[:2])) == []


def test_the_lesson_check_names_what_a_chapter_lacks():
    """Injected defects in a copy of chapter 5: an answer removed, a typed expected value, the step folded."""
    path = REPO_ROOT / "notebooks" / "05_survival.ipynb"
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert lesson_problems(notebook, 5) == []
    broken = copy.deepcopy(notebook)
    for cell in broken["cells"]:
        source = _source(cell)
        if "Answer to exercise 5.2" in source:
            cell["source"] = source.replace(":class: dropdown hcc-answer", ":class: hcc-answer")
        if "hcc-self-check" in _tags(cell) and '"5.1"' in source:
            cell["source"] = re.sub(r"expected_5_1", "10.3", source)
        if "hcc-step-by-step" in _tags(cell):
            cell["metadata"]["tags"] = ["hcc-step-by-step", "hide-input"]
    problems = lesson_problems(broken, 5)
    assert any("5.2 has no answer in a dropdown" in p for p in problems), problems
    assert any("10.3" in p for p in problems), problems
    assert any("not a visible code cell" in p for p in problems), problems
    assert lesson_problems(notebook, 6) and "not 6.1, 6.2" in " ".join(lesson_problems(notebook, 6))


# --------------------------------------------------------------------------- the lessons run on the bundled cohort
def _run_chapter(path: Path, data_path: Path, config, folder: Path) -> tuple[dict, list[dict]]:
    """Execute a chapter's code cells here as papermill would (parameters injected after the parameters cell), the
    self-check cells with their answer left None; returns the namespace and the self-check cells."""
    from odd_cohorts import figures_drawn_not_written

    cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    namespace = {"__name__": "__main__"}
    injected = {"data_path": str(data_path), "config": config.to_dict(), "run_dir": str(folder),
                "output_dir": str(folder / path.stem)}
    checks = []
    with figures_drawn_not_written(), contextlib.redirect_stdout(io.StringIO()):
        for index, cell in enumerate(cells):
            exec(compile(_source(cell), f"{path.name} code cell {index}", "exec"), namespace)  # noqa: S102
            if index == 0:
                namespace.update(injected)
            if "hcc-self-check" in _tags(cell):
                checks.append(cell)
    return namespace, checks


def _verdict(cell: dict, namespace: dict, answer) -> str:
    """The self-check cell run with ``answer`` in place of None; what it printed."""
    source = _source(cell).replace("your_answer = None", f"your_answer = {answer!r}", 1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, "self-check", "exec"), namespace)  # noqa: S102
    return printed.getvalue().strip()


@pytest.mark.slow
def test_the_steps_pass_and_every_self_check_accepts_the_computed_answer_and_refuses_another(tmp_path, monkeypatch):
    from hcc_utils.study.cohort import STUDY_CACHE_ENV, prepare_study_cache

    data_path, config = REPO_ROOT / "data" / "synthetic_cohort.csv", load_config(REPO_ROOT / "study.yml")
    monkeypatch.setenv(STUDY_CACHE_ENV, str(prepare_study_cache(data_path, config, tmp_path / "study-cache")))
    checked = 0
    for path in ARTICLE_CHAPTERS:
        namespace, checks = _run_chapter(path, data_path, config, tmp_path)   # the step's assertions run here
        assert len(checks) >= 2, path.name
        for cell in checks:
            found = SELF_CHECK.search(_source(cell))
            expected, tolerance = namespace[found["expected"]], float(found["tolerance"] or 0)
            assert math.isfinite(expected), f"{path.name}: exercise {found['name']} not computable on the bundled cohort"
            assert _verdict(cell, namespace, None).startswith(NOT_ANSWERED)
            assert _verdict(cell, namespace, float(expected)).startswith(CORRECT), (path.name, found["name"])
            wrong = float(expected) + max(1.0, abs(float(expected)), 10 * tolerance)
            assert _verdict(cell, namespace, wrong).startswith(NOT_QUITE), (path.name, found["name"])
            checked += 1
    assert checked >= 2 * len(ARTICLE_CHAPTERS)


# ------------------------------------------------------------------------------------------------- the built book
@pytest.mark.slow
@pytest.mark.parametrize("path", ARTICLE_CHAPTERS, ids=lambda p: p.stem)
def test_the_built_chapter_shows_its_exercises_with_answers_that_unfold_and_ran_the_checks(bundled_book, path):
    from bs4 import BeautifulSoup

    from conftest import published

    html = (published(bundled_book) / "html" / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
    main = BeautifulSoup(html, "html.parser").select_one("article.bd-article")
    exercises = main.select(".admonition.hcc-exercise")
    answers = main.select(".admonition.hcc-answer")
    assert len(exercises) >= 2 and len(answers) == len(exercises), (len(exercises), len(answers))
    assert all("dropdown" in answer["class"] for answer in answers)           # folded until the reader opens it
    step = main.select(".cell.tag_hcc-step-by-step")
    assert len(step) == 1 and step[0].select_one(".cell_input") and not step[0].select(".output.traceback")
    checks = main.select(".cell.tag_hcc-self-check")
    assert len(checks) >= 2
    for check in checks:
        assert check.select_one(".cell_input"), "the self-check's code is shown"
        assert NOT_ANSWERED in check.get_text(), "the self-check cell ran in the build"
