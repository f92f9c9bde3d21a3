"""Checksums of files and of the code: one implementation for the run manifest, the notebooks' and the study's cache
keys and the synthetic cohort."""
from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks so that a large cohort is never held in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def code_fingerprint(root: str | Path) -> str:
    """Hash of what the analysis computes besides data and settings: the ``hcc_utils`` sources under ``root`` (by
    path relative to it), the lock file of pinned versions and the data dictionary. One key for the notebooks'
    outputs (the runner) and the study cache: a change to any of them re-executes and recomputes."""
    root = Path(root)
    digest = hashlib.sha256()
    files = sorted((root / "hcc_utils").rglob("*.py")) + [root / "requirements.lock", root / "data" / "data_dictionary.yml"]
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def source_provenance(root: str | Path) -> str:
    """The git commit of the code, and ``+dirty`` when tracked files have uncommitted changes ("" outside git)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, encoding="utf-8",
                                  errors="replace", check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""
    return git("rev-parse", "HEAD") + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def settings_sha256(settings: dict) -> str:
    """SHA-256 of a configuration's settings (a plain mapping), written as sorted JSON: the same settings give the
    same checksum whatever their order in the file."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode("utf-8")).hexdigest()
