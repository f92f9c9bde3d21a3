"""The calibration's loss: distance of the reproduced numbers from the published ones, in tolerance units."""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from hcc_utils.reproduction.conclusions import ALPHA, load_conclusions
from hcc_utils.reproduction.scorecard import (HR_REL_TOL, P_TOL, P_TOL_SMALL, TIME_TOL, distance, is_identical, is_met,
                                             printed_decimals, rule_of)

#: Direction of significant differences the article states in words, as the sign of observed minus expected
#: deaths of the second level: "OS was significantly longer among patients who did than did not receive
#: third-line treatment (P=0.009)" (sorafenib group) -> recipients have fewer deaths than expected.
DIRECTIONS = {"thirdline.os_received_sor_p": -1}


#: Published numbers that no cohort can print exactly together with the others (see
#: :mod:`hcc_utils.reproduction.audit`): the loss keeps them within the tolerance but does not chase their digits.
#: cox.pfs_ehm_p: the printed HR 1.991 and CI 1.265-3.132 imply a Wald p of 0.0029, which prints 0.003, not 0.002.
NOT_PRINTABLE = frozenset({"cox.pfs_ehm_p", "response.orr_p", "thirdline.p", "baseline.child_pugh_a_p"})

#: Plausibility (:mod:`hcc_utils.synthetic.plausibility`): the largest Kaplan-Meier step the loss tolerates freely
#: (a little under the rule's 0.10, so that the search stays clear of the limit), and the weight beyond it.
KM_STEP_SOFT = 0.095
KM_STEP_WEIGHT = 200.0
#: Loss (times ``identical``) of a met number at the edge of its tolerance: PRINTED_CAP times the log of its distance
#: from the printed value over the log of the tolerance's width (both in printed units); a missed number costs
#: PRINTED_CAP more than its tolerance distance.
PRINTED_CAP = 4.0
#: Weight of a missed p-value's log-ratio to the published value (identical mode only).
MISSED_P_WEIGHT = 3.0


#: The article's conclusions (``data/conclusions.csv``) as loss terms: a p-value the article calls not significant
#: (or a term of a multivariable model that is not one of the article's independent predictors) is pulled above
#: CONCLUSION_FLOOR (a margin over 0.05, so that the project's own analysis agrees), one it calls significant below
#: CONCLUSION_CEILING, by CONCLUSION_WEIGHT per unit of log-ratio; one on the wrong side of 0.05 is a miss and costs
#: CONCLUSION_MISS more. Only p-values that are not published numbers themselves (those are targets already).
CONCLUSION_FLOOR = 0.08
CONCLUSION_CEILING = 0.03
CONCLUSION_WEIGHT = 3.0
CONCLUSION_MISS = 4.0

#: Grid of :func:`stable` (loss units): the calibration compares losses, and decides, on this grid.
STABLE_GRID = 1e-6


def stable(value: float) -> float:
    """A loss (or loss difference) rounded to :data:`STABLE_GRID`.

    Floating-point results differ in their last bits between processors, BLAS kernels and thread counts (the order
    of a dot product's sums; SIMD versions of ``exp`` and ``log``); the calibration's decisions (is a proposal
    better, equal, worse; is it the best so far) are taken on this grid, so that a last-bit difference changes a
    decision only where a loss lies within that difference of a grid point (about 1e-13 against 1e-6), and a move
    that leaves the loss unchanged compares as equal (0) on every machine, never as a last-bit gain or loss."""
    if not math.isfinite(value):
        return value
    return round(float(value) / STABLE_GRID) * STABLE_GRID


def conclusion_bounds(targets: pd.DataFrame, conclusions: pd.DataFrame | None = None) -> tuple[dict, list]:
    """The conclusions the calibration can score: ``({article id: "above" | "below"}, [(pattern, expected ids)])``.

    ``not_significant`` and ``significant`` claims give their p-values that are not published numbers (the targets
    score those); an ``independent_predictors`` claim gives the pattern of its endpoint's multivariable terms
    (``cox.<endpoint>_<term>_p``, as :mod:`hcc_utils.reproduction.conclusions` reads them) and the article's
    independent predictors: every other term is "above"."""
    conclusions = load_conclusions() if conclusions is None else conclusions
    published = set(targets["id"])
    ids, patterns = {}, []
    for row in conclusions.itertuples(index=False):
        if row.rule in ("not_significant", "significant"):
            for part in str(row.subject).split("|"):
                tid = part.split(";")[0].strip()
                if tid and tid not in published:
                    ids[tid] = "above" if row.rule == "not_significant" else "below"
        elif row.rule == "independent_predictors":
            expected = {item.strip() for item in re.split(r"[;|]", str(row.expected)) if item.strip()}
            patterns.append((re.compile(rf"^cox\.{re.escape(str(row.subject))}_(?!uni_)[a-z0-9_]+_p$"), expected))
    return ids, patterns


def identical_interval(rule: str, published: str) -> tuple[float, float] | None:
    """The values that print as the published number at its precision, as ``[low, high)``, or None when the
    number is not a printed decimal (counts, lists, "not reached", "<0.001")."""
    pub = str(published).strip()
    if rule in ("count", "list") or pub.upper() == "NA" or pub.startswith("<"):
        return None
    unit = 10.0 ** -printed_decimals(pub)
    low, high = float(pub) - unit / 2, float(pub) + unit / 2
    if rule == "p":
        low = max(low, 0.001)  # a p below 0.001 prints "<0.001"
    return low, high


def tolerance_width(rule: str, published: str) -> float:
    """Half width of the scorecard's tolerance (the close tier) around a published value, in its own units."""
    value = float(published)
    if rule == "time":
        return TIME_TOL
    if rule == "ratio":
        return HR_REL_TOL * value
    if rule == "p":
        return P_TOL_SMALL if value < 0.01 else P_TOL
    return 10.0 ** -printed_decimals(published)


def printed_distance(interval: tuple[float, float], value: float, unit: float, slack: float = 0.3) -> float:
    """Distance of a value from the middle part of its identical interval, in printed units (0 inside).

    ``slack`` keeps the target a little inside the interval (a fraction of its half width), so that the
    project's own analysis, which may differ in the last floating-point digits, prints the same."""
    low, high = interval
    centre, half = (low + high) / 2, (high - low) / 2
    return max(0.0, abs(value - centre) - (1 - slack) * half) / unit


class Loss:
    """Loss over a subset of targets: sum of max(0, d - margin) + 0.02 d (d in tolerance units); with
    ``identical`` > 0 also that weight times the (soft-capped) distance from the printed value in printed units
    (:func:`printed_distance`), growing as its log (``shape="log"``: exact digits pay most) or linearly
    (``"linear"``: every number pulled towards its digits alike) up to PRINTED_CAP at the tolerance's edge; with
    ``plausible`` a penalty for Kaplan-Meier steps over :data:`KM_STEP_SOFT`
    (the evaluator's ``_kmstep.*`` values), a step over 0.10 counting as a miss."""

    def __init__(self, targets: pd.DataFrame, prefixes: tuple[str, ...], margin: float = 0.5,
                 identical: float = 0.0, plausible: bool = False, shape: str = "log", conclusions: bool = False):
        t = targets[targets["id"].str.startswith(prefixes)]
        self.items = [(r.id, rule_of(r.statistic), str(r.value)) for r in t.itertuples(index=False)]
        self.margin = margin
        self.identical = identical
        self.plausible = plausible
        self.shape = shape
        self.published = dict(zip(targets["id"], targets["value"]))
        self.bounds, self.bound_patterns = conclusion_bounds(targets) if conclusions else ({}, [])
        self._bound_of: dict = {}
        self.intervals = {}
        for tid, rule, pub in self.items:
            interval = identical_interval(rule, pub)
            if interval is not None and tid not in NOT_PRINTABLE:
                unit = 10.0 ** -printed_decimals(pub)
                self.intervals[tid] = (interval, unit, np.log1p(tolerance_width(rule, pub) / unit))

    def __call__(self, values: dict) -> tuple[float, list[str]]:
        total = 0.0
        misses = []
        for tid, rule, pub in self.items:
            if tid not in values:
                continue
            v = values[tid]
            if rule == "list":
                continue
            d = distance(rule, pub, v)
            if d > 10:
                d = 10.0 + np.log1p(d - 10.0)  # soft cap: far-off values still pull, without huge barriers
            # A p-value is not monotone in the effect: on the wrong side of "no effect" it falls again. There the
            # p-value counts as a penalty above anything the right side can give (soft-capped p distances stay
            # below 17), growing with the effect, so the search is pulled across "no effect" without a barrier.
            if rule == "p" and tid.startswith("cox.") and tid.endswith("_p"):
                hr_id = tid[:-2] + "_hr"
                if hr_id in values and hr_id in self.published:
                    if (float(values[hr_id]) - 1) * (float(self.published[hr_id]) - 1) < 0:
                        d = 17.0 + 10.0 * abs(np.log(float(values[hr_id])))
            if tid in DIRECTIONS and f"_oe.{tid}" in values and values[f"_oe.{tid}"] * DIRECTIONS[tid] <= 0:
                d = 17.0 + 2.0 * abs(values[f"_oe.{tid}"])
            if rule == "time" and pub.upper() == "NA" and f"_slast.{tid}" in values:
                # not reached: pull the curve's last value above 1 - 0.75 (smooth guide for the search)
                d = max(0.0, 3.0 + 40.0 * (0.26 - values[f"_slast.{tid}"])) if d > 0 else 0.0
            # p-values far below the published one still count as equal once both are tiny
            total += max(0.0, d - self.margin) + 0.02 * min(d, 10)
            if not is_met(rule, pub, v):
                misses.append(tid)
                # a missed number costs more than any met one, however far from its printed digits; a missed
                # p-value also by its log-ratio to the published one, which still slopes where the linear distance
                # hardly moves (0.002 against 0.019)
                if self.identical and tid in self.intervals:
                    total += self.identical * PRINTED_CAP
                    if rule == "p":
                        total += MISSED_P_WEIGHT * abs(np.log(max(float(v), 1e-300) / float(pub)))
            elif self.identical and tid in self.intervals:
                # log-scaled so that it slopes everywhere inside the tolerance and reaches the cap at its edge
                interval, unit, edge = self.intervals[tid]
                g = printed_distance(interval, float(v), unit)
                if self.shape == "log":
                    total += self.identical * PRINTED_CAP * min(1.0, np.log1p(g) / edge)
                else:
                    total += self.identical * PRINTED_CAP * min(1.0, g / np.expm1(edge))
        for key, step in values.items() if self.plausible else ():
            if key.startswith("_kmstep.") and step > KM_STEP_SOFT:
                total += KM_STEP_WEIGHT * (step - KM_STEP_SOFT)
                if step > 0.10:
                    misses.append(key)
        if self.bounds or self.bound_patterns:
            total += self._conclusions(values, misses)
        return stable(total), misses

    def _bound(self, key: str) -> str | None:
        """"above", "below" or None for a value id (cached: the patterns are matched once per id)."""
        if key not in self._bound_of:
            side = self.bounds.get(key)
            for pattern, expected in self.bound_patterns if side is None else ():
                if pattern.match(key):
                    side = None if key in expected else "above"
                    break
            self._bound_of[key] = side
        return self._bound_of[key]

    def _conclusions(self, values: dict, misses: list) -> float:
        """The conclusion terms (:data:`CONCLUSION_FLOOR`); a claim on the wrong side of 0.05 is appended to
        ``misses``. Ids in sorted order: the sum does not depend on the order of ``values``."""
        total = 0.0
        for key in sorted(values):
            side = self._bound(key)
            if side is None:
                continue
            p = float(values[key])
            if not math.isfinite(p):
                continue
            p = max(p, 1e-300)
            if side == "above":
                total += CONCLUSION_WEIGHT * max(0.0, math.log(CONCLUSION_FLOOR / p))
                wrong = p < ALPHA
            else:
                total += CONCLUSION_WEIGHT * max(0.0, math.log(p / CONCLUSION_CEILING))
                wrong = p >= ALPHA
            if wrong:
                total += CONCLUSION_MISS
                misses.append(key)
        return total

    def not_identical(self, values: dict) -> list[str]:
        """Ids of this loss whose values do not print as published (among the printable ones)."""
        return [tid for tid, rule, pub in self.items if tid in values and rule != "list"
                and not is_identical(rule, pub, values[tid]) and tid not in NOT_PRINTABLE]


def list_penalty(p: np.ndarray, wanted: set, beta: np.ndarray | None, candidates: list[str]) -> float:
    """Smooth penalty pushing univariable p-values of wanted predictors below 0.035 (with a harmful direction,
    HR > 1, as every predictor the article names is a risk factor) and the others above 0.075; ``p`` and ``beta``
    are aligned with ``candidates`` (the evaluator's ``candidates``)."""
    pen = 0.0
    beta = np.ones(len(p)) if beta is None else beta
    for c, pv, b in zip(candidates, p, beta):
        pv = max(pv, 1e-300)
        if c in wanted:
            pen += max(0.0, np.log(pv / 0.035)) if b > 0 else 5.0 + min(-np.log(pv), 20.0)
        else:
            pen += max(0.0, np.log(0.075 / pv))
    return 3.0 * pen
