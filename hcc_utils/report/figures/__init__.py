"""Figures of the book as a journal prints them, in one consistent, colour-blind-safe style.

Every figure function returns matplotlib Figures; :func:`publish_figure` saves each (SVG for the book, PNG at 2x,
PDF for submission) into the run's output folder and glues it for the book with its alt text and download line.
The modules:

* :mod:`~hcc_utils.report.figures.style`: palette, fixed group colours, type sizes, saving and publishing;
* :mod:`~hcc_utils.report.figures.panels`: a composite figure's panels one per image, for phones;
* :mod:`~hcc_utils.report.figures.km_draw`: a Kaplan-Meier panel (numbers at risk, medians, free corner for the
  test) and composites with A-D panel labels;
* :mod:`~hcc_utils.report.figures.kaplan_meier`: the article's Kaplan-Meier figures and their alt texts;
* :mod:`~hcc_utils.report.figures.flow`: the flow diagram (Figure 1);
* :mod:`~hcc_utils.report.figures.forest`: the forest plot of Table 4's multivariable models;
* :mod:`~hcc_utils.report.figures.charts`: matching diagnostics and dot charts;
* :mod:`~hcc_utils.report.figures.bootstrap`: the replicate hazard ratios of the bootstrap chapter.

Every public name is importable from ``hcc_utils.report.figures``.
"""
from hcc_utils.report.figures.style import (CONTROL_COLOUR, OKABE_ITO, STYLE, TREATMENT_COLOUR, FigureImage,
                                            group_colours, publish_figure, publish_figures, save_figure)
from hcc_utils.report.figures.bootstrap import bootstrap_alt_text, bootstrap_hr_figure
from hcc_utils.report.figures.charts import (adverse_events_alt_text, common_adverse_events_chart, dot_chart,
                                             love_plot, matching_alt_texts, matching_figures, score_overlap)
from hcc_utils.report.figures.flow import cohort_flow_boxes, cohort_flow_figure, flow_alt_text, flow_diagram
from hcc_utils.report.figures.forest import (forest_alt_text, forest_plot, multivariable_forest,
                                             multivariable_forest_table)
from hcc_utils.report.figures.km_draw import KMPanel, composite_figure, draw_km_panel, free_corner, panel_letters
from hcc_utils.report.figures.kaplan_meier import (cycles_alt_texts, cycles_subgroup_figures, km_panel,
                                                   survival_alt_texts, survival_figures, third_line_alt_texts,
                                                   third_line_figures)

__all__ = [
    # style
    "CONTROL_COLOUR", "OKABE_ITO", "STYLE", "TREATMENT_COLOUR", "FigureImage", "group_colours", "publish_figure",
    "publish_figures", "save_figure",
    # building blocks
    "KMPanel", "composite_figure", "draw_km_panel", "free_corner", "panel_letters", "km_panel", "dot_chart",
    "flow_diagram", "forest_plot", "love_plot", "score_overlap",
    # the book's figures, per section, and their alt texts
    "cohort_flow_boxes", "cohort_flow_figure", "flow_alt_text", "matching_figures", "survival_figures",
    "survival_alt_texts", "multivariable_forest", "multivariable_forest_table", "forest_alt_text",
    "third_line_figures", "third_line_alt_texts", "cycles_subgroup_figures", "cycles_alt_texts",
    "common_adverse_events_chart", "adverse_events_alt_text", "matching_alt_texts", "bootstrap_hr_figure",
    "bootstrap_alt_text",
]
