"""Kaplan-Meier figures: the curve-and-risk-table plot."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hcc_utils.report.figures.style import group_colours


def km_plot(curves: dict[str, pd.DataFrame], risk_table: pd.DataFrame | None = None, colours: dict[str, str] | None = None,
            title: str = "", xlabel: str = "Months since start of second-line therapy", ylabel: str = "Survival probability",
            annotation: str = "", xmax: float | None = None, xticks: Sequence[float] | None = None):
    """Kaplan-Meier curves with censoring marks and, under the axis, the numbers at risk.

    Parameters
    ----------
    curves : label -> step table with columns ``time``, ``survival``, ``n_censor`` (one row per distinct time).
    risk_table : rows = labels, columns = times, values = numbers at risk.
    annotation : text printed in the plot (for example the log-rank p-value).
    """
    colours = colours or group_colours(list(curves))
    n_rows = 0 if risk_table is None else len(risk_table)
    fig = plt.figure(figsize=(6.4, 4.2 + 0.25 * n_rows))
    grid = fig.add_gridspec(2, 1, height_ratios=[4.2, 0.3 + 0.25 * n_rows], hspace=0.6 if n_rows else 0)
    ax = fig.add_subplot(grid[0])
    for label, table in curves.items():
        times = np.concatenate([[0.0], table["time"].to_numpy(float)])
        surv = np.concatenate([[1.0], table["survival"].to_numpy(float)])
        ax.step(times, surv, where="post", color=colours[label], label=label, linewidth=1.6)
        censored = table[table["n_censor"] > 0]
        ax.plot(censored["time"], censored["survival"], linestyle="none", marker="|", markersize=7,
                color=colours[label])
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(left=0, right=xmax)
    if xticks is not None:
        ax.set_xticks(list(xticks))
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    ax.legend(loc="upper right")
    if annotation:
        ax.text(0.03, 0.05, annotation, transform=ax.transAxes, fontsize=9)
    if n_rows:
        risk_ax = fig.add_subplot(grid[1], sharex=ax)
        risk_ax.set_ylim(-0.5, n_rows - 0.5)
        for row, (label, counts) in enumerate(risk_table.iterrows()):
            y = n_rows - 1 - row
            for t, n in counts.items():
                risk_ax.text(float(t), y, str(int(n)), ha="center", va="center", fontsize=8.5, color=colours.get(label, "black"))
        risk_ax.set_yticks(range(n_rows))
        risk_ax.set_yticklabels(list(risk_table.index)[::-1])
        risk_ax.tick_params(axis="both", length=0)
        risk_ax.tick_params(axis="y", pad=16)
        risk_ax.set_title("Number at risk", loc="left", fontsize=9)
        for side in ("left", "bottom", "top", "right"):
            risk_ax.spines[side].set_visible(False)
        plt.setp(risk_ax.get_xticklabels(), visible=False)
    return fig
