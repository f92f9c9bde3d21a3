"""Table 2: best tumour response (RECIST 1.1 and mRECIST), objective response and disease control rates."""
from __future__ import annotations

import pandas as pd

from hcc_utils.stats.contingency import compare_proportions
from hcc_utils.tables.responses import response_display, response_table, response_tables
from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.labels import COHORT_NAMES
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
            if cohort[column].notna().sum() == 0:
                continue
            where = f"{_CRITERION_NAMES[prefix]}, {COHORT_NAMES[suffix]}"
            table = response_table(cohort, "group", column, groups=study.groups, rule=rule)
            for row in table.itertuples():
                code = group_code(row.group)
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


def response_display_table(study: Study) -> pd.DataFrame:
    """Table 2 layout: criterion, measure, groups' n (%), p — for all enrolled and matched patients."""
    rule = study.config.baseline.categorical_test
    parts = []
    for suffix, cohort in study.cohorts().items():
        shown = response_display(response_tables(cohort, "group", groups=study.groups, rule=rule))
        shown.insert(0, "Cohort", COHORT_NAMES[suffix])
        parts.append(shown)
    return pd.concat(parts, ignore_index=True).drop(columns=["measure"]).rename(
        columns={"criterion": "Criterion", "label": "Response", "p": "P"})


def compute(study: Study) -> SectionResult:
    return SectionResult(response_results(study), {"table2": response_display_table(study)})
