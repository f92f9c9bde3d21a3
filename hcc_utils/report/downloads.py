"""Download links under each table and figure of the book.

A run writes each section's files into ``sections/<notebook>/{tables,figures}/``; the book build copies them into
``html/downloads/<notebook>/`` (:func:`hcc_utils.pipeline.runner.build_html`). Every page of the book sits one
folder below ``html/`` (``notebooks/…``, ``book/…``), so a link is ``../downloads/<notebook>/<file>``.
"""
from __future__ import annotations

import html
from pathlib import Path

from IPython.display import HTML

#: Folder of ``html/`` holding the files offered for download, and the formats offered (in this order).
DOWNLOADS_DIR = "downloads"
DOWNLOAD_FORMATS = (".docx", ".xlsx", ".csv", ".pdf", ".svg", ".png")


def download_href(output_dir: str | Path, path: str | Path) -> str:
    """The link, relative to a book page, to a file a notebook wrote under ``output_dir``."""
    output_dir = Path(output_dir)
    relative = Path(path).resolve().relative_to(output_dir.resolve())
    return f"../{DOWNLOADS_DIR}/{output_dir.name}/{relative.as_posix()}"


def download_links(output_dir: str | Path, paths, label: str = "Download") -> HTML:
    """A line of links ("Download: DOCX · XLSX · CSV") to the files of one table or figure.

    ``paths`` are files under ``output_dir``; only the formats of :data:`DOWNLOAD_FORMATS` are offered, in that order.
    """
    files = sorted((Path(p) for p in (paths.values() if isinstance(paths, dict) else paths)
                    if Path(p).suffix in DOWNLOAD_FORMATS), key=lambda p: DOWNLOAD_FORMATS.index(p.suffix))
    links = " · ".join(f'<a href="{html.escape(download_href(output_dir, p))}" download>{p.suffix[1:].upper()}</a>'
                       for p in files)
    return HTML(f'<p class="hcc-downloads">{html.escape(label)}: {links}</p>')
