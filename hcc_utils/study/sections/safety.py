"""Table 5: treatment-related adverse events by group."""
from __future__ import annotations

import pandas as pd

from hcc_utils.tables.adverse_events import adverse_event_display, adverse_event_table
from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.labels import categorical_test_text, group_heading
from hcc_utils.tables.journal import Column, JournalTable, Row
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SectionResult

#: Short names of adverse-event terms in result ids (the article's usage); others use the term itself.
AE_SHORT = {"ast_elevation": "ast", "alt_elevation": "alt", "bilirubin_elevation": "bilirubin",
            "hand_foot_syndrome": "hfs"}
AE_SUMMARY = {"ae_any": "any", "ae_grade_3_4": "g34", "ae_led_to_discontinuation": "disc"}
_SUMMARY_NAMES = {"any": "Any adverse event", "g34": "Grade 3-4 adverse event",
                  "disc": "Adverse event leading to discontinuation"}


def _long_table(study: Study) -> pd.DataFrame:
    return adverse_event_table(study.data, "group", groups=study.groups, rule=study.config.baseline.categorical_test)


def _result_name(section: str, term: str) -> str:
    """The stem of an adverse event's result ids: the summary's short name, or the term's (``_g34`` for grade 3-4)."""
    if section == "summary":
        return AE_SUMMARY[term]
    base = term.removeprefix("ae_")
    return AE_SHORT.get(base, base) + ("_g34" if section == "grade_3_4" else "")


def _count_and_percent_ids(section: str, term: str, code: str) -> tuple[str, str]:
    """The ids of one group's count and percentage (the article's usage: the summary's "any" and "disc" name the
    count plainly and the percentage ``_pct``; the others the percentage plainly and the count ``_n``)."""
    name = _result_name(section, term)
    if name in ("any", "disc"):
        return f"safety.{name}_{code}", f"safety.{name}_pct_{code}"
    return f"safety.{name}_n_{code}", f"safety.{name}_{code}"


def _table5_sources(study: Study, term: str) -> tuple[str, ...]:
    """The result ids each cell of Table 5's row of ``term`` shows (count and percentage per group, then P, for
    any grade and grade 3-4), for the book's comparison with the article (:mod:`hcc_utils.pipeline.comparison`)."""
    sources = []
    for section in (("summary",) if term in AE_SUMMARY else ("any_grade",)) + ("grade_3_4",):
        if section == "grade_3_4" and term in AE_SUMMARY:
            sources += [""] * (len(study.groups) + 1)  # the summary rows leave the grade 3-4 columns empty
            continue
        sources += [" ".join(_count_and_percent_ids(section, term, group_code(study, g))) for g in study.groups]
        sources.append(f"safety.{_result_name(section, term)}_p")
    return tuple(sources)


def safety_results(study: Study, long: pd.DataFrame | None = None) -> ResultSet:
    """Adverse events by group.

    Ids (``<g>``: the group's role, treatment or control): ``safety.any_<g>`` and ``safety.disc_<g>`` hold counts (``_pct_`` percentages); ``safety.g34_<g>``,
    ``safety.<term>_<g>`` (any grade) and ``safety.<term>_g34_<g>`` hold percentages (``_n`` counts); p-values
    ``safety.<name>_p``. ``safety.higher_in_treatment`` lists terms whose any-grade rate is significantly
    (p below ``significance_level``) higher in the treatment group.
    """
    table = _long_table(study) if long is None else long
    values = ResultSet()
    higher = []
    for (section, term), rows in table.groupby(["section", "term"], sort=False):
        if section == "summary":
            text = _SUMMARY_NAMES[AE_SUMMARY[term]]
        else:
            base = term.removeprefix("ae_")
            text = base.replace("_", " ").capitalize() + (", grade 3-4" if section == "grade_3_4" else ", any grade")
        for row in rows.itertuples():
            code = group_code(study, row.group)
            count_id, percent_id = _count_and_percent_ids(section, term, code)
            values.add(count_id, int(row.count), Kind.COUNT, f"{text}, {row.group}")
            values.add(percent_id, float(row.percent), Kind.PERCENT, f"{text}, {row.group}")
        values.add(f"safety.{_result_name(section, term)}_p", float(rows["p"].iloc[0]), Kind.P, f"{text} by group, P")
        if section == "any_grade":
            by_group = rows.set_index("group")["percent"]
            if rows["p"].iloc[0] < study.config.significance_level and by_group[study.treatment] > by_group[study.control]:
                higher.append(term.removeprefix("ae_"))
    names = {term.removeprefix("ae_"): text.lower() for term, text in zip(table["term"], table["label"])}
    values.add(f"safety.higher_in_{group_code(study, study.treatment)}", sorted(higher), Kind.LIST,
               f"Adverse events significantly more frequent with {study.treatment}", item_labels=names)
    return values


def safety_display_table(study: Study, long: pd.DataFrame) -> JournalTable:
    """Table 5 in the article's layout: the spanners "Any grade" and "Grade 3–4" (each group with its N, then P),
    the summary rows first, then one row per adverse event (indented under "Adverse events")."""
    wide = adverse_event_display(long)
    sizes = study.data["group"].value_counts()
    columns, keys = [], []
    for suffix, spanner in (("any grade", "Any grade"), ("grade 3-4", "Grade 3–4")):
        columns += [Column(group_heading(g, sizes.get(g, 0)), spanner) for g in study.groups] + [Column("P", spanner)]
        keys += [f"{g} {suffix}" for g in study.groups] + [f"p ({suffix})"]
    rows = []
    for _, line in wide.iterrows():
        summary = line["term"] in AE_SUMMARY
        cells = tuple(str(line[key]) for key in keys)
        sources = tuple(source if cell else "" for cell, source in zip(cells, _table5_sources(study, line["term"])))
        rows.append(Row(line["label"], cells, indent=0 if summary else 1, group="" if summary else "Adverse event",
                        sources=sources))
    footnotes = [
        "Values are n (%) of all patients of each group; an event is counted once per patient at its worst grade "
        "(CTCAE version 5.0).",
        f"P values: {categorical_test_text(study.config.baseline.categorical_test)}; none where no patient of "
        "either group had the event.",
        "CTCAE, Common Terminology Criteria for Adverse Events.",
    ]
    return JournalTable("table5_adverse_events", "Table 5", "Treatment-related adverse events", "Adverse event",
                        columns, rows, footnotes, order=5)


def compute(study: Study) -> SectionResult:
    long = _long_table(study)
    return SectionResult(safety_results(study, long), {"table5": safety_display_table(study, long)}, {"long": long})


def safety_tables(study: Study) -> dict[str, pd.DataFrame]:
    """Table 5 (display) and the long adverse-event table (for the dot chart)."""
    long = _long_table(study)
    return {"long": long, "display": adverse_event_display(long)}
