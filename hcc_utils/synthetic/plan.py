"""The synthetic cohort's plan: calendar, published targets, and the counts every flow box and exactly placed
covariate gets (see :mod:`hcc_utils.synthetic.generator` for how the cohort is built).

``data/targets.csv`` is read here and by the calibration, the scorecard and the audit; analysis code never reads it.
The study configuration is read through :func:`study_settings` only.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from hcc_utils.config import StudyConfig, as_config, load_config
from hcc_utils.config.schema import Cutpoints
from hcc_utils.reproduction.targets import TARGETS_PATH

DAYS_PER_MONTH = 30.4375
#: The study's calendar: second-line therapy started from August 2019 (accrual) to the data cut-off in December
#: 2022; the last synthetic start leaves a month of follow-up. Day offsets of the generator count from FIRST_START.
ACCRUAL_START = pd.Timestamp("2019-08-01")
DATA_CUTOFF = pd.Timestamp("2022-12-31")
FIRST_START = ACCRUAL_START
LAST_START = pd.Timestamp("2022-11-30")
#: Longest follow-up the generator and the calibration give a patient (about 37 months, well inside the 41 months
#: from the start of accrual to the cut-off).
MAX_FOLLOWUP_DAYS = 1124

#: Plausibility limits the calibrated cohort keeps (checked by :mod:`hcc_utils.synthetic.plausibility`): events of
#: one endpoint on one day of follow-up within a group, and the largest step of a Kaplan-Meier curve of at least
#: MIN_CURVE_SIZE patients.
MAX_EVENTS_PER_DAY = 2
MAX_KM_STEP = 0.10
MIN_CURVE_SIZE = 30

#: Adverse-event columns (suffix of ``ae_<term>``), in dictionary order.
AE_TERMS = [
    "proteinuria", "ast_elevation", "alt_elevation", "bilirubin_elevation", "thrombocytopenia", "anemia",
    "hypertension", "hand_foot_syndrome", "rash", "anorexia", "hypothyroidism", "gi_bleeding", "diarrhea",
    "fatigue",
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
# Configuration
# ----------------------------------------------------------------------------------------------------------------
class StudySettings(NamedTuple):
    """What the synthetic cohort's construction and calibration read from the study configuration."""

    config: StudyConfig   # passed on whole to the project's derivation and matching
    treatment: str        # regimen of the treatment group (lenvatinib)
    control: str          # regimen of the control group (sorafenib)
    cutpoints: Cutpoints


def study_settings(config: StudyConfig | dict | None = None) -> StudySettings:
    """The study configuration (the bundled ``study.yml`` when None) and the settings read from it."""
    config = load_config() if config is None else as_config(config)
    return StudySettings(config, config.groups.treatment, config.groups.control, config.cutpoints)


# ----------------------------------------------------------------------------------------------------------------
# Targets
# ----------------------------------------------------------------------------------------------------------------
def load_target_values(path: str | Path = TARGETS_PATH) -> dict[str, str]:
    """Read ``data/targets.csv`` into ``{id: value-as-text}``.

    Only the generator, the calibration, the scorecard and the audit read this file; analysis code never does.
    """
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["id"]: row["value"] for row in csv.DictReader(fh)}


def target_number(t: dict, key: str) -> float:
    """A published number of ``load_target_values()`` as a float."""
    return float(t[key])


def largest_remainder(total: int, weights) -> np.ndarray:
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
    died = _scale(target_number(t, "flow.died_on_first_line"), n_scale)
    det = _scale(target_number(t, "flow.deteriorated_on_first_line"), n_scale)
    det_after = _scale(target_number(t, "flow.deteriorated_after_first_line"), n_scale)
    n_len = _scale(target_number(t, "flow.second_line_lenvatinib"), n_scale, minimum=10)
    n_sor = _scale(target_number(t, "flow.second_line_sorafenib"), n_scale, minimum=10)
    rego = _scale(target_number(t, "flow.second_line_regorafenib"), n_scale)
    fu = _scale(target_number(t, "flow.second_line_5fu"), n_scale)
    groups = {"lenvatinib": n_len, "sorafenib": n_sor}
    n_enr = n_len + n_sor
    enr0 = target_number(t, "flow.enrolled")
    sizes = [n_len, n_sor]

    def split(key):
        return dict(zip(groups, largest_remainder(int(round(target_number(t, key) * n_enr / enr0)), sizes)))

    cp_a = {
        "lenvatinib": int(round(target_number(t, "baseline.child_pugh_a_len") / 100 * n_len)),
        "sorafenib": int(round(target_number(t, "baseline.child_pugh_a_sor") / 100 * n_sor)),
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


