"""Drawing a Kaplan-Meier panel as a journal prints it, and composing panels into one figure.

A panel (:class:`KMPanel`) holds what is drawn: the curves, the numbers at risk at the x-axis ticks, the medians,
the test text, and the levels too small to draw. :func:`draw_km_panel` draws it into a figure or a sub-figure:

* a header with the panel's title and the legend (above the axes, so it never covers a curve or a mark);
* the curves as steps with censoring ticks, optional 95% confidence bands (off by default, as in the article),
  dashed lines at each reached median;
* the test text (log-rank P, hazard ratio) in a corner of the plot that no curve, band or median line crosses
  (:func:`free_corner`), or in the header when no corner is free;
* under the axis, the numbers at risk at the same ticks, one row per curve labelled in the curve's colour
  (darkened where needed for a text contrast of 4.5:1 on white, :func:`~hcc_utils.report.figures.style.text_colour`).

:func:`composite_figure` puts panels side by side or in a grid with bold A, B, C, D labels: one image per figure
number, as the article prints it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hcc_utils.report.figures.style import text_colour

#: Corners tried for the test text, in order of preference (axes coordinates of the box's anchor).
CORNERS = ("upper right", "lower left", "lower right")
#: Width of one panel in inches: two side by side fit the book's column at about 1.2x reduction.
PANEL_WIDTH_IN = 4.9
PLOT_HEIGHT_IN = 2.9
RISK_ROW_IN = 0.24
TEXT_PT = 10.5
#: Approximate width of a character of the figure's text, in inches per point of type size.
CHAR_IN_PER_PT = 0.0078
LINE_IN_PER_PT = 0.0195
#: Height range of the plot (survival probability, a little room above 1 for the censoring ticks).
Y_LIMITS = (0.0, 1.03)
#: Drawing grid for thinning curves: 1/4000 of each axis, under a quarter of a pixel of the PNG (200 dpi, axes
#: under 1000 pixels wide); a curve of any number of patients is drawn with at most about 2 x 4000 points.
THIN_CELLS = 4000


def display_name(label: str) -> str:
    """A group or level as a figure writes it: first letter capitalised ('sorafenib' -> 'Sorafenib')."""
    text = str(label)
    return text[:1].upper() + text[1:]


@dataclass
class KMCurve:
    """One Kaplan-Meier curve: its step table (``time, survival, n_censor, ci_lower, ci_upper``), patients,
    median (NaN when not reached) and colour."""

    table: pd.DataFrame
    n: int
    median: float
    colour: str


@dataclass
class KMPanel:
    """Everything one Kaplan-Meier panel shows.

    ``curves`` (label -> :class:`KMCurve`) are drawn in order; ``at_risk`` has one row per curve and one column per
    tick time; ``not_drawn`` (label -> patients) lists levels with too few patients to draw, named in the legend;
    ``stat_lines`` are the test's lines (log-rank P, HR); ``message`` replaces the plot when the panel cannot be
    drawn at all (a cohort that cannot be analysed).
    """

    title: str
    curves: dict[str, KMCurve] = field(default_factory=dict)
    at_risk: pd.DataFrame | None = None
    ticks: Sequence[float] = ()
    stat_lines: list[str] = field(default_factory=list)
    not_drawn: dict[str, int] = field(default_factory=dict)
    message: str = ""
    xlabel: str = "Months since start of second-line therapy"
    ylabel: str = "Survival probability"

    def legend_entries(self) -> list[tuple[str, str | None]]:
        """(text, colour) of each legend entry; levels not drawn have no colour."""
        entries = [(f"{display_name(label)}, n = {curve.n}", curve.colour) for label, curve in self.curves.items()]
        entries += [(f"{display_name(label)}, n = {n}: not drawn", None) for label, n in self.not_drawn.items()]
        return entries


# ------------------------------------------------------------------------------------------------- free corner
def covered_range(times: np.ndarray, upper: np.ndarray, lower: np.ndarray, x0: float, x1: float,
                  start: float = 1.0) -> tuple[float, float] | None:
    """The interval of heights a decreasing step curve (or band, between ``lower`` and ``upper``) takes over
    ``[x0, x1]``, including its vertical segments; None when the curve ends before ``x0``.

    The curve starts at (0, ``start``) and ends at its last time.
    """
    times = np.asarray(times, float)
    end = float(times[-1]) if len(times) else 0.0
    if x0 > end:
        return None
    x1 = min(x1, end)
    if times.size == 0:
        return (start, start)
    inside = times[(times > x0) & (times <= x1)]
    points = np.concatenate([[x0], inside])
    index = np.searchsorted(times, points, side="right") - 1     # the right-continuous steps at the points
    values = np.concatenate([np.where(index < 0, start, np.asarray(curve, float)[np.maximum(index, 0)])
                             for curve in (upper, lower)])
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else None


def corner_box(corner: str, xlim: tuple[float, float], ylim: tuple[float, float], width: float, height: float,
               margin: float = 0.02) -> tuple[float, float, float, float]:
    """Data rectangle ``(x0, x1, y0, y1)`` of a box of ``width`` x ``height`` (fractions of the axes) placed in
    ``corner`` with a ``margin`` (fraction)."""
    (xa, xb), (ya, yb) = xlim, ylim
    fx0 = 1 - margin - width if "right" in corner else margin
    fy0 = 1 - margin - height if "upper" in corner else margin
    return (xa + fx0 * (xb - xa), xa + (fx0 + width) * (xb - xa),
            ya + fy0 * (yb - ya), ya + (fy0 + height) * (yb - ya))


def free_corner(curves: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], xlim: tuple[float, float],
                ylim: tuple[float, float], width: float, height: float, medians: Sequence[float] = (),
                corners: Sequence[str] = CORNERS) -> str | None:
    """The first of ``corners`` where a box of ``width`` x ``height`` (axes fractions) meets no curve, band or
    median line; None when every corner is crossed.

    ``curves`` are ``(times, upper, lower)`` step functions starting at 1 (upper = lower for a curve without its
    band); ``medians`` the reached medians, each drawn as a dashed line from (0, 0.5) to (m, 0.5) and down to 0.
    """
    for corner in corners:
        x0, x1, y0, y1 = corner_box(corner, xlim, ylim, width, height)
        crossed = False
        for times, upper, lower in curves:
            span = covered_range(times, upper, lower, x0, x1)
            if span is not None and span[0] <= y1 and span[1] >= y0:
                crossed = True
        for m in medians:
            if np.isfinite(m) and ((y0 <= 0.5 <= y1 and x0 <= m) or (x0 <= m <= x1 and y0 <= 0.5)):
                crossed = True
        if not crossed:
            return corner
    return None


# ------------------------------------------------------------------------------------------------- drawing
def _text_size_in(lines: Sequence[str], size_pt: float) -> tuple[float, float]:
    """Approximate (width, height) in inches of a block of text lines."""
    longest = max((len(line) for line in lines), default=0)
    return longest * CHAR_IN_PER_PT * size_pt, len(lines) * LINE_IN_PER_PT * size_pt


def legend_columns(panel: KMPanel) -> int:
    """Legend columns: two when the entries are short enough to sit side by side in a panel."""
    entries = panel.legend_entries()
    longest = max((len(text) for text, _ in entries), default=0)
    return 2 if len(entries) > 1 and longest <= 26 else 1


def header_height_in(panel: KMPanel, stats_in_header: bool = False) -> float:
    """Height of the header: title, the test's lines when no corner of the plot is free for them, legend rows."""
    rows = math.ceil(len(panel.legend_entries()) / legend_columns(panel)) if panel.legend_entries() else 0
    return 0.36 + 0.24 * rows + (0.21 * len(panel.stat_lines) if stats_in_header else 0.0)


def panel_height_in(panel: KMPanel, stats_in_header: bool = True) -> float:
    """Height of a whole panel: header, plot, axis labels, numbers at risk (room for the test's lines in the header
    unless told they sit in a corner)."""
    if panel.message:
        return 1.6
    rows = 0 if panel.at_risk is None else len(panel.at_risk)
    return (header_height_in(panel, stats_in_header) + PLOT_HEIGHT_IN + 0.75
            + (0.4 + RISK_ROW_IN * rows if rows else 0))


def left_margin_in(panel: KMPanel) -> float:
    """Room left of the axes for the y label, tick labels and the row labels of the numbers at risk."""
    labels = [display_name(label) for label in panel.curves]
    return max(0.85, _text_size_in(labels, TEXT_PT)[0] + 0.2)


def draw_km_panel(target, panel: KMPanel, confidence_bands: bool = False, left_in: float | None = None) -> dict:
    """Draw ``panel`` into ``target`` (a Figure or SubFigure) and return its axes: ``{"header", "plot", "risk"}``
    (``plot`` and ``risk`` None for a panel with a message) and the ``corner`` holding the test's lines (None when
    they sit in the header).

    ``left_in`` is the left margin in inches (composites give every panel the same, so axes align).
    """
    width, height = target.get_size_inches() if hasattr(target, "get_size_inches") else _subfigure_size(target)
    left_in = left_in if left_in is not None else left_margin_in(panel)
    if panel.message:
        ax = target.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.text(0.0, 0.92, panel.title, fontsize=12, fontweight="bold", va="top", transform=ax.transAxes)
        ax.text(0.5, 0.4, panel.message, ha="center", va="center", fontsize=TEXT_PT, transform=ax.transAxes)
        return {"header": ax, "plot": None, "risk": None, "corner": None}
    right = 0.97
    corner = stat_corner(panel, (width * (right - left_in / width), PLOT_HEIGHT_IN), confidence_bands) \
        if panel.stat_lines else None
    header = header_height_in(panel, stats_in_header=bool(panel.stat_lines) and corner is None)
    rows = 0 if panel.at_risk is None else len(panel.at_risk)
    risk_height = 0.4 + RISK_ROW_IN * rows if rows else 0.0
    heights = [header, PLOT_HEIGHT_IN, 0.75, risk_height] if rows else [header, PLOT_HEIGHT_IN, 0.55]
    heights[0] += max(height - sum(heights), 0.0)  # a taller row: the header takes the room, plots stay aligned
    grid = target.add_gridspec(len(heights), 1, height_ratios=heights, left=left_in / width, right=right, top=1.0,
                               bottom=0.0, hspace=0)
    head = target.add_subplot(grid[0])
    head.set_axis_off()
    ax = target.add_subplot(grid[1])
    _draw_curves(ax, panel, confidence_bands)
    _draw_header(head, ax, panel, corner)
    risk = None
    if rows:
        risk = target.add_subplot(grid[3], sharex=ax)
        _draw_risk_table(risk, panel)
    return {"header": head, "plot": ax, "risk": risk, "corner": corner}


def _subfigure_size(subfig) -> tuple[float, float]:
    bbox = subfig.bbox
    return bbox.width / subfig.figure.dpi, bbox.height / subfig.figure.dpi


def thin_steps(times: np.ndarray, curves: Sequence[np.ndarray], cell_x: float, cell_y: float) -> np.ndarray:
    """Indices of the points of step curves (non-decreasing ``times``, one or more monotone ``curves`` over them)
    to draw: the first point entering each cell of a ``cell_x`` x ``cell_y`` grid, and the last point.

    A dropped point lies in the same cell as the last kept one (the curves are monotone), so the thinned step
    curve never departs from the full one by more than one cell height, and steps stay at their times to within a
    cell width: with cells under a quarter of a pixel the drawing is unchanged; the numbers are not touched. A
    curve whose points all fall in distinct cells (the bundled cohort: a day is many cells wide) keeps every point.
    """
    times = np.asarray(times, float)
    if times.size <= 2:
        return np.arange(times.size)
    new_cell = np.zeros(times.size, dtype=bool)
    for values, cell in [(times, cell_x)] + [(np.asarray(c, float), cell_y) for c in curves]:
        index = np.floor(values / cell)
        new_cell[1:] |= ~(index[1:] == index[:-1])        # NaN (no value) counts as a new cell
    new_cell[0] = new_cell[-1] = True
    return np.flatnonzero(new_cell)


def _draw_curves(ax, panel: KMPanel, confidence_bands: bool) -> None:
    ticks = list(panel.ticks)
    x_end = max(ticks) if ticks else max((float(c.table["time"].max()) for c in panel.curves.values()
                                          if len(c.table)), default=1.0)
    cell_x = (x_end if x_end > 0 else 1.0) / THIN_CELLS
    cell_y = (Y_LIMITS[1] - Y_LIMITS[0]) / THIN_CELLS
    for label, curve in panel.curves.items():
        table = curve.table
        times = np.concatenate([[0.0], table["time"].to_numpy(float)])
        surv = np.concatenate([[1.0], table["survival"].to_numpy(float)])
        if confidence_bands:
            low = np.nan_to_num(np.concatenate([[1.0], table["ci_lower"].to_numpy(float)]))
            high = np.concatenate([[1.0], table["ci_upper"].to_numpy(float)])
        keep = thin_steps(times, [surv, low, high] if confidence_bands else [surv], cell_x, cell_y)
        if keep.size < times.size:                      # drawn points only: the table keeps every step
            times, surv = times[keep], surv[keep]
            if confidence_bands:
                low, high = low[keep], high[keep]
        ax.step(times, surv, where="post", color=curve.colour, linewidth=1.8, label=display_name(label))
        if confidence_bands:
            ax.fill_between(times, low, high, step="post", color=curve.colour, alpha=0.15, linewidth=0)
        censored = table[table["n_censor"] > 0]
        tick_times, tick_surv = censored["time"].to_numpy(float), censored["survival"].to_numpy(float)
        keep = thin_steps(tick_times, [tick_surv], cell_x, cell_y)
        if keep.size < tick_times.size:                 # ticks closer than a cell are one mark on the page
            tick_times, tick_surv = tick_times[keep], tick_surv[keep]
            ax.plot(tick_times, tick_surv, linestyle="none", marker="|", markersize=8, markeredgewidth=1.4,
                    color=curve.colour)
        else:
            ax.plot(censored["time"], censored["survival"], linestyle="none", marker="|", markersize=8,
                    markeredgewidth=1.4, color=curve.colour)
        if np.isfinite(curve.median):
            ax.plot([0, curve.median], [0.5, 0.5], linestyle="--", linewidth=0.9, color="#777777", zorder=1)
            ax.plot([curve.median, curve.median], [0, 0.5], linestyle="--", linewidth=0.9, color=curve.colour,
                    zorder=1)
    ax.set_xlim(0, max(ticks) if ticks else None)
    ax.set_ylim(*Y_LIMITS)
    if ticks:
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_yticklabels(["0", "0.25", "0.50", "0.75", "1.00"])
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    if not panel.curves:
        ax.text(0.5, 0.5, "No level with enough patients to draw", ha="center", va="center",
                transform=ax.transAxes, fontsize=TEXT_PT)


def stat_corner(panel: KMPanel, plot_size_in: tuple[float, float], confidence_bands: bool = False) -> str | None:
    """Corner of the plot free for the test's lines (see :func:`free_corner`), from the curves, the x range of the
    ticks and the plot's size in inches; None when every corner is crossed."""
    width_in, height_in = plot_size_in
    text_w, text_h = _text_size_in(panel.stat_lines, TEXT_PT)
    steps = []
    for curve in panel.curves.values():
        table = curve.table
        upper = table["ci_upper"].to_numpy(float) if confidence_bands else table["survival"].to_numpy(float)
        lower = table["ci_lower"].to_numpy(float) if confidence_bands else table["survival"].to_numpy(float)
        steps.append((table["time"].to_numpy(float), upper, np.nan_to_num(lower)))
    xmax = max(panel.ticks) if panel.ticks else max((float(c.table["time"].max()) for c in panel.curves.values()),
                                                    default=1.0)
    return free_corner(steps, (0.0, xmax), Y_LIMITS, min(0.95, (text_w + 0.12) / width_in),
                       min(0.95, (text_h + 0.1) / height_in), [c.median for c in panel.curves.values()])


def _draw_header(head, ax, panel: KMPanel, corner: str | None) -> None:
    head.text(0.0, 1.0, panel.title, fontsize=12, fontweight="bold", va="top", ha="left", transform=head.transAxes)
    handles = []
    for text, colour in panel.legend_entries():
        if colour is None:
            handles.append(plt.Line2D([], [], linestyle="none", marker="", label=text))
        else:
            handles.append(plt.Line2D([], [], color=colour, linewidth=2.2, label=text))
    if handles:
        head.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 0), ncol=legend_columns(panel),
                    fontsize=TEXT_PT, handlelength=1.6, columnspacing=1.2, borderaxespad=0.1,
                    handletextpad=0.5, frameon=False)
    if not panel.stat_lines:
        return
    text = "\n".join(panel.stat_lines)
    if corner is None:  # under the title, above the legend
        head.text(0.0, 1.0, "\n" + text, fontsize=TEXT_PT, va="top", ha="left", transform=head.transAxes,
                  linespacing=1.5, gid="stat-header")
    else:
        x = 0.98 if "right" in corner else 0.02
        y = 0.98 if "upper" in corner else 0.02
        ax.text(x, y, text, fontsize=TEXT_PT, transform=ax.transAxes, ha="right" if "right" in corner else "left",
                va="top" if "upper" in corner else "bottom", gid=f"stat-{corner.replace(' ', '-')}")


def _draw_risk_table(risk, panel: KMPanel) -> None:
    table = panel.at_risk
    rows = len(table)
    risk.set_ylim(-0.5, rows - 0.5)
    for row, (label, counts) in enumerate(table.iterrows()):
        y = rows - 1 - row
        colour = text_colour(panel.curves[label].colour) if label in panel.curves else "black"
        for t, n in counts.items():
            risk.text(float(t), y, str(int(n)), ha="center", va="center", fontsize=TEXT_PT, color=colour)
    risk.set_yticks(range(rows))
    risk.set_yticklabels([display_name(label) for label in table.index][::-1], fontsize=TEXT_PT)
    for tick, label in zip(risk.get_yticklabels(), list(table.index)[::-1]):
        tick.set_color(text_colour(panel.curves[label].colour) if label in panel.curves else "black")
    risk.tick_params(axis="both", length=0)
    risk.tick_params(axis="y", pad=TEXT_PT * 1.8)  # clear of the count centred on the first tick
    risk.set_title("Number at risk", loc="left", fontsize=TEXT_PT, fontweight="bold", pad=4)
    for side in ("left", "bottom", "top", "right"):
        risk.spines[side].set_visible(False)
    risk.tick_params(axis="x", labelbottom=False)


# ------------------------------------------------------------------------------------------------- composites
def composite_figure(panels: Sequence[KMPanel], ncols: int = 2, confidence_bands: bool = False,
                     labels: str = "ABCDEFGH"):
    """One figure of several panels in a grid of ``ncols`` columns, each labelled with a bold letter (A, B, ...).

    Panels of a row share its height (the tallest); panels of a column share the left margin, so their axes align.
    """
    ncols = max(1, min(ncols, len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    left = max(left_margin_in(p) for p in panels) + 0.3
    plot_size = (PANEL_WIDTH_IN * 0.97 - left, PLOT_HEIGHT_IN)
    heights = [max(panel_height_in(p, stats_in_header=stat_corner(p, plot_size, confidence_bands) is None)
                   for p in panels[r * ncols:(r + 1) * ncols]) for r in range(nrows)]
    fig = plt.figure(figsize=(PANEL_WIDTH_IN * ncols, sum(heights)))
    subfigs = np.atleast_2d(fig.subfigures(nrows, ncols, height_ratios=heights, wspace=0.0, hspace=0.0,
                                           squeeze=False))
    for index, panel in enumerate(panels):
        sub = subfigs[index // ncols][index % ncols]
        draw_km_panel(sub, panel, confidence_bands, left_in=left)
        sub.text(0.005, 0.995, labels[index], fontsize=16, fontweight="bold", va="top", ha="left",
                 gid=f"panel-{labels[index]}")
    for index in range(len(panels), nrows * ncols):
        subfigs[index // ncols][index % ncols].set_visible(False)
    return fig


def panel_letters(fig) -> list[str]:
    """The bold panel letters of a composite, in order (for tests and alt texts)."""
    return [t.get_text() for sub in fig.subfigs for t in sub.texts if (t.get_gid() or "").startswith("panel-")]
