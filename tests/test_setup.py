"""Set-up without make (hcc_utils/setup_commands.py): ``python -m hcc_utils setup|book|test|lab`` from a fresh clone,
the same on Windows, macOS and Linux, with the standard library alone until .venv exists."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hcc_utils import setup_commands as commands
from hcc_utils.config import REPO_ROOT

pytestmark = pytest.mark.portable


def _bare_environment() -> dict:
    """The environment of a fresh clone's first command: no PYTHONPATH (the clone's folder is the working one)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("PYTHON")}


def test_the_entry_points_import_nothing_but_the_standard_library():
    """``python -m hcc_utils`` must start in a Python where nothing is installed yet: here one without site-packages
    (``-S``), told to list every module it loaded that is neither the standard library's nor the package's."""
    probe = ("import sys, runpy\n"
             "before = set(sys.modules)\n"
             "import hcc_utils, hcc_utils.setup_commands, hcc_utils.__main__\n"
             "extra = {m.split('.')[0] for m in set(sys.modules) - before} - set(sys.stdlib_module_names)\n"
             "print(sorted(extra - {'hcc_utils'}))\n")
    completed = subprocess.run([sys.executable, "-S", "-c", probe], cwd=REPO_ROOT, capture_output=True,
                               text=True, encoding="utf-8", env=_bare_environment())
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


def test_a_command_of_hcc_study_runs_in_venv_from_a_python_without_the_packages(tmp_path):
    """From a bare Python (no site-packages), ``python -m hcc_utils validate FILE`` runs in .venv's Python."""
    if not commands.running_in(commands.VENV):
        pytest.skip("needs the project's .venv (these tests run in it)")
    bad = tmp_path / "bad.csv"
    bad.write_text("patient_id,centre\nP1,x\n", encoding="utf-8")
    completed = subprocess.run([sys.executable, "-S", "-m", "hcc_utils", "validate", str(bad)], cwd=REPO_ROOT,
                               capture_output=True, text=True, encoding="utf-8", env=_bare_environment())
    assert completed.returncode == 2 and "bad.csv" in completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize("version, fine", [((3, 11, 7), True), ((3, 11, 5), True), ((3, 11, 4), False),
                                           ((3, 12, 1), False), ((3, 10, 13), False)])
def test_a_python_other_than_3_11_is_told_how_to_call_3_11_on_each_system(version, fine):
    problem = commands.version_problem(version, command="book")
    if fine:
        assert problem is None
    else:
        assert f"this is Python {'.'.join(map(str, version))}" in problem
        assert "py -3.11 -m hcc_utils book" in problem and "python3.11 -m hcc_utils book" in problem


def test_the_environments_python_is_where_each_system_puts_it(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "name", "nt")
    assert commands.venv_python(tmp_path / ".venv") == tmp_path / ".venv" / "Scripts" / "python.exe"
    monkeypatch.setattr(os, "name", "posix")
    assert commands.venv_python(tmp_path / ".venv") == tmp_path / ".venv" / "bin" / "python"


def _project(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "clone"
    root.mkdir()
    for name in commands.INPUTS:
        (root / name).write_text(f"{name} v1\n", encoding="utf-8")
    return root, root / ".venv"


def test_setting_up_installs_once_and_again_when_the_lock_changes(tmp_path, monkeypatch):
    root, venv = _project(tmp_path)
    calls = []

    def run(command, **kwargs):
        calls.append([str(part) for part in command])
        if command[1:3] == ["-m", "venv"]:  # what `python -m venv` makes
            commands.venv_python(Path(command[3])).parent.mkdir(parents=True)
            commands.venv_python(Path(command[3])).write_text("", encoding="utf-8")
            (Path(command[3]) / "pyvenv.cfg").write_text("version = 3.11.7\n", encoding="utf-8")

    monkeypatch.setattr(commands, "_run", run)
    monkeypatch.setattr(commands, "version_problem", lambda *args, **kwargs: None)
    python = commands.ensure_installed(venv, root, log=lambda line: None)
    assert python == commands.venv_python(venv)
    assert calls == [
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(root / "requirements.lock")],
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(root)]]
    assert not commands.needs_install(venv, root)
    calls.clear()
    commands.ensure_installed(venv, root, log=lambda line: None)
    assert calls == []                                    # once
    (root / "requirements.lock").write_text("requirements.lock v2\n", encoding="utf-8")
    assert commands.needs_install(venv, root)
    commands.ensure_installed(venv, root, log=lambda line: None)
    assert [c[-2:] for c in calls] == [["--upgrade", "pip"], ["-r", str(root / "requirements.lock")],
                                          ["-e", str(root)]]  # installed again, in the same environment


def test_an_environment_made_with_another_python_is_refused_with_what_to_do(tmp_path):
    root, venv = _project(tmp_path)
    commands.venv_python(venv).parent.mkdir(parents=True)
    commands.venv_python(venv).write_text("", encoding="utf-8")
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.12.1\n", encoding="utf-8")
    with pytest.raises(commands.SetupError, match=r"made with Python 3\.12\.1; delete it"):
        commands.ensure_installed(venv, root, log=lambda line: None)


def test_readme_and_ci_use_the_same_commands():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("py -3.11 -m hcc_utils book", "py -3.11 -m hcc_utils test", "python3.11 -m hcc_utils book",
                    "python3.11 -m hcc_utils test"):
        assert command in readme, command
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3.11 -m hcc_utils test" in ci and "HCC_STUDY_PORTABLE=1" in ci
    assert "command -v make" not in ci and "make test" not in ci  # CI needs no make
