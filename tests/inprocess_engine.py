"""A papermill engine that runs a notebook's code cells in the calling process, without a Jupyter kernel.

The runner tests are about the runner's bookkeeping (order, parameters, reuse keys, publishing, locks, messages),
not about kernels; a kernel costs one to two seconds per notebook to start. With :func:`use_in_process_engine`,
``hcc_utils.pipeline.execute.execute_notebook`` still calls ``papermill.execute_notebook`` exactly as in a real run
(parameters injected, the executed copy written, a failing cell turned into ``PapermillExecutionError`` and into the
runner's message), only the cells are ``exec``-ed here, one namespace per notebook, in papermill's working directory.
Worker processes of a parallel run (``--jobs``) use it too: a forked worker inherits it, a spawned one (macOS,
Windows, portable mode) installs it through the runner's worker set-up hook (``HCC_STUDY_WORKER_SETUP``).

What needs a real kernel keeps one: tests that do not use this engine (a failing cell's report, the kernel-start
retry, Ctrl-C and ``kill -9`` during a notebook, parallel kernels' sockets) start real kernels.
"""
from __future__ import annotations

import contextlib
import io
import os
import traceback

import nbformat
from papermill.engines import Engine, papermill_engines

from hcc_utils.pipeline.kernel_server import SWITCH_ENV
from hcc_utils.pipeline.workers import WORKER_SETUP_ENV

#: What a spawned worker calls to install the engine (this folder is on its ``sys.path``, as on the build's).
SETUP_HOOK = "inprocess_engine:install"

class InProcessEngine(Engine):
    """Execute each code cell with ``exec`` in one namespace; stop at the first exception, recorded as the cell's
    error output (as a kernel reports it), so that papermill raises its ``PapermillExecutionError``."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        namespace = {"__name__": "__main__"}
        count = 0
        for index, cell in enumerate(nb_man.nb.cells):
            if cell.cell_type != "code":
                continue
            nb_man.cell_start(cell, index)
            count += 1
            cell.execution_count = count
            stdout = io.StringIO()
            try:
                with contextlib.redirect_stdout(stdout):
                    exec(compile(cell.source, f"<cell {index}>", "exec"), namespace)  # noqa: S102 - the test's own
            except Exception as error:  # noqa: BLE001 - reported as a kernel reports it
                cell.outputs = [nbformat.v4.new_output(
                    "error", ename=type(error).__name__, evalue=str(error),
                    traceback=traceback.format_exception(error))]
                nb_man.cell_exception(cell, index, exception=error)
                nb_man.cell_complete(cell, index)
                return
            if stdout.getvalue():
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stdout.getvalue())]
            nb_man.cell_complete(cell, index)


def install() -> None:
    """Make the in-process engine papermill's default engine in this process and in the worker processes it
    starts (forked or spawned); no kernel is started, so the runner starts no kernel fork server either."""
    papermill_engines.register(None, InProcessEngine)
    os.environ[SWITCH_ENV] = "0"
    os.environ[WORKER_SETUP_ENV] = SETUP_HOOK


@contextlib.contextmanager
def in_process_engine():
    """Papermill's default engine is :class:`InProcessEngine` inside the block."""
    previous = papermill_engines._engines.get(None)
    saved = {name: os.environ.get(name) for name in (SWITCH_ENV, WORKER_SETUP_ENV)}
    install()
    try:
        yield
    finally:
        papermill_engines.register(None, previous)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
