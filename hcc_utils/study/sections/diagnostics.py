"""Checking the models (beyond the article): proportional-hazards tests of every Cox model of the article,
restricted mean survival time, E-values of the matched hazard ratios, and the size of a confirmatory trial.

Ids (all ``sensitivity.*``):

* ``zph_<endpoint>_group_p[_matched]``, ``..._chisq``: the regimen-only Cox model of Table 3 / Figures 2-3;
  ``zph_<endpoint>_uni_<name>_p``: each univariable model of Table 4; ``zph_<endpoint>_<name>_p``: each term of the
  multivariable model and ``zph_<endpoint>_global_p`` / ``_global_chisq`` / ``_global_df`` its GLOBAL test
  (not estimable when no covariate entered it); ``zph_models_n``, ``zph_models_flagged``, ``zph_flagged`` (list).
* ``rmst_<endpoint>_<tau>_<group>[_matched]`` with ``_se``, ``_lo``, ``_hi``; ``rmst_<endpoint>_<tau>_diff``
  (treatment minus control) with ``_lo``, ``_hi``, ``_p``.
* ``evalue_<endpoint>_hr``, ``evalue_<endpoint>_ci``, ``evalue_<endpoint>_rr``: of the matched-cohort HR.
* ``trial_events_<endpoint>_<80|90>``, ``trial_patients_<endpoint>_<80|90>``, ``trial_event_pct_<endpoint>``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hcc_utils.stats.cox import CoxConvergenceWarning, cox_model
from hcc_utils.stats.cox_zph import ZphResult, cox_zph_fit
from hcc_utils.stats.evalue import evalue_hr
from hcc_utils.stats.rmst import rmst_difference
from hcc_utils.stats.sample_size import schoenfeld_events, schoenfeld_patients
from hcc_utils.tables.formatting import fmt_months, fmt_p, fmt_ratio
from hcc_utils.tables.journal import Column, JournalTable, Row
from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.labels import COHORT_NAMES, ENDPOINTS, abbreviation_note, group_label, in_sentence, variable_labels
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SectionResult, per_cohort
from hcc_utils.data.variables import CONTROL_GROUP, configured_lists
from hcc_utils.study.sections.predictors import cox_frame, id_name, predictor_models
from hcc_utils.study.sections.survival import group_hazard_ratio

#: Horizons of the restricted mean survival time, months.
RMST_TAUS = (6, 12)
#: Powers of the confirmatory trial.
TRIAL_POWERS = (0.8, 0.9)
#: Two-sided level of the trial and threshold of a proportional-hazards test that is flagged.
ALPHA = 0.05
#: What a proportional-hazards test says, in plain words.
VERDICT_OK = "No evidence against proportional hazards"
VERDICT_FLAG = "Hazard ratio may change over time"


@dataclass(frozen=True)
class ZphModel:
    """One Cox model of the article with its proportional-hazards test (``zph`` None: not estimable)."""

    key: str            # the id stem: "os_group_matched", "pfs_uni_ecog2", "os_multi"
    endpoint: str
    label: str          # what the model is, as a table row says it
    kind: str           # "group", "univariable", "multivariable"
    zph: ZphResult | None
    reason: str = ""
    suffix: str = ""    # "_matched" for the matched cohort (ids end with it)


def _add(values: ResultSet, key: str, value, kind: Kind, label: str, unit: str = "", reason: str = "") -> None:
    """Register a value; with a ``reason`` it is NaN with the status ``not estimable`` and the reason in its label."""
    values.add(key, value, kind, label, unit=unit, not_estimable=reason)


def _zph(frame: pd.DataFrame, time_col: str, event_col: str, covariates: list[str], ties: str):
    """The proportional-hazards test of one Cox model, or (None, reason) when the model has no finite fit."""
    sub = frame[[time_col, event_col] + covariates].dropna()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoxConvergenceWarning)
            model = cox_model(sub, time_col, event_col, covariates, ties=ties)
    except ValueError as error:
        return None, str(error)
    if model.infinite or not np.isfinite(model.coef).all():
        return None, "a coefficient has no finite estimate"
    try:
        return cox_zph_fit(sub[time_col].to_numpy(float), sub[event_col].to_numpy(float),
                           sub[covariates].to_numpy(float), model.coef, ties=ties, names=covariates), ""
    except np.linalg.LinAlgError:                        # e.g. every event at one time: time cannot explain anything
        return None, "the test's information matrix is singular (too few distinct event times)"


def zph_models(study: Study) -> list[ZphModel]:
    """Every Cox model the configuration's ``diagnostics`` names, with its test: the regimen-only model of each
    endpoint and cohort, the univariable model of each of ``diagnostics.univariable`` (Table 4's candidates by
    default) and Table 4's multivariable model. A regimen-only or multivariable model left out by the configuration
    keeps its ids, 'not estimable' with the reason (the prose quotes them); a model the data cannot support too."""
    settings = study.config.diagnostics
    ties = study.config.cox.ties
    labels = variable_labels(study.config)
    labels[CONTROL_GROUP] = f"{group_label(study.control)} (vs {study.treatment})"  # as variable_labels writes it
    frame = cox_frame(study)
    problems = study.cohort_problems()
    selections = predictor_models(study) if settings.multivariable else {}
    out = []
    for endpoint, (time_col, event_col, _) in ENDPOINTS.items():
        for suffix, cohort in (("", frame), ("_matched", frame[frame["matched"] == 1])):
            label = f"Regimen only, {COHORT_NAMES[suffix]}"
            if not settings.regimen_models or suffix in problems:
                reason = problems.get(suffix, "not tested (diagnostics.regimen_models is false)")
                out.append(ZphModel(f"{endpoint}_group", endpoint, label, "group", None, reason, suffix))
                continue
            zph, reason = _zph(cohort, time_col, event_col, [CONTROL_GROUP], ties)
            out.append(ZphModel(f"{endpoint}_group", endpoint, label, "group", zph, reason, suffix))
        for covariate in configured_lists(study.config)["diagnostics.univariable"]:
            zph, reason = _zph(frame, time_col, event_col, [covariate], ties)
            out.append(ZphModel(f"{endpoint}_uni_{id_name(study, covariate)}", endpoint,
                                labels.get(covariate, covariate), "univariable", zph, reason))
        selected = selections[endpoint].selected if settings.multivariable else []
        zph, reason = (_zph(frame, time_col, event_col, list(selected), ties) if selected
                       else (None, "no covariate entered the multivariable model" if settings.multivariable
                             else "not tested (diagnostics.multivariable is false)"))
        out.append(ZphModel(f"{endpoint}_multi", endpoint, "Multivariable model", "multivariable", zph, reason))
    return out


def zph_results(study: Study, models: list[ZphModel]) -> ResultSet:
    values = ResultSet()
    labels = variable_labels(study.config)
    flagged = []
    for model in models:
        name = ENDPOINTS[model.endpoint][2]
        table = model.zph.table if model.zph is not None else None
        if model.kind == "multivariable":
            glob = table.iloc[-1] if table is not None else None
            for stat, kind, text in (("p", Kind.P, "P"), ("chisq", Kind.STATISTIC, "chi-square"),
                                     ("df", Kind.COUNT, "degrees of freedom")):
                value = math.nan if glob is None else (int(glob["df"]) if stat == "df" else float(glob[stat]))
                _add(values, f"sensitivity.zph_{model.endpoint}_global_{stat}", value, kind,
                     f"Proportional-hazards test (cox.zph), GLOBAL {text}, multivariable model, {name}",
                     "degrees of freedom" if stat == "df" else ("chi-square" if stat == "chisq" else ""), model.reason)
            if table is not None:
                for row in table.iloc[:-1].itertuples():
                    values.add(f"sensitivity.zph_{model.endpoint}_{id_name(study, row.term)}_p", float(row.p), Kind.P,
                               f"Proportional-hazards test P, {labels.get(row.term, row.term)} in the multivariable "
                               f"model, {name}")
        else:
            p = math.nan if table is None else float(table["p"].iloc[-1])
            chisq = math.nan if table is None else float(table["chisq"].iloc[-1])
            what = f"{model.label}, {name}"
            _add(values, f"sensitivity.zph_{model.key}_p{model.suffix}", p, Kind.P, f"Proportional-hazards test P, {what}",
                 reason=model.reason)
            _add(values, f"sensitivity.zph_{model.key}_chisq{model.suffix}", chisq, Kind.STATISTIC,
                 f"Proportional-hazards test chi-square, {what}", "chi-square", model.reason)
        if table is not None and float(table["p"].iloc[-1]) < ALPHA:
            flagged.append(model.key + model.suffix)
    tested = [m for m in models if m.zph is not None]
    values.add("sensitivity.zph_models_n", len(tested), Kind.COUNT, "Cox models tested for proportional hazards",
               unit="models")
    values.add("sensitivity.zph_models_flagged", len(flagged), Kind.COUNT,
               f"Cox models whose proportional-hazards test (GLOBAL) has P < {ALPHA:g}", unit="models")
    values.add("sensitivity.zph_flagged", flagged, Kind.LIST,
               f"Cox models whose proportional-hazards test has P < {ALPHA:g}",
               item_labels={m.key + m.suffix: _model_name(m) for m in models})
    return values


def _model_name(model: ZphModel) -> str:
    """A model as a list in prose names it: 'ECOG 2, univariable (overall survival)'."""
    endpoint = ENDPOINTS[model.endpoint][2].lower()
    if model.kind == "univariable":
        return f"{model.label}, univariable ({endpoint})"
    if model.kind == "multivariable":
        return f"multivariable model ({endpoint})"
    return f"{model.label.replace('Regimen only', 'regimen only')} ({endpoint})"


def flagged_summary(models: list[ZphModel], values: ResultSet) -> dict[str, str]:
    """The models whose proportional-hazards test has P < :data:`ALPHA`, summarised by endpoint for the prose
    (glued as ``zph_flagged_summary``): "for overall survival, the univariable models of Child-Pugh B and
    macrovascular invasion and the multivariable model; for progression-free survival, ..." rather than one long
    list of every model; "none" when no test is flagged. Read from ``sensitivity.zph_flagged``."""
    flagged = set(values["sensitivity.zph_flagged"])
    parts = []
    for endpoint, (_, _, name) in ENDPOINTS.items():
        mine = [m for m in models if m.endpoint == endpoint and m.key + m.suffix in flagged]
        if not mine:
            continue
        pieces = []
        regimen = [m for m in mine if m.kind == "group"]
        if regimen:
            cohorts = [("PS-matched" if m.suffix else "all enrolled") for m in regimen]
            pieces.append(f"the regimen-only model{'s' if len(regimen) > 1 else ''} ({' and '.join(cohorts)})")
        single = [in_sentence(m.label) for m in mine if m.kind == "univariable"]
        if single:
            names = single[0] if len(single) == 1 else ", ".join(single[:-1]) + " and " + single[-1]
            pieces.append(f"the univariable model{'s' if len(single) > 1 else ''} of {names}")
        if any(m.kind == "multivariable" for m in mine):
            pieces.append("the multivariable model")
        joined = pieces[0] if len(pieces) == 1 else ", ".join(pieces[:-1]) + " and " + pieces[-1]
        parts.append(f"for {name.lower()}, {joined}")
    return {"zph_flagged_summary": "; ".join(parts) if parts else "none"}


def verdict(p: float) -> str:
    """A proportional-hazards test in plain words."""
    if not math.isfinite(p):
        return "Not estimable"
    return VERDICT_FLAG if p < ALPHA else VERDICT_OK


def zph_table(study: Study, models: list[ZphModel]) -> JournalTable:
    """Every model's test: a row per model (per term and GLOBAL for the multivariable model), grouped by endpoint."""
    labels = variable_labels(study.config)
    labels["control_group"] = f"{group_label(study.control)} (vs {study.treatment})"
    rows = []
    for model in models:
        group = f"{ENDPOINTS[model.endpoint][2]}, {model.kind} model" + ("s" if model.kind == "univariable" else "")
        if model.kind == "group":
            group = f"{ENDPOINTS[model.endpoint][2]}, regimen-only models"
        if model.zph is None:
            rows.append(Row(model.label, ("", "", "", f"Not estimable: {model.reason}"), group=group))
            continue
        table = model.zph.table
        if model.kind == "multivariable":
            for row in table.itertuples():
                term = "Global test" if row.term == "GLOBAL" else labels.get(row.term, row.term)
                rows.append(Row(term, (fmt_ratio(row.chisq), str(int(row.df)), fmt_p(row.p),
                                       verdict(row.p) if row.term == "GLOBAL" else ""), group=group))
        else:
            last = table.iloc[-1]
            rows.append(Row(model.label, (fmt_ratio(last["chisq"]), str(int(last["df"])), fmt_p(last["p"]),
                                          verdict(last["p"])), group=group))
    columns = [Column("Chi-square"), Column("df"), Column("P"), Column("Verdict", wrap=True)]
    footnotes = [
        "Score test of a coefficient changing linearly in 1 − KM(t), the Kaplan–Meier transform of time (R "
        "survival's cox.zph, Grambsch–Therneau), per term and for all terms together (global test).",
        f"Verdict: P < {ALPHA:g} flags a hazard ratio that may change over time; a larger P is no proof of "
        "proportional hazards (the test has little power in small samples).",
        "df, degrees of freedom; " + abbreviation_note("PS"),
    ]
    return JournalTable("diagnostics_zph", "", "Proportional-hazards tests of the article's Cox models", "Model",
                        columns, rows, footnotes)


def rmst_results(study: Study) -> ResultSet:
    """RMST at each horizon per group, and the difference treatment minus control, per endpoint and cohort."""
    treatment, control = study.treatment, study.control

    def one_cohort(suffix: str, cohort: pd.DataFrame, values: ResultSet) -> None:
        group = (cohort["group"] == treatment).astype(int).to_numpy()
        for endpoint, (time_col, event_col, name) in ENDPOINTS.items():
            time, event = cohort[time_col].to_numpy(float), cohort[event_col].to_numpy(float)
            for tau in RMST_TAUS:
                where = f"{name}, {tau} months, {COHORT_NAMES[suffix]}"
                diff = rmst_difference(time, event, group, tau)
                ok = not (diff.group1.beyond_followup or diff.group0.beyond_followup)
                reason = "" if ok else "the horizon lies beyond the follow-up of a group"
                for regimen, one in ((treatment, diff.group1), (control, diff.group0)):
                    key = f"sensitivity.rmst_{endpoint}_{tau}_{group_code(study, regimen)}"
                    for stat, value, text in (("", one.rmst, "RMST"), ("_se", one.se, "RMST standard error"),
                                              ("_lo", one.ci_low, "RMST 95% CI lower limit"),
                                              ("_hi", one.ci_high, "RMST 95% CI upper limit")):
                        _add(values, f"{key}{stat}{suffix}", value, Kind.QUANTITY, f"{text}, {regimen}, {where}",
                             "months", reason)
                key = f"sensitivity.rmst_{endpoint}_{tau}_diff"
                versus = f"{treatment} minus {control}"
                for stat, value, kind, text in (("", diff.diff, Kind.QUANTITY, "RMST difference"),
                                                ("_lo", diff.ci_low, Kind.QUANTITY, "RMST difference, 95% CI lower limit"),
                                                ("_hi", diff.ci_high, Kind.QUANTITY, "RMST difference, 95% CI upper limit"),
                                                ("_p", diff.p, Kind.P, "RMST difference, P")):
                    _add(values, f"{key}{stat}{suffix}", value, kind, f"{text}, {versus}, {where}",
                         "" if kind is Kind.P else "months", reason)

    return per_cohort(study, one_cohort)


def rmst_table(study: Study, values: ResultSet) -> JournalTable:
    rows = []
    for endpoint, (_, _, name) in ENDPOINTS.items():
        for suffix in study.cohorts():
            for tau in RMST_TAUS:
                stem = f"sensitivity.rmst_{endpoint}_{tau}"
                cells = tuple(_ci_suffix(values, f"{stem}_{group_code(study, g)}", suffix) for g in study.groups)
                rows.append(Row(f"Up to {tau} months", cells + (_ci_suffix(values, f"{stem}_diff", suffix),
                                                                 fmt_p(values[f"{stem}_diff_p{suffix}"], missing="not estimable")),
                                group=f"{name}, {COHORT_NAMES[suffix]}"))
    columns = [Column(f"{group_label(g)}, months (95% CI)", "RMST") for g in study.groups] + [
        Column("Difference, months (95% CI)"), Column("P")]
    footnotes = [
        "RMST: restricted mean survival time, the area under the Kaplan–Meier curve up to the horizon (the mean "
        "time alive, or alive without progression, over those months); standard error as R's "
        "print(survfit, rmean = τ); Wald 95% CI.",
        f"Difference: {group_label(study.treatment)} minus {group_label(study.control)}; SE from the two "
        "independent groups (as survRM2's rmst2); Wald P. It needs no proportional hazards.",
        abbreviation_note("CI", "PS"),
    ]
    return JournalTable("diagnostics_rmst", "", "Restricted mean survival time at 6 and 12 months", "Horizon",
                        columns, rows, footnotes)


def _num(value: float, digits: int) -> str:
    """A signed number with a true minus sign and no negative zero: -0.03 -> '−0.03', -0.001 -> '0.00'."""
    text = f"{value:.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", "−")


def _ci_suffix(values: ResultSet, stem: str, suffix: str) -> str:
    value = values[stem + suffix]
    if not math.isfinite(value):
        return "not estimable"
    return f"{_num(value, 2)} ({_num(values[stem + '_lo' + suffix], 2)} to {_num(values[stem + '_hi' + suffix], 2)})"


def matched_hazard_ratios(study: Study) -> dict[str, tuple[float, ...]]:
    """Per endpoint the HR of the control vs the treatment group in the matched cohort (HR, CI limits, P; NaN
    when not estimable), as Figure 3 shows it."""
    matched_ok = "_matched" not in study.cohort_problems()
    return {endpoint: group_hazard_ratio(study, study.matched, time_col, event_col, matched_sets=True) if matched_ok else (math.nan,) * 4
            for endpoint, (time_col, event_col, _) in ENDPOINTS.items()}


def evalue_results(study: Study, hazard_ratios: dict[str, tuple[float, ...]]) -> ResultSet:
    """E-values of the matched-cohort hazard ratios and Schoenfeld's trial size to detect them."""
    values = ResultSet()
    matched_ok = "_matched" not in study.cohort_problems()
    for endpoint, (time_col, event_col, name) in ENDPOINTS.items():
        hr = hazard_ratios[endpoint]
        versus = f"{study.control} vs {study.treatment}"
        e = evalue_hr(*hr[:3])
        where = f"HR of {versus}, {name}, PS-matched"
        problems = study.cohort_problems()
        reason = problems.get("_matched", "" if math.isfinite(hr[0]) else "the matched hazard ratio is not estimable")
        _add(values, f"sensitivity.evalue_{endpoint}_hr", e.point, Kind.RATIO,
             f"E-value of the point estimate, {where}", "risk ratio", reason)
        _add(values, f"sensitivity.evalue_{endpoint}_ci", e.ci, Kind.RATIO,
             f"E-value of the 95% CI limit nearer 1, {where}", "risk ratio", reason)
        _add(values, f"sensitivity.evalue_{endpoint}_rr", e.rr, Kind.RATIO,
             f"Approximate risk ratio (common outcome) of the {where}", reason=reason)
        events = study.matched[event_col].to_numpy(float) if matched_ok else np.array([])
        share = float(events.mean()) if events.size else math.nan
        _add(values, f"sensitivity.trial_event_pct_{endpoint}", 100 * share, Kind.PERCENT,
             f"Patients with an event, {name}, PS-matched (the trial's assumed event proportion)",
             reason=problems.get("_matched", ""))
        for power in TRIAL_POWERS:
            tag = f"{round(100 * power)}"
            needed = _events(hr[0], power)
            patients = schoenfeld_patients(needed, share) if math.isfinite(needed) and share > 0 else math.nan
            what = f"a 1:1 trial detecting HR {versus} as observed (two-sided alpha {ALPHA:g}, power {tag}%), {name}"
            why = reason or ("" if math.isfinite(needed) else "the observed hazard ratio is 1: no effect to detect")
            _add(values, f"sensitivity.trial_events_{endpoint}_{tag}", needed, Kind.COUNT, f"Events needed by {what}",
                 "events", why)
            _add(values, f"sensitivity.trial_patients_{endpoint}_{tag}", patients, Kind.COUNT,
                 f"Patients needed by {what}", reason=why)
    return values


def _events(hr: float, power: float) -> float:
    if not math.isfinite(hr) or hr <= 0 or abs(math.log(hr)) < 1e-9:
        return math.nan
    return schoenfeld_events(hr, alpha=ALPHA, power=power)


def _count(value) -> str:
    return "not estimable" if not math.isfinite(value) else str(int(value))


def evalue_table(study: Study, values: ResultSet, hazard_ratios: dict[str, tuple[float, ...]]) -> JournalTable:
    rows = []
    for endpoint, (_, _, name) in ENDPOINTS.items():
        hr = hazard_ratios[endpoint]
        hr_text = "not estimable" if not math.isfinite(hr[0]) else \
            f"{fmt_ratio(hr[0])} ({fmt_ratio(hr[1])}–{fmt_ratio(hr[2])})"
        cells = (hr_text, fmt_ratio(values[f"sensitivity.evalue_{endpoint}_hr"]).replace("NA", "not estimable"),
                 fmt_ratio(values[f"sensitivity.evalue_{endpoint}_ci"]).replace("NA", "not estimable"))
        cells += tuple(_count(values[f"sensitivity.trial_{what}_{endpoint}_{tag}"])
                       for tag in ("80", "90") for what in ("events", "patients"))
        rows.append(Row(name, cells))
    columns = [Column("HR (95% CI)"), Column("Estimate", "E-value"), Column("CI limit", "E-value")] + [
        Column(what, f"Trial, power {tag}%") for tag in ("80", "90") for what in ("Events", "Patients")]
    footnotes = [
        f"HR: Cox model of {group_label(study.control)} vs {group_label(study.treatment)} in the PS-matched cohort "
        "(as Figure 3). E-value (VanderWeele and Ding): the risk ratio an unmeasured confounder would need with both "
        "the regimen and the outcome to explain the estimate away (CI limit: to move the interval's limit nearer 1 "
        "to 1; 1 when the interval contains 1); HR converted to a risk ratio for a common outcome, "
        "(1 − 0.5^√HR)/(1 − 0.5^√(1/HR)).",
        f"Trial: Schoenfeld's events for a two-sided log-rank test at alpha {ALPHA:g}, 1:1 allocation, to detect the "
        "observed HR; patients = events / the proportion with an event in the PS-matched cohort, rounded up.",
        abbreviation_note("CI", "HR", "PS"),
    ]
    return JournalTable("diagnostics_evalues", "", "E-values of the matched hazard ratios and the size of a "
                        "confirmatory trial", "Endpoint", columns, rows, footnotes)


def verdict_texts(values: ResultSet) -> dict[str, str]:
    """Plain-language verdicts for the prose, glued as ``zph_verdict_<model>``: the regimen-only models and the
    global test of each multivariable model; the tau and power settings as ``rmst_tau_<i>`` and
    ``trial_power_<80|90>``."""
    texts = {}
    for key in [k for k in values if k.startswith("sensitivity.zph_") and k.removesuffix("_matched").endswith("_p")]:
        stem = key[len("sensitivity.zph_"):].replace("_p_matched", "_matched").removesuffix("_p")
        p = values[key]
        shown = "P < 0.001" if math.isfinite(p) and p < 0.001 else (f"P = {p:.3f}" if math.isfinite(p) else "")
        if not math.isfinite(p):
            texts[f"zph_verdict_{stem}"] = "not estimable"
        elif p < ALPHA:
            texts[f"zph_verdict_{stem}"] = f"the hazard ratio may change over time ({shown})"
        else:
            texts[f"zph_verdict_{stem}"] = f"no evidence against proportional hazards ({shown})"
    for i, tau in enumerate(RMST_TAUS, start=1):
        texts[f"rmst_tau_{i}"] = f"{tau:g}"
    for power in TRIAL_POWERS:
        texts[f"trial_power_{round(100 * power)}"] = f"{100 * power:g}%"
    texts["zph_alpha"] = f"{ALPHA:g}"
    return texts


def rmst_texts(study: Study, values: ResultSet) -> dict[str, str]:
    """One phrase per endpoint, horizon and cohort for the prose, glued as ``rmst_text_<endpoint>_<tau>[_matched]``:
    the two groups' RMST and the difference with its confidence interval and P, or why it is not estimable."""
    texts = {}
    problems = study.cohort_problems()
    for endpoint in ENDPOINTS:
        for tau in RMST_TAUS:
            for suffix in ("", "_matched"):
                stem = f"sensitivity.rmst_{endpoint}_{tau}"
                name = f"rmst_text_{endpoint}_{tau}{suffix}"
                if suffix in problems:
                    texts[name] = f"is not estimable ({problems[suffix]})"
                    continue
                diff = values[f"{stem}_diff{suffix}"]
                if not math.isfinite(diff):
                    texts[name] = "is not estimable (the horizon lies beyond the follow-up of a group)"
                    continue
                t, c = (values[f"{stem}_{group_code(study, g)}{suffix}"] for g in (study.treatment, study.control))
                p = values[f"{stem}_diff_p{suffix}"]
                shown = "P < 0.001" if p < 0.001 else f"P = {p:.3f}"
                texts[name] = (f"averaged {_num(t, 1)} months with {study.treatment} and {_num(c, 1)} with "
                               f"{study.control}, a difference of {_num(diff, 1)} months (confidence interval "
                               f"{_num(values[f'{stem}_diff_lo{suffix}'], 1)} to "
                               f"{_num(values[f'{stem}_diff_hi{suffix}'], 1)}; {shown})")
    return texts


def compute(study: Study) -> SectionResult:
    """Every value, table and figure input of the chapter *Checking the models*."""
    models = zph_models(study)
    hazard_ratios = matched_hazard_ratios(study)
    values = zph_results(study, models).merge(rmst_results(study)).merge(evalue_results(study, hazard_ratios))
    tables = {"zph": zph_table(study, models), "rmst": rmst_table(study, values),
              "evalues": evalue_table(study, values, hazard_ratios)}
    return SectionResult(values, tables, {"zph_models": models, "hazard_ratios": hazard_ratios})
