"""The two ways a run is published (hcc_utils/pipeline/publish.py): symbolic links (Linux, macOS) and the folder
``current`` renamed into place under a journal (Windows, portable mode). Both are exercised here whatever the
platform, by choosing the layout per test: an interruption at every step of the folder swap leaves a whole run
published (the new one once the journal names it) and the next build finishes the swap; an output folder changes
layout from one build to the next without losing its published run.

Notebooks run in-process (``in_process_notebooks``, tests/inprocess_engine.py).
"""
from __future__ import annotations

import json

import pandas as pd
import pytest

from hcc_utils.pipeline import publish
from hcc_utils.pipeline.runner import plan_tasks, run_study
from conftest import published
from test_runner import _config, _project

pytestmark = [pytest.mark.usefixtures("in_process_notebooks"), pytest.mark.portable]


def _seed(out) -> str:
    results = pd.read_csv(published(out) / "results.csv", dtype=str).set_index("id")["value"]
    return results["first.seed"]


def _whole(out, root) -> None:
    run = published(out)
    manifest = json.loads((run / "manifest.json").read_text())
    for entries in manifest["files"].values():
        assert publish.verify_files(run, entries) == []
    publish.check_complete(run, plan_tasks(root))


def _no_leftovers(out) -> None:
    assert [p.name for p in (out / publish.RUNS_DIR).iterdir() if p.resolve() != published(out)] == []
    assert not (out / publish.JOURNAL_NAME).exists()


class Killed(BaseException):
    """What an interruption (kill -9, a power cut) does to the swap: nothing after it runs."""


@pytest.mark.parametrize("renames_before_the_kill", [0, 1])
def test_folder_swap_interrupted_at_any_step_leaves_a_whole_run_and_the_next_build_finishes_it(
        tmp_path, monkeypatch, renames_before_the_kill):
    """0: killed as it moves the previous `current` aside (the journal already names the new run); 1: killed with
    the previous run aside and the new one not yet in place (no `current` at all)."""
    monkeypatch.setattr(publish, "uses_links", lambda: False)
    root, out = _project(tmp_path), tmp_path / "out"
    run_study(_config(tmp_path, seed=7), out, validate=False, root=root)
    assert (out / publish.CURRENT).is_dir() and not (out / publish.CURRENT).is_symlink()
    assert _seed(out) == "7"

    real_rename, done = publish._rename, []

    def rename_then_die(source, target):
        if len(done) == renames_before_the_kill:
            raise Killed
        real_rename(source, target)
        done.append(target)

    monkeypatch.setattr(publish, "_rename", rename_then_die)
    with pytest.raises(Killed):
        run_study(_config(tmp_path, seed=8), out, validate=False, root=root)
    assert (out / publish.JOURNAL_NAME).is_file()
    assert (out / publish.CURRENT).exists() == (renames_before_the_kill == 0)
    _whole(out, root)                       # readers follow the journal: the new run, complete before it was named
    assert _seed(out) == "8"

    monkeypatch.setattr(publish, "_rename", real_rename)
    again = run_study(_config(tmp_path, seed=8), out, validate=False, root=root)
    assert again.up_to_date                 # the swap was finished; nothing had to run again
    assert (out / publish.CURRENT).is_dir() and _seed(out) == "8"
    _whole(out, root)
    _no_leftovers(out)


def test_a_journal_left_after_the_rename_is_only_deleted(tmp_path, monkeypatch):
    """Killed between the last rename and the journal's deletion: the journal names a run already in place."""
    monkeypatch.setattr(publish, "uses_links", lambda: False)
    root, out = _project(tmp_path), tmp_path / "out"
    run_study(_config(tmp_path, seed=8), out, validate=False, root=root)
    (out / publish.JOURNAL_NAME).write_text(json.dumps({"run": "20240101T000000-gone"}))
    assert _seed(out) == "8"
    publish.recover(out)
    assert not (out / publish.JOURNAL_NAME).exists() and _seed(out) == "8"


def test_an_output_folder_changes_layout_from_one_build_to_the_next(tmp_path, monkeypatch):
    root, out = _project(tmp_path), tmp_path / "out"
    layouts = iter([True, False, True])
    for seed in (7, 8, 9):
        links = next(layouts)
        monkeypatch.setattr(publish, "uses_links", lambda links=links: links)
        run_study(_config(tmp_path, seed=seed), out, validate=False, root=root)
        assert (out / publish.CURRENT).is_symlink() == links
        assert _seed(out) == str(seed)
        _whole(out, root)
        _no_leftovers(out)
        if links:  # the top-level names of the links layout
            assert pd.read_csv(out / "results.csv", dtype=str).set_index("id")["value"]["first.seed"] == str(seed)
    # a build with nothing changed reuses the published run of the other layout as it is
    monkeypatch.setattr(publish, "uses_links", lambda: False)
    assert run_study(_config(tmp_path, seed=9), out, validate=False, root=root).up_to_date


def test_the_folder_layout_makes_no_symbolic_link(tmp_path, monkeypatch):
    monkeypatch.setattr(publish, "uses_links", lambda: False)
    out = tmp_path / "out"
    run_study(_config(tmp_path), out, validate=False, root=_project(tmp_path), jobs=2)
    assert [p for p in out.rglob("*") if p.is_symlink()] == []
    assert publish.published_path(out, "html") == out / "current" / "html"
