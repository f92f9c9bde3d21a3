"""The CONSORT-style flow diagram (Figure 1)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hcc_utils.config.schema import ROLES
from hcc_utils.report.figures.km_draw import display_name
from hcc_utils.report.figures.style import CONTROL_COLOUR, OKABE_ITO, TREATMENT_COLOUR
from hcc_utils.study.labels import regimen_label

#: Type size of the boxes, in points at the figure's size (shown at that size in the book).
BOX_PT = 10.5


def flow_diagram(boxes: list[tuple[str, str]], exclusions: dict[int, str], branches: list[str]):
    """A CONSORT-style flow diagram drawn from counts.

    Parameters
    ----------
    boxes : main column, top to bottom, as (key, text).
    exclusions : index of the box after which an exclusion box branches right -> its text.
    branches : texts of the final boxes (the groups), side by side under the last box.
    """
    fig, ax = plt.subplots(figsize=(8.2, 1.3 * (len(boxes) + 1.5)))
    ax.set_axis_off()
    height = len(boxes) + 1.5
    ax.set_xlim(0, 10)
    ax.set_ylim(0, height)
    style = dict(boxstyle="round,pad=0.4", facecolor="#F2F2F2", edgecolor="#555555")
    ys = [height - 0.6 - i for i in range(len(boxes))]
    for i, ((_, text), y) in enumerate(zip(boxes, ys)):
        ax.text(3.2, y, text, ha="center", va="center", bbox=style, fontsize=BOX_PT)
        if i + 1 < len(boxes):
            ax.annotate("", xy=(3.2, ys[i + 1] + 0.28), xytext=(3.2, y - 0.28), arrowprops=dict(arrowstyle="->", color="#555555"))
        if i in exclusions:
            mid = y - 0.5
            ax.annotate("", xy=(5.4, mid), xytext=(3.2, mid), arrowprops=dict(arrowstyle="->", color="#555555"))
            ax.text(5.5, mid, exclusions[i], ha="left", va="center", fontsize=BOX_PT,
                    bbox=dict(boxstyle="round,pad=0.35", facecolor="white", edgecolor="#999999"))
    if branches:
        y = ys[-1] - 1.0
        xs = np.linspace(1.2, 5.2, len(branches)) if len(branches) > 1 else [3.2]
        colours = [TREATMENT_COLOUR, CONTROL_COLOUR] + OKABE_ITO[2:]
        for x, text, colour in zip(xs, branches, colours):
            ax.annotate("", xy=(x, y + 0.3), xytext=(3.2, ys[-1] - 0.28), arrowprops=dict(arrowstyle="->", color="#555555"))
            ax.text(x, y, text, ha="center", va="center", fontsize=BOX_PT,
                    bbox=dict(boxstyle="round,pad=0.4", facecolor="white", edgecolor=colour, linewidth=1.8))
    return fig


def cohort_flow_boxes(flow: dict[str, int], treatment: str, control: str) -> tuple[list[tuple[str, str]], dict[int, str], list[str]]:
    """The texts of Figure 1's boxes from the flow counts (:func:`hcc_utils.data.derive.cohort_flow`).

    Returns ``(boxes, exclusions, branches)`` as :func:`flow_diagram` takes them. The other second-line regimens
    (every ``flow.second_line_<regimen>`` count that is not a study group and not zero) are listed in the third
    exclusion box by their readable names (:func:`hcc_utils.study.labels.regimen_label`).
    """
    boxes = [
        ("eligible", f"Stopped first-line ATE+BEV\nn = {flow['flow.eligible']}"),
        ("progressed", f"Stopped ATE+BEV for progression\nn = {flow['flow.progressed']}"),
        ("second_line", f"Received second-line therapy\nn = {flow['flow.second_line']}"),
        ("enrolled", f"Enrolled: {treatment} or {control}\nn = {flow['flow.enrolled']}"),
    ]
    prefix = "flow.second_line_"
    others = "\n".join(f"{display_name(regimen_label(key.removeprefix(prefix)))}, n = {n}" for key, n in flow.items()
                       if key.startswith(prefix) and n and key.removeprefix(prefix) not in (treatment, control))
    no_second_line = flow.get("flow.no_second_line")
    exclusions = {
        0: f"Excluded: died on ATE+BEV (n = {flow['flow.died_on_first_line']}),\n"
           f"deteriorated on ATE+BEV (n = {flow['flow.deteriorated_on_first_line']})",
        1: f"Excluded: deteriorated after stopping ATE+BEV\n(n = {flow['flow.deteriorated_after_first_line']})"
           + (f", no second-line therapy (n = {no_second_line})" if no_second_line else ""),
        2: f"Excluded: other second-line regimens\n(n = {flow['flow.second_line'] - flow['flow.enrolled']})"
           + (f"\n{others}" if others else ""),
    }
    branches = [f"{display_name(group)}\nn = {flow['flow.enrolled_' + role]}"
                for role, group in zip(ROLES, (treatment, control))]  # the groups' counts are named by role
    return boxes, exclusions, branches


def cohort_flow_figure(flow: dict[str, int], treatment: str, control: str):
    """Figure 1: the flow diagram of the screened cohort to the two study groups, drawn from the flow counts."""
    return flow_diagram(*cohort_flow_boxes(flow, treatment, control))


def flow_alt_text(flow: dict[str, int], treatment: str, control: str) -> str:
    """Alt text of Figure 1: the boxes from top to bottom with their counts, exclusions and the two groups."""
    boxes, exclusions, branches = cohort_flow_boxes(flow, treatment, control)
    steps = []
    for index, (_, text) in enumerate(boxes):
        steps.append(text.replace("\n", ", ") + ".")
        if index in exclusions:
            steps.append(exclusions[index].replace(")\n", "): ").replace("\n", " ", 1).replace("\n", "; ") + ".")
    groups = " and ".join(b.replace("\n", ", ") for b in branches)
    return "Flow diagram of the screened cohort. " + " ".join(steps) + f" Study groups: {groups}."
