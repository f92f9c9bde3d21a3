"""Sentences that state what the numbers support, shared by the book (the introduction glues them) and the manuscript
(its abstract's conclusions), so that the two cannot disagree.

A difference is called significant only when its p-value is below the configuration's ``significance_level``; a
p-value that could not be estimated supports no statement of significance either way.
"""
from __future__ import annotations

import math

import pandas as pd

from hcc_utils.config import StudyConfig
from hcc_utils.study.labels import COHORT_NAMES
from hcc_utils.report.presentation import p_statement, result_text
from hcc_utils.study.registry import parse_value

#: The endpoints the conclusion speaks of: (words, log-rank p-value id without the cohort's suffix).
CONCLUSION_ENDPOINTS = (("overall survival", "survival.os_logrank_p"),
                        ("progression-free survival", "survival.pfs_logrank_p"))


def significance_phrase(p: float, level: float, outcome: str) -> str:
    """'a significant difference in <outcome>' when ``p`` < ``level``; 'no significant difference in <outcome>'
    when ``p`` >= ``level``; 'no estimable difference in <outcome>' when ``p`` is missing."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return f"no estimable difference in {outcome}"
    return f"{'a' if p < level else 'no'} significant difference in {outcome}"


def _p(results: pd.DataFrame, key: str) -> float:
    rows = results[results["id"] == key]
    if rows.empty or str(rows.iloc[0].get("status", "ok")) != "ok":
        return math.nan
    return float(parse_value("p", rows.iloc[0]["value"]))


def conclusion_sentence(results: pd.DataFrame, config: StudyConfig) -> str:
    """What the run's survival comparison supports, in one sentence per cohort (all enrolled, matched), from
    ``results.csv``: e.g. "Among all enrolled patients, lenvatinib and sorafenib showed a significant difference in
    overall survival (P = 0.017) and in progression-free survival (P = 0.001); in the propensity-score-matched
    cohort, no significant difference in overall survival (P = 0.354) and a significant difference in
    progression-free survival (P = 0.003), at a significance level of 0.05."
    """
    level = config.significance_level
    parts = []
    for suffix in COHORT_NAMES:
        phrases = []
        for outcome, key in CONCLUSION_ENDPOINTS:
            p_key = key + suffix
            phrases.append(f"{significance_phrase(_p(results, p_key), level, outcome)} "
                           f"({p_statement(result_text(results, p_key))})")
        where = "among all enrolled patients" if not suffix else "in the propensity-score-matched cohort"
        parts.append((where, " and ".join(phrases)))
    (first_where, first), *rest = parts
    sentence = (f"{first_where[0].upper()}{first_where[1:]}, {config.groups.treatment} and {config.groups.control} "
                f"showed {first}")
    sentence += "".join(f"; {where}, {phrases}" for where, phrases in rest)
    return f"{sentence}, at a significance level of {level:g}."
