"""Propensity scores from gradient-boosted trees: a check on the logistic propensity model's functional form.

What is estimated: the probability of treatment given the covariates, ``P(T = 1 | X)``, by gradient boosting of
shallow regression trees on the log-odds scale (scikit-learn ``HistGradientBoostingClassifier``, log-loss). Unlike
the main-effects logistic model it can represent non-linear effects and interactions without their being specified.

Assumptions: the same covariates and no unmeasured confounding as the logistic model; the fit is seeded and
deterministic. Boosted trees overfit small cohorts easily, so the settings are conservative (shallow trees, few
iterations, strong L2 penalty, a minimum leaf size) and the scores are shrunk away from 0 and 1; they serve as a
sensitivity analysis, not as the primary score.

Reference: McCaffrey DF, Ridgeway G, Morral AR. Propensity score estimation with boosted regression for evaluating
causal effects in observational studies. Psychol Methods 2004;9:403-25.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: Bounds of the fitted scores (trees can give exactly 0 or 1, whose logit is infinite).
SCORE_BOUNDS = (1e-3, 1 - 1e-3)


def boosted_propensity_scores(df: pd.DataFrame, treatment_col: str, covariates: list[str], seed: int = 0,
                              max_iter: int = 100, learning_rate: float = 0.05, max_depth: int = 2,
                              min_samples_leaf: int = 10, l2_regularization: float = 1.0) -> pd.Series:
    """Fitted probabilities of treatment from a seeded ``HistGradientBoostingClassifier`` (no early stopping).

    Parameters
    ----------
    df : one row per patient with ``treatment_col`` (0/1) and numeric ``covariates`` (missing values are allowed:
        the trees send them to the better side).
    seed : ``random_state`` of the classifier.
    max_iter, learning_rate, max_depth, min_samples_leaf, l2_regularization : boosting settings.

    Returns
    -------
    pandas.Series
        Scores indexed like ``df``, clipped to :data:`SCORE_BOUNDS`.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    y = pd.to_numeric(df[treatment_col], errors="raise").to_numpy(dtype=float)
    if not np.isin(y, (0.0, 1.0)).all() or len(np.unique(y)) < 2:
        raise ValueError(f"{treatment_col} must hold 0/1 with both values present")
    x = df[list(covariates)].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    model = HistGradientBoostingClassifier(max_iter=max_iter, learning_rate=learning_rate, max_depth=max_depth,
                                           min_samples_leaf=min(min_samples_leaf, max(1, len(y) // 4)),
                                           l2_regularization=l2_regularization, early_stopping=False,
                                           random_state=seed)
    model.fit(x, y.astype(int))
    ps = model.predict_proba(x)[:, 1]
    return pd.Series(np.clip(ps, *SCORE_BOUNDS), index=df.index, name="ps_boosted")
