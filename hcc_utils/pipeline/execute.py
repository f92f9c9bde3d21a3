"""Executing one notebook with papermill: kernel messages to a log, a retry when the kernel fails to start, and
failures reported at the cell the author sees in the source notebook."""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

#: Tag that hides a cell entirely in the rendered book (myst-nb).
HIDE_TAG = "remove-cell"
#: Tags of cells papermill adds to an executed notebook that the source notebook does not have.
ADDED_TAGS = ("injected-parameters", "papermill-error-cell-tag")
#: Attempts at starting a kernel. Kernels talk over Unix sockets in a folder of their own (no TCP port to collide
#: on, see :func:`private_socket_kernel_manager`); a kernel that still fails to start (an overloaded machine) is
#: started again.
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
    print(f"[hcc-study] {message}", file=sys.stderr, flush=True)


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


def worker_started(build_pid: int) -> None:
    """Initialise a worker process of a parallel run: it gives up its copy of the output lock and dies with the
    build (Linux), so that killing the build (``kill -9``) leaves no worker executing notebooks or holding the
    lock or the build's output pipes; Ctrl-C stops the notebook it executes and nothing else (see
    :func:`_worker_interrupted`)."""
    import signal

    from hcc_utils.pipeline.publish import release_inherited_locks

    release_inherited_locks()
    signal.signal(signal.SIGINT, _worker_interrupted)
    # once interrupted, the kernel this worker shuts down dies as intended: nbclient's background tasks then end
    # in DeadKernelError that nobody awaits, and asyncio would print each as a traceback
    logging.getLogger("asyncio").addFilter(lambda record: not _worker_stopping)
    # a KeyboardInterrupt raised inside the executing coroutine leaves the coroutine it was about to await unawaited;
    # the pool's pickling of the interrupt then collects it and Python would print a RuntimeWarning with the pool's
    # source line instead of the build's one line (notebook code runs in kernels: its warnings are not touched)
    warnings.filterwarnings("ignore", message=r"coroutine .* was never awaited", category=RuntimeWarning)
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != build_pid:  # the build died before prctl took effect
        os._exit(1)


_worker_busy = False
_worker_stopping = False


def _worker_interrupted(signum, frame) -> None:
    """SIGINT in a worker: the first one stops the call it executes (KeyboardInterrupt, which the pool sends back
    to the build as that call's result, while papermill shuts its kernel down); an idle worker only remembers it
    and refuses the calls still queued. A second SIGINT (Ctrl-C reaches the whole process group and the build
    forwards it too) must not break the kernel's shutdown, so it is ignored. Idle workers raising would print a
    traceback from the pool's queue instead of the build's one line."""
    global _worker_stopping
    if _worker_stopping:
        return
    _worker_stopping = True
    if _worker_busy:
        raise KeyboardInterrupt


def _in_worker(function, *args):
    """Run ``function(*args)`` in a worker, interruptible by SIGINT (see :func:`_worker_interrupted`)."""
    global _worker_busy
    _worker_busy = True      # first, then the check: a SIGINT between the two cannot be lost
    try:
        if _worker_stopping:
            raise KeyboardInterrupt
        return function(*args)
    finally:
        _worker_busy = False


def run_in_workers(calls: list[tuple], workers: int, on_result) -> None:
    """Run each ``(function, *args)`` of ``calls`` in a pool of ``workers`` processes and pass each call and its
    result to ``on_result`` as it completes (in the build's process).

    On any failure or Ctrl-C the calls not started are cancelled; on Ctrl-C (or a SIGINT sent to the build alone)
    every worker is sent SIGINT, so that notebooks stop and their kernels are shut down before the build reports
    the interruption: no worker is left executing and no worker prints a traceback.
    """
    import concurrent.futures
    import signal

    pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, initializer=worker_started,
                                                  initargs=(os.getpid(),))
    try:
        futures = {pool.submit(_in_worker, *call): call for call in calls}
        for future in concurrent.futures.as_completed(futures):
            on_result(futures[future], future.result())
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                with contextlib.suppress(OSError):
                    os.kill(process.pid, signal.SIGINT)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


_KERNEL_MANAGER = None


def private_socket_kernel_manager():
    """A kernel manager class whose kernels listen on Unix sockets in a private temporary folder.

    With TCP, each kernel picks free ports by binding to port 0 and releasing them before the kernel binds: two
    kernels started at once (``--jobs``) can be handed the same port, and one dies before replying to
    kernel_info. ZeroMQ's ``ipc`` transport with a folder made by ``mkdtemp`` for each kernel has no shared
    namespace to collide in. The folder is removed with the kernel.
    """
    global _KERNEL_MANAGER
    if _KERNEL_MANAGER is None:
        from jupyter_client.manager import AsyncKernelManager

        class PrivateSocketKernelManager(AsyncKernelManager):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.transport = "ipc"
                # short: a Unix socket path is limited to about 100 characters
                self._socket_dir = tempfile.mkdtemp(prefix="hcck-", dir="/tmp" if os.path.isdir("/tmp") else None)
                self.ip = os.path.join(self._socket_dir, "k")

            def format_kernel_cmd(self, extra_arguments=None):
                return forked_kernel_command(super().format_kernel_cmd(extra_arguments))

            async def _async_cleanup_resources(self, restart: bool = False) -> None:
                await super()._async_cleanup_resources(restart=restart)
                if not restart:
                    shutil.rmtree(self._socket_dir, ignore_errors=True)

        _KERNEL_MANAGER = PrivateSocketKernelManager
    return _KERNEL_MANAGER


def forked_kernel_command(command: list[str]) -> list[str]:
    """``command`` (a kernel's launch command) as a request to the run's kernel fork server, when there is one
    (see :mod:`hcc_utils.pipeline.kernel_server`) and the command starts an ordinary IPython kernel."""
    from hcc_utils.pipeline.kernel_server import LAUNCHER, SERVER_ENV, enabled

    server = os.environ.get(SERVER_ENV)
    # the server's folder exists from before the server starts until it stops; the launcher waits for its socket
    if not (server and enabled() and os.path.isdir(os.path.dirname(server)) and len(command) > 3
            and command[1:3] == ["-m", "ipykernel_launcher"]):
        return command
    return [command[0], "-I", "-S", str(LAUNCHER), server, command[0], *command[3:]]


def execute_notebook(task: NotebookTask, root: Path, staging: Path, parameters: dict) -> float:
    """Run one notebook with papermill (in a worker process when parallel); return seconds taken."""
    import papermill  # imported here: a second or so, and only a run that executes notebooks needs it
    from papermill.exceptions import PapermillExecutionError

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
                    request_save_on_cell_execute=False, kernel_manager_class=private_socket_kernel_manager(),
                )
            break
        except PapermillExecutionError as exc:
            first_line = (exc.source or "").strip().splitlines()[:1]
            raise StudyRunError(
                f"notebook {task.relpath} failed in cell {source_cell_position(target, exc.cell_index)} (counting from 1"
                f"{', which starts: ' + first_line[0] if first_line else ''}): {exc.ename}: {exc.evalue}\n"
                f"the partly executed copy is {target}; its kernel's messages are in {log_path}"
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
