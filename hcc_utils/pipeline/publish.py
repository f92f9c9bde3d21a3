"""Publishing a run so that a reader sees either the previous run or the new one, never a mix.

Layout of an output folder ``OUT``::

    OUT/.lock                    held (``flock``) by the build writing into OUT; names its process
    OUT/.runs/<run id>/          one complete run each: executed/, sections/, logs/, results.csv, ... html/
    OUT/current -> .runs/<id>    the published run: replaced by one atomic rename of a symbolic link
    OUT/results.csv -> current/results.csv, OUT/html -> current/html, ...   fixed links, so paths stay as before

A run is staged in its own ``.runs/<id>`` folder, checked for completeness against its manifest (every file with
its SHA-256), and published by renaming a new ``current`` link over the old one (``rename(2)`` is atomic). An
interruption at any moment leaves ``current`` on the previous, whole run; the next build deletes the leftovers.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from hcc_utils.config.checksums import file_sha256 as sha256_file

#: What a run publishes at the top of OUT (links into ``current``).
PUBLISHED = ("executed", "sections", "logs", "results.csv", "analysis.csv", "manifest.json", "html", "tables.docx",
             "tables.xlsx")
RUNS_DIR = ".runs"
CURRENT = "current"
LOCK_NAME = ".lock"
#: Test hook: the runner pauses at the named step (``staged``, ``book-built``, ``swap``, ``cleanup``, ...).
PAUSE_ENV = "HCC_STUDY_TEST_PAUSE_AT"


class OutputLockedError(RuntimeError):
    """Another build is writing into the same output folder (a user error: exit status 2)."""


class IncompleteRunError(RuntimeError):
    """A staged run lacks a file its manifest or the table of contents requires; it is not published."""


def checkpoint(step: str, log) -> None:
    """Pause at ``step`` when the test hook asks for it, so a test can interrupt the run exactly there."""
    if os.environ.get(PAUSE_ENV) == step:
        log(f"test hook: paused at {step}")
        time.sleep(3600)


# ---------------------------------------------------------------- lock

@contextlib.contextmanager
def output_lock(out_dir: Path, log):
    """Hold ``OUT/.lock`` for the whole run; a second build into OUT stops at once.

    ``flock`` is released by the kernel when its process dies (even by SIGKILL), so the lock of a dead build is
    simply taken over; the pid written in the file only serves the messages.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOCK_NAME
    handle = open(path, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise OutputLockedError(f"another build is writing into {out_dir} (lock {path} held by {holder}); "
                                    f"wait for it to finish or choose another --out") from None
        handle.seek(0)
        previous = handle.read().strip()
        if previous:
            log(f"taking over the lock {path} left by {previous}, which is no longer running")
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()} on {os.uname().nodename}\n")
        handle.flush()
        _HELD.append(handle.fileno())
        try:
            yield path
        finally:
            _HELD.remove(handle.fileno())
        handle.seek(0)
        handle.truncate()  # an empty lock file is a lock released cleanly
        handle.flush()
    finally:
        handle.close()  # releases the flock


#: File descriptors of the locks this process holds (a forked worker closes its copies: see below).
_HELD: list[int] = []


def release_inherited_locks() -> None:
    """In a process forked by the build (a worker executing notebooks), close the copies of the build's lock.

    ``flock`` belongs to the open file, which a fork shares: a worker outliving a killed build would otherwise keep
    the output folder locked until it finished.
    """
    for fd in _HELD:
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


# ---------------------------------------------------------------- staging

def new_run_dir(out_dir: Path) -> Path:
    """A fresh folder ``OUT/.runs/<id>`` for this run's outputs; removes what interrupted runs left behind."""
    runs = out_dir / RUNS_DIR
    runs.mkdir(parents=True, exist_ok=True)
    discard_unpublished(out_dir)
    shutil.rmtree(out_dir / ".staging", ignore_errors=True)  # staging folder of the former layout
    run_dir = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%dT%H%M%S-", time.gmtime()), dir=runs))
    run_dir.chmod(0o755)  # mkdtemp's 0700 would hide the book from a web server run as another user
    return run_dir


def published_run(out_dir: Path) -> Path | None:
    link = out_dir / CURRENT
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def discard_unpublished(out_dir: Path) -> None:
    """Delete every run folder but the published one (called under the lock)."""
    keep = published_run(out_dir)
    for run in (out_dir / RUNS_DIR).glob("*"):
        if run.resolve() != keep:
            shutil.rmtree(run, ignore_errors=True)


# ---------------------------------------------------------------- manifest and completeness

def file_checksums(run_dir: Path) -> dict[str, dict[str, str]]:
    """SHA-256 of every output file, grouped by notebook: ``{name: {relative path: sha}}`` (``_run`` for the
    combined files)."""
    files: dict[str, dict[str, str]] = {}
    sections = run_dir / "sections"
    for folder in sorted(p for p in sections.glob("*") if p.is_dir()):
        files[folder.name] = {str(p.relative_to(run_dir)): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()}
    for path in sorted((run_dir / "executed").rglob("*.ipynb")):
        files.setdefault(path.stem, {})[str(path.relative_to(run_dir))] = sha256_file(path)
    files["_run"] = {name: sha256_file(run_dir / name) for name in ("results.csv", "analysis.csv")
                     if (run_dir / name).is_file()}
    return files


def verify_files(base: Path, entries: dict[str, str]) -> list[str]:
    """Problems with ``entries`` (relative path: sha) under ``base``: missing files and changed checksums."""
    problems = []
    for relative, expected in entries.items():
        path = base / relative
        if not path.is_file():
            problems.append(f"{relative} is missing")
        elif sha256_file(path) != expected:
            problems.append(f"{relative} differs from its checksum")
    return problems


def check_complete(run_dir: Path, tasks) -> None:
    """Refuse to publish a run lacking a notebook, a section folder, a results part or a listed file."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    files = manifest.get("files", {})
    problems = []
    for task in tasks:
        section = run_dir / "sections" / task.name
        if not (run_dir / "executed" / task.relpath).is_file():
            problems.append(f"executed/{task.relpath} is missing")
        if not section.is_dir():
            problems.append(f"sections/{task.name}/ is missing")
        elif task.stage == 1 and not (section / "results.csv").is_file():
            problems.append(f"sections/{task.name}/results.csv is missing")
        listed = set(files.get(task.name, {}))
        on_disk = {str(p.relative_to(run_dir)) for p in section.rglob("*") if p.is_file()} if section.is_dir() else set()
        problems += [f"{name} is not in the manifest" for name in sorted(on_disk - listed)]
    for entries in files.values():
        problems += verify_files(run_dir, entries)
    if not (run_dir / "results.csv").is_file():
        problems.append("results.csv is missing")
    if problems:
        raise IncompleteRunError(f"the run in {run_dir} is incomplete and was not published: " + "; ".join(problems[:20]))


# ---------------------------------------------------------------- publishing

def _link(target: str, link: Path) -> None:
    """Point ``link`` at ``target`` with one rename (a temporary link renamed over the old one)."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    os.symlink(target, temporary)
    os.replace(temporary, link)


def _adopt_former_layout(out_dir: Path) -> None:
    """Move the outputs of a folder written before runs were published by link (real files at the top of OUT)
    into a run folder of their own, so that they too stay readable until the new run replaces them."""
    former = [name for name in PUBLISHED if (out_dir / name).exists() and not (out_dir / name).is_symlink()]
    if not former or published_run(out_dir) is not None:
        return
    legacy = out_dir / RUNS_DIR / "former"
    legacy.mkdir(parents=True, exist_ok=True)
    _link(f"{RUNS_DIR}/{legacy.name}", out_dir / CURRENT)
    for name in former:
        os.rename(out_dir / name, legacy / name)
        _link(f"{CURRENT}/{name}", out_dir / name)


def publish(run_dir: Path, out_dir: Path, log) -> None:
    """Make ``run_dir`` the published run: one atomic swap of ``OUT/current``, then delete older runs."""
    _adopt_former_layout(out_dir)
    for name in PUBLISHED:
        entry = out_dir / name
        wanted = f"{CURRENT}/{name}"
        if entry.is_symlink() and os.readlink(entry) == wanted:
            continue
        _link(wanted, entry)
    checkpoint("swap", log)
    _link(f"{RUNS_DIR}/{run_dir.name}", out_dir / CURRENT)
    checkpoint("cleanup", log)
    discard_unpublished(out_dir)
