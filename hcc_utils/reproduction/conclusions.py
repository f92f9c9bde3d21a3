"""The article's conclusions: its qualitative claims as targets of their own, evaluated from a run's results.

The scorecard (:mod:`hcc_utils.reproduction.scorecard`) compares numbers one by one, so it cannot see that the story
they tell has changed: an ECOG score that becomes an independent predictor of death, an adverse event that outranks
one the article names among the three most common. ``data/conclusions.csv`` lists every claim of the article's text
(which differences are significant and which are not, the direction of each comparison, the independent
predictors and that the others are not, the most common adverse events by group and grade, "similar",
"comparable", "superior", the third-line and cycles subgroup statements), each with the place of its sentence in
the article (``source``: section and line of the article's text) and the sentence's words (``quote``).

Each claim is evaluated from the run's ``results.csv`` (never by the analysis) under its ``rule``:

==========================  ================================================================================
rule                        holds when
==========================  ================================================================================
``significant``             every P of ``subject`` (groups separated by ``|``) is below 0.05
``not_significant``         every P of ``subject`` is 0.05 or more ("similar", "comparable", "did not differ")
``significant_greater``     for every group ``p;a;b`` of ``subject``: P below 0.05 and a > b ("significantly
                            higher", "superior"); a median not reached counts as longer than any reached one
``greater``                 for every group ``a;b``: a > b (a direction without a test)
``above_one``               every hazard ratio of ``subject`` is above 1 (a risk factor)
``independent_predictors``  in the multivariable Cox model of the endpoint ``subject``, the terms with P below
                            0.05 are exactly those of ``expected`` (every other entered term P >= 0.05)
``exactly``                 the names the run lists under ``subject`` (a list result, such as the Table 1 rows
                            whose groups differ) are exactly those of ``expected`` ("no other ... differed")
``most_common``             the adverse events of ``expected`` (one group, the grade ``subject``: ``any`` or
                            ``g34``) are the most frequent of that group: none of the others is more frequent
                            than the least frequent of them (a tie at the last place is allowed)
``not_evaluable``           never: results.csv records no number that decides the claim (the reason says so)
==========================  ================================================================================

A claim that is not held is **infeasible** where the article's own numbers prove that no cohort can hold it
together with them (:func:`most_common_infeasible`: the grade 3-4 adverse events of the sorafenib group cannot have
AST elevation, 2 of 86 patients, third most common when 33 of 86 patients had one, over 14 terms); the reason
gives the proof.

Ids in ``subject`` and ``expected`` are the article's (groups by regimen, as ``data/targets.csv`` writes them);
each is read as the run's id of the same role (:func:`hcc_utils.reproduction.roles.align_target`), so that a run
of other regimens is judged by role, as its numbers are.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from hcc_utils.config import REPO_ROOT
from hcc_utils.reproduction.roles import ARTICLE_GROUPS, align_target
from hcc_utils.reproduction.scorecard import _results_frame, _to_float
from hcc_utils.reproduction.targets import load_targets

__all__ = ["ALPHA", "CONCLUSIONS_PATH", "RULES", "Verdict", "conclusions_line", "evaluate_conclusion",
           "evaluate_conclusions", "load_conclusions", "most_common_infeasible", "tier_counts", "tiers_line"]

CONCLUSIONS_PATH = REPO_ROOT / "data" / "conclusions.csv"
#: The article's significance level ("P<0.05").
ALPHA = 0.05
RULES = ("significant", "not_significant", "significant_greater", "greater", "above_one", "independent_predictors",
         "exactly", "most_common", "not_evaluable")
#: Adverse-event terms of a run: those with a grade 3-4 count by group (``safety.<term>_g34_n_<role>``).
_AE_TERM = re.compile(r"^safety\.([a-z0-9_]+)_g34_n_(treatment|control)$")


def load_conclusions(path: str | Path = CONCLUSIONS_PATH) -> pd.DataFrame:
    """Read ``conclusions.csv`` as text; refuse an unknown rule (naming the row's id)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    unknown = frame[~frame["rule"].isin(RULES)]
    if len(unknown):
        raise ValueError(f"{path}: unknown rule for {', '.join(f'{r.id} ({r.rule!r})' for r in unknown.itertuples())}"
                         f"; rules: {', '.join(RULES)}")
    return frame


@dataclass(frozen=True)
class Verdict:
    """Whether a claim holds (None: it cannot be decided from the run's results), what was observed and why."""

    held: bool | None
    observed: str
    reason: str = ""


def _run_id(article_id: str, groups) -> str | None:
    return align_target(SimpleNamespace(id=article_id.strip()), groups).run_id


def _groups_of(subject: str) -> list[list[str]]:
    return [[item.strip() for item in part.split(";") if item.strip()] for part in subject.split("|") if part.strip()]


class _Reader:
    """The run's values under the article's ids (read by role); records what it read and what was missing."""

    def __init__(self, frame: pd.DataFrame, groups):
        self.frame, self.groups, self.missing = frame, groups, []

    def __call__(self, article_id: str, not_reached_is_long: bool = False) -> float:
        run_id = _run_id(article_id, self.groups)
        if run_id is None or run_id not in self.frame.index:
            self.missing.append(run_id or article_id)
            return math.nan
        value = _to_float(self.frame.at[run_id, "value"])
        if math.isnan(value) and not_reached_is_long:
            return math.inf  # a median not reached is longer than any reached one
        return value


def _fmt(value: float) -> str:
    if math.isinf(value):
        return "not reached"
    return "NA" if math.isnan(value) else f"{value:.4g}"


def _p_rule(read: _Reader, subject: str, below: bool) -> Verdict:
    seen, failing = [], []
    for group in _groups_of(subject):
        p = read(group[0])
        seen.append(f"{_run_id(group[0], read.groups)} = {_fmt(p)}")
        if math.isnan(p) or ((p >= ALPHA) if below else (p < ALPHA)):
            failing.append(seen[-1])
    word = "not significant" if below else "significant"
    return Verdict(not failing, "; ".join(seen), f"{word}: {'; '.join(failing)}" if failing else "")


def _greater_rule(read: _Reader, subject: str, with_p: bool) -> Verdict:
    seen, failing = [], []
    for group in _groups_of(subject):
        p_text, ok = "", True
        if with_p:
            p = read(group[0])
            ok = not math.isnan(p) and p < ALPHA
            p_text, group = f"P {_fmt(p)}, ", group[1:]
        median = any("median" in item for item in group)
        a, b = read(group[0], median), read(group[1], median)
        ok = ok and not (math.isnan(a) or math.isnan(b)) and a > b
        seen.append(f"{p_text}{_run_id(group[0], read.groups)} {_fmt(a)} vs {_run_id(group[1], read.groups)} {_fmt(b)}")
        if not ok:
            failing.append(seen[-1])
    return Verdict(not failing, "; ".join(seen), f"fails: {'; '.join(failing)}" if failing else "")


def _independent(read: _Reader, endpoint: str, expected: str) -> Verdict:
    family = re.compile(rf"^cox\.{re.escape(endpoint)}_(?!uni_)[a-z0-9_]+_p$")
    entered = [key for key in read.frame.index if family.match(key)]
    if not entered:
        read.missing.append(f"cox.{endpoint}_<term>_p")
        return Verdict(None, "no multivariable model in the results")
    significant = {key for key in entered if _to_float(read.frame.at[key, "value"]) < ALPHA}
    wanted = {_run_id(item, read.groups) for group in _groups_of(expected) for item in group}
    observed = ", ".join(f"{key} = {_fmt(_to_float(read.frame.at[key, 'value']))}" for key in entered)
    extra, lacking = sorted(significant - wanted), sorted(wanted - significant)
    reason = "; ".join(part for part in (f"also independent: {', '.join(extra)}" if extra else "",
                                         f"not independent: {', '.join(lacking)}" if lacking else "") if part)
    return Verdict(significant == wanted, observed, reason)


def _exactly(read: _Reader, subject: str, expected: str) -> Verdict:
    run_id = _run_id(subject, read.groups)
    if run_id not in read.frame.index:
        read.missing.append(run_id or subject)
        return Verdict(None, "")
    value = read.frame.at[run_id, "value"]  # a list in a run's values, ";"-separated names in its results.csv
    items = value if isinstance(value, (list, tuple, set)) else str(value).split(";")
    listed = {str(item).strip() for item in items if str(item).strip()}
    wanted = {item for group in _groups_of(expected) for item in group}
    extra, lacking = sorted(listed - wanted), sorted(wanted - listed)
    reason = "; ".join(part for part in (f"also listed: {', '.join(extra)}" if extra else "",
                                         f"not listed: {', '.join(lacking)}" if lacking else "") if part)
    return Verdict(listed == wanted, f"{run_id} = {'; '.join(sorted(listed)) or 'none'}", reason)


def _most_common(read: _Reader, grade: str, expected: str) -> Verdict:
    wanted = [_run_id(item, read.groups) for group in _groups_of(expected) for item in group]
    role = str(wanted[0]).rsplit("_", 1)[-1]
    terms = sorted({m.group(1) for key in read.frame.index if (m := _AE_TERM.match(key))})
    middle = "_g34" if grade == "g34" else ""
    family = {f"safety.{term}{middle}_{role}" for term in terms} | set(wanted)
    values = {key: _to_float(read.frame.at[key, "value"]) if key in read.frame.index else math.nan for key in family}
    if any(math.isnan(values[key]) for key in wanted):
        read.missing.extend(key for key in wanted if math.isnan(values[key]))
        return Verdict(None, "")
    least = min(values[key] for key in wanted)
    above = sorted((key for key in family - set(wanted) if values[key] > least), key=lambda k: -values[k])
    ranked = sorted(family, key=lambda k: (-values[k], k))[:len(wanted) + 2]
    observed = ", ".join(f"{key.removeprefix('safety.')} {_fmt(values[key])}" for key in ranked)
    reason = (f"{', '.join(f'{k} ({_fmt(values[k])})' for k in above)} more frequent than "
              f"{min(wanted, key=lambda k: values[k])} ({_fmt(least)})") if above else ""
    return Verdict(not above, observed, reason)


def most_common_infeasible(row, published: dict[str, str], n_terms: int) -> str:
    """The proof that a ``most_common`` claim cannot hold together with the article's own numbers ('' when none).

    The claim says no other term is more frequent than the least frequent of its k terms (c_1..c_k patients of the
    group's n). The article also gives how many patients of the group had such an event (any grade: a count;
    grade 3-4: a percentage). Each of them has at least one event of one of the ``n_terms`` terms, and each term
    at most one per patient, so they need at most c_1 + ... + c_k + (n_terms - k) min(c): more patients than that
    cannot all be covered."""
    wanted = [item.strip() for item in str(row.expected).split(";") if item.strip()]
    code = wanted[0].rsplit("_", 1)[-1]
    regimen = next((name for name in ARTICLE_GROUPS.values() if name.startswith(code)), None)
    total_id = f"safety.g34_{code}" if row.subject == "g34" else f"safety.any_{code}"
    size_id = f"flow.enrolled_{regimen}"
    if regimen is None or not all(key in published for key in (*wanted, total_id, size_id)):
        return ""
    n = int(published[size_id])
    counts = [round(float(published[key]) * n / 100) for key in wanted]
    total = float(published[total_id])
    patients = round(total * n / 100) if row.subject == "g34" else int(total)
    capacity = sum(counts) + (n_terms - len(counts)) * min(counts)
    if patients <= capacity:
        return ""
    grade = "a grade 3-4" if row.subject == "g34" else "an"
    return (f"the article's {patients} of {n} {regimen} patients with {grade} adverse event need at least {patients} "
            f"events of the {n_terms} terms, but with no other term above the least of {', '.join(wanted)} "
            f"({min(counts)} patients) the terms hold at most {' + '.join(str(c) for c in counts)} + "
            f"{n_terms - len(counts)} x {min(counts)} = {capacity}")


def evaluate_conclusion(row, frame: pd.DataFrame, groups=None) -> Verdict:
    """One claim (a row of :func:`load_conclusions`) against a run's results (``_results_frame`` form)."""
    read = _Reader(frame, groups)
    rule = row.rule
    if rule == "not_evaluable":
        return Verdict(None, "", f"results.csv records no number that decides it ({row.holds_when})")
    if rule in ("significant", "not_significant"):
        verdict = _p_rule(read, row.subject, rule == "significant")
    elif rule in ("significant_greater", "greater"):
        verdict = _greater_rule(read, row.subject, rule == "significant_greater")
    elif rule == "above_one":
        values = [(item, read(item)) for group in _groups_of(row.subject) for item in group]
        below = [f"{_run_id(i, groups)} = {_fmt(v)}" for i, v in values if not v > 1]
        verdict = Verdict(not below, "; ".join(f"{_run_id(i, groups)} = {_fmt(v)}" for i, v in values),
                          f"not above 1: {'; '.join(below)}" if below else "")
    elif rule == "independent_predictors":
        verdict = _independent(read, row.subject, row.expected)
    elif rule == "exactly":
        verdict = _exactly(read, row.subject, row.expected)
    else:
        verdict = _most_common(read, row.subject, row.expected)
    if read.missing:
        return Verdict(None, verdict.observed, f"missing from the results: {', '.join(read.missing)}")
    return verdict


def evaluate_conclusions(results, conclusions: pd.DataFrame | None = None, groups=None,
                         targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every claim of the article against a run's results.

    Parameters
    ----------
    results : the run's ``results.csv`` as a frame (``id, value, ...``) or a ``{id: value}`` dict (run ids).
    conclusions : :func:`load_conclusions` output (the bundled ``data/conclusions.csv`` by default).
    groups : the run's (treatment, control) regimens; the article's when None (other regimens: read by role).
    targets : the article's numbers (``data/targets.csv`` by default), for the proofs of infeasibility.

    Returns
    -------
    pandas.DataFrame
        The conclusions' columns with ``status`` (held, not held, not evaluable, infeasible: not held, and the
        article's own numbers prove that no cohort can hold it together with them), ``observed`` (the run's values
        that decide it) and ``reason`` (why not held, with the proof where there is one, or why not evaluable), in
        the file's order.
    """
    conclusions = load_conclusions() if conclusions is None else conclusions
    targets = load_targets() if targets is None else targets
    published = dict(zip(targets["id"], targets["value"]))
    frame = _results_frame(results)
    n_terms = len({m.group(1) for key in frame.index if (m := _AE_TERM.match(key))})
    rows = []
    for row in conclusions.itertuples(index=False):
        verdict = evaluate_conclusion(row, frame, groups)
        status = "not evaluable" if verdict.held is None else ("held" if verdict.held else "not held")
        reason = verdict.reason
        if status == "not held" and row.rule == "most_common":
            proof = most_common_infeasible(row, published, n_terms)
            if proof:
                status, reason = "infeasible", f"{reason}; infeasible: {proof}"
        rows.append({**row._asdict(), "status": status, "observed": verdict.observed, "reason": reason})
    return pd.DataFrame(rows)


def conclusions_line(evaluated: pd.DataFrame) -> str:
    """``N of M conclusions of the article held`` (M: every claim, those that cannot be evaluated or are proven
    infeasible included; their counts follow)."""
    held = int((evaluated["status"] == "held").sum())
    notes = [f"{int((evaluated['status'] == s).sum())} {s}" for s in ("infeasible", "not evaluable")
             if (evaluated["status"] == s).any()]
    return f"{held} of {len(evaluated)} conclusions of the article held" + (f" ({', '.join(notes)})" if notes else "")


def tier_counts(scored: pd.DataFrame, evaluated: pd.DataFrame) -> dict[str, int]:
    """The reproduction's three tiers: published numbers met (close: within the tolerance, identical ones
    included), numbers identical at printed precision, conclusions held; with the denominators (numbers the audit
    does not exclude and the run can compare; every conclusion)."""
    counted = scored[~scored["status"].isin(["excluded", "not comparable"])]
    return {"numbers": len(counted), "close": int((counted["status"] == "met").sum()),
            "identical": int((counted["tier"] == "identical").sum()),
            "conclusions": len(evaluated), "held": int((evaluated["status"] == "held").sum())}


def tiers_line(scored: pd.DataFrame, evaluated: pd.DataFrame) -> str:
    """'149 of 149 published numbers close, 132 identical at printed precision; 30 of 35 conclusions held (...)'."""
    t = tier_counts(scored, evaluated)
    return (f"{t['close']} of {t['numbers']} published numbers close, {t['identical']} identical at printed "
            f"precision; {conclusions_line(evaluated)}")
