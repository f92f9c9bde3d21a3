"""Figures and tables carry their numbers in their captions ("Figure 2", "Figure 11.2"): this Sphinx extension turns
Sphinx's running numbers ("Fig. 5") off, so that no figure shows two numbers.

``numfig: false`` in ``_config.yml`` is not enough: Jupyter Book's LaTeX extension (``sphinx_jupyterbook_latex``,
loaded for every builder) sets ``numfig`` back to true when the configuration is read. This handler runs after it
(a later priority). The captions' own numbers are text, so every output keeps them.
"""
from __future__ import annotations


def _no_running_numbers(app, config) -> None:
    config.numfig = False


def setup(app) -> dict:
    """Sphinx extension entry point."""
    app.connect("config-inited", _no_running_numbers, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
