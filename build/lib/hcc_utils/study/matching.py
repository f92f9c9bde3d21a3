"""The study's propensity-score matching: the configuration's ``matching`` block applied to the analysis table.

The statistics (unpenalised logistic propensity model, greedy nearest-neighbour matching) are
:mod:`hcc_utils.stats.matching`; this module only reads the configuration and adds the columns the sections use.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hcc_utils.config import StudyConfig
from hcc_utils.stats.matching import nearest_neighbor_match, propensity_scores


@dataclass
class CohortMatch:
    """Output of :func:`match_cohort`.

    Attributes
    ----------
    data : the analysis table with ``ps``, ``logit_ps``, ``pair_id`` (Int64, NA when unmatched), ``matched`` (0/1).
    summary : dict with ``n_treated, n_control, pairs`` (matched sets), ``matched_treated, matched_control,
        unmatched_treated, unmatched_treated_ids, caliper, caliper_scale, caliper_width, ratio, order, compat,
        covariates``.
    coefficients : the propensity model's coefficient table.
    """

    data: pd.DataFrame
    summary: dict
    coefficients: pd.DataFrame


def match_cohort(analysis_df: pd.DataFrame, config: StudyConfig, treatment_col: str = "treatment",
                 id_col: str = "patient_id", compat: str | None = None) -> CohortMatch:
    """Estimate propensity scores and match the study cohort as ``config.matching`` says.

    Parameters
    ----------
    analysis_df : output of :func:`hcc_utils.data.derive.analysis_table` (``treatment`` 0/1).
    config : the study configuration (``matching``; ``seed`` for the random order).
    treatment_col, id_col : column names.
    compat : MatchIt-compatibility mode (``matching.compat`` when not given; None = the intended algorithm).
    """
    m = config.matching
    compat = compat if compat is not None else m.compat
    model = propensity_scores(analysis_df, treatment_col, list(m.covariates), id_col=id_col)
    ids = analysis_df[id_col].to_numpy() if id_col in analysis_df.columns else None
    res = nearest_neighbor_match(model.ps.to_numpy(), analysis_df[treatment_col].to_numpy(dtype=float),
                                 ratio=m.ratio, caliper=m.caliper, caliper_scale=m.caliper_scale, order=m.order,
                                 seed=config.seed, ids=ids, compat=compat)
    out = analysis_df.copy()
    out["ps"] = model.ps.to_numpy()
    out["logit_ps"] = model.logit_ps.to_numpy()
    out["pair_id"] = pd.array(res.pair_id.to_numpy(), dtype="Int64")
    out["matched"] = out["pair_id"].notna().astype(int)
    treat = out[treatment_col].astype(float) == 1
    summary = {
        "n_treated": int(treat.sum()), "n_control": int((~treat).sum()), "pairs": int(out["pair_id"].nunique()),
        "matched_treated": int((treat & (out["matched"] == 1)).sum()),
        "matched_control": int((~treat & (out["matched"] == 1)).sum()),
        "unmatched_treated": res.n_unmatched_treated, "unmatched_treated_ids": res.unmatched_treated_ids,
        "caliper": m.caliper, "caliper_scale": m.caliper_scale, "caliper_width": res.caliper_width,
        "ratio": m.ratio, "order": m.order, "compat": compat, "covariates": list(m.covariates),
    }
    return CohortMatch(out, summary, model.coefficients)
