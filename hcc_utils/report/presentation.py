"""How results appear in the book: styled tables (also saved as CSV), glued prose values, the headline table."""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pandas as pd

from IPython.display import Markdown
from myst_nb import glue

from hcc_utils.config import StudyConfig
from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.labels import COHORT_NAMES
from hcc_utils.study.registry import ResultSet, display_value, parse_value


def save_table(table: pd.DataFrame, output_dir: str | Path, name: str) -> Path:
    """Write a displayed table as CSV into ``output_dir/tables`` and return the path."""
    folder = Path(output_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    table.to_csv(path, index=False)
    return path


def styled(table: pd.DataFrame, caption: str = ""):
    """A table as styled HTML for the book (no index, compact, caption above).

    Cells, column names and caption are HTML-escaped: they may hold a file name, group names or other text from
    the data or the configuration, which must show as text, never run as markup in the book.
    """
    styler = (table.style.hide(axis="index").format(precision=3, na_rep="", escape="html")
              .format_index(escape="html", axis=1)
              .set_caption(html.escape(caption)).set_table_attributes('class="hcc-table"'))
    return styler.set_table_styles([
        {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: bold;"},
        {"selector": "th", "props": "text-align: left; background: #F2F2F2; padding: 4px 8px;"},
        {"selector": "td", "props": "padding: 3px 8px;"},
    ])


def glue_results(values: ResultSet, study: Study) -> None:
    """Glue every value for prose under its id (dots as underscores) and under a role alias, written as its
    registered kind says (:func:`hcc_utils.study.registry.display_value`).

    The alias replaces the group code by ``treatment`` or ``control`` (``survival_os_median_treatment``), so the
    book's sentences keep working when a user compares other regimens.
    """
    roles = {group_code(study.treatment): "treatment", group_code(study.control): "control"}
    glue("treatment", study.treatment, display=False)
    glue("control", study.control, display=False)
    shown_values = {key: display_value(values.spec(key).kind, value, values.spec(key).item_labels)
                    for key, value in values.items()}
    # a cohort that cannot be analysed: its numbers read "not estimable" wherever the prose quotes them
    for suffix in study.cohort_problems():
        for key in [k for k in values if not k.endswith("_matched")]:
            shown_values.setdefault(key + suffix, "not estimable")
    for key, shown in shown_values.items():
        name = key.replace(".", "_")
        glue(name, shown, display=False)
        for code, role in roles.items():
            alias = re.sub(rf"_{re.escape(code)}(?=_|$)", f"_{role}", name)
            if alias != name:
                glue(alias, shown, display=False)


def data_note(study: Study) -> Markdown:
    """A short note naming the data source, shown at the top of every section (never any row of data)."""
    name = html.escape(study.source_name)
    if study.synthetic:
        text = (f"```{{note}}\nThese results are computed from **{name}**, a *synthetic* cohort generated "
                "by this project and calibrated to the article's published aggregates. It contains no real patient; "
                "agreement with the article is by construction, not evidence.\n```")
    else:
        text = f"```{{note}}\nThese results are computed from the cohort file **{name}**.\n```"
    for suffix, reason in study.cohort_problems().items():
        cohort = COHORT_NAMES[suffix] if COHORT_NAMES[suffix].isupper() or "-" in COHORT_NAMES[suffix] \
            else COHORT_NAMES[suffix].lower()
        text += (f"\n\n```{{warning}}\nThe {cohort} cohort cannot be analysed: {html.escape(reason)}. "
                 f"Its results are not estimable; tables show the other cohort only and figures say so.\n```")
    return Markdown(text)


def glue_texts(texts: dict[str, Any]) -> None:
    """Glue each ``{name: value}`` for prose as it is (texts and settings of a section that are not results)."""
    for name, value in texts.items():
        glue(name, value, display=False)


def save_analysis_table(study: Study, output_dir: str | Path) -> Path:
    """Write the derived analysis table (scores and pair ids included) as ``analysis.csv`` for checking in other
    software; it is never shown in the book."""
    path = Path(output_dir) / "analysis.csv"
    study.data.to_csv(path, index=False)
    return path


def matching_texts(study: Study) -> dict[str, Any]:
    """Prose pieces of the matching section: the caliper and matching order as words, the patients per group."""
    summary = study.match_summary
    caliper = ("no caliper" if summary["caliper"] is None else
               f"a caliper of {summary['caliper']:g} standard deviations of the {summary['caliper_scale']} of the score")
    return {"caliper_text": caliper, "order_text": summary["order"], "n_treated": summary["n_treated"],
            "n_control": summary["n_control"]}


def predictor_texts(study: Study, models: dict[str, Any]) -> dict[str, Any]:
    """Prose pieces of the predictors section: predictors selected per endpoint and the selection threshold."""
    texts: dict[str, Any] = {f"n_selected_{endpoint}": len(selection.selected) for endpoint, selection in models.items()}
    texts["selection_p"] = f"{study.config.cox.selection_p:g}"
    return texts


def safety_texts(study: Study, values: ResultSet) -> dict[str, str]:
    """Prose pieces of the safety section: the events more frequent with the treatment regimen, as words."""
    key = f"safety.higher_in_{study.treatment}"
    spec = values.spec(key)
    return {"safety_higher_in_treatment_name": display_value(spec.kind, values[key], spec.item_labels)}


#: The headline numbers of the introduction: (label, id template with {g} for the group code, p-value id).
HEADLINES = [
    ("Median PFS, months", "survival.pfs_median_{g}{s}", "survival.pfs_logrank_p{s}"),
    ("Median OS, months", "survival.os_median_{g}{s}", "survival.os_logrank_p{s}"),
    ("Objective response rate, %", "response.orr_{g}{s}", "response.orr_p{s}"),
    ("Disease control rate, %", "response.dcr_{g}{s}", "response.dcr_p{s}"),
]


def result_text(results: pd.DataFrame, key: str) -> str:
    """A value of ``results.csv`` written as prose writes it (by its recorded kind); '—' when not recorded."""
    rows = results[results["id"] == key]
    if rows.empty:
        return "—"
    row = rows.iloc[0]
    return display_value(row["kind"], parse_value(row["kind"], row["value"]))


def headline_ids(config: StudyConfig) -> list[dict[str, Any]]:
    """The headline rows: cohort, outcome and the three result ids (treatment, control, p) of each."""
    t, c = group_code(config.groups.treatment), group_code(config.groups.control)
    return [{"cohort": cohort, "outcome": name,
             "ids": [template.format(g=t, s=suffix), template.format(g=c, s=suffix), p_id.format(s=suffix)]}
            for suffix, cohort in COHORT_NAMES.items() for name, template, p_id in HEADLINES]


def headline_table(results: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    """The introduction's summary: headline numbers by cohort and group from ``results.csv``."""
    rows = []
    for item in headline_ids(config):
        treated, control, p = (result_text(results, key) for key in item["ids"])
        rows.append({"Cohort": item["cohort"], "Outcome": item["outcome"], config.groups.treatment: treated,
                     config.groups.control: control, "P": p})
    return pd.DataFrame(rows)


def glue_headlines(results: pd.DataFrame, config: StudyConfig) -> None:
    """Glue the introduction's headline numbers under role names (``survival_os_median_treatment_matched``),
    the number of matched pairs and the group names, from ``results.csv``."""
    codes = {"treatment": group_code(config.groups.treatment), "control": group_code(config.groups.control)}
    for suffix in COHORT_NAMES:
        for _, template, p_id in HEADLINES:
            for role, code in codes.items():
                glue((template.format(g=role, s=suffix)).replace(".", "_"),
                     result_text(results, template.format(g=code, s=suffix)), display=False)
            glue(p_id.format(s=suffix).replace(".", "_"), result_text(results, p_id.format(s=suffix)), display=False)
    glue("matching_pairs", result_text(results, "matching.pairs"), display=False)
    glue("treatment", config.groups.treatment, display=False)
    glue("control", config.groups.control, display=False)


def show_table(table: pd.DataFrame, output_dir: str | Path, name: str, caption: str):
    """Save a section's table as ``output_dir/tables/<name>.csv`` and return it styled for the page."""
    save_table(table, output_dir, name)
    return styled(table, caption)
