"""Seeded generator of the bundled SYNTHETIC screened cohort.

The article's patient-level data are not public. The project therefore ships a synthetic cohort
(``data/synthetic_cohort.csv``) that has the canonical schema of ``data/data_dictionary.yml`` (one row per
*screened* patient) and is built so that the project's own analysis of it reproduces the numbers the article
reports. It contains no real patient.

How the cohort is built (for trainees)
--------------------------------------
The generator works in four layers, each deterministic given the seed (one :class:`numpy.random.Generator`):

1. **Flow.** The screened patients are split into the flow-diagram boxes with the article's counts (died on
   first line, deteriorated on first line, deteriorated after stopping, regorafenib, 5-FU, lenvatinib,
   sorafenib). The counts are read from ``data/targets.csv``; ``n_scale`` multiplies every box.
2. **Covariates with exact counts.** Where the article gives a count (111 men, 92 viral, 109 BCLC C,
   Child-Pugh A 37/40 and 54/86, age median 63 (IQR 55-70), ATE+BEV cycle medians and IQRs by group) the
   generator does not *sample* the count, it *places* it: exactly k of n patients get the attribute, and
   order statistics are pinned so that the SAS PCTLDEF=5 quantiles equal the published ones. Where the article
   is silent the values are drawn from the documented, clinically plausible :data:`ASSUMPTIONS`.
3. **Propensity-aware outcomes.** A few lenvatinib patients are given an extreme (young, very large tumour)
   profile so that the article's 1:1 caliper matching leaves exactly 4 of 40 unmatched (36 pairs). The
   generator runs the project's own matching (:mod:`hcc_utils.stats.matching`) and then builds the outcomes of each
   subset (group x matched) separately, because the article reports survival, responses and events for the
   whole cohort *and* for the matched cohort.
4. **Outcomes.** Progression-free and overall survival are drawn from Weibull models whose linear predictor
   contains the published prognostic factors, censored, and then the time axis of each group is transformed
   by a monotone piecewise-linear map so that the Kaplan-Meier quartiles equal the published ones (a monotone
   map of time leaves the order of events, hence the Kaplan-Meier steps, unchanged). Responses follow the PFS
   rank within a subset; adverse events are placed term by term with exact counts. Finally dates are
   produced from the times (months = days / 30.4375).

What construction alone cannot hit (log-rank and Cox p-values, hazard ratios, matched-cohort quartiles ...)
is tuned afterwards by :mod:`hcc_utils.synthetic.calibrate`, a seeded search that only *permutes or nudges* patient
values. ``generate_cohort`` itself is fast and vectorised: 10^6 rows take seconds.
"""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "ASSUMPTIONS",
    "AE_TERMS",
    "assumptions_table",
    "DATA_CUTOFF",
    "generate_cohort",
    "load_target_values",
    "plan_counts",
    "write_synthetic_cohort",
    "file_sha256",
]

from hcc_utils.config import REPO_ROOT  # noqa: E402
TARGETS_PATH = REPO_ROOT / "data" / "targets.csv"
DAYS_PER_MONTH = 30.4375
DATA_CUTOFF = pd.Timestamp("2023-06-30")
FIRST_START = pd.Timestamp("2020-06-01")
LAST_START = pd.Timestamp("2022-12-31")

#: Adverse-event columns (suffix of ``ae_<term>``), in dictionary order.
AE_TERMS = [
    "proteinuria", "ast_elevation", "alt_elevation", "bilirubin_elevation", "thrombocytopenia", "anemia",
    "hypertension", "hand_foot_syndrome", "rash", "anorexia", "hypothyroidism", "gi_bleeding", "diarrhea",
    "fatigue",
]

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
    {"variable": "events by group", "assumption": "OS deaths: lenvatinib 21 (matched 19), sorafenib 60 (matched 25); PFS events: lenvatinib 34 (matched 30), sorafenib 73 (matched 31)",
     "value": "totals 81 / 44 / 107 / 61 as published", "rationale": "only totals are published"},
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

#: Adverse-event plan: (any-grade count, grade 3-4 count) per term and group for the default cohort.
#: Counts stated in the article are read from targets.csv at run time and override these.
AE_PLAN = {
    "lenvatinib": {
        "proteinuria": (23, 12), "ast_elevation": (20, 4), "alt_elevation": (9, 1), "bilirubin_elevation": (17, 1),
        "thrombocytopenia": (20, 2), "anemia": (12, 1), "hypertension": (15, 2), "hand_foot_syndrome": (2, 0),
        "rash": (3, 0), "anorexia": (14, 1), "hypothyroidism": (10, 0), "gi_bleeding": (4, 3), "diarrhea": (7, 0),
        "fatigue": (11, 1),
    },
    "sorafenib": {
        # 33 patients with grade 3-4 events need 33 term-level events; rash 4 + HFS 4 + AST 2 as stated, the
        # other 11 terms 2 each (bilirubin 3) -- see hcc_utils.reproduction.audit for this tension in the article.
        "proteinuria": (6, 2), "ast_elevation": (45, 2), "alt_elevation": (22, 2), "bilirubin_elevation": (47, 3),
        "thrombocytopenia": (18, 2), "anemia": (9, 2), "hypertension": (8, 2), "hand_foot_syndrome": (17, 4),
        "rash": (10, 4), "anorexia": (14, 2), "hypothyroidism": (3, 2), "gi_bleeding": (4, 2), "diarrhea": (12, 2),
        "fatigue": (18, 2),
    },
}

#: ATE+BEV cycle counts per value (default cohort). Values outside the listed ones are drawn in the range.
CYCLES_PLAN = {
    "lenvatinib": [((1, 1), 1), ((2, 2), 1), ((3, 3), 6), ((4, 4), 4), ((5, 5), 5), ((6, 6), 7), ((7, 7), 2),
                   ((8, 8), 2), ((9, 9), 1), ((10, 10), 3), ((11, 24), 8)],
    "sorafenib": [((1, 1), 10), ((2, 2), 15), ((3, 3), 23), ((4, 4), 7), ((5, 5), 8), ((6, 6), 9), ((7, 20), 14)],
}

#: Third-line regimens (default counts) among progressed patients of each group.
THIRD_LINE_PLAN = {
    "lenvatinib": {"sorafenib": 15, "regorafenib": 1, "nivolumab": 1, "ipilimumab_nivolumab": 1},
    "sorafenib": {"regorafenib": 24, "cabozantinib": 8, "nivolumab": 6, "ipilimumab_nivolumab": 6},
}

#: Events per subset (group, matched) of the default cohort: (n, OS deaths, PFS events).
EVENT_PLAN = {
    ("lenvatinib", 1): (36, 19, 30),
    ("lenvatinib", 0): (4, 2, 4),
    ("sorafenib", 1): (36, 25, 31),
    ("sorafenib", 0): (50, 35, 42),
}

#: Number of lenvatinib patients designed to fall outside the matching caliper (default cohort).
N_MATCH_OUTLIERS = 4


# ----------------------------------------------------------------------------------------------------------------
# Targets
# ----------------------------------------------------------------------------------------------------------------
def load_target_values(path: str | Path = TARGETS_PATH) -> dict[str, str]:
    """Read ``data/targets.csv`` into ``{id: value-as-text}``.

    Only the generator, the calibration, the scorecard and the audit read this file; analysis code never does.
    """
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["id"]: row["value"] for row in csv.DictReader(fh)}


def _num(t: dict, key: str) -> float:
    return float(t[key])


def _largest_remainder(total: int, weights) -> np.ndarray:
    """Split an integer ``total`` in proportion to ``weights`` (Hamilton / largest-remainder rounding)."""
    w = np.asarray(weights, dtype=float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(w.size, dtype=int)
    raw = total * w / w.sum()
    base = np.floor(raw).astype(int)
    rest = total - base.sum()
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return base


def _scale(k: float, n_scale: float, minimum: int = 0) -> int:
    return max(minimum, int(np.floor(k * n_scale + 0.5)))


def plan_counts(n_scale: float = 1.0, targets: dict | None = None) -> dict:
    """Integer counts of every flow box and every exactly-placed covariate.

    Parameters
    ----------
    n_scale : multiplies every count (1 = the article's cohort).
    targets : ``load_target_values()`` by default.

    Returns
    -------
    dict
        ``flow`` (box -> n), ``groups`` (group -> n) and per-group exact counts (``male``, ``viral``,
        ``bclc_c``, ``child_pugh_a``).
    """
    t = targets or load_target_values()
    died = _scale(_num(t, "flow.died_on_first_line"), n_scale)
    det = _scale(_num(t, "flow.deteriorated_on_first_line"), n_scale)
    det_after = _scale(_num(t, "flow.deteriorated_after_first_line"), n_scale)
    n_len = _scale(_num(t, "flow.second_line_lenvatinib"), n_scale, minimum=10)
    n_sor = _scale(_num(t, "flow.second_line_sorafenib"), n_scale, minimum=10)
    rego = _scale(_num(t, "flow.second_line_regorafenib"), n_scale)
    fu = _scale(_num(t, "flow.second_line_5fu"), n_scale)
    groups = {"lenvatinib": n_len, "sorafenib": n_sor}
    n_enr = n_len + n_sor
    enr0 = _num(t, "flow.enrolled")
    sizes = [n_len, n_sor]

    def split(key):
        return dict(zip(groups, _largest_remainder(int(round(_num(t, key) * n_enr / enr0)), sizes)))

    cp_a = {
        "lenvatinib": int(round(_num(t, "baseline.child_pugh_a_len") / 100 * n_len)),
        "sorafenib": int(round(_num(t, "baseline.child_pugh_a_sor") / 100 * n_sor)),
    }
    return {
        "flow": {"death": died, "deterioration": det, "deteriorated_after": det_after, "lenvatinib": n_len,
                 "sorafenib": n_sor, "regorafenib": rego, "fluorouracil": fu},
        "groups": groups,
        "male": split("baseline.male"),
        "viral": split("baseline.viral"),
        "bclc_c": split("baseline.bclc_c"),
        "child_pugh_a": cp_a,
        "n_outliers": max(1, int(round(N_MATCH_OUTLIERS * n_scale))) if n_scale != 1 else N_MATCH_OUTLIERS,
    }


# ----------------------------------------------------------------------------------------------------------------
# Exact-count helpers
# ----------------------------------------------------------------------------------------------------------------
def _exact_binary(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """0/1 vector with exactly ``k`` ones at random positions."""
    out = np.zeros(n, dtype=int)
    out[rng.permutation(n)[: max(0, min(n, k))]] = 1
    return out


def _sas5_positions(n: int, p: float) -> list[int]:
    """0-based order statistics that SAS PCTLDEF=5 averages (or takes) for probability ``p``."""
    np_ = n * p
    j = int(np.floor(np_))
    if np_ > j:
        return [min(n - 1, j)]
    return [max(0, j - 1), min(n - 1, j)]


def _pinned_sample(rng: np.random.Generator, n: int, knots: list[tuple[float, float]], integer: bool = True) -> np.ndarray:
    """Sorted sample whose SAS PCTLDEF=5 quartiles equal given values exactly.

    ``knots`` = [(0, min), (0.25, q1), (0.5, median), (0.75, q3), (1, max)]. Values between pinned order
    statistics are drawn uniformly between the neighbouring knot values, then sorted, so the pinned positions
    hold their quantile and the sample stays sorted.
    """
    probs = np.array([k[0] for k in knots])
    vals = np.array([k[1] for k in knots], dtype=float)
    u = np.sort(rng.uniform(0, 1, n))
    x = np.interp(u, probs, vals)
    if integer:
        x = np.floor(x + 0.5)
    x = np.sort(x)
    for p, v in knots[1:-1]:
        for pos in _sas5_positions(n, p):
            x[pos] = v
    # restore order around pinned values (clip neighbours)
    for p, v in knots[1:-1]:
        pos = _sas5_positions(n, p)
        x[: pos[0]] = np.minimum(x[: pos[0]], v)
        x[pos[-1] + 1:] = np.maximum(x[pos[-1] + 1:], v)
    return np.sort(x)


def _cycles(rng: np.random.Generator, group: str, n: int, n_scale_default: bool) -> np.ndarray:
    plan = CYCLES_PLAN[group]
    total = sum(c for _, c in plan)
    counts = [c for _, c in plan] if n == total else list(_largest_remainder(n, [c for _, c in plan]))
    out = []
    for ((lo, hi), _), c in zip(plan, counts):
        out.append(rng.integers(lo, hi + 1, size=c) if hi > lo else np.full(c, lo))
    x = np.concatenate(out).astype(int)
    return x[rng.permutation(x.size)]


# ----------------------------------------------------------------------------------------------------------------
# Covariates
# ----------------------------------------------------------------------------------------------------------------
def _enrolled_covariates(rng: np.random.Generator, plan: dict, t: dict) -> pd.DataFrame:
    """Baseline covariates of the enrolled patients (both groups), exact counts where published."""
    frames = []
    n_len = plan["groups"]["lenvatinib"]
    n_sor = plan["groups"]["sorafenib"]
    n = n_len + n_sor
    # Age: pooled sample with pinned SAS quartiles; the youngest go to the matching outliers.
    knots = [(0.0, 33.0), (0.25, _num(t, "baseline.age_q1")), (0.5, _num(t, "baseline.age_median")),
             (0.75, _num(t, "baseline.age_q3")), (1.0, 86.0)]
    ages = _pinned_sample(rng, n, knots)
    k_out = min(plan["n_outliers"], n_len - 1)
    out_ages = ages[:k_out]
    rest_ages = ages[k_out:][rng.permutation(n - k_out)]
    pos = 0
    for group, ng in (("lenvatinib", n_len), ("sorafenib", n_sor)):
        d = pd.DataFrame(index=range(ng))
        d["second_line_regimen"] = group
        d["outlier"] = 0
        if group == "lenvatinib":
            d.loc[: k_out - 1, "outlier"] = 1
            d["age"] = np.concatenate([out_ages, rest_ages[pos: pos + ng - k_out]])
            pos += ng - k_out
        else:
            d["age"] = rest_ages[pos: pos + ng]
            pos += ng
        male = _exact_binary(rng, ng, plan["male"][group])
        if group == "lenvatinib":
            # outliers are women: order the women first among the lenvatinib rows
            n_female = ng - plan["male"][group]
            k_f = min(k_out, n_female)
            male = np.ones(ng, dtype=int)
            male[:k_f] = 0
            male[k_out:][rng.permutation(ng - k_out)[: n_female - k_f]] = 0
        d["sex"] = np.where(male == 1, "male", "female")
        viral = _exact_binary(rng, ng, plan["viral"][group])
        vir_kind = rng.choice(["hbv", "hcv", "hbv_hcv"], size=ng, p=[0.85, 0.12, 0.03])
        non_kind = rng.choice(["alcohol", "nash", "other"], size=ng, p=[0.6, 0.2, 0.2])
        d["etiology"] = np.where(viral == 1, vir_kind, non_kind)
        cpa = np.zeros(ng, dtype=int)
        if group == "lenvatinib":
            # outliers are Child-Pugh A (their propensity is driven up further)
            cpa[:k_out] = 1
            cpa[k_out:] = _exact_binary(rng, ng - k_out, plan["child_pugh_a"][group] - k_out)
        else:
            cpa = _exact_binary(rng, ng, plan["child_pugh_a"][group])
        score_a = rng.choice([5, 6], size=ng, p=[0.6, 0.4])
        score_b = rng.choice([7, 8, 9], size=ng, p=[0.5, 0.35, 0.15])
        d["child_pugh_score"] = np.where(cpa == 1, score_a, score_b)
        bclc_c = _exact_binary(rng, ng, plan["bclc_c"][group])
        d["bclc_stage"] = np.where(bclc_c == 1, "c", rng.choice(["b", "a"], size=ng, p=[0.85, 0.15]))
        d["ecog"] = rng.choice([0, 1, 2], size=ng, p=[0.35, 0.52, 0.13])
        kind = rng.choice(3, size=ng, p=[0.30, 0.25, 0.45])
        d["tumor_number"] = np.where(kind == 0, 1, np.where(kind == 1, rng.integers(2, 4, ng), rng.integers(4, 11, ng)))
        size = np.exp(rng.normal(np.log(6.5), 0.6, ng)).clip(1.0, 15.5)
        ln = (rng.uniform(size=ng) < 0.35).astype(int)
        ehm = (rng.uniform(size=ng) < 0.60).astype(int)
        if group == "lenvatinib":
            # matching outliers: a single huge tumour without nodal or distant spread in a young woman
            size[:k_out] = rng.uniform(17.0, 21.0, k_out)
            d.loc[: k_out - 1, "tumor_number"] = 1
            ln[:k_out] = 0
            ehm[:k_out] = 0
        d["tumor_size_cm"] = np.round(size, 1)
        d["lymph_node_metastasis"] = ln
        d["extrahepatic_metastasis"] = ehm
        d["macrovascular_invasion"] = (rng.uniform(size=ng) < 0.40).astype(int)
        d["afp_ng_ml"] = np.round(np.exp(rng.normal(np.log(250), 2.5, ng)).clip(0.8, 500000), 1)
        d["pivka_mau_ml"] = np.round(np.exp(rng.normal(np.log(1200), 2.2, ng)).clip(8, 1500000), 0)
        male = d["sex"].to_numpy() == "male"
        d["body_weight_kg"] = np.round(np.where(male, rng.normal(67, 10, ng), rng.normal(56, 8, ng)).clip(38, 120), 1)
        d["atebev_cycles"] = _cycles(rng, group, ng, True)
        frames.append(d)
    return pd.concat(frames, ignore_index=True)


def _other_covariates(rng: np.random.Generator, n: int, regimen) -> pd.DataFrame:
    """Plausible covariates for second-line patients outside the study groups (regorafenib, 5-FU)."""
    d = pd.DataFrame(index=range(n))
    d["second_line_regimen"] = regimen
    d["outlier"] = 0
    d["age"] = np.floor(rng.normal(63, 10, n).clip(30, 88) + 0.5)
    d["sex"] = np.where(rng.uniform(size=n) < 0.88, "male", "female")
    d["etiology"] = rng.choice(["hbv", "hcv", "alcohol", "nash", "other"], size=n, p=[0.62, 0.09, 0.17, 0.06, 0.06])
    d["child_pugh_score"] = rng.choice([5, 6, 7, 8], size=n, p=[0.4, 0.3, 0.2, 0.1])
    d["bclc_stage"] = rng.choice(["b", "c"], size=n, p=[0.15, 0.85])
    d["ecog"] = rng.choice([0, 1, 2], size=n, p=[0.35, 0.52, 0.13])
    d["tumor_number"] = rng.integers(1, 8, n)
    d["tumor_size_cm"] = np.round(np.exp(rng.normal(np.log(6.5), 0.6, n)).clip(1.0, 15.5), 1)
    d["lymph_node_metastasis"] = (rng.uniform(size=n) < 0.35).astype(int)
    d["extrahepatic_metastasis"] = (rng.uniform(size=n) < 0.60).astype(int)
    d["macrovascular_invasion"] = (rng.uniform(size=n) < 0.40).astype(int)
    d["afp_ng_ml"] = np.round(np.exp(rng.normal(np.log(250), 2.5, n)).clip(0.8, 500000), 1)
    d["pivka_mau_ml"] = np.round(np.exp(rng.normal(np.log(1200), 2.2, n)).clip(8, 1500000), 0)
    male = d["sex"].to_numpy() == "male"
    d["body_weight_kg"] = np.round(np.where(male, rng.normal(67, 10, n), rng.normal(56, 8, n)).clip(38, 120), 1)
    d["atebev_cycles"] = rng.integers(2, 12, n)
    return d


# ----------------------------------------------------------------------------------------------------------------
# Matching membership
# ----------------------------------------------------------------------------------------------------------------
def matching_frame(enr: pd.DataFrame, config: dict | None = None) -> pd.DataFrame:
    """Covariates of the propensity model, derived from raw columns exactly as ``derive.analysis_table`` does."""
    cfg = _config(config)
    cp = enr["child_pugh_score"].astype(float)
    out = pd.DataFrame({
        "patient_id": enr["patient_id"].astype(str) if "patient_id" in enr else np.arange(len(enr)).astype(str),
        "treatment": (enr["second_line_regimen"] == cfg["groups"]["treatment"]).astype(int),
        "age": enr["age"].astype(float),
        "sex_male": (enr["sex"] == "male").astype(int),
        "tumor_size_cm": enr["tumor_size_cm"].astype(float),
        "tumor_multiple": (enr["tumor_number"].astype(float) >= 2).astype(int),
        "extrahepatic_metastasis": enr["extrahepatic_metastasis"].astype(int),
        "lymph_node_metastasis": enr["lymph_node_metastasis"].astype(int),
        "child_pugh_b": (cp >= 7).astype(int),
    }, index=enr.index)
    return out


def matched_membership(enr: pd.DataFrame, config: dict | None = None) -> np.ndarray:
    """0/1 matched indicator of each enrolled patient under the configuration's matching (hcc_utils.stats.matching)."""
    from hcc_utils.stats.matching import match_cohort

    cfg = _config(config)
    frame = matching_frame(enr, cfg)
    res = match_cohort(frame, cfg)
    return res.data["matched"].to_numpy(dtype=int)


def _repair_matching(rng: np.random.Generator, enr: pd.DataFrame, cfg: dict, k_out: int, max_iter: int = 80) -> np.ndarray:
    """Adjust matching covariates until exactly ``k_out`` treated patients stay unmatched; return ``matched``.

    Each step runs the study's matching and then, deterministically with ``rng``:

    * too few unmatched: the designed outliers become more extreme (tumour +1 cm up to 24 cm, age -1 year down
      to 30) and the control with the highest propensity gets a freshly drawn, typical tumour size and age;
    * too many unmatched: one unmatched non-outlier lenvatinib patient gets a freshly drawn size, age, tumour
      number and metastasis profile.

    Only covariates without a published exact count are touched (sex and Child-Pugh class stay as placed; the
    youngest ages stay below the first quartile so the published age quartiles are unchanged).
    """
    from hcc_utils.stats.matching import match_cohort

    q1 = float(np.sort(enr["age"].to_numpy())[max(0, int(np.floor(len(enr) * 0.25)) - 1)])
    matched = np.ones(len(enr), dtype=int)
    for _ in range(max_iter):
        res = match_cohort(matching_frame(enr, cfg), cfg)
        data = res.data
        matched = data["matched"].to_numpy(dtype=int)
        treat = data["treatment"].to_numpy() == 1
        unmatched = np.flatnonzero(treat & (matched == 0))
        if unmatched.size == k_out:
            break
        outl = enr["outlier"].to_numpy() == 1
        if unmatched.size < k_out:
            o = np.flatnonzero(outl)
            enr.loc[o, "tumor_size_cm"] = np.minimum(24.0, enr.loc[o, "tumor_size_cm"] + 1.0)
            enr.loc[o, "age"] = np.maximum(30.0, enr.loc[o, "age"] - 1.0)
            ctrl = np.flatnonzero(~treat)
            top = ctrl[np.argmax(data["logit_ps"].to_numpy()[ctrl])]
            enr.loc[top, "tumor_size_cm"] = round(float(np.exp(rng.normal(np.log(6.5), 0.4)).clip(2, 12)), 1)
        else:
            cand = unmatched[~outl[unmatched]]
            if cand.size == 0:
                # an outlier is unmatched beyond the plan: make it ordinary
                cand = unmatched
            j = cand[0]
            enr.loc[j, "tumor_size_cm"] = round(float(np.exp(rng.normal(np.log(6.5), 0.4)).clip(2, 12)), 1)
            enr.loc[j, "tumor_number"] = int(rng.integers(1, 6))
            enr.loc[j, "extrahepatic_metastasis"] = int(rng.uniform() < 0.6)
            enr.loc[j, "lymph_node_metastasis"] = int(rng.uniform() < 0.35)
            if enr.loc[j, "age"] > q1:
                enr.loc[j, "age"] = float(enr.loc[j, "age"])  # keep the age (quartiles are pinned)
    return matched


def _config(config: dict | None) -> dict:
    if config is not None:
        return config
    try:
        from hcc_utils.config import load_config

        return load_config()
    except Exception:  # pragma: no cover - config module missing
        return {
            "seed": 20240701, "groups": {"treatment": "lenvatinib", "control": "sorafenib"},
            "matching": {"covariates": ["age", "sex_male", "tumor_size_cm", "tumor_multiple", "extrahepatic_metastasis",
                                        "lymph_node_metastasis", "child_pugh_b"],
                         "ratio": 1, "caliper": 0.2, "caliper_scale": "logit", "order": "largest"},
        }


# ----------------------------------------------------------------------------------------------------------------
# Survival
# ----------------------------------------------------------------------------------------------------------------
def km_quantile_times(time: np.ndarray, event: np.ndarray, probs=(0.25, 0.5, 0.75)) -> np.ndarray:
    """Kaplan-Meier quantiles as R ``survfit``: first time S(t) <= 1-p; midpoint to the next event time when
    S(t) equals 1-p exactly; NaN (not reached) when S never gets that low.

    Vectorised for one sample; used by the generator and the calibration's fast evaluator.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=int)
    order = np.lexsort((-event, time))
    t = time[order]
    e = event[order]
    ut, idx = np.unique(t, return_index=True)
    n_at_risk = t.size - idx
    d = np.add.reduceat(e, idx)
    keep = d > 0
    ut, n_at_risk, d = ut[keep], n_at_risk[keep], d[keep]
    s = np.cumprod(1.0 - d / n_at_risk)
    out = np.full(len(probs), np.nan)
    for i, p in enumerate(probs):
        target = 1.0 - p
        below = np.flatnonzero(s <= target + 1e-12)
        if below.size == 0:
            continue
        j = below[0]
        if abs(s[j] - target) < 1e-12 and j + 1 < ut.size:
            out[i] = 0.5 * (ut[j] + ut[j + 1])
        elif abs(s[j] - target) < 1e-12:
            out[i] = ut[j]
        else:
            out[i] = ut[j]
    return out


def _monotone_pin(time: np.ndarray, event: np.ndarray, targets: list[float]) -> np.ndarray:
    """Monotone piecewise-linear transform of time so the KM quartiles become ``targets`` (NaN = leave)."""
    raw = km_quantile_times(time, event)
    xs, ys = [0.0], [0.0]
    for r, tq in zip(raw, targets):
        if np.isnan(r) or np.isnan(tq):
            continue
        if r > xs[-1] and tq > ys[-1]:
            xs.append(float(r))
            ys.append(float(tq))
    top = float(np.max(time)) if time.size else 1.0
    if top > xs[-1]:
        slope = ys[-1] / xs[-1] if xs[-1] > 0 else 1.0
        xs.append(top)
        ys.append(ys[-1] + (top - xs[-2]) * slope)
    return np.interp(time, xs, ys)


def _target_or_nan(t: dict, key: str) -> float:
    v = t.get(key, "NA")
    try:
        return float(v)
    except ValueError:
        return np.nan


def _surv_knots(q: list[float], tail_slope: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-linear survival function through the quartiles ``q = [q1, median, q3]`` (NaN q3 = not reached).

    Returns knot times and survival values, extended linearly beyond the last quartile (down to S = 0.02)
    with the slope of the previous segment, or flattened at S = 0.3 when the third quartile is not reached.
    """
    q1, med, q3 = q
    ts = [0.0, q1, med]
    ss = [1.0, 0.75, 0.5]
    slope = 0.25 / max(med - q1, 1e-6)
    if np.isnan(q3):
        ts += [med + 0.15 / slope, med + 0.15 / slope + 60.0]
        ss += [0.35, 0.30]
    else:
        ts.append(q3)
        ss.append(0.25)
        slope = 0.25 / max(q3 - med, 1e-6) * 0.6
        ts.append(q3 + 0.23 / slope)
        ss.append(0.02)
    return np.array(ts), np.array(ss)


def _surv_inverse(ts: np.ndarray, ss: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Times at which the piecewise-linear survival function equals ``u``."""
    return np.interp(-u, -ss, ts)


def _subset_quartiles(t: dict, endpoint: str, code: str, matched: int, share_matched: float) -> list[float]:
    """Target quartiles of one subset: the matched cohort's published ones, or for the unmatched patients those
    implied by the group's published curve minus the matched patients' share (mixture of two survival curves)."""
    group_q = [_target_or_nan(t, f"survival.{endpoint}_{k}_{code}") for k in ("q1", "median", "q3")]
    m_q = [_target_or_nan(t, f"survival.{endpoint}_{k}_{code}_matched") for k in ("q1", "median", "q3")]
    if matched == 1:
        return m_q if not np.isnan(m_q[1]) else group_q
    if np.isnan(m_q[1]) or share_matched >= 0.999:
        return group_q
    mts, mss = _surv_knots(m_q)
    out = []
    for level, tq in zip((0.75, 0.5, 0.25), group_q):
        if np.isnan(tq):
            out.append(np.nan)
            continue
        s_m = float(np.interp(tq, mts, mss))
        s_u = (level - share_matched * s_m) / (1 - share_matched)
        out.append((tq, float(np.clip(s_u, 0.02, 0.98))))
    # convert (time, S) points to quartile times of the unmatched curve by interpolation
    pts = [(0.0, 1.0)] + [p for p in out if isinstance(p, tuple)]
    pts_t = np.array([p[0] for p in pts])
    pts_s = np.minimum.accumulate(np.array([p[1] for p in pts]))
    res = []
    for level in (0.75, 0.5, 0.25):
        if pts_s[-1] > level:
            # extrapolate with the last slope
            if len(pts_t) >= 2 and pts_s[-2] > pts_s[-1]:
                slope = (pts_s[-2] - pts_s[-1]) / max(pts_t[-1] - pts_t[-2], 1e-6)
                res.append(float(pts_t[-1] + (pts_s[-1] - level) / slope))
            else:
                res.append(np.nan)
        else:
            res.append(float(np.interp(-level, -pts_s, pts_t)))
    return res


def _survival(rng: np.random.Generator, enr: pd.DataFrame, t: dict, n_scale: float) -> pd.DataFrame:
    """OS and PFS (days, events, whether the PFS event is a progression) for the enrolled patients.

    Per subset (group x matched) with the planned event counts (:data:`EVENT_PLAN`, scaled):

    1. *Event types.* Patients are split into alive without progression (PFS censored at the OS censoring
       time), progressed and alive, died without progression (PFS event = death) and progressed then died.
    2. *Ranks.* A prognostic score (Child-Pugh B, ECOG 2, tumour >= 10 cm, PIVKA-II >= 1000, extrahepatic
       metastasis, < 3 ATE+BEV cycles, plus noise) orders the patients; worse scores get earlier times.
    3. *Times.* Latent OS and PFS are read off target survival curves (piecewise linear through the published
       quartiles of the subset) at evenly spaced probabilities in rank order; censored patients are censored
       at a random fraction of their latent time; PFS is kept before OS.
    4. *Pinning.* A monotone time map per subset puts the Kaplan-Meier quartiles on the targets.
    """
    n = len(enr)
    group = enr["second_line_regimen"].to_numpy()
    matched = enr["matched"].to_numpy()
    cpb = (enr["child_pugh_score"].to_numpy() >= 7).astype(float)
    ecog2 = (enr["ecog"].to_numpy() >= 2).astype(float)
    big = (enr["tumor_size_cm"].to_numpy() >= 10).astype(float)
    pivka = (enr["pivka_mau_ml"].to_numpy() >= 1000).astype(float)
    ehm = enr["extrahepatic_metastasis"].to_numpy().astype(float)
    low_cyc = (enr["atebev_cycles"].to_numpy() < 3).astype(float)
    risk_os = 0.9 * cpb + 0.4 * ecog2 + 0.35 * big + 0.5 * pivka + 0.3 * low_cyc + rng.normal(0, 0.8, n)
    risk_pfs = 0.35 * cpb + 0.3 * ecog2 + 0.6 * ehm + 0.3 * low_cyc + rng.normal(0, 0.8, n)
    os_m = np.zeros(n)
    pfs_m = np.zeros(n)
    os_event = np.zeros(n, dtype=int)
    pfs_event = np.zeros(n, dtype=int)
    prog = np.zeros(n, dtype=int)
    for g, code in (("lenvatinib", "len"), ("sorafenib", "sor")):
        in_g = group == g
        n_g = int(in_g.sum())
        share = float(np.mean(matched[in_g] == 1)) if n_g else 0.0
        for m in (1, 0):
            idx = np.flatnonzero(in_g & (matched == m))
            k = idx.size
            if k == 0:
                continue
            n0, d_os0, d_pfs0 = EVENT_PLAN.get((g, m), (k, int(0.65 * k), int(0.85 * k)))
            d_os = min(k, int(round(d_os0 * k / n0)))
            d_pfs = min(k, max(d_os, int(round(d_pfs0 * k / n0))))
            # 1. event types
            perm = rng.permutation(idx)
            alive_np = perm[: k - d_pfs]                       # alive, no progression
            alive_p = perm[k - d_pfs: k - d_os]                # progressed, alive
            dead = perm[k - d_os:]
            n_dnp = int(round(0.1 * dead.size))
            dead_np = dead[:n_dnp]                             # died without progression
            os_event[dead] = 1
            pfs_event[np.concatenate([alive_p, dead])] = 1
            prog[np.concatenate([alive_p, dead[n_dnp:]])] = 1
            # 2-3. latent times in risk order at evenly spaced probabilities
            q_os = _subset_quartiles(t, "os", code, m, share)
            q_pfs = _subset_quartiles(t, "pfs", code, m, share)
            ts_os, ss_os = _surv_knots(q_os)
            ts_pfs, ss_pfs = _surv_knots(q_pfs)
            u = 1 - (np.arange(k) + 0.5) / k                   # high survival probability = long time
            by_os = idx[np.argsort(-risk_os[idx], kind="stable")]       # worst first -> earliest
            by_pfs = idx[np.argsort(-risk_pfs[idx], kind="stable")]
            lat_os = np.empty(n)
            lat_pfs = np.empty(n)
            lat_os[by_os] = _surv_inverse(ts_os, ss_os, u)
            lat_pfs[by_pfs] = _surv_inverse(ts_pfs, ss_pfs, u)
            cens = np.concatenate([alive_np, alive_p])
            os_m[idx] = lat_os[idx]
            if m == 1:
                # matched patients are followed up regularly: censored at 6.5-18 months (administrative)
                os_m[cens] = np.maximum(lat_os[cens], rng.uniform(6.5, 18.0, cens.size))
            else:
                # the early losses to follow-up (transfers) sit among the unmatched patients
                os_m[alive_np] = rng.uniform(0.3, 1.4, alive_np.size)
                os_m[alive_p] = lat_os[alive_p] * rng.uniform(0.35, 1.0, alive_p.size)
            pfs_m[idx] = np.minimum(lat_pfs[idx], os_m[idx] * rng.uniform(0.55, 0.95, k))
            pfs_m[alive_np] = os_m[alive_np]
            pfs_m[dead_np] = os_m[dead_np]
            # 4. pin the subset's quartiles (only where the published quartile applies to this subset)
            os_m[idx] = _monotone_pin(os_m[idx], os_event[idx], q_os)
            same = np.isin(idx, np.concatenate([alive_np, dead_np]))
            new_pfs = _monotone_pin(pfs_m[idx], pfs_event[idx], q_pfs)
            pfs_m[idx] = np.where(same, os_m[idx], np.minimum(new_pfs, os_m[idx] * 0.97))
            if g == "lenvatinib" and m == 0:
                # the unmatched lenvatinib patients (huge single tumours) progress at once, within 6 weeks
                early = idx[prog[idx] == 1]
                pfs_m[early] = np.minimum(rng.uniform(0.6, 1.4, early.size), os_m[early] * 0.9)
    # nobody can be followed longer than from the first possible start to the cut-off
    max_days = (DATA_CUTOFF - FIRST_START).days - 1
    os_days = np.clip(np.floor(os_m * DAYS_PER_MONTH + 0.5), 7, max_days).astype(int)
    pfs_days = np.maximum(5, np.floor(pfs_m * DAYS_PER_MONTH + 0.5)).astype(int)
    pfs_days = np.where(prog == 1, np.minimum(pfs_days, os_days - 1), os_days)
    return pd.DataFrame({"os_days": os_days, "os_event": os_event, "pfs_days": pfs_days, "pfs_event": pfs_event,
                         "progressed": prog}, index=enr.index)


# ----------------------------------------------------------------------------------------------------------------
# Responses, third line, adverse events
# ----------------------------------------------------------------------------------------------------------------
def _responses(rng: np.random.Generator, enr: pd.DataFrame, t: dict) -> tuple[np.ndarray, np.ndarray]:
    """RECIST and mRECIST best response, exact counts per subset, ordered by PFS within the subset."""
    n = len(enr)
    rec = np.full(n, "pd", dtype=object)
    group = enr["second_line_regimen"].to_numpy()
    matched = enr["matched"].to_numpy()
    pfs = enr["pfs_days"].to_numpy()
    # counts: (group, matched) -> (PR, SD) of the default cohort, from targets
    pr_len, pr_sor = int(_num(t, "response.pr_len")), int(_num(t, "response.pr_sor"))
    sd_len = int(round(_num(t, "response.sd_len") * 40 / 100))
    sd_sor = int(round(_num(t, "response.sd_sor") * 86 / 100))
    orr_len_m = int(round(_num(t, "response.orr_len_matched") * 36 / 100))
    orr_sor_m = int(round(_num(t, "response.orr_sor_matched") * 36 / 100))
    dcr_len_m = int(round(_num(t, "response.dcr_len_matched") * 36 / 100))
    dcr_sor_m = int(round(_num(t, "response.dcr_sor_matched") * 36 / 100))
    plan = {
        ("lenvatinib", 1): (36, orr_len_m, dcr_len_m - orr_len_m),
        ("lenvatinib", 0): (4, pr_len - orr_len_m, sd_len - (dcr_len_m - orr_len_m)),
        ("sorafenib", 1): (36, orr_sor_m, dcr_sor_m - orr_sor_m),
        ("sorafenib", 0): (50, pr_sor - orr_sor_m, sd_sor - (dcr_sor_m - orr_sor_m)),
    }
    for (g, m), (n0, k_pr, k_sd) in plan.items():
        idx = np.flatnonzero((group == g) & (matched == m))
        if idx.size == 0:
            continue
        if idx.size == n0:
            kp, ks = k_pr, k_sd
        else:
            kp, ks = _largest_remainder(int(round((k_pr + k_sd) * idx.size / n0)), [max(k_pr, 0.01), max(k_sd, 0.01)])
        kp, ks = max(0, kp), max(0, ks)
        jitter = rng.uniform(0, 20, idx.size)  # responses track PFS, not perfectly
        order = idx[np.argsort(-(pfs[idx] + jitter), kind="stable")]
        rec[order[:kp]] = "pr"
        rec[order[kp: kp + ks]] = "sd"
        # very early deaths without progression cannot be assessed
        rest = order[kp + ks:]
        early = rest[(enr["pfs_event"].to_numpy()[rest] == 1) & (enr["progressed"].to_numpy()[rest] == 0)
                     & (pfs[rest] < 45)]
        rec[early] = "ne"
    mrec = rec.copy()
    for g, k in (("lenvatinib", 3), ("sorafenib", 2)):
        sd_idx = np.flatnonzero((group == g) & (rec == "sd"))
        k = min(sd_idx.size, int(round(k * np.mean(group == g) * n / (40 if g == "lenvatinib" else 86))) if n != 126 else k)
        if sd_idx.size:
            mrec[rng.choice(sd_idx, size=min(k, sd_idx.size), replace=False)] = "pr"
    return rec, mrec


def _third_line(rng: np.random.Generator, enr: pd.DataFrame) -> np.ndarray:
    """Third-line regimen: only patients who progressed on second line can receive one."""
    n = len(enr)
    out = np.full(n, "none", dtype=object)
    group = enr["second_line_regimen"].to_numpy()
    prog = enr["progressed"].to_numpy() == 1
    for g, plan in THIRD_LINE_PLAN.items():
        idx = np.flatnonzero((group == g) & prog)
        n_group = int(np.sum(group == g))
        n0 = 40 if g == "lenvatinib" else 86
        counts = np.array(list(plan.values()))
        total = min(idx.size, int(round(counts.sum() * n_group / n0)))
        k = counts if total == counts.sum() else _largest_remainder(total, counts)
        chosen = rng.permutation(idx)[:total]
        out[chosen] = np.repeat(list(plan.keys()), k)
    return out


def _ae_counts(t: dict, group: str, n: int) -> tuple[dict, int, int, int]:
    """Per-term (any, grade 3-4) counts, the any-AE total, the grade 3-4 total and discontinuations for a group."""
    suffix = "len" if group == "lenvatinib" else "sor"
    n0 = 40 if group == "lenvatinib" else 86
    plan = dict(AE_PLAN[group])
    stated_any = {"len": {"proteinuria": "safety.proteinuria_len", "ast_elevation": "safety.ast_len",
                          "thrombocytopenia": "safety.thrombocytopenia_len", "hand_foot_syndrome": "safety.hfs_len"},
                  "sor": {"bilirubin_elevation": "safety.bilirubin_sor", "ast_elevation": "safety.ast_sor",
                          "alt_elevation": "safety.alt_sor", "hand_foot_syndrome": "safety.hfs_sor"}}[suffix]
    stated_g34 = {"len": {"proteinuria": "safety.proteinuria_g34_len", "ast_elevation": "safety.ast_g34_len",
                          "gi_bleeding": "safety.gi_bleeding_g34_len"},
                  "sor": {"rash": "safety.rash_g34_sor", "hand_foot_syndrome": "safety.hfs_g34_sor",
                          "ast_elevation": "safety.ast_g34_sor"}}[suffix]
    for term, key in stated_any.items():
        plan[term] = (int(round(_num(t, key) * n0 / 100)), plan[term][1])
    for term, key in stated_g34.items():
        plan[term] = (plan[term][0], int(round(_num(t, key) * n0 / 100)))
    any_total = int(_num(t, f"safety.any_{suffix}"))
    g34_total = int(round(_num(t, f"safety.g34_{suffix}") * n0 / 100))
    disc = int(_num(t, f"safety.disc_{suffix}"))
    if n != n0:
        f = n / n0
        plan = {k: (int(round(a * f)), int(round(b * f))) for k, (a, b) in plan.items()}
        any_total, g34_total, disc = int(round(any_total * f)), int(round(g34_total * f)), int(round(disc * f))
    plan = {k: (max(a, b), b) for k, (a, b) in plan.items()}
    g34_total = min(g34_total, sum(b for _, b in plan.values()), n)
    any_total = min(max(any_total, g34_total, max(a for a, _ in plan.values())), n)
    disc = min(disc, any_total)
    return plan, any_total, g34_total, disc


def _adverse_events(rng: np.random.Generator, enr: pd.DataFrame, t: dict) -> pd.DataFrame:
    """Worst grade per AE term with exact per-term counts, exact any-AE and grade 3-4 totals per group.

    Method: choose the set A of patients with any AE and the set G (subset of A) with a grade 3-4 AE. Grade 3-4
    events of each term are laid on G with "wrap-around" slots (term j occupies c_j consecutive patients of a
    random order, c_j <= |G|), which covers every patient of G and never gives a patient the same term twice.
    Grade 1-2 events are then given first to patients of A not yet covered, then at random among eligible ones.
    """
    n = len(enr)
    grades = {term: np.zeros(n, dtype=int) for term in AE_TERMS}
    disc = np.zeros(n, dtype=int)
    group = enr["second_line_regimen"].to_numpy()
    for g in ("lenvatinib", "sorafenib"):
        idx = np.flatnonzero(group == g)
        if idx.size == 0:
            continue
        plan, k_any, k_g34, k_disc = _ae_counts(t, g, idx.size)
        perm = rng.permutation(idx)
        A = perm[:k_any]
        G = A[:k_g34]
        # grade 3-4 slots on G
        s = 0
        if k_g34 > 0:
            for term in AE_TERMS:
                c = min(plan[term][1], k_g34)
                pos = (s + np.arange(c)) % k_g34
                grades[term][G[pos]] = rng.choice([3, 4], size=c, p=[0.85, 0.15])
                s += c
        covered = np.zeros(n, dtype=bool)
        covered[G] = True
        for term in sorted(AE_TERMS, key=lambda x: -(plan[x][0] - plan[x][1])):
            need = plan[term][0] - plan[term][1]
            if need <= 0:
                continue
            elig = A[grades[term][A] == 0]
            unc = rng.permutation(elig[~covered[elig]])
            cov = rng.permutation(elig[covered[elig]])
            chosen = np.concatenate([unc, cov])[:need]
            grades[term][chosen] = rng.choice([1, 2], size=chosen.size, p=[0.65, 0.35])
            covered[chosen] = True
        # discontinuation: mostly among grade 3-4 patients
        pool = np.concatenate([rng.permutation(G), rng.permutation(A[k_g34:])])
        disc[pool[:k_disc]] = 1
    out = pd.DataFrame({f"ae_{term}": grades[term] for term in AE_TERMS}, index=enr.index)
    out["ae_led_to_discontinuation"] = disc
    return out


# ----------------------------------------------------------------------------------------------------------------
# Dates and assembly
# ----------------------------------------------------------------------------------------------------------------
def _dates(rng: np.random.Generator, os_days: np.ndarray, os_event: np.ndarray) -> np.ndarray:
    """Second-line start dates (as day offsets from FIRST_START) compatible with follow-up and the cut-off."""
    span_hi = (LAST_START - FIRST_START).days
    cutoff = (DATA_CUTOFF - FIRST_START).days
    latest = np.minimum(span_hi, cutoff - os_days)
    latest = np.maximum(latest, 0)
    u = rng.uniform(size=os_days.size)
    start = np.floor(u * (latest + 1)).astype(int)
    # censored patients: administratively censored at the cut-off when the window allows it
    admin = (os_event == 0) & (cutoff - os_days >= 0) & (cutoff - os_days <= span_hi) & (rng.uniform(size=os_days.size) < 0.7)
    start = np.where(admin, cutoff - os_days, start)
    return start


def _fmt_date(offsets: np.ndarray, valid: np.ndarray) -> np.ndarray:
    d = (np.datetime64(FIRST_START.date()) + offsets.astype("timedelta64[D]")).astype(str)
    return np.where(valid, d, "")


COLUMNS = [
    "patient_id", "centre", "first_line_end_reason", "deteriorated_after_first_line", "second_line_regimen",
    "second_line_start_date", "age", "sex", "ecog", "body_weight_kg", "etiology", "child_pugh_score", "bclc_stage",
    "tumor_number", "tumor_size_cm", "lymph_node_metastasis", "extrahepatic_metastasis", "macrovascular_invasion",
    "afp_ng_ml", "pivka_mau_ml", "atebev_cycles", "best_response_recist", "best_response_mrecist",
    "progression_date", "death_date", "last_followup_date", "data_cutoff_date", "third_line_regimen",
    "ae_led_to_discontinuation", *[f"ae_{t}" for t in AE_TERMS],
]


def generate_cohort(seed: int, config: dict | None = None, n_scale: float = 1.0, *, return_internal: bool = False):
    """Generate the synthetic screened cohort (one row per screened patient, canonical schema).

    Parameters
    ----------
    seed : int
        Seed of the single :class:`numpy.random.Generator`; the same seed gives the same table byte for byte.
    config : dict, optional
        Study configuration (groups, matching). The bundled ``study.yml`` by default.
    n_scale : float
        Multiplies every flow count (0.5 = half-sized cohort, 1000 = about 194,000 rows). Exact published counts
        and quantiles hold for ``n_scale = 1``; other sizes keep the proportions.
    return_internal : bool
        Also return the internal per-patient table (times in days, matched flag) used by the calibration.

    Returns
    -------
    pandas.DataFrame
        Columns in dictionary order, values as text-friendly scalars (dates ISO strings, booleans 0/1, empty
        where not applicable). With ``return_internal``, a tuple ``(cohort, internal)``.
    """
    cfg = _config(config)
    rng = np.random.default_rng(seed)
    t = load_target_values()
    plan = plan_counts(n_scale, t)
    flow = plan["flow"]

    enr = _enrolled_covariates(rng, plan, t)
    enr["patient_id"] = [f"tmp{i}" for i in range(len(enr))]
    if cfg["groups"]["treatment"] != "lenvatinib" or cfg["groups"]["control"] != "sorafenib":
        enr["matched"] = 1
    else:
        enr["matched"] = _repair_matching(rng, enr, cfg, plan["n_outliers"], max_iter=80 if n_scale == 1 else 5)
    surv = _survival(rng, enr, t, n_scale)
    enr = pd.concat([enr, surv], axis=1)
    rec, mrec = _responses(rng, enr, t)
    enr["best_response_recist"] = rec
    enr["best_response_mrecist"] = mrec
    enr["third_line_regimen"] = _third_line(rng, enr)
    enr = pd.concat([enr, _adverse_events(rng, enr, t)], axis=1)

    # other second-line regimens: covariates and survival only
    n_oth = flow["regorafenib"] + flow["fluorouracil"]
    oth = _other_covariates(rng, n_oth, ["regorafenib"] * flow["regorafenib"] + ["fluorouracil"] * flow["fluorouracil"])
    oth_os = np.clip(np.floor(np.exp(rng.normal(np.log(6.0), 0.8, n_oth)) * DAYS_PER_MONTH), 14, 1100).astype(int)
    oth_ev = (rng.uniform(size=n_oth) < 0.7).astype(int)
    oth_pfs = np.maximum(7, np.floor(oth_os * rng.uniform(0.2, 0.8, n_oth))).astype(int)
    oth = oth.assign(os_days=oth_os, os_event=oth_ev, pfs_days=oth_pfs, pfs_event=1, progressed=1, matched=0)

    second = pd.concat([enr, oth], ignore_index=True)
    start = _dates(rng, second["os_days"].to_numpy(), second["os_event"].to_numpy())
    valid = np.ones(len(second), dtype=bool)
    second["second_line_start_date"] = _fmt_date(start, valid)
    second["last_followup_date"] = _fmt_date(start + second["os_days"].to_numpy(), valid)
    second["death_date"] = _fmt_date(start + second["os_days"].to_numpy(), second["os_event"].to_numpy() == 1)
    second["progression_date"] = _fmt_date(start + second["pfs_days"].to_numpy(), second["progressed"].to_numpy() == 1)
    second["first_line_end_reason"] = "progression"
    second["deteriorated_after_first_line"] = "0"

    # patients without second-line therapy
    n_no = flow["death"] + flow["deterioration"] + flow["deteriorated_after"]
    none = pd.DataFrame({
        "first_line_end_reason": ["death"] * flow["death"] + ["deterioration"] * flow["deterioration"]
        + ["progression"] * flow["deteriorated_after"],
        "deteriorated_after_first_line": [""] * (flow["death"] + flow["deterioration"]) + ["1"] * flow["deteriorated_after"],
        "second_line_regimen": "none",
        "atebev_cycles": rng.integers(1, 9, n_no),
    })
    allp = pd.concat([second, none], ignore_index=True)
    n_all = len(allp)
    order = rng.permutation(n_all)
    allp = allp.iloc[order].reset_index(drop=True)
    allp["patient_id"] = [f"SYN{i + 1:05d}" if n_all < 100000 else f"SYN{i + 1:07d}" for i in range(n_all)]
    allp["centre"] = np.where(rng.uniform(size=n_all) < 0.6, "synthetic-1", "synthetic-2")
    allp["data_cutoff_date"] = str(DATA_CUTOFF.date())
    internal = allp.copy()

    out = pd.DataFrame(index=allp.index)
    for col in COLUMNS:
        out[col] = allp[col] if col in allp else ""
    int_cols = ["ecog", "child_pugh_score", "tumor_number", "atebev_cycles", "lymph_node_metastasis",
                "extrahepatic_metastasis", "macrovascular_invasion", "ae_led_to_discontinuation",
                *[f"ae_{t}" for t in AE_TERMS]]
    for col in int_cols:
        out[col] = out[col].astype("Int64")
    out["age"] = out["age"].astype("Int64")
    for col in ("best_response_recist", "best_response_mrecist", "third_line_regimen"):
        out[col] = out[col].fillna("")
    if return_internal:
        return out, internal
    return out


def assumptions_table() -> pd.DataFrame:
    """The documented generator assumptions (:data:`ASSUMPTIONS`) as a table for the book's data page."""
    return pd.DataFrame(ASSUMPTIONS, columns=["variable", "assumption", "value", "rationale"])


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """Canonical CSV serialisation (LF line ends, no index, empty cells for missing)."""
    return df.to_csv(index=False, lineterminator="\n", na_rep="").encode("utf-8")


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_synthetic_cohort(path: str | Path, seed: int, scale: float = 1.0, calibrate: bool = True,
                           config: dict | None = None) -> Path:
    """Generate (and, for the default size, calibrate) the synthetic cohort and write it as CSV.

    Parameters
    ----------
    path : output file.
    seed : generator seed (study.yml ``seed``).
    scale : ``n_scale`` of :func:`generate_cohort`.
    calibrate : run :func:`hcc_utils.synthetic.calibrate.calibrate_cohort` afterwards (default cohort only).
    config : study configuration; the bundled one by default.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    df = generate_cohort(seed, config=config, n_scale=scale)
    if calibrate and scale == 1.0:
        from hcc_utils.synthetic.calibrate import calibrate_cohort

        df = calibrate_cohort(df, seed=seed, config=config).cohort
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_csv_bytes(df))
    return path
