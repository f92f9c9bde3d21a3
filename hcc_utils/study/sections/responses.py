"""Table 2: best tumour response (RECIST 1.1 and mRECIST), objective response and disease control rates."""
from __future__ import annotations

import pandas as pd

from hcc_utils.stats.contingency import compare_proportions
from hcc_utils.tables.formatting import fmt_p
from hcc_utils.tables.journal import Column, JournalTable, Row
from hcc_utils.tables.responses import CATEGORIES, recorded, response_table, response_tables
from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.labels import COHORT_NAMES, abbreviation_note, categorical_test_text, group_heading
from hcc_utils.study.registry import Kind, ResultSet
from hcc_utils.study.sections import SectionResult, per_cohort

#: Id conventions of response numbers (the article's usage): CR, PR, PD and NE ids hold counts (``_pct_`` the
#: percentage); SD, ORR and DCR ids hold percentages (``_n_`` the count). mRECIST ids carry ``mrecist_``.
RESPONSE_COUNT_IDS = ("cr", "pr", "pd", "ne")
RESPONSE_CRITERIA = {"": "best_response_recist", "mrecist_": "best_response_mrecist"}
_CRITERION_NAMES = {"": "RECIST 1.1", "mrecist_": "mRECIST"}


def response_results(study: Study) -> ResultSet:
    """Best response by group: counts, percentages, ORR and DCR with exact (Clopper-Pearson) CIs, and p-values."""
    rule = study.config.baseline.categorical_test

    def one_cohort(suffix: str, cohort: pd.DataFrame, values: ResultSet) -> None:
        for prefix, column in RESPONSE_CRITERIA.items():
            if not recorded(cohort, "group", column, study.groups):  # mRECIST is optional: a group may have none
                continue
            where = f"{_CRITERION_NAMES[prefix]}, {COHORT_NAMES[suffix]}"
            table = response_table(cohort, "group", column, groups=study.groups, rule=rule)
            for row in table.itertuples():
                code = group_code(study, row.group)
                measure = row.measure
                name = f"{measure.upper()}, {row.group} ({where})"
                count_key, pct_key = (measure, f"{measure}_pct") if measure in RESPONSE_COUNT_IDS else (f"{measure}_n", measure)
                values.add(f"response.{prefix}{count_key}_{code}{suffix}", int(row.count), Kind.COUNT, name)
                values.add(f"response.{prefix}{pct_key}_{code}{suffix}", float(row.percent), Kind.PERCENT, name)
                if measure in ("orr", "dcr"):
                    values.add(f"response.{prefix}{measure}_ci_low_{code}{suffix}", float(row.ci_low), Kind.PERCENT,
                               f"{name}, 95% CI lower limit")
                    values.add(f"response.{prefix}{measure}_ci_high_{code}{suffix}", float(row.ci_high), Kind.PERCENT,
                               f"{name}, 95% CI upper limit")
                    values.add(f"response.{prefix}{measure}_p{suffix}", float(row.p), Kind.P,
                               f"{measure.upper()} by group, P ({where})")
            sd = table[table["measure"] == "sd"].set_index("group")
            t, c = study.groups
            values.add(f"response.{prefix}sd_p{suffix}", compare_proportions(
                int(sd.loc[t, "count"]), int(sd.loc[t, "n"]), int(sd.loc[c, "count"]), int(sd.loc[c, "n"]), rule=rule).p,
                Kind.P, f"SD by group, P ({where})")

    return per_cohort(study, one_cohort)


_CRITERION_PREFIXES = {name: prefix for prefix, name in _CRITERION_NAMES.items()}


def _response_sources(study: Study, criterion: str, measure: str, group: str, suffix: str) -> str:
    """The result ids a cell of Table 2 shows (count, percentage and, for ORR and DCR, the interval's limits), as
    :func:`response_results` names them."""
    prefix, code = _CRITERION_PREFIXES.get(criterion, ""), group_code(study, group)
    count_key, pct_key = (measure, f"{measure}_pct") if measure in RESPONSE_COUNT_IDS else (f"{measure}_n", measure)
    ids = [f"response.{prefix}{pct_key}_{code}{suffix}", f"response.{prefix}{count_key}_{code}{suffix}"]
    if measure in ("orr", "dcr"):
        ids += [f"response.{prefix}{measure}_ci_{end}_{code}{suffix}" for end in ("low", "high")]
    return " ".join(ids)


def _response_cell(row) -> str:
    """'3 (7.5)' for a category, '3 (7.5; 1.6–20.4)' for a rate with its exact CI; the missing count as is."""
    if row.measure == "missing":
        return str(row.count)
    text = f"{int(row.count)} ({row.percent:.1f}"
    return text + (f"; {row.ci_low:.1f}–{row.ci_high:.1f})" if row.measure in ("orr", "dcr") else ")")


def response_display_table(study: Study) -> JournalTable:
    """Table 2 in the article's layout: the cohorts as column spanners (each group with its N, then P), the
    criteria (RECIST 1.1, mRECIST) as row groups, one row per response category and rate; P only where a test
    was run (ORR and DCR). Patients without a recorded response are counted in a row of their own."""
    rule = study.config.baseline.categorical_test
    columns, blocks = [], {}
    for suffix, cohort in study.cohorts().items():
        spanner = COHORT_NAMES[suffix]
        long = response_tables(cohort, "group", groups=study.groups, rule=rule)
        sizes = cohort["group"].value_counts()
        columns += [Column(group_heading(g, sizes.get(g, 0)), spanner) for g in study.groups] + [Column("P", spanner)]
        for (criterion, measure), part in long.groupby(["criterion", "measure"], sort=False):
            by_group = part.set_index("group")
            cells = [_response_cell(next(by_group.loc[[g]].itertuples())) for g in study.groups]
            cells.append(fmt_p(part["p"].iloc[0], missing=""))
            sources = [_response_sources(study, criterion, measure, g, suffix) for g in study.groups]
            sources.append(f"response.{_CRITERION_PREFIXES.get(criterion, '')}{measure}_p{suffix}" if cells[-1] else "")
            blocks.setdefault((criterion, measure), {"label": part["label"].iloc[0]})[suffix] = cells
            blocks[(criterion, measure)][f"sources{suffix}"] = sources
            missing = part.set_index("group")["missing"]
            if missing.sum() > 0:
                blocks.setdefault((criterion, "missing"), {"label": "Not assessed (missing)"})[suffix] = \
                    [str(int(missing.get(g, 0))) for g in study.groups] + [""]
    order = sorted(blocks, key=lambda key: (list(dict.fromkeys(k[0] for k in blocks)).index(key[0]),
                                            key[1] == "missing"))
    rows = []
    for criterion, measure in order:
        block = blocks[(criterion, measure)]
        cells, sources = [], []
        for suffix in study.cohorts():
            cells += block.get(suffix, [""] * (len(study.groups) + 1))
            sources += block.get(f"sources{suffix}", [""] * (len(study.groups) + 1))
        rows.append(Row(block["label"], tuple(cells), indent=1 if measure in CATEGORIES else 0, group=criterion,
                        sources=tuple(sources)))
    footnotes = [
        "Values are n (%) of the patients with a recorded best response (patients not evaluable stay in the "
        "denominator); for ORR and DCR, n (%; exact Clopper–Pearson 95% CI).",
        f"P values compare ORR and DCR between the groups: {categorical_test_text(rule)}.",
        abbreviation_note("CI", "CR", "DCR", "mRECIST", "ORR", "PD", "PR", "PS", "RECIST", "SD"),
    ]
    return JournalTable("table2_responses", "Table 2", "Best overall response to second-line therapy",
                        "Response", columns, rows, footnotes, order=2)


def compute(study: Study) -> SectionResult:
    return SectionResult(response_results(study), {"table2": response_display_table(study)})
