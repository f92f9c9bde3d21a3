"""Hazard ratios as the matching's caliper changes: two panels (OS, PFS), the journal style of the forest plot.

Each caliper of the sweep (and no caliper) is a point with its 95% confidence interval on a log axis with plain
ticks and a reference line at 1; the configured caliper is drawn in the treatment colour and named in the legend;
the number of matched sets is written under each point's label.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

from hcc_utils.report.figures.forest import hr_ticks, tick_label
from hcc_utils.report.figures.style import OKABE_ITO
from hcc_utils.study.cohort import Study
from hcc_utils.study.labels import ENDPOINTS
from hcc_utils.study.sections.matching_choices import CALIPERS, caliper_tag
from hcc_utils.tables.formatting import fmt_p, fmt_ratio


def _label(caliper) -> str:
    return "None" if caliper is None else f"{caliper:g}"


def caliper_figure(study: Study, values: dict):
    """Figure: HR (95% CI) of control vs treatment against the caliper, (A) overall and (B) progression-free
    survival; points that cannot be estimated are left out and their label says so."""
    tags = [caliper_tag(c) for c in CALIPERS]
    configured = caliper_tag(study.config.matching.caliper) if study.config.matching.ratio == 1 else None
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.2), sharey=False)
    finite = [values[f"sensitivity.{t}_{e}_{k}"] for t in tags for e in ENDPOINTS for k in ("hr_lo", "hr_hi")]
    finite = [v for v in finite if np.isfinite(v) and v > 0]
    ticks = hr_ticks(min(finite, default=0.5), max(finite, default=2.0))
    x = np.arange(len(tags))
    scale = "logit score" if study.config.matching.caliper_scale == "logit" else "score"
    for letter, ax, (endpoint, (_, _, name)) in zip("AB", axes, ENDPOINTS.items()):
        ax.set_yscale("log")
        ax.set_ylim(ticks[0] / 1.15, ticks[-1] * 1.15)
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.set_yticklabels([tick_label(t) for t in ticks])
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.axhline(1.0, color="#555555", linewidth=1.0, zorder=1)
        labels = []
        for i, tag in enumerate(tags):
            key = f"sensitivity.{tag}_{endpoint}"
            hr, lo, hi = (values[f"{key}_{k}"] for k in ("hr", "hr_lo", "hr_hi"))
            pairs = values[f"sensitivity.{tag}_pairs"]
            sets = f"n = {int(pairs)}" if np.isfinite(pairs) else "n/e"
            labels.append(f"{_label(CALIPERS[i])}\n{sets}")
            if not all(math.isfinite(v) and v > 0 for v in (hr, lo, hi)):
                continue
            colour = OKABE_ITO[0] if tag == configured else "#333333"
            ax.plot([i, i], [lo, hi], color=colour, linewidth=1.4, zorder=2)
            ax.plot([i], [hr], marker="s", markersize=7, color=colour, zorder=3,
                    label="Configured caliper" if tag == configured else None)
        ax.set_xticks(x)
        ax.set_xticklabels(labels)
        ax.set_xlim(-0.6, len(tags) - 0.4)
        ax.set_xlabel(f"Caliper (SD of the {scale}); matched sets")
        ax.set_ylabel(f"HR, {study.control} vs {study.treatment} (95% CI)")
        ax.set_title(f"{letter}  {name}", loc="left", fontweight="bold")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def caliper_alt_text(study: Study, values: dict) -> str:
    """Alt text: every plotted hazard ratio with its interval and P, by endpoint and caliper."""
    parts = [f"Hazard ratios of {study.control} versus {study.treatment} with 95% confidence intervals, log scale, "
             "by matching caliper."]
    for endpoint, (_, _, name) in ENDPOINTS.items():
        items = []
        for caliper in CALIPERS:
            key = f"sensitivity.{caliper_tag(caliper)}_{endpoint}"
            hr = values[f"{key}_hr"]
            items.append(f"caliper {_label(caliper)}: " + (
                f"HR {fmt_ratio(hr)} ({fmt_ratio(values[key + '_hr_lo'])}–{fmt_ratio(values[key + '_hr_hi'])}), "
                f"P {fmt_p(values[key + '_p'])}" if np.isfinite(hr) else "not estimable"))
        parts.append(f"{name}: " + "; ".join(items) + ".")
    return " ".join(parts)
