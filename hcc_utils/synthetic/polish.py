"""The calibration's last stage: an exhaustive search over small moves, for the printed digits.

The precision stage (:mod:`hcc_utils.synthetic.precision`) is a stochastic search: it ends with a few numbers that
are within their tolerance but do not print as the article prints them, often because one patient's time lies a day
or two on the wrong side of a risk set that decides the last digit. This stage tries *every* small move, in a fixed
order, and keeps one only when it is an improvement in the lexicographic order

1. no met number is lost, no held conclusion is lost, no plausibility rule is broken and both univariable screening
   lists stay the article's;
2. fewer numbers that do not print as published (the scorecard's identical tier,
   :meth:`hcc_utils.synthetic.loss.Loss.not_identical`);
3. at the same count, a lower loss (compared on :func:`hcc_utils.synthetic.loss.stable`'s grid).

The moves: each enrolled patient's OS time (with PFS, when the patient did not progress) and PFS time (a progressed
patient) shifted by each of :data:`STEPS` days, keeping progression before death and at most two events of an
endpoint a day in a group. A move is kept at once (first improvement) and the sweep goes on; sweeps repeat until
one keeps nothing, or :data:`MAX_SWEEPS`. There is no random number: the stage is a deterministic function of the
state it starts from.
"""
from __future__ import annotations

import pandas as pd

from hcc_utils.reproduction.targets import article_terms
from hcc_utils.stats.cox import univariable_cox_arrays
from hcc_utils.synthetic.evaluator import FastEvaluator
from hcc_utils.synthetic.loss import Loss
from hcc_utils.synthetic.plan import MAX_FOLLOWUP_DAYS
from hcc_utils.synthetic.precision import PARTS, _values
from hcc_utils.synthetic.state import SearchState, ties_ok

#: Day shifts tried for each time of each patient.
STEPS = (-5, -3, -2, -1, 1, 2, 3, 5)
#: At most this many sweeps over every patient.
MAX_SWEEPS = 4


def screening_lists_hold(st: SearchState, ev: FastEvaluator, targets: pd.DataFrame) -> bool:
    """Whether the univariable Cox screen of both endpoints selects exactly the article's predictors."""
    published = dict(zip(targets["id"], targets["value"]))
    for ep, t, e in (("os", st.os_t, st.os_e), ("pfs", st.pfs_t, st.pfs_e)):
        want = article_terms(published[f"cox.{ep}_univariable_significant"])
        _, _, p = univariable_cox_arrays(t.astype(float), e, ev.X)
        if {c for c, pv in zip(ev.candidates, p) if pv < 0.05} != set(want):
            return False
    return True


def shift_time(st: SearchState, i: int, which: str, step: int, top: int):
    """Move patient ``i``'s OS time (``which="os"``; the PFS time with it when the patient did not progress) or PFS
    time (``"pfs"``) by ``step`` days, in place: progression stays before death, a time stays at 5 days or more and
    OS at ``top`` or less. Returns the cells changed with their old values (for :func:`restore`) and the evaluator's
    part the move touches, or None (nothing changed) when the move breaks a rule."""
    progressed = bool(st.prog[i])
    if which == "os":
        new = int(st.os_t[i]) + step
        if new < (st.pfs_t[i] + 1 if progressed else 5) or new > top:
            return None
        saved = [("os_t", i, st.os_t[i]), ("pfs_t", i, st.pfs_t[i])]
        st.os_t[i] = new
        if not progressed:
            st.pfs_t[i] = new
        return saved, "os" if progressed else "time"
    new = int(st.pfs_t[i]) + step
    if new < 5 or new >= st.os_t[i]:
        return None
    saved = [("pfs_t", i, st.pfs_t[i])]
    st.pfs_t[i] = new
    return saved, "pfs"


def restore(st: SearchState, saved: list) -> None:
    """Put back the cells ``[(array name, position, old value)]`` a move changed, last first."""
    for name, i, old in reversed(saved):
        getattr(st, name)[i] = old


def polish_stage(st: SearchState, ev: FastEvaluator, loss: Loss, targets: pd.DataFrame, log,
                 steps: tuple[int, ...] = STEPS, max_sweeps: int = MAX_SWEEPS,
                 patients: range | None = None) -> tuple[int, int]:
    """Exhaustive first-improvement search over small time shifts (module docstring), in place.

    Parameters
    ----------
    st, ev : the search state and its evaluator (``ev.os_model``/``ev.pfs_model`` set by stage 2).
    loss : the precision stage's :class:`~hcc_utils.synthetic.loss.Loss` (identical tier, plausibility, conclusions).
    targets : the published numbers (for the univariable lists).
    log : ``log(message)`` for progress.
    steps, max_sweeps : the moves and the number of sweeps.
    patients : positions of the patients whose times may move (every enrolled patient by default).

    Returns
    -------
    (numbers not identical before, after).
    """
    values = _values(ev)
    cur, misses = loss(values)
    allowed = set(misses)
    left = len(loss.not_identical(values))
    start = left
    log(f"polish start: {left} not identical, loss {cur:.3f}")
    n = st.group.size
    top = MAX_FOLLOWUP_DAYS - 1
    for sweep in range(1, max_sweeps + 1):
        kept = 0
        for i in range(n) if patients is None else patients:
            for which in ("os", "pfs"):
                progressed = bool(st.prog[i])
                if which == "pfs" and not progressed:
                    continue   # PFS ends at OS: moved with it
                for step in steps:
                    moved = shift_time(st, i, which, step, top)
                    if moved is None:
                        continue
                    saved, part = moved
                    keep = False
                    if ties_ok(st):
                        proposal = _values(ev, values, PARTS[part])
                        val, mis = loss(proposal)
                        if allowed.issuperset(mis):
                            count = len(loss.not_identical(proposal))
                            if (count, val) < (left, cur) and screening_lists_hold(st, ev, targets):
                                keep = True
                    if keep:
                        values, cur, left, allowed = proposal, val, count, set(mis)
                        kept += 1
                    else:
                        restore(st, saved)
        log(f"polish sweep {sweep}: {kept} moves kept, {left} not identical, loss {cur:.3f}")
        if kept == 0:
            break
    # the evaluator's memo follows the arrays; a final evaluation leaves it current
    _values(ev)
    return start, left
