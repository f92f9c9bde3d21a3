"""Stand-in for ``python -m ipykernel_launcher``: asks the kernel fork server (``kernel_server.py``) for a kernel.

Run as ``python -I -S kernel_launcher.py SOCKET ARGV0 ARG...`` by the kernel manager, which takes it for the
kernel: it hands the server its working folder, environment and standard streams, passes the signals it receives
on to the kernel, and exits with the kernel's exit status when the kernel exits. If it is killed, the kernel
notices and kills itself; on Linux it dies with the
process that started it. Without a server to answer, it becomes the kernel the usual way. Standard library only, so that it starts in a few milliseconds.
"""
import json
import os
import signal
import socket
import sys
import time


def die_with_parent() -> None:
    """Linux: the launcher dies with the process that started it (a worker killed with the build), and its
    kernel with it."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        sys.exit(1)


def connect(path: str, wait: float = 10.0) -> socket.socket:
    """Connect to the server's socket, waiting while it does not exist yet (the server is still starting)."""
    deadline = time.monotonic() + wait
    while True:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(path)
            return connection
        except FileNotFoundError:
            connection.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def main(path: str, argv0: str, args: list) -> int:
    die_with_parent()
    received = b""
    try:
        connection = connect(path)
        request = {"cwd": os.getcwd(), "env": dict(os.environ), "argv0": argv0, "args": args}
        socket.send_fds(connection, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
        while b"\n" not in received:
            chunk = connection.recv(64)
            if not chunk:
                raise ConnectionError("the server closed the connection without starting a kernel")
            received += chunk
    except OSError:  # no server (it stopped or failed to start): this process becomes the kernel, the usual way
        os.execv(argv0, [argv0, "-m", "ipykernel_launcher", *args])
    line, received = received.split(b"\n", 1)
    kernel = int(line)

    def forward(signum, frame):
        try:
            os.kill(kernel, signum)
        except OSError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(signum, forward)
    while True:
        chunk = connection.recv(64)
        if not chunk:
            break
        received += chunk
    for line in received.decode(errors="replace").splitlines():
        if line.startswith("exit "):
            return int(line.split()[1])
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
