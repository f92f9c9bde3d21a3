"""The book's Validation page: what ``hcc-study verify`` found for this build's results, or that it has not run."""
from __future__ import annotations

from hcc_utils.tables.journal import Column, JournalTable, Row

__all__ = ["status_text", "family_table", "uncovered_table", "tolerance_table"]

_NOT_RUN = "Verify has not run for this build: its numbers are not yet checked in R."


def status_text(summary: dict | None) -> str:
    """One paragraph: the agreement, or plainly that verify has not run for these results."""
    if summary is None:
        return _NOT_RUN
    share = 100 * summary["recomputed"] / max(summary["numeric_ids"], 1)
    verdict = ("every one agrees within its tolerance" if summary["disagree"] == 0
               else f"{summary['disagree']} disagree (verify.csv lists them)")
    return (f"R recomputed {summary['recomputed']} of the {summary['numeric_ids']} numbers of this build's "
            f"results.csv ({share:.1f}%), independently of the book's Python code; {verdict}.")


def _short(value) -> str:
    """A difference as a reader reads it (4.4e-16, not R's 4.44089209850063e-16); anything else as it is."""
    try:
        return f"{float(value):.2g}"
    except (TypeError, ValueError):
        return str(value)


def versions_text(summary: dict | None) -> str:
    """R, its packages, the matching engine and the matched sets compared with the build's."""
    if summary is None:
        return ""
    notes = summary["notes"]
    text = (f"{notes.get('r_version', 'R')}, survival {notes.get('survival_version', '?')}, MatchIt "
            f"{notes.get('matchit_version', '?')}. Matched sets formed by {notes.get('matching_engine', '?')}; "
            f"{notes.get('matched_sets_differing', '?')} matched sets differ from the build's, and the propensity "
            f"scores differ by at most {_short(notes.get('ps_max_abs_difference', '?'))}.")
    if notes.get("matching_note"):
        text += f" {notes['matching_note']}."
    return text


def _number(value: float) -> str:
    return "0" if value == 0 else f"{value:.1e}"


def family_table(summary: dict) -> JournalTable:
    """A row per family of results: recomputed, agreeing, and the difference nearest its tolerance."""
    rows = [Row(f["family"], (str(f["recomputed"]), str(f["agree"]), _number(f["abs_diff"]), _number(f["rel_diff"]),
                              f["id"]))
            for f in summary["families"]]
    columns = [Column("Recomputed"), Column("Agree"), Column("Absolute", "Largest difference"),
               Column("Relative", "Largest difference"), Column("Result id", "Largest difference", wrap=True)]
    footnotes = ["Largest difference: of the family's values, the one nearest its tolerance (difference divided by "
                 "tolerance); values not reached or not estimable agree when both programs say so.",
                 "Every value, with both programs' numbers: verify.csv in the output folder's verify/ folder."]
    return JournalTable("validation_families", "", "Agreement of the R programs with the book, by family", "Family",
                        columns, rows, footnotes)


def uncovered_table(summary: dict) -> JournalTable:
    """The numbers R does not recompute, grouped by the reason."""
    rows = [Row(item["reason"], (str(item["count"]), ", ".join(item["ids"][:6]) + (" …" if len(item["ids"]) > 6 else "")))
            for item in summary["not_recomputed"]]
    return JournalTable("validation_uncovered", "", "Numbers not recomputed in R, and why", "Reason",
                        [Column("Numbers"), Column("Result ids", wrap=True)], rows)


def tolerance_table(summary: dict) -> JournalTable:
    """The tolerance of each kind of value: |Python − R| ≤ absolute + relative × |R|."""
    rows = [Row(kind, (_number(t["abs"]), _number(t["rel"]))) for kind, t in sorted(summary["tolerances"].items())]
    return JournalTable("validation_tolerances", "", "Tolerances by kind of value", "Kind",
                        [Column("Absolute"), Column("Relative")], rows,
                        ["A value agrees when |Python − R| ≤ absolute + relative × |R|."])
