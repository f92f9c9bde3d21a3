"""The calibration's last resort: an exhaustive repair of the numbers the search leaves missed.

The stochastic stages weigh every number and conclusion in one loss, and a number can stay missed because each move
that would bring it within its tolerance costs more elsewhere (printed digits of other numbers, the conclusions'
margins) than it gains. This stage treats what is met as fixed: it tries *every* move of a few kinds, in a fixed
order, and keeps one only when

1. no met number is lost, no held conclusion is lost and no plausibility rule is broken (the loss's misses,
   :class:`hcc_utils.synthetic.loss.Loss`, stay within those at the start of the move), and both univariable
   screening lists stay the article's (:func:`hcc_utils.synthetic.polish.screening_lists_hold`);
2. fewer numbers (or conclusions) are missed, or as many and the missed ones lie closer in total
   (:func:`shortfall`: the scorecard's distance in tolerance units, a conclusion's log-ratio to 0.05).

A sweep scores every move on the state it starts from, sorts the improving ones by the loss they add per unit of
shortfall they win (:func:`_price`: the move that costs least elsewhere first), then applies them in that order, each again on the current state and kept only if it still
improves. Sweeps repeat until nothing is missed, a sweep keeps nothing, or ``max_sweeps``. There is no random number.

The moves (only kinds that can change a missed number are tried):

* **shift**: one patient's OS time (with PFS, without progression) or PFS time (a progressed patient) by each of
  :data:`hcc_utils.synthetic.polish.STEPS` days, progression before death, at most two events of an endpoint a day in
  a group (:func:`hcc_utils.synthetic.state.ties_ok`);
* **cross**: a matched and an unmatched patient of one group exchange their OS and PFS times (same progression
  status and events: every number of the whole cohort stays, the matched cohort's move), or two progressed patients
  of one group, one matched and one not, their PFS times (when both stay before death). The precision stage
  exchanges times only between patients of one matched status; the matched cohort's PFS follow-up first quartile
  needed this move;
* **covariate**: two patients of one group *and* matched status exchange one covariate outside the propensity model
  (:data:`hcc_utils.synthetic.precision.SWAPPABLE`): every baseline number and test of the whole and the matched
  cohort stays; a pair whose exchange changes nothing the evaluator reads (Cox candidates, cycles) is skipped;
* **third**: two progressed patients of one group exchange their third-line regimens (every third-line count stays).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hcc_utils.reproduction.conclusions import ALPHA
from hcc_utils.reproduction.scorecard import distance
from hcc_utils.synthetic.evaluator import FastEvaluator
from hcc_utils.synthetic.loss import Loss, stable
from hcc_utils.synthetic.plan import MAX_FOLLOWUP_DAYS
from hcc_utils.synthetic.polish import STEPS, restore, screening_lists_hold, shift_time
from hcc_utils.synthetic.precision import PARTS, SWAPPABLE, _values
from hcc_utils.synthetic.state import SearchState, ties_ok

#: At most this many sweeps.
MAX_SWEEPS = 12
#: Shortfall units a newly met number is worth when a sweep orders its moves (:func:`_price`).
MET_GAIN = 1.0
#: Evaluator methods whose values each kind of move can change (:data:`hcc_utils.synthetic.precision.PARTS`).
MOVE_PARTS = {"shift": ("survival", "multivariable", "third_line", "cycles_strata"),
              "cross": ("survival", "multivariable", "third_line", "cycles_strata"),
              "covariate": ("multivariable", "cycles_tests", "cycles_strata"),
              "third": ("third_line",)}


def method_of(key: str) -> str:
    """The evaluator method that computes a value id of the loss (a number, a conclusion's p-value, a curve's step)."""
    if key.startswith("_kmstep.os_third") or key.startswith("thirdline."):
        return "third_line"
    if key.startswith(("survival.", "_kmstep.")):
        return "survival"
    if key.startswith("cycles."):
        return "cycles_strata"
    if key.startswith("matching.cycles"):
        return "cycles_tests"
    return "multivariable"


def shortfall(loss: Loss, values: dict, misses: list[str]) -> float:
    """How far the missed numbers lie from being met, in total (0 when none is missed), on the loss's grid.

    A published number by the scorecard's distance in tolerance units (:func:`hcc_utils.reproduction.scorecard.distance`,
    at most 10 + log of the excess, as the loss's soft cap), a conclusion's p-value by its log-ratio to 0.05
    (:data:`hcc_utils.reproduction.conclusions.ALPHA`), a Kaplan-Meier step by its excess over 0.10 in points."""
    rules = {tid: (rule, pub) for tid, rule, pub in loss.items}
    total = 0.0
    for key in sorted(set(misses)):
        value = values.get(key)
        if key in rules:
            d = distance(*rules[key], value)
            total += d if d <= 10 else 10.0 + math.log1p(d - 10.0)
        elif key.startswith("_kmstep."):
            total += 100.0 * max(0.0, float(value) - 0.10)
        elif value is not None and math.isfinite(float(value)):
            total += abs(math.log(max(float(value), 1e-300) / ALPHA))
        else:
            total += 10.0
    return stable(total)


class _Moves:
    """The repair's moves on a search state, each as ``(kind, apply)`` where ``apply()`` changes the state in place and
    returns ``(undo, part)`` (``undo()`` restores it; ``part`` names the evaluation to redo,
    :data:`hcc_utils.synthetic.precision.PARTS`), or None when the move is not valid (nothing changed)."""

    def __init__(self, st: SearchState, ev: FastEvaluator, steps: tuple[int, ...]):
        self.st, self.ev, self.steps = st, ev, steps
        self.top = MAX_FOLLOWUP_DAYS - 1

    def _times(self, cells: list) -> callable:
        saved = [(name, i, getattr(self.st, name)[i]) for name, i in cells]
        return lambda: restore(self.st, saved)

    def shifts(self):
        st = self.st
        for i in range(st.group.size):
            for which in ("os", "pfs"):
                if which == "pfs" and not st.prog[i]:
                    continue   # PFS ends at OS: moved with it
                for step in self.steps:
                    yield "shift", (lambda i=i, which=which, step=step: self._shift(i, which, step))

    def _shift(self, i: int, which: str, step: int):
        st = self.st
        moved = shift_time(st, i, which, step, self.top)
        if moved is None:
            return None
        saved, part = moved
        undo = lambda: restore(st, saved)  # noqa: E731
        if not ties_ok(st):
            undo()
            return None
        return undo, part

    def crosses(self):
        st = self.st
        for g in (0, 1):
            matched = np.flatnonzero((st.group == g) & (st.matched == 1))
            unmatched = np.flatnonzero((st.group == g) & (st.matched == 0))
            for i in matched:
                for j in unmatched:
                    i, j = int(i), int(j)
                    if (st.prog[i], st.os_e[i], st.pfs_e[i]) == (st.prog[j], st.os_e[j], st.pfs_e[j]):
                        yield "cross", (lambda i=i, j=j: self._exchange(i, j, ("os_t", "pfs_t"), "time"))
                    if st.prog[i] and st.prog[j]:
                        yield "cross", (lambda i=i, j=j: self._exchange(i, j, ("pfs_t",), "pfs"))

    def _exchange(self, i: int, j: int, names: tuple[str, ...], part: str):
        st = self.st
        undo = self._times([(a, k) for a in names for k in (i, j)])
        for a in names:
            arr = getattr(st, a)
            arr[i], arr[j] = arr[j], arr[i]
        if np.any(st.prog[[i, j]].astype(bool) & (st.pfs_t[[i, j]] >= st.os_t[[i, j]])) or not ties_ok(st):
            undo()
            return None
        if all(getattr(st, a)[i] == getattr(st, a)[j] for a in names):
            undo()
            return None
        return undo, part

    def covariates(self):
        st = self.st
        for name in SWAPPABLE:
            c = st.col[name]
            part = "cycles" if name == "atebev_cycles" else "covariate"
            for s in range(4):
                pool = np.flatnonzero(st.subset == s)
                for a in range(pool.size):
                    for b in range(a + 1, pool.size):
                        i, j = int(pool[a]), int(pool[b])
                        if st.E[i, c] == st.E[j, c]:
                            continue
                        yield "covariate", (lambda i=i, j=j, c=c, part=part: self._swap(i, j, [c], part))

    def thirds(self):
        st = self.st
        c = st.col["third_line_regimen"]
        for g in (0, 1):
            pool = np.flatnonzero((st.group == g) & (st.prog == 1))
            for a in range(pool.size):
                for b in range(a + 1, pool.size):
                    i, j = int(pool[a]), int(pool[b])
                    if st.E[i, c] != st.E[j, c]:
                        yield "third", (lambda i=i, j=j, c=c: self._swap(i, j, [c], "third"))

    def _swap(self, i: int, j: int, cols: list[int], part: str):
        st, ev = self.st, self.ev
        block = st.E[np.ix_([i, j], cols)].copy()
        before = ev.X[[i, j]].copy(), ev.cycles[[i, j]].copy(), ev.third[[i, j]].copy()
        st.E[np.ix_([i, j], cols)] = block[::-1]
        ev.refresh_third() if part == "third" else ev.refresh_covariates()

        def undo():
            st.E[np.ix_([i, j], cols)] = block
            ev.refresh_third() if part == "third" else ev.refresh_covariates()
        after = ev.X[[i, j]], ev.cycles[[i, j]], ev.third[[i, j]]
        if all(np.array_equal(x, y, equal_nan=x.dtype.kind == "f") for x, y in zip(before, after)):
            undo()   # nothing the evaluator reads changed
            return None
        return undo, part


def _price(cur: float, key: tuple, val: float, new_key: tuple) -> float:
    """Loss paid per unit of the missed numbers' shortfall won (a number met counts as :data:`MET_GAIN` units):
    the order in which a sweep applies its improving moves, cheapest first; a move that lowers the loss comes
    before any that raises it."""
    gain = MET_GAIN * (key[0] - new_key[0]) + key[1] - new_key[1]
    return stable((val - cur) / gain) if gain > 0 else math.inf


def _try(apply, ev: FastEvaluator, values: dict, loss: Loss):
    """Apply a move and score it: ``(undo, values, loss, misses, (number missed, shortfall))``, or None when the
    move breaks a rule (nothing changed). The move stays applied: the caller keeps it or calls ``undo``."""
    applied = apply()
    if applied is None:
        return None
    undo, part = applied
    proposal = _values(ev, values, PARTS[part])
    val, mis = loss(proposal)
    return undo, proposal, val, mis, (len(mis), shortfall(loss, proposal, mis))


def repair_stage(st: SearchState, ev: FastEvaluator, loss: Loss, targets: pd.DataFrame, log,
                 steps: tuple[int, ...] = STEPS, max_sweeps: int = MAX_SWEEPS,
                 kinds: tuple[str, ...] = tuple(MOVE_PARTS)) -> tuple[list[str], list[str]]:
    """Exhaustive repair of the missed numbers (module docstring), in place.

    Parameters
    ----------
    st, ev : the search state and its evaluator (``ev.os_model``/``ev.pfs_model`` set by stage 2).
    loss : the precision stage's :class:`~hcc_utils.synthetic.loss.Loss` (identical tier, plausibility, conclusions).
    targets : the published numbers (for the univariable lists).
    log : ``log(message)`` for progress.
    steps, max_sweeps : the day shifts tried and the number of sweeps.
    kinds : the kinds of move allowed (of :data:`MOVE_PARTS`; each tried only while it can change a missed number).

    Returns
    -------
    (ids missed before, after): numbers, conclusions' p-values and curves' steps (the loss's misses).
    """
    moves = _Moves(st, ev, steps)
    values = _values(ev)
    cur, misses = loss(values)
    start = sorted(misses)
    key = (len(misses), shortfall(loss, values, misses))
    log(f"repair start: missed {start}, shortfall {key[1]:.3f}")
    for sweep in range(1, max_sweeps + 1):
        if not misses:
            break
        wanted = {method_of(m) for m in misses}
        tried = [k for k, parts in MOVE_PARTS.items() if k in kinds and wanted.intersection(parts)]
        generators = {"shift": moves.shifts, "cross": moves.crosses, "covariate": moves.covariates,
                      "third": moves.thirds}
        candidates = []
        for kind in tried:
            for order, (_, apply) in enumerate(generators[kind]()):
                tried_move = _try(apply, ev, values, loss)
                if tried_move is None:
                    continue
                undo, proposal, val, mis, new_key = tried_move
                if set(misses).issuperset(mis) and new_key < key:
                    candidates.append((_price(cur, key, val, new_key), tried.index(kind), order, apply))
                undo()
        # the evaluator's covariate arrays and survival memo follow the state again
        ev.refresh_covariates()
        values = _values(ev)
        candidates.sort(key=lambda c: c[:3])
        kept = 0
        for _, _, _, apply in candidates:
            tried_move = _try(apply, ev, values, loss)
            if tried_move is None:
                continue
            undo, proposal, val, mis, new_key = tried_move
            if set(misses).issuperset(mis) and new_key < key and screening_lists_hold(st, ev, targets):
                values, cur, misses, key = proposal, val, mis, new_key
                kept += 1
                if not misses:
                    break
            else:
                undo()
        ev.refresh_covariates()
        values = _values(ev)
        log(f"repair sweep {sweep}: {len(candidates)} improving moves, {kept} kept; missed {sorted(misses)}, "
            f"shortfall {key[1]:.3f}, loss {cur:.3f}")
        if kept == 0:
            break
    return start, sorted(misses)
