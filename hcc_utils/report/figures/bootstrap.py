"""The bootstrap chapter's figure: the distribution of the re-matched replicates' hazard ratios.

One panel per endpoint (A: progression-free survival, B: overall survival): a histogram of the replicate hazard
ratios on a log axis with plain tick labels, the matched cohort's estimate (solid line), the bootstrap percentile
interval (shaded band and dashed limits), the Wald interval of the matched Cox model (dotted limits) and the line
of no difference (HR = 1, grey).
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FixedLocator, MaxNLocator, NullFormatter, NullLocator

from hcc_utils.report.figures.forest import hr_ticks, tick_label
from hcc_utils.report.figures.style import OKABE_ITO
from hcc_utils.study.labels import ENDPOINTS
from hcc_utils.tables.formatting import fmt_ratio

PREFIX = "sensitivity.boot"
#: Panels in the order of the chapter (PFS first: the article's headline difference).
PANELS = ("pfs", "os")
ESTIMATE_COLOUR, BAND_COLOUR, BAR_COLOUR = OKABE_ITO[7], OKABE_ITO[5], OKABE_ITO[0]


def bootstrap_hr_figure(replicates, values, control: str, treatment: str):
    """Histograms of the replicate HRs (control vs treatment) with the estimate and both intervals."""
    fig, axes = plt.subplots(1, len(PANELS), figsize=(9.2, 3.6), sharey=False)
    for letter, ax, endpoint in zip("AB", np.atleast_1d(axes), PANELS):
        name = ENDPOINTS[endpoint][2]
        ax.set_title(f"{letter}  {name}", loc="left", fontsize=12, fontweight="bold")
        ok = replicates[replicates["status"] == "ok"]
        hr = ok[f"{endpoint}_hr"].to_numpy(float)
        hr = hr[np.isfinite(hr) & (hr > 0)]
        stem = f"{PREFIX}_{endpoint}"
        estimate, lo, hi = (values[f"{stem}_hr"], values[f"{stem}_hr_lo"], values[f"{stem}_hr_hi"])
        wald = (values[f"{stem}_hr_wald_lo"], values[f"{stem}_hr_wald_hi"])
        if len(hr) < 2:
            ax.text(0.5, 0.5, "Not estimable: fewer than two analysed replicates", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_yticks([])
            continue
        logs = np.log(hr)
        bins = np.linspace(logs.min(), logs.max(), 31) if logs.max() > logs.min() else 10
        ax.hist(logs, bins=bins, color=BAR_COLOUR, alpha=0.55, edgecolor="white", linewidth=0.4,
                label="Bootstrap replicates")
        if np.isfinite(lo) and np.isfinite(hi):
            ax.axvspan(math.log(lo), math.log(hi), color=BAND_COLOUR, alpha=0.15, linewidth=0)
            for limit in (lo, hi):
                ax.axvline(math.log(limit), color=BAND_COLOUR, linestyle="--", linewidth=1.4)
        for limit in wald:
            if np.isfinite(limit) and limit > 0:
                ax.axvline(math.log(limit), color=OKABE_ITO[1], linestyle=":", linewidth=1.6)
        if np.isfinite(estimate):
            ax.axvline(math.log(estimate), color=ESTIMATE_COLOUR, linewidth=1.8)
        ax.axvline(0.0, color="#999999", linewidth=1)
        shown = [v for v in (hr.min(), hr.max(), lo, hi, *wald) if np.isfinite(v) and v > 0]
        ticks = hr_ticks(min(shown), max(shown))
        ax.xaxis.set_major_locator(FixedLocator([math.log(t) for t in ticks]))
        ax.set_xticklabels([tick_label(t) for t in ticks])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(f"Hazard ratio, {control} vs {treatment} (log scale)")
        ax.set_ylabel("Replicates")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    handles = [plt.Line2D([], [], color=ESTIMATE_COLOUR, linewidth=1.8, label="Matched-cohort estimate"),
               plt.Line2D([], [], color=BAND_COLOUR, linestyle="--", linewidth=1.4,
                          label="Bootstrap 95% percentile interval"),
               plt.Line2D([], [], color=OKABE_ITO[1], linestyle=":", linewidth=1.6, label="Wald 95% CI"),
               plt.Line2D([], [], color="#999999", linewidth=1, label="HR = 1")]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=9, bbox_to_anchor=(0.5, -0.04))
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def bootstrap_alt_text(values, control: str, treatment: str) -> str:
    """What the figure shows, in words, for readers who cannot see it."""
    parts = []
    for endpoint in PANELS:
        stem = f"{PREFIX}_{endpoint}"
        parts.append(f"{ENDPOINTS[endpoint][2]}: hazard ratio {fmt_ratio(values[f'{stem}_hr'])}, bootstrap "
                     f"percentile interval {fmt_ratio(values[f'{stem}_hr_lo'])} to {fmt_ratio(values[f'{stem}_hr_hi'])}, "
                     f"Wald interval {fmt_ratio(values[f'{stem}_hr_wald_lo'])} to "
                     f"{fmt_ratio(values[f'{stem}_hr_wald_hi'])}")
    return (f"Histograms of the hazard ratios of {control} versus {treatment} in "
            f"{values[f'{PREFIX}_used']} re-matched bootstrap replicates. " + "; ".join(parts) + ".")
