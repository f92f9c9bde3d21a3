"""Check that ``pip install -r requirements.lock`` gives the same pinned versions on Windows, macOS and Linux.

``requirements.lock`` is a ``pip freeze`` made on Linux. A few packages are needed on one platform only, as their
dependents' own metadata say (``pexpect`` and ``ptyprocess``: not on Windows; ``colorama``: Windows; ``appnope``:
macOS...): they carry environment markers in the lock, and a package needed elsewhere but absent from a Linux
freeze is pinned there too. For each platform below this script asks pip's resolver (the ordinary client, against
PyPI) to install the project's declared requirements (``pyproject.toml``: dependencies and the test extra) with the
lock as constraints, for that platform's wheels and Python 3.11, evaluating environment markers as that platform
would (pip's marker environment is replaced for the run). It then compares what pip would install with the lock's
lines that apply there:

- a package the platform needs that the lock does not pin for it (pip would take whatever is newest);
- a package the lock pins for the platform that nothing there requires (it needs a marker);
- a version other than the pin (an unsatisfiable pin), or a pin with no wheel for the platform.

A package published as a source archive only (no wheel) is built into a wheel here first: when the wheel is pure
Python it serves every platform; otherwise the platform would need a compiler and the check says so.

Usage: ``python .ci/check_lock.py`` (exit 1 with the problems listed); ``--fix`` rewrites the lock's markers and
adds the missing pins from what pip resolved. Without access to PyPI it stops with a message: with exit 0 outside
CI, exit 1 in CI (``CI`` set). Standard library and pip only.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PYTHON_VERSION = "3.11.9"

#: Each platform: the wheel tags pip may use (``--platform``; none: this machine's, Linux) and its marker values.
TARGETS = {
    "linux-x86_64": ([], {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                          "platform_machine": "x86_64"}),
    "windows-amd64": (["win_amd64"], {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                                      "platform_machine": "AMD64"}),
    "macos-arm64": (["macosx_12_0_arm64"], {"sys_platform": "darwin", "platform_system": "Darwin",
                                            "os_name": "posix", "platform_machine": "arm64"}),
    "macos-x86_64": (["macosx_12_0_x86_64"], {"sys_platform": "darwin", "platform_system": "Darwin",
                                              "os_name": "posix", "platform_machine": "x86_64"}),
}

#: pip, run with the marker environment of another platform (``argv[1]``: JSON of the values to replace).
PIP_AS = """
import json, sys
from pip._vendor.packaging import markers
values = json.loads(sys.argv[1])
real = markers.default_environment
markers.default_environment = lambda: {**real(), **values}
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""

_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;]+)\s*(?:;\s*(.+?))?\s*$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path = LOCK) -> list[dict]:
    """The lock's pins: name, version, marker (or ``None``), in file order."""
    pins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _LINE.match(line)
        if match:
            pins.append({"name": match[1], "version": match[2], "marker": match[3]})
    return pins


def marker_applies(marker: str | None, values: dict) -> bool:
    """Whether ``marker`` holds for a platform's marker ``values`` (pip's own evaluator)."""
    if not marker:
        return True
    from pip._vendor.packaging.markers import Marker, default_environment

    return Marker(marker).evaluate({**default_environment(), "python_version": "3.11",
                                    "python_full_version": PYTHON_VERSION, **values})


def declared_requirements(root: Path = ROOT) -> list[str]:
    """The project's requirements: its dependencies and its test extra (what ``requirements.lock`` freezes)."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [*project["dependencies"], *project.get("optional-dependencies", {}).get("test", [])]


def pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=10).close()
        return True
    except OSError:
        return False


def resolve(target: str, constraints: Path, wheels: Path) -> tuple[dict[str, str], str]:
    """What pip would install for ``target`` ({canonical name: version}) and, on failure, pip's error."""
    platform_tags, values = TARGETS[target]
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        command = [sys.executable, "-c", PIP_AS, json.dumps({**values, "python_version": "3.11",
                                                             "python_full_version": PYTHON_VERSION}),
                   "install", "--dry-run", "--ignore-installed", "--report", str(report),
                   "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp",
                   "--find-links", str(wheels), "-c", str(constraints), *declared_requirements()]
        for tag in platform_tags:
            command += ["--platform", tag]
        completed = subprocess.run(command, capture_output=True, text=True)
        if completed.returncode != 0:
            return {}, completed.stdout + completed.stderr
        installed = json.loads(report.read_text(encoding="utf-8"))["install"]
    return {canonical(item["metadata"]["name"]): item["metadata"]["version"] for item in installed}, ""


def build_missing_wheels(error: str, wheels: Path) -> bool:
    """When pip found no wheel for pins (packages published as source archives only), build them; return whether
    any wheel was built."""
    wanted = set(re.findall(r"No matching distribution found for ([A-Za-z0-9._-]+==[^\s;]+)", error))
    wanted |= set(re.findall(r"The user requested \(constraint\) ([A-Za-z0-9._-]+==[^\s;,]+)", error))
    have = {path.name.split("-")[0].lower() for path in wheels.glob("*.whl")}
    wanted = {pin for pin in wanted if canonical(pin.split("==")[0]).replace("-", "_") not in have}
    built = [subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-binary", ":all:",
                             "-w", str(wheels), pin], capture_output=True, text=True).returncode == 0
             for pin in sorted(wanted)]
    return any(built)


def compare(pins: list[dict], resolved: dict[str, dict[str, str]]) -> list[str]:
    """Problems between the lock's pins and what each platform resolved (see the module)."""
    problems = []
    for target, installed in resolved.items():
        values = TARGETS[target][1]
        applying = {canonical(p["name"]): p["version"] for p in pins if marker_applies(p["marker"], values)}
        for name, version in sorted(installed.items()):
            if name not in applying:
                problems.append(f"{target}: {name}=={version} is needed there but the lock does not pin it for it")
            elif applying[name] != version:
                problems.append(f"{target}: {name} resolves to {version}, the lock pins {applying[name]}")
        for name in sorted(set(applying) - set(installed)):
            problems.append(f"{target}: the lock pins {name}=={applying[name]} there but nothing there requires it")
    return problems


def marker_for(targets: set[str]) -> str | None:
    """A marker that holds exactly on ``targets`` (``None``: on all of them)."""
    if targets == set(TARGETS):
        return None
    systems = {TARGETS[t][1]["sys_platform"] for t in targets}
    every_system = {TARGETS[t][1]["sys_platform"] for t in TARGETS}
    whole = {s for s in systems if {t for t in TARGETS if TARGETS[t][1]["sys_platform"] == s} <= targets}
    if whole == systems:  # by operating system alone
        if len(systems) == 1:
            return f'sys_platform == "{next(iter(systems))}"'
        if len(every_system - systems) == 1:
            return f'sys_platform != "{next(iter(every_system - systems))}"'
    return " or ".join(f'(sys_platform == "{TARGETS[t][1]["sys_platform"]}" and platform_machine == '
                       f'"{TARGETS[t][1]["platform_machine"]}")' for t in sorted(targets))


def fixed_lock(pins: list[dict], resolved: dict[str, dict[str, str]], header: str) -> str:
    """The lock with each pin's marker derived from the platforms that need it, and the missing pins added."""
    needed: dict[str, tuple[str, set[str]]] = {}
    names = {canonical(p["name"]): p["name"] for p in pins}
    for target, installed in resolved.items():
        for name, version in installed.items():
            needed.setdefault(name, (version, set()))[1].add(target)
    lines = [header.rstrip("\n")]
    for name in sorted(needed, key=str.lower):
        version, targets = needed[name]
        marker = marker_for(targets)
        lines.append(f"{names.get(name, name)}=={version}" + (f" ; {marker}" if marker else ""))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fix", action="store_true", help="rewrite the lock's markers and add missing pins")
    args = parser.parse_args(argv)
    if not pypi_reachable():
        print("check_lock: PyPI (pypi.org:443) is unreachable; the lock was not checked for Windows and macOS",
              file=sys.stderr)
        return 1 if os.environ.get("CI") else 0
    pins = read_lock()
    resolved: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="hcc-lock-wheels-") as wheels:
        for target in TARGETS:
            for _ in range(5):  # each round may build one missing wheel
                installed, error = resolve(target, LOCK, Path(wheels))
                if installed or not build_missing_wheels(error, Path(wheels)):
                    break
            if not installed:
                last = [line for line in error.strip().splitlines()
                        if line.startswith("ERROR") or "conflict" in line or "requested" in line][-8:]
                print(f"{target}: pip cannot install the lock there:\n  " + "\n  ".join(last), file=sys.stderr)
                return 1
            resolved[target] = installed
            print(f"{target}: {len(installed)} packages resolved", flush=True)
    if args.fix:
        header = "".join(line + "\n" for line in LOCK.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
        LOCK.write_text(fixed_lock(pins, resolved, header), encoding="utf-8")
        pins = read_lock()
    problems = compare(pins, resolved)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"check_lock: {len(problems)} problems (python .ci/check_lock.py --fix rewrites the markers)",
              file=sys.stderr)
        return 1
    print(f"check_lock: requirements.lock gives the same pins on {', '.join(TARGETS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
