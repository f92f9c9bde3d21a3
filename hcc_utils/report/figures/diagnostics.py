"""Scaled Schoenfeld residual plots of the article's Cox models, as small multiples (one figure per endpoint).

Each panel is one coefficient: its scaled Schoenfeld residuals (grey points) against time on R ``cox.zph``'s
Kaplan-Meier scale (tick labels in months), a LOWESS smooth (blue) estimating how the log hazard ratio beta(t)
moves over time, and the model's constant estimate (dashed). A flat smooth near the dashed line is what
proportional hazards look like; the panel's corner gives the test's P.
"""
from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
import numpy as np

from hcc_utils.report.figures.style import OKABE_ITO
from hcc_utils.study.cohort import Study
from hcc_utils.study.labels import ENDPOINTS, group_label, variable_labels
from hcc_utils.tables.formatting import fmt_p_label

PANEL_IN = (3.0, 2.5)
NCOLS = 3
MONTH_TICKS = (1, 2, 3, 6, 9, 12, 18, 24, 36)


def _panels(study: Study, models, endpoint: str):
    """(title, residuals, g(t), event times, coefficient, P) of every panel of one endpoint: the regimen-only
    models, then each term of the multivariable model."""
    labels = variable_labels(study.config)
    labels["control_group"] = f"{group_label(study.control)} vs {study.treatment}"
    out = []
    for model in models:
        if model.endpoint != endpoint or model.kind == "univariable":
            continue
        if model.zph is None:
            out.append((model.label, None, None, None, math.nan, math.nan, model.reason))
            continue
        zph = model.zph
        for j, term in enumerate(zph.residuals.columns):
            title = (f"{labels[term]}, {model.label.split(', ')[-1]}" if model.kind == "group"
                     else f"Multivariable: {labels.get(term, term)}")
            p = float(zph.table["p"].iloc[j])
            out.append((title, zph.residuals[term].to_numpy(), zph.x, zph.time, float(zph.coef[j]), p, ""))
    return out


def _time_ticks(ax, x: np.ndarray, time: np.ndarray) -> None:
    """Tick labels in months on the Kaplan-Meier scale of x."""
    order = np.argsort(time, kind="stable")
    t, g = time[order], x[order]
    ticks = [(float(np.interp(m, t, g)), f"{m:g}") for m in MONTH_TICKS if t[0] <= m <= t[-1]]
    kept, last = [], -1.0
    for position, text in ticks:
        if position - last >= 0.09:
            kept.append((position, text))
            last = position
    ax.set_xticks([k[0] for k in kept])
    ax.set_xticklabels([k[1] for k in kept])


def zph_figure(study: Study, models, endpoint: str):
    """The small multiples of one endpoint (``endpoint`` a key of ``ENDPOINTS``)."""
    panels = _panels(study, models, endpoint)
    nrows = max(1, math.ceil(len(panels) / NCOLS))
    ncols = min(NCOLS, max(1, len(panels)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(PANEL_IN[0] * ncols, PANEL_IN[1] * nrows + 0.3), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (title, resid, x, time, coef, p, reason) in zip(axes.flat, panels):
        ax.set_title(textwrap.fill(title, 34, break_on_hyphens=False), loc="left", fontsize=10)
        if resid is None:
            ax.text(0.5, 0.5, f"Not estimable:\n{reason}", ha="center", va="center", transform=ax.transAxes,
                    fontsize=9, wrap=True)
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        ax.scatter(x, resid, s=9, color="#9a9a9a", alpha=0.7, linewidths=0)
        if len(np.unique(x)) > 3:
            # imported here: statsmodels costs every notebook a second at start-up, and only this figure uses it
            from statsmodels.nonparametric.smoothers_lowess import lowess

            smooth = lowess(resid, x, frac=0.6, it=0, return_sorted=True)
            ax.plot(smooth[:, 0], smooth[:, 1], color=OKABE_ITO[0], linewidth=2)
        ax.axhline(coef, color=OKABE_ITO[7], linestyle="--", linewidth=1)
        ax.axhline(0, color="#bbbbbb", linewidth=0.8)
        low, high = np.percentile(resid, [2, 98])
        pad = 0.15 * (high - low or 1.0)
        ax.set_ylim(min(low, coef, 0) - pad, max(high, coef, 0) + pad)
        _time_ticks(ax, x, time)
        ax.text(0.98, 0.96, fmt_p_label(p, prefix="P"), ha="right", va="top", transform=ax.transAxes, fontsize=9,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
    fig.supxlabel("Months since the start of second-line therapy (Kaplan–Meier scale)", fontsize=10)
    fig.supylabel("β(t), log hazard ratio", fontsize=10)
    fig.tight_layout()
    return fig


def zph_figures(study: Study, models) -> dict:
    """``{"figure_zph_os": …, "figure_zph_pfs": …}``."""
    return {f"figure_zph_{endpoint}": zph_figure(study, models, endpoint) for endpoint in ENDPOINTS}


def zph_alt_texts(study: Study, models) -> dict[str, str]:
    """Alt text of each figure: what every panel shows and its P."""
    out = {}
    for endpoint, (_, _, name) in ENDPOINTS.items():
        parts = []
        for title, resid, *_, p, reason in _panels(study, models, endpoint):
            parts.append(f"{title}: " + (f"not estimable ({reason})" if resid is None else fmt_p_label(p, prefix="P")))
        out[f"figure_zph_{endpoint}"] = (f"Scaled Schoenfeld residuals against time, {name}, one panel per "
                                         "coefficient with a smooth and the constant estimate. " + "; ".join(parts))
    return out
