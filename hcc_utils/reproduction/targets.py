"""The article's published numbers (``data/targets.csv``, a copy of the project's shared ``targets.csv``).

Only the reproduction layer (scorecard, audit, the introduction's "Article" column) and the synthetic cohort's
calibration read this file; no analysis module does, and a test of the import graph checks it.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

from hcc_utils.config import REPO_ROOT
from hcc_utils.reproduction.roles import ARTICLE_GROUPS, align_targets

TARGETS_PATH = REPO_ROOT / "data" / "targets.csv"

#: Names of predictors in the article's lists (as ``targets.csv`` encodes the text) -> columns of the analysis
#: table, which are named by meaning, not by the article's cut-points.
ARTICLE_TERMS = {"tumor_size_ge_10": "tumor_size_large", "afp_ge_400": "afp_high", "pivka_ge_1000": "pivka_high",
                 "atebev_cycles_lt_3": "atebev_cycles_few", "age_ge_65": "age_older"}


__all__ = ["ARTICLE_GROUPS", "ARTICLE_TERMS", "TARGETS_PATH", "article_terms", "derived_targets",
           "load_targets", "published_headline_values", "published_headlines"]


def load_targets(path: str | Path = TARGETS_PATH) -> pd.DataFrame:
    """Read ``targets.csv`` keeping every value as text (``NA`` and ``<0.001`` stay as written)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def article_terms(text: str) -> set[str]:
    """A published list (``;``-separated) in the analysis table's names."""
    return {ARTICLE_TERMS.get(item.strip(), item.strip()) for item in str(text).split(";") if item.strip()
            and item.strip().upper() != "NA"}


def derived_targets(targets: pd.DataFrame) -> dict[str, str]:
    """Published numbers that ``targets.csv`` has no id for but the article's own numbers determine.

    The objective response rate of a group (``response.orr_<g>``, all enrolled patients) is (CR + PR) / N: the
    article's complete and partial responses (``response.cr_<g>``, ``response.pr_<g>``) over its enrolled
    patients of that group (``flow.enrolled_<regimen>``), as a percentage with one decimal. The article states
    these rates in its text (Results, "ORR was similar ... 7.5% vs. 5.8%") while ``targets.csv`` keeps its counts,
    so the derived value is the article's own rate and is shown as such, unmarked. Only the reproduction layer
    derives such values; no analysis reads them.

    Returns
    -------
    dict
        ``{id: value as text}`` for ids absent from ``targets`` (the article's ids).
    """
    rows = _derived_rows(targets)
    return dict(zip(rows["id"], rows["value"]))


def _derived_rows(targets: pd.DataFrame) -> pd.DataFrame:
    """:func:`derived_targets` as rows of ``targets.csv`` (``id, group, endpoint, value``)."""
    published = targets.set_index("id")
    sizes = {row.group: row.value for row in targets.itertuples()
             if row.section == "flow" and row.endpoint == "enrolled" and row.cohort == "all" and row.group != "overall"}
    out = []
    for row in targets.itertuples():
        if not (row.id.startswith("response.cr_") and row.cohort == "all"):
            continue
        code = row.id.removeprefix("response.cr_")
        orr_id, pr_id = f"response.orr_{code}", f"response.pr_{code}"
        size = sizes.get(row.group)
        if orr_id in published.index or pr_id not in published.index or not size:
            continue
        try:
            responders, patients = int(row.value) + int(published.at[pr_id, "value"]), int(size)
        except ValueError:
            continue
        value = (str((Decimal(100 * responders) / Decimal(patients)).quantize(Decimal("0.1"), ROUND_HALF_UP))
                 if patients else "NA")
        out.append({"id": orr_id, "group": row.group, "endpoint": "orr", "value": value})
    return pd.DataFrame(out, columns=["id", "group", "endpoint", "value"])


def published_headline_values(rows: list[dict], targets: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The article's (treatment, control, P) beside each of the introduction's headline rows
    (``report.presentation.headline_ids``, the run's ids: groups by role): the published value of the same role,
    the article's rate derived from its own counts (:func:`derived_targets`, the rates its text states), or '—'
    where the article gives neither. The values are the article's regimens' (:data:`ARTICLE_GROUPS`), whatever
    the run compares."""
    derived = _derived_rows(targets)
    article_of = {a.run_id: a.article_id for a in align_targets(targets).values() if a.run_id}
    article_of.update({a.run_id: a.article_id for a in align_targets(derived).values() if a.run_id})
    published = targets.set_index("id")["value"].to_dict()
    derived_values = dict(zip(derived["id"], derived["value"]))

    def shown(key: str) -> str:
        article_id = article_of.get(key, key)
        if article_id in published:
            return published[article_id]
        return derived_values.get(article_id, "—")

    return [tuple(shown(key) for key in row["ids"]) for row in rows]


def published_headlines(rows: list[dict], targets: pd.DataFrame) -> list[str]:
    """:func:`published_headline_values` as one text per row: 'treatment / control, P p', or 'not reported'."""
    out = []
    for treated, control, p in published_headline_values(rows, targets):
        out.append("not reported" if {treated, control, p} == {"—"} else f"{treated} / {control}, P {p}")
    return out
