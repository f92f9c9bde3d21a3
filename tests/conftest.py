"""Fixtures shared by the test files: ONE build of the whole book on the bundled cohort per test session.

``tests/test_book_build.py`` (the build's contents), ``tests/test_browser.py`` (the pages in Chromium) and
``tests/test_identical_builds.py`` (two builds give the same bytes) all read this build, so the session pays for
it once (about a minute).

``HCC_STUDY_TEST_BOOK=<folder>`` points the session at a book already built with
``hcc-study build --force --out <folder>`` from the same sources, to iterate on the browser tests without a rebuild.
It is for working on the tests; CI always builds.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from hcc_utils.pipeline.cli import main

#: Environment variable naming a book already built from the same sources (see the module docstring).
PREBUILT_BOOK_VARIABLE = "HCC_STUDY_TEST_BOOK"


@pytest.fixture(scope="session")
def bundled_book(tmp_path_factory) -> Path:
    """The output folder of a forced build of the whole book on the bundled synthetic cohort."""
    prebuilt = os.environ.get(PREBUILT_BOOK_VARIABLE)
    if prebuilt and not os.environ.get("CI"):
        folder = Path(prebuilt)
        assert (folder / "html" / "index.html").is_file(), f"{PREBUILT_BOOK_VARIABLE}={prebuilt} holds no built book"
        return folder
    out = tmp_path_factory.mktemp("bundled")
    assert main(["build", "--out", str(out), "--force", "--jobs", "2"]) == 0
    return out
