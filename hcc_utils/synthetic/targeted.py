"""Targeted moves for a number the precision stage leaves missed, and a smooth guide towards it; and the survival
stages' guide towards the OS follow-up median and log-rank p (:class:`FollowUpGuide`).

``survival.pfs_q1_sor`` (1.6 months) sits where several other numbers pin the survival times from both sides, so
that single small moves of the precision stage (:mod:`hcc_utils.synthetic.precision`) never reach it: the sorafenib
PFS curve must stay above 0.75 until day 46 and still reach the median (1.8 months, day 55) and the third quartile
(2.3). Events before day 46 have to move into the few days between the first quartile and the median (at most two
a day: the plausibility rule), and the follow-up's first quartile (1.4 months: 32 of 126 PFS times at most 45 days)
needs censored patients early in their place.

:class:`Targeted` proposes moves aimed at it (``pfs``: an early sorafenib PFS event into a free day of the window
between the quartile and the median; ``censor``: a censored patient's follow-up to before day 46; ``lenv``: a
lenvatinib progression to before day 46; one or two at once, an early PFS event out together with a time in 30% of
the time) and adds a smooth guide to the loss (:meth:`Targeted.guide`): the sorafenib PFS curve's shortfall below
0.75 at day 45 and the PFS times at most 45 days short of 32. Each is zero once its number is met.

The OS follow-up median and log-rank p were once aimed at here too (an OS time moved across 169 days; a sorafenib
death later, a lenvatinib death earlier); those moves never found a state for them that lost no other number (the 64
shortest OS times must lie within 170 days while the matched cohort keeps at most 18 of its times there, so 46 of the
54 unmatched patients must). The survival stages reach them now, with the cross moves of
:func:`hcc_utils.synthetic.stages.stage1` and :class:`FollowUpGuide`. With the survival times those stages left,
the PFS quartile was missed (1.41 months against 1.6), and 30,000 targeted proposals from that cohort did not bring
it within its tolerance. :meth:`Targeted.guide` added to stage 1b's loss (40,000 proposals) meets it together with
every other survival number, so the targeted stage now runs only for a cohort or configuration where that stage
leaves the quartile missed.
"""
from __future__ import annotations

import numpy as np

from hcc_utils.stats.survival import km_steps
from hcc_utils.synthetic.plan import DAYS_PER_MONTH
from hcc_utils.synthetic.state import SearchState

#: Day before which the sorafenib PFS curve must stay above 0.75 (1.5 months = 45.7 days: the tolerance's edge).
PFS_Q1_DAY = 45
#: Window that receives the moved PFS events: after PFS_Q1_DAY, before the median (1.8 months = day 55).
PFS_WINDOW = (46, 56)
#: Window that receives censored follow-up (after the events, before the quartile).
CENSOR_WINDOW = (36, 45)
#: Weight of the PFS guide (loss units per unit of survival below 0.75 at PFS_Q1_DAY).
PFS_WEIGHT = 60.0
#: Follow-up's first quartile of PFS (1.4 months): PFS_COUNT times at most PFS_Q1_DAY days (the 32nd of 126 is the
#: quartile); each one short costs PFS_COUNT_WEIGHT.
PFS_COUNT = 32
PFS_COUNT_WEIGHT = 0.5


class Targeted:
    """Targeted proposals and guides for the precision stage (module docstring).

    Parameters
    ----------
    st : the search state.
    share : share of the precision stage's proposals that are targeted.
    """

    def __init__(self, st: SearchState, share: float = 0.5, weights: dict | None = None,
                 moves: tuple[str, ...] = ("pfs", "censor", "lenv"),
                 aims: frozenset = frozenset({"survival.pfs_q1_sor"})):
        self.st = st
        self.aims = set(aims)
        self.share = share
        self.w = {"pfs": PFS_WEIGHT, "count": PFS_COUNT_WEIGHT, **(weights or {})}
        self.moves = [getattr(self, "_" + m) for m in moves]
        self.sor = np.flatnonzero(st.group == 0)

    def guide(self, values: dict | None = None) -> float:
        """Smooth distance from the PFS quartile and the follow-up count (0 when met); ``values`` unused (the
        precision stage's guide signature)."""
        st, w = self.st, self.w
        km = km_steps(st.pfs_t[self.sor].astype(float), st.pfs_e[self.sor])
        before = km.time <= PFS_Q1_DAY
        s45 = float(km.survival[before][-1]) if before.any() else 1.0
        pfs = w["pfs"] * max(0.0, 0.7501 - s45)
        early = w["count"] * max(0, PFS_COUNT - int((st.pfs_t <= PFS_Q1_DAY).sum()))
        return pfs + early

    @staticmethod
    def may_lose(lost: set) -> bool:
        """Whether a proposal that loses these met numbers may still be weighed (at their cost in the loss): numbers
        that later record moves can bring back (Cox models, third-line tests), never a survival number or a
        plausibility rule."""
        return not any(m.startswith(("survival.", "_")) for m in lost)

    def propose(self, rng: np.random.Generator) -> list | None:
        """One or two targeted moves in place; the undo list of (array, position, old value), or None."""
        undo: list = []
        u = rng.uniform()
        if u < 0.3:   # an event out of the early days and a time into them: the follow-up quartile stays
            moves = (self._pfs, (self._censor, self._lenv)[int(rng.integers(2))])
        else:
            moves = [self.moves[int(rng.integers(len(self.moves)))] for _ in range(1 + int(u < 0.6))]
        for move in moves:
            if not move(rng, undo):
                break
        return undo or None

    def _set(self, undo: list, name: str, i: int, value: int) -> None:
        arr = getattr(self.st, name)
        undo.append((name, i, arr[i]))
        arr[i] = value

    def _set_os(self, undo: list, i: int, value: int) -> None:
        """Move patient i's OS time; without progression PFS ends at OS, so it moves with it."""
        self._set(undo, "os_t", i, value)
        if not self.st.prog[i]:
            self._set(undo, "pfs_t", i, value)

    def _pfs(self, rng, undo) -> bool:
        """An early sorafenib PFS event (days 25-45) into the window after the quartile."""
        st = self.st
        pool = self.sor[(st.pfs_e[self.sor] == 1) & (st.pfs_t[self.sor] >= 25) & (st.pfs_t[self.sor] <= PFS_Q1_DAY)]
        if pool.size == 0:
            return False
        i = int(rng.choice(pool))
        days = np.arange(PFS_WINDOW[0], PFS_WINDOW[1] + 1)
        taken = np.bincount(st.pfs_t[self.sor][st.pfs_e[self.sor] == 1], minlength=days[-1] + 1)[days]
        free = days[taken < 2]   # the plausibility rule: two events a day in a group
        if free.size == 0:
            return False
        new = int(rng.choice(free))
        if st.prog[i]:
            if new >= st.os_t[i]:
                return False
            self._set(undo, "pfs_t", i, new)
        else:   # death without progression: PFS is OS
            self._set(undo, "pfs_t", i, new)
            self._set(undo, "os_t", i, new)
        return True

    def _censor(self, rng, undo) -> bool:
        """A censored patient without progression (alive) followed to a day before the PFS quartile."""
        st = self.st
        # unmatched, or matched and already before the matched follow-up's first quartile (1.9 months)
        pool = np.flatnonzero((st.os_e == 0) & (st.prog == 0) & (st.os_t > CENSOR_WINDOW[1])
                              & (st.os_t < 400) & ((st.matched == 0) | (st.os_t <= 56)))
        if pool.size == 0:
            return False
        i = int(rng.choice(pool))
        new = int(rng.integers(CENSOR_WINDOW[0], CENSOR_WINDOW[1] + 1))
        self._set_os(undo, i, new)   # no progression: PFS follows
        return True

    def _lenv(self, rng, undo) -> bool:
        """A lenvatinib progression moved before day 46 (matched: from before the curve's first quartile, day 90, so
        that it keeps it; unmatched: from before day 150): the follow-up's first quartile gains a time."""
        st = self.st
        pool = np.flatnonzero((st.group == 1) & (st.prog == 1) & (st.pfs_t > PFS_Q1_DAY)
                              & (st.pfs_t < np.where(st.matched == 1, 90, 150)))
        if pool.size == 0:
            return False
        i = int(rng.choice(pool))
        self._set(undo, "pfs_t", i, int(rng.integers(20, PFS_Q1_DAY + 1)))
        return True


class FollowUpGuide:
    """Smooth guides of the survival stages towards the OS follow-up median and the OS log-rank p.

    Why these two need a guide: the all-patient OS follow-up median (the mean of the two middle observed times,
    SAS PCTLDEF=5) moves only when the two middle times move, and the scorecard's distance is flat until then.
    When the matched cohort's published follow-up first quartile lies above the all-patient median (5.7 against 5.5
    months), at most a quarter of the matched times can lie below that median, so the times below it must be
    mostly those of unmatched patients: ``n // 2 + 1 - floor(n_matched / 4)`` of them (46 of the 54 unmatched here).
    The guide counts how far the state is from that, and how far its two middle times lie beyond the published
    median's upper printed edge (in months); for the log-rank p it adds the log-ratio of ``LOG_RANK_SHARE`` times
    the published p over the reproduced one, while below it. Each part is zero once reached.

    Parameters
    ----------
    st : the search state (its matched flags and OS times are read at each call).
    published : ``{id: published value}`` of the article's numbers.
    """

    #: Weights: per month of the middle times beyond the edge, per missing short time (whole cohort / unmatched),
    #: per unit of log-ratio of the log-rank p.
    MEDIAN_WEIGHT, COUNT_WEIGHT, UNMATCHED_WEIGHT, LOG_RANK_WEIGHT = 2.0, 0.3, 1.5, 3.0
    #: The log-rank p is pulled up to this share of the published one (inside the close tier's tolerance).
    LOG_RANK_SHARE = 0.7
    #: Days of slack for the counts (the median is the mean of two times: the later may lie a little beyond).
    COUNT_SLACK_DAYS = 2

    def __init__(self, st: SearchState, published: dict):
        self.st = st
        median = str(published["survival.os_followup_median"])
        unit = 10.0 ** -len(median.partition(".")[2])
        self.days_per_month = DAYS_PER_MONTH
        # the last whole day that prints as the published median (5.55 months = 168.9 days -> day 168)
        self.edge_day = int(np.floor((float(median) + unit / 2) * DAYS_PER_MONTH - 1e-9))
        n, n_matched = st.group.size, int(st.matched.sum())
        self.middle = (n - 1) // 2, n // 2
        self.needed = n // 2 + 1
        matched_q1 = float(published.get("survival.os_followup_q1_matched", "nan"))
        self.needed_unmatched = (self.needed - n_matched // 4) if matched_q1 > float(median) else 0
        self.log_rank_goal = self.LOG_RANK_SHARE * float(published["survival.os_logrank_p"])

    def __call__(self, values: dict) -> float:
        st = self.st
        t = np.sort(st.os_t)
        middle = (t[self.middle[0]] + t[self.middle[1]]) / 2
        cut = self.edge_day + self.COUNT_SLACK_DAYS
        short = st.os_t <= cut
        out = self.MEDIAN_WEIGHT * max(0.0, middle - self.edge_day) / self.days_per_month
        out += self.COUNT_WEIGHT * max(0, self.needed - int(short.sum()))
        out += self.UNMATCHED_WEIGHT * max(0, self.needed_unmatched - int((short & (st.matched == 0)).sum()))
        p = max(float(values["survival.os_logrank_p"]), 1e-300)
        return out + self.LOG_RANK_WEIGHT * max(0.0, np.log(self.log_rank_goal / p))
