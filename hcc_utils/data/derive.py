"""Derivations: the cohort flow diagram and the analysis table.

Both functions take the screened cohort as returned by :func:`hcc_utils.data.readers.read_cohort`
(and accepted by :func:`hcc_utils.data.validate.validate_cohort`) and the study configuration
(:class:`hcc_utils.config.StudyConfig`; a mapping is validated against the schema).

Definitions (``derived`` section of ``data/data_dictionary.yml``)
-----------------------------------------------------------------
* *enrolled*: ``first_line_end_reason`` is progression, ``deteriorated_after_first_line`` is
  not true (empty reads as no) and ``second_line_regimen`` is one of the study groups
  (``config.groups``);
* OS: from ``second_line_start_date`` to ``death_date`` (event), else to
  ``last_followup_date`` (censored);
* PFS: from ``second_line_start_date`` to the earliest of ``progression_date`` and
  ``death_date`` (event), else to ``last_followup_date`` (censored);
* months = days / :data:`DAYS_PER_MONTH`; an event on the start day gives 0 months.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from hcc_utils.config import StudyConfig, as_config
from hcc_utils.config.schema import ROLES
from hcc_utils.data.coerce import coerce_column
from hcc_utils.data.dictionary import DataDictionary, load_dictionary
from hcc_utils.data.text import normalise_column_name
from hcc_utils.data.variables import ARTICLE_COLUMNS, study_dictionary

__all__ = [
    "ANALYSIS_COLUMNS",
    "analysis_column_names",
    "DAYS_PER_MONTH",
    "FLOW_KEYS",
    "analysis_table",
    "cohort_flow",
    "enrolment_masks",
    "regimen_key",
    "study_groups",
    "typed_cohort",
]

#: Days per month for survival times, from the data dictionary (30.4375 = 365.25 / 12).
DAYS_PER_MONTH: float = load_dictionary().days_per_month
#: Id suffix used in ``data/targets.csv`` for a regimen whose name differs from its id.
_REGIMEN_FLOW_SUFFIX = {"fluorouracil": "5fu"}
_SECOND_LINE_REGIMENS = tuple(
    name for name in load_dictionary().column("second_line_regimen").allowed or () if name != "none"
)
#: Keys of :func:`cohort_flow` that do not depend on the configured groups, in diagram order.
FLOW_KEYS: tuple[str, ...] = (
    "flow.eligible",
    "flow.died_on_first_line",
    "flow.deteriorated_on_first_line",
    "flow.progressed",
    "flow.deteriorated_after_first_line",
    "flow.no_second_line",
    "flow.second_line",
    *(f"flow.second_line_{_REGIMEN_FLOW_SUFFIX.get(name, name)}" for name in _SECOND_LINE_REGIMENS),
    "flow.enrolled",
)


def _adverse_event_names(dictionary: DataDictionary) -> list[str]:
    return [spec.name for spec in dictionary.adverse_event_columns]


#: The article's columns of :func:`analysis_table`, in order (docs/ARCHITECTURE.md; their kinds and sources are
#: :data:`hcc_utils.data.variables.ARTICLE_COLUMNS`).
ANALYSIS_COLUMNS: tuple[str, ...] = tuple(column.name for column in ARTICLE_COLUMNS)


def analysis_column_names(config: StudyConfig | Mapping[str, Any] | None = None) -> list[str]:
    """Columns of :func:`analysis_table` under ``config``: :data:`ANALYSIS_COLUMNS`, then the configuration's
    variables in their order."""
    return [*ANALYSIS_COLUMNS, *(variable.name for variable in as_config(config).variables)]


# --------------------------------------------------------------------------- configuration
def study_groups(config: StudyConfig | Mapping[str, Any] | None = None) -> tuple[str, str]:
    """The (treatment, control) second-line regimens compared by the study.

    Parameters
    ----------
    config : StudyConfig or mapping, optional
        Study configuration (its ``groups``); the schema's defaults when None.

    Returns
    -------
    tuple of str
        Lower-case regimen names (any regimen: the dictionary's list is not a closed set).

    The schema refuses an empty name, ``none`` and two equal names (:class:`hcc_utils.config.ConfigError`).
    """
    groups = as_config(config).groups
    return groups.treatment.strip().lower(), groups.control.strip().lower()


def regimen_key(name: str) -> str:
    """Id suffix of a regimen in ``flow.second_line_<suffix>``: lower case, other characters as ``_``."""
    name = _REGIMEN_FLOW_SUFFIX.get(name, name)
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "other"


# --------------------------------------------------------------------------- typed frame and enrolment
def typed_cohort(
    df: pd.DataFrame,
    dictionary: DataDictionary | None = None,
    strict: bool = True,
    columns: Iterable[str] | None = None,
    rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """Every dictionary column in its type; absent columns are added empty.

    Parameters
    ----------
    df : pandas.DataFrame
        Screened cohort (output of :func:`hcc_utils.data.readers.read_cohort`, or any frame with the
        dictionary's columns as text or typed values).
    dictionary : DataDictionary, optional
        Defaults to :func:`hcc_utils.data.dictionary.load_dictionary`.
    strict : bool
        Raise if a value does not convert to its column's type.
    columns : iterable of str, optional
        Only these dictionary columns (default all).
    rows : numpy.ndarray of bool, optional
        Only these rows (as ``typed_cohort(df.loc[rows])``, taken a column at a time).

    Returns
    -------
    pandas.DataFrame
        Dictionary columns in dictionary order, ``RangeIndex``.

    Raises
    ------
    ValueError
        With ``strict``, naming the columns with unconvertible values (run
        :func:`hcc_utils.data.validate.validate_cohort` for the full report).
    """
    dictionary = dictionary or load_dictionary()
    by_name = {normalise_column_name(name): position for position, name in enumerate(df.columns)}
    typed: dict[str, pd.Series] = {}
    problems: list[str] = []
    wanted = set(columns) if columns is not None else None
    positions = None if rows is None else np.flatnonzero(rows)
    n_rows = len(df) if positions is None else len(positions)
    for spec in dictionary.columns:
        if wanted is not None and spec.name not in wanted:
            continue
        if spec.name in by_name:
            series = df.iloc[:, by_name[spec.name]]
            series = (series if positions is None else series.iloc[positions]).reset_index(drop=True)
        else:
            series = pd.Series(np.full(n_rows, None, dtype=object))
        coerced = coerce_column(series, spec, dictionary)
        if strict and coerced.invalid.any():
            problems.append(f"{spec.name} ({int(coerced.invalid.sum())} value(s) not of type {spec.type})")
        typed[spec.name] = coerced.values
    if problems:
        raise ValueError(
            "the cohort has values of the wrong type in " + ", ".join(problems)
            + "; run hcc_utils.data.validate.validate_cohort for the full report"
        )
    return pd.DataFrame(typed, index=pd.RangeIndex(n_rows), copy=False)  # the converted arrays, not copies


def enrolment_masks(
    first_line_end_reason: pd.Series,
    deteriorated_after_first_line: pd.Series,
    second_line_regimen: pd.Series,
    groups: tuple[str, ...],
) -> dict[str, np.ndarray]:
    """Boolean masks of the flow diagram's boxes.

    Parameters
    ----------
    first_line_end_reason, second_line_regimen : pandas.Series
        Lower-case category text.
    deteriorated_after_first_line : pandas.Series
        Nullable boolean; missing reads as no.
    groups : tuple of str
        Study regimens.

    Returns
    -------
    dict of str to numpy.ndarray
        ``died_on_first_line``, ``deteriorated_on_first_line``, ``progressed``,
        ``deteriorated_after_first_line`` (progressed, then deteriorated), ``no_second_line``
        (progressed, not deteriorated, regimen none or empty), ``second_line`` (progressed, not
        deteriorated, any regimen) and ``enrolled`` (``second_line`` with a study regimen).
    """
    reason = first_line_end_reason.to_numpy(dtype=object)
    regimen = second_line_regimen.to_numpy(dtype=object)
    deteriorated = deteriorated_after_first_line.astype("boolean").fillna(False).to_numpy(dtype=bool)
    progressed = reason == "progression"
    has_regimen = pd.notna(regimen) & (regimen != "none")
    eligible_for_second_line = progressed & ~deteriorated
    return {
        "died_on_first_line": reason == "death",
        "deteriorated_on_first_line": reason == "deterioration",
        "progressed": progressed,
        "deteriorated_after_first_line": progressed & deteriorated,
        "no_second_line": eligible_for_second_line & ~has_regimen,
        "second_line": eligible_for_second_line & has_regimen,
        "enrolled": eligible_for_second_line & _equals_any(regimen, groups),
    }


def _equals_any(values: np.ndarray, candidates: Iterable[str]) -> np.ndarray:
    """Elementwise ``values in candidates`` for an object array (faster than ``np.isin`` on objects)."""
    result = np.zeros(len(values), dtype=bool)
    for candidate in candidates:
        result |= values == candidate
    return result


_ENROLMENT_COLUMNS = ("first_line_end_reason", "deteriorated_after_first_line", "second_line_regimen")


def _masks_of(typed: pd.DataFrame, groups: tuple[str, ...]) -> dict[str, np.ndarray]:
    return enrolment_masks(*(typed[name] for name in _ENROLMENT_COLUMNS), groups)


# --------------------------------------------------------------------------- flow diagram
def cohort_flow(df: pd.DataFrame, config: StudyConfig | Mapping[str, Any] | None = None) -> dict[str, int]:
    """Counts of the flow diagram (article Fig. 1), keyed by the ids of ``data/targets.csv``.

    Parameters
    ----------
    df : pandas.DataFrame
        Screened cohort, one row per patient who stopped first-line ATE+BEV.
    config : mapping, optional
        Study configuration (``groups``).

    Returns
    -------
    dict of str to int
        ``flow.eligible`` (rows), ``flow.died_on_first_line``, ``flow.deteriorated_on_first_line``,
        ``flow.progressed``, ``flow.deteriorated_after_first_line``, ``flow.no_second_line``
        (progressed, not deteriorated, no second-line therapy; not in the article),
        ``flow.second_line``, ``flow.second_line_<regimen>`` for every second-line regimen of the
        dictionary (fluorouracil as ``5fu``) and then every other regimen of the data (:func:`regimen_key`),
        ``flow.enrolled``, ``flow.enrolled_treatment`` and ``flow.enrolled_control`` (groups named by role; the
        regimen counts ``flow.second_line_<regimen>`` keep the regimen's name, because they count that regimen).
    """
    groups = study_groups(config)
    typed = typed_cohort(df, strict=False, columns=_ENROLMENT_COLUMNS)
    masks = _masks_of(typed, groups)
    regimen = typed["second_line_regimen"].to_numpy(dtype=object)
    flow = {"flow.eligible": len(typed)}
    for name in ("died_on_first_line", "deteriorated_on_first_line", "progressed", "deteriorated_after_first_line",
                 "no_second_line", "second_line"):
        flow[f"flow.{name}"] = int(masks[name].sum())
    # The dictionary's regimens always (the article's flow), then any other regimen the data holds.
    others = sorted(set(regimen[masks["second_line"]]) - set(_SECOND_LINE_REGIMENS))
    for name in (*_SECOND_LINE_REGIMENS, *others):
        flow[f"flow.second_line_{regimen_key(name)}"] = int((masks["second_line"] & (regimen == name)).sum())
    flow["flow.enrolled"] = int(masks["enrolled"].sum())
    for role, name in zip(ROLES, groups):  # by role, as result ids name the groups (Groups.role)
        flow[f"flow.enrolled_{role}"] = int((masks["enrolled"] & (regimen == name)).sum())
    return flow


# --------------------------------------------------------------------------- analysis table
def _flag(condition: pd.Series, source: pd.Series) -> pd.Series:
    """0/1 ``Int64`` of ``condition``, missing where ``source`` is missing."""
    return condition.astype("boolean").astype("Int64").mask(source.isna())


def _months_between(start: pd.Series, end: pd.Series) -> pd.Series:
    days = (end - start).dt.days.astype("float64")
    return days / DAYS_PER_MONTH


def _survival(typed: pd.DataFrame) -> dict[str, pd.Series]:
    start = typed["second_line_start_date"]
    death = typed["death_date"]
    progression = typed["progression_date"]
    last_followup = typed["last_followup_date"]
    os_end = death.fillna(last_followup)
    first_event = progression.where(progression.notna() & (death.isna() | (progression <= death)), death)
    pfs_end = first_event.fillna(last_followup)
    return {
        "os_months": _months_between(start, os_end),
        "os_event": death.notna().astype("int64"),
        "pfs_months": _months_between(start, pfs_end),
        "pfs_event": first_event.notna().astype("int64"),
    }


def analysis_table(df: pd.DataFrame, config: StudyConfig | Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per enrolled patient with the modelled covariates and OS/PFS.

    Parameters
    ----------
    df : pandas.DataFrame
        Screened cohort that passed :func:`hcc_utils.data.validate.validate_cohort`.
    config : StudyConfig or mapping, optional
        Study configuration: ``groups`` (treatment, control) and ``cutpoints``; the schema's defaults
        when None.

    Returns
    -------
    pandas.DataFrame
        Exactly :func:`analysis_column_names` (:data:`ANALYSIS_COLUMNS`, then the configuration's ``variables``:
        yes/no as ``Int64`` 0/1, categories as lower-case text, numbers as ``float64``, whole numbers as ``Int64``),
        enrolled patients in file order, ``RangeIndex``.
        Binary covariates are ``Int64`` 0/1 (missing where the source is missing);
        ``treatment``, ``os_event`` and ``pfs_event`` are ``int64``; months are ``float64``.
        Dichotomised columns are named by meaning, not by cut-point (``age_older``,
        ``tumor_size_large``, ``afp_high``, ``pivka_high``, ``atebev_cycles_few``, ``atebev_cycles_many``):
        the cut-points are the configuration's, and labels state them.

    Raises
    ------
    ValueError
        If a value does not convert to its dictionary type (validate first).
    """
    config = as_config(config)
    dictionary = study_dictionary(config)
    treatment_group, control_group = study_groups(config)
    cutpoints = config.cutpoints
    keys = typed_cohort(df, dictionary, strict=False, columns=_ENROLMENT_COLUMNS)
    is_enrolled = _masks_of(keys, (treatment_group, control_group))["enrolled"]
    # the enrolled rows of each column as it is converted (no copy of the whole screened cohort's rows)
    enrolled = typed_cohort(df, dictionary, rows=is_enrolled if len(df) else None)
    table: dict[str, pd.Series] = {}  # the columns, put in one frame at the end (no copy of the finished table)
    table["patient_id"] = enrolled["patient_id"]
    regimen = enrolled["second_line_regimen"]
    # a categorical (categories in sorted order, as groupby sorts text): comparing a million patients' groups
    # with a name then costs a millisecond, not the tens an object column costs, and every subset copies less
    table["group"] = regimen.astype(pd.CategoricalDtype(sorted(regimen.dropna().unique(), key=str)))
    table["treatment"] = (enrolled["second_line_regimen"] == treatment_group).astype("int64")
    table["age"] = enrolled["age"]
    table["age_older"] = _flag(enrolled["age"] >= cutpoints.age_years, enrolled["age"])
    table["sex_male"] = _flag(enrolled["sex"] == "male", enrolled["sex"])
    table["ecog"] = enrolled["ecog"]
    table["ecog_2"] = _flag(enrolled["ecog"] >= 2, enrolled["ecog"])
    table["etiology"] = enrolled["etiology"]
    viral = _equals_any(enrolled["etiology"].to_numpy(dtype=object), ("hbv", "hcv", "hbv_hcv"))
    table["viral_etiology"] = _flag(pd.Series(viral, index=enrolled.index), enrolled["etiology"])
    score = enrolled["child_pugh_score"]
    table["child_pugh_score"] = score
    score_values = score.astype("float64").to_numpy(na_value=np.nan)
    child_pugh_class = pd.Series(
        np.select([score_values <= 6, score_values <= 9], ["A", "B"], "C"), index=score.index, dtype=object
    )
    table["child_pugh_class"] = child_pugh_class.mask(score.isna())
    table["child_pugh_b"] = _flag(score >= 7, score)
    table["bclc_stage"] = enrolled["bclc_stage"]
    table["bclc_c"] = _flag(enrolled["bclc_stage"] == "c", enrolled["bclc_stage"])
    table["tumor_number"] = enrolled["tumor_number"]
    table["tumor_multiple"] = _flag(enrolled["tumor_number"] >= 2, enrolled["tumor_number"])
    table["tumor_size_cm"] = enrolled["tumor_size_cm"]
    table["tumor_size_large"] = _flag(enrolled["tumor_size_cm"] >= cutpoints.tumor_size_cm, enrolled["tumor_size_cm"])
    for name in ("lymph_node_metastasis", "extrahepatic_metastasis", "macrovascular_invasion"):
        table[name] = enrolled[name].astype("Int64")
    table["afp_ng_ml"] = enrolled["afp_ng_ml"]
    table["afp_high"] = _flag(enrolled["afp_ng_ml"] >= cutpoints.afp_ng_ml, enrolled["afp_ng_ml"])
    table["pivka_mau_ml"] = enrolled["pivka_mau_ml"]
    table["pivka_high"] = _flag(enrolled["pivka_mau_ml"] >= cutpoints.pivka_mau_ml, enrolled["pivka_mau_ml"])
    cycles = enrolled["atebev_cycles"]
    table["atebev_cycles"] = cycles
    table["atebev_cycles_few"] = _flag(cycles < cutpoints.atebev_cycles_low, cycles)
    table["atebev_cycles_many"] = _flag(cycles > cutpoints.atebev_cycles_subgroup, cycles)
    table["best_response_recist"] = enrolled["best_response_recist"]
    table["best_response_mrecist"] = enrolled["best_response_mrecist"]
    for name, values in _survival(enrolled).items():
        table[name] = values
    table["third_line_regimen"] = enrolled["third_line_regimen"]
    table["received_third_line"] = _flag(enrolled["third_line_regimen"] != "none", enrolled["third_line_regimen"])
    # any grade >= 1 / grade 3 or 4 over the adverse events, a column at a time (no frame of every grade)
    all_missing = np.ones(len(enrolled), dtype=bool)
    any_grade, grade_3_4 = np.zeros(len(enrolled), dtype=bool), np.zeros(len(enrolled), dtype=bool)
    for name in _adverse_event_names(dictionary):
        table[name] = grade = enrolled[name]
        known = grade.notna().to_numpy()
        values = grade.to_numpy(dtype="float64", na_value=np.nan)
        all_missing &= ~known
        any_grade |= known & (values >= 1)
        grade_3_4 |= known & ((values == 3) | (values == 4))
    for name, flags in (("ae_any", any_grade), ("ae_grade_3_4", grade_3_4)):
        table[name] = pd.Series(flags, index=enrolled.index).astype("Int64").mask(all_missing)
    table["ae_led_to_discontinuation"] = enrolled["ae_led_to_discontinuation"].astype("Int64")
    for variable in config.variables:  # the author's own: yes/no as 0/1, the others in their dictionary type
        values = enrolled[variable.name]
        table[variable.name] = values.astype("Int64") if variable.type == "boolean" else values
    # one column per block, no consolidation: the frame holds these Series' arrays without copying them
    return pd.DataFrame({name: table[name] for name in analysis_column_names(config)},
                        index=pd.RangeIndex(len(enrolled)), copy=False)
