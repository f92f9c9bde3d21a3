"""The study's propensity-score matching: the configuration's ``matching`` block applied to the analysis table.

The statistics (unpenalised logistic propensity model, greedy nearest-neighbour matching) are
:mod:`hcc_utils.stats.matching`; this module only reads the configuration and adds the columns the sections use.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hcc_utils.config import StudyConfig
from hcc_utils.stats.matching import MatchResult, matched_set_weights, nearest_neighbor_match, propensity_scores


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
                 id_col: str = "patient_id", compat: str | None = None, scores: pd.Series | None = None,
                 exact: list[str] | None = None, fitted: tuple | None = None) -> CohortMatch:
    """Estimate propensity scores and match the study cohort as ``config.matching`` says.

    Parameters
    ----------
    analysis_df : output of :func:`hcc_utils.data.derive.analysis_table` (``treatment`` 0/1).
    config : the study configuration (``matching``; ``seed`` for the random order).
    treatment_col, id_col : column names.
    compat : MatchIt-compatibility mode (``matching.compat`` when not given; None = the intended algorithm).
    scores : propensity scores from another model (indexed like ``analysis_df``, in (0, 1)) matched on instead of
        the logistic model's; the logistic model is still fitted for its coefficient table. Sensitivity analyses only.
    exact : columns matched on exactly (MatchIt ``exact =``): patients are matched only within the strata these
        columns define, with the caliper's width still in SDs of the whole cohort's distance.
    fitted : ``(model, match)`` that validation fitted on this very table with the configuration's settings
        (:func:`hcc_utils.data.validate.validate_cohort` ``shared``): used instead of fitting and matching again.
    """
    m = config.matching
    compat = compat if compat is not None else m.compat
    reuse = fitted is not None and scores is None and not exact and compat == m.compat and treatment_col == "treatment" \
        and id_col == "patient_id"
    model = fitted[0] if reuse else propensity_scores(analysis_df, treatment_col, list(m.covariates), id_col=id_col)
    ps = model.ps.to_numpy() if scores is None else np.asarray(scores, dtype=float)
    ids = analysis_df[id_col].to_numpy() if id_col in analysis_df.columns else None
    options = dict(ratio=m.ratio, caliper=m.caliper, caliper_scale=m.caliper_scale, order=m.order,
                   seed=config.seed, compat=compat)
    treated = analysis_df[treatment_col].to_numpy(dtype=float)
    if reuse:
        res = fitted[1]
    elif exact:
        res = _match_within_strata(ps, treated, analysis_df[list(exact)], ids, options)
    else:
        res = nearest_neighbor_match(ps, treated, ids=ids, **options)
    out = analysis_df.copy()
    out["ps"] = ps
    out["logit_ps"] = np.log(ps / (1 - ps))
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
        "exact": list(exact or []), "scores": "logistic" if scores is None else "given",
    }
    return CohortMatch(out, summary, model.coefficients)


def _match_within_strata(ps: np.ndarray, treated: np.ndarray, strata: pd.DataFrame, ids, options: dict) -> MatchResult:
    """The study's matcher run in each stratum of ``strata`` (exact matching on its columns). The caliper keeps its
    width on the whole cohort's distance (as MatchIt's ``std.caliper`` with ``exact``): in a stratum it is given in
    that stratum's SDs. Matched sets are renumbered 1, 2, ... across strata; greedy matching within disjoint strata
    equals a global greedy match that forbids pairs across strata."""
    if strata.isna().any().any():
        raise ValueError(f"exact matching needs every value of {list(strata.columns)}")
    n = ps.size
    index = pd.Index(ids if ids is not None else np.arange(n))
    distance = np.log(ps / (1 - ps)) if options["caliper_scale"] == "logit" else ps
    sd_all = float(np.std(distance, ddof=1))
    pair_id = pd.Series(pd.array([pd.NA] * n, dtype="Int64"), index=index)
    unmatched, offset, width = [], 0, None
    keys = strata.astype(str).agg("|".join, axis=1).to_numpy()
    for key in sorted(set(keys)):
        where = np.flatnonzero(keys == key)
        t = treated[where]
        if t.sum() == 0 or (1 - t).sum() == 0:
            unmatched += [index[i] for i in where[t == 1]]
            continue
        local = dict(options)
        if options["caliper"] is not None:
            width = options["caliper"] * sd_all
            sd_here = float(np.std(distance[where], ddof=1))
            local["caliper"] = width / sd_here if sd_here > 0 else None
        res = nearest_neighbor_match(ps[where], t, ids=index[where], **local)
        sets = res.pair_id.to_numpy()
        pair_id.iloc[where] = pd.array([v + offset if not pd.isna(v) else pd.NA for v in sets], dtype="Int64")
        offset += int(np.nanmax(pd.to_numeric(pd.Series(sets), errors="coerce").to_numpy(dtype=float), initial=0))
        unmatched += list(res.unmatched_treated_ids)
    # renumber sets 1, 2, ... in order of appearance so that ids are consecutive
    codes = {v: k for k, v in enumerate(pd.unique(pair_id.dropna()), start=1)}
    pair_id = pair_id.map(lambda v: codes.get(v, pd.NA)).astype("Int64")
    return MatchResult(np.empty((0, options["ratio"]), dtype=int), np.flatnonzero(treated == 1), pair_id, distance,
                       width, len(unmatched), unmatched)


def set_weights(matched: pd.DataFrame, treatment_col: str = "treatment") -> np.ndarray | None:
    """MatchIt's weights of a matched cohort's k:1 sets (``pair_id``; :func:`hcc_utils.stats.matching.matched_set_weights`),
    or None when they are all 1 or do not apply: 1:1 pairs, or a frame with patients outside every set."""
    if matched.empty or "pair_id" not in matched or not matched["pair_id"].notna().all() \
            or matched["pair_id"].value_counts().max() <= 2:
        return None
    return matched_set_weights(matched[treatment_col].astype(int).to_numpy(), matched["pair_id"].to_numpy())
