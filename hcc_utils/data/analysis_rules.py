"""Analysis rules: the checks the study's models depend on, run by the validator so that it predicts the build.

:func:`check_variable_lists` checks the configuration's analysis lists against the analysis table's columns and the
configuration's variables (:func:`hcc_utils.data.variables.list_problems`): errors ``unknown_variable``,
``variable_kind`` (an identifier, an outcome or a category where a model needs a number; a Table 1 kind that does
not fit), ``variable_name`` (a variable named like a dictionary column).

:func:`check_analysis` derives the analysis table with the run's configuration, checks every configured list on it,
and runs the propensity model the study runs (:func:`hcc_utils.stats.matching.propensity_scores`) and its matching:

* errors: ``group_size`` (a group of one patient: every comparison needs two), ``model_column_empty`` (a column
  of a Cox list without any value, e.g. the AFP column absent), ``covariate_absent`` (a matching covariate that
  no enrolled patient has), ``covariate_missing`` (an enrolled patient misses a matching covariate),
  ``constant_covariate`` (a matching covariate takes one value), ``separation`` (the matching covariates predict
  the group perfectly), ``propensity_model`` (any other failure of the model), ``baseline_levels`` (a value of a
  Table 1 row outside the levels given for it);
* warnings (the analysis degrades to 'not estimable' with the reason, the author should know): ``matched_size``
  (fewer matched pairs than ``min_group_size``; below two the matched cohort is not estimable),
  ``collinear_covariates`` (left out of the propensity model, as R's NA), ``near_constant_covariate`` (the rarer
  value held by fewer than 5 patients or 5%), ``ps_overlap`` (more than 10% of patients score outside the other
  group's range), ``unmatched`` (more than a quarter of the treated patients without a control within the
  caliper), ``few_events`` (fewer than 5 OS or PFS events in a group), ``constant_covariate`` (a Cox candidate,
  forced covariate or diagnostics covariate that takes one value: its models are not estimable),
  ``no_event_in_level`` (a yes/no Cox candidate with no event among the patients of one value: its hazard ratio
  has no finite estimate), ``collinear_covariates`` (two Cox candidates, or one and the regimen, that are equal or
  complementary: a multivariable model holding both is not estimable).

Every message names the configuration key that changes the analysis. Patient ids appear only as each violation's
``patient_id``, in the data owner's report; messages count.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from hcc_utils.config import StudyConfig
from hcc_utils.data.derive import analysis_table
from hcc_utils.data.validation_report import ViolationCollector
from hcc_utils.data.variables import CONTROL_GROUP, analysis_columns, configured_lists, list_problems
from hcc_utils.stats.matching import PropensityModelError, nearest_neighbor_match, propensity_scores

__all__ = ["MIN_EVENTS_PER_GROUP", "check_analysis", "check_variable_lists"]

#: Fewer OS or PFS events than this in a group is warned about (Cox and Kaplan-Meier estimates become unstable).
MIN_EVENTS_PER_GROUP = 5
#: Every comparison of the two groups needs at least this many patients in each.
MIN_ANALYSABLE_GROUP = 2
_RARE_COUNT, _RARE_SHARE = 5, 0.05
_POOR_OVERLAP_SHARE, _MANY_UNMATCHED_SHARE = 0.10, 0.25
#: The Cox lists and what becomes of a constant covariate in each.
_COX_LISTS = {"cox.candidates": "its univariable models are not estimable",
              "cox.forced": "the multivariable models are not estimable",
              "diagnostics.univariable": "its proportional-hazards tests are not estimable"}
_ENDPOINTS = (("overall survival", "os_event"), ("progression-free survival", "pfs_event"))


def check_variable_lists(config: StudyConfig, collect: ViolationCollector) -> None:
    """Report every name of the configuration's analysis lists the analysis cannot take (module docstring)."""
    for problem in list_problems(config):
        collect.table("error", problem.rule, problem.message, column=problem.name)


def _rows_of(collect: ViolationCollector, ids: list[str]) -> np.ndarray:
    """Mask over the screened rows of the given patient ids."""
    return np.isin(collect.patient_ids.astype(str), np.asarray(ids, dtype=str))


def _shown(value) -> str:
    """A constant value as a message quotes it: 0 and 1 of a yes/no column as 0 / 1, numbers plainly."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _check_covariates(table: pd.DataFrame, covariates: list[str], collect: ViolationCollector) -> list[str]:
    """Presence, completeness and variation of the matching covariates; returns those the model can use."""
    usable = []
    key = "matching.covariates"
    for name in covariates:
        values = table[name]
        if values.isna().all():
            collect.table("error", "covariate_absent", f"{key}: {name!r} has no value for any enrolled patient: its "
                          f"source column is absent or empty, and the propensity model needs it; remove it from "
                          f"{key} or add the column", column=name)
            continue
        missing = values.isna().to_numpy()
        if missing.any():
            ids = table.loc[missing, "patient_id"].astype(str).tolist()
            collect.cells("error", "covariate_missing", _rows_of(collect, ids), name, None,
                          f"{key}: {name!r} cannot be derived for this enrolled patient, and the propensity model "
                          "needs it for every one")
            continue
        counts = values.value_counts()
        if len(counts) < 2:
            collect.table("error", "constant_covariate", f"{key}: {name!r} is constant (all "
                          f"{_shown(counts.index[0])}) among the {len(values)} enrolled patients; remove it from "
                          f"{key}", column=name)
            continue
        rare = int(len(values) - counts.iloc[0])
        if rare < _RARE_COUNT or rare < _RARE_SHARE * len(values):
            collect.table("warning", "near_constant_covariate", f"{key}: {name!r}: only {rare} of "
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
                          "a covariate of matching.covariates")
        else:
            collect.table("error", "propensity_model", f"matching.covariates: {exc}", column="second_line_regimen")
        return
    except ValueError as exc:  # any other reason the study's model would stop the build
        collect.table("error", "propensity_model", f"matching.covariates: {exc}", column="second_line_regimen")
        return
    if model.fit is not None and model.fit.aliased:
        aliased = [(["Intercept", *covariates])[j] for j in model.fit.aliased]
        collect.table("warning", "collinear_covariates", f"matching.covariates {aliased} are linear combinations "
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
                      "no control within the caliper and are left out of the matched cohort (matching.caliper)",
                      column="second_line_regimen")


def _check_events(table: pd.DataFrame, groups: tuple[str, str], collect: ViolationCollector) -> None:
    for endpoint, column in _ENDPOINTS:
        for group in groups:
            events = int(table.loc[table["group"] == group, column].sum())
            if 0 < events < MIN_EVENTS_PER_GROUP:
                collect.table("warning", "few_events", f"study group {group!r} has {events} {endpoint} event(s); "
                              f"estimates with fewer than {MIN_EVENTS_PER_GROUP} are unstable", column=column)


def _cox_columns(table: pd.DataFrame, config: StudyConfig) -> dict[str, pd.Series]:
    """Every column a Cox list names, as floats (``control_group`` from the groups)."""
    control = (table["group"] == config.groups.control).astype(float)
    names = {name for key in _COX_LISTS for name in configured_lists(config)[key]}
    return {name: control if name == CONTROL_GROUP else pd.to_numeric(table[name], errors="coerce").astype(float)
            for name in names if name == CONTROL_GROUP or name in table.columns}


def _check_cox_lists(table: pd.DataFrame, config: StudyConfig, collect: ViolationCollector) -> None:
    """The Cox lists: a column without any value is an error; a constant one, a yes/no one without an event in a
    level, and two equal or complementary candidates are warnings (those models are 'not estimable')."""
    columns = _cox_columns(table, config)
    sources = analysis_columns(config)
    lists = configured_lists(config)
    reported = set()
    for key, consequence in _COX_LISTS.items():
        if key == "diagnostics.univariable" and config.diagnostics.univariable is None:
            continue  # the candidates, checked under their own key
        for name in lists[key]:
            if name not in columns or name in reported:
                continue
            values = columns[name].dropna()
            if values.empty and name in config.matching.covariates:
                continue  # covariate_absent reports it
            if values.empty:
                source = ", ".join(sources[name].sources) if name in sources else name
                collect.table("error", "model_column_empty", f"{key}: {name!r} has no value for any enrolled "
                              f"patient (its source {source} is absent or empty); remove it from {key}", column=name)
                reported.add(name)
                continue
            if values.nunique() < 2:
                collect.table("warning", "constant_covariate", f"{key}: {name!r} is constant (all "
                              f"{_shown(values.iloc[0])}) among the {len(values)} enrolled patients with a value; "
                              f"{consequence}; remove it from {key}", column=name)
                reported.add(name)
                continue
            if key == "cox.candidates" and set(values.unique()) <= {0.0, 1.0}:
                _check_levels_have_events(table, name, values, collect)
    _check_collinear_candidates(columns, lists["cox.candidates"], collect, reported)


def _check_levels_have_events(table: pd.DataFrame, name: str, values: pd.Series, collect: ViolationCollector) -> None:
    for endpoint, column in _ENDPOINTS:
        events = table.loc[values.index, column].groupby(values.to_numpy()).sum()
        empty = [level for level in (0.0, 1.0) if events.get(level, 0) == 0]
        if empty:
            collect.table("warning", "no_event_in_level", f"cox.candidates: {name!r} has no {endpoint} event among "
                          f"the patients with value {_shown(empty[0])}: its hazard ratio has no finite estimate and "
                          "is reported as not estimable", column=name)


def _check_collinear_candidates(columns: dict[str, pd.Series], candidates: list[str], collect: ViolationCollector,
                                reported: set) -> None:
    """Two yes/no candidates (or one and the regimen) that are equal or complementary wherever both are known."""
    binary = [name for name in candidates if name in columns and name not in reported
              and set(columns[name].dropna().unique()) <= {0.0, 1.0}]
    for i, first in enumerate(binary):
        for second in binary[i + 1:]:
            both = columns[first].notna() & columns[second].notna()
            a, b = columns[first][both].to_numpy(), columns[second][both].to_numpy()
            if both.sum() > 1 and ((a == b).all() or (a == 1 - b).all()):
                collect.table("warning", "collinear_covariates", f"cox.candidates: {first!r} and {second!r} are "
                              f"{'equal' if (a == b).all() else 'complementary'} for every enrolled patient: a "
                              "multivariable model selecting both is not estimable; remove one from cox.candidates",
                              column=second)


def _check_baseline_levels(table: pd.DataFrame, config: StudyConfig, collect: ViolationCollector) -> None:
    """A Table 1 row given its levels must cover every value of its column."""
    for row in config.baseline.rows:
        if row.levels is None or row.variable not in table.columns:
            continue
        given = {str(level).lower() for level in row.levels}
        observed = table[row.variable].dropna().unique()
        outside = sorted({_shown(value) for value in observed if _shown(value).lower() not in given})
        if outside:
            collect.table("error", "baseline_levels", f"baseline.rows: {row.variable!r} has the values "
                          f"{', '.join(outside)}, which are not among its levels ({', '.join(map(str, row.levels))}); "
                          "add them to the row's levels", column=row.variable)


def check_analysis(typed: pd.DataFrame | None, config: StudyConfig, groups: tuple[str, str],
                   collect: ViolationCollector, shared: dict | None = None) -> None:
    """Run the analysis rules (module docstring) on a cohort without validation errors.

    Parameters
    ----------
    typed : pandas.DataFrame or None
        Every dictionary column, typed (as the validator converted it with the configuration's formats); None
        when ``shared`` gives the analysis table.
    config : StudyConfig
        The run's configuration (groups, cut-points, analysis lists, matching).
    groups : tuple of str
        The (treatment, control) regimens.
    collect : ViolationCollector
    shared : dict, optional
        What a build shares with its validation: ``shared["analysis_table"]``, a callable giving the analysis
        table the build will use (derived from the typed columns otherwise); the propensity model and the match
        are stored in it as ``"propensity"`` and ``"match"`` (see :func:`hcc_utils.data.validate.validate_cohort`).
    """
    if list_problems(config):
        return  # check_variable_lists has reported them: the lists name columns the table does not have
    table = shared["analysis_table"]() if shared and "analysis_table" in shared else analysis_table(typed, config)
    if table["treatment"].nunique() < 2:
        return  # group_size has reported it
    sizes = table["group"].value_counts()
    small = [group for group in groups if 0 < sizes.get(group, 0) < MIN_ANALYSABLE_GROUP]
    for group in small:
        collect.table("error", "group_size", f"study group {group!r} has {int(sizes[group])} enrolled patient; "
                      f"every comparison needs at least {MIN_ANALYSABLE_GROUP} per group (min_group_size is "
                      f"{config.min_group_size})", column="second_line_regimen")
    if small:
        return
    _check_cox_lists(table, config, collect)
    _check_baseline_levels(table, config, collect)
    covariates = _check_covariates(table, list(config.matching.covariates), collect)
    if len(covariates) == len(config.matching.covariates):
        _check_model(table, config, covariates, collect, shared)
    _check_events(table, groups, collect)
