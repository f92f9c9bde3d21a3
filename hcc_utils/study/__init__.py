"""The study layer: the :class:`Study` (validated, derived and matched cohort), the registry of result ids and one
module per article section (:mod:`hcc_utils.study.sections`)."""
from __future__ import annotations


import pandas as pd

from hcc_utils.config import StudyConfig
from hcc_utils.data.readers import release_freed_memory
from hcc_utils.study.cohort import Study, build_study, group_code, load_study
from hcc_utils.study.labels import ENDPOINTS
from hcc_utils.study.parallel import ForkedCalls, can_fork, parallel_wanted
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SECTIONS, predictors

__all__ = ["Kind", "ResultSet", "Study", "build_study", "compute_results", "group_code", "load_study"]


#: Sections a worker process computes besides Table 4's univariable screens when the analysis is parallel (about as
#: much work as the parent's other sections and Table 4's multivariable models at 10^6 patients).
WORKER_SECTIONS = ("survival", "third_line", "cycles")


def compute_results(raw: pd.DataFrame, config: StudyConfig | dict | None = None, validate: bool = False,
                    parallel: bool | None = None) -> ResultSet:
    """Every number of the book from a screened cohort, keyed by result id (what the notebooks record).

    The synthetic cohort's calibration scores its result with this, so it aims at exactly the book's numbers.
    ``parallel``: a forked worker process fits Table 4's univariable Cox screens and computes the sections of
    :data:`WORKER_SECTIONS` while this one computes the others and then Table 4's multivariable models (their work
    arrays would otherwise coexist with the sections'); see :mod:`hcc_utils.study.parallel`. None decides by the
    cohort's size. The numbers, and their order, are the same either way.
    """
    study = build_study(raw, config, validate=validate)
    if parallel is None:
        parallel = parallel_wanted(len(study.data))
    if parallel and can_fork():
        return _parallel_results(study)
    values = ResultSet()
    for section in SECTIONS:
        values.merge(section.compute(study).values)
        release_freed_memory()  # each section's work arrays: the next one starts from the study's own footprint
    return values


def _parallel_results(study: Study) -> ResultSet:
    """`compute_results`'s sections with a forked worker (see there)."""
    for cohort in (study.data, study.matched):           # subsets and masks both processes use: computed once
        for group in study.groups:
            study.group_mask(cohort, group)
    study.cohort_problems()
    endpoints = list(ENDPOINTS)
    tasks = [("screen", endpoint) for endpoint in endpoints] + [("section", name) for name in WORKER_SECTIONS]
    work = ForkedCalls(_worker_task, tasks, study, workers=1)
    try:
        results = {}
        for section in SECTIONS:
            if section is not predictors and _name(section) not in WORKER_SECTIONS:
                results[section] = section.compute(study).values
                release_freed_memory()
        models = {}
        for index, endpoint in enumerate(endpoints):     # each multivariable model as soon as its screen is done
            models.update(predictors.predictor_models(study, {endpoint: work.result(index)}, [endpoint]))
        results[predictors] = predictors.compute(study, models).values
        done = dict(zip(tasks, work.results()))
        results.update({section: done["section", _name(section)] for section in SECTIONS
                        if ("section", _name(section)) in done})
    finally:
        work.close()
    values = ResultSet()
    for section in SECTIONS:                             # in the sections' order, as one process gives them
        values.merge(results[section])
    return values


def _name(section) -> str:
    return section.__name__.rsplit(".", 1)[-1]


def _worker_task(study: Study, task: tuple[str, str]):
    """One task of `compute_results`'s worker: ``("screen", endpoint)`` or ``("section", name)``."""
    kind, name = task
    if kind == "screen":
        return predictors.univariable_models(study, name)
    return next(section for section in SECTIONS if _name(section) == name).compute(study).values
