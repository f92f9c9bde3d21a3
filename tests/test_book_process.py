"""The jupyter-book process started ahead of the book build (hcc_utils/pipeline/book.py, BookProcess)."""
from __future__ import annotations

from importlib import metadata

import pytest

from hcc_utils.pipeline.book import BookProcess

pytestmark = pytest.mark.portable


def test_book_process_runs_the_arguments_it_is_handed():
    with BookProcess() as book:
        completed = book.run(["--version"])
    assert completed.returncode == 0
    assert metadata.version("jupyter-book") in completed.stdout + completed.stderr


def test_unused_book_process_is_stopped():
    book = BookProcess()
    with book:
        pass
    assert book.process.poll() is not None
