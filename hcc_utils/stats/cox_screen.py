"""Screening covariates one at a time and the multivariable Cox model the screen selects (the article's Table 4).

`univariable_cox` fits one `hcc_utils.stats.cox.fit_cox` model per covariate; `multivariable_from_univariable` enters
those with a univariable Wald p below the threshold (and any forced ones) in one model. Asked to
(``not_estimable=True``), a model the data cannot support - a constant covariate, no complete case, no event,
collinear selected covariates - gives rows of `not_estimable_table` (every estimate NaN, the reason in ``note``)
instead of a ValueError, so that one such covariate leaves its row 'not estimable' rather than stopping the screen.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hcc_utils.stats.cox import fit_cox, survival_order

__all__ = ["CoxSelection", "multivariable_from_univariable", "not_estimable_table", "univariable_cox"]


def not_estimable_table(df: pd.DataFrame, duration_col: str, event_col: str, covariates, reason: str) -> pd.DataFrame:
    """The table of `CoxModel.table` for a model the data cannot support: every estimate NaN, ``n`` and ``events``
    those of the complete cases, ``converged`` False and ``note`` the reason (e.g. 'constant among the complete
    cases'). What `univariable_cox` and `multivariable_from_univariable` give instead of raising when asked to."""
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    complete = np.ones(len(df), dtype=bool)
    for column in dict.fromkeys([duration_col, event_col, *covariates]):
        if column in df.columns:
            complete &= df[column].notna().to_numpy()
    events = pd.to_numeric(df[event_col][complete], errors="coerce") if event_col in df.columns else pd.Series([])
    nan = np.full(len(covariates), np.nan)
    return pd.DataFrame({
        "covariate": covariates, "coef": nan, "se": nan, "hr": nan, "ci_low": nan, "ci_high": nan, "z": nan, "p": nan,
        "naive_se": nan, "robust_se": nan, "infinite_coef": False, "n": int(complete.sum()),
        "events": int(events.fillna(0).sum()), "loglik": np.nan, "loglik_null": np.nan, "converged": False,
        "note": reason,
    })


def univariable_cox(df: pd.DataFrame, duration_col: str, event_col: str, covariates,
                    ties: str = "efron", cluster_col: str | None = None, not_estimable: bool = False,
                    **kwargs) -> pd.DataFrame:
    """One Cox model per covariate; one row each (complete cases of that covariate).

    Returns the rows of `fit_cox` stacked, in the order of `covariates`. The times are sorted once for all the
    models (`survival_order`). With ``not_estimable``, a covariate whose model the data cannot support (constant
    among its complete cases, no complete case, no event) gets the row of `not_estimable_table` with the reason in
    ``note`` instead of stopping the screen with a ValueError.
    """
    if isinstance(covariates, str):
        covariates = [covariates]
    if len(covariates) > 1 and kwargs.get("survival_order") is None and duration_col in df.columns:
        kwargs["survival_order"] = survival_order(df, duration_col)
    rows = []
    for c in covariates:
        try:
            rows.append(fit_cox(df, duration_col, event_col, [c], ties=ties, cluster_col=cluster_col, **kwargs))
        except ValueError as exc:
            if not not_estimable:
                raise
            rows.append(not_estimable_table(df, duration_col, event_col, [c], str(exc)))
    return pd.concat(rows, ignore_index=True)


@dataclass(frozen=True)
class CoxSelection:
    """Univariable screen and the multivariable model it selects (``forced``: covariates that entered it whatever
    their P)."""

    univariable: pd.DataFrame
    multivariable: pd.DataFrame
    selected: list
    selection_p: float
    forced: list = field(default_factory=list)


def multivariable_from_univariable(df: pd.DataFrame, duration_col: str, event_col: str,
                                   candidates, selection_p: float = 0.05, ties: str = "efron",
                                   cluster_col: str | None = None, univariable: pd.DataFrame | None = None,
                                   forced=(), not_estimable: bool = False, **kwargs) -> CoxSelection:
    """The article's rule: covariates with univariable Wald p < `selection_p` (and the ``forced`` ones, whatever
    their p) enter one multivariable Cox model.

    Parameters
    ----------
    df, duration_col, event_col, ties, cluster_col
        As `cox_model`.
    candidates : list of str
        Covariates screened one at a time.
    selection_p : float, default 0.05
        Strict threshold (p < selection_p); NaN p never selects.
    univariable : pandas.DataFrame, optional
        The screen already fitted (`univariable_cox` of these arguments, e.g. in another process): not refitted.
    forced : list of str
        Candidates that enter the multivariable model whatever their univariable p.
    not_estimable : bool
        A model the data cannot support (a constant or collinear covariate, no event) gives the rows of
        `not_estimable_table`, the reason in ``note``, instead of a ValueError (`univariable_cox`).

    Returns
    -------
    CoxSelection
        ``univariable`` table (all candidates), ``multivariable`` table (empty when nothing
        is selected; complete cases of the selected covariates), ``selected`` names in the
        order of `candidates`.

    Notes
    -----
    Univariable screening is the article's method, not a recommendation: it ignores
    confounding and inflates type I error; report it as such.
    """
    if not 0 < selection_p <= 1:
        raise ValueError(f"selection_p: must lie in (0, 1], got {selection_p!r}")
    if kwargs.get("survival_order") is None and duration_col in df.columns:
        kwargs["survival_order"] = survival_order(df, duration_col)   # one sort of the times for every model
    uni = univariable if univariable is not None else univariable_cox(df, duration_col, event_col, candidates,
                                                                      ties=ties, cluster_col=cluster_col,
                                                                      not_estimable=not_estimable, **kwargs)
    selected = [c for c, p in zip(uni["covariate"], uni["p"]) if p < selection_p or c in forced]
    if selected:
        try:
            multi = fit_cox(df, duration_col, event_col, selected, ties=ties, cluster_col=cluster_col, **kwargs)
        except ValueError as exc:
            if not not_estimable:
                raise
            multi = not_estimable_table(df, duration_col, event_col, selected, str(exc))
    else:
        multi = uni.iloc[0:0].copy()
    return CoxSelection(univariable=uni, multivariable=multi, selected=selected,
                        selection_p=selection_p, forced=[c for c in selected if c in forced])
