"""Notebook kernels forked from one process that has already imported the study's libraries.

Every notebook of a run starts a fresh IPython kernel, and each kernel spends about two seconds of CPU importing
the same libraries (pandas, matplotlib, scipy, statsmodels, the package) before its first line of work: on two
cores, that is a third of a cold build. During a run, :class:`KernelForkServer` keeps one process that imports
them once, then forks a kernel for each notebook. A forked kernel is a new process with its own memory: it starts
from the same interpreter state as a kernel that had just imported those modules, and then behaves like any
other kernel (its own namespace, working folder, environment, standard streams and signals).

Linux only (:func:`hcc_utils.config.platforms.fork_server_allowed`): macOS does not fork a process that has
imported numpy, scipy or pyarrow (it may crash), Windows cannot fork, and portable mode (``HCC_STUDY_PORTABLE=1``)
takes their path; there, kernels start the usual way and this module's server and launcher are never reached.

The kernel manager (:func:`hcc_utils.pipeline.kernels.kernel_manager_class`) launches, instead of
``python -m ipykernel_launcher -f CONNECTION_FILE``, the small stand-in ``kernel_launcher.py``: it connects to
the server, hands it its environment, working folder and standard streams, passes on the signals the manager
sends (interrupt, terminate) and exits when the kernel exits. A kernel whose stand-in is killed kills itself. Set
``HCC_STUDY_FORK_KERNELS=0`` to start every kernel the usual way.

Only libraries are imported in advance: the package and the dependencies it declares, as the notebooks import
them (their ``import`` lines), never the author's own modules, which may depend on the working folder.
"""
from __future__ import annotations

import ast
import contextlib
import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from hcc_utils.config import platforms

#: The environment variable through which workers find the server's socket.
SERVER_ENV = "HCC_STUDY_KERNEL_SERVER"
#: ``0`` turns the server off (kernels start the usual way).
SWITCH_ENV = "HCC_STUDY_FORK_KERNELS"
LAUNCHER = Path(__file__).with_name("kernel_launcher.py")
#: Packages whose modules may be imported in advance: this package and libraries it depends on. Importing them
#: has no effect a kernel could notice besides the time saved.
PRELOADABLE = ("hcc_utils", "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "seaborn", "lifelines",
               "sklearn", "myst_nb", "IPython", "pyarrow", "yaml", "docx", "openpyxl")
#: What every kernel imports as it starts.
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell")
_INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def notebook_imports(paths) -> list[str]:
    """The modules the code cells of the notebooks ``paths`` import, of the packages in :data:`PRELOADABLE`, in
    the order first met (lines of magics and shell escapes ignored; cells that are not Python skipped)."""
    from hcc_utils.pipeline.cache import cell_source  # here: the server itself starts with the standard library

    found: dict[str, None] = {}
    for path in paths:
        with contextlib.suppress(OSError, ValueError):
            cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
            for cell in cells:
                if cell.get("cell_type") != "code":
                    continue
                lines = cell_source(cell).splitlines()
                try:  # magics and shell escapes are not Python
                    tree = ast.parse("\n".join(line for line in lines if not line.lstrip().startswith(("%", "!"))))
                except SyntaxError:
                    continue
                for node in ast.walk(tree):
                    names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                             [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                             else [])
                    for name in names:
                        if name.split(".")[0] in PRELOADABLE:
                            found.setdefault(name)
    return list(found)


def enabled() -> bool:
    """Whether kernels are forked (Linux, not in portable mode, not with ``HCC_STUDY_FORK_KERNELS=0``)."""
    return platforms.fork_server_allowed() and os.environ.get(SWITCH_ENV, "1") != "0"


class KernelForkServer:
    """A server process for the duration of a ``with`` block; its socket is published in ``HCC_STUDY_KERNEL_SERVER``
    for the kernel managers of this process and of the workers it starts in the block.

    Parameters
    ----------
    modules : the modules to import in advance (see :func:`notebook_imports`).
    """

    def __init__(self, modules: list[str]):
        self.modules = modules
        self.process: subprocess.Popen | None = None
        self._folder: str | None = None
        self._previous: str | None = None

    def __enter__(self) -> "KernelForkServer":
        if not enabled():
            return self
        self._folder = tempfile.mkdtemp(prefix="hccs-", dir="/tmp" if os.path.isdir("/tmp") else None)
        path = os.path.join(self._folder, "s")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hcc_utils.pipeline.kernel_server", path, str(os.getpid()), *self.modules],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, "MPLBACKEND": os.environ.get("MPLBACKEND") or _INLINE_BACKEND})
        self._previous = os.environ.get(SERVER_ENV)
        os.environ[SERVER_ENV] = path
        return self

    def __exit__(self, *exc) -> None:
        if self._folder is None:  # not started (kernels start the usual way): nothing to undo
            return
        if self._previous is None:
            os.environ.pop(SERVER_ENV, None)
        else:
            os.environ[SERVER_ENV] = self._previous
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()  # the server's signal to stop
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        import shutil

        shutil.rmtree(self._folder, ignore_errors=True)


# ------------------------------------------------------------------------------------------------ the server
def _receive_request(connection: socket.socket) -> tuple[dict, list[int]]:
    data, fds = b"", []
    while not data.endswith(b"\n"):
        chunk, new_fds, _flags, _address = socket.recv_fds(connection, 1 << 20, 3)
        if not chunk:
            raise EOFError("the launcher closed its connection")
        data += chunk
        fds += new_fds
    return json.loads(data), fds


def _become_kernel(connection: socket.socket, request: dict, fds: list[int], startup_path: str | None) -> None:
    """In the forked child: take the launcher's streams, folder and environment, then run the kernel."""
    import threading

    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in any Python process
    for target, fd in zip((0, 1, 2), fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    if startup_path is not None and sys.path and sys.path[0] == startup_path:
        del sys.path[0]  # as ipykernel_launcher does; IPython puts the working folder back
    sys.argv = [request["argv0"], *request["args"]]
    connection.sendall(f"{os.getpid()}\n".encode())

    def watch_launcher() -> None:  # the launcher killed (the manager's last resort): the kernel goes too
        with contextlib.suppress(OSError):
            connection.recv(1)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch_launcher, daemon=True).start()
    code = 0
    try:
        from ipykernel import kernelapp

        # read from the environment when ipykernel was imported, so the server's: the launching worker's here
        parent = int(os.environ.get("JPY_PARENT_PID") or 0)
        kernelapp.launch_new_instance(argv=[*request["args"], f"--IPKernelApp.parent_handle={parent}"])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported on the kernel's stderr, as a kernel would
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        import atexit

        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        with contextlib.suppress(OSError):
            connection.sendall(f"exit {code}\n".encode())
        os._exit(code)


def serve(path: str, parent_pid: int, modules: list[str]) -> None:
    """Listen on ``path``, import ``modules``, then fork a kernel for each launcher that connects, until standard
    input closes (the build is done) or the build dies."""
    platforms.die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build decides when the server stops
    startup_path = sys.path[0] if sys.path and sys.path[0] in ("", os.getcwd()) else None
    if startup_path is not None:
        del sys.path[0]
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)  # launchers wait in the backlog while the modules are imported
    for name in (*KERNEL_MODULES, *modules):
        with contextlib.suppress(Exception):  # a notebook that needs a missing module reports it itself
            importlib.import_module(name)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked kernels are reaped by the system
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1):
            break
        if listener not in ready:
            continue
        connection, _ = listener.accept()
        try:
            request, fds = _receive_request(connection)
        except (OSError, EOFError, ValueError):
            connection.close()
            continue
        if os.fork() == 0:
            listener.close()
            _become_kernel(connection, request, fds, startup_path)
        for fd in fds:
            os.close(fd)
        connection.close()
    listener.close()
    os._exit(0)  # nothing to clean up: skip the interpreter's teardown of every imported module (a second or more)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
