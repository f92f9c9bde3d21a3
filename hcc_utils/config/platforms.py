"""The one place that decides which platform-specific path the project takes (Windows, macOS, Linux).

The study runs on Windows 10/11, macOS 12+ and Linux with Python 3.11. A few things it does are faster or safer
where the operating system allows them, and each has a portable path used everywhere else:

==================================  ======================================  =========================================
what                                Linux (the default there)               macOS, Windows, and ``HCC_STUDY_PORTABLE=1``
==================================  ======================================  =========================================
kernels started by                  the fork server (``kernel_server``)     the usual ``python -m ipykernel_launcher``
analysis worker (large cohorts)     a forked process (``study.parallel``)   none: the calls run in the process
notebook worker processes           ``fork``                                ``spawn`` (a fresh interpreter each)
a worker dies with the build        ``PR_SET_PDEATHSIG``                    a thread waiting on the parent's sentinel
==================================  ======================================  =========================================

==================================  ======================================  =========================================
what                                Linux and macOS                         Windows, and ``HCC_STUDY_PORTABLE=1``
==================================  ======================================  =========================================
kernel transport                    Unix sockets (ZeroMQ ``ipc``)           TCP on 127.0.0.1, ports reserved across
                                                                            processes (``pipeline.kernels``)
the published run                   the symbolic link ``OUT/current``       the folder ``OUT/current``, renamed into
                                                                            place under a journal
Ctrl-C reaches the workers          forwarded as SIGINT by the build        the console sends it to every process
==================================  ======================================  =========================================

On every platform the processes a build starts run in Python's UTF-8 mode (:func:`utf8_children`), and the package
reads and writes text files as UTF-8 explicitly.

``HCC_STUDY_PORTABLE=1`` (portable mode) makes Linux take every path that is not Linux's, so that the test suite
exercises the paths of macOS and Windows on a Linux machine (CI runs the build, publishing, interruption and CLI
tests that way). What portable mode cannot imitate is the operating system itself: POSIX signals stay POSIX.

Every platform-specific call of the package (``fork``, ``prctl``, symbolic links, Unix sockets, signals sent to
other processes, the host name) is made here or in a function that is reached only when a function of this
module says so; ``tests/test_platforms.py`` checks it on the package's source. Standard library only.
"""
from __future__ import annotations

import contextlib
import os
import platform
import socket
import sys

#: ``1`` forces the paths of the other platforms on Linux (see the module).
PORTABLE_ENV = "HCC_STUDY_PORTABLE"


def portable() -> bool:
    """Whether portable mode is on (``HCC_STUDY_PORTABLE`` set to anything but ``""`` or ``0``)."""
    return os.environ.get(PORTABLE_ENV, "") not in ("", "0")


def is_windows() -> bool:
    return sys.platform == "win32"


def linux_paths() -> bool:
    """Linux, not in portable mode: the fork server, forked workers and ``PR_SET_PDEATHSIG`` may be used.

    macOS is left out: a process that has imported numpy, scipy or pyarrow (Accelerate, Objective-C runtime) may
    crash when forked without exec, which is why CPython made ``spawn`` the default start method there.
    """
    return sys.platform.startswith("linux") and not portable()


def posix_paths() -> bool:
    """Linux or macOS, not in portable mode: symbolic links and Unix sockets are available to every user."""
    return os.name == "posix" and not is_windows() and not portable()


def fork_server_allowed() -> bool:
    """Whether kernels may be forked from a server process (``pipeline.kernel_server``): Linux only."""
    return linux_paths() and hasattr(os, "fork") and hasattr(socket, "send_fds")


def fork_workers_allowed() -> bool:
    """Whether worker processes may be forked from this one (``study.parallel``, the notebook workers)."""
    return linux_paths() and hasattr(os, "fork")


def worker_start_method() -> str:
    """How worker processes of a parallel run start: ``fork`` on Linux, ``spawn`` elsewhere and when portable."""
    return "fork" if fork_workers_allowed() else "spawn"


def unix_socket_kernels() -> bool:
    """Whether kernels talk over Unix sockets (ZeroMQ ``ipc``) rather than TCP: Linux and macOS."""
    return posix_paths() and hasattr(socket, "AF_UNIX")


def symlinks_for_publishing() -> bool:
    """Whether a run is published by a symbolic link (``OUT/current``): Linux and macOS. Creating symbolic links
    on Windows needs a privilege or Developer Mode, so Windows (and portable mode) publish by renaming folders."""
    return posix_paths()


def signals_between_processes() -> bool:
    """Whether the build may send POSIX signals (SIGINT) to its workers. Not on Windows, where ``os.kill`` with a
    signal other than CTRL_C_EVENT/CTRL_BREAK_EVENT terminates the process, and where Ctrl-C already reaches every
    process of the console. Portable mode on Linux keeps POSIX signals (it cannot imitate Windows' console)."""
    return os.name == "posix"


def interrupt_processes(pids) -> None:
    """Send SIGINT to each process in ``pids`` (the build forwarding a Ctrl-C to its workers); nothing on Windows,
    where the console has already sent Ctrl-C to them."""
    if not signals_between_processes():
        return
    import signal

    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGINT)


def new_process_group() -> dict:
    """``subprocess.Popen`` keyword arguments that start a process in a group of its own, so that it and the
    processes it starts can be stopped together (:func:`kill_process_group`): a new session on POSIX, a new
    process group on Windows."""
    import subprocess

    if is_windows():
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def kill_process_group(process) -> None:
    """Kill ``process`` (started with :func:`new_process_group`) and every process it started."""
    import subprocess

    if is_windows():
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], capture_output=True)
        with contextlib.suppress(OSError):
            process.kill()
        return
    import signal

    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def peak_memory_megabytes(ru_maxrss: int) -> float:
    """``getrusage``'s ``ru_maxrss`` in megabytes: kilobytes on Linux, bytes on macOS (Windows has no getrusage)."""
    return ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


@contextlib.contextmanager
def utf8_children():
    """The processes started inside the block (workers, kernels, the book build) run in Python's UTF-8 mode
    (``PYTHONUTF8=1``, unless set otherwise): on Windows a notebook's own ``open()`` would otherwise read and write
    text in the ANSI code page, unlike on macOS and Linux."""
    previous = os.environ.get("PYTHONUTF8")
    os.environ["PYTHONUTF8"] = previous or "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PYTHONUTF8", None)


def hostname() -> str:
    """This computer's name, as the lock of an output folder states it (any platform)."""
    return platform.node() or socket.gethostname() or "this computer"


def die_with_parent(parent_pid: int) -> None:
    """Make the calling process (a worker of the build) end when its parent ends, killed or not.

    Linux: ``PR_SET_PDEATHSIG`` (the kernel sends SIGKILL when the parent dies). Elsewhere, and in portable mode: a
    daemon thread that waits on the parent's process sentinel (``multiprocessing.parent_process()``, a pipe on
    POSIX, a process handle on Windows) and ends the process. In both cases the process ends at once if the parent
    is already gone.
    """
    if linux_paths():
        import ctypes
        import signal

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    else:
        _watch_parent()
    if os.getppid() != parent_pid:  # the parent died before the watch took effect (POSIX: adopted by another)
        os._exit(1)


def _watch_parent() -> None:
    import multiprocessing
    import multiprocessing.connection
    import threading

    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def wait() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=wait, name="hcc-study-parent-watch", daemon=True).start()
