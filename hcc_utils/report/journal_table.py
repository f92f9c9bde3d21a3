"""The journal-table model, as the report layer and the exporters know it.

The model and its HTML rendering live in :mod:`hcc_utils.tables.journal` (the tables layer), because the study
sections, which sit below the report layer, build every table of the book as a :class:`JournalTable`. This module
keeps the name under which the exporters (DOCX, XLSX) import it.
"""
from __future__ import annotations

from hcc_utils.tables.journal import SCHEMA_VERSION, Column, JournalTable, Row, table_html  # noqa: F401

__all__ = ["SCHEMA_VERSION", "Column", "JournalTable", "Row", "table_html"]
