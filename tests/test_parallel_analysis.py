"""The analysis spread over processes (hcc_utils.study.parallel): the same numbers, in the same order, as one
process."""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hcc_utils.config import load_config  # noqa: E402
from hcc_utils.data.readers import read_cohort  # noqa: E402
from hcc_utils.study import compute_results, parallel  # noqa: E402
from hcc_utils.study.parallel import ForkedCalls, parallel_wanted  # noqa: E402

FORK = "fork" in multiprocessing.get_all_start_methods()
needs_fork = pytest.mark.skipif(not parallel.can_fork(), reason="needs fork and two cores")


def _square_plus(shared, item):
    return shared["offset"] + item * item


def _fails(shared, item):
    if item == 2:
        raise ValueError(f"item {item} is bad")
    return item


def _warns(shared, item):
    warnings.warn(f"careful with {item}", RuntimeWarning)
    return item


def _printed(values) -> dict:
    return {key: (repr(value), repr(values.specs[key])) for key, value in values.items()}  # NaN equals NaN


@needs_fork
def test_parallel_and_serial_analyses_give_the_same_results():
    raw, config = read_cohort(ROOT / "data" / "synthetic_cohort.csv"), load_config()
    serial = compute_results(raw, config, validate=True, parallel=False)
    forked = compute_results(raw, config, validate=True, parallel=True)
    assert list(forked) == list(serial)                   # same ids in the same order
    assert _printed(forked) == _printed(serial)           # same values (to the bit), kinds, labels and statuses
    assert len(serial) > 800 and serial["cox.os_uni_age65_n"] == 126


@needs_fork
def test_forked_calls_keep_the_order_and_read_the_shared_object_without_pickling_it():
    shared = {"offset": 100, "unpicklable": lambda: None}  # a lambda cannot be pickled: it must be inherited
    calls = ForkedCalls(_square_plus, [3, 1, 2], shared)
    assert calls.results() == [109, 101, 104]


@needs_fork
def test_a_worker_error_is_raised_in_the_parent():
    with pytest.raises(ValueError, match="item 2 is bad"):
        ForkedCalls(_fails, [1, 2, 3], None).results()


@needs_fork
def test_warnings_of_a_worker_are_issued_in_the_parent():
    with pytest.warns(RuntimeWarning, match="careful with 7"):
        assert ForkedCalls(_warns, [7], None).results() == [7]


def test_without_fork_the_calls_run_in_this_process():
    calls = ForkedCalls(_square_plus, [2, 5], {"offset": 1}, fork=False)
    assert calls._pool is None and calls.results() == [5, 26]


def test_only_large_cohorts_use_workers(monkeypatch):
    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)
    assert not parallel_wanted(10_000)                    # the bundled cohort: one process
    assert parallel_wanted(parallel.PARALLEL_MIN_ROWS) is FORK
    assert not parallel_wanted(parallel.PARALLEL_MIN_ROWS - 1)
    assert not parallel_wanted(parallel.PARALLEL_MAX_ROWS + 1)  # 10^7 screened: one process, as measured
    monkeypatch.setattr(parallel, "usable_cores", lambda: 1)
    assert not parallel_wanted(10**6)                     # one core: nothing to gain


def test_a_daemon_process_never_forks(monkeypatch):
    class Daemon:
        daemon = True

    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)
    monkeypatch.setattr(parallel.multiprocessing, "current_process", lambda: Daemon())
    assert not parallel.can_fork() and not parallel_wanted(10**6)


def _dies(shared, item):
    if multiprocessing.parent_process() is not None:     # in the worker: killed as by the out-of-memory killer
        os.kill(os.getpid(), signal.SIGKILL)
    return item * 10


@needs_fork
def test_a_dead_worker_leaves_the_call_to_the_parent():
    assert ForkedCalls(_dies, [1, 2], None).results() == [10, 20]
