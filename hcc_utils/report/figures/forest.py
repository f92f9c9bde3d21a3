"""The forest plot of Table 4's multivariable Cox models, as a journal prints it.

One row per covariate, grouped by endpoint (a bold heading row per model); to the left the variable, in the middle
the hazard ratio with its 95% confidence interval on a log axis with plain tick labels (0.5, 1, 2, 4) and a
reference line at 1, to the right the columns "HR (95% CI)" and "P" as the table prints them.
"""
from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator
from matplotlib.transforms import blended_transform_factory

from hcc_utils.report.figures.style import OKABE_ITO, fit_column
from hcc_utils.study.cohort import Study
from hcc_utils.study.labels import ENDPOINTS, variable_labels
from hcc_utils.tables.formatting import fmt_p, fmt_ratio

#: Candidate ticks of the hazard-ratio axis: plain numbers, never powers of ten.
HR_TICKS = (0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 4, 8, 16, 32)
TEXT_PT = 11
ROW_IN = 0.32
#: Column positions in axes fractions (the plot spans 0-1): variable at the left, HR (95% CI) and P at the right.
VARIABLE_X, HR_X, P_X = -0.06, 1.06, 1.85


def hr_ticks(low: float, high: float) -> list[float]:
    """Plain tick values covering ``[low, high]`` (always including 1), at most six."""
    low, high = min(low, 1.0), max(high, 1.0)
    inside = [t for t in HR_TICKS if low / 1.0001 <= t <= high * 1.0001]
    below = [t for t in HR_TICKS if t < low][-1:] if not inside or inside[0] > low * 1.0001 else []
    above = [t for t in HR_TICKS if t > high][:1] if not inside or inside[-1] < high / 1.0001 else []
    ticks = below + inside + above
    while len(ticks) > 6:  # thin out, keeping 1
        ticks = [t for i, t in enumerate(ticks) if t == 1 or i % 2 == ticks.index(1) % 2]
    return ticks


def tick_label(value: float) -> str:
    """A tick value as printed: 0.5, 1, 2, 0.25."""
    return f"{value:g}"


def forest_plot(table: pd.DataFrame, label_col: str = "label", hr_col: str = "hr", low_col: str = "ci_low",
                high_col: str = "ci_high", p_col: str = "p", panel_col: str | None = None, width_in: float = 7.8):
    """Hazard ratios with 95% confidence intervals on a log axis, with the variable, "HR (95% CI)" and "P" as text
    columns; rows grouped under a bold heading per value of ``panel_col`` (for example OS and PFS).

    Rows without a finite estimate are listed with "not estimable" and no marker.
    """
    groups = [(None, table)] if panel_col is None else list(table.groupby(panel_col, sort=False))
    rows: list[tuple[str, Any]] = []
    for name, part in groups:
        if name is not None:
            rows.append(("heading", name))
        rows.extend(("row", r) for _, r in part.iterrows())
    height = ROW_IN * (len(rows) + 1.5) + 0.7
    fig = plt.figure(figsize=(width_in, height))
    plot_left, plot_width = 0.36, 0.30
    ax = fig.add_axes((plot_left, 0.7 / height, plot_width, 1 - 0.7 / height - 1.0 * ROW_IN / height))
    n = len(rows)
    ax.set_ylim(n - 0.5, -0.7)
    finite = table[np.isfinite(table[low_col].astype(float)) & np.isfinite(table[high_col].astype(float))]
    low = float(finite[low_col].min()) if len(finite) else 0.5
    high = float(finite[high_col].max()) if len(finite) else 2.0
    ticks = hr_ticks(low, high)
    ax.set_xscale("log")
    ax.set_xlim(ticks[0] / 1.15, ticks[-1] * 1.15)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.set_xticklabels([tick_label(t) for t in ticks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.tick_params(axis="x", labelsize=TEXT_PT)
    ax.axvline(1.0, color="#555555", linewidth=1.0, zorder=1)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("Hazard ratio (95% CI), log scale", fontsize=TEXT_PT)
    left = blended_transform_factory(ax.transAxes, ax.transData)
    header_y = -0.9
    for x, text, ha in ((VARIABLE_X, "Variable", "right"), (HR_X, "HR (95% CI)", "left"), (P_X, "P", "left")):
        ax.text(x, header_y, text, transform=left, ha=ha, va="bottom", fontsize=TEXT_PT, fontweight="bold",
                clip_on=False)
    for y, (kind, row) in enumerate(rows):
        if kind == "heading":
            ax.text(-1.15, y, str(row), transform=left, ha="left", va="center", fontsize=TEXT_PT, fontweight="bold",
                    clip_on=False, zorder=5, bbox=dict(facecolor="white", edgecolor="none", pad=1.5))
            continue
        hr, lo, hi = (float(row[c]) for c in (hr_col, low_col, high_col))
        estimable = all(math.isfinite(v) and v > 0 for v in (hr, lo, hi))
        ax.text(VARIABLE_X, y, str(row[label_col]), transform=left, ha="right", va="center", fontsize=TEXT_PT,
                clip_on=False)
        if estimable:
            ax.plot([lo, hi], [y, y], color="#333333", linewidth=1.3, zorder=2)
            ax.plot([hr], [y], marker="s", markersize=7, color=OKABE_ITO[0], zorder=3)
            text, p = f"{fmt_ratio(hr)} ({fmt_ratio(lo)}–{fmt_ratio(hi)})", fmt_p(float(row[p_col]))
        else:
            text, p = "not estimable", ""
        ax.text(HR_X, y, text, transform=left, ha="left", va="center", fontsize=TEXT_PT, clip_on=False)
        ax.text(P_X, y, p, transform=left, ha="left", va="center", fontsize=TEXT_PT, clip_on=False)
    fit_column(fig)   # long variable labels reach left of the figure's edge
    return fig


def multivariable_forest_table(study: Study, models: dict[str, Any]) -> pd.DataFrame:
    """The multivariable Cox models of every endpoint in one table for :func:`forest_plot`: the model's rows with a
    readable ``label`` (the control-group indicator named by the control regimen) and a ``panel`` per endpoint.

    ``models`` as :func:`hcc_utils.study.sections.predictor_models` returns them; endpoints whose model selected no
    covariate are left out (empty table when none selected any).
    """
    labels = variable_labels(study.config)
    panels = []
    for endpoint, selection in models.items():
        multi = selection.multivariable.copy()
        if len(multi):
            multi["label"] = [labels.get(c, c) for c in multi["covariate"]]
            multi["panel"] = f"{ENDPOINTS[endpoint][2]} (multivariable)"
            panels.append(multi)
    return pd.concat(panels, ignore_index=True) if panels else pd.DataFrame(columns=["covariate", "label", "panel"])


def multivariable_forest(study: Study, models: dict[str, Any]):
    """Hazard ratios of the multivariable models, rows grouped by endpoint; when no predictor met the univariable
    selection threshold, a small figure saying so (so the page keeps its figure)."""
    table = multivariable_forest_table(study, models)
    if len(table):
        return forest_plot(table, panel_col="panel")
    fig, ax = plt.subplots(figsize=(5, 1))
    ax.set_axis_off()
    ax.text(0.5, 0.5, "No predictor met the univariable selection threshold", ha="center", va="center")
    return fig


def forest_alt_text(study: Study, models: dict[str, Any]) -> str:
    """Alt text of the forest plot: every plotted hazard ratio with its interval and P, by endpoint."""
    table = multivariable_forest_table(study, models)
    if not len(table):
        return "No predictor met the univariable selection threshold; no hazard ratio is plotted."
    parts = ["Forest plot of hazard ratios with 95% confidence intervals on a log scale, multivariable Cox models."]
    for panel, part in table.groupby("panel", sort=False):
        items = "; ".join(f"{row.label} HR {fmt_ratio(row.hr)} ({fmt_ratio(row.ci_low)}–{fmt_ratio(row.ci_high)}), "
                          f"P {fmt_p(row.p)}" for row in part.itertuples())
        parts.append(f"{panel}: {items}.")
    return " ".join(parts)
