"""The calibration's loss: distance of the reproduced numbers from the published ones, in tolerance units."""
from __future__ import annotations

import numpy as np
import pandas as pd

from hcc_utils.reproduction.scorecard import distance, is_met, rule_of
from hcc_utils.synthetic.evaluator import COX_CANDIDATES

#: Direction of significant differences the article states in words, as the sign of observed minus expected
#: deaths of the second level: "OS was significantly longer among patients who did than did not receive
#: third-line treatment (P=0.009)" (sorafenib group) -> recipients have fewer deaths than expected.
DIRECTIONS = {"thirdline.os_received_sor_p": -1}


class Loss:
    """Loss over a subset of targets: sum of max(0, d - margin) + 0.02 d (d in tolerance units)."""

    def __init__(self, targets: pd.DataFrame, prefixes: tuple[str, ...], margin: float = 0.5):
        t = targets[targets["id"].str.startswith(prefixes)]
        self.items = [(r.id, rule_of(r.statistic), str(r.value)) for r in t.itertuples(index=False)]
        self.margin = margin
        self.published = dict(zip(targets["id"], targets["value"]))

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
        return total, misses


def list_penalty(p: np.ndarray, wanted: set, beta: np.ndarray | None = None) -> float:
    """Smooth penalty pushing univariable p-values of wanted predictors below 0.035 (with a harmful direction,
    HR > 1, as every predictor the article names is a risk factor) and the others above 0.075."""
    pen = 0.0
    beta = np.ones(len(p)) if beta is None else beta
    for c, pv, b in zip(COX_CANDIDATES, p, beta):
        pv = max(pv, 1e-300)
        if c in wanted:
            pen += max(0.0, np.log(pv / 0.035)) if b > 0 else 5.0 + min(-np.log(pv), 20.0)
        else:
            pen += max(0.0, np.log(0.075 / pv))
    return 3.0 * pen
