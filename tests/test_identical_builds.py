"""Two builds of the same inputs give byte-identical HTML.

The session's shared build (``bundled_book``) is compared with a second, independent build into another folder, file
by file over the whole ``html/`` tree (pages, search index, images, downloads): nothing may differ, and the failure
names every file that does, with the first differing line of a text file.

The second build is forced (every notebook executed from scratch) and kept in ``.cache/test-builds/second``, keyed by
a fingerprint of everything a build reads (``conftest.inputs_fingerprint``: package, notebooks, book pages, data,
settings, installed versions). It is made again whenever that fingerprint changed, so after any change the test
compares two builds of the current inputs: the shared one (re-using what the runner verified from earlier sessions,
re-executing the rest, its HTML rebuilt this session) and a from-scratch one. With nothing changed it compares this
session's shared build with the from-scratch build of the very same inputs made earlier: it still proves that a
build re-using cached notebooks gives the bytes of a clean one, and that the HTML build is deterministic.
A new commit that changes none of those files changes only the pages that state the commit (the About page): the
second build is then brought up to date as the shared one is, by the runner re-executing those pages and rebuilding
the HTML (the stamp ``second.inputs`` holds the fingerprint and the commit).
A fresh clone (CI) has no cache: there both builds are made in the session.
"""
from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from hcc_utils.pipeline.cli import main
from conftest import BUILD_CACHE, cache_lock, inputs_fingerprint, printing_pdfs, published

pytestmark = pytest.mark.slow


def tree_differences(first: Path, second: Path) -> list[str]:
    """Files present in only one tree, and files whose bytes differ (with the first differing line of text)."""
    files_a = {p.relative_to(first) for p in first.rglob("*") if p.is_file()}
    files_b = {p.relative_to(second) for p in second.rglob("*") if p.is_file()}
    found = [f"only in the first build: {p}" for p in sorted(files_a - files_b)]
    found += [f"only in the second build: {p}" for p in sorted(files_b - files_a)]
    for relative in sorted(files_a & files_b):
        a, b = (first / relative).read_bytes(), (second / relative).read_bytes()
        if a != b:
            detail = ""
            if relative.suffix in {".html", ".js", ".css", ".svg", ".txt", ".csv", ".json"}:
                diff = [line for line in difflib.unified_diff(a.decode(errors="replace").splitlines(),
                                                              b.decode(errors="replace").splitlines(), lineterm="", n=0)
                        if line[:1] in "+-" and line[:3] not in {"+++", "---"}]
                detail = ": " + " | ".join(line[:160] for line in diff[:2])
            found.append(f"differs: {relative}{detail}")
    return found


def test_tree_comparison_names_a_changed_file(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name / "sub").mkdir(parents=True)
        (tmp_path / name / "sub" / "page.html").write_text("<p>same</p>\n")
    (tmp_path / "b" / "sub" / "page.html").write_text("<p>other</p>\n")
    (tmp_path / "b" / "extra.js").write_text("x")
    assert tree_differences(tmp_path / "a", tmp_path / "b") == [
        "only in the second build: extra.js", "differs: sub/page.html: -<p>same</p> | +<p>other</p>"]


@pytest.mark.extra_build
def test_two_builds_of_the_same_inputs_give_identical_html(bundled_book):
    from hcc_utils.config import REPO_ROOT
    from hcc_utils.pipeline.cache import source_provenance

    second, stamp = BUILD_CACHE / "second", BUILD_CACHE / "second.inputs"
    with cache_lock("second"), printing_pdfs():  # the PDFs too must be the same bytes
        fingerprint, commit = inputs_fingerprint(), source_provenance(REPO_ROOT)
        built = stamp.read_text().split("\n") if stamp.is_file() and (second / "current" / "html" / "index.html").is_file() \
            else []
        if built[:1] != [fingerprint]:
            stamp.unlink(missing_ok=True)
            assert main(["build", "--out", str(second), "--force", "--jobs", "2"]) == 0
        elif built[1:] != [commit]:  # only the commit changed: the runner re-executes the pages that state it
            stamp.unlink(missing_ok=True)
            assert main(["build", "--out", str(second), "--jobs", "2"]) == 0
        if not stamp.is_file():
            assert (inputs_fingerprint(), source_provenance(REPO_ROOT)) == (fingerprint, commit), \
                "the sources changed during the build"
            stamp.write_text(f"{fingerprint}\n{commit}")
    differences = tree_differences(published(bundled_book) / "html", published(second) / "html")
    assert not differences, f"{len(differences)} files differ between two builds:\n" + "\n".join(differences[:40])
