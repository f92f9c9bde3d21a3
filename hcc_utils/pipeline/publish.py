"""Publishing a run so that a reader sees either the previous run or the new one, never a mix.

Layout of an output folder ``OUT``::

    OUT/.lock, OUT/.lock.holder  the lock of the build writing into OUT (``filelock``) and who holds it; both are
                                 deleted when the build ends, however it ends
    OUT/.runs/<run id>/          one run each: executed/, sections/, logs/, results.csv, ... html/
    OUT/current                  the published run (see below)
    OUT/.publishing.json         the journal of a swap under way (folder layout, or a change of layout)

A run is staged in its own ``.runs/<id>`` folder, checked for completeness against its manifest (every file with
its SHA-256), and only then published, in one of two layouts (:mod:`hcc_utils.config.platforms` decides):

- **links** (Linux and macOS): ``OUT/current`` is a symbolic link to ``.runs/<id>``, replaced by one atomic
  ``rename(2)`` of a new link over it; the top-level names ``OUT/results.csv``, ``OUT/html``, ... are fixed links
  into ``current``, so their paths never change.
- **folder** (Windows, where a symbolic link needs a privilege, and ``HCC_STUDY_PORTABLE=1``): ``OUT/current`` is
  the run's folder itself. The swap is journaled: ``OUT/.publishing.json`` names the new run (written atomically,
  after the completeness check: from then on the new run is the published one), the previous ``current`` is
  renamed back into ``.runs``, the new run is renamed to ``current``, and the journal is deleted. Readers
  (:func:`published_run`) follow the journal while it exists, and the next build finishes a swap an interruption
  cut short (:func:`recover`). Open ``OUT/current/html/index.html`` (the same path works with links).

An interruption at any moment leaves the previous or the new run published and whole; the next build deletes the
leftovers. Switching layouts on the same ``OUT`` (a portable build after a Linux one, or back) goes through the
journal too.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from hcc_utils.config import platforms
from hcc_utils.config.checksums import file_sha256 as sha256_file

#: What a run publishes at the top of OUT (links into ``current`` in the links layout).
PUBLISHED = ("executed", "sections", "logs", "results.csv", "analysis.csv", "manifest.json", "html", "tables.docx",
             "tables.xlsx")
RUNS_DIR = ".runs"
CURRENT = "current"
LOCK_NAME = ".lock"
HOLDER_NAME = ".lock.holder"
JOURNAL_NAME = ".publishing.json"
#: Test hook: the runner pauses at the named step (``staged``, ``book-built``, ``swap``, ``swap-midway``,
#: ``cleanup``, ...).
PAUSE_ENV = "HCC_STUDY_TEST_PAUSE_AT"
#: How long a rename refused by another program (Windows: a file of the run open in Excel or a viewer) is retried.
RENAME_PATIENCE_SECONDS = 10.0


class OutputLockedError(RuntimeError):
    """Another build is writing into the same output folder (a user error: exit status 2)."""


class IncompleteRunError(RuntimeError):
    """A staged run lacks a file its manifest or the table of contents requires; it is not published."""


class PublishError(RuntimeError):
    """The run is complete but could not be put in place (exit status 1); the next build publishes it."""


def checkpoint(step: str, log) -> None:
    """Pause at ``step`` when the test hook asks for it, so a test can interrupt the run exactly there."""
    if os.environ.get(PAUSE_ENV) == step:
        log(f"test hook: paused at {step}")
        time.sleep(3600)


def uses_links() -> bool:
    """Whether runs are published by symbolic links here (see the module)."""
    return platforms.symlinks_for_publishing()


# ---------------------------------------------------------------- lock

def _holder_text() -> str:
    return f"process {os.getpid()} on {platforms.hostname()}"


def _read_holder(out_dir: Path) -> str:
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return (out_dir / HOLDER_NAME).read_text(encoding="utf-8").strip()
    return ""


@contextlib.contextmanager
def output_lock(out_dir: Path, log):
    """Hold ``OUT/.lock`` for the whole run; a second build into OUT stops at once.

    The lock is the operating system's (``flock`` on Linux and macOS, ``LockFileEx`` on Windows, through
    ``filelock``): it is released when its process dies, even by SIGKILL, so the lock of a dead build is simply
    taken over. ``OUT/.lock.holder`` names the holding process and computer for the messages (a separate file:
    Windows keeps a locked file unreadable). When the build ends, however it ends, both files are deleted while
    the lock is still held: a build that opened the old lock file just before is told by ``filelock`` that the file
    was unlinked and opens the path again, so two builds never hold "the" lock at once.
    """
    from filelock import FileLock, Timeout

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOCK_NAME
    lock = FileLock(str(path), timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        holder = _read_holder(out_dir) or "another process"
        raise OutputLockedError(f"another build is writing into {out_dir} (lock {path} held by {holder}); "
                                "wait for it to finish or choose another --out") from None
    try:
        previous = _read_holder(out_dir)
        if previous:
            log(f"taking over the lock {path} left by {previous}, which is no longer running")
        _write_atomically(out_dir / HOLDER_NAME, _holder_text() + "\n")
        yield path
    finally:
        _release_lock(lock, out_dir)


def _release_lock(lock, out_dir: Path) -> None:
    """Delete the holder's note and the lock file, then release the lock, in this order (see
    :func:`output_lock`): deleted after the release, the file could already be another build's lock."""
    with contextlib.suppress(OSError):
        (out_dir / HOLDER_NAME).unlink()
    # POSIX: unlinked while held. Windows refuses to delete an open file: filelock deletes it right after
    # releasing, and if a build has just locked it, it stays (the deletion fails, harmlessly).
    with contextlib.suppress(OSError):
        (out_dir / LOCK_NAME).unlink()
    lock.release()


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    temporary.write_text(text, encoding="utf-8")
    try:
        _replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def _replace(source: Path, target: Path) -> None:
    """``os.replace``, retried for a while when another program holds ``target`` open (Windows refuses then)."""
    deadline = time.monotonic() + RENAME_PATIENCE_SECONDS
    while True:
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# ---------------------------------------------------------------- staging

def new_run_dir(out_dir: Path, log=None) -> Path:
    """A fresh folder ``OUT/.runs/<id>`` for this run's outputs; finishes an interrupted swap and removes what
    interrupted runs left behind (called under the lock)."""
    runs = out_dir / RUNS_DIR
    runs.mkdir(parents=True, exist_ok=True)
    recover(out_dir, log)
    discard_unpublished(out_dir)
    shutil.rmtree(out_dir / ".staging", ignore_errors=True)  # staging folder of an older layout
    run_dir = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%dT%H%M%S-", time.gmtime()), dir=runs))
    run_dir.chmod(0o755)  # mkdtemp's 0700 would hide the book from a web server run as another user
    return run_dir


def _journal(out_dir: Path) -> dict | None:
    try:
        journal = json.loads((out_dir / JOURNAL_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return journal if isinstance(journal, dict) and isinstance(journal.get("run"), str) else None


def published_run(out_dir: Path) -> Path | None:
    """The folder of the run published in ``out_dir``, whole, in either layout; ``None`` when there is none.

    During a journaled swap (or after one an interruption cut short) it is the journal's run: the new run, which
    was complete before the journal named it, wherever it is at that moment.
    """
    out_dir = Path(out_dir)
    journal = _journal(out_dir)
    if journal is not None:
        staged = out_dir / RUNS_DIR / journal["run"]
        if staged.is_dir():
            return staged.resolve()
    current = out_dir / CURRENT
    if current.is_symlink():
        target = current.resolve()
        return target if target.is_dir() else None
    return current.resolve() if current.is_dir() else None


def published_path(out_dir: Path, name: str) -> Path:
    """The path a person opens for the published ``name`` (``html``, ``results.csv``...): ``OUT/<name>`` where the
    links layout provides it, else ``OUT/current/<name>``."""
    top = Path(out_dir) / name
    return top if top.exists() else Path(out_dir) / CURRENT / name


def discard_unpublished(out_dir: Path) -> None:
    """Delete every run folder but the published one, and the temporary files of an interrupted swap (called under
    the lock, after :func:`recover`)."""
    keep = published_run(out_dir)
    for run in (out_dir / RUNS_DIR).glob("*"):
        if run.resolve() != keep:
            shutil.rmtree(run, ignore_errors=True)  # Windows: a file still open stays until the next build
    for leftover in out_dir.glob(".*.tmp"):  # a link or journal being written when the build was killed
        with contextlib.suppress(OSError):
            leftover.unlink()


# ---------------------------------------------------------------- manifest and completeness

def file_checksums(run_dir: Path) -> dict[str, dict[str, str]]:
    """SHA-256 of every output file, grouped by notebook: ``{name: {relative path: sha}}`` (``_run`` for the
    combined files). Paths use ``/`` on every platform."""
    files: dict[str, dict[str, str]] = {}
    sections = run_dir / "sections"
    for folder in sorted(p for p in sections.glob("*") if p.is_dir()):
        files[folder.name] = {p.relative_to(run_dir).as_posix(): sha256_file(p) for p in sorted(folder.rglob("*"))
                              if p.is_file()}
    for path in sorted((run_dir / "executed").rglob("*.ipynb")):
        files.setdefault(path.stem, {})[path.relative_to(run_dir).as_posix()] = sha256_file(path)
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
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
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
        on_disk = {p.relative_to(run_dir).as_posix() for p in section.rglob("*") if p.is_file()} \
            if section.is_dir() else set()
        problems += [f"{name} is not in the manifest" for name in sorted(on_disk - listed)]
    for entries in files.values():
        problems += verify_files(run_dir, entries)
    if not (run_dir / "results.csv").is_file():
        problems.append("results.csv is missing")
    if problems:
        raise IncompleteRunError(f"the run in {run_dir} is incomplete and was not published: " + "; ".join(problems[:20]))


# ---------------------------------------------------------------- publishing

def _link(target: str, link: Path) -> None:
    """Point ``link`` at ``target`` with one rename (a temporary link renamed over the old one). Links layout only
    (:func:`uses_links`)."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    os.symlink(target, temporary)
    os.replace(temporary, link)


def _rename(source: Path, target: Path) -> None:
    """Rename a folder, retried for a while when another program holds a file in it open (Windows)."""
    try:
        _replace(source, target)
    except PermissionError as exc:
        raise PublishError(f"{source} could not be renamed to {target}: {exc.strerror or exc} (a file in it is "
                           "probably open in another program: close it and build again; the new run is kept and "
                           "published by the next build)") from None


def _adopt_former_layout(out_dir: Path) -> None:
    """Move the outputs of a folder written before runs were published this way (real files at the top of OUT)
    into a run folder of their own and publish it, so that they too stay readable until the new run replaces
    them."""
    former = [name for name in PUBLISHED if (out_dir / name).exists() and not (out_dir / name).is_symlink()]
    if not former or published_run(out_dir) is not None:
        return
    legacy = out_dir / RUNS_DIR / "former"
    legacy.mkdir(parents=True, exist_ok=True)
    for name in former:
        os.rename(out_dir / name, legacy / name)
    _swap_to(legacy, out_dir, None)


def _swap_to(run_dir: Path, out_dir: Path, log) -> None:
    """Make ``run_dir`` (a folder of ``OUT/.runs``) the published run."""
    current = out_dir / CURRENT
    if uses_links() and (current.is_symlink() or not current.exists()) and _journal(out_dir) is None:
        _link(f"{RUNS_DIR}/{run_dir.name}", current)  # one atomic rename: nothing to journal
        return
    _write_atomically(out_dir / JOURNAL_NAME, json.dumps({"run": run_dir.name}) + "\n")
    recover(out_dir, log)


def recover(out_dir: Path, log=None) -> None:
    """Finish the swap the journal describes, from whichever step it was interrupted at; nothing without one.

    Each step can be repeated: the previous ``current`` (a folder, or a link of the other layout) is moved aside
    into ``.runs`` (deleted later with the other leftovers), then the journal's run takes its place (renamed, or
    linked in the links layout), then the journal is deleted.
    """
    journal = _journal(out_dir)
    if journal is None:
        (out_dir / JOURNAL_NAME).unlink(missing_ok=True)  # unreadable: written by nothing this code wrote whole
        return
    staged = out_dir / RUNS_DIR / journal["run"]
    current = out_dir / CURRENT
    if staged.is_dir() and not (current.is_symlink() and current.resolve() == staged.resolve()):
        if current.is_symlink():
            current.unlink()
        elif current.exists():
            _rename(current, out_dir / RUNS_DIR / f"retired-{uuid.uuid4().hex[:12]}")
        if log is not None:
            checkpoint("swap-midway", log)
        if uses_links():
            _link(f"{RUNS_DIR}/{staged.name}", current)
        else:
            _rename(staged, current)
    (out_dir / JOURNAL_NAME).unlink(missing_ok=True)


def publish(run_dir: Path, out_dir: Path, log) -> None:
    """Make ``run_dir`` the published run (an atomic link swap, or the journaled rename), then delete older runs."""
    _adopt_former_layout(out_dir)
    if uses_links():
        for name in PUBLISHED:
            entry = out_dir / name
            wanted = f"{CURRENT}/{name}"
            if entry.is_symlink() and os.readlink(entry) == wanted:
                continue
            _link(wanted, entry)
    checkpoint("swap", log)
    _swap_to(run_dir, out_dir, log)
    checkpoint("cleanup", log)
    discard_unpublished(out_dir)
