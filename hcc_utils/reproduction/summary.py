"""The scorecard as plain text for the command line (``hcc-study scorecard``)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from hcc_utils.reproduction.audit import audit_article, identical_infeasible
from hcc_utils.reproduction.scorecard import score, summary_line
from hcc_utils.reproduction.targets import load_targets


def _short(value: str, width: int = 14) -> str:
    try:
        f = float(value)
        text = f"{f:.4g}" if not f.is_integer() else str(int(f))
    except (TypeError, ValueError):
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def scorecard_report(results_csv: str | Path, targets_csv: str | Path) -> str:
    """Plain-text scorecard of a run: missed/missing numbers, exclusions with reasons, and the final line.

    Parameters
    ----------
    results_csv : the run's ``results.csv`` (``id, value, ...``).
    targets_csv : ``data/targets.csv``.
    """
    targets = load_targets(targets_csv)
    results = pd.read_csv(results_csv, dtype=str, keep_default_na=False)
    audit, excluded = audit_article(targets)
    scored = score(results, targets, excluded, identical_infeasible(audit))
    met = scored[scored.status == "met"]
    lines = [f"Scorecard: {len(targets)} published numbers, {len(met)} met "
             f"({int((met.tier == 'identical').sum())} identical at printed precision, "
             f"{int((met.tier == 'close').sum())} close), "
             f"{int((scored.status == 'missed').sum())} missed, {int((scored.status == 'missing').sum())} missing, "
             f"{int((scored.status == 'excluded').sum())} excluded"]
    for status in ("missed", "missing"):
        part = scored[scored.status == status]
        if len(part):
            lines.append(f"{status}:")
            for r in part.itertuples(index=False):
                lines.append(f"  {r.id:<42} published {r.published:>14}  reproduced {_short(r.reproduced):>14}"
                             f"  ({r.tolerance})")
    part = met[met.tier == "close"]
    if len(part):
        lines.append("close (within tolerance, not identical at the article's printed precision):")
        for r in part.itertuples(index=False):
            proof = f"\n      {r.reason}" if r.reason else ""
            lines.append(f"  {r.id:<42} published {r.published:>14}  reproduced {_short(r.reproduced):>14}{proof}")
    part = scored[scored.status == "excluded"]
    if len(part):
        lines.append("excluded (the article cannot satisfy them, see the audit):")
        for r in part.itertuples(index=False):
            lines.append(f"  {r.id}: {r.reason}")
    lines.append(summary_line(scored))
    return "\n".join(lines)
