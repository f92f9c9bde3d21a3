"""The calibration's evaluator: the calibrated numbers of a search state in a few milliseconds.

It calls the array entry points of the book's statistics engine (:mod:`hcc_utils.stats`) on the state's arrays,
so every number it gives is the number :func:`hcc_utils.study.compute_results` gives for the written cohort.
It keys them by the article's ids (those of ``data/targets.csv``, groups by regimen: ``survival.os_median_len``),
which the calibration's losses read; :func:`hcc_utils.reproduction.roles.align_targets` gives the book's id of each
(groups by role: ``survival.os_median_treatment``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from hcc_utils.config.schema import Cox, Cutpoints
from hcc_utils.data.variables import ARTICLE_ID_NAMES

from hcc_utils.stats.cox import cox_arrays, univariable_cox_arrays
from hcc_utils.stats.descriptive import descriptive_quantile
from hcc_utils.stats.logrank import logrank_arrays
from hcc_utils.stats.survival import km_steps
from hcc_utils.synthetic.plan import DAYS_PER_MONTH, MIN_CURVE_SIZE
from hcc_utils.synthetic.state import SearchState
from hcc_utils.stats.two_sample import mann_whitney_test

QUARTILES = (0.25, 0.5, 0.75)

#: The evaluator's name of the configuration's regimen indicator ``control_group`` (1 = the control regimen).
CONTROL_NAME = "sorafenib"

#: The regimen comparison of third-line therapy is made among the patients who received one. With "no third
#: line" as one more level, the k-sample log-rank statistic is at least the receipt-vs-none statistic, so the
#: article's pair (receipt p = 0.009, type p = 0.920 in the sorafenib group) could not both hold (see
#: :mod:`hcc_utils.reproduction.audit`).
THIRD_LINE_TYPE_AMONG_RECEIVERS = True


class FastEvaluator:
    """Computes the calibrated targets from the search state in a few milliseconds.

    The statistics are the book's (:mod:`hcc_utils.stats`: Kaplan-Meier quartiles by R ``quantile.survfit``,
    SAS PCTLDEF=5 follow-up quartiles, log-rank, Cox with Efron ties and Wald intervals, Mann-Whitney), called
    through their array entry points; what is mirrored here is only the derivation of the analysis columns
    (binary Cox candidates at the configured cut-points, months = days / 30.4375).
    Third-line comparisons: OS by receipt of third-line therapy (yes/no) and by third-line regimen, within each
    group, in the whole and the matched cohort. The regimen comparison is among the patients who received a third
    line (:data:`THIRD_LINE_TYPE_AMONG_RECEIVERS`).
    """

    def __init__(self, st: SearchState, cutpoints: Cutpoints | None = None, candidates: list[str] | None = None):
        self.st = st
        self.cut = cutpoints or Cutpoints()
        self.configured = list(Cox().candidates if candidates is None else candidates)
        self.candidates: list[str] = []
        self._survival_memo: dict = {}
        self.refresh_covariates()

    def refresh_covariates(self):
        E, col, cut = self.st.E, self.st.col, self.cut

        def f(name):
            return np.array([np.nan if (v is None or v is pd.NA or v == "") else float(v) for v in E[:, col[name]]])

        def s(name):
            return E[:, col[name]].astype(str)

        cols = {
            "age_older": f("age") >= cut.age_years,
            "sex_male": s("sex") == "male",
            "viral_etiology": np.isin(s("etiology"), ["hbv", "hcv", "hbv_hcv"]),
            "ecog_2": f("ecog") >= 2,
            "child_pugh_b": f("child_pugh_score") >= 7,
            "bclc_c": s("bclc_stage") == "c",
            "tumor_multiple": f("tumor_number") >= 2,
            "tumor_size_large": f("tumor_size_cm") >= cut.tumor_size_cm,
            "lymph_node_metastasis": f("lymph_node_metastasis") == 1,
            "extrahepatic_metastasis": f("extrahepatic_metastasis") == 1,
            "macrovascular_invasion": f("macrovascular_invasion") == 1,
            "afp_high": f("afp_ng_ml") >= cut.afp_ng_ml,
            "pivka_high": f("pivka_mau_ml") >= cut.pivka_mau_ml,
            CONTROL_NAME: self.st.group == 0,
            "atebev_cycles_few": f("atebev_cycles") < cut.atebev_cycles_low,
        }
        self.candidates = _candidates(self.configured, list(cols))
        self.X = np.column_stack([cols[c] for c in self.candidates]).astype(float)
        self.cycles = f("atebev_cycles")
        self.third = s("third_line_regimen")
        # subgroups of prior cycles (Supplementary Table 2): 0 = at most the cut-point, 1 = more
        self.cycles_stratum = (self.cycles > self.cut.atebev_cycles_subgroup).astype(int)

    def refresh_third(self):
        """Only the third-line regimens changed (cheaper than :meth:`refresh_covariates`)."""
        self.third = self.st.E[:, self.st.col["third_line_regimen"]].astype(str)

    # stage 1 ------------------------------------------------------------------------------------------------
    def survival(self, endpoints: tuple[str, ...] = ("os", "pfs")) -> dict:
        """Events, follow-up quartiles, Kaplan-Meier quartiles and log-rank p of the given endpoints.

        An endpoint whose times, events, groups and matched flags are those of its previous evaluation is not
        recomputed (a search move usually changes one endpoint); the values and their order are the same."""
        st = self.st
        blocks = {}
        for ep, t, e in (("os", st.os_t, st.os_e), ("pfs", st.pfs_t, st.pfs_e)):
            if ep not in endpoints:
                continue
            key = (t, e, st.group, st.matched)
            memo = self._survival_memo.get(ep)
            if memo is None or not all(np.array_equal(a, b) for a, b in zip(memo[0], key)):
                memo = (tuple(a.copy() for a in key), self._survival_endpoint(ep, t, e))
                self._survival_memo[ep] = memo
            blocks[ep] = memo[1]
        out = {}
        for suffix in ("", "_matched"):
            for ep in ("os", "pfs"):
                if ep in blocks:
                    out.update(blocks[ep][suffix])
        return out

    def _survival_endpoint(self, ep: str, t: np.ndarray, e: np.ndarray) -> dict:
        """:meth:`survival` of one endpoint, by cohort ("" and "_matched")."""
        st = self.st
        blocks = {}
        for suffix, mask in (("", np.ones(st.group.size, bool)), ("_matched", st.matched == 1)):
            out = blocks[suffix] = {}
            tm = t[mask] / DAYS_PER_MONTH
            em = e[mask]
            out[f"survival.{ep}_events{suffix}"] = int(em.sum())
            fq = descriptive_quantile(tm, QUARTILES)
            out[f"survival.{ep}_followup_q1{suffix}"] = fq[0]
            out[f"survival.{ep}_followup_median{suffix}"] = fq[1]
            out[f"survival.{ep}_followup_q3{suffix}"] = fq[2]
            g = st.group[mask]
            for code, gv in (("len", 1), ("sor", 0)):
                km = km_steps(tm[g == gv], em[g == gv])
                q = km.quantiles(QUARTILES)
                # S after the last event: guides a "not reached" quartile (see Loss)
                out[f"_slast.survival.{ep}_q3_{code}{suffix}"] = float(km.survival[-1])
                out[f"_kmstep.{ep}_{code}{suffix}"] = _largest_step(km, int((g == gv).sum()))
                out[f"survival.{ep}_q1_{code}{suffix}"] = q[0]
                out[f"survival.{ep}_median_{code}{suffix}"] = q[1]
                out[f"survival.{ep}_q3_{code}{suffix}"] = q[2]
            out[f"survival.{ep}_logrank_p{suffix}"] = _logrank(tm, em, g)[0]
        return blocks

    # stage 2 ------------------------------------------------------------------------------------------------
    def associations(self) -> dict:
        out = self.univariable()
        out.update(self.multivariable())
        out.update(self.third_line())
        out.update(self.cycles_strata())
        out["matching.cycles_p_matched"] = self.cycles_p_matched()
        return out

    def univariable(self) -> dict:
        """Univariable Cox p-values and coefficients of every candidate, and the list of significant ones."""
        st, X = self.st, self.X
        out = {}
        for ep, t, e in (("os", st.os_t, st.os_e), ("pfs", st.pfs_t, st.pfs_e)):
            b, _, p = univariable_cox_arrays(t.astype(float), e, X)
            out[f"_uni_p.{ep}"] = p
            out[f"_uni_b.{ep}"] = b
            sig = [c for c, pv in zip(self.candidates, p) if pv < 0.05]
            out[f"cox.{ep}_univariable_significant"] = ";".join(sorted(sig))
        return out

    def multivariable(self, endpoints: tuple[str, ...] = ("os", "pfs")) -> dict:
        """Hazard ratios, Wald limits and p-values of the published multivariable Cox models (Table 4) of the
        given endpoints; the p-value of every other term of a model too, under the article's id of the term
        (``cox.os_ecog2_p``: :data:`hcc_utils.data.variables.ARTICLE_ID_NAMES`, ``sor`` for the regimen), which
        the article's conclusions say are not independent predictors."""
        st, X = self.st, self.X
        out = {}
        for ep, t, e, covs, keys in (
            ("os", st.os_t, st.os_e, self.os_model, {"child_pugh_b": "os_cp_b", "pivka_high": "os_pivka"}),
            ("pfs", st.pfs_t, st.pfs_e, self.pfs_model, {"extrahepatic_metastasis": "pfs_ehm", "sorafenib": "pfs_sor"}),
        ):
            if ep not in endpoints:
                continue
            idx = [self.candidates.index(c) for c in covs]
            fit = cox_arrays(t.astype(float), e, X[:, idx])
            hr, lo, hi = fit.hazard_ratios()
            for j, c in enumerate(covs):
                if c not in keys:
                    short = "sor" if c == CONTROL_NAME else ARTICLE_ID_NAMES.get(c, c)
                    out[f"cox.{ep}_{short}_p"] = float(fit.p[j])
                if c in keys:
                    k = keys[c]
                    out[f"cox.{k}_hr"] = float(hr[j])
                    out[f"cox.{k}_lo"] = float(lo[j])
                    out[f"cox.{k}_hi"] = float(hi[j])
                    out[f"cox.{k}_p"] = float(fit.p[j])
        return out

    def cycles_strata(self, endpoints: tuple[str, ...] = ("os", "pfs")) -> dict:
        """Log-rank p between the groups within each subgroup of prior ATE+BEV cycles (Supplementary Table 2), ids
        ``cycles.<le|gt><cut>_<endpoint>_logrank_p[_matched]`` as the book's (groups have no role in them)."""
        st = self.st
        cut = f"{self.cut.atebev_cycles_subgroup:g}"
        out = {}
        for ep, t, e in (("os", st.os_t, st.os_e), ("pfs", st.pfs_t, st.pfs_e)):
            if ep not in endpoints:
                continue
            tm = t / DAYS_PER_MONTH
            for suffix, mask in (("", np.ones(st.group.size, bool)), ("_matched", st.matched == 1)):
                for name, level in ((f"le{cut}", 0), (f"gt{cut}", 1)):
                    sel = mask & (self.cycles_stratum == level)
                    out[f"cycles.{name}_{ep}_logrank_p{suffix}"] = _logrank(tm[sel], e[sel], st.group[sel])[0]
        return out

    def cycles_tests(self, endpoints: tuple[str, ...] = ("os", "pfs")) -> dict:
        """Every test that the ATE+BEV cycles enter apart from Cox: :meth:`cycles_strata` and the matched
        cohort's Mann-Whitney p (``matching.cycles_p_matched``)."""
        return {**self.cycles_strata(endpoints), "matching.cycles_p_matched": self.cycles_p_matched()}

    def cycles_p_matched(self) -> float:
        """Mann-Whitney p of ATE+BEV cycles between the groups of the matched cohort."""
        mm = self.st.matched == 1
        a, b = self.cycles[mm & (self.st.group == 1)], self.cycles[mm & (self.st.group == 0)]
        return mann_whitney_test(a, b, method="asymptotic")[1]

    def third_line(self) -> dict:
        """Log-rank p-values of OS by receipt and by type of third-line therapy (within each group and cohort)."""
        st = self.st
        out = {}
        tm = st.os_t / DAYS_PER_MONTH
        for suffix, mask in (("", np.ones(st.group.size, bool)), ("_matched", st.matched == 1)):
            for code, gv in (("len", 1), ("sor", 0)):
                sel = mask & (st.group == gv)
                rec = (self.third[sel] != "none").astype(int)
                key = f"thirdline.os_received_{code}_p{suffix}"
                out[key], out[f"_oe.{key}"] = _logrank(tm[sel], st.os_e[sel], rec)
                for level in (0, 1):
                    part = rec == level
                    curve = km_steps(tm[sel][part], st.os_e[sel][part]) if part.sum() >= MIN_CURVE_SIZE else None
                    out[f"_kmstep.os_third{level}_{code}{suffix}"] = _largest_step(curve, int(part.sum()))
                typ = sel & (self.third != "none") if THIRD_LINE_TYPE_AMONG_RECEIVERS else sel
                _, codes = np.unique(self.third[typ], return_inverse=True)
                out[f"thirdline.os_type_{code}_p{suffix}"] = _logrank(tm[typ], st.os_e[typ], codes)[0]
        return out


def _candidates(configured: list[str], derived: list[str]) -> list[str]:
    """The configuration's Cox candidates (``cox.candidates``; ``control_group`` named :data:`CONTROL_NAME`) in the
    order of the evaluator's derivations: the calibration sums its per-candidate penalties in that order, so the
    cohort it makes does not depend on the order of Table 4's rows. A candidate the evaluator does not derive (not
    one of the article's) is refused: the synthetic cohort has only the article's variables."""
    names = [CONTROL_NAME if name == "control_group" else name for name in configured]
    unknown = [name for name in names if name not in derived]
    if unknown:
        raise ValueError(f"cox.candidates: the synthetic calibration derives only the article's candidates, not "
                         f"{', '.join(unknown)}")
    return [name for name in derived if name in names]


def _largest_step(curve, size: int) -> float:
    """Largest drop of a Kaplan-Meier curve (0 for curves under :data:`MIN_CURVE_SIZE` patients, whose steps the
    plausibility rules leave free)."""
    if curve is None or size < MIN_CURVE_SIZE or curve.survival.size == 0:
        return 0.0
    return float(np.max(-np.diff(np.concatenate([[1.0], curve.survival]))))


def _logrank(t: np.ndarray, e: np.ndarray, codes: np.ndarray) -> tuple[float, float]:
    """Log-rank p across the groups coded 0..k-1 and observed minus expected deaths of the last group
    (NaN, NaN for fewer than two groups, as the book's results)."""
    k = int(codes.max()) + 1 if codes.size else 0
    if k < 2 or np.unique(codes).size < 2:
        return np.nan, np.nan
    res = logrank_arrays(t, e, codes, k)
    return res.p, float(res.observed[-1] - res.expected[-1])
