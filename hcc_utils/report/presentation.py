"""How results appear in the book: journal tables (also saved as CSV and JSON, with download links), glued prose
values, the headline table."""
from __future__ import annotations

import dataclasses

import html
import re
from pathlib import Path
from typing import Any

import pandas as pd

from IPython.display import Markdown
from myst_nb import glue

from hcc_utils.config import StudyConfig
from hcc_utils.report.downloads import download_links
from hcc_utils.report.journal_table import Column, JournalTable, Row
from hcc_utils.report.provenance import current_stamp, stamp_csv, study_stamp, use_stamp
from hcc_utils.config.schema import ROLES
from hcc_utils.study.cohort import Study
from hcc_utils.study.labels import COHORT_NAMES, categorical_test_text, group_label
from hcc_utils.study.registry import Kind, ResultSet, display_value, parse_value, prose_value
from hcc_utils.tables.formatting import fmt_interval


def save_table(table: pd.DataFrame, output_dir: str | Path, name: str) -> Path:
    """Write a displayed table as CSV into ``output_dir/tables`` and return the path."""
    folder = Path(output_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    table.to_csv(path, index=False)
    return path


def _slug(text: str) -> str:
    """A file stem and HTML id from a caption: 'Input columns' -> 'input_columns'."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "table"


def styled(table: pd.DataFrame, caption: str = "", name: str | None = None, footnotes=()) -> JournalTable:
    """A plain frame of a book page (scorecard, data dictionary …) as a :class:`JournalTable`, so it is rendered
    like the article's tables (first column as the sticky stub, prose columns wrapping, text escaped, no random
    ids). ``name`` (the HTML id) defaults to a slug of the caption."""
    return JournalTable.from_frame(table, name or _slug(caption), caption, footnotes=list(footnotes))


class ShownTable:
    """A table as a section shows it: the table, then the line of links to its DOCX, XLSX and CSV files."""

    def __init__(self, table: JournalTable, links: str) -> None:
        self.table, self.links = table, links

    def _repr_html_(self) -> str:
        return self.table.to_html() + "\n" + self.links

    def __repr__(self) -> str:
        return self.table.caption


#: Numbers given to the tables of the chapters beyond the article, by (chapter folder, table name).
_CHAPTER_TABLE_NUMBERS: dict[tuple[str, str], str] = {}


def chapter_table_number(table: JournalTable, output_dir: str | Path) -> str:
    """The number of a table without the article's: "Table <chapter>.<k>", the chapter being the number its
    notebook's folder starts with (``11_weighting`` -> 11) and k its order of showing in the chapter; "" for a
    page without a chapter number. A table shown again keeps its number."""
    folder = Path(output_dir).name
    chapter = re.match(r"(\d+)_", folder)
    if table.number or chapter is None:
        return table.number
    key = (str(Path(output_dir).resolve()), table.name)
    if key not in _CHAPTER_TABLE_NUMBERS:
        shown = sum(1 for other in _CHAPTER_TABLE_NUMBERS if other[0] == key[0])
        _CHAPTER_TABLE_NUMBERS[key] = f"Table {int(chapter.group(1))}.{shown + 1}"
    return _CHAPTER_TABLE_NUMBERS[key]


def show_table(table: JournalTable, output_dir: str | Path) -> ShownTable:
    """Save a section's table (``tables/<name>.csv`` and ``.json`` under ``output_dir``) and return it for the page
    with its download links. The DOCX and XLSX files are written from the JSON by the runner after the notebooks
    run, so they are linked before they exist. A table of a chapter beyond the article is numbered by its chapter
    ("Table 11.1", :func:`chapter_table_number`), so the prose can name it."""
    table = dataclasses.replace(table, number=chapter_table_number(table, output_dir))
    stamp_csv(table.save(output_dir)["csv"], current_stamp())
    folder = Path(output_dir) / "tables"
    links = download_links(output_dir, [folder / f"{table.name}{suffix}" for suffix in (".docx", ".xlsx", ".csv")])
    return ShownTable(table, links.data)


def glue_results(values: ResultSet, study: Study) -> None:
    """Glue every value for prose under its id (dots as underscores), written as its registered kind says for prose
    (:func:`hcc_utils.study.registry.prose_value`: a median not reached reads "not reached", a time carries its
    unit), and every interval of two glued limits once more as one text (:func:`interval_glue_names`).

    Ids name the groups by role (``survival_os_median_treatment``), so the book's sentences read the same whatever
    regimens a user compares; the regimens' names are glued as ``treatment`` and ``control``, the configured
    significance level as ``significance_level``.
    """
    glue("treatment", study.treatment, display=False)
    glue("control", study.control, display=False)
    glue("significance_level", f"{study.config.significance_level:g}", display=False)  # the configured level
    shown_values = {key: _prose(values, key) for key in values}
    # a cohort that cannot be analysed: its numbers read "not estimable" wherever the prose quotes them
    for suffix in study.cohort_problems():
        for key in [k for k in values if not k.endswith("_matched")]:
            shown_values.setdefault(key + suffix, "not estimable")
    statements = {f"{key}_stated": p_statement(shown) for key, shown in shown_values.items()
                  if _kind_of(values, key) == Kind.P}
    intervals = {name: fmt_interval(shown_values[low], shown_values[high])
                 for name, (low, high) in interval_glue_names(shown_values).items()}
    for key, shown in {**shown_values, **statements, **intervals}.items():
        glue(key.replace(".", "_"), shown, display=False)


#: The words of two result ids that differ only in them and are an interval's limits, and the word that takes their
#: place in the name of the interval's glue: ``*_hr_lo``/``*_hr_hi`` -> ``*_hr_ci``, ``*_q1_control``/``*_q3_control``
#: -> ``*_iqr_control``.
INTERVAL_LIMITS = (("lo", "hi", "ci"), ("q1", "q3", "iqr"))


def interval_glue_names(ids) -> dict[str, tuple[str, str]]:
    """``{interval id: (lower id, upper id)}`` for every pair of limits among ``ids`` (:data:`INTERVAL_LIMITS`):
    ``sensitivity.iptw_os_hr_lo`` and ``_hi`` give ``sensitivity.iptw_os_hr_ci``, ``baseline.cycles_q1_control``
    and ``baseline.cycles_q3_control`` give ``baseline.cycles_iqr_control``.

    Raises
    ------
    ValueError
        An interval's name is already the id of a value (it would hide it).
    """
    ids = set(ids)
    out = {}
    for key in sorted(ids):
        section, _, rest = key.partition(".")
        tokens = rest.split("_")
        for low, high, word in INTERVAL_LIMITS:
            for index, token in enumerate(tokens):
                if token != low:
                    continue
                upper = f"{section}.{'_'.join(tokens[:index] + [high] + tokens[index + 1:])}"
                if upper in ids:
                    name = f"{section}.{'_'.join(tokens[:index] + [word] + tokens[index + 1:])}"
                    if name in ids:
                        raise ValueError(f"the interval {key}–{upper} would be glued as {name}, already a result id")
                    out[name] = (key, upper)
    return out


def _prose(values: ResultSet, key: str) -> str:
    """A value as a sentence writes it, by its registered kind, unit and status."""
    spec = values.spec(key)
    return typeset_minus(prose_value(spec.kind, values[key], spec.item_labels, spec.unit, spec.status))


def typeset_minus(shown):
    """A negative number in prose with the minus sign (U+2212), as journals print it, not a hyphen."""
    return re.sub(r"^-(?=[\d.])", "\u2212", shown) if isinstance(shown, str) else shown


def p_statement(shown: str) -> str:
    """A p-value as a sentence states it: 'P = 0.002', 'P < 0.001' (never 'P = <0.001'), 'P not estimable'.

    Prose quotes p-values as ``{glue:text}`<id>_stated``` (glued for every p by :func:`glue_results`)."""
    shown = str(shown).strip()
    if shown.startswith(("<", ">")):
        return f"P {shown[0]} {shown[1:].strip()}"
    if not shown or shown[0] not in "0123456789.":
        return f"P {shown}" if shown else "P not reported"
    return f"P = {shown}"


def _kind_of(values: ResultSet, key: str):
    base = key
    for suffix in ("_matched",):
        if base not in values and base.endswith(suffix):
            base = base[: -len(suffix)]
    try:
        return values.spec(base).kind
    except KeyError:
        return None


def data_note(study: Study) -> Markdown:
    """A short note naming the data source, shown at the top of every section (never any row of data). It also
    makes the study's stamp the one the section's downloads carry (:func:`hcc_utils.report.provenance.use_stamp`)."""
    use_stamp(study_stamp(study))
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


def data_statement(data_path: str | Path) -> Markdown:
    """What the introduction says of the data behind a build: the bundled synthetic cohort (agreement with the article
    by construction) or the author's own cohort (nothing tuned to the article), naming the file, never its rows."""
    from hcc_utils.study.cohort import is_synthetic_file

    name = html.escape(Path(data_path).name)
    if is_synthetic_file(Path(data_path)):
        text = (f"The data behind this build are **{name}**, a *synthetic* cohort generated by this project's own "
                "seeded code and calibrated so that its analysis reproduces the aggregates the article reports (the "
                "article's patient-level data are not public). It contains no real patient, and its agreement with "
                "the article is by construction, not evidence. Run the book on your own cohort "
                "([how](own_cohort.md)) for real results.")
    else:
        text = (f"The data behind this build are the cohort file **{name}**, supplied by the author of this build: "
                "nothing in it was tuned to the article, so where its numbers agree with the article's, the "
                "agreement is the data's own. (The cohort bundled with the project is synthetic, calibrated to the "
                "article's aggregates, because the article's patient-level data are not public.)")
    return Markdown(f"```{{important}}\n{text}\n```")


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
    key = "safety.higher_in_treatment"
    spec = values.spec(key)
    return {"safety_higher_in_treatment_name": display_value(spec.kind, values[key], spec.item_labels)}


#: The headline numbers of the introduction: (label, id template with {g} for the group's role, p-value id).
HEADLINES = [
    ("Median PFS, months", "survival.pfs_median_{g}{s}", "survival.pfs_logrank_p{s}"),
    ("Median OS, months", "survival.os_median_{g}{s}", "survival.os_logrank_p{s}"),
    ("Objective response rate, %", "response.orr_{g}{s}", "response.orr_p{s}"),
    ("Disease control rate, %", "response.dcr_{g}{s}", "response.dcr_p{s}"),
]


def result_text(results: pd.DataFrame, key: str, prose: bool = False) -> str:
    """A value of ``results.csv`` written as a table writes it (by its recorded kind), or with ``prose`` as a
    sentence writes it (:func:`hcc_utils.study.registry.prose_value`); '—' when not recorded, "not estimable" when
    its recorded status says so (a median of a cohort that cannot be analysed is not "NR")."""
    rows = results[results["id"] == key]
    if rows.empty:
        return "—"
    row = rows.iloc[0]
    value, status = parse_value(row["kind"], row["value"]), str(row.get("status", ""))
    if prose or status == "not estimable":
        return prose_value(row["kind"], value, unit=str(row.get("unit", "")), status=status)
    return display_value(row["kind"], value)


def headline_ids() -> list[dict[str, Any]]:
    """The headline rows: cohort, outcome and the three result ids (treatment, control, p) of each (ids name the
    groups by role, so the rows do not depend on the configured regimens)."""
    return [{"cohort": cohort, "outcome": name,
             "ids": [template.format(g=ROLES[0], s=suffix), template.format(g=ROLES[1], s=suffix),
                     p_id.format(s=suffix)]}
            for suffix, cohort in COHORT_NAMES.items() for name, template, p_id in HEADLINES]


def headline_table(results: pd.DataFrame, config: StudyConfig, article: list[tuple[str, str, str]] | None = None,
                   article_groups: tuple[str, str] | None = None, symbols: dict[str, str] | None = None
                   ) -> JournalTable:
    """The introduction's summary: headline numbers by cohort (row groups) and group from ``results.csv``, under
    the spanner "This build"; with ``article`` (one (treatment, control, P) per row of :func:`headline_ids`, from
    the reproduction layer) the article's values under the spanner "Article".

    The article's columns are headed by the article's regimens (``article_groups``: its treatment and control).
    When they are not the configured regimens, the two sides measure different drugs: a footnote says that the
    article's values stand beside this build's by role only. Footnotes explain only the symbols the cells use
    (NR, '—', and each of ``symbols``: ``{mark: its explanation}``).
    """
    treatment, control = (group_label(name) for name in (config.groups.treatment, config.groups.control))
    article_groups = tuple(article_groups or (config.groups.treatment, config.groups.control))
    other_regimens = [name.strip().lower() for name in article_groups] != \
        [name.strip().lower() for name in (config.groups.treatment, config.groups.control)]
    columns = [Column(heading, "This build") for heading in (treatment, control, "P")]
    if article is not None:
        columns += [Column(heading, "Article") for heading in (*(group_label(g) for g in article_groups), "P")]
    rows = []
    for index, item in enumerate(headline_ids()):
        cells = [result_text(results, key) for key in item["ids"]]
        if article is not None:
            cells += list(article[index])
        rows.append(Row(item["outcome"], tuple(cells), group=item["cohort"]))
    built = [cell for row in rows for cell in row.cells[:3]]
    published = [cell for row in rows for cell in row.cells[3:]]
    footnotes = ["Medians are Kaplan–Meier estimates" + ("" if "NR" not in built + published else " (NR: not reached)")
                 + "; P from the log-rank test (survival) and "
                 f"{categorical_test_text(config.baseline.categorical_test)} (rates)."]
    if article is not None and other_regimens:
        footnotes.append(f"The article compared {article_groups[0]} with {article_groups[1]}; this build compares "
                         f"{config.groups.treatment} with {config.groups.control}. The article's values stand beside "
                         f"this build's by role ({config.groups.treatment} in the place of {article_groups[0]}, "
                         f"{config.groups.control} in the place of {article_groups[1]}): they are not values of the "
                         "same regimens.")
    if "—" in built:
        footnotes.append("—: not computed in this build.")
    if "—" in published:
        footnotes.append("—: not reported by the article.")
    for mark, text in (symbols or {}).items():
        if any(mark in cell for cell in built + published):
            footnotes.append(f"{mark} {text}")
    title = "Headline outcomes of this build" + (" and of the article" if article is not None else "")
    return JournalTable("headline_outcomes", "", title, "Outcome", columns, rows, footnotes)


def glue_headlines(results: pd.DataFrame, config: StudyConfig) -> None:
    """Glue the introduction's headline numbers for prose under their ids (``survival_os_median_treatment_matched``:
    "10.3 months" or "not reached"), the number of matched pairs and the group names, from ``results.csv``."""
    for item in headline_ids():
        for key in item["ids"]:
            glue(key.replace(".", "_"), result_text(results, key, prose=True), display=False)
        p_text = result_text(results, item["ids"][2])
        glue(item["ids"][2].replace(".", "_") + "_stated", p_statement(p_text), display=False)
    glue("matching_pairs", result_text(results, "matching.pairs"), display=False)
    glue("treatment", config.groups.treatment, display=False)
    glue("control", config.groups.control, display=False)
