"""The Cox partial-likelihood engine: risk sets, Efron/Breslow log-likelihood, score and information, and R's
``coxfit6`` Newton-Raphson, for one model or a batch of models at once.

Private to :mod:`hcc_utils.stats.cox`, whose public functions (``cox_model`` and the array entry points
``cox_arrays`` / ``univariable_cox_arrays``) all fit through `_newton` on `_RiskSets`; `survival_order` (the times
coded once for many fits on one frame) is re-exported there.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from hcc_utils.stats.checks import distinct_time_codes


_EVENTS = np.array([0.0, 1.0])                          # the event indicator's two values, as floats

#: Arrays of up to this many elements are summed per time in one bincount of an interleaved index; larger ones a
#: column at a time (same sums to the bit, without n x p work arrays).
_SMALL = 2**18


class _RiskSets:
    """Data prepared once for a batch of B Cox models on the same (time, event): centred covariates,
    distinct times, tied-death bookkeeping.

    `x` is n x p (one model) or n x B x p (B models of p covariates each; e.g. B univariable models,
    p = 1). Every model is evaluated by the same vectorised partial likelihood. Rows are held in a canonical
    order per model (``order``, B x n); ``d`` is n x B, the covariates ``x`` n x B x p.

    `weights` (optional, n, > 0) are case weights as R ``coxph(weights = )``: each row counts w times in the
    risk sets and the log-likelihood; tied deaths under Efron share their mean weight (R ``coxfit6``). Without
    weights every computation is the unweighted one (no multiplication by 1 anywhere).
    """

    def __init__(self, time: np.ndarray, event: np.ndarray, x: np.ndarray, ties: str,
                 weights: np.ndarray | None = None, time_codes: tuple[np.ndarray, int] | None = None):
        x = np.asarray(x, dtype=float)
        if x.ndim == 2:
            x = x[:, None, :]
        time, event = np.asarray(time, dtype=float), np.asarray(event, dtype=float)
        n, self.n_models, self.p = x.shape
        # Each model's rows in one canonical order (time, then event, then its covariates): every sum then
        # runs in the same order whatever the input order, so permuted data give bit-identical fits.
        self.order = _canonical_order(time, event, x, time_codes)       # B x n
        if self.n_models == 1:                           # one model: a plain row gather (same values, faster)
            x = x[self.order[0]]
        else:
            x = np.take_along_axis(x.transpose(1, 0, 2), self.order[:, :, None], axis=1).transpose(1, 0, 2)
        x -= x.mean(axis=0)                              # centring (in place: x is our gathered copy), as R
        self.x = x
        self.d = event[self.order].T                     # n x B (same times for every model)
        ts = time[self.order[0]]                         # sorted: distinct times without another sort
        new_time = np.concatenate(([n > 0], ts[1:] != ts[:-1]))
        self.inv = np.cumsum(new_time) - 1
        self.nt = int(new_time.sum())
        dcount = np.bincount(self.inv, weights=self.d[:, 0], minlength=self.nt).astype(np.int64)
        self.ndeath = int(dcount.sum())
        # one "pair" per death: its time index and Efron's fraction k/d (k = 0..d-1)
        self.pt = np.repeat(np.arange(self.nt), dcount)
        k = np.arange(self.ndeath) - np.repeat(np.cumsum(dcount) - dcount, dcount)
        self.frac = k / dcount[self.pt] if ties == "efron" else np.zeros(self.ndeath)
        self.efron = bool(self.frac.any())               # tied deaths under Efron: corrections needed
        self.dcount = dcount
        self.w = None
        self._sum_dx = None                              # unweighted: computed at the first evaluation (`sum_dx`)
        if weights is not None:
            self.w = np.asarray(weights, dtype=float)[self.order].T      # n x B
            wd = self.w * self.d
            # Efron/Breslow: every death at a time carries the mean weight of that time's deaths (ndeath x B)
            death_w = np.stack([np.bincount(self.inv, weights=wd[:, b], minlength=self.nt)
                                for b in range(self.n_models)], axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                self.mw = (death_w / dcount[:, None])[self.pt]
            self.sum_wd = wd.sum(axis=0)                                 # B
            self._sum_dx = (wd[:, :, None] * self.x).sum(axis=0)
        self._index_cache: dict = {}

    def _time_event_cell(self) -> np.ndarray | None:
        """Per row of a single model with 0/1 events, its (time, event) cell ``2 * time index + event`` (computed
        once), for values that depend on the row only through its time and event; None otherwise."""
        if not hasattr(self, "_cell"):
            d = self.d[:, 0]
            self._cell = (self.inv * 2 + d.astype(np.intp) if self.n_models == 1 and ((d == 0) | (d == 1)).all()
                          else None)
        return self._cell

    @property
    def sum_dx(self) -> np.ndarray:
        """Sums of d x per model (B x p). Unweighted, computed on first use: by then the caller has dropped its
        unsorted copy of the covariates, so their n x B x p product never coexists with both copies."""
        if self._sum_dx is None:
            self._sum_dx = (self.d[:, :, None] * self.x).sum(axis=0)
        return self._sum_dx

    def _sum_by(self, index: np.ndarray, size: int, w: np.ndarray) -> np.ndarray:
        """Sums of w (rows x ...) over rows sharing an index value: size x ... (one bincount of an interleaved index
        for small arrays, else one per column without an n x m index: each bin sums its rows in order either way)."""
        rest = w.shape[1:]
        m = int(np.prod(rest))
        if m == 1:
            return np.bincount(index, weights=w.ravel(), minlength=size).reshape((size,) + rest)
        if w.size <= _SMALL:                             # small batches: one bincount of an interleaved index
            key = (id(index), m)
            if key not in self._index_cache:
                self._index_cache[key] = (index[:, None] * m + np.arange(m)).ravel()
            flat = np.bincount(self._index_cache[key], weights=w.reshape(-1), minlength=size * m)
            return flat.reshape((size,) + rest)
        flat = w.reshape(len(w), m)
        out = np.empty((size, m))
        for j in range(m):
            out[:, j] = np.bincount(index, weights=flat[:, j], minlength=size)
        return out.reshape((size,) + rest)

    def _by_time(self, w: np.ndarray) -> np.ndarray:
        """Per-distinct-time sums of w (rows x ...)."""
        return self._sum_by(self.inv, self.nt, w)

    def evaluate_batch(self, beta: np.ndarray, models: np.ndarray | None = None, info: bool = True):
        """Log partial likelihood (B), score (B x p), information (B x p x p) and, for residuals,
        (r, denom, xbar) of the models ``models`` (all by default) at their coefficients beta (B x p)."""
        x = self.x if models is None else self.x[:, models]
        d = self.d if models is None else self.d[:, models]
        sum_dx = self.sum_dx if models is None else self.sum_dx[models]
        pt, frac = self.pt, self.frac
        eta = np.einsum("nbp,bp->nb", x, beta)
        shift = eta.max(axis=0)
        r = np.exp(eta - shift)                          # risk scores scaled by exp(-shift)
        if self.w is not None:
            return self._evaluate_weighted(x, d, sum_dx, eta, shift, r, models, info)
        s1, s1d = self._by_time_products(r, x, d)                # per-time sums of r x (all rows, deaths)
        s0 = np.cumsum(self._by_time(r)[::-1], axis=0)[::-1]      # risk-set sums (time >= t)
        s1 = np.cumsum(s1[::-1], axis=0)[::-1]
        denom, num = s0[pt], s1[pt]                                # one per death
        if self.efron:                                             # Efron: remove k/d of the tied deaths
            s0d = self._by_time(r * d)                             # sums over the deaths at t
            denom = denom - frac[:, None] * s0d[pt]
            if num.size <= _SMALL:
                num -= frac[:, None, None] * s1d[pt]
            else:                                                  # a covariate at a time: no ndeath x B x p temporary
                for b in range(num.shape[1]):
                    for j in range(num.shape[2]):
                        num[:, b, j] -= frac * s1d[pt, b, j]
        xbar = num
        xbar /= denom[:, :, None]
        loglik = (d * eta).sum(axis=0) - np.log(denom).sum(axis=0) - shift * self.ndeath
        score = sum_dx - xbar.sum(axis=0)
        if not info:
            return loglik, score, None, None
        hazard = np.cumsum(self._sum_by(pt, self.nt, 1 / denom), axis=0)            # per time
        cell = self._time_event_cell() if self.efron and models is None else None
        if cell is not None:          # one model: each (time, event) cell's value, gathered once per row; the same
            tied = self._sum_by(pt, self.nt, frac[:, None] / denom)                  # operations as row by row
            cumc = (hazard[:, None, :] - _EVENTS[None, :, None] * tied[:, None, :]).reshape(-1)[cell][:, None]
        else:
            cumc = hazard[self.inv]
            if self.efron:
                cumc = cumc - d * self._sum_by(pt, self.nt, frac[:, None] / denom)[self.inv]
        w = r * cumc
        if x.size <= _SMALL:
            imat = np.einsum("nbp,nbq->bpq", x * w[:, :, None], x)
        else:                                                      # a row of the information at a time: the same
            imat = np.empty((x.shape[1], self.p, self.p))          # products and sums, no n x B x p temporary
            for j in range(self.p):
                imat[:, j] = np.einsum("nb,nbq->bq", x[:, :, j] * w, x)
        imat -= np.einsum("kbp,kbq->bpq", xbar, xbar)
        return loglik, score, imat, (r, denom, xbar)

    def _by_time_products(self, r: np.ndarray, x: np.ndarray, d: np.ndarray):
        """Per-distinct-time sums of r x over all rows and (Efron) over the deaths, (nt x B x p) each, a covariate
        at a time: the products are the elements of ``r[:, :, None] * x`` (and times d), summed in row order as
        one bincount of the n x B x p products would, without holding those n x B x p arrays."""
        n, nb, p = x.shape
        if x.size <= _SMALL:                             # small: the n x B x p products at once (fewer calls)
            rx = r[:, :, None] * x
            return self._by_time(rx), (self._by_time(rx * d[:, :, None]) if self.efron else None)
        s1 = np.empty((self.nt, nb, p))
        s1d = np.empty((self.nt, nb, p)) if self.efron else None
        for b in range(nb):
            for j in range(p):
                rx = r[:, b] * x[:, b, j]
                s1[:, b, j] = np.bincount(self.inv, weights=rx, minlength=self.nt)
                if s1d is not None:
                    rx *= d[:, b]
                    s1d[:, b, j] = np.bincount(self.inv, weights=rx, minlength=self.nt)
        return s1, s1d

    def _evaluate_weighted(self, x, d, sum_dx, eta, shift, r, models, info: bool):
        """`evaluate_batch` with case weights: risk sets of w exp(eta), each death term weighted by its time's
        mean death weight ``mw`` (R ``coxfit6``); ``r`` returned is the unweighted risk score."""
        w = self.w if models is None else self.w[:, models]
        mw = self.mw if models is None else self.mw[:, models]
        pt, frac = self.pt, self.frac
        rw = r * w
        rx = rw[:, :, None] * x
        s0 = np.cumsum(self._by_time(rw)[::-1], axis=0)[::-1]
        s1 = np.cumsum(self._by_time(rx)[::-1], axis=0)[::-1]
        denom, num = s0[pt], s1[pt]
        if self.efron:
            s0d = self._by_time(rw * d)
            s1d = self._by_time(rx * d[:, :, None])
            denom = denom - frac[:, None] * s0d[pt]
            num = num - frac[:, None, None] * s1d[pt]
        xbar = num / denom[:, :, None]
        sum_wd = self.sum_wd if models is None else self.sum_wd[models]
        loglik = (w * d * eta).sum(axis=0) - (mw * np.log(denom)).sum(axis=0) - shift * sum_wd
        score = sum_dx - (mw[:, :, None] * xbar).sum(axis=0)
        if not info:
            return loglik, score, None, None
        cumc = np.cumsum(self._sum_by(pt, self.nt, mw / denom), axis=0)[self.inv]
        if self.efron:
            cumc = cumc - d * self._sum_by(pt, self.nt, frac[:, None] * mw / denom)[self.inv]
        wr = rw * cumc
        imat = (np.einsum("nbp,nbq->bpq", x * wr[:, :, None], x)
                - np.einsum("kbp,kbq->bpq", xbar * mw[:, :, None], xbar))
        return loglik, score, imat, (r, denom, xbar)

    def evaluate(self, beta: np.ndarray, info: bool = True):
        """`evaluate_batch` for a single model: log partial likelihood, score, information at beta (p)."""
        loglik, score, imat, extra = self.evaluate_batch(np.asarray(beta, dtype=float)[None, :], info=info)
        if not info:
            return float(loglik[0]), score[0], None, None
        r, denom, xbar = extra
        return float(loglik[0]), score[0], imat[0], (r[:, 0], denom[:, 0], xbar[:, 0])

    def score_residuals(self, beta: np.ndarray) -> np.ndarray:
        """Score residuals of a single model (R residuals.coxph type "score", unweighted: with case weights the
        risk sets and hazard increments are weighted, the residuals not multiplied by w), n x p (input row
        order)."""
        _, _, _, (r, denom, xbar) = self.evaluate(beta)
        x, d, pt, frac, inv = self.x[:, 0], self.d[:, 0], self.pt, self.frac, self.inv
        p = x.shape[1]

        def per_time(w):
            return self._sum_by(pt, self.nt, w[:, None] * xbar).reshape(self.nt, p)

        haz = 1 / denom if self.w is None else self.mw[:, 0] / denom
        cumhaz = np.cumsum(np.bincount(pt, weights=haz, minlength=self.nt))
        xhaz = np.cumsum(per_time(haz), axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_xbar = per_time(np.ones_like(haz)) / self.dcount[:, None]
        e_haz = np.bincount(pt, weights=frac * haz, minlength=self.nt)
        e_xhaz = per_time(frac * haz)
        resid = -r[:, None] * (x * cumhaz[inv][:, None] - xhaz[inv])
        dead = d == 1
        ti = inv[dead]
        resid[dead] += (x[dead] - mean_xbar[ti]) + r[dead][:, None] * (
            x[dead] * e_haz[ti][:, None] - e_xhaz[ti])
        out = np.empty_like(resid)
        out[self.order[0]] = resid                       # back to the input's row order
        return out


def order_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes that sort like ``values`` (equal values, equal codes) and their number of levels.

    Whole numbers in a short range (0/1, ECOG, age) are coded in O(n) by subtraction; other values by one sort.
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64), 1
    low, high = float(values.min()), float(values.max())
    if high - low < 2**20 and bool((values == np.floor(values)).all()):
        return (values - low).astype(np.int64), int(high - low) + 1
    coded = distinct_time_codes(values)                  # few distinct values (times in days): hash, no sort
    if coded is not None:
        return coded[1].astype(np.int64, copy=False), int(coded[0].size)
    uniq, inv = np.unique(values, return_inverse=True)
    return inv.astype(np.int64, copy=False), int(uniq.size)


def _canonical_order(time: np.ndarray, event: np.ndarray, x: np.ndarray,
                     time_codes: tuple[np.ndarray, int] | None = None) -> np.ndarray:
    """Each model's rows sorted by time, then event, then its covariates in turn (stable): B x n.

    The permutation of ``np.lexsort`` on those keys, computed as one stable sort of a single integer key (the
    keys' order codes in mixed radix) instead of one sort per key (a radix sort when the key, or the time and the
    rest each, fit in 16 bits: few distinct times and binary covariates); `time_codes` (codes, levels) of the times may
    be given when many models share them. Falls back to ``np.lexsort`` when the key would overflow 63 bits.
    """
    n, n_models, p = x.shape
    tcode, tlevels = order_codes(time) if time_codes is None else time_codes
    order = np.empty((n_models, n), dtype=np.intp)
    for b in range(n_models):
        # the key of the event and the covariates, one column's codes at a time (never p code arrays at once):
        # tcode * levels_x + key_x is the mixed-radix key (time, event, covariates) exactly
        key_x, levels_x = event.astype(np.int64), 2
        for j in range(p):
            codes, levels = order_codes(x[:, b, j])
            levels_x *= levels
            if levels_x * tlevels >= 2**63:              # the key would overflow: sort on the keys themselves
                break
            key_x *= levels
            key_x += codes
            del codes
        levels_all = tlevels * levels_x
        if levels_all <= 2**16:                          # one key of 16 bits: a radix sort, O(n), stable
            order[b] = np.argsort((tcode * levels_x + key_x).astype(np.uint16), kind="stable")
        elif tlevels <= 2**16 and levels_x <= 2**16:     # two radix passes: event and covariates, then time
            first = np.argsort(key_x.astype(np.uint16), kind="stable")
            order[b] = first[np.argsort(tcode.astype(np.uint16)[first], kind="stable")]
        elif levels_all < 2**63:
            key = tcode * levels_x + key_x
            if levels_all * max(n, 1) < 2**63:           # row number as last digit: a plain sort is stable
                order[b] = np.sort(key * n + np.arange(n)) % n
            else:
                order[b] = np.argsort(key, kind="stable")
        else:
            order[b] = np.lexsort([x[:, b, j] for j in range(p - 1, -1, -1)] + [event, time])
    return order


def _solve_batch(imat: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps imat^-1 u of a batch (m x p x p, m x p); a singular matrix gives NaN and flag True."""
    try:
        return np.linalg.solve(imat, u[..., None])[..., 0], np.zeros(len(u), dtype=bool)
    except np.linalg.LinAlgError:
        step, singular = np.full(u.shape, np.nan), np.zeros(len(u), dtype=bool)
        for j in range(len(u)):
            try:
                step[j] = np.linalg.solve(imat[j], u[j])
            except np.linalg.LinAlgError:
                singular[j] = True
        return step, singular


@dataclass
class _NewtonFit:
    """Per model of a batch: estimate, log-likelihoods, score and information at it, iterations,
    convergence, and whether the information matrix became singular (no estimate)."""

    beta: np.ndarray
    loglik0: np.ndarray
    loglik: np.ndarray
    score: np.ndarray
    imat: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    singular: np.ndarray


def _newton(rs: _RiskSets, max_iter: int, eps: float) -> _NewtonFit:
    """R coxfit6's Newton-Raphson with step halving, run for every model of the batch in lockstep.

    Each model starts at beta = 0 and stops when ``|1 - loglik_old / loglik_new| <= eps``; a step that
    lowers the log-likelihood (or makes it non-finite) is halved towards the last accepted beta. The
    score and information returned are those at the returned beta.
    """
    nb, p = rs.n_models, rs.p
    beta = np.zeros((nb, p))
    ll0, u, imat = rs.evaluate_batch(beta)[:3]  # not its residual terms: freed at once
    best = ll0.copy()
    step, singular = _solve_batch(imat, u)
    newbeta = beta + step
    fit = _NewtonFit(beta.copy(), ll0, ll0.copy(), u, imat, np.full(nb, max_iter), np.zeros(nb, dtype=bool),
                     singular)
    halving = np.zeros(nb)
    active = ~singular
    for it in range(1, max_iter + 1):
        if not active.any():
            break
        # every model is evaluated (one vectorised pass); only the active ones are updated
        with np.errstate(all="ignore"):
            newlk, u, imat = rs.evaluate_batch(newbeta)[:3]
            finite = np.isfinite(newlk) & np.isfinite(u).all(axis=1) & np.isfinite(imat).all(axis=(1, 2))
            done = active & finite & (np.abs(1 - best / newlk) <= eps)
        worse = active & ~done & (~finite | (newlk < best))
        better = active & ~done & ~worse
        if done.any():
            fit.beta[done], fit.loglik[done], fit.score[done], fit.imat[done] = (newbeta[done], newlk[done],
                                                                                 u[done], imat[done])
            fit.iterations[done], fit.converged[done] = it, True
            active &= ~done
        if worse.any():                                 # step halving towards the last accepted beta
            halving[worse] += 1
            h = halving[worse, None]
            newbeta[worse] = (newbeta[worse] + h * beta[worse]) / (h + 1.0)
        if better.any():
            halving[better] = 0
            best[better] = newlk[better]
            beta[better] = newbeta[better]
            step, bad = _solve_batch(imat[better], u[better])
            newbeta[better] = newbeta[better] + step
            j = np.flatnonzero(better)[bad]
            fit.singular[j] = True
            active[j] = False
    rest = np.flatnonzero(active)                       # ran out of iterations: the last accepted beta
    if rest.size:
        with np.errstate(all="ignore"):
            ll, u, imat = rs.evaluate_batch(beta)[:3]
        fit.beta[rest], fit.loglik[rest], fit.score[rest], fit.imat[rest] = beta[rest], ll[rest], u[rest], imat[rest]
    return fit


def _wald(coef: np.ndarray, se: np.ndarray, conf_level: float = 0.95):
    """Hazard ratio exp(coef), its Wald CI exp(coef -/+ z se), z = coef / se and the two-sided p."""
    # special.ndtri / ndtr are what stats.norm.ppf / sf compute (same bits, without their per-call overhead)
    z_crit = special.ndtri(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = coef / se
        return (np.exp(coef), np.exp(coef - z_crit * se), np.exp(coef + z_crit * se), z,
                2 * special.ndtr(-np.abs(z)))


def _full_column_rank(xc: np.ndarray) -> bool:
    """Whether the centred design has full column rank, decided on the p x p cross-product when it is clearly
    well conditioned (eigenvalue ratio above 1e-8, far above any rounding of X'X), else by the SVD of the n x p
    design as ``numpy.linalg.matrix_rank`` (so the decision is the same as before, at O(n p^2) instead of an
    SVD of 10^6 rows)."""
    eig = np.linalg.eigvalsh(xc.T @ xc)
    if eig[-1] > 0 and eig[0] > 1e-8 * eig[-1]:
        return True
    return bool(np.linalg.matrix_rank(xc) == xc.shape[1])


@dataclass(frozen=True)
class SurvivalOrder:
    """The follow-up times of a data frame's rows, coded once for many Cox fits on that frame.

    Made by `survival_order`; passed to `cox_model` (or `fit_cox`, `cox_screen.univariable_cox`) as ``survival_order=``, it
    spares each fit the sort of the times (the risk sets are then ordered by one sort of an integer key). Fits are
    identical to the bit with or without it.

    Attributes
    ----------
    duration_col : str
    time : numpy.ndarray
        The column as floats (NaN where missing), to check that a fit's frame is the one coded.
    codes : numpy.ndarray of int64
        Codes that sort like the times (equal times, equal codes; missing times -1).
    levels : int
        Number of distinct times.
    """

    duration_col: str
    time: np.ndarray
    codes: np.ndarray
    levels: int


def survival_order(df: pd.DataFrame, duration_col: str) -> SurvivalOrder:
    """Code the follow-up times of `df` once (one sort) for every Cox model fitted on it (e.g. the univariable
    screen and the multivariable model of an endpoint and cohort). See `SurvivalOrder`."""
    if duration_col not in df.columns:
        raise KeyError(f"columns not in the data frame: {[duration_col]}")
    time = pd.to_numeric(df[duration_col], errors="coerce").to_numpy(dtype=float)
    known = ~np.isnan(time)
    codes = np.full(time.size, -1, dtype=np.int64)
    found, levels = order_codes(time[known])
    codes[known] = found
    return SurvivalOrder(duration_col, time, codes, levels)


def _time_codes(order: SurvivalOrder | None, df, duration_col, complete, time):
    """(codes, levels) of the complete cases' times from `order`, after checking it was made for this frame."""
    if order is None:
        return None
    if (order.duration_col != duration_col or order.time.size != len(df)
            or not np.array_equal(order.time[complete], time)):
        raise ValueError(f"survival_order: made for another data frame or column than {duration_col!r}")
    return order.codes[complete], order.levels
