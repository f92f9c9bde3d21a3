"""Bootstrap resampling: seeded stratified resamples and percentile confidence intervals.

The nonparametric bootstrap (Efron and Tibshirani, *An Introduction to the Bootstrap*, 1993) estimates the
sampling distribution of a statistic by recomputing it on samples drawn with replacement from the data. Each
replicate has its own random stream, spawned from one seed (``numpy.random.SeedSequence(seed).spawn(n)``), so
replicate ``i`` draws the same sample whichever process, machine or order computes it.
"""
from __future__ import annotations

import numpy as np


def replicate_seeds(seed: int, replicates: int) -> list[np.random.SeedSequence]:
    """One independent seed sequence per replicate, spawned from ``seed``; replicate ``i`` always gets the ``i``-th
    child, so results do not depend on how replicates are scheduled."""
    if replicates < 1:
        raise ValueError("replicates must be at least 1")
    return np.random.SeedSequence(seed).spawn(replicates)


def stratified_resample(strata, seed: np.random.SeedSequence | int) -> np.ndarray:
    """Positions of a bootstrap sample drawn with replacement *within* each stratum.

    Parameters
    ----------
    strata : array-like, one label per unit (e.g. the treatment group).
    seed : the replicate's seed sequence (or an int).

    Returns
    -------
    numpy.ndarray of int
        Positions into ``strata``, sorted (the sample keeps the data's order); each stratum keeps its size
        (``n_s`` draws with replacement from its ``n_s`` units, strata drawn in order of first appearance).

    Notes
    -----
    Keeping the group sizes fixed mirrors the design (the numbers treated with each regimen are given), so the
    propensity model and the matching of every replicate see groups of the observed sizes.
    """
    strata = np.asarray(strata)
    rng = np.random.default_rng(seed)
    _, first = np.unique(strata, return_index=True)
    parts = []
    for level in strata[np.sort(first)]:
        members = np.flatnonzero(strata == level)
        parts.append(rng.choice(members, size=len(members), replace=True))
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=int)


def percentile_interval(values, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval: the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the finite
    replicate values (linear interpolation, R ``quantile`` type 7); NaN when fewer than two are finite.

    Assumes the statistic's distribution is roughly symmetric after some monotone transformation (the percentile
    method is transformation-respecting: the interval of log HR maps onto that of HR).
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return float("nan"), float("nan")
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return float(low), float(high)
