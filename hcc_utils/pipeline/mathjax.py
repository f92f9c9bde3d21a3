"""A Sphinx extension serving MathJax 3 with the book, so that its formulas render with no network.

``sphinx.ext.mathjax`` (which Jupyter Book uses for the MyST ``$...$`` and ``$$...$$`` of the pages) loads MathJax
from a CDN by default: offline, or behind a hospital's proxy, a page would show raw TeX, and the browser logs a
failed request. The PyPI package ``sphinx-mathjax-offline`` (pinned in ``requirements.lock``) ships MathJax 3.2.2's
files; this extension copies the ones the ``tex-chtml`` component uses at run time (the component itself, the TeX
extensions it loads on demand, the CHTML output's web fonts, the menu and accessibility modules and their speech
rules) into ``_static/mathjax/`` of the HTML, and points ``mathjax_path`` there. Sphinx adds the script only to
pages that contain math. The package's own Sphinx hook is not used: it copies every MathJax component (24 MB).
"""
from __future__ import annotations

from importlib import metadata
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util.fileutil import copy_asset

#: The distribution that ships MathJax, and its folder of MathJax inside it.
DISTRIBUTION = "sphinx-mathjax-offline"
MATHJAX_FOLDER = "sphinx-mathjax-offline/static/mathjax"
#: The component the pages load (TeX in, CommonHTML out), relative to ``_static``.
MATHJAX_PATH = "mathjax/tex-chtml.js"
#: What that component loads on demand, relative to the MathJax folder.
RUNTIME_PARTS = ("tex-chtml.js", "input/tex/extensions", "output/chtml/fonts", "a11y", "ui", "adaptors", "sre")


def mathjax_source() -> Path:
    """The folder of MathJax's files in the installed ``sphinx-mathjax-offline`` (an error naming the package and
    the set-up command when it is missing)."""
    try:
        folder = Path(metadata.distribution(DISTRIBUTION).locate_file(MATHJAX_FOLDER))
    except metadata.PackageNotFoundError:
        folder = None
    if folder is None or not (folder / "tex-chtml.js").is_file():
        raise RuntimeError(f"the book's formulas need MathJax from the package {DISTRIBUTION}, which this environment "
                           "lacks; update it with `python3.11 -m hcc_utils setup` (Windows: `py -3.11 -m hcc_utils "
                           "setup`)")
    return folder


def copy_mathjax(source: Path, static_dir: Path) -> None:
    """Copy MathJax's run-time files from ``source`` into ``static_dir/mathjax`` (unchanged files are skipped)."""
    for part in RUNTIME_PARTS:
        origin, target = source / part, static_dir / "mathjax" / part
        if origin.is_dir():
            copy_asset(str(origin), str(target))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            copy_asset(str(origin), str(target.parent))


def _point_to_local_copy(app: Sphinx, config) -> None:
    config.mathjax_path = MATHJAX_PATH


def _copy_after_build(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        copy_mathjax(mathjax_source(), Path(app.outdir) / "_static")


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.mathjax")
    mathjax_source()  # fail at the start of the build, not after it, when the package is missing
    app.connect("config-inited", _point_to_local_copy)
    app.connect("build-finished", _copy_after_build)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
