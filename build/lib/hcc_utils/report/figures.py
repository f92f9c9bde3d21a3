"""Figures of the book in one consistent, colour-blind-safe style.

The two study groups always take the same colours (Okabe-Ito palette: treatment blue, control vermillion); other
categories take the palette's remaining colours in a fixed order. Every figure function returns the matplotlib
Figure; :func:`save_figure` writes it as PNG and SVG into the run's output folder.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
TREATMENT_COLOUR, CONTROL_COLOUR = OKABE_ITO[0], OKABE_ITO[1]

STYLE = {
    "figure.dpi": 110, "savefig.dpi": 150, "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10,
    "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
    "svg.hashsalt": "hcc-study",  # deterministic SVG ids across rebuilds
    "svg.fonttype": "none",
}
matplotlib.rcParams.update(STYLE)


def group_colours(groups: Sequence[str], treatment: str | None = None, control: str | None = None) -> dict[str, str]:
    """Colour of each label: the treatment and control groups fixed, other labels in palette order."""
    colours = {}
    spare = iter(OKABE_ITO[2:] + OKABE_ITO[:2])
    for label in groups:
        if label == treatment:
            colours[label] = TREATMENT_COLOUR
        elif label == control:
            colours[label] = CONTROL_COLOUR
        else:
            colours[label] = next(spare)
    return colours


def save_figure(fig, output_dir: str | Path, name: str) -> list[Path]:
    """Write ``name.png`` and ``name.svg`` into ``output_dir/figures`` (metadata stripped for identical rebuilds)."""
    folder = Path(output_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png", folder / f"{name}.svg"]
    fig.savefig(paths[0], bbox_inches="tight", metadata={"Software": None})
    fig.savefig(paths[1], bbox_inches="tight", metadata={"Date": None, "Creator": None})
    return paths


def publish_figure(fig, output_dir: str | Path, name: str) -> None:
    """Save a figure (PNG and SVG), glue it for the book under ``name`` and close it (so it is shown once)."""
    from myst_nb import glue

    save_figure(fig, output_dir, name)
    glue(name, fig, display=False)
    plt.close(fig)


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


def flow_diagram(boxes: list[tuple[str, str]], exclusions: dict[int, str], branches: list[str]):
    """A CONSORT-style flow diagram drawn from counts.

    Parameters
    ----------
    boxes : main column, top to bottom, as (key, text).
    exclusions : index of the box after which an exclusion box branches right -> its text.
    branches : texts of the final boxes (the groups), side by side under the last box.
    """
    fig, ax = plt.subplots(figsize=(7.2, 1.25 * (len(boxes) + 1.5)))
    ax.set_axis_off()
    height = len(boxes) + 1.5
    ax.set_xlim(0, 10)
    ax.set_ylim(0, height)
    style = dict(boxstyle="round,pad=0.4", facecolor="#F2F2F2", edgecolor="#555555")
    ys = [height - 0.6 - i for i in range(len(boxes))]
    for i, ((_, text), y) in enumerate(zip(boxes, ys)):
        ax.text(3.2, y, text, ha="center", va="center", bbox=style, fontsize=9)
        if i + 1 < len(boxes):
            ax.annotate("", xy=(3.2, ys[i + 1] + 0.28), xytext=(3.2, y - 0.28), arrowprops=dict(arrowstyle="->", color="#555555"))
        if i in exclusions:
            mid = y - 0.5
            ax.annotate("", xy=(6.0, mid), xytext=(3.2, mid), arrowprops=dict(arrowstyle="->", color="#555555"))
            ax.text(6.1, mid, exclusions[i], ha="left", va="center", fontsize=8.5,
                    bbox=dict(boxstyle="round,pad=0.35", facecolor="white", edgecolor="#999999"))
    if branches:
        y = ys[-1] - 1.0
        xs = np.linspace(1.2, 5.2, len(branches)) if len(branches) > 1 else [3.2]
        colours = [TREATMENT_COLOUR, CONTROL_COLOUR] + OKABE_ITO[2:]
        for x, text, colour in zip(xs, branches, colours):
            ax.annotate("", xy=(x, y + 0.3), xytext=(3.2, ys[-1] - 0.28), arrowprops=dict(arrowstyle="->", color="#555555"))
            ax.text(x, y, text, ha="center", va="center", fontsize=9,
                    bbox=dict(boxstyle="round,pad=0.4", facecolor="white", edgecolor=colour, linewidth=1.8))
    return fig


def love_plot(balance: pd.DataFrame, before_col: str = "smd_before", after_col: str = "smd_after", threshold: float = 0.1):
    """Absolute standardized mean differences before and after matching, one row per covariate."""
    table = balance.copy()
    table["before"] = table[before_col].abs()
    table["after"] = table[after_col].abs()
    table = table.sort_values("before")
    fig, ax = plt.subplots(figsize=(6.0, 0.38 * len(table) + 1.2))
    y = np.arange(len(table))
    ax.scatter(table["before"], y, marker="o", facecolors="none", edgecolors=OKABE_ITO[7], label="Before matching")
    ax.scatter(table["after"], y, marker="o", color=OKABE_ITO[2], label="After matching")
    ax.axvline(threshold, color="#999999", linestyle="--", linewidth=1)
    ax.set_yticks(y)
    ax.set_yticklabels(table.index if "label" not in table else table["label"])
    ax.set_xlabel("Absolute standardized mean difference")
    ax.legend(loc="lower right")
    return fig


def score_overlap(scores: pd.DataFrame, group_col: str, score_col: str, matched_col: str, colours: dict[str, str]):
    """Propensity-score distributions by group, before (left) and after (right) matching."""
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.2), sharey=True)
    bins = np.linspace(0, 1, 21)
    for ax, subset, title in ((axes[0], scores, "All enrolled patients"),
                              (axes[1], scores[scores[matched_col] == 1], "Matched patients")):
        for label, part in subset.groupby(group_col, sort=False):
            ax.hist(part[score_col], bins=bins, alpha=0.55, color=colours[label], label=f"{label} (n={len(part)})")
        ax.set_title(title, loc="left")
        ax.set_xlabel("Propensity score")
        ax.legend(loc="upper right", fontsize=8)
    axes[0].set_ylabel("Patients")
    return fig


def forest_plot(table: pd.DataFrame, label_col: str = "label", hr_col: str = "hr", low_col: str = "ci_low",
                high_col: str = "ci_high", panel_col: str | None = None):
    """Hazard ratios with 95% confidence intervals on a log axis, optionally in panels (for example OS and PFS)."""
    panels = [(None, table)] if panel_col is None else list(table.groupby(panel_col, sort=False))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 0.36 * max(len(p) for _, p in panels) + 1.4),
                             squeeze=False)
    for ax, (name, part) in zip(axes[0], panels):
        y = np.arange(len(part))[::-1]
        ax.errorbar(part[hr_col], y, xerr=[part[hr_col] - part[low_col], part[high_col] - part[hr_col]],
                    fmt="s", color=OKABE_ITO[0], ecolor="#555555", capsize=2.5, markersize=4)
        ax.axvline(1.0, color="#999999", linestyle="--", linewidth=1)
        ax.set_xscale("log")
        ax.set_yticks(y)
        ax.set_yticklabels(part[label_col])
        ax.set_xlabel("Hazard ratio (95% CI)")
        if name is not None:
            ax.set_title(str(name), loc="left")
    fig.tight_layout()
    return fig


def dot_chart(table: pd.DataFrame, label_col: str, value_cols: dict[str, str], colours: dict[str, str],
              xlabel: str = "Patients (%)"):
    """Horizontal dot chart: one row per label, one dot per group (for adverse-event rates)."""
    fig, ax = plt.subplots(figsize=(6.2, 0.34 * len(table) + 1.2))
    y = np.arange(len(table))[::-1]
    for group, column in value_cols.items():
        ax.scatter(table[column], y, color=colours[group], label=group, zorder=3)
    for yy, (_, row) in zip(y, table.iterrows()):
        values = [row[c] for c in value_cols.values()]
        ax.plot([min(values), max(values)], [yy, yy], color="#CCCCCC", zorder=1)
    ax.set_yticks(y)
    ax.set_yticklabels(table[label_col])
    ax.set_xlabel(xlabel)
    ax.legend(loc="lower right")
    return fig
