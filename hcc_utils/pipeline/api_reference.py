"""A Sphinx extension for the book's *API reference*: the analysis layers' docstrings (``sphinx.ext.autodoc``, read
as numpydoc by ``sphinx.ext.napoleon``) with their highlighted source (``sphinx.ext.viewcode``).

The pages ``book/api/api_<layer>.md`` (named apart from the book's other pages: each page prints to ``<name>.pdf``) hold one ``automodule`` per module. The build stays strict (warnings are errors):

- signatures carry no type hints and default values are written as in the source (``autodoc_typehints``,
  ``autodoc_preserve_defaults``): no ``<object at 0x...>`` that would change from one build to the next;
- a Python name the book does not document (``pandas.DataFrame``, ``numpy.ndarray``, a private helper, a name
  re-exported by a package) is left as text instead of a warning of ``--nitpick`` (``nitpick_ignore_regex`` on the
  ``py`` domain only: every other reference of the book stays checked); that each ``hcc_utils`` name a docstring or
  document mentions exists is checked by ``tests/test_docs_names.py``;
- a module's public functions and classes without a docstring are documented too (a chapter's ``compute``, which
  the chapter's box links);
- a parameter written ``name : what it is`` on one line, as many of the package's docstrings do, is read with its
  text as the description rather than as a type (:func:`descriptions_not_types`);
- a module docstring's own headings ("What is estimated", "Conventions"), which numpydoc allows and several modules
  of one page share, become rubrics (:func:`headings_as_rubrics`): as sections they would give a page two targets of
  one name.
"""
from __future__ import annotations

import hashlib
import inspect
import re
import shutil
from pathlib import Path

from sphinx.application import Sphinx

#: The sections napoleon reads itself (their headings must stay as they are).
NAPOLEON_SECTIONS = {"args", "arguments", "attention", "attributes", "caution", "danger", "error", "example",
                     "examples", "hint", "important", "keyword args", "keyword arguments", "methods", "note", "notes",
                     "other parameters", "parameters", "receive", "receives", "return", "returns", "raise", "raises",
                     "references", "see also", "tip", "todo", "warning", "warnings", "warn", "warns", "yield",
                     "yields"}
_UNDERLINE = re.compile(r"^\s*(-{3,}|={3,}|~{3,})\s*$")

#: Configuration of the extensions (set only where the book's _config.yml leaves them unset).
SETTINGS = {
    "autodoc_typehints": "none",
    "add_module_names": False,  # each module's heading names it; its entries read "compute(study)"
    "autodoc_preserve_defaults": True,
    "autodoc_member_order": "bysource",
    "autodoc_default_options": {"members": True, "ignore-module-all": True},
    "napoleon_google_docstring": False,
    "napoleon_numpy_docstring": True,
    "napoleon_use_rtype": False,
    "napoleon_use_ivar": True,  # a dataclass's fields: autodoc documents them once, as members
    "viewcode_line_numbers": False,
    "nitpick_ignore_regex": [("py:.*", ".*")],
}


def headings_as_rubrics(lines: list[str]) -> None:
    """Turn each underlined heading of a docstring that is not one of napoleon's sections into a rubric (in
    place)."""
    index = 0
    while index + 1 < len(lines):
        title, underline = lines[index].strip(), lines[index + 1]
        if (title and _UNDERLINE.match(underline) and len(underline.strip()) >= len(title)
                and title.lower() not in NAPOLEON_SECTIONS):
            lines[index:index + 2] = [f".. rubric:: {title}", ""]
        index += 1


#: The sections whose entries are ``name : type`` lines.
FIELD_SECTIONS = {"parameters", "other parameters", "attributes", "returns", "yields", "receives"}
_FIELD = re.compile(r"^(?P<indent>\s*)(?P<name>[*\w][\w, *]*?)\s+:\s+(?P<rest>\S.*)$")


def descriptions_not_types(lines: list[str]) -> None:
    """Rewrite, in place, each ``name : text`` entry of a numpydoc field section whose text reads as a description
    (more than four words, or inline code) as ``name`` followed by the text indented: napoleon takes the text after
    the colon for the type, and a description split there between the type and the next lines breaks its markup."""
    section = None
    index = 0
    while index < len(lines):
        line = lines[index]
        if index + 1 < len(lines) and line.strip() and _UNDERLINE.match(lines[index + 1]):
            section = line.strip().lower()
        else:
            field = _FIELD.match(line)
            if (section in FIELD_SECTIONS and field and not field["indent"]
                    and (len(field["rest"].split()) > 4 or "``" in field["rest"])):
                lines[index:index + 1] = [field["name"], "    " + field["rest"]]
                index += 1
        index += 1


def _process_docstring(app, what, name, obj, options, lines) -> None:
    descriptions_not_types(lines)
    headings_as_rubrics(lines)


def _keep_public_definitions(app, what, name, obj, skip, options):
    """Keep a module's public functions and classes that have no docstring (a chapter's ``compute``, which the
    chapter's box links): autodoc leaves undocumented members out, and a link to them would lead nowhere."""
    if skip and what == "module" and not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj)):
        return False
    return None


def _defaults(app: Sphinx, config) -> None:
    for key, value in SETTINGS.items():
        if key not in config._raw_config:
            setattr(config, key, value)


def _fresh_source_pages(app: Sphinx) -> None:
    """Drop viewcode's pages of the previous build: viewcode skips a module's page that is newer than the module,
    although the blocks it marks (and the links to them) depend on what the API reference documents."""
    shutil.rmtree(Path(app.outdir) / "_modules", ignore_errors=True)


def setup(app: Sphinx) -> dict:
    for extension in ("sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode"):
        app.setup_extension(extension)
    app.connect("config-inited", _defaults)
    app.connect("builder-inited", _fresh_source_pages)
    app.connect("autodoc-process-docstring", _process_docstring, priority=400)
    app.connect("autodoc-skip-member", _keep_public_definitions)  # before napoleon (500)
    # a new version of this file (its settings, its docstring rules) makes Sphinx read every page again: an
    # incremental build would otherwise keep the pages of the API reference as the previous version wrote them
    version = int(hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12], 16)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": version}
