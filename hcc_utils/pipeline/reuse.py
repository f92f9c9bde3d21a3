"""Reusing what the published run of an output folder holds (:mod:`hcc_utils.pipeline.runner`): its manifest,
its combined files and a notebook's outputs, each copied into the new run only after checking them against the
manifest's checksums. The published run is found in either layout by
:func:`hcc_utils.pipeline.publish.published_run`."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from hcc_utils.pipeline import cache as _cache
from hcc_utils.pipeline.execute import NotebookTask, _log
from hcc_utils.pipeline.publish import verify_files


def copy_run_files(published: Path | None, run_dir: Path, previous: dict, names) -> bool:
    """Copy the published run's files ``names`` (those its manifest lists) into ``run_dir`` if all match their
    checksums; return whether any was copied."""
    entries = {name: sha for name, sha in previous.get("files", {}).get("_run", {}).items() if name in names}
    if published is None or not entries or verify_files(published, entries):
        return False
    for name in entries:
        shutil.copy2(published / name, run_dir / name)
    return True


def read_manifest(published: Path | None) -> dict:
    """The published run's manifest (``{}`` when there is none or it is unreadable)."""
    if published is None:
        return {}
    try:
        return json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def copy_previous(task: NotebookTask, published: Path, staging: Path, previous: dict, source_sha: str,
                  root: Path) -> bool:
    """Copy a notebook's previous outputs from the ``published`` run into the new run, only if they match the
    previous manifest's checksums; a notebook whose markdown alone changed gets its new markdown patched into the
    executed copy."""
    entries = previous.get("files", {}).get(task.name)
    executed = f"executed/{task.relpath}"
    if not entries or executed not in entries:
        return False  # a run of an older version of the runner: nothing to verify against
    problems = verify_files(published, entries)
    section = published / "sections" / task.name
    on_disk = {p.relative_to(section.parent.parent).as_posix() for p in section.rglob("*") if p.is_file()} \
        if section.is_dir() else set()
    problems += [f"{name} is not in the manifest" for name in sorted(on_disk - set(entries))]
    if problems or not section.is_dir():
        _log(f"{task.relpath}: previous outputs damaged ({'; '.join(problems[:3]) or 'no section folder'}); re-executing")
        return False
    (staging / executed).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(published / executed, staging / executed)
    shutil.copytree(section, staging / "sections" / task.name)
    if (published / "logs" / f"{task.name}.log").is_file():  # what its kernel printed when it ran
        (staging / "logs").mkdir(exist_ok=True)
        shutil.copy2(published / "logs" / f"{task.name}.log", staging / "logs" / f"{task.name}.log")
    if previous.get("sources", {}).get(task.relpath) != source_sha \
            and _cache.patch_markdown(root / task.relpath, staging / executed):
        _log(f"{task.relpath}: only its markdown changed; the new text was put into the executed copy")
    return True
