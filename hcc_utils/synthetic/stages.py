"""The calibration's three simulated-annealing stages (see :mod:`hcc_utils.synthetic.calibrate` for the method)."""
from __future__ import annotations

import math
import sys
from typing import Callable

import numpy as np
import pandas as pd

from hcc_utils.reproduction.targets import article_terms
from hcc_utils.synthetic.evaluator import FastEvaluator
from hcc_utils.synthetic.loss import DIRECTIONS, Loss, list_penalty, stable
from hcc_utils.synthetic.plan import MAX_FOLLOWUP_DAYS
from hcc_utils.synthetic.state import SearchState, ties_ok

#: Columns of the raw cohort that make up an outcome record (they move together in stage 2).
OUTCOME_COLS = ["best_response_recist", "best_response_mrecist", "third_line_regimen"]
#: Raw columns of the propensity model's covariates (age, sex, size, number, metastases, Child-Pugh).
PS_COLS = ["age", "sex", "body_weight_kg", "tumor_size_cm", "tumor_number", "extrahepatic_metastasis",
           "lymph_node_metastasis", "child_pugh_score"]
#: Raw columns outside the propensity model that may be swapped alone between patients of one group.
SINGLE_COLS = ["ecog", "pivka_mau_ml", "afp_ng_ml", "macrovascular_invasion", "bclc_stage", "etiology", "atebev_cycles"]


def exchange_times(st, i: int, j: int, which_os: bool, without_progression: bool) -> None:
    """Swap the OS (or PFS) times of patients i and j; a patient without progression keeps PFS equal to OS."""
    if which_os:
        st.os_t[i], st.os_t[j] = st.os_t[j], st.os_t[i]
        if without_progression:
            st.pfs_t[i], st.pfs_t[j] = st.os_t[i], st.os_t[j]
    else:
        st.pfs_t[i], st.pfs_t[j] = st.pfs_t[j], st.pfs_t[i]

def log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(f"[calibrate] {msg}", file=sys.stderr, flush=True)


def _put(st: SearchState, names: tuple[str, ...], arrays) -> None:
    """Copy saved arrays back into the search state."""
    for name, arr in zip(names, arrays):
        getattr(st, name)[:] = arr


def _accept(delta: float, temp: float, rng: np.random.Generator) -> bool:
    """Metropolis rule: always accept improvements (and ties), worse moves with probability exp(-delta / temp)."""
    if delta <= 0:
        return True
    return temp > 0 and rng.uniform() < math.exp(-delta / temp)


def stage1(st: SearchState, ev: FastEvaluator, loss: Loss, rng: np.random.Generator, iters: int, quiet: bool,
            history: list, temp0: float = 1.0, ties: bool = False, cross: bool = False,
            guide: Callable[[dict], float] | None = None) -> float:
    """Simulated annealing on patients' survival times (see the module docstring).

    Proposals: (a) one patient's OS or PFS time multiplied by a random factor or set near another patient's time
    of the same subset; (b) an exchange of OS (or PFS) times between two patients of the same matched status and
    event type, which leaves the follow-up quantiles unchanged; (c) two moves of type (a) at once, which lets the
    search trade an early event for an early censoring.

    With ``cross`` two more: (d) two patients of one group, one matched and one not, with the same progression
    status and events exchange their OS and PFS times: every number of the whole cohort stays and only the
    matched cohort's change, so the matched cohort can keep its follow-up while the whole cohort's shortens; (e) a
    censored patient's follow-up set anywhere in the study's range (the tails of the curves, which move the log-rank
    statistic and not the quartiles); (f) two patients of the same matched status and progression status, one of
    each group, one died and one censored, exchange their OS event flags (and PFS, without progression): the whole
    and the matched cohort keep their event counts, the groups' shares of them move. ``guide(values)`` is added to
    the loss (a smooth pull towards numbers that the loss's distance alone does not slope towards).

    Event times stay distinct unless ``ties``: then a group may have up to two events of an endpoint on one day
    (:func:`hcc_utils.synthetic.state.ties_ok`, the plausibility rule).
    """
    n = st.group.size
    max_days = MAX_FOLLOWUP_DAYS
    outcome = ("os_t", "os_e", "pfs_t", "pfs_e")

    def scored() -> tuple[float, list]:
        values = ev.survival()
        val, mis = loss(values)
        return stable(val + (guide(values) if guide is not None else 0.0)), mis

    def snapshot() -> tuple:
        return tuple(getattr(st, a).copy() for a in outcome)

    cur, misses = scored()
    best = (cur, misses, snapshot())
    log(f"stage 1 start: loss {cur:.3f}, {len(misses)} missed", quiet)
    no_prog = st.prog == 0
    subsets = [np.flatnonzero(st.subset == s) for s in range(4)]
    groups = [np.flatnonzero(st.group == g) for g in (0, 1)]

    def across(i: int) -> bool:
        """(d): patient i's times for those of a patient of the other matched status (same group, progression and
        events: every count stays)."""
        pool = groups[st.group[i]]
        pool = pool[(st.matched[pool] != st.matched[i]) & (st.prog[pool] == st.prog[i])
                    & (st.os_e[pool] == st.os_e[i]) & (st.pfs_e[pool] == st.pfs_e[i])]
        if pool.size == 0:
            return False
        j = int(rng.choice(pool))
        for a in ("os_t", "pfs_t"):
            arr = getattr(st, a)
            arr[i], arr[j] = arr[j], arr[i]
        return True

    def deaths(i: int) -> bool:
        """(f): patient i's OS event flag for the other one of a patient of the other group (module docstring)."""
        pool = np.flatnonzero((st.group != st.group[i]) & (st.matched == st.matched[i]) & (st.prog == st.prog[i])
                              & (st.os_e != st.os_e[i]))
        if pool.size == 0:
            return False
        j = int(rng.choice(pool))
        st.os_e[i], st.os_e[j] = st.os_e[j], st.os_e[i]
        if no_prog[i]:
            st.pfs_e[i], st.pfs_e[j] = st.pfs_e[j], st.pfs_e[i]
        # distinct event times unless ties are allowed (the caller restores the flags on False)
        return ties or all(np.unique(t[e == 1]).size == int(e.sum())
                           for t, e in ((st.os_t, st.os_e), (st.pfs_t, st.pfs_e)))

    def anywhere(i: int) -> bool:
        """(e): a censored patient's follow-up anywhere in the study's range (after a progression)."""
        if st.os_e[i]:
            return False
        lo = st.pfs_t[i] + 1 if st.prog[i] else 5
        st.os_t[i] = int(rng.integers(lo, max_days))
        if no_prog[i]:
            st.pfs_t[i] = st.os_t[i]
        return True

    def single(i: int) -> bool:
        """Move one time of patient i in place; False when the proposal is invalid (nothing changed)."""
        which_os = no_prog[i] or rng.uniform() < 0.5
        scale = (0.02, 0.08, 0.3)[int(rng.integers(3))]
        jump = rng.uniform() < 0.25
        peer = int(rng.choice(subsets[st.subset[i]]))
        if which_os:
            new = int(round(st.os_t[i] * np.exp(rng.normal(0, scale)))) + int(rng.integers(-2, 3))
            if jump:
                new = int(st.os_t[peer] + rng.integers(-3, 4))
            lo = st.pfs_t[i] + 1 if st.prog[i] else 5
            new = int(min(max(new, lo), max_days - 1))
            if new == st.os_t[i] or (not ties and st.os_e[i] and np.any((st.os_t == new) & (st.os_e == 1))):
                return False
            if not ties and no_prog[i] and st.pfs_e[i] and np.any((st.pfs_t == new) & (st.pfs_e == 1)):
                return False
            st.os_t[i] = new
            if no_prog[i]:
                st.pfs_t[i] = new
        else:
            new = int(round(st.pfs_t[i] * np.exp(rng.normal(0, scale)))) + int(rng.integers(-2, 3))
            if jump:
                new = int(st.pfs_t[peer] + rng.integers(-3, 4))
            new = int(min(max(new, 5), st.os_t[i] - 1))
            if new == st.pfs_t[i] or (not ties and np.any((st.pfs_t == new) & (st.pfs_e == 1))):
                return False
            st.pfs_t[i] = new
        return True

    def exchange(i: int) -> int | None:
        which_os = no_prog[i] or rng.uniform() < 0.5
        same = np.flatnonzero((st.matched == st.matched[i]) & (st.prog == st.prog[i])
                              & ((st.os_e == st.os_e[i]) if which_os else (st.pfs_e == st.pfs_e[i])))
        j = int(rng.choice(same))
        if j == i:
            return None
        exchange_times(st, i, j, which_os, bool(no_prog[i]))
        return j

    for it in range(1, iters + 1):
        temp = temp0 * (1 - it / iters) ** 3
        i = int(rng.integers(n))
        kind = rng.uniform()
        saved = snapshot()
        if cross and kind < 0.15:
            ok = across(i)
        elif cross and kind < 0.22:
            ok = anywhere(i)
        elif cross and kind < 0.26:
            ok = deaths(i)
        elif kind < 0.35:
            ok = exchange(i) is not None
        elif kind < 0.55:
            j = int(rng.integers(n))
            ok = single(i) | single(j)
        else:
            ok = single(i)
        if ok and np.any(st.prog.astype(bool) & (st.pfs_t >= st.os_t)):
            ok = False
        if ok and ties and not ties_ok(st):
            ok = False
        if not ok:
            _put(st, outcome, saved)
            continue
        val, mis = scored()
        if _accept(val - cur, temp, rng):
            cur, misses = val, mis
            if cur < best[0]:
                best = (cur, misses, snapshot())
        else:
            _put(st, outcome, saved)
        if it % 5000 == 0:
            log(f"stage 1 iteration {it}: loss {cur:.3f} (best {best[0]:.3f}), {len(best[1])} missed {best[1][:5]}", quiet)
            history.append({"stage": 1, "iteration": it, "loss": best[0], "misses": len(best[1])})
        if best[0] < 1e-9:
            break
    _put(st, outcome, best[2])
    log(f"stage 1 done: loss {best[0]:.3f}, missed {best[1]}", quiet)
    return best[0]


def stage2(st: SearchState, ev: FastEvaluator, loss: Loss, targets: pd.DataFrame, rng: np.random.Generator, iters: int,
            quiet: bool, history: list, temp0: float = 2.0) -> float:
    """Simulated annealing over within-subset permutations (see the module docstring)."""
    tv = dict(zip(targets["id"], targets["value"]))
    want = {ep: article_terms(tv[f"cox.{ep}_univariable_significant"]) for ep in ("os", "pfs")}
    ev.os_model = [c for c in ev.candidates if c in want["os"]]
    ev.pfs_model = [c for c in ev.candidates if c in want["pfs"]]

    def total():
        vals = ev.associations()
        v, mis = loss(vals)
        v += (list_penalty(vals["_uni_p.os"], want["os"], vals["_uni_b.os"], ev.candidates)
              + list_penalty(vals["_uni_p.pfs"], want["pfs"], vals["_uni_b.pfs"], ev.candidates))
        for ep in ("os", "pfs"):
            if set(filter(None, vals[f"cox.{ep}_univariable_significant"].split(";"))) != want[ep]:
                mis.append(f"cox.{ep}_univariable_significant")
        return stable(v), mis

    E, col = st.E, st.col
    cur, misses = total()
    log(f"stage 2 start: loss {cur:.3f}, {len(misses)} missed", quiet)
    arrays = ("os_t", "os_e", "pfs_t", "pfs_e", "prog")

    def snapshot():
        return (E.copy(), *(getattr(st, a).copy() for a in arrays))

    best = (cur, snapshot(), misses)
    subsets = [np.flatnonzero(st.subset == s) for s in range(4)]
    groups = [np.flatnonzero(st.group == g) for g in (0, 1)]
    ps_pos = [col[c] for c in PS_COLS]
    out_pos = [col[c] for c in OUTCOME_COLS]
    single_pos = [col[c] for c in SINGLE_COLS]
    third_pos = [col["third_line_regimen"]]
    resp_pos = [col["best_response_recist"], col["best_response_mrecist"]]
    for it in range(1, iters + 1):
        temp = temp0 * (1 - it / iters) ** 3
        kind = int(rng.choice(5, p=[0.25, 0.2, 0.25, 0.15, 0.15]))
        # single covariates and third-line regimens may move between matched and unmatched patients of a group
        # (group totals are kept; the matched cohort has no published third-line counts)
        pool = groups[int(rng.integers(2))] if kind in (2, 3) else subsets[int(rng.integers(4))]
        if pool.size < 2:
            continue
        i, j = (int(x) for x in rng.choice(pool, 2, replace=False))
        if kind == 0:
            cols = out_pos
        elif kind == 1:
            cols = ps_pos
        elif kind == 2:
            cols = [single_pos[int(rng.integers(len(single_pos)))]]
        elif kind == 3:
            if not (st.prog[i] and st.prog[j]):
                continue
            cols = third_pos
        else:  # progression time and response of two progressed patients (decouples PFS from OS)
            if not (st.prog[i] and st.prog[j]) or st.pfs_t[i] >= st.os_t[j] or st.pfs_t[j] >= st.os_t[i]:
                continue
            cols = resp_pos
        block = E[np.ix_([i, j], cols)].copy()
        if kind in (1, 2, 3) and all(block[0, k] == block[1, k] for k in range(len(cols))):
            continue
        def swap_linked_values():  # its own inverse: applied to try the move and again to undo it
            if kind == 0:
                for a in arrays:
                    arr = getattr(st, a)
                    arr[i], arr[j] = arr[j], arr[i]
            elif kind == 4:
                st.pfs_t[i], st.pfs_t[j] = st.pfs_t[j], st.pfs_t[i]

        E[np.ix_([i, j], cols)] = block[::-1]
        swap_linked_values()
        refresh = ev.refresh_covariates if kind in (1, 2) else ev.refresh_third
        refresh()
        val, mis = total()
        if _accept(val - cur, temp, rng):
            cur, misses = val, mis
            if cur < best[0]:
                best = (cur, snapshot(), misses)
        else:
            E[np.ix_([i, j], cols)] = block
            swap_linked_values()
            refresh()
        if it % 1000 == 0:
            log(f"stage 2 iteration {it}: loss {cur:.3f} (best {best[0]:.3f}), {len(best[2])} missed {best[2][:5]}", quiet)
            history.append({"stage": 2, "iteration": it, "loss": best[0], "misses": len(best[2])})
        if not best[2] and best[0] < 0.3:
            break
    snap = best[1]
    E[:] = snap[0]
    for a, arr in zip(arrays, snap[1:]):
        getattr(st, a)[:] = arr
    ev.refresh_covariates()
    log(f"stage 2 done: loss {best[0]:.3f}, missed {best[2]}", quiet)
    return best[0]


def stage3(st: SearchState, ev: FastEvaluator, loss: Loss, rng: np.random.Generator, iters: int, quiet: bool,
            history: list, temp0: float = 1.0, restarts: int = 4) -> float:
    """Simulated annealing over third-line regimens alone (swaps between two progressed patients of one group).

    The third-line regimen enters no number but the third-line ones (and the within-group swap keeps every
    third-line count), so this last stage cannot undo stages 1 and 2; its evaluation is only the log-rank tests.
    """
    E, pos = st.E, st.col["third_line_regimen"]
    pub = {tid: float(v) for tid, rule, v in loss.items if rule == "p" and not v.startswith("<")}

    def total(values: dict) -> tuple[float, list[str]]:
        # the loss plus, for a missed p-value, its log-ratio to the published one: unlike the soft-capped distance
        # it still slopes where the value is far off (a p-value ten times too large)
        val, mis = loss(values)
        val += sum(3.0 * abs(np.log(max(values[tid], 1e-300) / pub[tid])) for tid in mis if tid in pub)
        return stable(val), mis

    # A stated direction that is missed: start that group from the extreme arrangement (third-line therapy for the
    # progressed patients who live longest, or shortest; their regimens in random order) and let the search
    # weaken it to the published p-value - the search alone does not get far enough from "no effect". Restarts
    # (new random order of the regimens, half the temperature) while a target is still missed.
    start = E[:, pos].copy()
    _, missed0 = loss(ev.third_line())
    pools = [np.flatnonzero((st.group == g) & (st.prog == 1)) for g in (0, 1)]
    best = None
    for attempt in range(restarts):
        E[:, pos] = start
        for code, gv in (("len", 1), ("sor", 0)):
            tid = f"thirdline.os_received_{code}_p"
            if tid in DIRECTIONS and (tid in missed0 or attempt > 0):
                idx = np.flatnonzero((st.group == gv) & (st.prog == 1))
                regimens = E[idx, pos].copy()
                given = regimens[regimens != "none"]
                order = idx[np.argsort(DIRECTIONS[tid] * st.os_t[idx], kind="stable")]
                E[idx, pos] = "none"
                E[order[:given.size], pos] = given[rng.permutation(given.size)]
        ev.refresh_third()
        cur, misses = total(ev.third_line())
        if best is None or cur < best[0]:
            best = (cur, E[:, pos].copy(), misses)
        temp_a = temp0 / (1 + attempt % 2)
        log(f"stage 3 attempt {attempt + 1} start: loss {cur:.3f}, {len(misses)} missed", quiet)
        for it in range(1, iters + 1):
            if not best[2] and best[0] < 0.3:
                break
            temp = temp_a * (1 - it / iters) ** 3
            pool = pools[int(rng.integers(2))]
            i, j = (int(x) for x in rng.choice(pool, 2, replace=False))
            if E[i, pos] == E[j, pos]:
                continue
            E[i, pos], E[j, pos] = E[j, pos], E[i, pos]
            ev.refresh_third()
            val, mis = total(ev.third_line())
            if _accept(val - cur, temp, rng):
                cur, misses = val, mis
                if cur < best[0]:
                    best = (cur, E[:, pos].copy(), misses)
            else:
                E[i, pos], E[j, pos] = E[j, pos], E[i, pos]
                ev.refresh_third()
            if it % 5000 == 0:
                log(f"stage 3 iteration {it}: loss {cur:.3f} (best {best[0]:.3f}), {len(best[2])} missed {best[2][:5]}", quiet)
                history.append({"stage": 3, "iteration": it, "loss": best[0], "misses": len(best[2])})
        if not best[2]:
            break
    E[:, pos] = best[1]
    ev.refresh_third()
    log(f"stage 3 done: loss {best[0]:.3f}, missed {best[2]}", quiet)
    return best[0]
