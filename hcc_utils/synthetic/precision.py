"""The calibration's last stage: every calibrated number at the article's printed precision.

Stages 1-3 (:mod:`hcc_utils.synthetic.stages`) bring each number within the scorecard's tolerance. This stage
scores all of them together with the *identical* tier of the scorecard (:class:`hcc_utils.synthetic.loss.Loss`
with ``identical`` > 0: once a number is within its tolerance, its distance from the printed value counts in units
of the printed precision) and makes small moves that change a number by less than its last printed digit:

* **nudge**: one patient's OS or PFS time moves by one to a few days (progression stays before death, and no
  group gets more than two events of an endpoint on one day: :func:`hcc_utils.synthetic.state.ties_ok`). Crossing a neighbouring time changes one
  risk set of the Kaplan-Meier, log-rank and Cox computations: the finest change the data allow;
* **exchange**: two patients of the same matched status and event type exchange their OS (or PFS) times, which
  keeps the follow-up quartiles and moves Cox estimates between covariate patterns;
* **records**: two patients of one subset (group x matched) exchange their whole outcome record or their whole
  vector of propensity-model covariates (the matching stays), or two patients of a group a single covariate
  outside the propensity model or their third-line regimens (progressed patients): the Kaplan-Meier numbers stay,
  the Cox estimates (and their standard errors: which covariate patterns carry the events) and third-line tests
  move.

Proposals are accepted by the Metropolis rule at a falling temperature and the best state is kept; a proposal
that misses a number met at the start of the stage (or breaks a plausibility rule kept so far) is refused. The
univariable screening lists (28 ms to compute, ten times the rest) are checked only for proposals that would be
accepted, and a proposal that changes a list is refused.

With a :class:`~hcc_utils.synthetic.targeted.Targeted` (the calibration's last stage) a share of the proposals are its
moves, its guide is added to the loss, a proposal may lose a met Cox or third-line number on the way (at its cost in
the loss; never a survival number or a plausibility rule), the best state is kept only among states that lost none,
and the stage stops once the targeted numbers are met.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from hcc_utils.reproduction.targets import article_terms
from hcc_utils.stats.cox import univariable_cox_arrays
from hcc_utils.synthetic.evaluator import FastEvaluator
from hcc_utils.synthetic.loss import Loss, list_penalty, stable
from hcc_utils.synthetic.plan import MAX_FOLLOWUP_DAYS
from hcc_utils.synthetic.stages import PS_COLS, exchange_times
from hcc_utils.synthetic.state import SearchState, ties_ok

#: Covariates outside the propensity model that the precision stage may exchange within a group (group totals, and
#: so every baseline number of the whole cohort, stay). The ATE+BEV cycles also enter the matched cohort's cycles
#: test and the subgroups of prior cycles (part "cycles" of :data:`PARTS`).
SWAPPABLE = ["ecog", "pivka_mau_ml", "afp_ng_ml", "macrovascular_invasion", "bclc_stage", "etiology", "atebev_cycles"]
ARRAYS = ("os_t", "os_e", "pfs_t", "pfs_e", "prog")
#: Shares of nudges and exchanges among the proposals (the rest are record moves, which alone change which
#: covariate patterns carry the events, hence the Cox standard errors).
MOVE_SHARES = (0.4, 0.2)


#: Parts of the evaluation each kind of move can change, as (method, endpoints) pairs of the evaluator: an OS time
#: also moves the third-line tests, a PFS time does not; every time and outcome record moves the tests within the
#: subgroups of prior cycles, and an exchange of ATE+BEV cycles ("cycles") those and the matched cycles test.
BOTH = ("os", "pfs")
PARTS = {"time": (("survival", BOTH), ("multivariable", BOTH), ("third_line", None), ("cycles_strata", BOTH)),
         "os": (("survival", ("os",)), ("multivariable", ("os",)), ("third_line", None), ("cycles_strata", ("os",))),
         "pfs": (("survival", ("pfs",)), ("multivariable", ("pfs",)), ("cycles_strata", ("pfs",))),
         "record": (("multivariable", BOTH), ("third_line", None), ("cycles_strata", BOTH)),
         "covariate": (("multivariable", BOTH),), "third": (("third_line", None),),
         "cycles": (("multivariable", BOTH), ("cycles_tests", BOTH))}


def _values(ev: FastEvaluator, previous: dict | None = None, parts=PARTS["time"]) -> dict:
    """The calibrated numbers, recomputing only ``parts`` of ``previous``."""
    if previous is None:
        return {**ev.survival(), **ev.multivariable(), **ev.third_line(), **ev.cycles_tests()}
    out = dict(previous)
    for method, endpoints in parts:
        out.update(getattr(ev, method)(endpoints) if endpoints else getattr(ev, method)())
    return out


def precision_stage(st: SearchState, ev: FastEvaluator, loss: Loss, targets: pd.DataFrame, rng: np.random.Generator,
                    iters: int, log, history: list, temp0: float = 0.3,
                    targeted: "Targeted | None" = None) -> tuple[float, list[str]]:
    """Simulated annealing of the nudge, exchange and record moves (module docstring) on ``loss``.

    Parameters
    ----------
    st, ev : the search state and its evaluator (``ev.os_model``/``ev.pfs_model`` set by stage 2).
    loss : a :class:`~hcc_utils.synthetic.loss.Loss` over every calibrated id with ``identical`` > 0.
    targets : the published numbers (for the univariable lists).
    rng : the stage's random generator.
    iters : proposals.
    log : ``log(message)`` for progress.
    history : progress records are appended here.
    temp0 : starting temperature (falls as the cube of the remaining fraction).
    targeted : a :class:`~hcc_utils.synthetic.targeted.Targeted`: that share of the proposals are its moves, and
        its guide is added to the loss (None: the stage's own moves only).

    Returns
    -------
    (loss, ids not identical) of the best state, which is left in ``st``.
    """
    tv = dict(zip(targets["id"], targets["value"]))
    want = {ep: article_terms(tv[f"cox.{ep}_univariable_significant"]) for ep in ("os", "pfs")}

    wanted = {ep: np.array([c in want[ep] for c in ev.candidates]) for ep in ("os", "pfs")}
    screen = {}

    def lists(full: bool = False) -> tuple[bool, float]:
        """Whether both screening lists are the published ones, and their margin penalty. Only candidates whose
        p-value is near 0.05 (within a factor of 10) can cross it with one small move: the others are refitted
        every 500 proposals (``full``)."""
        for ep, t, e in (("os", st.os_t, st.os_e), ("pfs", st.pfs_t, st.pfs_e)):
            if full or ep not in screen:
                cols = np.arange(len(ev.candidates))
                screen[ep] = [np.ones(cols.size), np.ones(cols.size)]
            else:
                p = screen[ep][1]
                cols = np.flatnonzero((p > 0.005) & (p < 0.5))
            if cols.size:
                b, _, p = univariable_cox_arrays(t.astype(float), e, ev.X[:, cols])
                screen[ep][0][cols], screen[ep][1][cols] = b, p
        same = all(np.array_equal(screen[ep][1] < 0.05, wanted[ep]) for ep in ("os", "pfs"))
        pen = stable(sum(list_penalty(screen[ep][1], want[ep], screen[ep][0], ev.candidates) for ep in ("os", "pfs")))
        return same, pen

    E, col = st.E, st.col
    n = st.group.size
    max_days = MAX_FOLLOWUP_DAYS - 1
    subsets = [np.flatnonzero(st.subset == s) for s in range(4)]
    groups = [np.flatnonzero(st.group == g) for g in (0, 1)]
    swap_pos = [col[c] for c in SWAPPABLE]
    ps_pos = [col[c] for c in PS_COLS]
    third_pos = col["third_line_regimen"]
    out_pos = [col[c] for c in ("best_response_recist", "best_response_mrecist", "third_line_regimen")]
    no_prog = st.prog == 0   # kept current: record moves exchange it with the outcome arrays

    def guide(vals: dict) -> float:
        return stable(targeted.guide(vals)) if targeted is not None else 0.0

    values = _values(ev)
    base, misses = loss(values)
    allowed = set(misses)
    same, list_pen = lists()
    cur = base + list_pen + guide(values)
    best = (cur, E.copy(), *(getattr(st, a).copy() for a in ARRAYS))
    log(f"precision stage start: loss {cur:.3f}, {len(loss.not_identical(_values(ev)))} not identical")

    def nudge() -> tuple[list, str] | None:
        i = int(rng.integers(n))
        step = int(rng.choice([-1, 1])) * int(rng.choice([1, 1, 2, 3, 5]))
        if rng.uniform() < 0.2:  # now and then a larger move: a few per cent of the time, or to a peer's time
            own = st.os_t[i] if no_prog[i] else st.pfs_t[i]
            peer = int(rng.choice(subsets[st.subset[i]]))
            target = own * np.exp(rng.normal(0, 0.05)) if rng.uniform() < 0.5 else \
                (st.os_t[peer] if no_prog[i] else st.pfs_t[peer]) + rng.integers(-2, 3)
            step = int(round(target - own)) or step
        if no_prog[i] or rng.uniform() < 0.5:
            new = int(st.os_t[i] + step)
            low = st.pfs_t[i] + 1 if st.prog[i] else 5
            if new < low or new > max_days:
                return None
            undo = [("os_t", i, st.os_t[i]), ("pfs_t", i, st.pfs_t[i])]
            st.os_t[i] = new
            if no_prog[i]:
                st.pfs_t[i] = new
                return undo, "time"
            return undo, "os"
        new = int(st.pfs_t[i] + step)
        if new < 5 or new >= st.os_t[i]:
            return None
        undo = [("pfs_t", i, st.pfs_t[i])]
        st.pfs_t[i] = new
        return undo, "pfs"

    def exchange() -> tuple[list, str] | None:
        i = int(rng.integers(n))
        which_os = no_prog[i] or rng.uniform() < 0.5
        same_kind = (st.matched == st.matched[i]) & (st.prog == st.prog[i]) & \
            ((st.os_e == st.os_e[i]) if which_os else (st.pfs_e == st.pfs_e[i]))
        j = int(rng.choice(np.flatnonzero(same_kind)))
        if j == i:
            return None
        undo = [(a, k, getattr(st, a)[k]) for a in ("os_t", "pfs_t") for k in (i, j)]
        exchange_times(st, i, j, which_os, bool(no_prog[i]))
        if np.any(st.prog[[i, j]].astype(bool) & (st.pfs_t[[i, j]] >= st.os_t[[i, j]])):
            _undo(st, undo)
            return None
        return undo, ("time" if no_prog[i] else "os") if which_os else "pfs"

    def records() -> tuple[list, list] | None:
        kind = rng.uniform()
        if kind < 0.35:
            pool = subsets[int(rng.integers(4))]
            cols, part = out_pos, "record"
        elif kind < 0.6:   # whole propensity-model vectors within a subset: the matching stays as it is
            pool = subsets[int(rng.integers(4))]
            cols, part = ps_pos, "covariate"
        elif kind < 0.85:
            pool = groups[int(rng.integers(2))]
            cols = [swap_pos[int(rng.integers(len(swap_pos)))]]
            part = "cycles" if cols[0] == col["atebev_cycles"] else "covariate"
        else:
            pool = groups[int(rng.integers(2))]
            pool = pool[st.prog[pool] == 1]
            cols, part = [third_pos], "third"
        if pool.size < 2:
            return None
        i, j = (int(x) for x in rng.choice(pool, 2, replace=False))
        block = E[np.ix_([i, j], cols)].copy()
        if (block[0] == block[1]).all():
            return None
        E[np.ix_([i, j], cols)] = block[::-1]
        undo = []
        if cols is out_pos:
            undo = [(a, k, getattr(st, a)[k]) for a in ARRAYS for k in (i, j)]
            for a in ARRAYS:
                arr = getattr(st, a)
                arr[i], arr[j] = arr[j], arr[i]
        no_prog[i], no_prog[j] = st.prog[i] == 0, st.prog[j] == 0
        return undo, [(i, j, cols, block)], part

    for it in range(1, iters + 1):
        temp = temp0 * (1 - it / iters) ** 3
        cells, part = [], "time"
        if targeted is not None and rng.uniform() < targeted.share:
            undo = targeted.propose(rng)   # times only: part "time"
        else:
            u = rng.uniform()
            if u < MOVE_SHARES[0] + MOVE_SHARES[1]:
                res = nudge() if u < MOVE_SHARES[0] else exchange()
                undo, part = res if res is not None else (None, "")
            else:
                res = records()
                undo, cells, part = res if res is not None else (None, [], "")
        if undo is None:
            continue
        if part in ("time", "os", "pfs") and not ties_ok(st):
            _undo(st, undo)
            continue
        if cells:
            ev.refresh_covariates()
        proposal = _values(ev, values, PARTS[part])
        val, mis = loss(proposal)
        val += guide(proposal)
        lost = set(mis) - allowed
        if lost and (targeted is None or not targeted.may_lose(lost)):
            val = np.inf   # a met number stays met, a plausible curve plausible
        # refuse early what the Metropolis rule would refuse even if the lists' penalty fell to zero
        threshold = -temp * np.log(max(rng.uniform(), 1e-300)) if temp > 0 else 0.0
        accepted = val - (cur - list_pen) <= threshold + list_pen
        if accepted:
            saved = {ep: [a.copy() for a in arrays] for ep, arrays in screen.items()}
            # a swapped covariate may move its own screening p-value anywhere: refit every candidate then
            same, pen = lists(full=part in ("covariate", "cycles"))
            accepted = same and (val + pen) - cur <= threshold
            if accepted and val + pen < best[0] and part not in ("covariate", "cycles"):
                same, pen = lists(full=True)   # a new best state is checked in full
                accepted = same and (val + pen) - cur <= threshold
            if not accepted:
                screen.update(saved)
        if accepted:
            cur, list_pen, misses, values = val + pen, pen, mis, proposal
            if cur < best[0] and allowed.issuperset(misses):
                best = (cur, E.copy(), *(getattr(st, a).copy() for a in ARRAYS))
                if targeted is not None and not targeted.aims.intersection(misses):
                    log(f"precision iteration {it}: {sorted(targeted.aims)} met")
                    break   # the aims are met with nothing else lost: the next stage restores the digits
        else:
            _undo(st, undo)
            for i, j, cols, block in cells:
                E[np.ix_([i, j], cols)] = block
                no_prog[i], no_prog[j] = st.prog[i] == 0, st.prog[j] == 0
            if cells:
                ev.refresh_covariates()
        if it % 500 == 0:
            same, list_pen = lists(full=True)
            if not same:   # a far candidate drifted across 0.05: back to the best state (checked in full)
                _restore(st, ev, best)
                no_prog[:] = st.prog == 0
                values = _values(ev)
                same, list_pen = lists(full=True)
            cur = loss(values)[0] + list_pen + guide(values)
        if it % 2000 == 0:
            log(f"precision iteration {it}: loss {cur:.3f} (best {best[0]:.3f})")
            history.append({"stage": 4, "iteration": it, "loss": best[0], "misses": len(misses)})
    _restore(st, ev, best)
    final = _values(ev)
    left = loss.not_identical(final)
    log(f"precision stage done: loss {best[0]:.3f}; not identical: {left}")
    return best[0], left


def _restore(st: SearchState, ev: FastEvaluator, best: tuple) -> None:
    """Put a saved (loss, E, arrays...) state back into the search state."""
    st.E[:] = best[1]
    for a, arr in zip(ARRAYS, best[2:]):
        getattr(st, a)[:] = arr
    ev.refresh_covariates()


def _undo(st: SearchState, undo: list) -> None:
    """Restore the recorded (array, position, value) cells, last change first."""
    for name, k, value in reversed(undo):
        getattr(st, name)[k] = value
