"""The study cache (hcc_utils.study.cache): built once, loaded by notebooks, never used when stale or damaged; and the
subsets the Study stores."""
from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hcc_utils.config import StudyConfig  # noqa: E402
from hcc_utils.study import ResultSet, compute_results, load_study  # noqa: E402
from hcc_utils.study.cache import STUDY_CACHE_ENV, cache_path, study_cache_key, take_notes  # noqa: E402
from hcc_utils.study.cohort import prepare_study_cache  # noqa: E402
from hcc_utils.study.sections import SECTIONS  # noqa: E402

COHORT = ROOT / "data" / "synthetic_cohort.csv"


@pytest.fixture(scope="module")
def fresh():
    return load_study(COHORT, StudyConfig(), cache=False)


@pytest.fixture()
def data_copy(tmp_path):
    path = tmp_path / "cohort.csv"
    shutil.copy2(COHORT, path)
    return path


def test_cached_study_equals_the_computed_one(fresh, data_copy, tmp_path, capfd):
    folder = prepare_study_cache(data_copy, StudyConfig(), tmp_path / "cache")
    [entry] = folder.glob("study-*.pkl")
    assert entry == cache_path(folder, study_cache_key(data_copy, StudyConfig()))
    cached = load_study(data_copy, StudyConfig(), cache=folder)
    assert take_notes(folder) == [] and "study cache" not in capfd.readouterr().err  # a hit says nothing
    pd.testing.assert_frame_equal(cached.data, fresh.data)
    pd.testing.assert_frame_equal(cached.matched, fresh.matched)
    assert cached.flow == fresh.flow and cached.match_summary == fresh.match_summary
    assert cached.source_name == "cohort.csv" and cached.synthetic is True
    pd.testing.assert_frame_equal(cached.raw, fresh.raw)
    assert _printed(compute_results(fresh.raw, StudyConfig())) == _printed(_results(cached))


def _results(study):
    values = ResultSet()
    for section in SECTIONS:
        values.merge(section.compute(study).values)
    return values


def _printed(values) -> dict:
    return {key: repr(value) for key, value in values.items()}  # NaN equals NaN


def test_environment_variable_names_the_cache(data_copy, tmp_path, monkeypatch):
    folder = prepare_study_cache(data_copy, StudyConfig(), tmp_path / "cache")
    monkeypatch.setenv(STUDY_CACHE_ENV, str(folder))
    first, second = load_study(data_copy, StudyConfig()), load_study(data_copy, StudyConfig())
    assert first is not second and first.data.equals(second.data)
    monkeypatch.delenv(STUDY_CACHE_ENV)
    assert load_study(data_copy, StudyConfig()).data.equals(first.data)  # alone (no runner): computed


def test_stale_entries_are_never_used(fresh, data_copy, tmp_path, capfd):
    folder = prepare_study_cache(data_copy, StudyConfig(), tmp_path / "cache")
    other = StudyConfig().replace(**{"matching.caliper": 0.05})
    study = load_study(data_copy, other, cache=folder)  # another configuration: another key
    [note] = take_notes(folder)
    assert "no entry for this data" in note
    assert "study cache" not in "".join(capfd.readouterr())  # in a kernel, stderr would reach the page
    assert study.match_summary["caliper"] == 0.05
    # changed data (one follow-up date) under the same name: recomputed, not the cached study
    text = data_copy.read_text().splitlines()
    data_copy.write_text("\n".join(text[:-1]) + "\n")
    assert len(load_study(data_copy, StudyConfig(), cache=folder).raw) == len(fresh.raw) - 1
    assert "stale" in " ".join(take_notes(folder)) and take_notes(folder) == []  # each note relayed once
    # the runner replaces the stale entry and keeps only the newest
    prepare_study_cache(data_copy, StudyConfig(), folder)
    assert len(list(folder.glob("study-*.pkl"))) == 1


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_damaged_entries_are_recomputed(fresh, data_copy, tmp_path, capfd, damage):
    folder = prepare_study_cache(data_copy, StudyConfig(), tmp_path / "cache")
    [entry] = folder.glob("study-*.pkl")
    body = entry.read_bytes()
    entry.write_bytes({"truncate": body[: len(body) // 2], "flip": body[:-10] + bytes([body[-10] ^ 1]) + body[-9:],
                       "garbage": b"not a pickle"}[damage])
    study = load_study(data_copy, StudyConfig(), cache=folder)
    assert "unreadable" in " ".join(take_notes(folder)) and "unreadable" not in "".join(capfd.readouterr())
    pd.testing.assert_frame_equal(study.data, fresh.data)
    prepare_study_cache(data_copy, StudyConfig(), folder)  # the runner rewrites a damaged entry
    assert entry.read_bytes() == body


def test_matched_subset_is_stored_and_follows_data(fresh):
    assert fresh.matched is fresh.matched
    assert fresh.matched.equals(fresh.data[fresh.data["matched"] == 1])
    fewer = dataclasses.replace(fresh, data=fresh.data.iloc[:100])
    assert len(fewer.matched) == int((fresh.data["matched"].iloc[:100] == 1).sum())
    assert fresh.cohort_problems() == {} and fresh.cohort_problems() is not fresh.cohort_problems()
    mask = fresh.group_mask(fresh.matched, fresh.treatment)
    assert mask.sum() == (fresh.matched["group"] == fresh.treatment).sum()
