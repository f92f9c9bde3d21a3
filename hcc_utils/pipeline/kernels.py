"""The Jupyter kernels that execute a run's notebooks: how they connect, how long they are waited for, and whether
they are forked from the run's kernel server.

**Transport.** On Linux and macOS a kernel listens on Unix sockets (ZeroMQ ``ipc``) in a folder made by ``mkdtemp``
for it alone: kernels started at once (``--jobs``) have no shared namespace to collide in. Windows has no ZeroMQ
``ipc``, and portable mode (``HCC_STUDY_PORTABLE=1``) takes Windows' path: TCP on 127.0.0.1. There, jupyter_client
picks free ports by binding to port 0 and releasing them before the kernel binds; its cache of ports handed out is
per process, so two workers of a run could hand the same port to two kernels, one of which then dies. Here each
port is also reserved across processes (:func:`reserve_ports`): a file per port, created with ``O_EXCL`` in the
run's reservation folder (:class:`PortReservations`), so that no other kernel of the run can be given it; the
reservation is deleted when the kernel's resources are cleaned up. A kernel that still fails to start (a port taken
meanwhile by another program) is started again by :func:`hcc_utils.pipeline.execute.execute_notebook`.

**Patience.** A busy computer makes a build slower, never failing it (:func:`papermill_settings`): nbclient gives
up after 4 s without the kernel's output that follows a cell's reply (``iopub_timeout``, and papermill raises
there) and after 60 s of start-up; both are lifted here. A kernel that dies is still noticed within a second
(nbclient checks that it is alive while it waits).

**Forked kernels** (Linux): the launch command is handed to the run's kernel fork server when there is one
(:func:`forked_kernel_command`, :mod:`hcc_utils.pipeline.kernel_server`).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile

from hcc_utils.config import platforms

#: Seconds a kernel may take to start and answer (nbclient's ``startup_timeout``; papermill's default is 60). A
#: kernel that dies while starting is noticed at once and started again; this only bounds one that hangs alive.
KERNEL_START_TIMEOUT = 600
#: Seconds to wait, after a cell's execute reply, for the rest of its output and the kernel's ``idle`` status
#: (nbclient's ``iopub_timeout``, 4 s by default, an error under papermill). A day: in effect no limit, since a dead
#: kernel is noticed by nbclient's liveness check within a second.
IOPUB_TIMEOUT = 24 * 3600
#: The environment variable naming the folder of the run's port reservations (TCP kernels).
PORTS_ENV = "HCC_STUDY_KERNEL_PORTS"
#: Ports a kernel listens on: shell, iopub, stdin, heartbeat, control.
KERNEL_PORTS = 5


def papermill_settings() -> dict:
    """Keyword arguments for ``papermill.execute_notebook`` that make a slow machine slower, not failing (see the
    module)."""
    return {"start_timeout": KERNEL_START_TIMEOUT, "iopub_timeout": IOPUB_TIMEOUT}


class PortReservations:
    """A folder for the TCP port reservations of a run's kernels, named in ``HCC_STUDY_KERNEL_PORTS`` for this
    process and the workers it starts, for the duration of a ``with`` block (removed at its end)."""

    def __init__(self):
        self.folder: str | None = None
        self._previous: str | None = None

    def __enter__(self) -> "PortReservations":
        self.folder = tempfile.mkdtemp(prefix="hcc-ports-")
        self._previous = os.environ.get(PORTS_ENV)
        os.environ[PORTS_ENV] = self.folder
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is None:
            os.environ.pop(PORTS_ENV, None)
        else:
            os.environ[PORTS_ENV] = self._previous
        shutil.rmtree(self.folder, ignore_errors=True)


_PROCESS_FOLDER: str | None = None


def _reservation_folder() -> str:
    """The run's reservation folder, or one for this process when no run made one (a notebook executed alone)."""
    global _PROCESS_FOLDER
    folder = os.environ.get(PORTS_ENV)
    if folder and os.path.isdir(folder):
        return folder
    if _PROCESS_FOLDER is None or not os.path.isdir(_PROCESS_FOLDER):
        import atexit

        _PROCESS_FOLDER = tempfile.mkdtemp(prefix="hcc-ports-")
        atexit.register(shutil.rmtree, _PROCESS_FOLDER, True)
    return _PROCESS_FOLDER


def reserve_ports(count: int, ip: str = "127.0.0.1", folder: str | None = None) -> list[int]:
    """``count`` free TCP ports on ``ip`` that no other kernel of the run holds a reservation for.

    Each candidate comes from the system (bind to port 0; the sockets stay bound until all are chosen, so the
    system does not hand out one twice) and is kept only if its reservation file could be created: ``O_EXCL``
    creation is atomic across processes on every platform, so two workers can never reserve the same port.
    """
    folder = folder or _reservation_folder()
    ports: list[int] = []
    held: list[socket.socket] = []
    try:
        while len(ports) < count:
            if len(held) >= count + 1000:
                release_ports(ports, folder)
                raise RuntimeError(f"no free TCP port for a kernel on {ip} after {len(held)} tries")
            candidate = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            candidate.bind((ip, 0))
            held.append(candidate)
            port = candidate.getsockname()[1]
            try:
                os.close(os.open(os.path.join(folder, str(port)), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                continue  # reserved by another kernel of the run that has not bound it yet
            ports.append(port)
    finally:
        for candidate in held:
            candidate.close()
    return ports


def release_ports(ports, folder: str | None = None) -> None:
    """Delete the reservations of ``ports`` (the kernel holding them has been shut down)."""
    folder = folder or _reservation_folder()
    for port in ports:
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(folder, str(port)))


_KERNEL_MANAGER = None


def kernel_manager_class():
    """The kernel manager class of a run: Unix sockets in a private folder where the platform allows it, TCP on
    reserved ports elsewhere (see the module); kernels are handed to the fork server when there is one."""
    global _KERNEL_MANAGER
    if _KERNEL_MANAGER is None:
        from jupyter_client.manager import AsyncKernelManager

        class RunKernelManager(AsyncKernelManager):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self._socket_dir: str | None = None
                self._reserved: list[int] = []
                if platforms.unix_socket_kernels():
                    self.transport = "ipc"
                    # short: a Unix socket path is limited to about 100 characters
                    self._socket_dir = tempfile.mkdtemp(prefix="hcck-", dir="/tmp" if os.path.isdir("/tmp") else None)
                    self.ip = os.path.join(self._socket_dir, "k")
                else:
                    self.transport = "tcp"
                    self.ip = "127.0.0.1"
                    self.cache_ports = False  # jupyter_client's per-process cache: the reservation replaces it

            async def _async_pre_start_kernel(self, **kwargs):
                if self.transport == "tcp" and not self._reserved:
                    self._reserved = reserve_ports(KERNEL_PORTS, self.ip)
                    (self.shell_port, self.iopub_port, self.stdin_port, self.hb_port,
                     self.control_port) = self._reserved
                return await super()._async_pre_start_kernel(**kwargs)

            def format_kernel_cmd(self, extra_arguments=None):
                return forked_kernel_command(super().format_kernel_cmd(extra_arguments))

            async def _async_cleanup_resources(self, restart: bool = False) -> None:
                await super()._async_cleanup_resources(restart=restart)
                if not restart:
                    if self._socket_dir is not None:
                        shutil.rmtree(self._socket_dir, ignore_errors=True)
                    release_ports(self._reserved)
                    self._reserved = []

        _KERNEL_MANAGER = RunKernelManager
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
