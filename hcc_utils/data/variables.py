"""The study's variables: the analysis table's columns, the author's own variables, and what each analysis needs.

The analysis table (:func:`hcc_utils.data.derive.analysis_table`) has the article's columns
(:data:`ARTICLE_COLUMNS`, each with its kind and the dictionary columns it is derived from) and then the variables of
the configuration's ``variables`` list. The configuration names these columns in its analysis lists
(:func:`configured_lists`: Table 1's rows, the matching covariates, the Cox candidates and forced covariates, the
diagnostics' univariable models); :func:`list_problems` refuses an unknown name (with the closest known one) or a
kind the analysis cannot take, naming the key.

:func:`study_dictionary` is the data dictionary the run reads and validates with: the dictionary's columns, the
author's variables appended, and every ``required: enrolled`` column that no configured analysis needs made
optional (an extract without a lymph-node column builds once ``lymph_node_metastasis`` is taken out of the lists).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import NamedTuple

from hcc_utils.config import StudyConfig, as_config
from hcc_utils.config.schema import ROLES, Variable
from hcc_utils.data.dictionary import ColumnSpec, DataDictionary, load_dictionary

__all__ = ["ARTICLE_COLUMNS", "ARTICLE_ID_NAMES", "CONTROL_GROUP", "MODEL_KINDS", "RESERVED", "AnalysisColumn",
           "ListProblem", "analysis_columns", "configured_lists", "list_problems", "needed_sources", "study_dictionary",
           "variable_spec"]

#: The regimen indicator of the Cox models (1 = the control regimen): a column the Cox section adds, not the table.
CONTROL_GROUP = "control_group"
#: Columns the study adds to the analysis table (the matching's) or to its models: no variable may take their names.
RESERVED = (CONTROL_GROUP, "ps", "logit_ps", "pair_id", "matched")
#: Kinds of analysis-table columns a model takes. The others: ``category`` (text), and ``id`` and ``outcome``, which
#: no list may name.
MODEL_KINDS = ("binary", "number", "integer")


@dataclass(frozen=True)
class AnalysisColumn:
    """A column of the analysis table: its kind (``id``, ``outcome``, ``binary`` 0/1, ``number``, ``integer`` or
    ``category`` text), the input columns it is derived from, and whether every run uses it (``fixed``: sections
    that no list configures, e.g. responses, third-line therapy, adverse events)."""

    name: str
    kind: str
    sources: tuple[str, ...]
    fixed: bool = False
    levels: tuple | None = None   # the levels of a category (or of a whole number's range), display order
    short: str = ""               # its name in result ids when not its own (the article's: cox.os_uni_ecog2_hr)

    @property
    def id_name(self) -> str:
        """The column's name in result ids."""
        return self.short or self.name


#: Short names of the article's Cox candidates in result ids (the article's ids, ``cox.os_uni_ecog2_hr``; labels
#: state the configured cut-points). Any other column is named by itself.
ARTICLE_ID_NAMES = {
    "age_older": "age65", "sex_male": "male", "ecog_2": "ecog2", "viral_etiology": "viral", "child_pugh_b": "cp_b",
    "bclc_c": "bclc_c", "tumor_multiple": "multiple", "tumor_size_large": "size10", "lymph_node_metastasis": "lnm",
    "extrahepatic_metastasis": "ehm", "macrovascular_invasion": "mvi", "afp_high": "afp",
    "pivka_high": "pivka", "atebev_cycles_few": "cycles_lt3",
}


def _columns() -> tuple[AnalysisColumn, ...]:
    dictionary = load_dictionary()
    ae = [spec.name for spec in dictionary.adverse_event_columns]
    dates = ("second_line_start_date", "progression_date", "death_date", "last_followup_date")
    def col(name, kind, sources, fixed=False, levels=None):
        return AnalysisColumn(name, kind, sources, fixed, levels, ARTICLE_ID_NAMES.get(name, ""))

    return (
        col("patient_id", "id", ("patient_id",), True), col("group", "id", ("second_line_regimen",), True),
        col("treatment", "id", ("second_line_regimen",), True),
        col("age", "number", ("age",)), col("age_older", "binary", ("age",)), col("sex_male", "binary", ("sex",)),
        col("ecog", "integer", ("ecog",)), col("ecog_2", "binary", ("ecog",)),
        col("etiology", "category", ("etiology",)), col("viral_etiology", "binary", ("etiology",)),
        col("child_pugh_score", "integer", ("child_pugh_score",)),
        col("child_pugh_class", "category", ("child_pugh_score",), levels=("A", "B", "C")),
        col("child_pugh_b", "binary", ("child_pugh_score",)),
        col("bclc_stage", "category", ("bclc_stage",)), col("bclc_c", "binary", ("bclc_stage",)),
        col("tumor_number", "integer", ("tumor_number",)), col("tumor_multiple", "binary", ("tumor_number",)),
        col("tumor_size_cm", "number", ("tumor_size_cm",)), col("tumor_size_large", "binary", ("tumor_size_cm",)),
        *(col(name, "binary", (name,)) for name in ("lymph_node_metastasis", "extrahepatic_metastasis",
                                                     "macrovascular_invasion")),
        col("afp_ng_ml", "number", ("afp_ng_ml",)), col("afp_high", "binary", ("afp_ng_ml",)),
        col("pivka_mau_ml", "number", ("pivka_mau_ml",)), col("pivka_high", "binary", ("pivka_mau_ml",)),
        # the prior cycles' subgroups (Supplementary Table 2) and the letter's matching scenarios use them always
        col("atebev_cycles", "integer", ("atebev_cycles",), True),
        col("atebev_cycles_few", "binary", ("atebev_cycles",)),
        col("atebev_cycles_many", "binary", ("atebev_cycles",), True),
        col("best_response_recist", "category", ("best_response_recist",), True),
        col("best_response_mrecist", "category", ("best_response_mrecist",), True),
        col("os_months", "outcome", dates, True), col("os_event", "outcome", dates, True),
        col("pfs_months", "outcome", dates, True), col("pfs_event", "outcome", dates, True),
        col("third_line_regimen", "category", ("third_line_regimen",), True),
        col("received_third_line", "binary", ("third_line_regimen",), True),
        *(col(name, "integer", (name,), True) for name in ae),
        col("ae_any", "binary", tuple(ae), True), col("ae_grade_3_4", "binary", tuple(ae), True),
        col("ae_led_to_discontinuation", "binary", ("ae_led_to_discontinuation",), True),
    )


#: The article's columns of the analysis table, in order (``derive.ANALYSIS_COLUMNS`` are their names).
ARTICLE_COLUMNS: tuple[AnalysisColumn, ...] = _columns()


def variable_spec(variable: Variable) -> ColumnSpec:
    """An author's variable as a column of the data dictionary."""
    return ColumnSpec(name=variable.name, type=variable.type, required=variable.required,
                      description=variable.description or (variable.label or ""), unit=variable.unit,
                      allowed=tuple(value.strip().lower() for value in variable.allowed) if variable.allowed else None,
                      minimum=variable.min, maximum=variable.max)


_KIND_OF_TYPE = {"number": "number", "integer": "integer", "boolean": "binary", "category": "category"}


def _levels_of(spec: ColumnSpec) -> tuple | None:
    """Levels of a dictionary column in display order: a category's allowed values, or the range of a whole number
    with at most 21 values (ECOG 0-4, a grade 1-3)."""
    if spec.allowed:
        return spec.allowed
    if spec.type == "integer" and spec.minimum is not None and spec.maximum is not None \
            and spec.maximum - spec.minimum <= 20:
        return tuple(range(int(spec.minimum), int(spec.maximum) + 1))
    return None


def analysis_columns(config: StudyConfig | dict | None = None) -> dict[str, AnalysisColumn]:
    """Every column of the run's analysis table by name: the article's, then the configuration's variables."""
    config = as_config(config)
    dictionary = load_dictionary()
    columns = {}
    for column in ARTICLE_COLUMNS:
        source = column.sources[0]
        if column.levels is None and column.kind in ("category", "integer") and source in dictionary \
                and column.sources == (column.name,):
            column = replace(column, levels=_levels_of(dictionary.column(source)))
        columns[column.name] = column
    for variable in config.variables:
        spec = variable_spec(variable)
        columns[variable.name] = AnalysisColumn(variable.name, _KIND_OF_TYPE[variable.type], (variable.name,),
                                                levels=_levels_of(spec))
    return columns


def configured_lists(config: StudyConfig | dict | None = None) -> dict[str, list[str]]:
    """The configuration's analysis lists by key: the columns each configured analysis uses."""
    config = as_config(config)
    univariable = config.diagnostics.univariable
    return {"baseline.rows": [row.variable for row in config.baseline.rows],
            "matching.covariates": list(config.matching.covariates),
            "cox.candidates": list(config.cox.candidates),
            "cox.forced": list(config.cox.forced),
            "diagnostics.univariable": list(config.cox.candidates if univariable is None else univariable)}


#: Lists whose columns enter a model (numbers, whole numbers or yes/no values only).
_MODEL_LISTS = ("matching.covariates", "cox.candidates", "cox.forced", "diagnostics.univariable")
#: Lists that may name the regimen indicator.
_REGIMEN_LISTS = ("cox.candidates", "cox.forced", "diagnostics.univariable")
_ROW_KINDS = {"median_iqr": ("number", "integer"), "mean_sd": ("number", "integer"), "binary": ("binary",),
              "categorical": ("category", "integer", "binary")}


class ListProblem(NamedTuple):
    """A name of the configuration that the analysis cannot take: the key, the name, the validation rule and the
    message (which names the key)."""

    key: str
    name: str
    rule: str
    message: str


def list_problems(config: StudyConfig | dict | None = None) -> list[ListProblem]:
    """What the configuration's analysis lists name that the analysis cannot take: an unknown name (rule
    ``unknown_variable``, with the closest known one), an identifier or outcome column, a category in a model or a
    Table 1 kind that does not fit the variable (``variable_kind``), and an author's variable named like a column
    of the dictionary or the analysis table (``variable_name``)."""
    config = as_config(config)
    columns = analysis_columns(config)
    dictionary = load_dictionary()
    problems = []
    article = {column.name for column in ARTICLE_COLUMNS}
    for variable in config.variables:
        if variable.name in article or variable.name in dictionary or variable.name in RESERVED:
            problems.append(ListProblem("variables", variable.name, "variable_name", f"variables: {variable.name!r} "
                                        "is already a column of the data dictionary or the analysis table; give "
                                        "your variable another name"))
    listable = [name for name, column in columns.items() if column.kind not in ("id", "outcome")]
    for key, names in configured_lists(config).items():
        if key == "diagnostics.univariable" and config.diagnostics.univariable is None:
            continue  # the Cox candidates, checked under their own key
        known = listable + ([CONTROL_GROUP] if key in _REGIMEN_LISTS else [])
        for name in names:
            message = _list_entry_problem(key, name, columns.get(name), known)
            if message:
                rule = "unknown_variable" if name not in columns else "variable_kind"
                problems.append(ListProblem(key, name, rule, f"{key}: {name!r} {message}"))
    for key in ("cox.candidates", "diagnostics.univariable"):
        if key == "diagnostics.univariable" and config.diagnostics.univariable is None:
            continue
        # the regimen indicator's ids name the control group by its role (Groups.role): cox.os_uni_control_hr
        ids: dict[str, str] = {ROLES[1]: CONTROL_GROUP} if CONTROL_GROUP in configured_lists(config)[key] else {}
        for name in configured_lists(config)[key]:
            if name in columns:
                other = ids.setdefault(columns[name].id_name, name)
                if other != name:
                    problems.append(ListProblem(key, name, "variable_name", f"{key}: {name!r} would share its result "
                                                f"ids with {other!r} ({columns[name].id_name}); rename your variable"))
    for row in config.baseline.rows:
        column = columns.get(row.variable)
        if column is not None and row.kind is not None and column.kind in _KIND_OF_TYPE.values() \
                and column.kind not in _ROW_KINDS[row.kind]:
            problems.append(ListProblem("baseline.rows", row.variable, "variable_kind", f"baseline.rows: "
                                        f"{row.variable!r} is a {column.kind} variable and cannot be summarised as "
                                        f"{row.kind}"))
    return problems


def _list_entry_problem(key: str, name: str, column: AnalysisColumn | None, known: list[str]) -> str:
    """Why list ``key`` cannot take ``name`` (empty when it can)."""
    if name == CONTROL_GROUP and key in _REGIMEN_LISTS:
        return ""
    if column is None:
        close = difflib.get_close_matches(name, known, n=1) or [k for k in known if name in k][:1]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"is not a column of the analysis table nor a variable of the configuration's variables list{hint}"
    if column.kind in ("id", "outcome"):
        return (f"is the study's {'outcome' if column.kind == 'outcome' else 'identifier or group'}, not a "
                "characteristic of the patients")
    if key in _MODEL_LISTS and column.kind not in MODEL_KINDS:
        return ("is a category, which a model cannot take as it is; use a yes/no variable per level (or a whole "
                "number for an ordered scale)")
    return ""


def needed_sources(config: StudyConfig | dict | None = None) -> set[str]:
    """The input columns the configured analyses read: those of every column each run uses, and of every column
    the analysis lists name."""
    columns = analysis_columns(config)
    listed = {name for names in configured_lists(config).values() for name in names}
    return {source for column in columns.values() if column.fixed or column.name in listed
            for source in column.sources}


def study_dictionary(config: StudyConfig | dict | None = None,
                     dictionary: DataDictionary | None = None) -> DataDictionary:
    """The data dictionary of a run: ``dictionary`` (the bundled one by default) with the configuration's variables
    appended, and its ``required: enrolled`` columns that no configured analysis needs (:func:`needed_sources`)
    made optional. A variable named like a dictionary column is left out (:func:`list_problems` reports it).
    """
    config = as_config(config)
    base = dictionary or load_dictionary()
    variables = [variable for variable in config.variables if variable.name not in base]
    needed = needed_sources(config)
    columns = tuple(replace(spec, required="optional") if spec.required == "enrolled" and spec.name not in needed
                    else spec for spec in base.columns)
    if not variables and columns == base.columns:
        return base
    return replace(base, columns=columns + tuple(variable_spec(variable) for variable in variables))
