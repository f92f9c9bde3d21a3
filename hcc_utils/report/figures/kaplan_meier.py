"""Kaplan-Meier figures: the curve-and-risk-table plot and the named panels of the article's survival figures.

The panel functions take the :class:`~hcc_utils.study.cohort.Study` and the section's recorded values (for the
log-rank p-values, so a figure prints the number the table and the prose print) and return ``{name: Figure}``; the
names are those the notebooks' markdown glues (``figure2a_os``, ``supp_figure1a``...).
"""
from __future__ import annotations

from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hcc_utils.report.figures.style import group_colours
from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.labels import ENDPOINTS, regimen_label
from hcc_utils.study.sections.cycles import cycles_subgroup_results, cycles_subgroups
from hcc_utils.study.sections.survival import km_curves, risk_table, survival_results
from hcc_utils.study.sections.third_line import comparable_levels, third_line_results
from hcc_utils.tables.formatting import fmt_p_label


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
    if curves:
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


def _matched_note(suffix: str) -> str:
    return " (PS-matched)" if suffix else ""


def not_estimable_figure(title: str, reason: str):
    """A small figure standing where a panel cannot be drawn, saying why (the page keeps its numbering)."""
    fig, ax = plt.subplots(figsize=(6.4, 1.4))
    ax.set_axis_off()
    ax.set_title(title, loc="left")
    ax.text(0.5, 0.4, f"Not estimable: {reason}", ha="center", va="center", fontsize=10)
    return fig


def _cohorts_with_placeholders(study: Study):
    """Every cohort suffix with its frame, or None and the reason when it cannot be analysed."""
    problems = study.cohort_problems()
    analysable = study.cohorts()
    return [(suffix, analysable.get(suffix), problems.get(suffix)) for suffix in ("", "_matched")]


def _km_panel(cohort: pd.DataFrame, endpoint: str, study: Study, p: float, title: str, colours: dict[str, str],
              by: str = "group", order: list[str] | None = None):
    """One Kaplan-Meier panel with the study's risk-table times and the log-rank P as annotation."""
    times = study.config.survival.risk_table_months
    return km_plot(km_curves(cohort, endpoint, by=by, order=order), risk_table(cohort, endpoint, times, by=by, order=order),
                   colours, title=title, annotation=fmt_p_label(p), xmax=max(times), xticks=times)


def survival_figures(study: Study, values: dict[str, Any] | None = None) -> dict[str, plt.Figure]:
    """Figures 2 (all enrolled) and 3 (PS-matched): OS (panel a) and PFS (panel b) by group.

    ``values`` are the section's results (:func:`~hcc_utils.study.sections.survival_results`, computed when not
    given); names ``figure2a_os``, ``figure2b_pfs``, ``figure3a_os``, ``figure3b_pfs``.
    """
    values = survival_results(study) if values is None else values
    colours = group_colours(study.groups, study.treatment, study.control)
    figure_numbers = {"": "figure2", "_matched": "figure3"}
    figures = {}
    for suffix, cohort, problem in _cohorts_with_placeholders(study):
        for panel, endpoint in zip("ab", ENDPOINTS):
            title = f"{ENDPOINTS[endpoint][2]}{_matched_note(suffix)}"
            figures[f"{figure_numbers[suffix]}{panel}_{endpoint}"] = (
                not_estimable_figure(title, problem) if problem else _km_panel(
                    cohort, endpoint, study, values[f"survival.{endpoint}_logrank_p{suffix}"], title, colours,
                    order=study.groups))
    return figures


#: Supplementary Figures 1 and 2: (figure number, id word of the p-value, title words).
THIRD_LINE_FIGURES = (("1", "received", "received third-line therapy"), ("2", "type", "type of third-line therapy"))


def third_line_levels(part: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Patients of one group with the compared ``level``: receipt of a third line (``kind='received'``) or, among
    the patients who received one, its regimen (``kind='type'``), as :func:`third_line_results` compares them."""
    if kind == "received":
        part = part.copy()
        part["level"] = part["received_third_line"].map({1: "third line", 0: "no third line"})
    else:
        part = part[part["received_third_line"] == 1].copy()
        part["level"] = part["third_line_regimen"].map(regimen_label)
    return part


def third_line_figures(study: Study, values: dict[str, Any] | None = None) -> dict[str, plt.Figure]:
    """Supplementary Figures 1 (OS by receipt of third-line therapy) and 2 (OS by its type, recipients only).

    Panels a-d: treatment group all enrolled, matched; control group all enrolled, matched. ``values`` are those
    of :func:`~hcc_utils.study.sections.third_line_results` (computed when not given). Names ``supp_figure1a`` ...
    ``supp_figure2d``.
    """
    values = third_line_results(study) if values is None else values
    figures = {}
    for figure_no, kind, title in THIRD_LINE_FIGURES:
        panels = iter("abcd")
        for group in study.groups:
            for suffix, cohort, problem in _cohorts_with_placeholders(study):
                name, heading = f"supp_figure{figure_no}{next(panels)}", f"OS by {title}: {group}{_matched_note(suffix)}"
                if problem:
                    figures[name] = not_estimable_figure(heading, problem)
                    continue
                part = comparable_levels(third_line_levels(cohort[cohort["group"] == group], kind), "level",
                                         study.config.survival.min_subgroup_size)
                levels = sorted(part["level"].dropna().unique())
                p = values[f"thirdline.os_{kind}_{group_code(group)}_p{suffix}"]
                figures[name] = _km_panel(part, "os", study, p, heading, group_colours(levels), by="level",
                                          order=levels)
    return figures


def cycles_subgroup_figures(study: Study, values: dict[str, Any] | None = None) -> dict[str, plt.Figure]:
    """Supplementary Figures 3 (OS) and 4 (PFS): by group within subgroups of prior ATE+BEV cycles (at most / more
    than the configured cut).

    Panels a, b: all enrolled, at most / more than the cut; c, d: the same in the matched cohort. ``values`` are
    those of :func:`~hcc_utils.study.sections.cycles_subgroup_results` (computed when not given). A subgroup with
    a single group has one curve and no log-rank test ("not estimable").
    """
    values = cycles_subgroup_results(study) if values is None else values
    colours = group_colours(study.groups, study.treatment, study.control)
    figures = {}
    for figure_no, endpoint in (("3", "os"), ("4", "pfs")):
        panels = iter("abcd")
        for suffix, cohort, problem in _cohorts_with_placeholders(study):
            for name, mask, text in cycles_subgroups(study, study.data if cohort is None else cohort):
                heading = f"{endpoint.upper()}, {text}{_matched_note(suffix)}"
                if problem:
                    figures[f"supp_figure{figure_no}{next(panels)}"] = not_estimable_figure(heading, problem)
                    continue
                p = values[f"cycles.{name}_{endpoint}_logrank_p{suffix}"]
                arms = comparable_levels(cohort[mask], "group", study.config.survival.min_subgroup_size)
                figures[f"supp_figure{figure_no}{next(panels)}"] = _km_panel(
                    arms, endpoint, study, p, heading, colours, order=study.groups)
    return figures
