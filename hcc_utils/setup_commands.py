"""The README's commands without ``make``, the same on Windows (PowerShell), macOS and Linux.

From the folder of a fresh clone, with Python 3.11 (``py -3.11`` on Windows, ``python3.11`` elsewhere)::

    python -m hcc_utils setup   create .venv with this Python and install requirements.lock and the package in it
    python -m hcc_utils book    set up if needed, then build the book on the bundled cohort -> _build
    python -m hcc_utils test    set up if needed, then run the test suite (further arguments go to pytest)
    python -m hcc_utils lab     set up if needed (and JupyterLab, once), then open the notebooks in JupyterLab

Setting up happens once: ``.venv/.installed`` records the SHA-256 of ``requirements.lock`` and ``pyproject.toml``
it was made from, and an edit of either installs again (as the Makefile's stamp did). The command then runs in
``.venv``'s Python (``.venv/Scripts/python.exe`` on Windows, ``.venv/bin/python`` elsewhere), in UTF-8 mode
(``PYTHONUTF8=1``: Windows would otherwise read and write text in its ANSI code page). Any other command
(``build``, ``validate``, ``scorecard``...) is ``hcc-study``'s, run in ``.venv``'s Python when the running one lacks
the project's packages. This module and ``hcc_utils/__init__.py`` use the standard library only, so that they run
before anything is installed.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
#: The files an installation is made from (their SHA-256 is the stamp's content).
INPUTS = ("requirements.lock", "pyproject.toml")
STAMP_NAME = ".installed"
#: The Python the lock is made for: 3.11, from 3.11.5 (soupsieve's wheel of the lock requires it).
PYTHON = (3, 11)
OLDEST_PATCH = 5
PROJECT_COMMANDS = ("setup", "book", "test", "lab")
#: ``python -m hcc_utils test``'s pytest options (parallel, tests sharing a page record in one worker).
TEST_ARGUMENTS = ("-q", "-n", "auto", "--dist", "loadgroup", "--durations=8")
#: What ``lab`` installs into .venv the first time (pyproject's ``[lab]`` extra).
LAB_REQUIREMENT = "jupyterlab==4.6.6"


class SetupError(RuntimeError):
    """Setting up cannot proceed (wrong Python, a failed installation); the message says what to do."""


def venv_python(venv: Path = VENV) -> Path:
    """The Python of the virtual environment ``venv`` on this operating system."""
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def running_in(venv: Path) -> bool:
    """Whether this interpreter is the one of ``venv``."""
    return Path(sys.prefix).resolve() == Path(venv).resolve()


def version_problem(version: tuple = tuple(sys.version_info[:3]), command: str = "book") -> str | None:
    """Why this Python cannot set the project up (``None`` when it can), and how to call Python 3.11 instead."""
    if tuple(version[:2]) == PYTHON and version[2] >= OLDEST_PATCH:
        return None
    shown = ".".join(str(part) for part in version[:3])
    return (f"hcc-study needs Python 3.11 (3.11.{OLDEST_PATCH} or later); this is Python {shown} ({sys.executable}).\n"
            "Run the command with Python 3.11:\n"
            f"  Windows (PowerShell):  py -3.11 -m hcc_utils {command}\n"
            f"  macOS, Linux:          python3.11 -m hcc_utils {command}\n"
            "Python 3.11 comes from https://www.python.org/downloads/ (Windows, macOS: the installer adds `py` on "
            "Windows), Homebrew (`brew install python@3.11`) or the system's package manager (Linux).")


def inputs_digest(root: Path = ROOT) -> str:
    """SHA-256 over the files an installation is made from."""
    digest = hashlib.sha256()
    for name in INPUTS:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()


def needs_install(venv: Path = VENV, root: Path = ROOT) -> bool:
    """Whether ``venv`` lacks its Python or was installed from other versions of the inputs."""
    stamp = venv / STAMP_NAME
    if not venv_python(venv).exists() or not stamp.is_file():
        return True
    return stamp.read_text(encoding="utf-8").strip() != inputs_digest(root)


def _venv_version(venv: Path) -> tuple | None:
    """The Python version ``venv`` was created with (from its ``pyvenv.cfg``)."""
    try:
        lines = (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() in ("version", "version_info"):
            return tuple(int(part) for part in value.strip().split(".")[:3] if part.isdigit())
    return None


def _run(command: list, **kwargs) -> None:
    if subprocess.call([str(part) for part in command], **kwargs) != 0:
        raise SetupError(f"setting up failed at: {' '.join(str(part) for part in command)}\n"
                         f"fix the cause above, then run `python -m hcc_utils setup` again (or delete {VENV.name} "
                         "to start from nothing)")


def ensure_installed(venv: Path = VENV, root: Path = ROOT, log=print) -> Path:
    """Create ``venv`` with this interpreter if it does not exist, install the lock and the package (editable,
    without dependencies) when the stamp says so; return the environment's Python."""
    python = venv_python(venv)
    if python.exists():
        made_with = _venv_version(venv)
        if made_with is not None and tuple(made_with[:2]) != PYTHON:
            raise SetupError(f"{venv} was made with Python {'.'.join(map(str, made_with))}; delete it and run "
                             "`python -m hcc_utils setup` with Python 3.11")
    if not needs_install(venv, root):
        return python
    if not python.exists():
        problem = version_problem(command="setup")
        if problem:
            raise SetupError(problem)
        log(f"creating {venv} with Python {sys.version.split()[0]} ...")
        _run([sys.executable, "-m", "venv", venv])
    log(f"installing the exact versions of {INPUTS[0]} into {venv} (once; a few minutes) ...")
    _run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    _run([python, "-m", "pip", "install", "--quiet", "-r", root / "requirements.lock"])
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "-e", root])
    (venv / STAMP_NAME).write_text(inputs_digest(root) + "\n", encoding="utf-8")
    return python


def child_environment() -> dict:
    """The environment of the commands run in .venv: UTF-8 mode (see the module)."""
    return {**os.environ, "PYTHONUTF8": os.environ.get("PYTHONUTF8", "1")}


def _call(command: list, cwd: Path = ROOT) -> int:
    """Run ``command`` and return its exit status; Ctrl-C reaches it too (same console or process group), so
    this process only waits for it to end."""
    process = subprocess.Popen([str(part) for part in command], cwd=cwd, env=child_environment())
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue


def _project_command(command: str, extra: list[str]) -> int:
    """``setup``, ``book``, ``test`` or ``lab``, in .venv's Python."""
    if command == "setup":
        print(f"ready: {venv_python()} (run `python -m hcc_utils book` to build the book, `python -m hcc_utils test` "
              "to test)")
        return 0
    if command == "book":
        from hcc_utils.pipeline.cli import main as cli

        return cli(["build", *extra])
    if command == "test":
        return _call([sys.executable, "-m", "pytest", *TEST_ARGUMENTS, *extra])
    import importlib.util

    if importlib.util.find_spec("jupyterlab") is None:
        _run([sys.executable, "-m", "pip", "install", "--quiet", LAB_REQUIREMENT])
    return _call([sys.executable, "-m", "jupyterlab", "notebooks/", *extra])


def main(argv: list[str] | None = None) -> int:
    """``python -m hcc_utils COMMAND ...`` (see the module)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else ""
    try:
        if command in PROJECT_COMMANDS:
            if not running_in(VENV):
                python = ensure_installed()
                return _call([python, "-m", "hcc_utils", *argv])
            ensure_installed()  # inside .venv: the lock may have changed since
            return _project_command(command, argv[1:])
        try:
            from hcc_utils.pipeline.cli import main as cli
        except ModuleNotFoundError as missing:
            if venv_python().exists() and not running_in(VENV):
                return _call([venv_python(), "-m", "hcc_utils", *argv], cwd=Path.cwd())
            raise SetupError(f"{missing}: the project's packages are not installed in this Python; run "
                             "`python -m hcc_utils setup` first, then `python -m hcc_utils ...` again") from None
        return cli(argv)
    except SetupError as problem:
        print(f"hcc-study: {problem}", file=sys.stderr)
        return 2
