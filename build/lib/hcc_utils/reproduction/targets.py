"""The article's published numbers (``data/targets.csv``, a copy of the project's shared ``targets.csv``).

Only the reproduction layer (scorecard, audit, the introduction's "Article" column) and the synthetic cohort's
calibration read this file; no analysis module does, and a test of the import graph checks it.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from hcc_utils.config import REPO_ROOT

TARGETS_PATH = REPO_ROOT / "data" / "targets.csv"

#: Names of predictors in the article's lists (as ``targets.csv`` encodes the text) -> columns of the analysis
#: table, which are named by meaning, not by the article's cut-points.
ARTICLE_TERMS = {"tumor_size_ge_10": "tumor_size_large", "afp_ge_400": "afp_high", "pivka_ge_1000": "pivka_high",
                 "atebev_cycles_lt_3": "atebev_cycles_few", "age_ge_65": "age_older"}


def load_targets(path: str | Path = TARGETS_PATH) -> pd.DataFrame:
    """Read ``targets.csv`` keeping every value as text (``NA`` and ``<0.001`` stay as written)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def article_terms(text: str) -> set[str]:
    """A published list (``;``-separated) in the analysis table's names."""
    return {ARTICLE_TERMS.get(item.strip(), item.strip()) for item in str(text).split(";") if item.strip()
            and item.strip().upper() != "NA"}


def published_headlines(rows: list[dict], targets: pd.DataFrame) -> list[str]:
    """The article's values beside the introduction's headline rows (``report.presentation.headline_ids``):
    'treatment / control, P p' where the article reports them, else 'not reported'."""
    published = targets.set_index("id")["value"].to_dict()
    out = []
    for row in rows:
        article = [published.get(i) for i in row["ids"]]
        out.append(" / ".join(a if a is not None else "—" for a in article[:2]) + f", P {article[2] or '—'}"
                   if any(a is not None for a in article) else "not reported")
    return out
