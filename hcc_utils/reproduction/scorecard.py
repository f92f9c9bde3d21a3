"""Scorecard: how many of the article's published numbers a run reproduces, under stated tolerances.

Each row of ``data/targets.csv`` is one published number with a stable ``id``. A run's ``results.csv``
(columns ``id, value``) holds the reproduced numbers under the same ids. :func:`score` compares them with the
rule that fits the kind of number (the ``statistic`` column of the target):

=====================================  ==========================================================================
kind                                   met when
=====================================  ==========================================================================
counts (``n``, ``count``, ``events``,  equal (exact)
``CR``, ``PR``)
percentages (``percent``,              the reproduced percentage rounded to the published 1 decimal equals it
``percent_SD``)                        (round half up, as tables are typeset)
medians, quartiles, follow-up          within 0.1 (months, or years / cycles for baseline rows); a published
                                       ``NA`` (not reached) is met only by a reproduced ``NA``/NaN
hazard ratios and CI limits            within 5% relative of the published value
p-values                               on the same side of 0.05 and within 0.01 absolute (0.002 when the
                                       published value is below 0.01); ``<0.001`` is met by any value < 0.001
lists (``significant``)                the same set of ``;``-separated names
=====================================  ==========================================================================

Two tiers
---------
A met number is **identical** when the reproduced value, written at the article's printed precision, reads exactly
as the article prints it (:func:`is_identical`): a median printed 3.5 needs a value that rounds to 3.5, a hazard
ratio printed 2.472 one that rounds to 2.472, a p printed 0.012 one that rounds to 0.012 (and a value below 0.001
would be printed "<0.001", so it is not identical to a printed "0.001"); "<0.001" is met by any value below
0.001; lists are equal as sets. Otherwise a met number is **close**: within the tolerances of the table above.
Rounding is half up on the decimal digits of the reproduced value, as tables are typeset.

Published numbers that the article itself cannot satisfy (found by :mod:`hcc_utils.reproduction.audit`) are marked
``excluded`` and left out of the denominator: the final line reads ``reproduced N of M published numbers``.

By role
-------
The article's ids name its groups by regimen, a run's by role; each published number is compared with the run's
number of the same meaning (:mod:`hcc_utils.reproduction.roles`). A run of other regimens is compared by role
(its treatment group beside the article's lenvatinib group); a published number without a counterpart in such a
run (the article's count of a regimen it excluded, which the run compares) is ``not comparable`` and left out of M.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from hcc_utils.reproduction.readings import basis_of
from hcc_utils.reproduction.roles import align_targets, regimen_names
from hcc_utils.reproduction.targets import article_terms, load_targets

__all__ = [
    "load_targets",
    "rule_of",
    "tolerance_text",
    "is_met",
    "distance",
    "is_identical",
    "printed_decimals",
    "score",
    "results_frame",
    "result_number",
    "close_note",
    "summary_line",
]

COUNT_STATS = {"n", "count", "events", "CR", "PR"}
PERCENT_STATS = {"percent", "percent_SD"}
QUANTILE_STATS = {"median", "q25", "q75", "followup_median", "followup_q25", "followup_q75"}
TIME_TOL = 0.1
HR_REL_TOL = 0.05
P_TOL = 0.01
P_TOL_SMALL = 0.002


def rule_of(statistic: str) -> str:
    """Comparison rule of a target from its ``statistic``: count, percent, time, ratio, p or list."""
    s = str(statistic)
    if s in COUNT_STATS:
        return "count"
    if s in PERCENT_STATS:
        return "percent"
    if s in QUANTILE_STATS:
        return "time"
    if s.startswith(("hr:", "ci_low:", "ci_high:")):
        return "ratio"
    if s == "p" or s.startswith("p:"):
        return "p"
    if s == "significant":
        return "list"
    raise ValueError(f"no scorecard rule for statistic {statistic!r}")


def tolerance_text(rule: str, published: str) -> str:
    """Human-readable tolerance of a rule for one published value."""
    if rule == "count":
        return "exact"
    if rule == "percent":
        return "exact at 1 decimal"
    if rule == "time":
        return "not reached" if published.strip().upper() == "NA" else f"±{TIME_TOL}"
    if rule == "ratio":
        return f"±{HR_REL_TOL:.0%} relative"
    if rule == "p":
        if published.strip().startswith("<"):
            return f"{published.strip()}"
        return f"same side of 0.05, ±{P_TOL_SMALL if float(published) < 0.01 else P_TOL}"
    return "same set"


def result_number(text) -> float:
    """Number of a result cell; 'NA' and friends are NaN; a bound such as '<0.001' reads as just below it."""
    if text is None:
        return math.nan
    if isinstance(text, (int, float, np.floating, np.integer)):
        return float(text)
    t = str(text).strip()
    if t == "" or t.upper() in {"NA", "NAN", "NR", "NONE"}:
        return math.nan
    if t.startswith("<"):
        return float(np.nextafter(float(t[1:]), 0.0))
    return float(t)


def _round_half_up(x: float, places: int = 1) -> Decimal:
    return Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _as_set(text) -> set[str]:
    if text is None:
        return set()
    if isinstance(text, (list, tuple, set, frozenset)):
        return {str(v).strip() for v in text if str(v).strip()}
    t = str(text).strip()
    if t.upper() in {"", "NA"}:
        return set()
    return {v.strip() for v in t.split(";") if v.strip()}


def is_met(rule: str, published: str, reproduced) -> bool:
    """Whether a reproduced value meets a published one under ``rule`` (see the module docstring)."""
    pub = str(published).strip()
    if rule == "list":
        return article_terms(pub) == _as_set(reproduced)
    try:
        rep = result_number(reproduced)
    except (TypeError, ValueError):
        return False
    if rule == "time" and pub.upper() == "NA":
        return math.isnan(rep)
    if math.isnan(rep):
        return False
    if rule == "p" and pub.startswith("<"):
        return rep < float(pub[1:])
    p = float(pub)
    if rule == "count":
        return rep == p
    if rule == "percent":
        decimals = max(0, -Decimal(pub).as_tuple().exponent)
        return _round_half_up(rep, decimals) == Decimal(pub).quantize(Decimal(1).scaleb(-decimals))
    if rule == "time":
        return abs(rep - p) <= TIME_TOL + 1e-9
    if rule == "ratio":
        return abs(rep - p) <= HR_REL_TOL * abs(p) + 1e-12
    if rule == "p":
        if (rep < 0.05) != (p < 0.05):
            return False
        tol = P_TOL_SMALL if p < 0.01 else P_TOL
        return abs(rep - p) <= tol + 1e-12
    raise ValueError(f"unknown rule {rule!r}")


def printed_decimals(published: str) -> int:
    """Decimals the article printed a number with ("3.50" → 2, "12" → 0, "<0.001" → 3)."""
    text = str(published).strip().lstrip("<>≤≥")
    exponent = Decimal(text).as_tuple().exponent
    return max(0, -int(exponent))


def is_identical(rule: str, published: str, reproduced) -> bool:
    """Whether the reproduced value, printed at the article's precision, reads as the published one.

    Counts are equal; percentages, times, ratios and p-values rounded half up to the published number of decimals
    equal the published value; a p below 0.001 is printed "<0.001" and so equals only a published "<0.001"
    (and any value below 0.001 equals it); a published ``NA`` (not reached) equals only a missing value; lists are
    equal as sets.
    """
    pub = str(published).strip()
    if rule == "list":
        return article_terms(pub) == _as_set(reproduced)
    try:
        rep = result_number(reproduced)
    except (TypeError, ValueError):
        return False
    if pub.upper() == "NA":
        return math.isnan(rep)
    if math.isnan(rep):
        return False
    if rule == "p":
        if pub.startswith("<"):
            return rep < float(pub[1:])
        if rep < 0.001:  # printed "<0.001" by the article's convention, never "0.001"
            return False
    if rule == "count":
        return rep == float(pub)
    decimals = printed_decimals(pub)
    return _round_half_up(rep, decimals) == Decimal(pub).quantize(Decimal(1).scaleb(-decimals))


def distance(rule: str, published: str, reproduced) -> float:
    """Distance of a reproduced value from its published one in units of the tolerance.

    0 means equal, values <= 1 are (normally) met; a missing or wrong-kind value gives 10. Used by the
    calibration's loss, so that it pulls values towards the published ones smoothly.
    """
    pub = str(published).strip()
    if rule == "list":
        return float(len(article_terms(pub) ^ _as_set(reproduced)))
    try:
        rep = result_number(reproduced)
    except (TypeError, ValueError):
        return 10.0
    if rule == "time" and pub.upper() == "NA":
        return 0.0 if math.isnan(rep) else 3.0
    if math.isnan(rep):
        return 10.0
    if rule == "p" and pub.startswith("<"):
        limit = float(pub[1:])
        return 0.0 if rep < limit else min(10.0, 0.5 + (rep - limit) / limit)
    p = float(pub)
    if rule == "count":
        return abs(rep - p)
    if rule == "percent":
        return abs(rep - p) / 0.05
    if rule == "time":
        return abs(rep - p) / TIME_TOL
    if rule == "ratio":
        return abs(np.log(max(rep, 1e-12) / p)) / np.log(1 + HR_REL_TOL)
    if rule == "p":
        tol = P_TOL_SMALL if p < 0.01 else P_TOL
        d = abs(rep - p) / tol
        if (rep < 0.05) != (p < 0.05):
            d = max(d, 1.5 + abs(rep - 0.05) / tol)
        return d
    raise ValueError(f"unknown rule {rule!r}")


#: Kinds of result (``results.csv``'s ``kind``, from the registry) that each comparison rule accepts.
RULE_KINDS = {"count": {"count"}, "percent": {"percent"}, "time": {"months", "quantity"}, "ratio": {"ratio"},
              "p": {"p"}, "list": {"list"}}


def results_frame(results) -> pd.DataFrame:
    """``id, value, kind, unit`` of a run (a ``{id: value}`` dict has no kind or unit)."""
    if isinstance(results, dict):
        frame = pd.DataFrame({"id": list(results), "value": list(results.values())})
    else:
        frame = pd.DataFrame(results).copy()
    for column in ("kind", "unit"):
        if column not in frame.columns:
            frame[column] = ""
    return frame.assign(id=frame["id"].astype(str)).set_index("id")


def score(results, targets: pd.DataFrame, excluded: dict | set | None = None,
          not_identical: dict | None = None, groups=None) -> pd.DataFrame:
    """Compare reproduced numbers with the published ones.

    Each published number is looked up under the run's id of the same meaning
    (:func:`hcc_utils.reproduction.roles.align_targets`: the run names groups by role); where the run recorded a
    kind (``results.csv`` from the registry of result ids), it must be one that the target's rule compares, else
    the number is ``missed`` with the reason. When the run compares other regimens than the article (``groups``),
    the comparison is by role, the regimens the article names in a published list are read as the run's regimens
    of the same role, and a number that has no counterpart in the run (a count of a regimen the article excluded
    but the run compares) is ``not comparable`` with the reason.

    Parameters
    ----------
    results : DataFrame with ``id, value`` (and ``kind, unit``) or a ``{id: value}`` dict, under the run's ids.
    targets : :func:`load_targets` output.
    excluded : ids (or ``{id: reason}``) the audit shows the article cannot satisfy; status ``excluded``.
    not_identical : ``{id: proof}`` of numbers the audit shows cannot be printed identically together with the
        article's other numbers (:func:`hcc_utils.reproduction.audit.identical_infeasible`); when met they are
        ``close`` with the proof as ``reason``.
    groups : the run's (treatment, control) regimens (a pair, a ``{role: regimen}`` mapping or the configuration's
        ``groups``); the article's when None.

    Returns
    -------
    pandas.DataFrame
        ``id`` (the article's), ``result_id`` (the run's id compared with it, '' when none), ``section, statistic,
        published, reproduced, kind, unit, tolerance, status`` (met / missed / missing / excluded / not
        comparable), ``tier`` (identical / close for met numbers, "" otherwise), ``reason`` and ``basis`` (the
        article's method, or the reading of the article its numbers require), in the order of ``targets``.
    """
    frame = results_frame(results)
    excluded = excluded or {}
    reasons = excluded if isinstance(excluded, dict) else {k: "" for k in excluded}
    alignments = align_targets(targets, groups)
    names = regimen_names(groups)
    rows = []
    for t in targets.itertuples(index=False):
        rule = rule_of(t.statistic)
        published = str(t.value)
        run_id = alignments[t.id].run_id
        present = run_id is not None and run_id in frame.index
        reproduced = frame.at[run_id, "value"] if present else None
        kind = str(frame.at[run_id, "kind"]) if present else ""
        reason = reasons.get(t.id, "")
        compared = _in_run_terms(published, names) if rule == "list" else published
        if t.id in reasons:
            status = "excluded"
        elif run_id is None:
            status, reason = "not comparable", alignments[t.id].reason
        elif not present:
            status = "missing"
        elif kind and kind not in RULE_KINDS[rule]:
            status = "missed"
            reason = f"the run records a {kind}, the article a {t.statistic}"
        else:
            status = "met" if is_met(rule, compared, reproduced) else "missed"
        tier = ""
        if status == "met":
            tier = "identical" if is_identical(rule, compared, reproduced) else "close"
            if tier == "close" and t.id in (not_identical or {}):
                reason = f"identical impossible: {not_identical[t.id]}"
        rows.append({
            "id": t.id, "result_id": run_id or "", "section": t.section, "statistic": t.statistic,
            "published": published, "reproduced": "" if reproduced is None else str(reproduced), "kind": kind,
            "unit": str(frame.at[run_id, "unit"]) if present else "", "tolerance": tolerance_text(rule, published),
            "status": status, "tier": tier, "reason": reason, "basis": basis_of(t.id),
        })
    return pd.DataFrame(rows)


def _in_run_terms(published: str, names: dict[str, str]) -> str:
    """A published list with the article's regimens replaced by the run's regimens of the same role."""
    return ";".join(names.get(item.strip(), item.strip()) for item in str(published).split(";"))


def summary_line(scored: pd.DataFrame) -> str:
    """``reproduced N of M published numbers (K identical at printed precision)``: M leaves out the numbers the
    audit excludes and those without a counterpart in the run (``not comparable``, then counted after a
    semicolon)."""
    counted = scored[~scored["status"].isin(["excluded", "not comparable"])]
    identical = int((counted.get("tier", pd.Series(dtype=str)) == "identical").sum())
    line = (f"reproduced {int((counted['status'] == 'met').sum())} of {len(counted)} published numbers "
            f"({identical} identical at printed precision)")
    apart = int((scored["status"] == "not comparable").sum())
    return line + (f"; {apart} not comparable (other regimens)" if apart else "")


def close_note(scored: pd.DataFrame, synthetic: bool) -> str:
    """What the close numbers that carry no proof of impossibility mean, for the scorecard page.

    On this project's synthetic cohort they are where the calibration's search stopped (not a proof that their
    printed digits cannot be reached together); on any other cohort nothing was tuned to the article, so the close
    tier only says how near the cohort's numbers come. Empty when every close number carries a proof.
    """
    close = scored[scored.get("tier", pd.Series("", index=scored.index)) == "close"]
    open_ = int((~close["reason"].astype(str).str.startswith("identical impossible")).sum())
    if open_ == 0:
        return ""
    one = open_ == 1
    subject = f"The other {open_} close {'number' if one else 'numbers'}"
    if synthetic:
        return (f"{subject} {'depends' if one else 'depend'} on how the synthetic cohort's values are spread "
                f"between its patients: the calibration's search did not reach {'its' if one else 'their'} printed "
                f"digits. That is a limit of the search, not a proof that {'it cannot' if one else 'they cannot'} "
                "be printed together with the others.")
    return (f"{subject} {'comes' if one else 'come'} from this cohort as it is: nothing in it was tuned to the "
            "article's values.")
