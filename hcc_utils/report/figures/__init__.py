"""Figures of the book in one consistent, colour-blind-safe style.

Every figure function returns the matplotlib Figure; :func:`publish_figure` saves it (PNG and SVG) into the run's
output folder and glues it for the book. The modules:

* :mod:`~hcc_utils.report.figures.style`: palette, fixed group colours, saving and publishing;
* :mod:`~hcc_utils.report.figures.kaplan_meier`: Kaplan-Meier plots;
* :mod:`~hcc_utils.report.figures.flow`: the flow diagram;
* :mod:`~hcc_utils.report.figures.forest`: forest plots of hazard ratios;
* :mod:`~hcc_utils.report.figures.charts`: matching diagnostics and dot charts.

Every public name is importable from ``hcc_utils.report.figures``.
"""
from hcc_utils.report.figures.style import (CONTROL_COLOUR, OKABE_ITO, STYLE, TREATMENT_COLOUR, group_colours,
                                            publish_figure, publish_figures, save_figure)
from hcc_utils.report.figures.charts import (common_adverse_events_chart, dot_chart, love_plot, matching_figures,
                                             score_overlap)
from hcc_utils.report.figures.flow import cohort_flow_boxes, cohort_flow_figure, flow_diagram
from hcc_utils.report.figures.forest import forest_plot, multivariable_forest, multivariable_forest_table
from hcc_utils.report.figures.kaplan_meier import (cycles_subgroup_figures, km_plot, survival_figures,
                                                   third_line_figures)

__all__ = [
    # style
    "CONTROL_COLOUR", "OKABE_ITO", "STYLE", "TREATMENT_COLOUR", "group_colours", "publish_figure", "publish_figures",
    "save_figure",
    # building blocks
    "dot_chart", "flow_diagram", "forest_plot", "km_plot", "love_plot", "score_overlap",
    # the book's figures, per section
    "cohort_flow_boxes", "cohort_flow_figure", "matching_figures", "survival_figures", "multivariable_forest",
    "multivariable_forest_table", "third_line_figures", "cycles_subgroup_figures", "common_adverse_events_chart",
]
