"""The study as one object, and every number of each section computed in one place.

Notebooks call :func:`load_study` once, then the section functions below, which return ``{result id: value}``.
The same functions serve the synthetic cohort's calibration (:func:`compute_results`), so the numbers the
calibration aims at are exactly the numbers the book reports. Ids of numbers the article reports are those of
``data/targets.csv``; this module never reads that file.

Id conventions: a group is named by the first three letters of its regimen (``len``, ``sor``); a suffix
``_matched`` marks the propensity-score-matched cohort.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hcc_utils.config import DEFAULTS, REPO_ROOT

SYNTHETIC_CENTRE_PREFIX = "synthetic"


def group_code(regimen: str) -> str:
    """Short name of a group in result ids: the regimen's first three letters (lenvatinib -> len)."""
    return str(regimen)[:3]


@dataclass
class Study:
    """A validated cohort with its derived tables.

    Attributes
    ----------
    config : the study configuration.
    raw : the screened cohort as read (one row per screened patient).
    flow : counts of the flow diagram.
    data : analysis table of the enrolled patients with ``ps``, ``logit_ps``, ``pair_id``, ``matched``.
    match_summary, ps_coefficients : from :func:`hcc_utils.matching.match_cohort`.
    source_name : the data file's name (never its rows) for captions.
    synthetic : whether the cohort is one of this project's synthetic cohorts.
    """

    config: dict
    raw: pd.DataFrame
    flow: dict
    data: pd.DataFrame
    match_summary: dict
    ps_coefficients: pd.DataFrame
    source_name: str
    synthetic: bool

    @property
    def treatment(self) -> str:
        return self.config["groups"]["treatment"]

    @property
    def control(self) -> str:
        return self.config["groups"]["control"]

    @property
    def groups(self) -> list[str]:
        return [self.treatment, self.control]

    @property
    def matched(self) -> pd.DataFrame:
        return self.data[self.data["matched"] == 1]

    def cohorts(self) -> dict[str, pd.DataFrame]:
        """The two analysed cohorts keyed by their id suffix: '' (all enrolled) and '_matched'."""
        return {"": self.data, "_matched": self.matched}


def is_synthetic_frame(raw: pd.DataFrame) -> bool:
    """A synthetic cohort of this project names every centre ``synthetic-...``."""
    centres = raw.get("centre")
    return centres is not None and len(centres) > 0 and centres.astype(str).str.lower().str.startswith(SYNTHETIC_CENTRE_PREFIX).all()


def is_synthetic_file(path: Path) -> bool:
    from hcc_utils.io import read_cohort

    try:
        return is_synthetic_frame(read_cohort(path))
    except Exception:
        return False


def build_study(raw: pd.DataFrame, config: dict | None = None, source_name: str = "cohort", validate: bool = True) -> Study:
    """Validate a screened cohort, derive the analysis table and match it."""
    from hcc_utils.derive import analysis_table, cohort_flow
    from hcc_utils.matching import match_cohort
    from hcc_utils.validate import validate_cohort

    config = config or DEFAULTS
    if validate:
        validate_cohort(raw, source=source_name, config=config).raise_if_invalid()
    flow = cohort_flow(raw, config)
    analysis = analysis_table(raw, config)
    matched = match_cohort(analysis, config)
    return Study(config, raw, flow, matched.data, matched.summary, matched.coefficients, source_name,
                 is_synthetic_frame(raw))


def load_study(data_path: str | Path, config: dict | None = None) -> Study:
    """Read, validate, derive and match the cohort file of a run (what every notebook does first)."""
    from hcc_utils.io import read_cohort

    path = Path(data_path)
    if not path.is_absolute():
        path = (REPO_ROOT / path).resolve() if not path.exists() else path.resolve()
    return build_study(read_cohort(path), config, source_name=path.name)


def data_note(study: Study):
    """A short note naming the data source, shown at the top of every section (never any row of data)."""
    from IPython.display import Markdown

    if study.synthetic:
        text = (f"```{{note}}\nThese results are computed from **{study.source_name}**, a *synthetic* cohort generated "
                "by this project and calibrated to the article's published aggregates. It contains no real patient; "
                "agreement with the article is by construction, not evidence.\n```")
    else:
        text = f"```{{note}}\nThese results are computed from the cohort file **{study.source_name}**.\n```"
    return Markdown(text)


def flow_results(study: Study) -> dict[str, Any]:
    """Counts of the flow diagram (Figure 1): ``flow.*`` ids."""
    return dict(study.flow)


def matching_results(study: Study) -> dict[str, Any]:
    """Pairs formed and patients left unmatched by the propensity-score matching."""
    s = study.match_summary
    return {
        "matching.pairs": s["pairs"],
        "matching.unmatched_treated": s["unmatched_treated"],
        "matching.matched_control": s["matched_control"],
        "matching.caliper_width": s["caliper_width"] if s["caliper_width"] is not None else float("nan"),
    }


ENDPOINTS = {"os": ("os_months", "os_event", "Overall survival"), "pfs": ("pfs_months", "pfs_event", "Progression-free survival")}


def survival_results(study: Study) -> dict[str, Any]:
    """Events, follow-up, Kaplan-Meier medians and quartiles by group, and log-rank p (Table 3, Figures 2-3).

    For each cohort (all enrolled, matched) and endpoint: number of events overall; follow-up median and quartiles
    (method from ``survival.followup_method``); per group median, first and third quartile of the survival time
    (R ``survfit`` rules; NaN = not reached) and the 95% CI of the median; the log-rank p-value (R ``survdiff``).
    """
    from hcc_utils.survival import followup_summary, km_summary, logrank_test

    method = study.config["survival"]["followup_method"]
    values: dict[str, Any] = {}
    for suffix, cohort in study.cohorts().items():
        for endpoint, (time_col, event_col, _) in ENDPOINTS.items():
            time, event = cohort[time_col].to_numpy(float), cohort[event_col].to_numpy(int)
            values[f"survival.{endpoint}_events{suffix}"] = int(event.sum())
            values[f"survival.{endpoint}_n{suffix}"] = int(len(cohort))
            follow = followup_summary(time, event, method=method)
            values[f"survival.{endpoint}_followup_median{suffix}"] = follow.median
            values[f"survival.{endpoint}_followup_q1{suffix}"] = follow.q1
            values[f"survival.{endpoint}_followup_q3{suffix}"] = follow.q3
            summary = km_summary(cohort, time_col, event_col, "group").set_index("group")
            for group in study.groups:
                code = group_code(group)
                row = summary.loc[group]
                values[f"survival.{endpoint}_median_{code}{suffix}"] = row["median"]
                values[f"survival.{endpoint}_q1_{code}{suffix}"] = row["q1"]
                values[f"survival.{endpoint}_q3_{code}{suffix}"] = row["q3"]
                values[f"survival.{endpoint}_median_ci_low_{code}{suffix}"] = row["median_ci_low"]
                values[f"survival.{endpoint}_median_ci_high_{code}{suffix}"] = row["median_ci_high"]
                values[f"survival.{endpoint}_events_{code}{suffix}"] = int(row["events"])
            test = logrank_test(time, event, cohort["group"].to_numpy())
            values[f"survival.{endpoint}_logrank_p{suffix}"] = test.p
    return values


def km_curves(cohort: pd.DataFrame, endpoint: str, by: str = "group", order: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Kaplan-Meier step tables of one endpoint per level of ``by`` (for plots)."""
    from hcc_utils.survival import kaplan_meier

    time_col, event_col, _ = ENDPOINTS[endpoint]
    levels = order or sorted(cohort[by].dropna().unique())
    return {level: kaplan_meier(part[time_col].to_numpy(float), part[event_col].to_numpy(int)).table
            for level in levels if len(part := cohort[cohort[by] == level])}


def risk_table(cohort: pd.DataFrame, endpoint: str, times, by: str = "group", order: list[str] | None = None) -> pd.DataFrame:
    """Numbers at risk at ``times`` per level of ``by`` (rows) — aggregate counts only."""
    from hcc_utils.survival import numbers_at_risk

    time_col, event_col, _ = ENDPOINTS[endpoint]
    levels = order or sorted(cohort[by].dropna().unique())
    rows = {level: numbers_at_risk(part[time_col], part[event_col], times).to_numpy()
            for level in levels if len(part := cohort[cohort[by] == level])}
    return pd.DataFrame(rows, index=list(times)).T


def survival_table(study: Study, values: dict[str, Any] | None = None) -> pd.DataFrame:
    """Table 3: per cohort, endpoint and group, events, median (95% CI), IQR and the log-rank p-value."""
    from hcc_utils.formatting import fmt_median_iqr, fmt_months, fmt_p

    values = values or survival_results(study)
    rows = []
    for suffix, label in (("", "All enrolled"), ("_matched", "PS-matched")):
        for endpoint, (_, _, name) in ENDPOINTS.items():
            for group in study.groups:
                code = group_code(group)
                key = f"survival.{endpoint}_{{}}_{code}{suffix}"
                rows.append({
                    "Cohort": label, "Endpoint": name, "Group": group,
                    "Events": values[key.format("events")],
                    "Median, months (95% CI)": f"{fmt_months(values[key.format('median')])} "
                                               f"({fmt_months(values[key.format('median_ci_low')])}–"
                                               f"{fmt_months(values[key.format('median_ci_high')])})",
                    "Median (IQR), months": fmt_median_iqr(values[key.format("median")], values[key.format("q1")],
                                                           values[key.format("q3")]),
                    "Log-rank P": fmt_p(values[f"survival.{endpoint}_logrank_p{suffix}"]),
                })
    return pd.DataFrame(rows)


def save_table(table: pd.DataFrame, output_dir: str | Path, name: str) -> Path:
    """Write a displayed table as CSV into ``output_dir/tables`` and return the path."""
    folder = Path(output_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    table.to_csv(path, index=False)
    return path


def styled(table: pd.DataFrame, caption: str = ""):
    """A table as styled HTML for the book (no index, compact, caption above)."""
    styler = table.style.hide(axis="index").set_caption(caption).set_table_attributes('class="hcc-table"')
    return styler.set_table_styles([
        {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: bold;"},
        {"selector": "th", "props": "text-align: left; background: #F2F2F2; padding: 4px 8px;"},
        {"selector": "td", "props": "padding: 3px 8px;"},
    ])


def glue_results(values: dict[str, Any], study: Study) -> None:
    """Glue every value for prose under its id (dots as underscores) and under a role alias.

    The alias replaces the group code by ``treatment`` or ``control`` (``survival_os_median_treatment``), so the
    book's sentences keep working when a user compares other regimens.
    """
    import re

    from myst_nb import glue

    from hcc_utils.formatting import display_value

    roles = {group_code(study.treatment): "treatment", group_code(study.control): "control"}
    glue("treatment", study.treatment, display=False)
    glue("control", study.control, display=False)
    for key, value in values.items():
        shown = display_value(key, value)
        name = key.replace(".", "_")
        glue(name, shown, display=False)
        for code, role in roles.items():
            alias = re.sub(rf"_{re.escape(code)}(?=_|$)", f"_{role}", name)
            if alias != name:
                glue(alias, shown, display=False)


#: Readable labels of the analysis table's columns, for tables and figures.
LABELS = {
    "age": "Age, years", "sex_male": "Male sex", "ecog_2": "ECOG 2", "viral_etiology": "Viral aetiology",
    "child_pugh_b": "Child-Pugh B", "bclc_c": "BCLC C", "tumor_number": "Tumour number",
    "tumor_multiple": "Multiple tumours", "tumor_size_cm": "Largest tumour size, cm",
    "tumor_size_ge_10": "Tumour size ≥10 cm", "lymph_node_metastasis": "Lymph-node metastasis",
    "extrahepatic_metastasis": "Extrahepatic metastasis", "macrovascular_invasion": "Macrovascular invasion",
    "afp_ge_400": "AFP ≥400 ng/mL", "pivka_ge_1000": "PIVKA-II ≥1,000 mAU/mL", "atebev_cycles": "ATE+BEV cycles",
    "atebev_cycles_lt_3": "ATE+BEV cycles <3", "age_ge_65": "Age ≥65 years", "control_group": "Control regimen",
}


def label(column: str) -> str:
    return LABELS.get(column, column.replace("_", " "))


def matching_tables(study: Study) -> dict[str, pd.DataFrame]:
    """Propensity model coefficients and covariate balance (SMD before and after matching), labelled."""
    from hcc_utils.matching import balance_table

    covariates = list(study.config["matching"]["covariates"])
    coefficients = study.ps_coefficients.copy()
    coefficients.insert(0, "Term", [label(t) if t != "Intercept" else "Intercept" for t in coefficients.iloc[:, 0]])
    coefficients = coefficients.drop(columns=coefficients.columns[1])
    balance = balance_table(study.data, covariates)
    balance.insert(0, "Covariate", [label(c) for c in balance["covariate"]])
    return {"coefficients": coefficients, "balance": balance}


#: The headline numbers of the introduction: (label, id template with {g} for the group code, p-value id).
HEADLINES = [
    ("Median PFS, months", "survival.pfs_median_{g}{s}", "survival.pfs_logrank_p{s}"),
    ("Median OS, months", "survival.os_median_{g}{s}", "survival.os_logrank_p{s}"),
    ("Objective response rate, %", "response.orr_{g}{s}", "response.orr_p{s}"),
    ("Disease control rate, %", "response.dcr_{g}{s}", "response.dcr_p{s}"),
]


def result_text(values: dict[str, str], key: str) -> str:
    """A value of ``results.csv`` (text) written as prose writes it; '—' when the run did not record it."""
    from hcc_utils.formatting import display_value

    raw = values.get(key)
    if raw is None:
        return "—"
    if raw == "NA":
        return display_value(key, float("nan"))
    try:
        number = int(raw) if raw.lstrip("-").isdigit() else float(raw)  # results.csv writes counts without a point
    except ValueError:
        return raw.replace(";", ", ").replace("_", " ")
    return display_value(key, number)


def headline_table(results: pd.DataFrame, config: dict, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """The introduction's summary: headline numbers by cohort and group from ``results.csv``.

    With ``targets`` (the article's reported numbers, for display only) an 'Article' column is added where the
    article reports the number.
    """
    values = results.set_index("id")["value"].to_dict()
    published = {} if targets is None else targets.set_index("id")["value"].to_dict()
    t, c = group_code(config["groups"]["treatment"]), group_code(config["groups"]["control"])

    def shown(key):
        return result_text(values, key)

    rows = []
    for suffix, cohort in (("", "All enrolled"), ("_matched", "PS-matched")):
        for name, template, p_id in HEADLINES:
            ids = [template.format(g=t, s=suffix), template.format(g=c, s=suffix), p_id.format(s=suffix)]
            row = {"Cohort": cohort, "Outcome": name, config["groups"]["treatment"]: shown(ids[0]),
                   config["groups"]["control"]: shown(ids[1]), "P": shown(ids[2])}
            if targets is not None:
                article = [published.get(i) for i in ids]
                row["Article (treatment / control, P)"] = (
                    " / ".join(a if a is not None else "—" for a in article[:2]) + f", P {article[2] or '—'}"
                    if any(a is not None for a in article) else "not reported")
            rows.append(row)
    return pd.DataFrame(rows)


#: Table 1's rows: (column of the analysis table, label, kind, levels).
TABLE1_VARIABLES = [
    ("age", "Age, years", "median_iqr", None),
    ("sex_male", "Male sex", "binary", None),
    ("ecog", "ECOG performance status", "categorical", [0, 1, 2, 3, 4]),
    ("etiology", "Aetiology", "categorical", ["hbv", "hcv", "hbv_hcv", "alcohol", "nash", "other"]),
    ("viral_etiology", "Viral aetiology (HBV and/or HCV)", "binary", None),
    ("child_pugh_class", "Child-Pugh class", "categorical", ["A", "B", "C"]),
    ("bclc_c", "BCLC stage C", "binary", None),
    ("tumor_multiple", "Multiple tumours", "binary", None),
    ("tumor_size_cm", "Largest tumour size, cm", "median_iqr", None),
    ("tumor_size_ge_10", "Tumour size ≥10 cm", "binary", None),
    ("lymph_node_metastasis", "Lymph-node metastasis", "binary", None),
    ("extrahepatic_metastasis", "Extrahepatic metastasis", "binary", None),
    ("macrovascular_invasion", "Macrovascular invasion", "binary", None),
    ("afp_ng_ml", "AFP, ng/mL", "median_iqr", None),
    ("afp_ge_400", "AFP ≥400 ng/mL", "binary", None),
    ("pivka_mau_ml", "PIVKA-II, mAU/mL", "median_iqr", None),
    ("pivka_ge_1000", "PIVKA-II ≥1,000 mAU/mL", "binary", None),
    ("atebev_cycles", "Prior ATE+BEV cycles", "median_iqr", None),
]


def baseline_tables(study: Study) -> dict[str, Any]:
    """Table 1 for all enrolled and matched patients (:func:`hcc_utils.baseline.baseline_table`)."""
    from hcc_utils.baseline import VariableSpec, baseline_table

    settings = study.config["baseline"]
    specs = []
    for name, text, kind, levels in TABLE1_VARIABLES:
        present = levels
        if levels is not None:
            present = [lv for lv in levels if (study.data[name] == lv).any()]
        specs.append(VariableSpec(name=name, kind=kind, label=text, levels=present))
    tables = {}
    for suffix, cohort in study.cohorts().items():
        tables[suffix] = baseline_table(cohort, "group", specs, groups=tuple(study.groups),
                                        categorical_test=settings["categorical_test"],
                                        continuous_test=settings["continuous_test"],
                                        quantile_method=settings["quantile_method"])
    return tables


def baseline_results(study: Study, tables: dict[str, Any] | None = None) -> dict[str, Any]:
    """Numbers of Table 1 quoted in the text: overall age and cycles quartiles, counts, Child-Pugh A by group, p."""
    tables = tables or baseline_tables(study)
    values: dict[str, Any] = {}
    for suffix, table in tables.items():
        numbers = table.numbers
        prefix = "baseline."

        def pick(variable, group="Overall", level=None, column="count"):
            rows = numbers[(numbers["variable"] == variable) & (numbers["group"] == group)]
            if level is not None:
                rows = rows[rows["level"].astype(str) == str(level)]
            return rows[column].iloc[0] if len(rows) else float("nan")

        for group in ["Overall", *study.groups]:
            code = "" if group == "Overall" else f"_{group_code(group)}"
            for stat in ("median", "q1", "q3"):
                values[f"{prefix}age_{stat}{code}{suffix}"] = float(pick("age", group, column=stat))
                values[f"{prefix}cycles_{stat}{code}{suffix}"] = float(pick("atebev_cycles", group, column=stat))
        for variable, key in (("sex_male", "male"), ("viral_etiology", "viral"), ("bclc_c", "bclc_c")):
            values[f"{prefix}{key}{suffix}"] = int(pick(variable))
        values[f"{prefix}child_pugh_a{suffix}"] = int(pick("child_pugh_class", level="A"))
        values[f"{prefix}child_pugh_p{suffix}"] = float(pick("child_pugh_class", column="p"))
        values[f"{prefix}cycles_p{suffix}"] = float(pick("atebev_cycles", column="p"))
        for group in study.groups:
            values[f"{prefix}child_pugh_a_{group_code(group)}{suffix}"] = float(pick("child_pugh_class", group, "A", "percent"))
    values["baseline.child_pugh_a_p"] = values.pop("baseline.child_pugh_p")  # the article's ids
    values["matching.cycles_p_matched"] = values["baseline.cycles_p_matched"]
    return values
