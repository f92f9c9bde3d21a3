"""Every number, table and figure input of the article's sections, one module per section.

Each module has ``compute(study) -> SectionResult``: ``values`` is a :class:`~hcc_utils.study.registry.ResultSet`
(every id with its kind, unit and label), ``tables`` the section's tables as the article lays them out, and
``inputs`` whatever the section's figures are drawn from (fitted models, curves). Id conventions: a group is named
by its role, ``treatment`` or ``control`` (:func:`hcc_utils.study.cohort.group_code`), whatever the regimens; a
count of a named regimen keeps the regimen (``flow.second_line_<regimen>``); the suffix ``_matched`` marks the
propensity-score-matched cohort. The article's numbers (``data/targets.csv``, which no analysis module reads) keep
the article's ids; :mod:`hcc_utils.reproduction.roles` reads each as one of these.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from hcc_utils.study.registry import ResultSet


@dataclass
class SectionResult:
    """What one article section computes."""

    values: ResultSet
    tables: dict[str, Any] = field(default_factory=dict)  # JournalTable (the book shows them) or frames (figures)
    inputs: dict[str, Any] = field(default_factory=dict)


def per_cohort(study, compute_one) -> ResultSet:
    """Run ``compute_one(suffix, cohort, values)`` for all enrolled patients ('') and the matched cohort
    ('_matched'). A matched cohort that cannot be analysed (see ``Study.cohort_problems``) gets the same ids, each
    NaN with the status ``not estimable``: they are computed on a stand-in (all enrolled patients) and blanked, so
    the set of ids never depends on the data."""
    values = ResultSet()
    problems = study.cohort_problems()
    if "" in problems:
        raise ValueError(f"the enrolled cohort cannot be analysed: {problems['']}")
    for suffix, cohort in (("", study.data), ("_matched", study.matched)):
        if suffix in problems:
            stand_in = ResultSet()
            compute_one(suffix, study.data, stand_in)
            values.merge(stand_in.not_estimable(problems[suffix]))
        else:
            compute_one(suffix, cohort, values)
    return values


# The section modules (imported after SectionResult, which they use), in the article's order.
from hcc_utils.study.sections import (baseline, cycles, flow, matching, predictors, responses, safety,  # noqa: E402
                                      survival, third_line)
from hcc_utils.study.sections.baseline import (baseline_results, baseline_tables, table1_display,  # noqa: E402,F401
                                              table1_rows)
from hcc_utils.study.sections.cycles import cycles_subgroup_results, cycles_subgroup_table  # noqa: E402,F401
from hcc_utils.study.sections.flow import flow_results  # noqa: E402,F401
from hcc_utils.study.sections.matching import matching_results, matching_tables  # noqa: E402,F401
from hcc_utils.study.sections.predictors import (cox_candidates, cox_frame, predictor_models,  # noqa: E402,F401
                                                 predictor_results, predictor_table)
from hcc_utils.study.sections.responses import response_display_table, response_results  # noqa: E402,F401
from hcc_utils.study.sections.safety import safety_results, safety_tables  # noqa: E402,F401
from hcc_utils.study.sections.survival import km_curves, risk_table, survival_results, survival_table  # noqa: E402,F401
from hcc_utils.study.sections.third_line import third_line_results, third_line_table  # noqa: E402,F401

__all__ = ["SECTIONS", "SectionResult", "per_cohort", "table1_rows", "baseline_results", "baseline_tables",
           "table1_display", "cycles_subgroup_results", "cycles_subgroup_table", "flow_results", "matching_results",
           "matching_tables", "cox_candidates", "cox_frame", "predictor_models", "predictor_results", "predictor_table",
           "response_display_table", "response_results", "safety_results", "safety_tables", "km_curves",
           "risk_table", "survival_results", "survival_table", "third_line_results", "third_line_table"]

#: The article's sections in order; ``compute(study)`` of each gives its :class:`SectionResult`.
SECTIONS = (flow, baseline, matching, responses, survival, predictors, third_line, cycles, safety)
