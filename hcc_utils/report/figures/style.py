"""The book's figure style: colour-blind-safe colours, fixed group colours, and how a figure is saved and shown.

The two study groups always take the same colours (Okabe-Ito palette: treatment blue, control vermillion); other
categories take the palette's remaining colours in a fixed order. Importing this module sets matplotlib's style.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
TREATMENT_COLOUR, CONTROL_COLOUR = OKABE_ITO[0], OKABE_ITO[1]

STYLE = {
    "figure.dpi": 110, "savefig.dpi": 150, "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10,
    "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
    "svg.hashsalt": "hcc-study",  # deterministic SVG ids across rebuilds
    "svg.fonttype": "none",
}
matplotlib.rcParams.update(STYLE)


def group_colours(groups: Sequence[str], treatment: str | None = None, control: str | None = None) -> dict[str, str]:
    """Colour of each label: the treatment and control groups fixed, other labels in palette order."""
    colours = {}
    spare = iter(OKABE_ITO[2:] + OKABE_ITO[:2])
    for label in groups:
        if label == treatment:
            colours[label] = TREATMENT_COLOUR
        elif label == control:
            colours[label] = CONTROL_COLOUR
        else:
            colours[label] = next(spare)
    return colours


def save_figure(fig, output_dir: str | Path, name: str) -> list[Path]:
    """Write ``name.png`` and ``name.svg`` into ``output_dir/figures`` (metadata stripped for identical rebuilds)."""
    folder = Path(output_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png", folder / f"{name}.svg"]
    fig.savefig(paths[0], bbox_inches="tight", metadata={"Software": None})
    fig.savefig(paths[1], bbox_inches="tight", metadata={"Date": None, "Creator": None})
    return paths


def publish_figure(fig, output_dir: str | Path, name: str) -> None:
    """Save a figure (PNG and SVG), glue it for the book under ``name`` and close it (so it is shown once)."""
    from myst_nb import glue

    save_figure(fig, output_dir, name)
    glue(name, fig, display=False)
    plt.close(fig)


def publish_figures(figures: Mapping[str, Any], output_dir: str | Path) -> None:
    """:func:`publish_figure` for each ``{name: Figure}``, in order (returns nothing, so a notebook cell ending with
    it shows nothing)."""
    for name, fig in figures.items():
        publish_figure(fig, output_dir, name)
