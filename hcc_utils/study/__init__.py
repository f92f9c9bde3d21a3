"""The study layer: the :class:`Study` (validated, derived and matched cohort), the registry of result ids and one
module per article section (:mod:`hcc_utils.study.sections`)."""
from __future__ import annotations


import pandas as pd

from hcc_utils.config import StudyConfig
from hcc_utils.data.readers import release_freed_memory
from hcc_utils.study.cohort import Study, build_study, group_code, load_study
from hcc_utils.study.labels import ENDPOINTS
from hcc_utils.study.parallel import ForkedCalls, parallel_wanted
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SECTIONS, predictors

__all__ = ["Kind", "ResultSet", "Study", "build_study", "compute_results", "group_code", "load_study"]


def compute_results(raw: pd.DataFrame, config: StudyConfig | dict | None = None, validate: bool = False,
                    parallel: bool | None = None) -> ResultSet:
    """Every number of the book from a screened cohort, keyed by result id (what the notebooks record).

    The synthetic cohort's calibration scores its result with this, so it aims at exactly the book's numbers.
    ``parallel``: fit Table 4's univariable Cox screens in a forked worker process while the other sections are
    computed (:mod:`hcc_utils.study.parallel`); None decides by the cohort's size. The numbers are the same either way.
    """
    study = build_study(raw, config, validate=validate)
    if parallel is None:
        parallel = parallel_wanted(len(study.data))
    endpoints = list(ENDPOINTS)
    # One worker fits the univariable screens (about 30 light fits) while this process computes the other sections,
    # then the multivariable models (their work arrays would otherwise coexist with the sections').
    screens = ForkedCalls(predictors.univariable_models, endpoints, study,
                          fork=bool(parallel) and parallel_wanted(0, 0), workers=1)
    try:
        results = {}
        for section in SECTIONS:                         # Table 4 last: the worker fits its screens meanwhile
            if section is not predictors:
                results[section] = section.compute(study).values
                release_freed_memory()  # each section's work arrays: the next one starts from the study's own footprint
        models = predictors.predictor_models(study, dict(zip(endpoints, screens.results())))
        results[predictors] = predictors.compute(study, models).values
    finally:
        screens.close()
    values = ResultSet()
    for section in SECTIONS:                             # in the sections' order, as before
        values.merge(results[section])
    return values
