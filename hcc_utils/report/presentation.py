"""How results appear in the book: styled tables (also saved as CSV), glued prose values, the headline table."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from hcc_utils.study.cohort import Study, group_code


def save_table(table: pd.DataFrame, output_dir: str | Path, name: str) -> Path:
    """Write a displayed table as CSV into ``output_dir/tables`` and return the path."""
    folder = Path(output_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    table.to_csv(path, index=False)
    return path


def styled(table: pd.DataFrame, caption: str = ""):
    """A table as styled HTML for the book (no index, compact, caption above)."""
    styler = (table.style.hide(axis="index").format(precision=3, na_rep="")
              .set_caption(caption).set_table_attributes('class="hcc-table"'))
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

    from hcc_utils.tables.formatting import display_value

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


def glue_texts(texts: dict[str, Any]) -> None:
    """Glue each ``{name: value}`` for prose as it is (texts and settings of a section that are not results)."""
    from myst_nb import glue

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
               f"a caliper of {summary['caliper']} standard deviations of the {summary['caliper_scale']} of the score")
    return {"caliper_text": caliper, "order_text": summary["order"], "n_treated": summary["n_treated"],
            "n_control": summary["n_control"]}


def predictor_texts(study: Study, models: dict[str, Any]) -> dict[str, Any]:
    """Prose pieces of the predictors section: predictors selected per endpoint and the selection threshold."""
    texts: dict[str, Any] = {f"n_selected_{endpoint}": len(selection.selected) for endpoint, selection in models.items()}
    texts["selection_p"] = study.config["cox"]["selection_p"]
    return texts


def safety_texts(study: Study, values: dict[str, Any]) -> dict[str, str]:
    """Prose pieces of the safety section: the events more frequent with the treatment regimen, as words."""
    from hcc_utils.tables.formatting import display_value

    key = f"safety.higher_in_{study.treatment}"
    return {"safety_higher_in_treatment_name": display_value(key, values[key])}


#: The headline numbers of the introduction: (label, id template with {g} for the group code, p-value id).
HEADLINES = [
    ("Median PFS, months", "survival.pfs_median_{g}{s}", "survival.pfs_logrank_p{s}"),
    ("Median OS, months", "survival.os_median_{g}{s}", "survival.os_logrank_p{s}"),
    ("Objective response rate, %", "response.orr_{g}{s}", "response.orr_p{s}"),
    ("Disease control rate, %", "response.dcr_{g}{s}", "response.dcr_p{s}"),
]


def result_text(values: dict[str, str], key: str) -> str:
    """A value of ``results.csv`` (text) written as prose writes it; '—' when the run did not record it."""
    from hcc_utils.tables.formatting import display_value

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
