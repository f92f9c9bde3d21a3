"""The CONSORT-style flow diagram (Figure 1)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hcc_utils.report.figures.style import CONTROL_COLOUR, OKABE_ITO, TREATMENT_COLOUR


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
