"""A composite figure's panels one under the other, for a phone.

A figure whose panels stand side by side (Figures 2 and 3, the Supplementary Figures, the score overlap, the caliper
sweep, the replicate hazard ratios, the residual plots) is as wide as two or three panels; on a 390 px screen it
would shrink to an unreadable size or scroll sideways. :func:`stacked_panels` renders each panel on its own (the
other panels hidden, the crop at the panel's own tight box), in reading order (rows from the top, left to right in
a row), plus the figure's own legends or titles and the stamp under it, as SVG documents that the book shows one
under the other below a width (``figures.css``), in place of the wide image. The figure's files (SVG, PNG, PDF, the
downloads) are not touched: the stacked rendering exists only in the page.

What a panel is, for any figure, found in the figure itself:

* a composite of sub-figures (:func:`~hcc_utils.report.figures.km_draw.composite_figure`): each visible sub-figure;
* otherwise each axes, axes at the same place (twins) taken together.

A figure is composite when two of its panels stand side by side (their heights overlap, their widths do not); a
figure of one panel, or of panels one under the other already (a Kaplan-Meier panel's header, plot and numbers at
risk), has no stacked rendering.
"""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Sequence

import matplotlib
from matplotlib.transforms import Bbox

#: Room left around a panel's crop, in inches (as ``style.save_figure``'s tight box has).
PAD_IN = 0.08


@dataclass(frozen=True)
class PanelImage:
    """One piece of a stacked rendering: an SVG document and its width in inches (shown at 100 px per inch,
    never wider than the screen)."""

    svg: bytes
    width_in: float
    #: True for a panel (shown at the screen's width), False for the figure's own legend, title or stamp (shown at
    #: its own size, never wider than the screen).
    is_panel: bool = True


def panel_groups(fig) -> list[list]:
    """The figure's panels as groups of artists drawn together, in no particular order."""
    subfigures = [sub for sub in getattr(fig, "subfigs", []) if sub.get_visible()]
    if subfigures:
        return [[sub] for sub in subfigures]
    groups: dict[tuple, list] = {}
    for ax in fig.axes:
        if ax.get_visible():
            key = tuple(round(v, 3) for v in ax.get_position().bounds)
            groups.setdefault(key, []).append(ax)
    return list(groups.values())


def _bbox_inches(fig, artists: Sequence, renderer) -> Bbox:
    """The tight box of ``artists`` (axes, sub-figures, texts, legends) in inches of the figure."""
    boxes = []
    for artist in artists:
        box = artist.get_tightbbox(renderer) if hasattr(artist, "get_tightbbox") else artist.get_window_extent(renderer)
        if box is not None and box.width > 0 and box.height > 0:
            boxes.append(box)
    return Bbox.union(boxes).transformed(fig.dpi_scale_trans.inverted())


def _layout_box(fig, group: Sequence) -> Bbox:
    """The place the layout gives a panel (a sub-figure's area, the axes' frames), in inches: its tight box may
    reach into a neighbour's (a legend wider than its panel), its place does not."""
    boxes = [artist.bbox for artist in group]
    return Bbox.union(boxes).transformed(fig.dpi_scale_trans.inverted())


def side_by_side(boxes: Sequence[Bbox]) -> bool:
    """Whether two of the boxes stand side by side: their vertical extents overlap by more than half of the smaller,
    their horizontal extents do not overlap (beyond a hair)."""
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap_y = min(a.y1, b.y1) - max(a.y0, b.y0)
            overlap_x = min(a.x1, b.x1) - max(a.x0, b.x0)
            if overlap_y > 0.5 * min(a.height, b.height) and overlap_x < 0.05 * min(a.width, b.width):
                return True
    return False


def reading_order(boxes: Sequence[Bbox]) -> list[int]:
    """Indices of the boxes in reading order: rows from the top (boxes whose vertical extents overlap by half are
    one row), left to right within a row."""
    order = sorted(range(len(boxes)), key=lambda i: -boxes[i].y1)
    rows: list[list[int]] = []
    for index in order:
        box = boxes[index]
        for row in rows:
            first = boxes[row[0]]
            if min(first.y1, box.y1) - max(first.y0, box.y0) > 0.5 * min(first.height, box.height):
                row.append(index)
                break
        else:
            rows.append([index])
    return [index for row in rows for index in sorted(row, key=lambda i: boxes[i].x0)]


def _figure_level_artists(fig) -> list:
    """Legends, titles and texts of the figure itself (outside every panel's own artists)."""
    artists = list(fig.legends) + [t for t in fig.texts if t.get_visible() and t.get_text().strip()]
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_visible() and suptitle.get_text().strip():
        artists.append(suptitle)
    return artists


def _render_crop(fig, shown: Sequence, every: Sequence, box: Bbox, metadata: dict, is_panel: bool) -> PanelImage:
    """SVG of ``box`` (inches) with only ``shown`` of the figure's top-level artists ``every`` drawn."""
    visible = {id(artist): artist.get_visible() for artist in every}
    padded = Bbox.from_extents(box.x0 - PAD_IN, box.y0 - PAD_IN, box.x1 + PAD_IN, box.y1 + PAD_IN)
    buffer = io.BytesIO()
    try:
        for artist in every:
            artist.set_visible(any(artist is s for s in shown) and visible[id(artist)])
        with matplotlib.rc_context({"svg.hashsalt": matplotlib.rcParams["svg.hashsalt"]}):
            fig.savefig(buffer, format="svg", bbox_inches=padded, metadata=metadata)
    finally:
        for artist in every:
            artist.set_visible(visible[id(artist)])
    return PanelImage(buffer.getvalue(), float(padded.width), is_panel)


@contextlib.contextmanager
def _standing_alone(pieces: Sequence):
    """While a piece is drawn on its own: an axes whose tick labels a shared axis hides (``sharey``: only the
    leftmost panel numbers the axis) shows them, and a rotated figure-level label (``supylabel``) reads across."""
    undo = []
    try:
        for artist in pieces:
            for ax in ([artist] if hasattr(artist, "get_shared_y_axes") else getattr(artist, "axes", []) or []):
                if not hasattr(ax, "get_shared_y_axes"):
                    continue
                for axis, side, shared in ((ax.yaxis, "labelleft", ax.get_shared_y_axes()),
                                           (ax.xaxis, "labelbottom", ax.get_shared_x_axes())):
                    ticks = axis.get_major_ticks()
                    if len(shared.get_siblings(ax)) > 1 and ticks and not ticks[0].label1.get_visible():
                        axis.set_tick_params(**{side: True})
                        undo.append(lambda axis=axis, side=side: axis.set_tick_params(**{side: False}))
            if hasattr(artist, "get_rotation") and artist.get_rotation() not in (0, 360):
                angle = artist.get_rotation()
                artist.set_rotation(0)
                undo.append(lambda artist=artist, angle=angle: artist.set_rotation(angle))
        yield
    finally:
        for step in reversed(undo):
            step()


def stacked_panels(fig, footer=None, metadata: dict | None = None) -> list[PanelImage]:
    """The figure's panels one per image, in reading order, with its own legends and titles (those above every
    panel first, the others after the panels) and ``footer`` (a text artist of the figure, such as the stamp)
    last; an empty list when no two panels stand side by side (nothing to stack).

    ``footer`` is drawn on its own; it must already be in the figure. ``metadata`` is the SVG's (the stamp's).
    """
    renderer = fig.canvas.get_renderer()
    groups = panel_groups(fig)
    boxes = [_layout_box(fig, group) for group in groups]
    if len(groups) < 2 or not side_by_side(boxes):
        return []
    extras = [a for a in _figure_level_artists(fig) if a is not footer]
    every = [artist for group in groups for artist in group] + extras + ([footer] if footer is not None else [])
    top = max(box.y1 for box in boxes)
    above, below = [], []
    for artist in extras:
        box = _bbox_inches(fig, [artist], renderer)
        inside = [i for i, panel in enumerate(boxes) if panel.contains(*box.get_points().mean(axis=0))]
        if inside:                                   # a panel's letter written on the figure: part of that panel
            groups[inside[0]].append(artist)
        else:   # a shared y label (rotated) heads the panels, as it would stand beside them
            rotated = hasattr(artist, "get_rotation") and artist.get_rotation() not in (0, 360)
            (above if rotated or box.y0 >= top - 0.05 else below).append(artist)
    pieces = ([([a], False) for a in above] + [(groups[i], True) for i in reading_order(boxes)]
              + [([a], False) for a in below] + ([([footer], False)] if footer is not None else []))
    metadata = dict(metadata or {})
    images = []
    for piece, is_panel in pieces:
        with _standing_alone(piece):
            images.append(_render_crop(fig, piece, every, _bbox_inches(fig, piece, renderer), metadata, is_panel))
    return images
