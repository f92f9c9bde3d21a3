"""Consistency audit of the article's reported numbers.

Before asking a re-analysis to reproduce a number, check that the article's numbers agree with each other. The
audit recomputes

* every percentage the text states next to a count (``k (x%)``) from the count and its denominator;
* every 2x2 p-value from the counts it compares, with Pearson's chi-square *without* continuity correction
  (the test whose results the article's other p-values match), via :mod:`hcc_utils.stats.contingency`;
* every Cox result's internal Wald consistency (the HR is the geometric mean of its CI limits, and the p-value
  follows from ``z = log(HR) / SE`` with ``SE = (log(hi) - log(lo)) / (2 x 1.96)``);
* the arithmetic of the flow diagram and the feasibility of the grade 3-4 adverse-event totals.

Every fact used is either a row of ``data/targets.csv`` (referenced by id) or a number stated in :data:`FACTS`
below with its location in the article. A finding is *excluded* from the scorecard's denominator only when the
published number cannot be reproduced by any data set that reproduces the other published numbers it depends
on (for instance a p-value that the published counts do not give, under the scorecard's tolerance).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from hcc_utils.reproduction.scorecard import is_identical, is_met, printed_decimals
from hcc_utils.reproduction.targets import TARGETS_PATH, load_targets
from hcc_utils.stats.contingency import chisq_test, compare_proportions, fisher_exact_test

__all__ = ["FACTS", "audit_article", "printed_interval", "wald_printable", "identical_infeasible"]


#: Numbers stated in the article that are not target rows (or are stated a second time in another form),
#: with their location. ``num``/``den`` are target ids or literal integers.
FACTS: list[dict] = [
    # stated percentages next to counts: (id checked, stated %, numerator, denominator, location)
    {"check": "percent", "id": "flow.second_line_sorafenib", "stated": "63.2", "num": "flow.second_line_sorafenib", "den": "flow.second_line", "where": "Results, Baseline characteristics, para 1"},
    {"check": "percent", "id": "flow.second_line_lenvatinib", "stated": "29.4", "num": "flow.second_line_lenvatinib", "den": "flow.second_line", "where": "Results, Baseline characteristics, para 1"},
    {"check": "percent", "id": "flow.second_line_regorafenib", "stated": "5.9", "num": "flow.second_line_regorafenib", "den": "flow.second_line", "where": "Results, Baseline characteristics, para 1"},
    {"check": "percent", "id": "flow.second_line_5fu", "stated": "1.5", "num": "flow.second_line_5fu", "den": "flow.second_line", "where": "Results, Baseline characteristics, para 1"},
    {"check": "percent", "id": "flow.enrolled_lenvatinib", "stated": "31.7", "num": "flow.enrolled_lenvatinib", "den": "flow.enrolled", "where": "Abstract, Results"},
    {"check": "percent", "id": "flow.enrolled_sorafenib", "stated": "68.3", "num": "flow.enrolled_sorafenib", "den": "flow.enrolled", "where": "Abstract, Results"},
    {"check": "percent", "id": "baseline.male", "stated": "88.1", "num": "baseline.male", "den": "flow.enrolled", "where": "Results, Baseline characteristics, para 2"},
    {"check": "percent", "id": "baseline.viral", "stated": "73.0", "num": "baseline.viral", "den": "flow.enrolled", "where": "Results, Baseline characteristics, para 2"},
    {"check": "percent", "id": "baseline.bclc_c", "stated": "86.6", "num": "baseline.bclc_c", "den": "flow.enrolled", "where": "Results, Baseline characteristics, para 2"},
    {"check": "percent", "id": "baseline.child_pugh_a", "stated": "72.2", "num": "baseline.child_pugh_a", "den": "flow.enrolled", "where": "Results, Baseline characteristics, para 2"},
    {"check": "percent", "id": "baseline.child_pugh_a_len", "stated": "baseline.child_pugh_a_len", "num": 37, "den": "flow.enrolled_lenvatinib", "where": "Results para 2 (92.5%); 37 implied by 91 - 54"},
    {"check": "percent", "id": "baseline.child_pugh_a_sor", "stated": "baseline.child_pugh_a_sor", "num": 54, "den": "flow.enrolled_sorafenib", "where": "Results para 2 (62.8%); 54/86 from Table 1"},
    {"check": "sum", "id": "baseline.child_pugh_a", "stated": "baseline.child_pugh_a", "parts": [37, 54], "where": "Results para 2: 91 = 37 + 54"},
    {"check": "percent", "id": "response.pr_len", "stated": "7.5", "num": "response.pr_len", "den": "flow.enrolled_lenvatinib", "where": "Results, Clinical responses"},
    {"check": "percent", "id": "response.pr_sor", "stated": "5.8", "num": "response.pr_sor", "den": "flow.enrolled_sorafenib", "where": "Results, Clinical responses"},
    {"check": "percent", "id": "response.sd_len", "stated": "response.sd_len", "num": 24, "den": "flow.enrolled_lenvatinib", "where": "Results, Clinical responses (60.0%); 24/40"},
    {"check": "percent", "id": "response.sd_sor", "stated": "response.sd_sor", "num": 16, "den": "flow.enrolled_sorafenib", "where": "Results, Clinical responses (18.6%); 16/86"},
    {"check": "percent", "id": "response.dcr_len", "stated": "response.dcr_len", "num": 27, "den": "flow.enrolled_lenvatinib", "where": "Results, Clinical responses (67.5%) = PR 3 + SD 24"},
    {"check": "percent", "id": "response.dcr_sor", "stated": "response.dcr_sor", "num": 21, "den": "flow.enrolled_sorafenib", "where": "Results, Clinical responses (24.4%) = PR 5 + SD 16"},
    {"check": "percent", "id": "response.orr_len_matched", "stated": "response.orr_len_matched", "num": 2, "den": "matching.pairs", "where": "Abstract (5.6%)"},
    {"check": "percent", "id": "response.orr_sor_matched", "stated": "response.orr_sor_matched", "num": 3, "den": "matching.pairs", "where": "Abstract (8.3%)"},
    {"check": "percent", "id": "response.dcr_len_matched", "stated": "response.dcr_len_matched", "num": 24, "den": "matching.pairs", "where": "Abstract (66.7%)"},
    {"check": "percent", "id": "response.dcr_sor_matched", "stated": "response.dcr_sor_matched", "num": 8, "den": "matching.pairs", "where": "Abstract (22.2%)"},
    {"check": "percent", "id": "survival.os_events", "stated": "64.3", "num": "survival.os_events", "den": "flow.enrolled", "where": "Results, Survival outcomes, para 1"},
    {"check": "percent", "id": "survival.pfs_events", "stated": "83.6", "num": "survival.pfs_events", "den": "flow.enrolled", "where": "Results, Survival outcomes, para 1 and Predictors, para 2"},
    {"check": "percent", "id": "survival.os_events_matched", "stated": "61.1", "num": "survival.os_events_matched", "den": 72, "where": "Results, Survival outcomes, para 1 (72 = 2 x 36 pairs)"},
    {"check": "percent", "id": "survival.pfs_events_matched", "stated": "84.7", "num": "survival.pfs_events_matched", "den": 72, "where": "Results, Survival outcomes, para 1"},
    {"check": "percent", "id": "thirdline.len", "stated": "40", "num": "thirdline.len", "den": "flow.enrolled_lenvatinib", "where": "Results, Third-line treatment, para 1 ('Eighteen (40%)')"},
    {"check": "percent", "id": "thirdline.sor", "stated": "51.2", "num": "thirdline.sor", "den": "flow.enrolled_sorafenib", "where": "Results, Third-line treatment, para 1"},
    {"check": "percent", "id": "thirdline.len_sorafenib", "stated": "83.3", "num": "thirdline.len_sorafenib", "den": "thirdline.len", "where": "Results, Third-line treatment, para 1 (15/18)"},
    {"check": "percent", "id": "safety.any_len", "stated": "80.0", "num": "safety.any_len", "den": "flow.enrolled_lenvatinib", "where": "Results, Safety profiles"},
    {"check": "percent", "id": "safety.any_sor", "stated": "87.2", "num": "safety.any_sor", "den": "flow.enrolled_sorafenib", "where": "Results, Safety profiles"},
    {"check": "percent", "id": "safety.disc_len", "stated": "30.0", "num": "safety.disc_len", "den": "flow.enrolled_lenvatinib", "where": "Results, Safety profiles"},
    {"check": "percent", "id": "safety.disc_sor", "stated": "18.6", "num": "safety.disc_sor", "den": "flow.enrolled_sorafenib", "where": "Results, Safety profiles"},
    {"check": "percent", "id": "discussion.second_line_share", "stated": "89.5", "num": "flow.second_line", "den": "flow.progressed", "where": "Discussion, para 4 (136/152)"},
    # percentages without a stated count: is the percentage k/n for some whole k?
    *[{"check": "achievable", "id": i, "den": d, "where": "Results, Safety profiles"} for i, d in [
        ("safety.g34_len", "flow.enrolled_lenvatinib"), ("safety.g34_sor", "flow.enrolled_sorafenib"),
        ("safety.proteinuria_len", "flow.enrolled_lenvatinib"), ("safety.ast_len", "flow.enrolled_lenvatinib"),
        ("safety.thrombocytopenia_len", "flow.enrolled_lenvatinib"), ("safety.bilirubin_sor", "flow.enrolled_sorafenib"),
        ("safety.ast_sor", "flow.enrolled_sorafenib"), ("safety.alt_sor", "flow.enrolled_sorafenib"),
        ("safety.proteinuria_g34_len", "flow.enrolled_lenvatinib"), ("safety.ast_g34_len", "flow.enrolled_lenvatinib"),
        ("safety.gi_bleeding_g34_len", "flow.enrolled_lenvatinib"), ("safety.rash_g34_sor", "flow.enrolled_sorafenib"),
        ("safety.hfs_g34_sor", "flow.enrolled_sorafenib"), ("safety.ast_g34_sor", "flow.enrolled_sorafenib"),
        ("safety.hfs_len", "flow.enrolled_lenvatinib"), ("safety.hfs_sor", "flow.enrolled_sorafenib")]],
    # 2x2 p-values from counts: (p id, a, n_a, b, n_b)
    {"check": "chisq", "id": "baseline.child_pugh_a_p", "a": 37, "na": "flow.enrolled_lenvatinib", "b": 54, "nb": "flow.enrolled_sorafenib", "where": "Results para 2"},
    {"check": "chisq", "id": "response.orr_p", "a": "response.pr_len", "na": "flow.enrolled_lenvatinib", "b": "response.pr_sor", "nb": "flow.enrolled_sorafenib", "where": "Results, Clinical responses (CR = 0)"},
    {"check": "chisq", "id": "response.sd_p", "a": 24, "na": "flow.enrolled_lenvatinib", "b": 16, "nb": "flow.enrolled_sorafenib", "where": "Results, Clinical responses"},
    {"check": "chisq", "id": "response.dcr_p", "a": 27, "na": "flow.enrolled_lenvatinib", "b": 21, "nb": "flow.enrolled_sorafenib", "where": "Results, Clinical responses"},
    {"check": "chisq", "id": "response.orr_p_matched", "a": 2, "na": "matching.pairs", "b": 3, "nb": "matching.pairs", "where": "Abstract"},
    {"check": "chisq", "id": "response.dcr_p_matched", "a": 24, "na": "matching.pairs", "b": 8, "nb": "matching.pairs", "where": "Abstract"},
    {"check": "chisq", "id": "thirdline.p", "a": "thirdline.len", "na": "flow.enrolled_lenvatinib", "b": "thirdline.sor", "nb": "flow.enrolled_sorafenib", "where": "Results, Third-line treatment"},
    {"check": "chisq", "id": "safety.any_p", "a": "safety.any_len", "na": "flow.enrolled_lenvatinib", "b": "safety.any_sor", "nb": "flow.enrolled_sorafenib", "where": "Results, Safety profiles, para 1"},
    {"check": "chisq", "id": "safety.g34_p", "a": 14, "na": "flow.enrolled_lenvatinib", "b": 33, "nb": "flow.enrolled_sorafenib", "where": "Results, Safety profiles, para 1 (35.0% of 40 = 14, 38.4% of 86 = 33)"},
    {"check": "chisq", "id": "safety.disc_p", "a": "safety.disc_len", "na": "flow.enrolled_lenvatinib", "b": "safety.disc_sor", "nb": "flow.enrolled_sorafenib", "where": "Results, Safety profiles, para 1"},
    {"check": "chisq", "id": "safety.hfs_p", "a": 2, "na": "flow.enrolled_lenvatinib", "b": 17, "nb": "flow.enrolled_sorafenib", "where": "Results, Safety profiles, para 3 (5.0% of 40, 19.8% of 86)"},
    # flow arithmetic
    {"check": "sum", "id": "flow.eligible", "stated": "flow.eligible", "parts": ["flow.died_on_first_line", "flow.deteriorated_on_first_line", "flow.progressed"], "where": "Results para 1"},
    {"check": "sum", "id": "flow.progressed", "stated": "flow.progressed", "parts": ["flow.deteriorated_after_first_line", "flow.second_line"], "where": "Results para 1"},
    {"check": "sum", "id": "flow.second_line", "stated": "flow.second_line", "parts": ["flow.second_line_sorafenib", "flow.second_line_lenvatinib", "flow.second_line_regorafenib", "flow.second_line_5fu"], "where": "Results para 1"},
    {"check": "sum", "id": "flow.enrolled", "stated": "flow.enrolled", "parts": ["flow.enrolled_lenvatinib", "flow.enrolled_sorafenib"], "where": "Abstract"},
    # Cox Wald consistency: (hr, lo, hi, p)
    *[{"check": "wald", "id": f"cox.{k}_p", "hr": f"cox.{k}_hr", "lo": f"cox.{k}_lo", "hi": f"cox.{k}_hi", "where": "Results, Predictors"}
      for k in ("os_cp_b", "os_pivka", "pfs_ehm", "pfs_sor")],
    # stated follow-up with more decimals elsewhere
    {"check": "rounding", "id": "survival.os_followup_q1", "stated": "survival.os_followup_q1", "precise": 3.47, "where": "Results, Predictors para 1 (IQR 3.47-9.33)"},
    {"check": "rounding", "id": "survival.os_followup_q3", "stated": "survival.os_followup_q3", "precise": 9.33, "where": "Results, Predictors para 1"},
    {"check": "rounding", "id": "survival.pfs_followup_median", "stated": "survival.pfs_followup_median", "precise": 2.07, "where": "Results, Predictors para 2 (2.07, IQR 1.37-3.47)"},
    {"check": "rounding", "id": "survival.pfs_followup_q1", "stated": "survival.pfs_followup_q1", "precise": 1.37, "where": "Results, Predictors para 2"},
    {"check": "rounding", "id": "survival.pfs_followup_q3", "stated": "survival.pfs_followup_q3", "precise": 3.47, "where": "Results, Predictors para 2"},
    # OS by receipt of a third line vs by its type, if "no third line" were one of the type levels
    {"check": "logrank_bound", "id": "thirdline.os_type_sor_p", "received": "thirdline.os_received_sor_p", "levels": 5,
     "where": "Results, Third-line treatment, para 2 (P=0.009 and P=0.920; sorafenib group: none + 4 regimens)"},
    {"check": "logrank_bound", "id": "thirdline.os_type_len_p", "received": "thirdline.os_received_len_p", "levels": 5,
     "where": "Results, Third-line treatment, para 1"},
    # grade 3-4 totals against the 'most common grade 3-4 AEs'
    {"check": "g34_feasible", "id": "safety.g34_sor", "top": ["safety.rash_g34_sor", "safety.hfs_g34_sor", "safety.ast_g34_sor"],
     "den": "flow.enrolled_sorafenib", "n_terms": 14, "where": "Results, Safety profiles, paras 1-2 (14 AE terms of the data dictionary)"},
]


def _round1(x: float, places: int = 1) -> float:
    from decimal import ROUND_HALF_UP, Decimal

    return float(Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def audit_article(targets: pd.DataFrame | str | Path | None = None) -> tuple[pd.DataFrame, dict[str, str]]:
    """Run every check of :data:`FACTS` against the published numbers.

    Parameters
    ----------
    targets : ``targets.csv`` as a DataFrame (text values) or its path; the bundled file by default.

    Returns
    -------
    (table, excluded)
        ``table``: one row per check with ``id, check, stated, recomputed, consistent, reason, where, exclude``.
        ``excluded``: ``{id: reason}`` of published numbers the article itself cannot satisfy (a p-value the
        published counts do not give within the scorecard's tolerance); the scorecard leaves them out of M.
    """
    if targets is None or isinstance(targets, (str, Path)):
        targets = load_targets(targets or TARGETS_PATH)
    val = dict(zip(targets["id"], targets["value"]))

    def v(ref):
        if isinstance(ref, (int, float)):
            return ref
        if ref in val:
            return float(val[ref])
        return float(ref)

    rows = []
    for f in FACTS:
        kind, fid = f["check"], f["id"]
        row = {"id": fid, "check": kind, "where": f["where"], "exclude": False, "not_identical": ""}
        if kind == "percent":
            stated = v(f["stated"])
            num, den = v(f["num"]), v(f["den"])
            rec = 100 * num / den
            decimals = 0 if float(stated).is_integer() and "." not in str(val.get(f["stated"], f["stated"])) else 1
            ok = _round1(rec, decimals) == round(stated, decimals)
            row.update(stated=f"{stated:g}%", recomputed=f"{int(num)}/{int(den)} = {rec:.2f}%", consistent=ok,
                       reason="" if ok else f"{int(num)}/{int(den)} is {_round1(rec)}%, not {stated:g}%")
        elif kind == "achievable":
            pct = v(fid)
            den = int(v(f["den"]))
            ks = [k for k in range(den + 1) if _round1(100 * k / den) == pct]
            ok = bool(ks)
            row.update(stated=f"{pct:g}%", recomputed=f"k/{den} with k in {ks}", consistent=ok,
                       reason="" if ok else f"no whole count of {den} gives {pct:g}%")
        elif kind == "chisq":
            a, na, b, nb = (int(v(f[k])) for k in ("a", "na", "b", "nb"))
            p = compare_proportions(a, na, b, nb, rule="chisq").p      # Pearson, no continuity correction
            stated = val[fid]
            ok = is_met("p", stated, p)
            row.update(stated=stated, recomputed=f"{a}/{na} vs {b}/{nb}: p {_p_text(p)}", consistent=ok,
                       reason="" if ok else f"Pearson chi-square on {a}/{na} vs {b}/{nb} gives p = {p:.3f}, not {stated} "
                                            "(nor does Yates' correction or Fisher's test within the tolerance)"
                       if not any(is_met("p", stated, q) for q in _alt_ps(a, na, b, nb)) else
                       f"Pearson chi-square on {a}/{na} vs {b}/{nb} gives p = {p:.3f}, not {stated}")
            # exclude: the counts are published numbers too, so no data set meets both
            row["exclude"] = not ok
            if ok and not is_identical("p", stated, p):
                row["not_identical"] = (f"the article's counts {a}/{na} vs {b}/{nb} give p = {p:.4f}, printed "
                                        f"{_printed_p(p, stated)}, not {stated}: no data set with these counts prints "
                                        f"{stated}")
        elif kind == "sum":
            stated = v(f["stated"])
            parts = [v(p) for p in f["parts"]]
            ok = abs(sum(parts) - stated) < 1e-9
            row.update(stated=f"{stated:g}", recomputed=" + ".join(f"{p:g}" for p in parts) + f" = {sum(parts):g}",
                       consistent=ok, reason="" if ok else "parts do not add up")
        elif kind == "wald":
            hr, lo, hi, p = v(f["hr"]), v(f["lo"]), v(f["hi"]), val[fid]
            se = (math.log(hi) - math.log(lo)) / (2 * stats.norm.ppf(0.975))
            mid = math.exp((math.log(hi) + math.log(lo)) / 2)
            pz = 2 * stats.norm.sf(abs(math.log(hr)) / se)
            ok = is_met("p", p, pz) and is_met("ratio", str(hr), mid)
            row.update(stated=f"HR {hr:g} ({lo:g}-{hi:g}), P={p}", recomputed=f"CI midpoint {mid:.3f}, Wald p {_p_text(pz)}",
                       consistent=ok, reason="" if ok else "HR, CI and p are not one Wald result")
            printable, p_range = wald_printable(val[f["hr"]], val[f["lo"]], val[f["hi"]], p)
            if not printable:
                row["not_identical"] = (f"no Wald estimate (log HR, SE) prints as HR {val[f['hr']]} "
                                        f"({val[f['lo']]}–{val[f['hi']]}) with P = {p}: the printed HR and limits "
                                        f"allow only p from {p_range[0]:.5f} to {p_range[1]:.5f}")
        elif kind == "rounding":
            stated = v(f["stated"])
            ok = _round1(f["precise"]) == stated
            row.update(stated=f"{stated:g}", recomputed=f"{f['precise']:g} stated elsewhere", consistent=ok,
                       reason="" if ok else "two statements of the same number disagree")
        elif kind == "logrank_bound":
            # The k-sample log-rank statistic bounds every contrast, so with "none" as a level
            # chi2_type >= chi2_received and p_type <= P(chi2_{k-1} >= chi2_received).
            p_rec = v(f["received"])
            stated = val[fid]
            bound = float(stats.chi2.sf(stats.chi2.isf(p_rec, 1), f["levels"] - 1))
            p_type = float(stated.lstrip("<"))
            ok = p_type <= bound + 1e-12
            row.update(stated=f"type P={stated}, receipt P={p_rec:g}",
                       recomputed=f"with 'none' as a level, type P <= {bound:.3f}", consistent=ok,
                       reason="" if ok else ("consistent only if the regimen comparison is among third-line recipients "
                                             "(with 'no third line' as a level the type P could not exceed "
                                             f"{bound:.3f})"))
        elif kind == "g34_feasible":
            den = int(v(f["den"]))
            total = int(round(v(fid) * den / 100))
            top = sorted((int(round(v(t) * den / 100)) for t in f["top"]), reverse=True)
            others = f["n_terms"] - len(top)
            most = sum(top) + others * top[-1]
            ok = most >= total
            row.update(stated=f"{total} patients with grade 3-4 AE", recomputed=f"at most {sum(top)} + {others} x {top[-1]} = {most}",
                       consistent=ok,
                       reason="" if ok else ("the three 'most common' grade 3-4 terms and 11 less common ones cannot reach "
                                             f"{total} patients; at least one other term must be as common (Table 5 may list more terms)"))
        rows.append(row)
    table = pd.DataFrame(rows, columns=["id", "check", "stated", "recomputed", "consistent", "reason", "where", "exclude",
                                        "not_identical"])
    excluded = {r.id: r.reason for r in table.itertuples(index=False) if r.exclude}
    return table, excluded


def identical_infeasible(table: pd.DataFrame) -> dict[str, str]:
    """``{id: proof}`` of published numbers that no data set can print identically together with the article's
    other numbers (the scorecard shows them as close, with the proof, not as a shortfall of the calibration)."""
    return {r.id: r.not_identical for r in table.itertuples(index=False) if r.not_identical and not r.exclude}


def printed_interval(published: str) -> tuple[float, float]:
    """Half-open interval ``[low, high)`` of the values that print as ``published`` (round half up).

    A p printed at 3 decimals is never below 0.001 (such values print "<0.001"); "<0.001" is ``[0, 0.001)``.
    """
    text = str(published).strip()
    if text.startswith("<"):
        return 0.0, float(text[1:])
    half = 0.5 * 10.0 ** -printed_decimals(text)
    low, high = float(text) - half, float(text) + half
    return low, high


def wald_printable(hr: str, lo: str, hi: str, p: str) -> tuple[bool, tuple[float, float]]:
    """Whether some Wald estimate (β, SE) prints as the published HR, 95% limits and p at once.

    With ``a = β − 1.96·SE`` and ``b = β + 1.96·SE`` the printed limits confine ``(a, b)`` to a box and the printed
    HR confines ``a + b`` to a band; ``|z| = 1.96·(a + b)/(b − a)`` is linear-fractional, so its extremes over that
    convex polygon lie at its vertices. Returns the verdict and the range of p the printed HR and limits allow.
    """
    z = stats.norm.ppf(0.975)
    a_lo, a_hi = (math.log(x) for x in printed_interval(lo))
    b_lo, b_hi = (math.log(x) for x in printed_interval(hi))
    s_lo, s_hi = (2 * math.log(x) for x in printed_interval(hr))
    vertices = [(a, b) for a in (a_lo, a_hi) for b in (b_lo, b_hi) if s_lo <= a + b <= s_hi]
    for s_edge in (s_lo, s_hi):  # band lines crossing the box edges
        vertices += [(a, s_edge - a) for a in (a_lo, a_hi) if b_lo <= s_edge - a <= b_hi]
        vertices += [(s_edge - b, b) for b in (b_lo, b_hi) if a_lo <= s_edge - b <= a_hi]
    if not vertices:
        return False, (math.nan, math.nan)
    ps = [2 * stats.norm.sf(z * abs(a + b) / (b - a)) for a, b in vertices]
    p_low, p_high = printed_interval(p)
    if not str(p).strip().startswith("<"):
        p_low = max(p_low, 0.001)  # below 0.001 it would print "<0.001"
    return (min(ps) < p_high and max(ps) >= p_low), (min(ps), max(ps))


def _p_text(p: float) -> str:
    """'= 0.292' or '< 0.001': a recomputed p as the book shows a p (three decimals)."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _printed_p(p: float, like: str) -> str:
    return "<0.001" if p < 0.001 else f"{p:.{printed_decimals(like)}f}"


def _alt_ps(a, na, b, nb) -> list[float]:
    """p-values of the other usual 2x2 tests (Yates, Fisher) for the same counts."""
    table = np.array([[a, na - a], [b, nb - b]], dtype=float)
    return [chisq_test(table, correction=True).p, fisher_exact_test(table).p]
