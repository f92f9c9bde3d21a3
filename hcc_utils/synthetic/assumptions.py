"""Documented assumptions of the synthetic cohort: everything the article does not report.

Rendered by the book's data page (``from hcc_utils.synthetic.generator import ASSUMPTIONS``).
"""
from __future__ import annotations

import pandas as pd

from hcc_utils.synthetic.plan import EVENT_PLAN


def _event_plan_text() -> str:
    """The construction's events by group, from :data:`~hcc_utils.synthetic.plan.EVENT_PLAN` (one source): the
    plan of step 2, before the calibration search, which may move an event (so Table 3 may differ by one or two)."""
    def count(group: str, index: int, matched_only: bool = False) -> int:
        return sum(row[index] for (g, matched), row in EVENT_PLAN.items() if g == group and (matched or not matched_only))

    groups = list(dict.fromkeys(g for g, _ in EVENT_PLAN))
    os_text = ", ".join(f"{g} {count(g, 1)} (matched {count(g, 1, True)})" for g in groups)
    pfs_text = ", ".join(f"{g} {count(g, 2)} (matched {count(g, 2, True)})" for g in groups)
    return f"planned before calibration: OS deaths {os_text}; PFS events {pfs_text}"

#: Documented assumptions for everything the article does not report. Rendered by the book's data page.
#: Each row: variable, assumption, value used, why.
ASSUMPTIONS: list[dict] = [
    {"variable": "centre", "assumption": "two hospitals", "value": "synthetic-1 60%, synthetic-2 40% (names mark the cohort as synthetic)",
     "rationale": "article names two university hospitals; split not reported"},
    {"variable": "sex / viral / BCLC C split by group", "assumption": "overall count split proportionally to group size",
     "value": "largest-remainder rounding", "rationale": "article: no significant baseline differences except Child-Pugh and cycles"},
    {"variable": "etiology within viral", "assumption": "HBV-dominant Korean cohort", "value": "hbv 85%, hcv 12%, hbv_hcv 3%",
     "rationale": "Korean HCC epidemiology"},
    {"variable": "etiology within non-viral", "assumption": "alcohol-dominant", "value": "alcohol 60%, nash 20%, other 20%",
     "rationale": "Korean HCC epidemiology"},
    {"variable": "bclc_stage (non-C)", "assumption": "mostly B", "value": "b 85%, a 15%", "rationale": "advanced disease after first-line failure"},
    {"variable": "child_pugh_score", "assumption": "within class", "value": "A: 5 (60%) / 6; B: 7 (50%), 8 (35%), 9 (15%)",
     "rationale": "typical second-line population"},
    {"variable": "ecog", "assumption": "same mix in both groups", "value": "0: 35%, 1: 52%, 2: 13%",
     "rationale": "article notes more ECOG 2 than trials; no group difference reported"},
    {"variable": "tumor_number", "assumption": "70% multiple", "value": "1: 30%, 2-3: 25%, 4-10: 45%", "rationale": "advanced HCC"},
    {"variable": "tumor_size_cm", "assumption": "log-normal", "value": "median 6.5 cm, sdlog 0.6, 1-15.5 cm (about 24% >= 10 cm)",
     "rationale": "advanced HCC series"},
    {"variable": "lymph_node_metastasis", "assumption": "Bernoulli", "value": "35%", "rationale": "advanced HCC series"},
    {"variable": "extrahepatic_metastasis", "assumption": "Bernoulli", "value": "60%", "rationale": "BCLC C in 86.5%"},
    {"variable": "macrovascular_invasion", "assumption": "Bernoulli", "value": "40%", "rationale": "advanced HCC series"},
    {"variable": "afp_ng_ml", "assumption": "log-normal", "value": "median 250 ng/mL, sdlog 2.5 (about 43% >= 400)",
     "rationale": "advanced HCC series"},
    {"variable": "pivka_mau_ml", "assumption": "log-normal", "value": "median 1200 mAU/mL, sdlog 2.2 (about 53% >= 1000)",
     "rationale": "advanced HCC series"},
    {"variable": "body_weight_kg", "assumption": "normal by sex", "value": "male 67 (SD 10), female 56 (SD 8)",
     "rationale": "Korean adults"},
    {"variable": "atebev_cycles distribution", "assumption": "integer counts per value chosen so that SAS PCTLDEF=5 quartiles equal the published ones",
     "value": "lenvatinib 1-2: 2, 3: 6, 4: 4, 5: 5, 6: 7, 7-9: 5, 10: 3, 11-24: 8; sorafenib 1: 10, 2: 15, 3: 23, 4: 7, 5: 8, 6: 9, 7-20: 14",
     "rationale": "only medians and IQRs are published"},
    {"variable": "matching outliers", "assumption": "4 lenvatinib patients with a young, very-large-tumour profile",
     "value": "age 33-42, tumour 17-21 cm", "rationale": "article: 36 of 40 lenvatinib patients matched"},
    {"variable": "events by group", "assumption": _event_plan_text(),
     "value": "totals 81 / 44 / 107 / 61 as published", "rationale": "only totals are published; the calibration "
     "search may then move an event between the groups' unmatched patients, so the bundled cohort's own counts "
     "are those of Table 3, not this plan"},
    {"variable": "censoring", "assumption": "matched patients censored administratively at 6.5-18 months; alive unmatched patients without progression lost to follow-up within 1.4 months",
     "value": "", "rationale": "the matched cohort's longer follow-up (8.0 vs 5.5 months) and the short PFS follow-up (2.1 months)"},
    {"variable": "unmatched lenvatinib patients", "assumption": "progress within 6 weeks", "value": "PFS 0.6-1.4 months",
     "rationale": "huge single tumours; leaves room for the short PFS follow-up quartile (1.4 months)"},
    {"variable": "death without progression", "assumption": "share of PFS events that are deaths", "value": "10%", "rationale": "typical"},
    {"variable": "mRECIST", "assumption": "RECIST with a few SD upgraded to PR", "value": "lenvatinib +3, sorafenib +2 (scaled)",
     "rationale": "article: mRECIST results comparable"},
    {"variable": "third-line regimens", "assumption": "lenvatinib: sorafenib (15) + regorafenib, nivolumab, ipilimumab_nivolumab (1 each); sorafenib: regorafenib 24, cabozantinib 8, nivolumab 6, ipilimumab_nivolumab 6",
     "value": "given only after second-line progression", "rationale": "Supplementary Table 1 not available"},
    {"variable": "adverse events not in the text", "assumption": "per-term counts", "value": "see AE_PLAN", "rationale": "Table 5 not available; chosen to keep the text's 'most common' and significance statements"},
    {"variable": "dates", "assumption": "second-line start 2020-06-01 to 2022-12-31; data cut-off 2023-06-30; censored patients followed to the cut-off when possible",
     "value": "months = days / 30.4375", "rationale": "ATE+BEV reimbursed in Korea from May 2020"},
]


def assumptions_table() -> pd.DataFrame:
    """The documented generator assumptions (:data:`ASSUMPTIONS`) as a table for the book's data page."""
    return pd.DataFrame(ASSUMPTIONS, columns=["variable", "assumption", "value", "rationale"])
