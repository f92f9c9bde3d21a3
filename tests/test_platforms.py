"""The package runs on Windows, macOS and Linux: every call that exists or behaves as wanted on some platforms only
is made where the platform guard (hcc_utils/config/platforms.py) decides, and text files are read and written as
UTF-8 whatever the computer's language.

The checks read the package's source (an AST scan, function-level code included) against an explicit list of the
places allowed to make such calls, each reached only when a function of the guard says so. Each check is shown
failing on a copy of the package with an injected call. The behaviour of the guard itself (portable mode) is
checked at the end.
"""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from hcc_utils.config import REPO_ROOT, platforms

PACKAGE = REPO_ROOT / "hcc_utils"

#: Attributes of a module that exist, or do what the package needs, on some platforms only.
MODULE_ATTRIBUTES = {
    "os": {"fork", "forkpty", "uname", "symlink", "setsid", "killpg", "getpgid", "setpgrp", "kill", "getuid",
           "geteuid"},
    "socket": {"AF_UNIX", "send_fds", "recv_fds"},
    "signal": {"SIGKILL", "SIGCHLD", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "alarm", "pthread_kill"},
}
#: Methods and attributes by name, on any object (``ctypes.CDLL(None).prctl``, ``Path.symlink_to``, ``sock.send_fds``).
ANY_ATTRIBUTES = {"prctl", "symlink_to", "send_fds", "recv_fds", "AF_UNIX"}
#: Modules that exist on some platforms only.
MODULES = {"fcntl", "resource", "termios", "pty", "pwd", "grp"}
#: ``subprocess`` arguments that are POSIX-only (``preexec_fn`` raises on Windows; a new session is POSIX's).
KEYWORDS = {"preexec_fn", "start_new_session"}

#: Where such calls may be made: (file, function) -> why the place is reached only where they work. A function
#: allows what its nested functions and classes do. ``None`` stands for the whole module.
ALLOWED = {
    ("hcc_utils/config/platforms.py", None): "the guard itself",
    ("hcc_utils/pipeline/kernel_launcher.py", None):
        "run only as the fork server's kernel stand-in (kernels.forked_kernel_command: kernel_server.enabled())",
    ("hcc_utils/pipeline/kernel_server.py", "KernelForkServer.__enter__"): "returns first unless enabled()",
    ("hcc_utils/pipeline/kernel_server.py", "serve"): "the server process, started only by KernelForkServer",
    ("hcc_utils/pipeline/kernel_server.py", "_receive_request"): "called by serve",
    ("hcc_utils/pipeline/kernel_server.py", "_become_kernel"): "called by serve, in the forked kernel",
    ("hcc_utils/pipeline/kernels.py", "kernel_manager_class"): "ipc only if platforms.unix_socket_kernels()",
    ("hcc_utils/pipeline/publish.py", "_link"): "links layout only (publish.uses_links: platforms)",
}


def _string_is_ipc(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and \
        (node.value == "ipc" or node.value.startswith("ipc://"))


def _findings(tree: ast.AST) -> list[tuple[int, str, str]]:
    """(line, enclosing function's qualified name or '', what) for every platform-specific use in ``tree``."""
    found = []

    def visit(node: ast.AST, scope: list[str]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = [*scope, node.name]
        where = ".".join(scope)
        if isinstance(node, ast.Import):
            found.extend((node.lineno, where, f"import {a.name}") for a in node.names if a.name.split(".")[0] in MODULES)
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] in MODULES:
            found.append((node.lineno, where, f"from {node.module} import"))
        elif isinstance(node, ast.ImportFrom) and node.module in MODULE_ATTRIBUTES:
            found.extend((node.lineno, where, f"{node.module}.{a.name}") for a in node.names
                         if a.name in MODULE_ATTRIBUTES[node.module])
        elif isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if node.attr in MODULE_ATTRIBUTES.get(owner, ()) or node.attr in ANY_ATTRIBUTES:
                found.append((node.lineno, where, f"{owner + '.' if owner else '.'}{node.attr}"))
        elif isinstance(node, ast.Call):
            found.extend((node.lineno, where, f"{k.arg}=") for k in node.keywords if k.arg in KEYWORDS)
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("get_context", "set_start_method") and any(
                    isinstance(a, ast.Constant) and a.value == "fork" for a in node.args):
                found.append((node.lineno, where, f'{name}("fork")'))
        elif isinstance(node, ast.Assign) and _string_is_ipc(node.value):
            found.append((node.lineno, where, "ipc transport"))
        elif isinstance(node, ast.keyword) and _string_is_ipc(node.value):
            found.append((node.lineno, where, "ipc transport"))
        for child in ast.iter_child_nodes(node):
            visit(child, scope)

    visit(tree, [])
    return found


def platform_violations(package: Path = PACKAGE) -> list[str]:
    """Every platform-specific use outside the allowed places, as 'file:line in function: what'."""
    problems = []
    for path in sorted(package.rglob("*.py")):
        relative = f"hcc_utils/{path.relative_to(package).as_posix()}"
        for line, where, what in _findings(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            allowed = (relative, None) in ALLOWED or any(
                file == relative and function is not None and (where == function or where.startswith(function + "."))
                for file, function in ALLOWED)
            if not allowed:
                problems.append(f"{relative}:{line} in {where or 'the module'}: {what}")
    return problems


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "hcc_utils"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_linux_only_calls_are_made_only_where_the_platform_guard_decides():
    assert platform_violations() == []


def test_every_allowed_place_still_exists():
    """An allowance for a function that was renamed or removed would silently allow its successor nothing (or a
    new function of the same name everything): each must name a function of the file."""
    for (file, function), _why in ALLOWED.items():
        tree = ast.parse((REPO_ROOT / file).read_text(encoding="utf-8"))
        if function is None:
            continue
        names = set()

        def collect(node, scope):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                scope = [*scope, node.name]
                names.add(".".join(scope))
            for child in ast.iter_child_nodes(node):
                collect(child, scope)

        collect(tree, [])
        assert function in names, f"{file} has no {function}"


@pytest.mark.parametrize("where, code, named", [
    ("pipeline/runner.py", "import fcntl\n", "import fcntl"),
    ("report/figures/style.py", "def f(a, b):\n    import os\n    os.symlink(a, b)\n", "in f: os.symlink"),
    ("pipeline/publish.py", "def g(path):\n    path.symlink_to('x')\n", "in g: path.symlink_to"),
    ("study/cohort.py", "import os\nHOST = os.uname().nodename\n", "os.uname"),
    ("pipeline/execute.py", "import multiprocessing\nC = multiprocessing.get_context('fork')\n", 'get_context("fork")'),
    ("pipeline/kernels.py", "class K:\n    def __init__(self):\n        self.transport = 'ipc'\n", "in K.__init__: ipc"),
    ("pipeline/workers.py", "import ctypes, signal\ndef h():\n    ctypes.CDLL(None).prctl(1, signal.SIGKILL)\n", ".prctl"),
    ("data/readers.py", "import socket\nS = socket.socket(socket.AF_UNIX)\n", "socket.AF_UNIX"),
    ("pipeline/book.py", "import subprocess\ndef b():\n    subprocess.Popen(['x'], start_new_session=True)\n",
     "in b: start_new_session="),
])
def test_an_unguarded_linux_only_call_is_caught(tmp_path, where, code, named):
    """Add one platform-specific call to a copy of the package, outside the allowed places: the check names the
    file, the line and the call."""
    copy = _copy(tmp_path)
    target = copy / where
    target.write_text(target.read_text(encoding="utf-8") + "\n\n" + code, encoding="utf-8")
    found = platform_violations(copy)
    assert len(found) >= 1 and all(f"hcc_utils/{where}:" in problem for problem in found), found
    assert any(named in problem for problem in found), found


# ---------------------------------------------------------------------------------------------- text encoding

def _mode(call: ast.Call, position: int) -> str | None:
    if len(call.args) > position and isinstance(call.args[position], ast.Constant):
        return call.args[position].value
    mode = next((k.value for k in call.keywords if k.arg == "mode"), None)
    return mode.value if isinstance(mode, ast.Constant) else None


def text_without_encoding(package: Path = PACKAGE) -> list[str]:
    """Text files opened, read or written without ``encoding=`` (Windows would use its ANSI code page): builtin
    ``open`` and ``Path.open`` in a text mode, ``read_text``, ``write_text``, and ``subprocess`` with ``text=True``."""
    problems = []
    for path in sorted(package.rglob("*.py")):
        relative = f"hcc_utils/{path.relative_to(package).as_posix()}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or any(k.arg == "encoding" for k in node.keywords):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            text = False
            if isinstance(func, ast.Name) and name == "open":
                text = "b" not in (_mode(node, 1) or "r")
            elif isinstance(func, ast.Attribute) and name == "open" and _mode(node, 0) is not None:
                text = "b" not in _mode(node, 0)  # Path.open("w") (os.open's first argument is a path)
            elif name in ("read_text", "write_text"):
                text = True
            elif any(k.arg in ("text", "universal_newlines") and isinstance(k.value, ast.Constant) and k.value.value
                     for k in node.keywords):
                text = True
            if text:
                problems.append(f"{relative}:{node.lineno}: {name}() without encoding")
    return problems


def test_text_files_are_read_and_written_as_utf8():
    assert text_without_encoding() == []


def test_text_without_an_encoding_is_caught(tmp_path):
    copy = _copy(tmp_path)
    target = copy / "report" / "recorder.py"
    target.write_text(target.read_text(encoding="utf-8") + "\n\ndef leak(path):\n    return path.read_text()\n",
                      encoding="utf-8")
    found = text_without_encoding(copy)
    assert len(found) == 1 and found[0].startswith("hcc_utils/report/recorder.py:") and "read_text" in found[0]


# ---------------------------------------------------------------------------------------------- portable mode

@pytest.mark.portable
def test_portable_mode_takes_every_path_that_is_not_linux(monkeypatch):
    monkeypatch.setenv(platforms.PORTABLE_ENV, "1")
    assert platforms.portable()
    assert not platforms.fork_server_allowed() and not platforms.fork_workers_allowed()
    assert platforms.worker_start_method() == "spawn"
    assert not platforms.unix_socket_kernels() and not platforms.symlinks_for_publishing()
    from hcc_utils.pipeline import kernel_server
    from hcc_utils.study import parallel

    assert not kernel_server.enabled() and not parallel.can_fork()
    monkeypatch.setenv(platforms.PORTABLE_ENV, "0")
    assert not platforms.portable()


def test_linux_takes_its_own_paths_outside_portable_mode(monkeypatch):
    monkeypatch.delenv(platforms.PORTABLE_ENV, raising=False)
    if not __import__("sys").platform.startswith("linux"):
        pytest.skip("Linux only")
    assert platforms.fork_server_allowed() and platforms.worker_start_method() == "fork"
    assert platforms.unix_socket_kernels() and platforms.symlinks_for_publishing()
