"""The study layer: the :class:`Study` (validated, derived and matched cohort), the registry of result ids and one
module per article section (:mod:`hcc_utils.study.sections`)."""
from __future__ import annotations


import pandas as pd

from hcc_utils.config import StudyConfig
from hcc_utils.data.readers import release_freed_memory
from hcc_utils.study.cohort import Study, build_study, group_code, load_study
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SECTIONS

__all__ = ["Kind", "ResultSet", "Study", "build_study", "compute_results", "group_code", "load_study"]


def compute_results(raw: pd.DataFrame, config: StudyConfig | dict | None = None, validate: bool = False) -> ResultSet:
    """Every number of the book from a screened cohort, keyed by result id (what the notebooks record).

    The synthetic cohort's calibration scores its result with this, so it aims at exactly the book's numbers.
    """
    study = build_study(raw, config, validate=validate)
    values = ResultSet()
    for section in SECTIONS:
        values.merge(section.compute(study).values)
        release_freed_memory()  # each section's work arrays: the next one starts from the study's own footprint
    return values
