"""Figures of the weighting chapter: a Love plot of three weightings and weighted Kaplan-Meier composites.

* ``weighted_love_plot``: absolute SMD of each propensity-model covariate, unweighted, IPTW and overlap weights;
* ``weighted_km_iptw`` and ``weighted_km_overlap``: A overall survival, B progression-free survival by group, each
  curve a weighted Kaplan-Meier estimate (R ``survfit(weights = w)``), the numbers at risk those of patients
  (unweighted), the HR the weighted Cox model's with its robust 95% CI.
"""
from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hcc_utils.report.figures.km_draw import KMCurve, KMPanel, composite_figure, display_name
from hcc_utils.report.figures.style import OKABE_ITO, group_colours
from hcc_utils.stats.survival import numbers_at_risk
from hcc_utils.stats.weighting import weighted_km_median
from hcc_utils.study.cohort import Study
from hcc_utils.study.labels import ENDPOINTS, variable_labels
from hcc_utils.study.registry import Kind, display_value
from hcc_utils.study.sections.weighting import SMD_THRESHOLD, WEIGHTINGS
from hcc_utils.tables.formatting import fmt_p_label

__all__ = ["weighted_love_plot", "weighting_figures", "weighting_alt_texts", "WEIGHTED_KM_FIGURES"]

#: Figure name of each weighting's Kaplan-Meier composite.
WEIGHTED_KM_FIGURES = {name: f"weighted_km_{name}" for name in WEIGHTINGS}

_MARKERS = {"unweighted": ("o", "none", OKABE_ITO[7], "Unweighted"),
            "iptw": ("s", None, OKABE_ITO[4], "IPTW"),
            "overlap": ("D", None, OKABE_ITO[2], "Overlap weights")}


def weighted_love_plot(balance: pd.DataFrame, labels: dict[str, str], threshold: float = SMD_THRESHOLD):
    """Absolute SMD per covariate (rows, sorted by the unweighted SMD) under each weighting (``smd_<name>``)."""
    table = balance.sort_values("smd_unweighted")
    fig, ax = plt.subplots(figsize=(6.4, 0.38 * len(table) + 1.4))
    y = np.arange(len(table))
    for name, (marker, face, colour, text) in _MARKERS.items():
        values = table[f"smd_{name}"].to_numpy(float)
        if face == "none":
            ax.scatter(values, y, marker=marker, facecolors="none", edgecolors=colour, label=text, zorder=3)
        else:
            ax.scatter(values, y, marker=marker, color=colour, label=text, zorder=3, s=28)
    ax.axvline(threshold, color="#999999", linestyle="--", linewidth=1)
    ax.set_yticks(y)
    ax.set_yticklabels([labels.get(c, c) for c in table.index])
    ax.set_xlabel("Absolute standardized mean difference")
    ax.set_xlim(left=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def _hr_lines(values: dict[str, Any], name: str, endpoint: str) -> list[str]:
    key = f"sensitivity.{name}_{endpoint}"
    if not np.isfinite(values[f"{key}_hr"]):
        return ["HR not estimable"]
    hr, lo, hi = (display_value(Kind.RATIO, values[f"{key}_{s}"]) for s in ("hr", "hr_lo", "hr_hi"))
    return [f"HR {hr} (robust 95% CI {lo}–{hi})", fmt_p_label(values[f"{key}_hr_p"], prefix="Weighted Cox P")]


def weighted_panels(study: Study, values: dict[str, Any], curves: dict) -> dict[str, list[KMPanel]]:
    """Panels A (OS) and B (PFS) of each weighting's composite."""
    colours = group_colours(study.groups, study.treatment, study.control)
    times = study.config.survival.risk_table_months
    out = {}
    for name, figure in WEIGHTED_KM_FIGURES.items():
        panels = []
        for endpoint, (time_col, event_col, ep_name) in ENDPOINTS.items():
            panel = KMPanel(title=ep_name, ticks=list(times),
                            stat_lines=_hr_lines(values, name, endpoint), ylabel="Weighted survival probability")
            at_risk = {}
            for group in study.groups:
                part = study.data[study.data["group"] == group]
                table = curves[name][endpoint][group]
                panel.curves[group] = KMCurve(table, len(part), weighted_km_median(table), colours[group])
                at_risk[group] = numbers_at_risk(part[time_col], part[event_col], times).to_numpy()
            panel.at_risk = pd.DataFrame(at_risk, index=list(times)).T
            panels.append(panel)
        out[figure] = panels
    return out


def weighting_figures(study: Study, section) -> dict[str, plt.Figure]:
    """The chapter's figures from its :class:`~hcc_utils.study.sections.SectionResult`: the Love plot and one
    Kaplan-Meier composite (A OS, B PFS) per weighting, with the curves' pointwise 95% bands (robust variance:
    :func:`hcc_utils.stats.weighting.weighted_kaplan_meier`), which show how few patients a large weight stands
    for."""
    figures = {"weighted_love_plot": weighted_love_plot(section.tables["balance_frame"], variable_labels(study.config))}
    for figure, panels in weighted_panels(study, section.values, section.inputs["curves"]).items():
        figures[figure] = composite_figure(panels, 2, confidence_bands=True)
    return figures


def weighting_alt_texts(study: Study, section) -> dict[str, str]:
    """Alt text of each figure: what it shows and the numbers it prints."""
    values = section.values
    texts = {"weighted_love_plot": (
        "Love plot: absolute standardized mean difference of each propensity-model covariate without weights, with "
        f"IPTW and with overlap weights; the largest is {display_value(Kind.STATISTIC, values['sensitivity.unweighted_smd_max'])}, "
        f"{display_value(Kind.STATISTIC, values['sensitivity.iptw_smd_max'])} and "
        f"{display_value(Kind.STATISTIC, values['sensitivity.overlap_smd_max'])}.")}
    for name, figure in WEIGHTED_KM_FIGURES.items():
        parts = []
        for endpoint, (_, _, ep_name) in ENDPOINTS.items():
            parts.append(f"{ep_name}: " + "; ".join(_hr_lines(values, name, endpoint)))
        groups = " and ".join(display_name(g) for g in study.groups)
        texts[figure] = (f"Weighted Kaplan-Meier curves ({WEIGHTINGS[name][0]}) with pointwise 95% confidence "
                         f"bands of {groups}, panel A overall "
                         f"survival, panel B progression-free survival. " + ". ".join(parts) + ".")
    return texts
