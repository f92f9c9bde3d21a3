"""Analysis rules: the checks the study's models depend on, run by the validator so that it predicts the build.

:func:`check_analysis` derives the analysis table with the run's configuration and runs the propensity model the
study runs (:func:`hcc_utils.stats.matching.propensity_scores`) and its matching:

* errors: ``model_column_empty`` (a Cox candidate without any value, e.g. the AFP column absent),
  ``covariate_unknown`` (a matching covariate is not a column of the analysis table),
  ``covariate_absent`` (no enrolled patient has a value: its source column is absent or empty),
  ``covariate_missing`` (an enrolled patient misses a covariate the model needs), ``constant_covariate``,
  ``separation`` (the covariates predict the group perfectly for these patients), ``propensity_model`` (any other
  failure of the model);
* warnings: ``matched_size`` (fewer matched pairs than ``min_group_size``; with fewer than two the book reports
  the matched cohort as not estimable), ``collinear_covariates`` (left out of the propensity model, as R's NA),
  ``near_constant_covariate`` (the
  rarer value held by fewer than 5 patients or 5%), ``ps_overlap`` (more than 10% of patients score outside the
  other group's range), ``unmatched`` (more than a quarter of the treated patients without a control within the
  caliper), ``few_events`` (fewer than 5 OS or PFS events in a group).

Patient ids appear only as each violation's ``patient_id``, in the data owner's report; messages count.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from hcc_utils.config import StudyConfig
from hcc_utils.data.derive import analysis_table
from hcc_utils.data.validation_report import ViolationCollector
from hcc_utils.stats.matching import PropensityModelError, nearest_neighbor_match, propensity_scores

__all__ = ["MIN_EVENTS_PER_GROUP", "MODELLED_COLUMNS", "check_analysis"]

#: Analysis-table columns every Cox model of the study (Table 4) takes as candidates: each needs a value for some
#: enrolled patients (complete cases), so an absent optional source (AFP, PIVKA-II...) stops the build. The study
#: layer's ``COX_CANDIDATES`` must stay within this tuple (a test checks it; the data layer cannot import it).
MODELLED_COLUMNS = ("age_older", "sex_male", "ecog_2", "viral_etiology", "child_pugh_b", "bclc_c", "tumor_multiple",
                    "tumor_size_large", "lymph_node_metastasis", "extrahepatic_metastasis", "macrovascular_invasion",
                    "afp_high", "pivka_high", "atebev_cycles_few")

#: Fewer OS or PFS events than this in a group is warned about (Cox and Kaplan-Meier estimates become unstable).
MIN_EVENTS_PER_GROUP = 5
_RARE_COUNT, _RARE_SHARE = 5, 0.05
_POOR_OVERLAP_SHARE, _MANY_UNMATCHED_SHARE = 0.10, 0.25


def _rows_of(collect: ViolationCollector, ids: list[str]) -> np.ndarray:
    """Mask over the screened rows of the given patient ids."""
    return np.isin(collect.patient_ids.astype(str), np.asarray(ids, dtype=str))


def _check_covariates(table: pd.DataFrame, covariates: list[str], collect: ViolationCollector) -> list[str]:
    """Presence, completeness and variation of the matching covariates; returns those the model can use."""
    usable = []
    for name in covariates:
        if name not in table.columns:
            collect.table("error", "covariate_unknown", f"matching covariate {name!r} (config matching.covariates) "
                          "is not a column of the analysis table", column=name)
            continue
        values = table[name]
        if values.isna().all():
            collect.table("error", "covariate_absent", f"matching covariate {name!r} has no value for any enrolled "
                          "patient: its source column is absent or empty, and the propensity model needs it",
                          column=name)
            continue
        missing = values.isna().to_numpy()
        if missing.any():
            ids = table.loc[missing, "patient_id"].astype(str).tolist()
            collect.cells("error", "covariate_missing", _rows_of(collect, ids), name, None,
                          f"matching covariate {name!r} cannot be derived for this enrolled patient")
            continue
        counts = values.value_counts()
        if len(counts) < 2:
            collect.table("error", "constant_covariate", f"matching covariate {name!r} takes one value "
                          f"({counts.index[0]!r}) for every enrolled patient; drop it from matching.covariates",
                          column=name)
            continue
        rare = int(len(values) - counts.iloc[0])
        if rare < _RARE_COUNT or rare < _RARE_SHARE * len(values):
            collect.table("warning", "near_constant_covariate", f"matching covariate {name!r}: only {rare} of "
                          f"{len(values)} enrolled patients differ from the most frequent value; the propensity "
                          "model may not converge", column=name)
        usable.append(name)
    return usable


def _check_model(table: pd.DataFrame, config: StudyConfig, covariates: list[str], collect: ViolationCollector,
                 shared: dict | None = None) -> None:
    """Fit the study's propensity model and match as the configuration says (both kept in ``shared``)."""
    try:
        model = propensity_scores(table, "treatment", covariates, id_col="patient_id")
    except PropensityModelError as exc:
        if "separation" in str(exc) and exc.patient_ids:
            collect.cells("error", "separation", _rows_of(collect, exc.patient_ids), "second_line_regimen", None,
                          f"the matching covariates ({', '.join(covariates)}) predict this patient's group "
                          "perfectly (fitted propensity 0 or 1): the model cannot be estimated; coarsen or drop "
                          "a covariate")
        else:
            collect.table("error", "propensity_model", str(exc), column="second_line_regimen")
        return
    except ValueError as exc:  # any other reason the study's model would stop the build
        collect.table("error", "propensity_model", str(exc), column="second_line_regimen")
        return
    if model.fit is not None and model.fit.aliased:
        aliased = [(["Intercept", *covariates])[j] for j in model.fit.aliased]
        collect.table("warning", "collinear_covariates", f"matching covariates {aliased} are linear combinations "
                      "of the others in this cohort: the propensity model leaves them out (as R reports NA)",
                      column="second_line_regimen")
    treated = table["treatment"].to_numpy() == 1
    ps = model.ps.to_numpy()
    outside = np.zeros(len(ps), dtype=bool)
    outside[treated] = (ps[treated] < ps[~treated].min()) | (ps[treated] > ps[~treated].max())
    outside[~treated] = (ps[~treated] < ps[treated].min()) | (ps[~treated] > ps[treated].max())
    # The extreme scores lie outside the other group's range by chance; a large share means poor overlap.
    if outside.mean() > _POOR_OVERLAP_SHARE:
        collect.table("warning", "ps_overlap", f"{int(outside.sum())} of {len(ps)} enrolled patients have a "
                      "propensity score outside the other group's range: the groups overlap poorly and matching "
                      "leaves many out", column="second_line_regimen")
    m = config.matching
    match = nearest_neighbor_match(ps, treated.astype(float), ratio=m.ratio, caliper=m.caliper,
                                   caliper_scale=m.caliper_scale, order=m.order, seed=config.seed,
                                   ids=table["patient_id"].to_numpy(), compat=m.compat)
    if shared is not None:  # the build reuses them instead of fitting and matching again
        shared["propensity"], shared["match"] = model, match
    pairs = int(match.pair_id.dropna().nunique())
    if pairs < config.min_group_size:  # the book still builds: matched-cohort results are then 'not estimable'
        collect.table("warning", "matched_size",
                      f"matching gives {pairs} matched pair(s); the analyses want at least {config.min_group_size} "
                      "(config min_group_size)" + ("; the matched-cohort results will be 'not estimable'"
                                                   if pairs < 2 else ""), column="second_line_regimen")
    n_treated = int(treated.sum())
    if match.n_unmatched_treated > _MANY_UNMATCHED_SHARE * n_treated:  # a few unmatched is the caliper's job
        collect.table("warning", "unmatched", f"{match.n_unmatched_treated} of {n_treated} treated patients have "
                      "no control within the caliper and are left out of the matched cohort",
                      column="second_line_regimen")


def _check_events(table: pd.DataFrame, groups: tuple[str, str], collect: ViolationCollector) -> None:
    for endpoint, column in (("overall survival", "os_event"), ("progression-free survival", "pfs_event")):
        for group in groups:
            events = int(table.loc[table["group"] == group, column].sum())
            if 0 < events < MIN_EVENTS_PER_GROUP:
                collect.table("warning", "few_events", f"study group {group!r} has {events} {endpoint} event(s); "
                              f"estimates with fewer than {MIN_EVENTS_PER_GROUP} are unstable", column=column)


def check_analysis(typed: pd.DataFrame | None, config: StudyConfig, groups: tuple[str, str],
                   collect: ViolationCollector, shared: dict | None = None) -> None:
    """Run the analysis rules (module docstring) on a cohort without validation errors.

    Parameters
    ----------
    typed : pandas.DataFrame or None
        Every dictionary column, typed (as the validator converted it with the configuration's formats); None
        when ``shared`` gives the analysis table.
    config : StudyConfig
        The run's configuration (groups, cut-points, matching).
    groups : tuple of str
        The (treatment, control) regimens.
    collect : ViolationCollector
    shared : dict, optional
        What a build shares with its validation: ``shared["analysis_table"]``, a callable giving the analysis
        table the build will use (derived from the typed columns otherwise); the propensity model and the match
        are stored in it as ``"propensity"`` and ``"match"`` (see :func:`hcc_utils.data.validate.validate_cohort`).
    """
    table = shared["analysis_table"]() if shared and "analysis_table" in shared else analysis_table(typed, config)
    if table["treatment"].nunique() < 2:
        return  # group_size has reported it
    for name in MODELLED_COLUMNS:
        if name not in config.matching.covariates and table[name].isna().all():
            collect.table("error", "model_column_empty", f"the Cox models (Table 4) need {name!r}, which has no value "
                          "for any enrolled patient: its source column is absent or empty", column=name)
    covariates = _check_covariates(table, list(config.matching.covariates), collect)
    if len(covariates) == len(config.matching.covariates):
        _check_model(table, config, covariates, collect, shared)
    _check_events(table, groups, collect)
