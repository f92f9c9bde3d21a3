"""The article's Kaplan-Meier figures, one composite image per figure number, and their alt texts.

* Figure 2 (all enrolled) and Figure 3 (PS-matched): A overall survival, B progression-free survival by group;
* Supplementary Figures 1 and 2: overall survival by receipt of third-line therapy and by its type within each
  group (A, B treatment group all enrolled / matched; C, D control group);
* Supplementary Figures 3 and 4: overall and progression-free survival by group within subgroups of prior ATE+BEV
  cycles (A, B all enrolled; C, D matched).

The figure functions take the :class:`~hcc_utils.study.cohort.Study` and the section's recorded values (so a figure
prints the P the table and the prose print) and return ``{name: Figure}`` with the names the notebooks glue
(``figure2``, ``supp_figure1``...). A level with fewer than
:data:`~hcc_utils.study.sections.third_line.MIN_PATIENTS_TO_DRAW` patients is not drawn (its curve would be one
patient's step) and is named in the legend; the section does not test it either.
"""
from __future__ import annotations

from typing import Any, Sequence

import matplotlib.pyplot as plt
import pandas as pd

from hcc_utils.report.figures.km_draw import KMCurve, KMPanel, composite_figure, display_name
from hcc_utils.report.figures.style import group_colours
from hcc_utils.stats.survival import kaplan_meier, km_quantile, numbers_at_risk
from hcc_utils.study.cohort import Study, group_code
from hcc_utils.study.labels import ENDPOINTS, regimen_label
from hcc_utils.study.registry import Kind, display_value
from hcc_utils.study.sections.cycles import cycles_subgroup_results, cycles_subgroups
from hcc_utils.study.sections.survival import survival_results
from hcc_utils.study.sections.third_line import MIN_PATIENTS_TO_DRAW, comparable_levels, third_line_results
from hcc_utils.tables.formatting import fmt_p_label

__all__ = ["km_panel", "survival_figures", "third_line_figures", "cycles_subgroup_figures", "survival_alt_texts",
           "third_line_alt_texts", "cycles_alt_texts", "THIRD_LINE_FIGURES", "third_line_levels"]


def km_panel(cohort: pd.DataFrame, endpoint: str, times: Sequence[float], colours: dict[str, str], title: str,
             stat_lines: Sequence[str] = (), by: str = "group", order: Sequence[str] | None = None,
             min_patients: int = MIN_PATIENTS_TO_DRAW) -> KMPanel:
    """A Kaplan-Meier panel of one endpoint per level of ``by``: curves of the levels with at least
    ``min_patients`` patients, their numbers at risk at ``times`` (the x-axis ticks) and medians; smaller levels
    listed as not drawn."""
    time_col, event_col, _ = ENDPOINTS[endpoint]
    levels = list(order) if order is not None else sorted(cohort[by].dropna().unique())
    panel = KMPanel(title=title, ticks=list(times), stat_lines=list(stat_lines))
    at_risk = {}
    for level in levels:
        part = cohort[cohort[by] == level]
        if len(part) == 0:
            continue
        if len(part) < min_patients:
            panel.not_drawn[level] = len(part)
            continue
        km = kaplan_meier(part[time_col].to_numpy(float), part[event_col].to_numpy(int))
        panel.curves[level] = KMCurve(km.table, km.n, km_quantile(km, 0.5).estimate, colours[level])
        at_risk[level] = numbers_at_risk(part[time_col], part[event_col], times).to_numpy()
    panel.at_risk = pd.DataFrame(at_risk, index=list(times)).T if at_risk else None
    return panel


def _message_panel(title: str, reason: str) -> KMPanel:
    return KMPanel(title=title, message=f"Not estimable: {reason}")


def _cohorts(study: Study):
    """Every cohort suffix with its frame, or None and the reason when it cannot be analysed."""
    problems, analysable = study.cohort_problems(), study.cohorts()
    return [(suffix, analysable.get(suffix), problems.get(suffix)) for suffix in ("", "_matched")]


#: What a panel prints when its hazard ratio cannot be estimated (the caption of Figures 2-3 says so).
HR_NOT_ESTIMABLE = "HR not estimable"


def _hr_line(values: dict[str, Any], key: str, suffix: str) -> list[str]:
    """The hazard ratio line of a panel ('HR 1.523 (95% CI 0.981–2.364)'), :data:`HR_NOT_ESTIMABLE` when the data
    give no estimate (never left off silently: the caption promises a hazard ratio)."""
    hr = values.get(f"{key}_hr{suffix}")
    if hr is None or pd.isna(hr):
        return [HR_NOT_ESTIMABLE]
    ratio = [display_value(Kind.RATIO, values[f"{key}_{stat}{suffix}"]) for stat in ("hr", "hr_lo", "hr_hi")]
    return [f"HR {ratio[0]} (95% CI {ratio[1]}–{ratio[2]})"]


# ------------------------------------------------------------------------------------------------- Figures 2-3
#: Figure names of the cohorts: all enrolled -> Figure 2, PS-matched -> Figure 3.
SURVIVAL_FIGURES = {"": "figure2", "_matched": "figure3"}


def survival_panels(study: Study, values: dict[str, Any]) -> dict[str, list[KMPanel]]:
    """The panels of Figures 2 and 3: A overall survival, B progression-free survival, by group."""
    colours = group_colours(study.groups, study.treatment, study.control)
    times = study.config.survival.risk_table_months
    panels = {}
    for suffix, cohort, problem in _cohorts(study):
        panels[SURVIVAL_FIGURES[suffix]] = [
            _message_panel(name, problem) if problem else km_panel(
                cohort, endpoint, times, colours, name,
                [fmt_p_label(values[f"survival.{endpoint}_logrank_p{suffix}"])]
                + _hr_line(values, f"survival.{endpoint}", suffix),
                order=study.groups)
            for endpoint, (_, _, name) in ENDPOINTS.items()]
    return panels


def survival_figures(study: Study, values: dict[str, Any] | None = None, ncols: int = 2,
                     confidence_bands: bool = False) -> dict[str, plt.Figure]:
    """Figures 2 (all enrolled) and 3 (PS-matched), each with panels A (OS) and B (PFS), ``ncols`` panels a row.

    ``values`` are the section's results (:func:`~hcc_utils.study.sections.survival_results`, computed when not
    given); ``confidence_bands`` draws the 95% pointwise bands (off in the article's figures).
    """
    values = survival_results(study) if values is None else values
    return {name: composite_figure(panels, ncols, confidence_bands)
            for name, panels in survival_panels(study, values).items()}


def _months(value: float) -> str:
    """A median in words for alt text: '10.3 months' or 'not reached'."""
    return "not reached" if pd.isna(value) else display_value(Kind.MONTHS, value) + " months"


def _median_text(values: dict[str, Any], key: str) -> str:
    return _months(values[key])


def survival_alt_texts(study: Study, values: dict[str, Any]) -> dict[str, str]:
    """Alt text of Figures 2 and 3: what is plotted, the medians, log-rank P and HR of each panel."""
    texts = {}
    for suffix, _, problem in _cohorts(study):
        cohort = "all enrolled patients" if not suffix else "the propensity-score-matched cohort"
        parts = [f"Kaplan-Meier curves by second-line group in {cohort}, with numbers at risk."]
        for letter, (endpoint, (_, _, name)) in zip("AB", ENDPOINTS.items()):
            if problem:
                parts.append(f"Panel {letter}, {name.lower()}: not estimable ({problem}).")
                continue
            medians = ", ".join(
                f"{display_name(g)} {_median_text(values, f'survival.{endpoint}_median_{group_code(study, g)}{suffix}')}"
                for g in study.groups)
            p = fmt_p_label(values[f"survival.{endpoint}_logrank_p{suffix}"])
            parts.append(f"Panel {letter}, {name.lower()}: median {medians}; {p}.")
        texts[SURVIVAL_FIGURES[suffix]] = " ".join(parts)
    return texts


# ------------------------------------------------------------------------------------------------- Supp. Figures 1-2
#: Supplementary Figures 1 and 2: (figure number, id word of the p-value, title words).
THIRD_LINE_FIGURES = (("1", "received", "receipt of third-line therapy"), ("2", "type", "type of third-line therapy"))


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


#: What a panel of fewer than two curves prints instead of a log-rank P (a test of levels it does not draw).
NO_COMPARISON_DRAWN = "Fewer than two curves drawn: no log-rank P shown"


def _note_untested_levels(panel: KMPanel, p: float, study: Study) -> KMPanel:
    """A log-rank P only on a panel that draws at least two curves: with one curve (the other levels too small to
    draw, for example third-line regimens of one patient each) a P would compare curves the reader cannot see, so
    the panel says :data:`NO_COMPARISON_DRAWN` instead (the P stays in the section's results and prose). Otherwise
    say on the panel when its test includes levels too small to draw (the article's tests keep them)."""
    if len(panel.curves) < 2 and not panel.message:
        panel.stat_lines = [NO_COMPARISON_DRAWN] if panel.curves or panel.not_drawn else []
        return panel
    if panel.not_drawn and p == p and study.config.survival.min_subgroup_size < MIN_PATIENTS_TO_DRAW:
        panel.stat_lines = [*panel.stat_lines, "(test includes levels not drawn)"]
    return panel


def third_line_panels(study: Study, values: dict[str, Any]) -> dict[str, list[KMPanel]]:
    """Panels of Supplementary Figures 1 and 2: treatment group all enrolled (A), matched (B); control group (C, D)."""
    times = study.config.survival.risk_table_months
    minimum = max(MIN_PATIENTS_TO_DRAW, study.config.survival.min_subgroup_size)
    figures = {}
    for figure_no, kind, _ in THIRD_LINE_FIGURES:
        every_level = sorted(third_line_levels(study.data, kind)["level"].dropna().unique())
        colours = group_colours(every_level)  # one colour per level across the four panels
        panels = []
        for group in study.groups:
            for suffix, cohort, problem in _cohorts(study):
                heading = f"{display_name(group)}{', PS-matched' if suffix else ', all enrolled'}"
                if problem:
                    panels.append(_message_panel(heading, problem))
                    continue
                part = third_line_levels(cohort[cohort["group"] == group], kind)
                levels = sorted(part["level"].dropna().unique())
                p = values[f"thirdline.os_{kind}_{group_code(study, group)}_p{suffix}"]
                panel = km_panel(part, "os", times, colours, heading, [fmt_p_label(p)],
                                 by="level", order=levels, min_patients=minimum)
                panels.append(_note_untested_levels(panel, p, study))
        figures[f"supp_figure{figure_no}"] = panels
    return figures


def third_line_figures(study: Study, values: dict[str, Any] | None = None, ncols: int = 2,
                       confidence_bands: bool = False) -> dict[str, plt.Figure]:
    """Supplementary Figures 1 (OS by receipt of third-line therapy) and 2 (OS by its type, recipients only), four
    panels each. ``values`` are those of :func:`~hcc_utils.study.sections.third_line_results` (computed when not
    given)."""
    values = third_line_results(study) if values is None else values
    return {name: composite_figure(panels, ncols, confidence_bands)
            for name, panels in third_line_panels(study, values).items()}


def _panel_summary(panel: KMPanel) -> str:
    if panel.message:
        return panel.message.lower()
    curves = ", ".join(f"{display_name(label)} (n = {c.n}) median {_months(c.median)}"
                       for label, c in panel.curves.items()) or "no curve drawn"
    small = "; not drawn: " + ", ".join(f"{display_name(k)} (n = {n})" for k, n in panel.not_drawn.items()) \
        if panel.not_drawn else ""
    stats = "; ".join(panel.stat_lines)
    return f"{curves}{small}; {stats}" if stats else curves + small


def _alt_texts(panels: dict[str, list[KMPanel]], intro: dict[str, str]) -> dict[str, str]:
    return {name: intro[name] + " " + " ".join(f"Panel {letter}, {p.title}: {_panel_summary(p)}."
                                               for letter, p in zip("ABCD", figure))
            for name, figure in panels.items()}


def third_line_alt_texts(study: Study, values: dict[str, Any]) -> dict[str, str]:
    """Alt text of Supplementary Figures 1 and 2: each panel's curves, patients, medians and log-rank P."""
    intro = {f"supp_figure{n}": f"Kaplan-Meier curves of overall survival by {words} within each second-line group."
             for n, _, words in THIRD_LINE_FIGURES}
    return _alt_texts(third_line_panels(study, values), intro)


# ------------------------------------------------------------------------------------------------- Supp. Figures 3-4
def cycles_panels(study: Study, values: dict[str, Any]) -> dict[str, list[KMPanel]]:
    """Panels of Supplementary Figures 3 (OS) and 4 (PFS): all enrolled at most / more than the cut (A, B), the same
    in the matched cohort (C, D)."""
    colours = group_colours(study.groups, study.treatment, study.control)
    times = study.config.survival.risk_table_months
    minimum = max(MIN_PATIENTS_TO_DRAW, study.config.survival.min_subgroup_size)
    figures = {}
    for figure_no, endpoint in (("3", "os"), ("4", "pfs")):
        panels = []
        for suffix, cohort, problem in _cohorts(study):
            for name, mask, text in cycles_subgroups(study, study.data if cohort is None else cohort):
                heading = f"{text}{', PS-matched' if suffix else ', all enrolled'}"
                if problem:
                    panels.append(_message_panel(heading, problem))
                    continue
                p = values[f"cycles.{name}_{endpoint}_logrank_p{suffix}"]
                panel = km_panel(cohort[mask], endpoint, times, colours, heading, [fmt_p_label(p)],
                                 order=study.groups, min_patients=minimum)
                panels.append(_note_untested_levels(panel, p, study))
        figures[f"supp_figure{figure_no}"] = panels
    return figures


def cycles_subgroup_figures(study: Study, values: dict[str, Any] | None = None, ncols: int = 2,
                            confidence_bands: bool = False) -> dict[str, plt.Figure]:
    """Supplementary Figures 3 (OS) and 4 (PFS): by group within subgroups of prior ATE+BEV cycles (at most / more
    than the configured cut), four panels each. ``values`` are those of
    :func:`~hcc_utils.study.sections.cycles_subgroup_results` (computed when not given). An arm with too few patients
    is not drawn and not tested ("not estimable")."""
    values = cycles_subgroup_results(study) if values is None else values
    return {name: composite_figure(panels, ncols, confidence_bands)
            for name, panels in cycles_panels(study, values).items()}


def cycles_alt_texts(study: Study, values: dict[str, Any]) -> dict[str, str]:
    """Alt text of Supplementary Figures 3 and 4: each panel's curves, patients, medians and log-rank P."""
    intro = {f"supp_figure{n}": f"Kaplan-Meier curves of {name.lower()} by second-line group within subgroups of "
                                f"prior ATE+BEV cycles."
             for n, (_, (_, _, name)) in zip("34", ENDPOINTS.items())}
    return _alt_texts(cycles_panels(study, values), intro)
