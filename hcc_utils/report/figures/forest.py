"""Forest plots of hazard ratios."""
from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hcc_utils.report.figures.style import OKABE_ITO
from hcc_utils.study.cohort import Study
from hcc_utils.study.labels import ENDPOINTS, variable_labels


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
    """Hazard ratios of the multivariable models, one panel per endpoint; when no predictor met the univariable
    selection threshold, a small figure saying so (so the page keeps its figure)."""
    table = multivariable_forest_table(study, models)
    if len(table):
        return forest_plot(table, panel_col="panel")
    fig, ax = plt.subplots(figsize=(5, 1))
    ax.set_axis_off()
    ax.text(0.5, 0.5, "No predictor met the univariable selection threshold", ha="center", va="center")
    return fig
