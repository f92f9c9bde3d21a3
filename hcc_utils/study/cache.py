"""The study cache: :func:`~hcc_utils.study.cohort.load_study` computed once per run, loaded by every notebook.

The runner builds the study (read, validate, derive, match) once before the notebooks and pickles it into
``OUT/.study-cache/study-<key>.pkl``; it names that folder to the notebooks' kernels in the environment variable
:data:`STUDY_CACHE_ENV`. The key hashes everything the study depends on: the data file's bytes and name, the
configuration (:meth:`~hcc_utils.config.StudyConfig.results_dict`), the package's code and data dictionary and
the pandas/numpy versions (pickles are not portable across them). A notebook recomputes the study when the cache is missing, stale or
unreadable, and appends a note saying why to ``notes.log`` in the cache folder, which the runner prints in its log
after the notebooks (never on the page: ipykernel forwards even the process's own stderr to the notebook).

The folder holds row-level data: it lives beside the published runs (never in a run's manifest, the book or its
downloads) and keeps only the newest study. Only the runner writes it, so parallel notebooks never race.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from hcc_utils.config import REPO_ROOT, StudyConfig
from hcc_utils.config.checksums import code_fingerprint, file_sha256

#: Environment variable naming the cache folder (set by the runner for the notebooks' kernels).
STUDY_CACHE_ENV = "HCC_STUDY_CACHE_DIR"
#: The cache folder's name inside a run's output folder.
STUDY_CACHE_DIR = ".study-cache"
_FORMAT = "hcc-study-cache-1"
_PACKAGE = Path(__file__).resolve().parents[1]


#: The cache folder's file of notes from the notebooks (why a notebook computed the study itself).
NOTES_FILE = "notes.log"


def _note(folder: Path, message: str) -> None:
    """Append ``message`` to the cache folder's notes for the runner's log. Not stderr: in a kernel, ipykernel
    captures file descriptor 2 too and the note would appear on the page. Best effort (an unwritable folder only
    loses the note)."""
    try:
        with open(Path(folder) / NOTES_FILE, "a", encoding="utf-8") as handle:
            handle.write(f"study cache: {message}\n")
    except OSError:
        pass


def take_notes(folder: str | Path) -> list[str]:
    """The notes the notebooks left in ``folder`` (each once, in order), removing the file."""
    path = Path(folder) / NOTES_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        path.unlink()
    except OSError:
        return []
    return list(dict.fromkeys(line for line in lines if line.strip()))


def study_cache_key(data_path: Path, config: StudyConfig) -> str:
    """Key of the study of ``data_path`` under ``config`` (see the module's description)."""
    digest = hashlib.sha256()
    for part in (_FORMAT, file_sha256(data_path), data_path.name,
                 json.dumps(config.results_dict(), sort_keys=True, default=str), code_fingerprint(_PACKAGE.parent),
                 pd.__version__, np.__version__):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def cache_path(folder: Path, key: str) -> Path:
    return Path(folder) / f"study-{key}.pkl"


def _read_header(handle) -> dict:
    header = pickle.load(handle)
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise ValueError("not a study cache of this version")
    return header


def read_cached_study(folder: str | Path, key: str):
    """The cached study of ``key`` in ``folder``, or None (with a note saying why) when absent, stale or damaged.

    The file is a small header (format, key, size and SHA-256 of the study's pickle) followed by that pickle: a
    truncated or altered file fails the checksum and is never unpickled."""
    path = cache_path(Path(folder), key)
    if not path.is_file():
        others = sorted(p.name for p in Path(folder).glob("study-*.pkl")) if Path(folder).is_dir() else []
        _note(folder, f"no entry for this data, configuration and code in {folder}"
              + (f" (stale: {', '.join(others)})" if others else "") + "; computing the study")
        return None
    try:
        with open(path, "rb") as handle:
            header = _read_header(handle)
            body = handle.read()
        if header.get("key") != key:
            raise ValueError("its key does not match its name")
        if len(body) != header.get("size") or hashlib.sha256(body).hexdigest() != header.get("sha256"):
            raise ValueError("its checksum does not match (truncated or altered)")
        return pickle.loads(body)
    except Exception as exc:  # a truncated, altered or foreign file: never used
        _note(folder, f"{path.name} is unreadable ({type(exc).__name__}: {exc}); computing the study")
        return None


def write_cached_study(study, folder: str | Path, key: str) -> Path:
    """Pickle ``study`` under ``key`` atomically (a reader sees the whole file or none) and drop older entries."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = cache_path(folder, key)
    body = pickle.dumps(study, protocol=pickle.HIGHEST_PROTOCOL)
    header = {"format": _FORMAT, "key": key, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    handle, temporary = tempfile.mkstemp(prefix=".study-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            pickle.dump(header, stream, protocol=pickle.HIGHEST_PROTOCOL)
            stream.write(body)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    for old in folder.glob("study-*.pkl"):
        if old != target:
            old.unlink(missing_ok=True)
    return target


def cache_is_current(folder: str | Path, key: str) -> bool:
    """Whether ``folder`` has an intact entry for ``key`` (key and checksum verified, nothing unpickled)."""
    try:
        with open(cache_path(Path(folder), key), "rb") as handle:
            header = _read_header(handle)
            body = handle.read()
    except Exception:
        return False
    return header.get("key") == key and len(body) == header.get("size") \
        and hashlib.sha256(body).hexdigest() == header.get("sha256")
