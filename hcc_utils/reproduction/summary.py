"""The scorecard and the audit as people read them: plain text for the command line (``hcc-study scorecard``) and
tables for the book's scorecard and audit pages."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from hcc_utils.reproduction.audit import audit_article, identical_infeasible
from hcc_utils.reproduction.conclusions import CONCLUSIONS_PATH, evaluate_conclusions, load_conclusions, tiers_line
from hcc_utils.reproduction.roles import role_note
from hcc_utils.reproduction.scorecard import score, summary_line
from hcc_utils.config import StudyConfig
from hcc_utils.reproduction.targets import ARTICLE_TERMS, load_targets
from hcc_utils.study.labels import group_label, variable_labels
from hcc_utils.study.registry import display_value, parse_value
from hcc_utils.tables.journal import Column, JournalTable, Row


def _short(value: str, width: int = 14) -> str:
    try:
        f = float(value)
        text = f"{f:.4g}" if not f.is_integer() else str(int(f))
    except (TypeError, ValueError):
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def shown_id(row) -> str:
    """The id a scorecard row is shown under: the run's id compared with the published number (``result_id``,
    groups by role, as ``results.csv`` names it), or the article's id when the run has no counterpart."""
    run_id = getattr(row, "result_id", "")
    return run_id if isinstance(run_id, str) and run_id else str(row.id)


def scorecard_report(results_csv: str | Path, targets_csv: str | Path, groups=None,
                     conclusions_csv: str | Path = CONCLUSIONS_PATH) -> str:
    """Plain-text scorecard of a run: missed/missing numbers, exclusions with reasons, the article's conclusions not
    held, the three tiers (numbers close, identical, conclusions held) and the final line.

    Parameters
    ----------
    results_csv : the run's ``results.csv`` (``id, value, ...``).
    targets_csv : ``data/targets.csv``.
    groups : the run's (treatment, control) regimens (its configuration's ``groups``); the article's when None.
        Other regimens are compared by role, and the report says so first.
    conclusions_csv : the article's conclusions (``data/conclusions.csv``), judged by role as the numbers are.
    """
    targets = load_targets(targets_csv)
    results = pd.read_csv(results_csv, dtype=str, keep_default_na=False)
    audit, excluded = audit_article(targets)
    scored = score(results, targets, excluded, identical_infeasible(audit), groups=groups)
    met = scored[scored.status == "met"]
    apart = int((scored.status == "not comparable").sum())
    lines = [note[:1].upper() + note[1:] + "." for note in (role_note(groups),) if note]
    lines += [f"Scorecard: {len(targets)} published numbers, {len(met)} met "
              f"({int((met.tier == 'identical').sum())} identical at printed precision, "
              f"{int((met.tier == 'close').sum())} close), "
              f"{int((scored.status == 'missed').sum())} missed, {int((scored.status == 'missing').sum())} missing, "
              f"{int((scored.status == 'excluded').sum())} excluded" + (f", {apart} not comparable" if apart else "")]
    for status in ("missed", "missing"):
        part = scored[scored.status == status]
        if len(part):
            lines.append(f"{status}:")
            for r in part.itertuples(index=False):
                lines.append(f"  {shown_id(r):<42} published {r.published:>14}  reproduced "
                             f"{_short(r.reproduced):>14}  ({r.tolerance})")
    part = met[met.tier == "close"]
    if len(part):
        lines.append("close (within tolerance, not identical at the article's printed precision):")
        for r in part.itertuples(index=False):
            proof = f"\n      {r.reason}" if r.reason else ""
            lines.append(f"  {shown_id(r):<42} published {r.published:>14}  reproduced {_short(r.reproduced):>14}{proof}")
    part = scored[scored.status == "excluded"]
    if len(part):
        lines.append("excluded (the article cannot satisfy them, see the audit):")
        for r in part.itertuples(index=False):
            lines.append(f"  {shown_id(r)}: {r.reason}")
    part = scored[scored.status == "not comparable"]
    if len(part):
        lines.append("not comparable (no number of this run measures the same thing):")
        for r in part.itertuples(index=False):
            lines.append(f"  {r.id}: {r.reason}")
    evaluated = evaluate_conclusions(results, load_conclusions(conclusions_csv), groups=groups)
    part = evaluated[evaluated.status != "held"]
    if len(part):
        lines.append("conclusions of the article not held (or not decidable from results.csv):")
        for r in part.itertuples(index=False):
            lines.append(f"  {r.id} ({r.status}; {r.source}): {r.claim}\n      {r.reason or r.observed}")
    lines.append(f"Tiers: {tiers_line(scored, evaluated)}")
    lines.append(summary_line(scored))
    return "\n".join(lines)


#: Sections of the scorecard as the book names them (row groups of its tables).
SECTION_NAMES = {"flow": "Cohort flow", "baseline": "Baseline characteristics", "matching": "Propensity-score matching",
                 "response": "Responses", "survival": "Survival", "cox": "Predictors (Cox regression)",
                 "thirdline": "Third-line therapy", "cycles": "Prior ATE+BEV cycles", "safety": "Safety"}


def _item_labels() -> dict[str, str]:
    """Readable names of the items of published and reproduced lists (predictors, regimens): the configured
    labels (default configuration), the article's coded names mapped to the analysis table's."""
    labels = variable_labels(StudyConfig())
    names = {**labels, **{term: labels.get(column, column) for term, column in ARTICLE_TERMS.items()}}
    return names


def list_text(text: str) -> str:
    """A ';'-separated list of coded names as words: 'atebev_cycles_lt_3;sorafenib' -> 'ATE+BEV cycles <3, Sorafenib'."""
    names = _item_labels()
    items = [item.strip() for item in str(text).split(";") if item.strip()]
    return ", ".join(names.get(item, group_label(item.replace("_", " "))) for item in items) or str(text)


def reproduced_text(kind: str, value: str) -> str:
    """A reproduced value of ``results.csv`` written as its kind says (:func:`display_value`): 0.0016467 -> '0.002',
    a median of 10.2581 months -> '10.3', a list of predictors by their labels; the value as recorded when the run
    gave no kind."""
    if not kind or value in ("", None):
        return "" if value is None else str(value)
    if kind == "list":
        return list_text(value)
    try:
        return display_value(kind, parse_value(kind, value))
    except (TypeError, ValueError):
        return str(value)


def status_text(status: str, tier: str) -> str:
    """A scorecard row's verdict: 'identical' or 'close' for a met number, else its status."""
    return tier if status == "met" and tier else status


def scorecard_table(card: pd.DataFrame, name: str, title: str) -> JournalTable:
    """The scorecard (``scorecard.score`` output) as a book table: a row group per section, a row per published
    number (the run's id compared with it as the stub, :func:`shown_id`), the reproduced value written by its kind, the tolerance, the verdict (identical
    at printed precision, close, missed, missing, excluded, not comparable), its basis (the article's method or a reading the
    article's numbers require) and the note (the audit's proof or the reading)."""
    columns = [Column("Statistic"), Column("Published"), Column("Reproduced"), Column("Unit"),
               Column("Tolerance", wrap=True), Column("Verdict"), Column("Basis"), Column("Note", wrap=True)]
    rows = []
    for r in card.itertuples(index=False):
        basis = str(getattr(r, "basis", ""))
        reading = basis.removeprefix("reading: ") if basis.startswith("reading: ") else ""
        note = "; ".join(part for part in (str(r.reason), reading) if part)
        rows.append(Row(shown_id(r), (str(r.statistic), list_text(r.published) if r.kind == "list" else str(r.published),
                                    reproduced_text(str(r.kind), r.reproduced), str(r.unit), str(r.tolerance),
                                    status_text(str(r.status), str(getattr(r, "tier", ""))),
                                    "reading" if reading else ("article" if basis else ""), note),
                        group=SECTION_NAMES.get(str(r.section), str(r.section).capitalize())))
    footnotes = ["Reproduced values are written as the book writes them (counts whole, percentages and months "
                 "with one decimal, ratios and P with three); the comparison uses the unrounded value.",
                 "Verdict: identical = equal at the article's printed precision; close = within the tolerance but "
                 "not identical (the note gives the audit's proof where identical is impossible).",
                 "Basis: article = the article's stated method; reading = a choice the article leaves open, made "
                 "because only it reproduces the printed numbers (the note says which).",
                 "Result id: this build's id (results.csv), which names the groups by role (treatment, control); "
                 "data/targets.csv keeps the article's ids, which name them by regimen (len, sor)."]
    return JournalTable(name, "", title, "Result id", columns, rows, footnotes)


def conclusions_table(evaluated: pd.DataFrame, name: str, title: str) -> JournalTable:
    """The article's conclusions (:func:`hcc_utils.reproduction.conclusions.evaluate_conclusions` output) as a book
    table: a row group per section, a row per claim with its place in the article, the verdict (held, not held,
    not evaluable), the run's values that decide it and the reason."""
    columns = [Column("Claim", wrap=True), Column("Where in the article", wrap=True), Column("Verdict"),
               Column("This build", wrap=True), Column("Reason", wrap=True)]
    rows = [Row(str(r.id), (str(r.claim), f"{r.source}: \u201c{r.quote}\u201d", str(r.status), str(r.observed),
                            str(r.reason)),
                group=SECTION_NAMES.get(str(r.section), str(r.section).capitalize()))
            for r in evaluated.itertuples(index=False)]
    footnotes = ["Each claim of the article's text is judged from this build's results.csv (data/conclusions.csv "
                 "lists them with the rule that decides each); significance at P < 0.05. Not evaluable: results.csv "
                 "records no number that decides the claim.",
                 "Ids name the article's groups by regimen; a build of other regimens is judged by role."]
    return JournalTable(name, "", title, "Conclusion id", columns, rows, footnotes)


def audit_table(audit: pd.DataFrame, name: str, title: str, with_consistent: bool = True) -> JournalTable:
    """The consistency audit (``audit.audit_article`` output) as a book table; 'Consistent' reads Yes or No. The
    reason column also gives the proof when a consistent number still cannot be printed identically."""
    headings = ["Check", "Stated", "Recomputed", "Reason"] + (["Consistent"] if with_consistent else [])
    columns = [Column(h, wrap=h == "Reason") for h in headings]

    def reason(r) -> str:
        proof = str(getattr(r, "not_identical", "") or "")
        return "; ".join(part for part in (str(r.reason), f"not printable identically: {proof}" if proof else "")
                         if part)

    rows = [Row(str(r.id), (str(r.check), str(r.stated), str(r.recomputed), reason(r))
                + ((("Yes" if bool(r.consistent) else "No"),) if with_consistent else ()))
            for r in audit.itertuples(index=False)]
    footnotes = ["Consistent: the published number agrees with the others it depends on within the scorecard's "
                 "tolerance. Not printable identically: it agrees, but no data set can print it exactly as the "
                 "article does together with those numbers (the scorecard shows it as close, with this proof)."]
    return JournalTable(name, "", title, "Result id", columns, rows, footnotes)
