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
            name = AE_SUMMARY[term]
            text = _SUMMARY_NAMES[name]
        else:
            base = term.removeprefix("ae_")
            name = AE_SHORT.get(base, base) + ("_g34" if section == "grade_3_4" else "")
            text = base.replace("_", " ").capitalize() + (", grade 3-4" if section == "grade_3_4" else ", any grade")
        counts_first = name in ("any", "disc")
        for row in rows.itertuples():
            code = group_code(study, row.group)
            values.add(f"safety.{name}{'' if counts_first else '_n'}_{code}", int(row.count), Kind.COUNT,
                       f"{text}, {row.group}")
            values.add(f"safety.{name}{'_pct' if counts_first else ''}_{code}", float(row.percent), Kind.PERCENT,
                       f"{text}, {row.group}")
        values.add(f"safety.{name}_p", float(rows["p"].iloc[0]), Kind.P, f"{text} by group, P")
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
        rows.append(Row(line["label"], cells, indent=0 if summary else 1, group="" if summary else "Adverse event"))
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
