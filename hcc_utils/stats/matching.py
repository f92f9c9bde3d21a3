"""Propensity scores and greedy nearest-neighbour matching, as R ``MatchIt`` 4.5.1 ``method = "nearest"``.

Matching reproduces ``MatchIt::matchit(treat ~ ..., method = "nearest", distance = <given vector>,
replace = FALSE, m.order = ..., caliper = ..., std.caliper = TRUE, ratio = ...)`` pair for pair. The rules,
established from MatchIt's documented behaviour and checked against it on fixtures
(``tests/reference/matching_reference.R``), are:

* All units are sorted by distance with a *stable* sort (ties keep data order).
* Treated units are visited in ``m.order``: ``largest`` / ``smallest`` distance first (stable, ties in data
  order), ``data`` order, or ``random``.
* For each treated unit the nearest still-available control *below* it in the sorted order and the nearest
  *above* it are found; controls tied with the treated unit's distance are below it when they come earlier in
  the data. A side whose control is farther than the caliper is dropped; of the two, the lower one is taken when
  ``|d_low - d_i| <= |d_high - d_i|`` (ties go to the lower side).
* With ``ratio = k`` all treated units get their first control, then all get their second, and so on.
* The caliper is ``caliper * sd(distance)`` (sample SD over all treated and control units,
  ``std.caliper = TRUE``); a control exactly at the caliper is accepted.

MatchIt 4.5.1 deviates from these rules in two ways, which ``compat`` reproduces on request (the default is the
intended algorithm above):

* k:1 matching: from the second round on, the control that follows an earlier match of the same treated unit in
  data order is passed over (an index mix-up in its C++ code, present until its October 2024 rewrite);
* builds on some platforms - including the CRAN 4.5.1 installed next to this project - compute ``abs()`` of
  distances in *integers* (MatchIt issue #163, fixed in 4.5.4), which silently disables calipers below one
  distance unit and mis-chooses the nearer side.

Pair membership equals MatchIt 4.5.1's exactly with ``compat="matchit-4.5.1-integer-abs"`` (the installed build)
and with ``compat="matchit-4.5.1"`` (4.5.1 rebuilt with a floating-point ``abs``); see
``tests/reference/matching_reference.R``.

The search (:mod:`hcc_utils.stats.matching_search`) uses the sorted controls: largest first without tied distances
as a sweep with no search, otherwise with "next available" pointers (union-find with path compression), so a
match costs near-constant time and 10^6 patients are matched in well under a second. ``order="random"`` uses numpy's
generator with the given seed; it does not reproduce R's random stream.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from hcc_utils.stats.logistic import LogisticFit, logistic_regression
from hcc_utils.stats.matching_search import _greedy, _greedy_compat, _greedy_sweep

ORDERS = ("largest", "smallest", "random", "data")
SCALES = ("logit", "score")
COMPAT = (None, "matchit-4.5.1", "matchit-4.5.1-integer-abs")
_EXTREME_PS = 1e-8  # fitted probabilities closer than this to 0 or 1 signal (quasi-)complete separation


# --------------------------------------------------------------------------------------------------------------
# Propensity score model
# --------------------------------------------------------------------------------------------------------------
@dataclass
class PropensityModel:
    """A fitted propensity score model.

    Attributes
    ----------
    ps : pandas.Series
        Fitted probability of treatment, indexed like the input.
    logit_ps : pandas.Series
        Linear predictor ``log(ps / (1 - ps))``.
    coefficients : pandas.DataFrame
        One row per term (``Intercept`` first): ``estimate, std_error, z, p, ci_low, ci_high`` (Wald, 95%),
        as R ``summary(glm(..., family = binomial))``.
    n : int
        Patients in the model.
    fit : LogisticFit
        The IRLS fit (iterations, deviance, convergence).
    """

    ps: pd.Series
    logit_ps: pd.Series
    coefficients: pd.DataFrame
    n: int
    fit: LogisticFit | None = field(repr=False, default=None)


def _ids(df: pd.DataFrame, id_col: str | None) -> pd.Series:
    if id_col is not None and id_col in df.columns:
        return df[id_col].astype(str)
    return pd.Series(df.index.astype(str), index=df.index)


def _name_some(values, limit: int = 10) -> str:
    values = list(values)
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


class PropensityModelError(ValueError):
    """The propensity model cannot be fitted. The message gives counts only (it may reach logs, notebooks and
    the book); ``patient_ids`` names the patients concerned, for the data owner's own validation report."""

    def __init__(self, message: str, patient_ids=(), covariates=()):
        super().__init__(message)
        self.patient_ids = [str(v) for v in patient_ids]
        self.covariates = list(covariates)


def propensity_scores(
    df: pd.DataFrame, treatment_col: str, covariates: list[str], id_col: str | None = "patient_id"
) -> PropensityModel:
    """Fit an unpenalised logistic regression of treatment on covariates (the propensity score).

    Parameters
    ----------
    df : one row per patient.
    treatment_col : 0/1 column, 1 = the treated group of the matching.
    covariates : numeric (0/1 or continuous) columns entered linearly, with an intercept.
    id_col : column naming patients in error messages (the index when absent).

    Returns
    -------
    PropensityModel

    Raises
    ------
    PropensityModelError
        When a covariate or the treatment is missing, when the treatment is not 0/1, a covariate is constant, and
        on (quasi-)complete separation (fitted probability 0 or 1), where maximum likelihood estimates do not
        exist. The message counts the patients; ``patient_ids`` names them.

    Notes
    -----
    Fitted by :func:`hcc_utils.stats.logistic.logistic_regression`, R's ``glm.fit`` IRLS with its stopping rule
    and covariance, so estimates, standard errors, z and p agree with R ``glm(family = binomial)`` to rounding.
    """
    missing_cols = [c for c in [treatment_col, *covariates] if c not in df.columns]
    if missing_cols:
        raise KeyError(f"propensity_scores: columns not in the data: {missing_cols}")
    if not covariates:
        raise ValueError("propensity_scores: covariates is empty")
    ids = _ids(df, id_col)
    problems, who = [], np.zeros(len(df), dtype=bool)
    for col in [treatment_col, *covariates]:
        na = df[col].isna().to_numpy()
        if na.any():
            problems.append(f"'{col}' missing for {int(na.sum())} patient(s)")
            who |= na
    if problems:
        raise PropensityModelError("propensity_scores: " + "; ".join(problems) + ". Impute or exclude them before "
                                   "matching.", ids[who])
    treat = pd.to_numeric(df[treatment_col], errors="coerce").astype(float).to_numpy()
    bad = ~np.isin(treat, (0.0, 1.0))
    if bad.any():
        raise PropensityModelError(f"propensity_scores: '{treatment_col}' must be 0/1; {int(bad.sum())} patient(s) "
                                   "are not", ids[bad])
    if treat.min() == treat.max():
        raise PropensityModelError(f"propensity_scores: '{treatment_col}' takes a single value; both groups are needed")
    try:
        X = df[covariates].apply(pd.to_numeric).astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"propensity_scores: covariates must be numeric (0/1 or continuous): {exc}") from exc
    constant = [c for c in covariates if X[c].nunique() < 2]
    if constant:
        raise PropensityModelError(f"propensity_scores: covariates {constant} take a single value; drop them from "
                                   "the model", covariates=constant)
    terms = ["Intercept", *covariates]
    design = np.column_stack([np.ones(len(X)), X.to_numpy()])
    del X  # n x k: not needed during the fit
    try:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            fit = logistic_regression(design, treat)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise PropensityModelError(f"propensity_scores: the model cannot be fitted: {exc}",
                                   covariates=covariates) from None
    ps = fit.fitted
    extreme = (ps < _EXTREME_PS) | (ps > 1 - _EXTREME_PS)
    estimated = np.delete(fit.coef, list(fit.aliased))  # aliased covariates are NA by design, as in R
    if extreme.any() or not fit.converged or not np.all(np.isfinite(estimated)):
        who = ids[extreme] if extreme.any() else ids
        # Counts only: this message reaches notebooks and logs; the ids go to the validator's terminal report.
        raise PropensityModelError(
            "propensity_scores: (quasi-)complete separation - the covariates predict treatment perfectly for "
            f"{len(who)} patient(s) (fitted probability 0 or 1); the unpenalised estimates do not exist. "
            "Coarsen or drop the offending covariate (hcc-study validate names the patients).",
            who, covariates,
        )
    z975 = special.ndtri(0.975)
    coefficients = pd.DataFrame({"term": terms, "estimate": fit.coef, "std_error": fit.se, "z": fit.z, "p": fit.p,
                                 "ci_low": fit.coef - z975 * fit.se, "ci_high": fit.coef + z975 * fit.se})
    ps_s = pd.Series(ps, index=df.index, name="ps")
    return PropensityModel(ps_s, np.log(ps_s / (1 - ps_s)).rename("logit_ps"), coefficients, len(df), fit)


# --------------------------------------------------------------------------------------------------------------
# Greedy nearest-neighbour matching
# --------------------------------------------------------------------------------------------------------------
@dataclass
class MatchResult:
    """Outcome of :func:`nearest_neighbor_match`.

    Attributes
    ----------
    match_matrix : numpy.ndarray of int, shape (n_treated, ratio)
        Row ``t`` holds the positions (0-based, in the input) of the controls matched to the ``t``-th treated
        unit in data order, column ``r`` the ``r+1``-th match; -1 where none (MatchIt's ``match.matrix``).
    treated_index : numpy.ndarray of int
        Input positions of the treated units (rows of ``match_matrix``).
    pair_id : pandas.Series (Int64)
        Matched-set number of every unit: sets are numbered 1, 2, ... by their treated unit in data order;
        NA for unmatched units. Indexed by ``ids`` when given.
    distance : numpy.ndarray
        The distance matched on (the score, or its logit).
    caliper_width : float or None
        Caliper in distance units (``caliper * sd(distance)``), None without caliper.
    n_unmatched_treated : int
        Treated units without any control.
    unmatched_treated_ids : list
        Their ids (positions when no ids were given).
    """

    match_matrix: np.ndarray
    treated_index: np.ndarray
    pair_id: pd.Series
    distance: np.ndarray
    caliper_width: float | None
    n_unmatched_treated: int
    unmatched_treated_ids: list


def _stable_argsort(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """``np.argsort(values, kind="stable")`` of finite floats, the sorted values and whether two are equal.

    One plain sort of 64-bit words (faster than an argsort): the value's order-preserving bit pattern in the high
    bits, its position in the low bits, so equal values keep their data order. Values that differ only below
    the kept bits (a relative difference under about 2^-32 at 10^6 values) share a prefix; those few runs are
    re-sorted by value and position.
    """
    n = values.size
    k = max(1, (n - 1).bit_length())                  # bits of a position
    bits = (values + 0.0).view(np.uint64)             # + 0.0: -0.0 and 0.0 are equal, as in a sort
    key = np.where(bits >> np.uint64(63) != 0, ~bits, bits | np.uint64(1 << 63))
    packed = np.sort(((key >> np.uint64(k)) << np.uint64(k)) | np.arange(n, dtype=np.uint64))
    order = (packed & np.uint64((1 << k) - 1)).astype(np.intp)
    prefix = packed >> np.uint64(k)
    same = prefix[1:] == prefix[:-1]
    if same.any():
        in_run = np.zeros(n, dtype=bool)
        in_run[1:] |= same
        in_run[:-1] |= same
        pos = np.flatnonzero(in_run)
        starts = np.ones(pos.size, dtype=bool)
        starts[1:] = ~same[pos[1:] - 1]
        sub = order[pos]
        order[pos] = sub[np.lexsort((sub, values[sub], np.cumsum(starts)))]
    ordered = values[order]
    return order, ordered, bool(same.any() and (ordered[1:] == ordered[:-1]).any())


def _treated_order(distance_t: np.ndarray, order: str, seed) -> np.ndarray:
    if order == "largest":
        return _stable_argsort(-distance_t)[0]
    if order == "smallest":
        return _stable_argsort(distance_t)[0]
    if order == "data":
        return np.arange(distance_t.size)
    return np.random.default_rng(seed).permutation(distance_t.size)


def nearest_neighbor_match(
    score,
    treated,
    ratio: int = 1,
    caliper: float | None = None,
    caliper_scale: str = "logit",
    order: str = "largest",
    seed: int | None = None,
    ids=None,
    compat: str | None = None,
) -> MatchResult:
    """Greedy nearest-neighbour matching without replacement on a one-dimensional score.

    Parameters
    ----------
    score : array-like of float
        Propensity scores in (0, 1) (with ``caliper_scale="logit"``) or any distance (``"score"``).
    treated : array-like of 0/1 or bool; treated units are matched to controls.
    ratio : controls per treated unit (k:1), >= 1.
    caliper : width in standard deviations of the matching distance; None for no caliper.
    caliper_scale : {"logit", "score"}
        Distance that is matched on *and* calipered: ``log(score / (1 - score))`` (Austin 2011) or the score
        as given. Equivalent to MatchIt's ``distance = <that vector>``.
    order : {"largest", "smallest", "random", "data"}
        Order in which treated units pick controls (MatchIt ``m.order``; ``largest`` is its default).
    seed : seed of ``order="random"``.
    ids : identifiers of the units (used in ``pair_id``'s index and messages).
    compat : {None, "matchit-4.5.1", "matchit-4.5.1-integer-abs"}
        None (default): the intended algorithm - each treated unit takes the nearest available control within
        the caliper. ``"matchit-4.5.1"``: also reproduce a defect of MatchIt 4.5.1-4.5.x's k:1 matching (fixed in
        its October 2024 rewrite): from the second round on, the control that *follows* an earlier match of the
        same treated unit in data order is passed over (1-based/0-based index mix-up); no effect when
        ``ratio=1``. ``"matchit-4.5.1-integer-abs"``: in addition, distances are truncated to whole numbers
        before the nearer-side choice and the caliper test, as MatchIt 4.5.1-4.5.3 builds whose C++ ``abs()``
        is the integer one (issue #163, fixed in 4.5.4; the CRAN 4.5.1 installed with this project's R is such
        a build): a caliper narrower than one distance unit then never binds.

    Returns
    -------
    MatchResult

    Notes
    -----
    Reproduces MatchIt 4.5.1 ``matchit(method = "nearest", replace = FALSE, std.caliper = TRUE)`` exactly,
    including tie-breaking (see the module docstring). Cost O(n log n) for sorting plus near-linear matching.

    References
    ----------
    Ho, Imai, King, Stuart (2011). MatchIt: nonparametric preprocessing for parametric causal inference.
    J Stat Softw 42(8). Austin (2011). Optimal caliper widths for propensity-score matching. Pharm Stat 10:150-61.
    """
    d = np.asarray(score, dtype=float).ravel()
    t = np.asarray(treated).ravel()
    n = d.size
    if t.size != n:
        raise ValueError(f"score has {n} values but treated has {t.size}")
    id_index = pd.Index(ids if ids is not None else np.arange(n))
    if len(id_index) != n:
        raise ValueError(f"ids has {len(id_index)} values but score has {n}")
    if pd.isna(pd.Series(t)).any() or not np.isin(t.astype(float), (0.0, 1.0)).all():
        raise ValueError("treated must hold 0/1 (or True/False) for every unit")
    t = t.astype(float) == 1.0
    if not np.isfinite(d).all():
        raise ValueError(f"score is missing or infinite for units {_name_some(id_index[~np.isfinite(d)])}")
    if caliper_scale not in SCALES:
        raise ValueError(f"caliper_scale must be one of {SCALES}, got {caliper_scale!r}")
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    if int(ratio) != ratio or ratio < 1:
        raise ValueError(f"ratio must be a whole number >= 1, got {ratio!r}")
    ratio = int(ratio)
    if caliper is not None and not caliper > 0:
        raise ValueError(f"caliper must be a positive number or None, got {caliper!r}")
    if caliper_scale == "logit":
        outside = (d <= 0) | (d >= 1)
        if outside.any():
            raise ValueError(f"caliper_scale='logit' needs scores in (0, 1); units {_name_some(id_index[outside])} are not")
        d = np.log(d / (1 - d))
    if not t.any() or t.all():
        raise ValueError("both treated and control units are needed")
    if compat not in COMPAT:
        raise ValueError(f"compat must be one of {COMPAT}, got {compat!r}")
    skip_next = compat is not None
    integer_abs = compat == "matchit-4.5.1-integer-abs"

    width = None
    if caliper is not None and (d != d[0]).any():  # MatchIt ignores a caliper on a constant distance
        width = abs(float(caliper) * float(np.std(d, ddof=1)))

    sorted_units, sorted_d, tied = _stable_argsort(d)  # all units, ties in data order
    is_t_sorted = t[sorted_units]
    controls = sorted_units[~is_t_sorted]  # control positions in sorted order
    # controls sorted strictly before each unit in the sorted order
    n_controls_before = np.cumsum(~is_t_sorted) - (~is_t_sorted)
    treated_index = np.flatnonzero(t)
    if order in ("largest", "smallest") and not tied:
        # no tied distances: the treated units in the sorted order are the visiting order (reversed for largest
        # first); everything the search needs is read off the sorted units, with no second sort or scatter
        step = -1 if order == "largest" else 1
        visit = (np.cumsum(t) - 1)[sorted_units[is_t_sorted]][::step]
        args = (sorted_d[~is_t_sorted].tolist(), n_controls_before[is_t_sorted][::step].tolist(),
                sorted_d[is_t_sorted][::step].tolist(), ratio, width)
    else:
        rank_before = np.empty(n, dtype=np.int64)
        rank_before[sorted_units] = n_controls_before
        visit = _treated_order(d[treated_index], order, seed)
        units = treated_index[visit]
        args = (d[controls].tolist(), rank_before[units].tolist(), d[units].tolist(), ratio, width)
    if compat is None and ratio == 1 and order == "largest" and not tied:
        picks = _greedy_sweep(*args[:3], width)
    elif compat is None:
        picks = _greedy(*args)
    else:
        picks = _greedy_compat(controls, *args, skip_next=skip_next, integer_abs=integer_abs)
    mm = np.full((treated_index.size, ratio), -1, dtype=np.int64)
    mm[visit] = np.where(picks >= 0, controls[np.maximum(picks, 0)], -1)

    # matched sets numbered 1, 2, ... by their treated unit in data order
    has_match = (mm >= 0).any(axis=1)
    set_no = np.cumsum(has_match)
    pair = np.zeros(n, dtype=np.int64)
    pair[treated_index[has_match]] = set_no[has_match]
    got = mm >= 0
    pair[mm[got]] = np.broadcast_to(set_no[:, None], mm.shape)[got]
    pair_id = pd.Series(pd.arrays.IntegerArray(pair, pair == 0), index=id_index, name="pair_id")
    unmatched = treated_index[~has_match]
    return MatchResult(mm, treated_index, pair_id, d, width, int(unmatched.size), list(id_index[unmatched]))


def matched_set_weights(treatment, set_id) -> np.ndarray:
    """Weights of the patients of matched sets for the average treatment effect in the treated, as MatchIt's
    ``match.data()$weights``.

    A treated patient in a set weighs 1; a control weighs the number of treated patients of its set over the number
    of its controls (1/2 in a full 1:2 set, 1 in a set left with one control), and the controls' weights are then
    scaled to sum to the number of matched controls. With every set full (k controls each) all weights are 1. A
    patient outside every set (``set_id`` missing) weighs 0.

    Parameters
    ----------
    treatment : array-like of {0, 1}
    set_id : array-like, the matched set (pair id) of each patient; NaN or None outside every set.

    Returns
    -------
    numpy.ndarray of float

    References
    ----------
    Ho DE, Imai K, King G, Stuart EA. MatchIt: nonparametric preprocessing for parametric causal inference. J Stat
    Softw 2011;42(8). Stuart EA. Matching methods for causal inference. Stat Sci 2010;25:1-21.
    """
    t = np.asarray(treatment).astype(int)
    sets = pd.Series(np.asarray(set_id, dtype=object))
    if t.shape[0] != len(sets):
        raise ValueError("treatment and set_id: lengths differ")
    inside = sets.notna().to_numpy()
    weights = np.zeros(t.size)
    if not inside.any():
        return weights
    codes, _ = pd.factorize(sets[inside])
    treated_n = np.bincount(codes, weights=t[inside] == 1)
    control_n = np.bincount(codes, weights=t[inside] == 0)
    inner = np.where(t[inside] == 1, 1.0, treated_n[codes] / np.maximum(control_n[codes], 1))
    controls = t[inside] == 0
    if controls.any():
        inner[controls] *= controls.sum() / inner[controls].sum()
    weights[inside] = inner
    return weights
