"""A manuscript draft of the run's study (``hcc-study export --manuscript``): the same numbers and sentences as the
book, laid out as a journal article (title page, structured abstract, Methods from the configuration, Results from
the book's own glued paragraphs, Vancouver references, tables and figures, STROBE and RECORD checklists).

Modules: ``source`` (the executed notebooks' prose with their glued values, MyST roles turned into manuscript
text), ``references`` (Vancouver numbering and list, citeproc-py), ``methods`` (Methods and the abstract's
methods from the configuration), ``checklists`` (STROBE and RECORD items with the manuscript's section),
``content`` (the whole manuscript as a :class:`~hcc_utils.report.manuscript.content.Manuscript`), ``docx_writer``
and ``html_writer`` (its two renderings; ``hcc_utils.pipeline.manuscript`` prints the HTML to PDF).
"""
