"""Worker processes of a parallel run (``--jobs``): each executes notebooks (or the tables' conversion) and sends
the result back to the build.

**Start method.** Linux forks the workers from the build (cheap: the build's imports come with them). macOS and
Windows (and portable mode, ``HCC_STUDY_PORTABLE=1``) spawn them: a fresh interpreter that imports what each call
needs, since forking a process that has loaded numpy, scipy or pyarrow without exec is unsafe on macOS and
impossible on Windows (:func:`hcc_utils.config.platforms.worker_start_method`). Everything a worker receives (the
functions, by their module and name, and their arguments) is picklable. What the build set up in its own process
is not inherited by a spawned worker: ``HCC_STUDY_WORKER_SETUP=module:function`` names a function each worker
calls first (the tests install their in-process papermill engine that way).

**A worker dies with the build** (killed, ``kill -9``): ``PR_SET_PDEATHSIG`` on Linux, a thread waiting on the
build's process sentinel elsewhere (:func:`hcc_utils.config.platforms.die_with_parent`). The output folder's lock
is never held by a worker: ``filelock`` closes a forked child's copy of it.

**Ctrl-C.** On Linux and macOS the terminal sends SIGINT to the whole foreground group, and the build also forwards
it to each worker (a SIGINT sent to the build alone stops the run as well). On Windows the console sends Ctrl-C to
every process attached to it, the workers included, and the build sends nothing; kernels there ignore the console's
Ctrl-C (ipykernel is interrupted through its own channel), and each interrupted worker shuts its kernel down. In
either case the first interrupt stops the notebook a worker executes; a second one is ignored so that the kernel's
shutdown completes, and no worker prints a traceback.
"""
from __future__ import annotations

import contextlib
import importlib
import logging
import os
import warnings

from hcc_utils.config import platforms

#: ``module:function`` each worker process calls before its first call (see the module).
WORKER_SETUP_ENV = "HCC_STUDY_WORKER_SETUP"


def _run_setup_hook() -> None:
    hook = os.environ.get(WORKER_SETUP_ENV, "")
    if not hook:
        return
    module, _, function = hook.partition(":")
    getattr(importlib.import_module(module), function or "setup")()


def worker_started(build_pid: int) -> None:
    """Initialise a worker process of a parallel run: run the setup hook, die with the build, and let Ctrl-C stop
    the notebook it executes and nothing else (see :func:`_worker_interrupted`)."""
    import signal

    _run_setup_hook()
    signal.signal(signal.SIGINT, _worker_interrupted)
    # once interrupted, the kernel this worker shuts down dies as intended: nbclient's background tasks then end
    # in DeadKernelError that nobody awaits, and asyncio would print each as a traceback
    logging.getLogger("asyncio").addFilter(lambda record: not _worker_stopping)
    # a KeyboardInterrupt raised inside the executing coroutine leaves the coroutine it was about to await unawaited;
    # the pool's pickling of the interrupt then collects it and Python would print a RuntimeWarning with the pool's
    # source line instead of the build's one line (notebook code runs in kernels: its warnings are not touched)
    warnings.filterwarnings("ignore", message=r"coroutine .* was never awaited", category=RuntimeWarning)
    platforms.die_with_parent(build_pid)


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

    On any failure or Ctrl-C the calls not started are cancelled; on Ctrl-C every worker is interrupted too (see
    the module), so that notebooks stop and their kernels are shut down before the build reports the
    interruption: no worker is left executing and no worker prints a traceback.
    """
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context(platforms.worker_start_method())
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                  initializer=worker_started, initargs=(os.getpid(),))
    try:
        futures = {pool.submit(_in_worker, *call): call for call in calls}
        for future in concurrent.futures.as_completed(futures):
            on_result(futures[future], future.result())
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            with contextlib.suppress(Exception):
                platforms.interrupt_processes([p.pid for p in (getattr(pool, "_processes", None) or {}).values()])
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
