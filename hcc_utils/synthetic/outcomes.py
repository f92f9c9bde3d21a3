"""Outcomes of the synthetic cohort's enrolled patients: survival times with pinned Kaplan-Meier quartiles,
best responses and third-line regimens with exact counts."""
from __future__ import annotations

import numpy as np
import pandas as pd

from hcc_utils.stats.survival import km_quantile_times
from hcc_utils.synthetic.plan import (DAYS_PER_MONTH, EVENT_PLAN, MAX_FOLLOWUP_DAYS, THIRD_LINE_PLAN,
                                      largest_remainder, target_number)

# ----------------------------------------------------------------------------------------------------------------
# Survival
# ----------------------------------------------------------------------------------------------------------------
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


def survival_outcomes(rng: np.random.Generator, enr: pd.DataFrame, t: dict, n_scale: float) -> pd.DataFrame:
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
    max_days = MAX_FOLLOWUP_DAYS - 1
    os_days = np.clip(np.floor(os_m * DAYS_PER_MONTH + 0.5), 7, max_days).astype(int)
    pfs_days = np.maximum(5, np.floor(pfs_m * DAYS_PER_MONTH + 0.5)).astype(int)
    pfs_days = np.where(prog == 1, np.minimum(pfs_days, os_days - 1), os_days)
    return pd.DataFrame({"os_days": os_days, "os_event": os_event, "pfs_days": pfs_days, "pfs_event": pfs_event,
                         "progressed": prog}, index=enr.index)


# ----------------------------------------------------------------------------------------------------------------
# Responses and third line
# ----------------------------------------------------------------------------------------------------------------
def responses(rng: np.random.Generator, enr: pd.DataFrame, t: dict) -> tuple[np.ndarray, np.ndarray]:
    """RECIST and mRECIST best response, exact counts per subset, ordered by PFS within the subset."""
    n = len(enr)
    rec = np.full(n, "pd", dtype=object)
    group = enr["second_line_regimen"].to_numpy()
    matched = enr["matched"].to_numpy()
    pfs = enr["pfs_days"].to_numpy()
    # counts: (group, matched) -> (PR, SD) of the default cohort, from targets
    pr_len, pr_sor = int(target_number(t, "response.pr_len")), int(target_number(t, "response.pr_sor"))
    sd_len = int(round(target_number(t, "response.sd_len") * 40 / 100))
    sd_sor = int(round(target_number(t, "response.sd_sor") * 86 / 100))
    orr_len_m = int(round(target_number(t, "response.orr_len_matched") * 36 / 100))
    orr_sor_m = int(round(target_number(t, "response.orr_sor_matched") * 36 / 100))
    dcr_len_m = int(round(target_number(t, "response.dcr_len_matched") * 36 / 100))
    dcr_sor_m = int(round(target_number(t, "response.dcr_sor_matched") * 36 / 100))
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
            kp, ks = largest_remainder(int(round((k_pr + k_sd) * idx.size / n0)), [max(k_pr, 0.01), max(k_sd, 0.01)])
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


def third_line(rng: np.random.Generator, enr: pd.DataFrame) -> np.ndarray:
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
        k = counts if total == counts.sum() else largest_remainder(total, counts)
        chosen = rng.permutation(idx)[:total]
        out[chosen] = np.repeat(list(plan.keys()), k)
    return out
