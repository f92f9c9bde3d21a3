"""Baseline covariates of the synthetic cohort: exact published counts, pinned SAS quartiles, and the propensity
profile that makes the study's matching leave the published number of treated patients unmatched."""
from __future__ import annotations

import numpy as np
import pandas as pd

from hcc_utils.config import StudyConfig
from hcc_utils.stats.descriptive import sas5_order_statistics
from hcc_utils.study.matching import match_cohort
from hcc_utils.synthetic.plan import CYCLES_PLAN, largest_remainder, study_settings, target_number

# ----------------------------------------------------------------------------------------------------------------
# Exact-count helpers
# ----------------------------------------------------------------------------------------------------------------
def _exact_binary(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """0/1 vector with exactly ``k`` ones at random positions."""
    out = np.zeros(n, dtype=int)
    out[rng.permutation(n)[: max(0, min(n, k))]] = 1
    return out


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
    lo, hi = sas5_order_statistics(n, [p for p, _ in knots[1:-1]])
    for (_, v), a, b in zip(knots[1:-1], lo, hi):
        x[a] = x[b] = v
    # restore order around pinned values (clip neighbours)
    for (_, v), a, b in zip(knots[1:-1], lo, hi):
        x[:a] = np.minimum(x[:a], v)
        x[b + 1:] = np.maximum(x[b + 1:], v)
    return np.sort(x)


def _cycles(rng: np.random.Generator, group: str, n: int, n_scale_default: bool) -> np.ndarray:
    plan = CYCLES_PLAN[group]
    total = sum(c for _, c in plan)
    counts = [c for _, c in plan] if n == total else list(largest_remainder(n, [c for _, c in plan]))
    out = []
    for ((lo, hi), _), c in zip(plan, counts):
        out.append(rng.integers(lo, hi + 1, size=c) if hi > lo else np.full(c, lo))
    x = np.concatenate(out).astype(int)
    return x[rng.permutation(x.size)]


# ----------------------------------------------------------------------------------------------------------------
# Covariates
# ----------------------------------------------------------------------------------------------------------------
def enrolled_covariates(rng: np.random.Generator, plan: dict, t: dict) -> pd.DataFrame:
    """Baseline covariates of the enrolled patients (both groups), exact counts where published."""
    frames = []
    n_len = plan["groups"]["lenvatinib"]
    n_sor = plan["groups"]["sorafenib"]
    n = n_len + n_sor
    # Age: pooled sample with pinned SAS quartiles; the youngest go to the matching outliers.
    knots = [(0.0, 33.0), (0.25, target_number(t, "baseline.age_q1")), (0.5, target_number(t, "baseline.age_median")),
             (0.75, target_number(t, "baseline.age_q3")), (1.0, 86.0)]
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


def other_covariates(rng: np.random.Generator, n: int, regimen) -> pd.DataFrame:
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
def matching_frame(enr: pd.DataFrame, config: StudyConfig | dict | None = None) -> pd.DataFrame:
    """Covariates of the propensity model, derived from raw columns exactly as ``derive.analysis_table`` does."""
    settings = study_settings(config)
    cp = enr["child_pugh_score"].astype(float)
    out = pd.DataFrame({
        "patient_id": enr["patient_id"].astype(str) if "patient_id" in enr else np.arange(len(enr)).astype(str),
        "treatment": (enr["second_line_regimen"] == settings.treatment).astype(int),
        "age": enr["age"].astype(float),
        "sex_male": (enr["sex"] == "male").astype(int),
        "tumor_size_cm": enr["tumor_size_cm"].astype(float),
        "tumor_multiple": (enr["tumor_number"].astype(float) >= 2).astype(int),
        "extrahepatic_metastasis": enr["extrahepatic_metastasis"].astype(int),
        "lymph_node_metastasis": enr["lymph_node_metastasis"].astype(int),
        "child_pugh_b": (cp >= 7).astype(int),
    }, index=enr.index)
    return out


def matched_membership(enr: pd.DataFrame, config: StudyConfig | dict | None = None) -> np.ndarray:
    """0/1 matched indicator of each enrolled patient under the configuration's matching (hcc_utils.stats.matching)."""
    cfg = study_settings(config).config
    frame = matching_frame(enr, cfg)
    res = match_cohort(frame, cfg)
    return res.data["matched"].to_numpy(dtype=int)


def repair_matching(rng: np.random.Generator, enr: pd.DataFrame, cfg: dict, k_out: int, max_iter: int = 80) -> np.ndarray:
    """Adjust matching covariates until exactly ``k_out`` treated patients stay unmatched; return ``matched``.

    Each step runs the study's matching and then, deterministically with ``rng``:

    * too few unmatched: the designed outliers become more extreme (tumour +1 cm up to 24 cm, age -1 year down
      to 30) and the control with the highest propensity gets a freshly drawn, typical tumour size and age;
    * too many unmatched: one unmatched non-outlier lenvatinib patient gets a freshly drawn size, age, tumour
      number and metastasis profile.

    Only covariates without a published exact count are touched (sex and Child-Pugh class stay as placed; the
    youngest ages stay below the first quartile so the published age quartiles are unchanged).
    """
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
