"""Work of one analysis spread over the machine's cores in forked processes (large cohorts only).

:func:`hcc_utils.study.compute_results` has a forked worker process fit Table 4's univariable Cox screens (the
costliest work: about 30 fits on every enrolled patient) and compute a few sections while it computes the others
and the multivariable models itself. A forked worker starts with the parent's memory as it is (the study is shared
copy-on-write, never pickled; the parent's objects are frozen out of the worker's garbage collections so that their
pages stay shared); only each call's result travels back. The numbers are those of the same call made in the
parent: the same code runs on the same data, and results come back in the order of the calls.

Fork is used only where it pays and is safe: on Linux (not macOS, where forking a process that has loaded numpy,
scipy or pyarrow may crash it; not Windows, which cannot fork; not in portable mode, ``HCC_STUDY_PORTABLE=1``:
:func:`hcc_utils.config.platforms.fork_workers_allowed`), with two or more usable cores, outside
a daemon process (a pool's worker, which may not start processes), and for :data:`PARALLEL_MIN_ROWS` to
:data:`PARALLEL_MAX_ROWS` enrolled patients (below, starting processes costs more than it saves; above, the
memory of two processes is unmeasured). A call whose worker died (e.g. killed for lack of memory) is made again
in the parent. Elsewhere the calls run in the parent, one after the other, when their results are asked for.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

from hcc_utils.config import platforms

#: Fewest enrolled patients for which the analysis uses worker processes (at 10^4 a process costs more than the
#: work it takes over).
PARALLEL_MIN_ROWS = 100_000
#: Most enrolled patients for which it does: the worker's own memory (a few hundred MB at 6.5 x 10^5) has only been
#: measured up to a cohort of 10^6; a cohort of 10^7 (12 GB in one process) keeps the one-process path.
PARALLEL_MAX_ROWS = 2_000_000

_SHARED: Any = None                                      # what the forked workers inherit (set before the fork)


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether this process can fork workers that pay: Linux (see the module), two or more usable cores, and not
    a daemon process (a pool's worker, which may not start processes)."""
    return (platforms.fork_workers_allowed() and usable_cores() >= 2
            and not multiprocessing.current_process().daemon)


def parallel_wanted(rows: int) -> bool:
    """Whether an analysis of ``rows`` enrolled patients should use worker processes (see the module)."""
    return PARALLEL_MIN_ROWS <= rows <= PARALLEL_MAX_ROWS and can_fork()


def _install(shared: Any) -> None:
    global _SHARED
    _SHARED = shared


def _call(func: Callable, item: Any):
    """Run ``func(shared, item)`` in a worker; its warnings go back with the result (re-issued by the parent)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(_SHARED, item)
    return result, [(str(w.message), w.category) for w in caught]


class ForkedCalls:
    """``func(shared, item)`` for each item, started at once in forked workers (or run in the parent when asked
    for, where forking is not wanted or not allowed: ``fork=False``, or not Linux, see the module); :meth:`results`
    gives them in the order of ``items``, :meth:`result` one.

    ``func`` must be a module-level function (the workers find it by name); ``shared`` is inherited, not pickled.
    ``workers``: at most this many processes (the usable cores by default).
    """

    def __init__(self, func: Callable, items: list, shared: Any, fork: bool = True, workers: int | None = None):
        self._func, self._items, self._shared = func, list(items), shared
        self._pool = self._futures = None
        self._done: dict[int, Any] = {}
        if fork and self._items and platforms.fork_workers_allowed():  # elsewhere ``shared`` would be pickled
            context = multiprocessing.get_context(platforms.worker_start_method())  # "fork" here
            gc.freeze()  # the parent's objects out of the workers' collections: no copy-on-write of their pages
            try:
                self._pool = ProcessPoolExecutor(max_workers=max(1, min(len(self._items), workers or usable_cores())),
                                                 mp_context=context, initializer=_install, initargs=(shared,))
                self._futures = [self._pool.submit(_call, func, item) for item in self._items]  # forks the workers
            finally:
                gc.unfreeze()

    def results(self) -> list:
        """The calls' results in the order of the items (waits for the workers; a worker's error is raised here)."""
        try:
            return [self.result(index) for index in range(len(self._items))]
        finally:
            self.close()

    def result(self, index: int):
        """The result of the call of ``items[index]`` (waits for it only; its warnings are issued here, once)."""
        if index not in self._done:
            if self._futures is None:
                self._done[index] = self._func(self._shared, self._items[index])
            else:
                try:
                    result, caught = self._futures[index].result()
                except BrokenProcessPool:                # the worker died (e.g. out of memory): do it here
                    result, caught = self._func(self._shared, self._items[index]), []
                for message, category in caught:
                    warnings.warn(message, category, stacklevel=2)
                self._done[index] = result
        return self._done[index]

    def close(self) -> None:
        """Stop the workers (pending calls are cancelled)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
