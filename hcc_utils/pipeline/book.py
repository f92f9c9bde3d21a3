"""Building the book's HTML from a run's executed notebooks with Jupyter Book 1.x (Sphinx), strictly and
incrementally.

Sphinx re-reads only the documents whose source changed since its previous build when it finds that build's
environment (doctrees and ``environment.pickle``) beside its output. The runner keeps one such build area per output
folder, ``OUT/.sphinx`` (``src/``: the book's sources with the executed notebooks; ``build/``: Sphinx's output and
environment), used only under the output lock. Sources are synchronised into ``src/`` file by file, and only a file
whose content changed is written (a new modification time is what tells Sphinx to re-read it). The finished HTML is
copied into the run folder, so the published run never shares a file with the area Sphinx writes into.

The area is trusted only after a build that succeeded (the stamp ``OUT/.sphinx/complete``): a failed build (a
warning is an error) or an interrupted one leaves no stamp, and the next build starts from nothing, so that a
warning is never hidden by a document Sphinx did not re-read.
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from hcc_utils.config import REPO_ROOT
from hcc_utils.pipeline import book_pdf
from hcc_utils.pipeline.comparison import annotate_chapters
from hcc_utils.pipeline.cache import book_sources
from hcc_utils.pipeline.chapter_sources import copy_notebooks, has_api_reference, is_chapter, with_source_box
from hcc_utils.pipeline.execute import StudyRunError, _log

#: The build area of an output folder (beside ``.runs``; never published).
AREA = ".sphinx"
STAMP = "complete"


#: Folder of the build area's sources whose files Sphinx copies to the root of the HTML (``html_extra_path``).
EXTRA_DIR = "_extra"
#: The print style sheet of the build's notice (book/_static in the build area; written, not a project file).
PRINT_BANNER_CSS = "hcc-print-banner.css"


def _study_config(run_dir: Path):
    """The run's study configuration, from its manifest."""
    from hcc_utils.config import as_config

    return as_config(json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["config"])


def _book_config(run_dir: Path, root: Path) -> dict:
    """The book's _config.yml for this run: the project's, with the configured study's title and authors (every
    page's header and browser title, the footer), a banner naming the data source and the book's citation file
    copied beside ``index.html``."""
    from hcc_utils.report.identity import byline

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    study = _study_config(run_dir).study
    # Sphinx escapes the title where it writes it (every page's <title>); the theme writes the navbar's title and
    # the footer's authors as HTML, so those get escaped text (the schema refuses < and > in them besides)
    config["title"], config["author"] = study.title, html.escape(byline(study))
    if study.date is not None:
        config["copyright"] = str(study.date.year)
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx["html_short_title"] = study.short_title
    sphinx.setdefault("html_theme_options", {}).setdefault("logo", {})["text"] = html.escape(study.title)
    sphinx["html_extra_path"] = [*sphinx.get("html_extra_path", []), EXTRA_DIR]
    config.setdefault("html", {})["announcement"] = banner_html(run_dir)
    # the print style sheet's notice (every printed page), and the PDFs' line on the Submission files page
    sphinx["html_css_files"] = [PRINT_BANNER_CSS, *sphinx.get("html_css_files", [])]
    parse = config.setdefault("parse", {})
    parse["myst_enable_extensions"] = sorted({*parse.get("myst_enable_extensions", []), "substitution"})
    parse.setdefault("myst_substitutions", {})["book_pdf"] = pdf_line(book_pdf.print_browser()[1])
    return config


def banner_html(run_dir: Path) -> str:
    """The notice of every page naming the data source (raw HTML: the data file's name is escaped)."""
    from hcc_utils.study.cohort import is_synthetic_file

    data = Path(json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["data"])
    data_name = html.escape(data.name)
    if is_synthetic_file(data):
        return (f"Every result in this book is computed from <b>{data_name}</b>, a <b>synthetic</b> cohort "
                "calibrated to the article's published aggregates: it contains no real patient.")
    return f"Results computed from the cohort file <b>{data_name}</b> (not the article's data)."


def pdf_line(not_printed_because: str = "") -> str:
    """The *Submission files* page's line on the book's PDFs (``{{ book_pdf }}``): links where a browser printed
    them (:mod:`hcc_utils.pipeline.book_pdf`), otherwise why there are none."""
    if not not_printed_because:
        return (f'<a href="../{book_pdf.BOOK_PDF}" download>book.pdf</a> (every page in reading order, one bookmark '
                f"per page); each page alone in <code>{book_pdf.PAGES_DIR}/</code>, for example "
                f'<a href="../{book_pdf.PAGES_DIR}/02_baseline.pdf" download>02_baseline.pdf</a> (Table 1)')
    return (f"not printed for this build: {html.escape(not_printed_because)} (with Chromium, Chrome or Edge "
            f"installed, or named in <code>{book_pdf.CHROMIUM_VARIABLE}</code>, the next build prints them)")


def copy_downloads(run_dir: Path, html_dir: Path) -> None:
    """Copy each section's tables and figures (the formats offered for download) into ``html/downloads/<notebook>/``,
    where the links under the book's tables and figures point (:mod:`hcc_utils.report.downloads`), and the run's
    ``tables.docx`` / ``tables.xlsx`` into ``html/downloads/``."""
    from hcc_utils.report.downloads import DOWNLOAD_FORMATS, DOWNLOADS_DIR

    for path in sorted((run_dir / "sections").glob("*/*/*")):
        if path.is_file() and path.suffix in DOWNLOAD_FORMATS:
            target = html_dir / DOWNLOADS_DIR / path.relative_to(run_dir / "sections")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    for name in ("tables.docx", "tables.xlsx"):  # the article's tables in one file each (book/downloads.md links them)
        if (run_dir / name).is_file():
            (html_dir / DOWNLOADS_DIR).mkdir(parents=True, exist_ok=True)
            shutil.copy2(run_dir / name, html_dir / DOWNLOADS_DIR / name)


def _wanted_sources(run_dir: Path, root: Path) -> dict[str, bytes | Path]:
    """Relative path in the source folder -> its content (bytes) or the file to copy."""
    from hcc_utils.report.identity import CITATION_FILE, citation_cff

    wanted: dict[str, bytes | Path] = {
        "_config.yml": yaml.safe_dump(_book_config(run_dir, root), sort_keys=False, allow_unicode=True).encode(),
        f"{EXTRA_DIR}/{CITATION_FILE}": citation_cff(_study_config(run_dir)).encode(),
        f"book/_static/{PRINT_BANNER_CSS}": book_pdf.print_banner_css(banner_html(run_dir),
                                                                     _stamp_lines(run_dir)).encode()}
    for path in book_sources(root):
        relative = str(path.relative_to(root))
        if relative != "_config.yml":
            wanted[relative] = path
    executed = run_dir / "executed"
    boxes = has_api_reference(root)
    for path in executed.rglob("*"):
        if path.is_file():
            relative = str(path.relative_to(executed))
            # a chapter ends with the box of the functions its code calls and its notebook's download
            wanted[relative] = (with_source_box(Path(relative).as_posix(), path.read_bytes())
                                if boxes and is_chapter(Path(relative).as_posix()) else path)
    return wanted


def _same(target: Path, content: bytes | Path) -> bool:
    if not target.is_file():
        return False
    if isinstance(content, Path):
        if target.stat().st_size != content.stat().st_size:
            return False
        content = content.read_bytes()
    return target.read_bytes() == content


def sync_sources(run_dir: Path, root: Path, source: Path) -> int:
    """Make ``source`` hold exactly the book's sources for ``run_dir``; write only what changed. Return the number
    of files written or removed."""
    wanted = _wanted_sources(run_dir, root)
    changes = 0
    for relative, content in wanted.items():
        target = source / relative
        if _same(target, content):
            continue  # untouched: its modification time tells Sphinx it need not re-read it
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)  # a fresh modification time, newer than Sphinx's last read
        else:
            target.write_bytes(content)
        changes += 1
    for path in sorted(source.rglob("*"), reverse=True):
        if path.is_file() and str(path.relative_to(source)) not in wanted:
            path.unlink()
            changes += 1
    return changes


def drop_stale_search_terms(index: Path) -> None:
    """Remove from Sphinx's search index the words that no document contains any more.

    An incremental build loads the previous ``searchindex.js`` and removes the re-read documents from each word's
    list, but keeps a word whose list became empty (Sphinx 7): the numbers of a page whose results changed would
    stay in the index, and the file would differ from a build from nothing. Dropping them gives that file's bytes
    (Sphinx writes it with ``json.dumps(..., sort_keys=True)``).
    """
    prefix, suffix = "Search.setIndex(", ")"
    if not index.is_file():
        return
    text = index.read_text(encoding="utf-8")
    if not (text.startswith(prefix) and text.endswith(suffix)):
        return  # not the format this was written for: leave it as Sphinx wrote it
    data = json.loads(text[len(prefix):-len(suffix)])
    for key in ("terms", "titleterms"):
        if isinstance(data.get(key), dict):
            data[key] = {word: docs for word, docs in data[key].items() if docs != []}
    index.write_text(prefix + json.dumps(data, sort_keys=True) + suffix, encoding="utf-8")


#: A jupyter-book process that imports Sphinx and its extensions, then waits for its arguments on one line.
_WAITING_BOOK = ("import json, sys\n"
                 "from jupyter_book.cli.main import main\n"
                 "import myst_nb, sphinx.application, sphinx.builders.html, sphinx_book_theme  # noqa: F401\n"
                 "line = sys.stdin.readline()\n"
                 "if line.strip():\n"
                 "    sys.argv = ['jupyter-book', *json.loads(line)]\n"
                 "    main()\n")


class BookProcess:
    """The ``jupyter-book`` process of a build, started ahead: its imports (a second or so of the book build's
    time) are done while the book's pages execute. :func:`build_html` hands it its arguments; a process not used
    is stopped by :meth:`close` (or at the end of a ``with`` block)."""

    def __init__(self):
        # UTF-8 both ways on every platform (Windows would use its ANSI code page for the pipes)
        self.process = subprocess.Popen([sys.executable, "-c", _WAITING_BOOK], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        encoding="utf-8", errors="replace",
                                        env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONUTF8": "1"})

    def run(self, arguments: list[str]) -> subprocess.CompletedProcess:
        stdout, stderr = self.process.communicate(json.dumps(arguments) + "\n")
        return subprocess.CompletedProcess(arguments, self.process.returncode, stdout, stderr)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()

    def __enter__(self) -> "BookProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def build_html(run_dir: Path, root: Path = REPO_ROOT, area: Path | None = None,
               process: BookProcess | None = None) -> Path:
    """Build the book strictly from the executed notebooks in ``run_dir`` into ``run_dir/html``.

    Parameters
    ----------
    run_dir : the run folder (with ``executed/``, ``sections/`` and ``manifest.json``).
    root : the project folder (``_config.yml``, ``_toc.yml``, the Markdown pages).
    area : the incremental build area (``OUT/.sphinx``), reused from the previous build when it succeeded;
        ``None`` builds from nothing in ``run_dir`` and deletes the intermediate files.
    process : a :class:`BookProcess` started earlier, to use instead of starting one now.
    """
    incremental = area is not None
    area = area if incremental else run_dir / "book_work"
    stamp = area / STAMP
    if stamp.is_file():
        stamp.unlink()  # until this build succeeds, the area is not to be trusted
    elif area.exists():
        shutil.rmtree(area)  # a failed or interrupted build: start from nothing
    source, build_dir = area / "src", area / "build"
    source.mkdir(parents=True, exist_ok=True)
    changed = sync_sources(run_dir, root, source)
    arguments = ["build", str(source), "--path-output", str(build_dir), "--builder", "html", "--warningiserror",
                 "--nitpick", "--keep-going", "--quiet"]
    reused = (build_dir / "_build" / ".doctrees" / "environment.pickle").is_file()
    for stale in (build_dir / "_build" / "html" / "_static").glob("mystnb.*.css"):
        # myst-nb writes it when the build ends; pages written while it exists link it with a "?v=" checksum that
        # pages of a fresh build lack: without it, a page is the same whether rebuilt alone or with the whole book
        stale.unlink()
    _log(f"building the book (strict: warnings are errors; {changed} sources changed"
         f"{', re-reading only those' if reused else ', from nothing'}) ...")
    start = time.perf_counter()
    with process or BookProcess() as book:
        completed = book.run(arguments)
    if completed.returncode != 0:
        shutil.rmtree(area, ignore_errors=True)  # the next build reads every document again and shows its warnings
        lines = re.sub(r"\x1b\[[0-9;]*m", "", completed.stdout + "\n" + completed.stderr).splitlines()  # no colours
        problems = [line for line in lines if "WARNING" in line or "ERROR" in line or "Exception" in line]
        detail = "\n".join(problems[:60] or lines[-40:])
        raise StudyRunError(f"the book build failed (jupyter-book exit {completed.returncode}; warnings are errors):\n{detail}")
    html_dir = run_dir / "html"
    if reused:
        drop_stale_search_terms(build_dir / "_build" / "html" / "searchindex.js")
    if incremental:
        shutil.copytree(build_dir / "_build" / "html", html_dir)
        stamp.write_text(f"{run_dir.name}\n", encoding="utf-8")
    else:
        shutil.move(build_dir / "_build" / "html", html_dir)
        shutil.rmtree(area, ignore_errors=True)
    copy_downloads(run_dir, html_dir)
    copy_notebooks(root, [path.relative_to(run_dir / "executed").with_suffix("").as_posix()
                          for path in sorted((run_dir / "executed").rglob("*.ipynb"))], html_dir)
    annotate_chapters(run_dir, html_dir)  # the article's values and the departures, from the scorecard page
    _log(f"book built in {time.perf_counter() - start:.1f} s")
    return html_dir


def _manifest_stamp(run_dir: Path):
    """The run's provenance stamp as its manifest records it (None for a manifest without one)."""
    from hcc_utils.report.provenance import Stamp

    manifest = run_dir / "manifest.json"
    values = json.loads(manifest.read_text(encoding="utf-8")).get("stamp") if manifest.is_file() else None
    return Stamp.from_dict(values) if values else None


def _run_stamp(run_dir: Path) -> str:
    """The stamp in one line for a PDF's subject (empty without one)."""
    stamp = _manifest_stamp(run_dir)
    return stamp.compact() if stamp else ""


def _stamp_lines(run_dir: Path) -> list[str]:
    """The stamp's visible lines for the foot of every printed page (none without one)."""
    stamp = _manifest_stamp(run_dir)
    return stamp.lines() if stamp else []


def print_book(html_dir: Path, run_dir: Path, entries: list[str], area: Path | None = None) -> None:
    """The book's PDFs (each page of ``entries``, and the whole book) printed by the computer's Chromium into
    ``html/downloads/`` (:mod:`hcc_utils.pipeline.book_pdf`); none where no such browser is installed, as the
    *Submission files* page then says (:func:`pdf_line`). With the build ``area``, pages printed by the previous
    build whose HTML and shared files did not change are reused (``area/pdf``)."""
    browser, reason = book_pdf.print_browser()
    if browser is None:
        _log(f"the book is built without its PDFs: {reason}")
        return
    start = time.perf_counter()
    try:
        written = book_pdf.write_book_pdfs(html_dir, entries, _study_config(run_dir).study.title, banner_html(run_dir),
                                           browser, cache_dir=area / "pdf" if area is not None else None,
                                           stamp=_run_stamp(run_dir))
    except ImportError as error:  # an environment installed before the PDFs' packages were pinned
        raise StudyRunError(f"printing the book's PDFs needs {error.name}, which this environment lacks; update it "
                            f"with `python3.11 -m hcc_utils setup` (Windows: `py -3.11 -m hcc_utils setup`)") from None
    except Exception as error:  # the browser could not print, and the Submission files page links the PDFs
        raise StudyRunError(f"printing the book's PDFs failed ({type(error).__name__}: {error}); name another "
                            f"Chromium, Chrome or Edge in {book_pdf.CHROMIUM_VARIABLE}") from error
    _log(f"book printed: {len(written)} PDFs in {time.perf_counter() - start:.1f} s")
