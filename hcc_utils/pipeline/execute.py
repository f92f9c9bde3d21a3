"""Executing one notebook with papermill: kernel messages to a log, a retry when the kernel fails to start, and
failures reported at the cell the author sees in the source notebook, with the cell's traceback in the log.

The kernels (transport, patience, forking) are in :mod:`hcc_utils.pipeline.kernels`; the worker processes of a
parallel run in :mod:`hcc_utils.pipeline.workers`."""
from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: Tag that hides a cell entirely in the rendered book (myst-nb).
HIDE_TAG = "remove-cell"
#: Tags of cells papermill adds to an executed notebook that the source notebook does not have.
ADDED_TAGS = ("injected-parameters", "papermill-error-cell-tag")
#: Attempts at starting a kernel. Kernels cannot be handed the same endpoint (a Unix socket folder of their own, or
#: reserved TCP ports: :mod:`hcc_utils.pipeline.kernels`); a kernel that still fails to start (a port taken by
#: another program meanwhile, an overloaded machine) is started again.
KERNEL_ATTEMPTS = 3
_START_FAILURES = ("kernel died before replying to kernel_info", "kernel didn't respond", "address already in use")


class StudyRunError(RuntimeError):
    """A notebook or the book build failed; the message names the notebook, the cell and the error."""


@dataclass(frozen=True)
class NotebookTask:
    """One notebook to execute: its path relative to the repository and the stage it runs in."""

    relpath: str
    stage: int

    @property
    def name(self) -> str:
        return Path(self.relpath).stem


def longest_first(tasks: list[NotebookTask], took: dict[str, float], root: Path) -> list[NotebookTask]:
    """``tasks`` longest first, as the previous run timed them (``took``) or else as their metadata expects
    (:func:`hcc_utils.pipeline.cache.expected_seconds`), ties in table-of-contents order: the last notebook to
    finish is then a short one, and a first build does not leave its longest notebook running alone at the end."""
    from hcc_utils.pipeline.cache import expected_seconds

    return sorted(tasks, key=lambda t: -took.get(t.relpath, expected_seconds(root / t.relpath)))


def _log(message: str) -> None:
    """One line on stderr, written with one ``write``: parallel workers share the build's stderr, and ``print``
    writes the text and its newline separately (stderr writes through), so two workers' lines could run together
    as ``…01_first.ipynb ...[hcc-study] executing …02_second.ipynb ...`` followed by an empty line."""
    sys.stderr.write(f"[hcc-study] {message}\n")
    sys.stderr.flush()


def _hide_parameter_cells(executed: Path) -> None:
    """Hide papermill's injected-parameters cell and the defaults cell in the rendered book."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if ("injected-parameters" in tags or "parameters" in tags) and HIDE_TAG not in tags:
            cell.setdefault("metadata", {})["tags"] = [*tags, HIDE_TAG]
    nbformat.write(nb, executed)


def source_cell_position(executed: Path, cell_index: int) -> int:
    """Position (from 1) in the source notebook of cell ``cell_index`` of the executed notebook.

    papermill counts its injected-parameters cell in ``cell_index`` and, on failure, writes the executed copy with
    two more cells (an error banner at the top, an anchor before the failing cell); none of them is in the source.
    The index is papermill's before it added the error cells, so only the injected cell before it is subtracted.
    """
    import nbformat

    try:
        cells = nbformat.read(executed, as_version=4).cells
    except Exception:
        return cell_index + 1
    kept = [c for c in cells if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    added = sum(1 for c in kept[:cell_index] if "injected-parameters" in c.get("metadata", {}).get("tags", []))
    return cell_index + 1 - added


@contextlib.contextmanager
def _kernel_messages_to(path: Path):
    """Send what kernels write to stderr (start-up notices, shutdown chatter) to a log file, not the terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _kernel_failed_to_start(exc: Exception) -> bool:
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(marker in text for marker in _START_FAILURES)


def _write_cell_error(log_path: Path, position: int, error) -> None:
    """Append the failing cell's traceback to the notebook's log (without the terminal's colour codes), where the
    failure message sends the reader."""
    lines = "\n".join(error.traceback or [f"{error.ename}: {error.evalue}"])
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"\n--- cell {position} (counting from 1) raised {error.ename} ---\n"
                  f"{_ANSI.sub('', lines)}\n")


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def execute_notebook(task: NotebookTask, root: Path, staging: Path, parameters: dict) -> float:
    """Run one notebook with papermill (in a worker process when parallel); return seconds taken.

    Says "executing" when it starts (in the worker, so that a parallel run announces a notebook when it really
    starts). A failing cell stops it with :class:`StudyRunError` naming the notebook, the cell as counted in the
    source notebook and the error; the cell's traceback is appended to ``logs/<notebook>.log``.
    """
    import papermill  # imported here: a second or so, and only a run that executes notebooks needs it
    from papermill.exceptions import PapermillExecutionError

    from hcc_utils.pipeline.kernels import kernel_manager_class, papermill_settings

    _log(f"executing {task.relpath} ...")
    source = root / task.relpath
    target = staging / "executed" / task.relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    section_dir = staging / "sections" / task.name
    section_dir.mkdir(parents=True, exist_ok=True)
    params = {**parameters, "output_dir": str(section_dir)}
    start = time.perf_counter()
    log_path = staging / "logs" / f"{task.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, KERNEL_ATTEMPTS + 1):
        try:
            with _kernel_messages_to(log_path):
                papermill.execute_notebook(
                    str(source), str(target), parameters=params, kernel_name="python3",
                    cwd=str(source.parent), progress_bar=False, log_output=False,
                    request_save_on_cell_execute=False, kernel_manager_class=kernel_manager_class(),
                    **papermill_settings(),
                )
            break
        except PapermillExecutionError as exc:
            first_line = (exc.source or "").strip().splitlines()[:1]
            position = source_cell_position(target, exc.cell_index)
            _write_cell_error(log_path, position, exc)
            raise StudyRunError(
                f"notebook {task.relpath} failed in cell {position} (counting from 1"
                f"{', which starts: ' + first_line[0] if first_line else ''}): {exc.ename}: {exc.evalue}\n"
                f"the cell's traceback is in {log_path}; the partly executed notebook is {target}"
            ) from None
        except Exception as exc:  # kernel death, unreadable notebook...
            if _kernel_failed_to_start(exc) and attempt < KERNEL_ATTEMPTS:
                _log(f"{task.relpath}: the kernel failed to start ({exc}); retrying ({attempt + 1} of "
                     f"{KERNEL_ATTEMPTS}); see {log_path}")
                continue
            raise StudyRunError(f"notebook {task.relpath} could not be executed: {type(exc).__name__}: {exc}\n"
                                f"its kernel's messages are in {log_path}") from None
    _hide_parameter_cells(target)
    return time.perf_counter() - start
