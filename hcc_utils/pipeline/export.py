"""``hcc-study export``: the published run's tables and figures in the formats a journal asks for, in one folder.

From the run published in ``OUT`` (``OUT/current``) it writes into ``DIR`` (default ``OUT/submission``)::

    tables/<name>.docx .xlsx .csv    every table the run saved (Word in journal style, spreadsheet, CSV)
    figures/<name>.pdf .svg .png     every figure
    tables.docx                      the article's tables in the article's order, one per page
    tables.xlsx                      the same, one sheet per table
    README.txt                       the study's title and authors, what is where, which data file the run used,
                                     whether it was synthetic
    manuscript.docx .pdf             with ``--manuscript``: the study's manuscript draft (``pipeline.manuscript``)

The folder is written under a temporary name beside ``DIR`` and renamed into place at the end, so a reader never
finds a half-written export; an earlier export in ``DIR`` is replaced, any other existing folder is refused.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hcc_utils.pipeline.publish import published_run
from hcc_utils.config import ConfigError, as_config
from hcc_utils.report.collection import write_tables_docx, write_tables_xlsx
from hcc_utils.report.provenance import Stamp
from hcc_utils.report.identity import byline
from hcc_utils.report.submission import article_tables, read_tables, write_docx, write_xlsx
from hcc_utils.study.cohort import is_synthetic_file

FIGURE_FORMATS = (".pdf", ".svg", ".png")
README = "README.txt"
#: First line of the README: also how an earlier export is recognised (and may be replaced).
README_TITLE = "Submission files exported by hcc-study"


class ExportError(ValueError):
    """No usable run to export, or a destination that is not ours to replace (exit status 2)."""


@dataclass
class ExportSummary:
    folder: Path
    tables: int
    article_tables: int
    figures: int


def _run_folder(out_dir: Path) -> Path:
    """The published run of ``out_dir`` (a folder written by the former layout is accepted too)."""
    run = published_run(out_dir)
    if run is None and (out_dir / "manifest.json").is_file():
        run = out_dir
    if run is None or not (run / "manifest.json").is_file():
        raise ExportError(f"no published run in {out_dir}; build one first: hcc-study build --out {out_dir}")
    return run


def _check_destination(destination: Path) -> None:
    if destination.exists() and not destination.is_dir():
        raise ExportError(f"{destination} exists and is not a folder; choose another --to")
    if destination.is_dir() and any(destination.iterdir()):
        readme = destination / README
        ours = readme.is_file() and readme.read_text(encoding="utf-8", errors="replace").startswith(README_TITLE)
        if not ours:
            raise ExportError(f"{destination} exists and is not an earlier export (no {README} written by "
                              "hcc-study); choose another --to")


def _unique_names(paths: list[Path]) -> dict[Path, str]:
    """File names in the flat export: the section folder's name is put before a name two sections share."""
    counts: dict[str, int] = {}
    for path in paths:
        counts[path.name] = counts.get(path.name, 0) + 1
    return {p: p.name if counts[p.name] == 1 else f"{p.parents[1].name}_{p.name}" for p in paths}


def _config(manifest: dict):
    """The run's configuration, from its manifest; the defaults for a run whose configuration this version cannot
    read."""
    try:
        return as_config(manifest.get("config") or {})
    except ConfigError:
        return as_config(None)


def _study(manifest: dict):
    """The run's ``study`` section (title, authors)."""
    return _config(manifest).study


def _readme(run: Path, manifest: dict, tables, figures: list[str], chosen) -> str:
    data = Path(manifest.get("data", "unknown"))
    synthetic = data.is_file() and is_synthetic_file(data)
    study = _study(manifest)
    lines = [README_TITLE, "=" * len(README_TITLE), "",
             f"Study: {study.title}", f"Authors: {byline(study)}",
             f"Run: {run.name} (finished {manifest.get('finished', 'unknown')})",
             f"Data file: {data.name} (SHA-256 {manifest.get('data_sha256', 'unknown')})"]
    if "stamp" in manifest:
        lines.append(f"Stamp of every file: {Stamp.from_dict(manifest['stamp']).line()}")
    if synthetic:
        lines += ["", "THE DATA WERE SYNTHETIC: every number below was computed from a synthetic cohort calibrated",
                  "to the article's published aggregates. It contains no real patient; do not report it as results."]
    lines += ["", "tables.docx   the article's tables in the article's order, one per page (Word, journal style):"]
    lines += [f"              {t.caption}" for t in chosen]
    lines += ["tables.xlsx   the same tables, one sheet each",
              "tables/       every table as <name>.docx, <name>.xlsx and <name>.csv:"]
    lines += [f"              {name}  {t.caption}" for name, t in tables]
    lines += ["figures/      every figure as <name>.pdf, <name>.svg and <name>.png (as the run wrote them):"]
    lines += [f"              {name}" for name in figures]
    lines += ["", "Cells are text exactly as the book shows them; spreadsheet cells are never formulas."]
    return "\n".join(lines) + "\n"


def export_submission(out_dir: str | Path, destination: str | Path | None = None, progress=print,
                      manuscript: bool = False) -> ExportSummary:
    """Write the submission folder from the run published in ``out_dir``; return what was written. With
    ``manuscript``, the folder also holds the manuscript draft (``manuscript.docx``, ``manuscript.pdf``).

    Raises
    ------
    ExportError
        No published run in ``out_dir``, a run without tables, or a destination holding something else.
    """
    out_dir = Path(out_dir).resolve()
    run = _run_folder(out_dir)
    destination = Path(destination).resolve() if destination else out_dir / "submission"
    _check_destination(destination)
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    study = _study(manifest)
    if manuscript and not (run / "executed" / "notebooks").is_dir():
        raise ExportError(f"the run in {out_dir} kept no executed notebooks (the manuscript's prose); rebuild it "
                          f"with this version: hcc-study build --out {out_dir}")
    stamp = Stamp.from_dict(manifest["stamp"]) if "stamp" in manifest else None  # a run of an older version: none
    try:
        found = read_tables(run / "sections")
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    if not found:
        raise ExportError(f"the run in {out_dir} saved no table (sections/*/tables/*.json); rebuild it with this "
                          "version: hcc-study build --out " + str(out_dir))
    figures = sorted(p for p in (run / "sections").glob("*/figures/*") if p.suffix in FIGURE_FORMATS and p.is_file())
    progress(f"exporting {len(found)} tables and {len(figures)} figure files from {run}")

    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        table_names = _unique_names([path for path, _ in found])
        listed = []
        for path, table in found:
            stem = Path(table_names[path]).stem
            write_docx(table, staging / "tables" / f"{stem}.docx", study, stamp)
            write_xlsx(table, staging / "tables" / f"{stem}.xlsx", study, stamp)
            csv = path.with_suffix(".csv")
            if csv.is_file():
                shutil.copyfile(csv, staging / "tables" / f"{stem}.csv")
            listed.append((stem, table))
            progress(f"  tables/{stem}: {table.caption}")
        (staging / "figures").mkdir()
        figure_names = _unique_names(figures)
        for path in figures:
            shutil.copyfile(path, staging / "figures" / figure_names[path])
        if figures:
            progress(f"  figures/: {len(figures)} files")
        chosen = article_tables([t for _, t in found])
        if chosen:
            write_tables_docx(chosen, staging / "tables.docx", study, stamp)
            write_tables_xlsx(chosen, staging / "tables.xlsx", study, stamp)
            progress(f"  tables.docx, tables.xlsx: {len(chosen)} article tables in article order")
        else:
            progress("  no article table (every table is the book's own): tables.docx not written")
        if manuscript:
            from hcc_utils.pipeline.manuscript import write_manuscript

            write_manuscript(run, _config(manifest), stamp, staging, progress)
        stems = sorted({Path(figure_names[p]).stem for p in figures})
        (staging / README).write_text(_readme(run, manifest, listed, stems, chosen), encoding="utf-8")
        staging.chmod(0o755)
        _swap_into_place(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    progress(f"wrote {destination}")
    return ExportSummary(destination, len(found), len(chosen), len(figures))


def _swap_into_place(staging: Path, destination: Path) -> None:
    """Put the finished folder at ``destination``; an earlier export is moved aside first, then deleted."""
    previous = None
    if destination.exists():
        previous = destination.with_name(f".{destination.name}.old-{os.getpid()}")
        os.rename(destination, previous)
    try:
        os.rename(staging, destination)
    except OSError:
        if previous is not None:
            os.rename(previous, destination)
        raise
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
