"""Other charts: matching diagnostics (score overlap, Love plot) and dot charts (adverse events)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hcc_utils.report.figures.km_draw import display_name
from hcc_utils.report.figures.style import OKABE_ITO, group_colours
from hcc_utils.study.cohort import Study
from hcc_utils.tables.adverse_events import most_common_events


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
        for label, part in subset.groupby(group_col, sort=False, observed=True):
            ax.hist(part[score_col], bins=bins, alpha=0.55, color=colours[label], label=f"{display_name(label)}, n = {len(part)}")
        ax.set_title(title, loc="left")
        ax.set_xlabel("Propensity score")
        if len(subset):
            ax.legend(loc="upper right", fontsize=8)
        else:
            ax.text(0.5, 0.5, "no matched patient", ha="center", va="center", transform=ax.transAxes)
    axes[0].set_ylabel("Patients")
    return fig


def dot_chart(table: pd.DataFrame, label_col: str, value_cols: dict[str, str], colours: dict[str, str],
              xlabel: str = "Patients (%)"):
    """Horizontal dot chart: one row per label, one dot per group (for adverse-event rates).

    The axis starts at 0 (a rate's length is read from zero) and the legend sits above the plot, where no dot
    can be under it.
    """
    fig, ax = plt.subplots(figsize=(6.2, 0.34 * len(table) + 1.5))
    y = np.arange(len(table))[::-1]
    for group, column in value_cols.items():
        ax.scatter(table[column], y, color=colours[group], label=display_name(group), zorder=3)
    for yy, (_, row) in zip(y, table.iterrows()):
        values = [row[c] for c in value_cols.values()]
        ax.plot([min(values), max(values)], [yy, yy], color="#CCCCCC", zorder=1)
    ax.set_yticks(y)
    ax.set_yticklabels(table[label_col])
    ax.set_xlabel(xlabel)
    largest = float(np.nanmax(table[list(value_cols.values())].to_numpy(float))) if len(table) else 0.0
    ax.set_xlim(0, max(5.0, largest * 1.08))
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(value_cols), borderaxespad=0.2)
    return fig


def common_adverse_events_chart(study: Study, long: pd.DataFrame, n: int = 10):
    """Dot chart of the ``n`` commonest adverse events of any grade, percentage of patients by group.

    ``long`` is the long adverse-event table (:func:`hcc_utils.study.sections.safety_tables`' ``long``); the terms
    are those of :func:`hcc_utils.tables.adverse_events.most_common_events`.
    """
    common = most_common_events(long, study.groups, n=n)
    return dot_chart(common.iloc[::-1].reset_index(drop=True), "label", {g: g for g in study.groups},
                     group_colours(study.groups, study.treatment, study.control),
                     xlabel="Patients with the event, any grade (%)")


def matching_figures(study: Study, balance: pd.DataFrame) -> dict[str, plt.Figure]:
    """The matching diagnostics: ``ps_overlap`` (score distributions by group before and after matching) and
    ``love_plot`` (absolute SMDs before and after), from the labelled balance table of
    :func:`hcc_utils.study.sections.matching_tables`."""
    colours = group_colours(study.groups, study.treatment, study.control)
    return {"ps_overlap": score_overlap(study.data, "group", "ps", "matched", colours),
            "love_plot": love_plot(balance.set_index("Covariate"), before_col="SMD before", after_col="SMD after")}


def matching_alt_texts(study: Study, balance: pd.DataFrame) -> dict[str, str]:
    """Alt text of the matching figures: what each shows and its numbers (groups and sizes before and after
    matching; the largest absolute SMD before and after, and the threshold line), never a file name."""
    data = study.data
    sizes = {g: int((data["group"] == g).sum()) for g in study.groups}
    matched = {g: int(((data["group"] == g) & (data["matched"] == 1)).sum()) for g in study.groups}
    before, after = balance["SMD before"].abs(), balance["SMD after"].abs()
    return {
        "ps_overlap": ("Histograms of the propensity score by second-line group, all enrolled patients ("
                       + ", ".join(f"{display_name(g)} n = {n}" for g, n in sizes.items()) + ") and matched patients ("
                       + ", ".join(f"{display_name(g)} n = {n}" for g, n in matched.items()) + ")."),
        "love_plot": (f"Absolute standardized mean difference of each of the {len(balance)} matching covariates before "
                      f"(open circles) and after matching (filled); the largest is {before.max():.3f} before and "
                      f"{after.max():.3f} after matching; a dashed line marks 0.1."),
    }


def adverse_events_alt_text(study: Study, long: pd.DataFrame, n: int = 10) -> str:
    """Alt text of the adverse-event dot chart: each of the commonest events with its percentage in each group."""
    common = most_common_events(long, study.groups, n=n)
    rows = "; ".join(f"{row['label']} " + ", ".join(f"{display_name(g)} {row[g]:.1f}%" for g in study.groups)
                     for _, row in common.iterrows())
    return f"Dot chart of the {len(common)} commonest adverse events of any grade, percentage of patients by group: {rows}."
