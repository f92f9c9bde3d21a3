"""Adverse events of the synthetic cohort: worst grade per term with exact per-term and total counts."""
from __future__ import annotations

import numpy as np
import pandas as pd

from hcc_utils.synthetic.plan import AE_PLAN, AE_TERMS, target_number

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
        plan[term] = (int(round(target_number(t, key) * n0 / 100)), plan[term][1])
    for term, key in stated_g34.items():
        plan[term] = (plan[term][0], int(round(target_number(t, key) * n0 / 100)))
    any_total = int(target_number(t, f"safety.any_{suffix}"))
    g34_total = int(round(target_number(t, f"safety.g34_{suffix}") * n0 / 100))
    disc = int(target_number(t, f"safety.disc_{suffix}"))
    if n != n0:
        f = n / n0
        plan = {k: (int(round(a * f)), int(round(b * f))) for k, (a, b) in plan.items()}
        any_total, g34_total, disc = int(round(any_total * f)), int(round(g34_total * f)), int(round(disc * f))
    plan = {k: (max(a, b), b) for k, (a, b) in plan.items()}
    g34_total = min(g34_total, sum(b for _, b in plan.values()), n)
    any_total = min(max(any_total, g34_total, max(a for a, _ in plan.values())), n)
    disc = min(disc, any_total)
    return plan, any_total, g34_total, disc


def adverse_events(rng: np.random.Generator, enr: pd.DataFrame, t: dict) -> pd.DataFrame:
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
