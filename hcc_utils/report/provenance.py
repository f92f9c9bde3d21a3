"""The stamp every downloadable file carries: whether its data are synthetic, the data file's and the
configuration's SHA-256 and the commit of the code (issue 24: a downloaded table or figure looked like a real
result).

One :class:`Stamp` per run, written visibly (a figure's footer, a document's first page and footer, a sheet's first
row, a CSV's last line) and in each format's metadata (SVG ``<metadata>``, PNG text chunks, PDF document info,
DOCX/XLSX properties). A section notebook sets the run's stamp with its data note (:func:`use_stamp`, from
:func:`study_stamp`); the runner and ``hcc-study export`` make theirs from the run's data file, configuration and
commit (:func:`make_stamp`) and keep it in the run's manifest (:meth:`Stamp.to_dict`).

The commit is the code's when the file was computed; a notebook re-used unchanged by a later build (same code,
data and configuration) keeps the commit it was computed at.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hcc_utils.config import REPO_ROOT, StudyConfig, as_config
from hcc_utils.config.checksums import file_sha256, settings_sha256, source_provenance

#: Hexadecimal digits of a checksum or commit written visibly (the metadata keep them whole).
SHOWN_DIGITS = 16


@dataclass(frozen=True)
class Stamp:
    """What a downloadable file says about where it comes from."""

    synthetic: bool
    data_name: str
    data_sha256: str
    config_sha256: str
    commit: str

    @property
    def statement(self) -> str:
        """Whether the data are synthetic, in words."""
        if self.synthetic:
            return "SYNTHETIC DATA (hcc-study): no real patient, not clinical evidence"
        return "Data: the author's own cohort (not the synthetic one)"

    def lines(self) -> list[str]:
        """The stamp as short visible lines (checksums and commit shortened to :data:`SHOWN_DIGITS` digits)."""
        commit = self.commit[:SHOWN_DIGITS] + ("+dirty" if self.commit.endswith("+dirty") else "") \
            if self.commit else "unknown"
        return [self.statement, f"data {self.data_name} SHA-256 {self.data_sha256[:SHOWN_DIGITS]}",
                f"configuration SHA-256 {self.config_sha256[:SHOWN_DIGITS]} · commit {commit}"]

    def line(self) -> str:
        """The stamp in one line, checksums and commit in full (for a document's footer, a CSV, metadata)."""
        return (f"{self.statement}. Data {self.data_name} SHA-256 {self.data_sha256}; configuration SHA-256 "
                f"{self.config_sha256}; commit {self.commit or 'unknown'}.")

    def compact(self) -> str:
        """The stamp, checksums and commit in full, within the 255 characters a document property may hold."""
        short = "SYNTHETIC DATA" if self.synthetic else "Data: the author's own cohort"
        return (f"{short}; data SHA-256 {self.data_sha256}; configuration SHA-256 {self.config_sha256}; "
                f"commit {self.commit or 'unknown'}")[:255]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Stamp":
        return cls(**{key: values[key] for key in cls.__dataclass_fields__})


def make_stamp(data_path: str | Path, config: StudyConfig | dict | None, commit: str | None = None,
               synthetic: bool | None = None) -> Stamp:
    """The stamp of a run on ``data_path`` under ``config`` (``commit``: the code's, read from git when None)."""
    from hcc_utils.study.cohort import is_synthetic_file

    path = Path(data_path)
    return Stamp(bool(is_synthetic_file(path)) if synthetic is None else synthetic, path.name, file_sha256(path),
                 settings_sha256(as_config(config).to_dict()),
                 source_provenance(REPO_ROOT) if commit is None else commit)


def study_stamp(study) -> Stamp | None:
    """The stamp of a loaded study (its data file, configuration and the code's commit); None when the study was
    not read from a file (a cohort built in memory)."""
    source = study.__dict__.get("_raw_source")
    if not source or not Path(source[0]).is_file():
        return None
    return make_stamp(source[0], study.config, synthetic=bool(study.synthetic))


_CURRENT: list[Stamp] = []


def use_stamp(stamp: Stamp | None) -> None:
    """Make ``stamp`` the one the files written from now on carry (a section notebook's data note sets it)."""
    _CURRENT.clear()
    if stamp is not None:
        _CURRENT.append(stamp)


def current_stamp() -> Stamp | None:
    """The stamp set by :func:`use_stamp`, None before any."""
    return _CURRENT[0] if _CURRENT else None


def stamp_csv(path: str | Path, stamp: Stamp | None) -> None:
    """Add the stamp as the last line of a CSV file (a comment line, ``#``: ``pandas.read_csv(comment="#")``
    skips it), unless the file already ends with a stamp (a section's own, written when it was computed)."""
    if stamp is None:
        return
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    lines = text.rstrip("\n").splitlines()
    if lines and lines[-1].startswith("# ") and "SHA-256" in lines[-1]:
        return
    line = "# " + stamp.line().replace("\n", " ")
    path.write_text(text + ("" if text.endswith("\n") or not text else "\n") + line + "\n", encoding="utf-8")
