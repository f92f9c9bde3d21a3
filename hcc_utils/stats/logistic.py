"""Unpenalised logistic regression by R's ``glm.fit`` algorithm (the propensity model of the article).

Iteratively reweighted least squares exactly as R 4.x ``glm(family = binomial)`` runs it, so that estimates,
standard errors, z and p agree with R to rounding, not merely to a convergence tolerance:

* start from ``mu = (y + 0.5) / 2`` (R's ``mustart`` for binomial with unit weights), ``eta = logit(mu)``;
* each iteration regresses the working response ``z = eta + (y - mu) / mu'`` on X with weights ``mu'^2 /
  (mu (1 - mu))`` by a QR decomposition, then updates ``eta = X beta``;
* stops when ``|dev - dev_old| / (|dev| + 0.1) < epsilon`` (``glm.control``: ``epsilon = 1e-8``,
  ``maxit = 25``);
* the covariance is ``(R'R)^-1`` from the QR of the *last* weighted least-squares fit, whose weights come from
  the iteration before convergence - which is what ``summary.glm`` reports (it differs from the information at the
  final estimate by about the convergence tolerance, which is why a different stopping rule gives other SEs).

Wald z and two-sided normal p-values as ``summary.glm``. Separation (fitted probabilities at 0 or 1, estimates
diverging) is reported by the caller, which knows the patients.

Why not statsmodels' ``GLM(family=Binomial())`` (or ``Logit``): it runs the same IRLS and takes its covariance from
the last weighted fit, as R does, and agrees with R to 1e-14 on most data; but it stops when the deviance changes
by less than an *absolute* 1e-8 (R: relative to the deviance), so on a large deviance it iterates once more than R
and its standard errors differ from R's by about 1e-4 relative; it starts from another ``mu`` (``(y + mean(y)) / 2``);
and it does not alias a column that is a combination of others (R's pivoted QR reports NA; statsmodels splits the
effect). ``tests/test_field_libraries.py`` shows the first and last of these on R's fixtures; the matched sets and
``hcc-study verify`` rely on estimates equal to R's to rounding. The scores' linear predictor is summed term by term
in a fixed order (:func:`linear_predictor`), so that identical covariate rows get identical scores and the
matching's ties break as R's do.

References
----------
McCullagh P, Nelder JA. Generalized Linear Models, 2nd ed. Chapman & Hall 1989, section 2.5.
R Core Team, ``stats::glm.fit`` (R 4.x).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = ["LogisticFit", "linear_predictor", "logistic_regression"]

#: R's ``glm.control()`` defaults.
EPSILON = 1e-8
MAX_ITER = 25
#: R's logit link functions (src/library/stats/src/family.c) clamp eta at +-30.
_THRESH = 30.0
_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class LogisticFit:
    """A fitted logistic regression (R ``glm(family = binomial)``).

    Attributes
    ----------
    coef, se, z, p : arrays over the columns of X (Wald z and two-sided p).
    fitted : fitted probabilities.
    deviance : residual deviance.
    iterations : IRLS iterations (R's ``iter``).
    converged : whether the deviance criterion was met within ``max_iter``.
    """

    coef: np.ndarray
    se: np.ndarray
    z: np.ndarray
    p: np.ndarray
    fitted: np.ndarray
    deviance: float
    iterations: int
    converged: bool
    aliased: tuple = ()  # columns that are linear combinations of earlier ones: NaN coefficients, as R's NA


def linear_predictor(x: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """``X beta`` summed column by column in a fixed order, so that equal rows of X get bit-identical values.

    A matrix product (``x @ coef``) lets BLAS group the sums differently by row position (blocks, SIMD lanes,
    remainders): two patients with identical covariates could get linear predictors one rounding apart, and a
    matching that breaks ties by data order would then see no tie. Elementwise products and sums are correctly
    rounded per element, so accumulating ``x[:, j] * coef[j]`` over j in order gives every equal row the same value;
    it is also the order of the reference BLAS ``dgemv`` that R's ``x %*% beta`` calls.

    Parameters
    ----------
    x : n x k design matrix.
    coef : k coefficients (no NaN: drop aliased columns first).

    Returns
    -------
    numpy.ndarray of n linear predictors.
    """
    eta = np.zeros(x.shape[0])
    for j in range(x.shape[1]):
        eta += x[:, j] * coef[j]
    return eta


def _linkinv(eta: np.ndarray) -> np.ndarray:
    # R's logit_linkinv: x / (1 + x) with x = exp(eta), x set to eps below -30 and to 1/eps above 30
    x = np.where(eta < -_THRESH, _EPS, np.where(eta > _THRESH, 1.0 / _EPS, np.exp(np.clip(eta, -_THRESH, _THRESH))))
    return x / (1.0 + x)


def _mu_eta(eta: np.ndarray) -> np.ndarray:
    # R's logit_mu_eta: exp(eta) / (1 + exp(eta))^2, eps outside [-30, 30]
    e = np.exp(np.clip(eta, -_THRESH, _THRESH))
    opexp = 1.0 + e
    return np.where(np.abs(eta) > _THRESH, _EPS, e / (opexp * opexp))


def _deviance(y: np.ndarray, mu: np.ndarray) -> float:
    # binomial deviance residuals 2 * (y log(y/mu) + (1-y) log((1-y)/(1-mu))), with 0 log 0 = 0
    return float(2.0 * np.sum(special.xlogy(y, y / mu) + special.xlogy(1 - y, (1 - y) / (1 - mu))))


def logistic_regression(x: np.ndarray, y: np.ndarray, epsilon: float = EPSILON,
                        max_iter: int = MAX_ITER) -> LogisticFit:
    """Fit ``logit P(y = 1) = X beta`` by R's IRLS (see the module docstring).

    Parameters
    ----------
    x : n x k design matrix (include the intercept column yourself).
    y : n outcomes, 0 or 1.
    epsilon, max_iter : R's ``glm.control`` settings.

    Returns
    -------
    LogisticFit

    Notes
    -----
    A column that is a linear combination of earlier ones is aliased, as in R: its coefficient and SE are NaN
    and the model is fitted without it (``LogisticFit.aliased``).
    """
    x_full = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    kept = _non_aliased_columns(x_full)
    x = x_full if kept.size == x_full.shape[1] else x_full[:, kept]   # no copy of the design when none is aliased
    mu = (y + 0.5) / 2.0
    eta = np.log(mu / (1 - mu))
    dev_old = _deviance(y, mu)
    coef = np.zeros(x.shape[1])
    r_matrix = np.eye(x.shape[1])
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):
        mu_eta = _mu_eta(eta)
        z = eta + (y - mu) / mu_eta
        w = np.sqrt(mu_eta * mu_eta / (mu * (1 - mu)))
        q, r_matrix = np.linalg.qr(x * w[:, None])
        coef = np.linalg.solve(r_matrix, q.T @ (z * w))
        eta = linear_predictor(x, coef)
        mu = _linkinv(eta)
        dev = _deviance(y, mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            converged = True
            break
        dev_old = dev
    r_inv = np.linalg.inv(r_matrix)
    se = np.sqrt(np.sum(r_inv * r_inv, axis=1))  # diag((R'R)^-1) = row sums of squares of R^-1
    full_coef, full_se = np.full(x_full.shape[1], np.nan), np.full(x_full.shape[1], np.nan)
    full_coef[kept], full_se[kept] = coef, se
    zval = full_coef / full_se
    return LogisticFit(coef=full_coef, se=full_se, z=zval, p=2.0 * special.ndtr(-np.abs(zval)), fitted=mu,
                       deviance=float(dev), iterations=iteration, converged=converged,
                       aliased=tuple(int(j) for j in np.flatnonzero(~np.isin(np.arange(x_full.shape[1]), kept))))


def _non_aliased_columns(x: np.ndarray, tol: float = 1e-7) -> np.ndarray:
    """Columns kept by R's limited pivoting (LINPACK ``dqrdc2``, tolerance 1e-7): in order, a column whose norm,
    after removing its projection on the columns kept before it, falls below ``tol`` times its own norm is a
    linear combination of them (aliased); R reports NA for its coefficient and fits the others."""
    norms = np.linalg.norm(x, axis=0)
    if x.shape[0] >= x.shape[1] and (norms > 0).all():
        # One QR (R only): |R_jj| is column j's norm after removing its projection on the columns before it. When
        # every ratio is far above the tolerance, the loop below would keep every column: skip its k QRs.
        diag = np.abs(np.diagonal(np.linalg.qr(x, mode="r")))
        if (diag >= 10 * tol * norms).all():
            return np.arange(x.shape[1])
    kept: list[int] = []
    for j in range(x.shape[1]):
        column = x[:, j]
        norm = np.linalg.norm(column)
        if norm == 0:
            continue
        if kept:
            basis, _ = np.linalg.qr(x[:, kept])
            column = column - basis @ (basis.T @ column)
        if np.linalg.norm(column) >= tol * norm:
            kept.append(j)
    return np.asarray(kept, dtype=int)
