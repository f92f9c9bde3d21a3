"""The book's figure style: colour-blind-safe colours, fixed group colours, type sizes, and how a figure is saved
and shown.

The two study groups always take the same colours (Okabe-Ito palette: treatment blue, control vermillion); other
categories take the palette's remaining colours in a fixed order. Importing this module sets matplotlib's style.

Sizes: figures are drawn at 100 dpi and shown in the book at that size (one inch = 100 CSS pixels, capped at the
column width), so a 10-point label stays about 10 points on screen; the PNG is written at 2x (200 dpi) and the SVG
and PDF are vector files. Every file is deterministic: the same figure saved twice gives the same bytes.
"""
from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt

from hcc_utils.report.figures.panels import PanelImage, stacked_panels

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
TREATMENT_COLOUR, CONTROL_COLOUR = OKABE_ITO[0], OKABE_ITO[1]
#: Colours of other categories, in order: the palette's remaining colours, those that stand out least on white
#: last (a curve in yellow, #F0E442, has a contrast of 1.2:1 and is only taken for a seventh category).
SPARE_COLOURS = ["#009E73", "#CC79A7", "#000000", "#E69F00", "#56B4E9", "#F0E442"]
#: Least contrast of text with its (white) background: WCAG 2's level AA for normal text.
TEXT_CONTRAST = 4.5

#: Display resolution of a figure (pixels per inch in the book) and the resolution of its PNG (2x, for sharp
#: screens and print).
DISPLAY_DPI = 100
PNG_DPI = 2 * DISPLAY_DPI
#: Width of the book's image column at a 1400 px window, in inches at DISPLAY_DPI (768 px).
COLUMN_WIDTH_IN = 768 / DISPLAY_DPI

#: Smallest type size used inside a figure, in points at the figure's own size.
MIN_FONT_PT = 9
#: Type size of the stamp under a saved figure (where its data come from).
STAMP_PT = 9

STYLE = {
    "figure.dpi": DISPLAY_DPI, "savefig.dpi": PNG_DPI, "font.size": 11, "axes.titlesize": 12,
    "axes.labelsize": 11, "xtick.labelsize": 10, "ytick.labelsize": 10, "legend.fontsize": 10,
    "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
    "figure.facecolor": "white", "savefig.facecolor": "white",
    "svg.hashsalt": "hcc-study",  # deterministic SVG ids across rebuilds
    "svg.fonttype": "none",       # text stays text in the SVG: crisp, searchable, selectable
    "pdf.fonttype": 42,           # TrueType fonts embedded in the PDF, as journals ask
    "font.family": "DejaVu Sans",
}
matplotlib.rcParams.update(STYLE)

#: The formats written for every figure: SVG (the book's image), PNG at 2x, PDF (for submission).
FIGURE_FORMATS = ("svg", "png", "pdf")
_METADATA = {"svg": {"Date": None, "Creator": None}, "png": {"Software": None},
             "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None}}


def group_colours(groups: Sequence[str], treatment: str | None = None, control: str | None = None) -> dict[str, str]:
    """Colour of each label: the treatment and control groups fixed, other labels in palette order."""
    colours = {}
    spare = iter(SPARE_COLOURS + [TREATMENT_COLOUR, CONTROL_COLOUR])
    for label in groups:
        if label == treatment:
            colours[label] = TREATMENT_COLOUR
        elif label == control:
            colours[label] = CONTROL_COLOUR
        else:
            colours[label] = next(spare)
    return colours


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a colour (any matplotlib colour: '#56B4E9', 'black')."""
    channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
                for c in matplotlib.colors.to_rgb(colour)]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast_ratio(foreground: str, background: str = "#FFFFFF") -> float:
    """WCAG 2 contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    light, dark = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_colour(colour: str, background: str = "#FFFFFF", minimum: float = TEXT_CONTRAST) -> str:
    """``colour`` darkened just enough (same hue) for text on ``background`` to reach ``minimum`` contrast: the
    numbers at risk of a pale curve (sky blue, yellow) stay the curve's colour yet readable."""
    rgb = matplotlib.colors.to_rgb(colour)
    for step in range(101):
        shade = tuple(c * (1 - step / 100) for c in rgb)
        if contrast_ratio(matplotlib.colors.to_hex(shade), background) >= minimum:
            return matplotlib.colors.to_hex(shade)
    return "#000000"


def _stamp_metadata(fmt: str, stamp) -> dict:
    """Each format's metadata of a figure, with the stamp's statement and line where one is given."""
    metadata = dict(_METADATA[fmt])
    if stamp is None:
        return metadata
    if fmt == "svg":
        metadata.update({"Description": stamp.line(), "Keywords": [stamp.statement]})
    elif fmt == "png":
        metadata.update({"Description": stamp.line(), "Comment": stamp.statement})
    else:
        metadata.update({"Subject": stamp.line(), "Keywords": stamp.statement})
    return metadata


def _add_stamp(fig, stamp):
    """The stamp's lines as a text under the figure's own content (the tight box takes it in); None without one."""
    if stamp is None:
        return None
    footer = fig.text(0.0, 0.0, "\n".join(stamp.lines()), fontsize=STAMP_PT, color="#333333", ha="left",
                      va="top", transform=fig.transFigure, gid="hcc-stamp", linespacing=1.3)
    footer.set_y(-0.01)
    return footer


def stacked_rendering(fig, stamp=None) -> list[PanelImage]:
    """The figure's panels one under the other for a phone (:func:`~hcc_utils.report.figures.panels.stacked_panels`),
    with the stamp (``stamp``, else the run's) under the last; empty for a figure whose panels do not stand side by
    side. Writes no file."""
    from hcc_utils.report.provenance import current_stamp

    stamp = stamp if stamp is not None else current_stamp()
    footer = _add_stamp(fig, stamp)
    try:
        return stacked_panels(fig, footer, _stamp_metadata("svg", stamp))
    finally:
        if footer is not None:
            footer.remove()


def save_figure(fig, output_dir: str | Path, name: str, stamp=None) -> list[Path]:
    """Write ``name.svg``, ``name.png`` (2x) and ``name.pdf`` into ``output_dir/figures`` and return the paths.

    Every file carries the run's stamp (``stamp``, else :func:`hcc_utils.report.provenance.current_stamp`): whether
    the data are synthetic, the data's and the configuration's checksums and the commit, as a few lines under the
    figure and in the format's metadata. Dates, software names and random ids are left out, so two runs of the same
    figure write identical bytes.
    """
    from hcc_utils.report.provenance import current_stamp

    stamp = stamp if stamp is not None else current_stamp()
    folder = Path(output_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    footer = _add_stamp(fig, stamp)
    paths = []
    try:
        for fmt in FIGURE_FORMATS:
            path = folder / f"{name}.{fmt}"
            with matplotlib.rc_context({"svg.hashsalt": STYLE["svg.hashsalt"]}):
                fig.savefig(path, format=fmt, dpi=PNG_DPI if fmt == "png" else DISPLAY_DPI, bbox_inches="tight",
                            pad_inches=0.08, metadata=_stamp_metadata(fmt, stamp))
            paths.append(path)
    finally:
        if footer is not None:
            footer.remove()
    return paths


class FigureImage:
    """A saved figure as the book shows it: the SVG in an ``<img>`` with its alt text, and the download line.

    A composite figure (panels side by side) also carries its stacked rendering (``panels``, one image per panel,
    :func:`stacked_rendering`): the page holds both, and ``figures.css`` shows the panels one under the other below
    a phone's width instead of the wide image. The group of panels carries the figure's alt text (``role="img"``).

    Glued with :func:`myst_nb.glue` and placed by a ``glue:figure`` directive, so the page's figure keeps the
    caption and number the markdown gives it; ``text/plain`` (the alt text) is what a text-only reader gets.
    """

    def __init__(self, svg_path: Path, alt: str, width_in: float, downloads_html: str = "",
                 panels: Sequence[PanelImage] = ()) -> None:
        self.svg_path, self.alt, self.width_in, self.downloads_html = Path(svg_path), alt, width_in, downloads_html
        self.panels = list(panels)

    @staticmethod
    def _img(svg: bytes, width_in: float, css_class: str, alt: str) -> str:
        data = base64.b64encode(svg).decode("ascii")
        width = round(width_in * DISPLAY_DPI)
        return (f'<img class="{css_class}" src="data:image/svg+xml;base64,{data}" alt="{html.escape(alt)}" '
                f'width="{width}" style="--hcc-figure-width: {width}px; width: {width}px">')

    def html(self) -> str:
        """``<img>`` with the SVG as a data URI (the page needs no other file), its display width, and alt text;
        for a composite, then its panels one per ``<img>`` in a group that only a narrow screen shows."""
        wide = self._img(self.svg_path.read_bytes(), self.width_in,
                         "hcc-figure hcc-figure--composite" if self.panels else "hcc-figure", self.alt)
        if not self.panels:
            return wide + self.downloads_html
        count = len(self.panels)
        pieces = "".join(self._img(panel.svg, panel.width_in, "hcc-figure-panel" + (" hcc-figure-panel--part"
                                   if panel.is_panel else ""), f"Part {k} of {count}")
                         for k, panel in enumerate(self.panels, 1))
        stacked = (f'<div class="hcc-figure-panels" role="img" aria-label="{html.escape(self.alt)}" '
                   f'data-panels="{count}">{pieces}</div>')
        return wide + stacked + self.downloads_html

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/html": self.html(), "text/plain": self.alt}


def figure_width_in(fig) -> float:
    """Width of a figure as saved (tight bounding box), in inches."""
    bbox = fig.get_tightbbox(fig.canvas.get_renderer())
    return float(bbox.width) + 2 * 0.08


def fit_column(fig, width_in: float = COLUMN_WIDTH_IN, attempts: int = 4) -> None:
    """Narrow a figure whose text reaches beyond its own edges (long labels) until, as saved, it fits ``width_in``:
    the axes keep their share of the figure and the type keeps its size, so the book shows it unshrunk."""
    for _ in range(attempts):
        excess = figure_width_in(fig) - width_in
        if excess <= 0:
            return
        fig.set_size_inches(fig.get_figwidth() - excess - 0.02, fig.get_figheight())


def prepare_figure(fig, output_dir: str | Path, name: str, alt: str) -> FigureImage:
    """Save a figure (SVG, PNG, PDF), close it and return its :class:`FigureImage` (the ``<img>`` with its alt text
    and download line, and a composite's panels one under the other for phones), without gluing or showing it."""
    from hcc_utils.report.downloads import download_links

    if not str(alt).strip():
        raise ValueError(f"figure {name!r} has no alt text: describe what it shows (a file name is not a description)")
    width = figure_width_in(fig)
    paths = save_figure(fig, output_dir, name)
    links = download_links(output_dir, paths, label="Download figure").data
    image = FigureImage(paths[0], alt, width, links, stacked_rendering(fig))
    plt.close(fig)
    return image


def publish_figure(fig, output_dir: str | Path, name: str, alt: str) -> None:
    """Save a figure (SVG, PNG, PDF), glue it for the book under ``name`` with its alt text and download line, and
    close it. Returns nothing: a notebook cell ending with this call must not display the figure a second time
    (uncaptioned, above the captioned one the markdown places with ``glue:figure``)."""
    from myst_nb import glue

    glue(name, prepare_figure(fig, output_dir, name, alt), display=False)


def publish_figures(figures: Mapping[str, Any], output_dir: str | Path, alts: Mapping[str, str]) -> None:
    """:func:`publish_figure` for each ``{name: Figure}``, in order, with ``alts[name]`` as alt text (returns
    nothing, so a notebook cell ending with it shows nothing)."""
    for name, fig in figures.items():
        publish_figure(fig, output_dir, name, alts.get(name, ""))
