"""Table 4: univariable Cox screen and the multivariable Cox model of each endpoint.

The candidates are the configuration's ``cox.candidates`` in its order, ``cox.forced`` always enter the
multivariable model. A model the data cannot support (a constant candidate, collinear selected covariates) is
'not estimable' with its reason, never a stopped build.
"""
from __future__ import annotations

import math

import pandas as pd

from hcc_utils.data.variables import CONTROL_GROUP, analysis_columns, configured_lists
from hcc_utils.stats.cox_screen import CoxSelection, multivariable_from_univariable, univariable_cox
from hcc_utils.tables.formatting import fmt_p, fmt_ratio
from hcc_utils.tables.journal import Column, JournalTable, Row
from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.labels import ENDPOINTS, abbreviation_note, cox_ties_text, variable_labels
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SectionResult

def cox_candidates(study: Study) -> list[str]:
    """Table 4's candidates: ``cox.candidates`` of the configuration, in its order."""
    return list(study.config.cox.candidates)


def id_name(study: Study, covariate: str) -> str:
    """A covariate's name in result ids: the article's short name (``ecog2``;
    :data:`hcc_utils.data.variables.ARTICLE_ID_NAMES`), the control group's role (``control``) for ``control_group``,
    else the column's name."""
    if covariate == CONTROL_GROUP:
        return group_code(study, study.control)
    column = analysis_columns(study.config).get(covariate)
    return column.id_name if column is not None else covariate


def cox_frame(study: Study) -> pd.DataFrame:
    """The analysis table's columns of the Cox models (id, group, matched flag, the candidates and the diagnostics'
    covariates, endpoints) with ``control_group`` (1 = the control regimen) added."""
    listed = configured_lists(study.config)
    covariates = dict.fromkeys([*listed["cox.candidates"], *listed["diagnostics.univariable"]])
    needed = ["patient_id", "group", "matched", *(name for name in covariates if name != CONTROL_GROUP)]
    needed += [column for time_col, event_col, _ in ENDPOINTS.values() for column in (time_col, event_col)]
    # the columns the models (and their diagnostics) use, shared with the table (no copy: the models only read them)
    data = study.data
    frame = pd.DataFrame({name: data[name] for name in dict.fromkeys(needed) if name in data.columns}, copy=False)
    frame["control_group"] = (frame["group"] == study.control).astype(int)
    return frame


def predictor_models(study: Study, univariable: dict[str, pd.DataFrame] | None = None,
                     endpoints=None) -> dict[str, CoxSelection]:
    """Univariable screen and multivariable Cox model per endpoint (complete cases per model); ``univariable``:
    screens already fitted (`univariable_models` of an endpoint), not refitted; ``endpoints``: only these."""
    frame = cox_frame(study)
    cox = study.config.cox
    return {endpoint: multivariable_from_univariable(frame, time_col, event_col, cox_candidates(study),
                                                     selection_p=cox.selection_p, ties=cox.ties,
                                                     univariable=(univariable or {}).get(endpoint),
                                                     forced=list(cox.forced), not_estimable=True)
            for endpoint, (time_col, event_col, _) in ENDPOINTS.items() if endpoints is None or endpoint in endpoints}


def univariable_models(study: Study, endpoint: str) -> pd.DataFrame:
    """The univariable screen of one endpoint (as `predictor_models` fits it; a unit of work that
    :func:`hcc_utils.study.compute_results` gives a worker process)."""
    time_col, event_col, _ = ENDPOINTS[endpoint]
    return univariable_cox(cox_frame(study), time_col, event_col, cox_candidates(study), ties=study.config.cox.ties,
                           not_estimable=True)


def _name(study: Study, covariate: str) -> str:
    return study.control if covariate == CONTROL_GROUP else covariate


def significant(selection: CoxSelection) -> list[str]:
    """The candidates whose univariable P is below the selection threshold (the forced ones are not, unless so)."""
    uni = selection.univariable
    return [c for c, p in zip(uni["covariate"], uni["p"]) if p < selection.selection_p]


def predictor_results(study: Study, models: dict[str, CoxSelection] | None = None) -> ResultSet:
    """HR, 95% CI and p of every candidate (univariable, ``cox.<endpoint>_uni_<name>_*``) and of the
    multivariable model (``cox.<endpoint>_<name>_*``), and the list of univariable predictors below the threshold."""
    models = models or predictor_models(study)
    labels = variable_labels(study.config)
    values = ResultSet()
    for endpoint, selection in models.items():
        name = ENDPOINTS[endpoint][2]
        for model, table in (("uni_", selection.univariable), ("", selection.multivariable)):
            which = "univariable" if model else "multivariable"
            for row in table.itertuples():
                what = f"{labels.get(row.covariate, row.covariate)}, {name}, {which}"
                short = id_name(study, row.covariate)
                reason = "" if _estimable(row) else ("no finite estimate" if row.infinite_coef or not row.note
                                                     else row.note)
                for stat, value, kind, text in (("hr", row.hr, Kind.RATIO, "HR"), ("lo", row.ci_low, Kind.RATIO, "HR 95% CI lower limit"),
                                                ("hi", row.ci_high, Kind.RATIO, "HR 95% CI upper limit"),
                                                ("p", row.p, Kind.P, "P")):
                    values.add(f"cox.{endpoint}_{model}{short}_{stat}", float(value), kind, f"{text}: {what}",
                               not_estimable=reason)
                values.add(f"cox.{endpoint}_{model}{short}_n", int(row.n), Kind.COUNT, f"Patients in the model: {what}")
                values.add(f"cox.{endpoint}_{model}{short}_events", int(row.events), Kind.COUNT,
                           f"Events in the model: {what}")
        values.add(f"cox.{endpoint}_univariable_significant", sorted(_name(study, c) for c in significant(selection)),
                   Kind.LIST, f"Univariable predictors with P < {study.config.cox.selection_p:g}, {name}",
                   item_labels={_name(study, c): labels.get(c, c) for c in cox_candidates(study)})
    return values


def _estimable(row) -> bool:
    """A Cox coefficient with a finite maximum-likelihood estimate (not a monotone likelihood)."""
    return not bool(row.infinite_coef) and all(math.isfinite(float(v)) for v in (row.hr, row.ci_low, row.ci_high))


def _hr_text(row) -> str:
    if not _estimable(row):
        return "not estimable"
    return f"{fmt_ratio(row.hr)} ({fmt_ratio(row.ci_low)}–{fmt_ratio(row.ci_high)})"


def _per_unit_note(study: Study, labels: dict[str, str]) -> list[str]:
    """The footnote naming the candidates that are numbers (their hazard ratio is per unit), if any."""
    columns = analysis_columns(study.config)
    numeric = [labels.get(c, c) for c in cox_candidates(study)
               if c in columns and columns[c].kind in ("number", "integer")]
    return [f"HR per one unit of {', '.join(numeric)}."] if numeric else []


def _notes(models: dict[str, CoxSelection], labels: dict[str, str]) -> list[str]:
    """Footnotes giving each reason a model was not estimable (a monotone likelihood aside), with its models."""
    reasons: dict[str, list[str]] = {}
    for endpoint, selection in models.items():
        for which, table in (("univariable", selection.univariable), ("multivariable", selection.multivariable)):
            for row in table.itertuples():
                if not _estimable(row) and row.note and not bool(row.infinite_coef):
                    what = (labels.get(row.covariate, row.covariate) if which == "univariable"
                            else f"the multivariable model of {ENDPOINTS[endpoint][2].lower()}")
                    reasons.setdefault(row.note, []).append(what)
    return [f"Not estimable ({reason}): {', '.join(dict.fromkeys(what))}." for reason, what in reasons.items()]


def predictor_table(study: Study, models: dict[str, CoxSelection]) -> JournalTable:
    """Table 4 in the article's layout: a row group per endpoint, the spanners "Univariable" (patients and events
    of each model, HR (95% CI), P) and "Multivariable" (HR (95% CI), P); the patients and events of each
    multivariable model close its group; 'not estimable' where the data give no finite estimate."""
    labels = variable_labels(study.config)
    rows = []
    for endpoint, selection in models.items():
        group = ENDPOINTS[endpoint][2]
        multi = selection.multivariable.set_index("covariate") if len(selection.multivariable) else pd.DataFrame()
        for row in selection.univariable.itertuples():
            cells = [f"{row.n} ({row.events})", _hr_text(row), fmt_p(row.p) if _estimable(row) else "", "", ""]
            uni, multi_id = f"cox.{endpoint}_uni_{id_name(study, row.covariate)}", \
                f"cox.{endpoint}_{id_name(study, row.covariate)}"
            sources = [f"{uni}_n {uni}_events", f"{uni}_hr {uni}_lo {uni}_hi", f"{uni}_p", "", ""]
            if row.covariate in multi.index:
                m = next(multi.loc[[row.covariate]].itertuples())
                cells[3:] = [_hr_text(m), fmt_p(m.p) if _estimable(m) else ""]
                sources[3:] = [f"{multi_id}_hr {multi_id}_lo {multi_id}_hi", f"{multi_id}_p"]
            rows.append(Row(labels.get(row.covariate, row.covariate), tuple(cells), group=group,
                            sources=tuple(sources)))
        if len(selection.multivariable):
            first = selection.multivariable.iloc[0]
            rows.append(Row(MULTIVARIABLE_SIZE_LABEL, ("", "", "", f"{first['n']} ({first['events']})", ""),
                            group=group))
    columns = [Column("Patients (events), n", "Univariable"), Column("HR (95% CI)", "Univariable"),
               Column("P", "Univariable"), Column("HR (95% CI)", "Multivariable"), Column("P", "Multivariable")]
    footnotes = [
        f"Cox proportional-hazards regression with {cox_ties_text(study.config.cox.ties)}; Wald 95% CI and P. Each "
        "model uses the patients with every one of its covariates recorded.",
        *_per_unit_note(study, labels),
        f"Variables with a univariable P below {study.config.cox.selection_p:g} entered the multivariable model"
        + (f"; {', '.join(labels.get(c, c) for c in study.config.cox.forced)} entered it whatever its P."
           if study.config.cox.forced else "."),
        *_notes(models, labels),
        abbreviation_note("AFP", "ATE+BEV", "BCLC", "CI", "ECOG", "HR", "PIVKA-II"),
    ]
    return JournalTable("table4_predictors", "Table 4", "Predictors of overall and progression-free survival",
                        "Variable", columns, rows, footnotes, order=4)


#: The last row of each endpoint's group in Table 4: patients and events of its multivariable model.
MULTIVARIABLE_SIZE_LABEL = "Patients (events) in the multivariable model"


def compute(study: Study, models: dict[str, CoxSelection] | None = None) -> SectionResult:
    """Table 4 and its numbers; ``models`` as `predictor_models` gives them (fitted here when None)."""
    models = predictor_models(study) if models is None else models
    return SectionResult(predictor_results(study, models), {"table4": predictor_table(study, models)},
                         {"models": models})
