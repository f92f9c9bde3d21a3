"""The greedy nearest-neighbour search of :func:`hcc_utils.stats.matching.nearest_neighbor_match`, on the units
sorted by distance: which control each treated unit takes.

Three implementations of the same decisions: `_greedy_sweep` (largest first, no tied distances: the default
configuration, a sweep without any search), `_greedy` (any order and ratio: union-find with path compression,
inlined) and `_greedy_compat` (MatchIt 4.5.1's deviations on request, via `_Available`). The tests check that they
agree wherever more than one applies.
"""
from __future__ import annotations

import math

import numpy as np


class _Available:
    """Sorted controls 0..m-1 with deletion and nearest-available queries (union-find, path compression)."""

    def __init__(self, m: int):
        # up[j]: candidate for the smallest available >= j (m = none); down[j + 1]: largest available <= j (0 = none)
        self.up = list(range(m + 1))
        self.down = list(range(m + 1))

    def at_or_above(self, j: int) -> int:
        up = self.up
        root = j
        while up[root] != root:
            root = up[root]
        while up[j] != root:
            up[j], j = root, up[j]
        return root  # == m when none

    def at_or_below(self, j: int) -> int:
        down = self.down
        k = j + 1
        root = k
        while down[root] != root:
            root = down[root]
        while down[k] != root:
            down[k], k = root, down[k]
        return root - 1  # == -1 when none

    def remove(self, j: int) -> None:
        self.up[j] = j + 1
        self.down[j + 1] = j


def _greedy(d_ctrl: list, left_of: list, d_unit: list, ratio: int, width: float | None) -> np.ndarray:
    """The greedy search for the intended algorithm (no ``compat``): treated units in visiting order, each with
    its distance ``d_unit`` and the number ``left_of`` of controls sorted before it, take the nearer of the
    nearest available controls below and above within the caliper (ties to the lower side), round after round.

    The same decisions as `_greedy_compat` without its options, with the union-find inlined: a treated unit
    costs well under a microsecond of Python (10^6 patients in about five sorts' time). Returns picks
    (visit x ratio) as positions among the sorted controls, -1 where none.
    """
    m = len(d_ctrl)
    up = list(range(m + 1))          # up[j]: candidate for the smallest available >= j (m = none)
    down = list(range(m + 1))        # down[j + 1]: candidate for the largest available <= j (0 = none)
    limit = math.inf if width is None else width
    # dist[c + 1]: distance of sorted control c, NaN for "none" (c = -1 or m): a missing side then fails every
    # comparison below, with no test for it. Controls below a unit are not farther up than it, those above not
    # lower, so |d_c - d_i| is the plain difference (the same float: rounding is symmetric).
    dist = [math.nan, *d_ctrl, math.nan]
    rounds = []
    for _ in range(ratio):
        picks = []
        add = picks.append
        for j, di in zip(left_of, d_unit):
            hi = j                                       # smallest available >= j
            while up[hi] != hi:
                hi = up[hi]
            k = j
            while up[k] != hi:                           # path compression
                up[k], k = hi, up[k]
            lo = j                                       # (largest available <= j - 1) + 1
            while down[lo] != lo:
                lo = down[lo]
            k = j
            while down[k] != lo:
                down[k], k = lo, down[k]
            dlo = di - dist[lo]
            dhi = dist[hi + 1] - di
            if dlo <= limit and (dlo <= dhi or not dhi <= limit):   # ties go to the lower side
                pick = lo - 1
            elif dhi <= limit:
                pick = hi
            else:
                add(-1)
                continue
            up[pick] = pick + 1
            down[pick + 1] = pick
            add(pick)
        rounds.append(picks)
    return np.array(rounds, dtype=np.int64).T.reshape(len(left_of), ratio)


def _greedy_sweep(d_ctrl: list, left_of: list, d_unit: list, width: float | None) -> np.ndarray:
    """`_greedy` for one control per treated unit visited largest first when no two distances are tied: the visit
    is then a sweep down the sorted units, and the available controls have a shape that needs no search.

    Below the sweep, the controls taken so far are exactly the ``q`` nearest ones (each earlier unit that went
    down took the first free control below it); above it, the free controls form a stack of index ranges whose
    top is the nearest (each unit that went up took that top). A unit thus costs a few list operations. Same
    decisions as `_greedy` (checked by the tests); returns picks among the sorted controls, -1 where none.
    """
    limit = math.inf if width is None else width
    m = len(d_ctrl)
    # dist[m] (and dist[-1]) is NaN: "no control" on either side fails every comparison below, untested
    dist = [*d_ctrl, math.nan]
    stack = []                                # free ranges above the sweep below the top one, nearest last
    top, top_end = m, m                       # the nearest free range above the sweep (m: none)
    q = 0
    previous = m
    picks = []
    add = picks.append
    for j, di in zip(left_of, d_unit):
        gap = previous - j                    # controls passed since the previous unit
        if gap > q:
            if top != m:
                stack.append((top, top_end))
            top, top_end = j, previous - q - 1
            q = 0
        else:
            q -= gap
        previous = j
        lo = j - 1 - q
        dlo = di - dist[lo]
        dhi = dist[top] - di
        if dlo <= limit and (dlo <= dhi or not dhi <= limit):   # ties go to the lower side
            q += 1
            add(lo)
        elif dhi <= limit:
            add(top)
            if top == top_end:
                top, top_end = stack.pop() if stack else (m, m)
            else:
                top += 1
        else:
            add(-1)
    return np.array(picks, dtype=np.int64).reshape(len(left_of), 1)


def _greedy_compat(controls: np.ndarray, d_ctrl: list, left_of: list, d_unit: list, ratio: int,
                   width: float | None, skip_next: bool, integer_abs: bool) -> np.ndarray:
    """The greedy search with MatchIt 4.5.1's deviations (see `nearest_neighbor_match`'s ``compat``); without them
    it takes the same decisions as `_greedy`. Returns picks (visit x ratio) among the sorted controls, -1 where
    none."""
    m = len(d_ctrl)
    avail = _Available(m)
    picks = np.full((len(left_of), ratio), -1, dtype=np.int64)
    remaining = m
    for r in range(ratio):
        for row in range(len(left_of)):
            if remaining == 0:
                break
            di = d_unit[row]
            lo = avail.at_or_below(left_of[row] - 1)
            hi = avail.at_or_above(left_of[row])
            if skip_next and r > 0:  # MatchIt 4.5.1 passes over the unit after each earlier match in data order
                passed = {int(controls[c]) + 1 for c in picks[row, :r].tolist() if c >= 0}
                while lo >= 0 and int(controls[lo]) in passed:
                    lo = avail.at_or_below(lo - 1)
                while hi < m and int(controls[hi]) in passed:
                    hi = avail.at_or_above(hi + 1)
            dlo = abs(d_ctrl[lo] - di) if lo >= 0 else None
            dhi = abs(di - d_ctrl[hi]) if hi < m else None
            if integer_abs:
                dlo = None if dlo is None else float(int(dlo))
                dhi = None if dhi is None else float(int(dhi))
            if width is not None:
                if dlo is not None and dlo > width:
                    dlo = None
                if dhi is not None and dhi > width:
                    dhi = None
            if dlo is not None and (dhi is None or dlo <= dhi):
                pick = lo
            elif dhi is not None:
                pick = hi
            else:
                continue
            avail.remove(pick)
            remaining -= 1
            picks[row, r] = pick
    return picks
