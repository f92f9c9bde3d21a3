"""The chapters beside the article: each number the article also reports shows, on hover or keyboard focus, the
published value and the scorecard's verdict; each chapter opens with a box "Where this reproduction departs from
the article", from the scorecard, its tier of conclusions and the consistency audit (issue 24).

Run by :func:`hcc_utils.pipeline.book.build_html` on the built pages, after every notebook ran. The chapters are
analysis (section notebooks, which never read the article's numbers); like the book's scorecard page, this step
reads the reproduction's outputs of the run: the scorecard page's table (``sections/scorecard/tables/
scorecard.csv``) and the audit page's (``sections/audit/tables/audit.csv``), the conclusions' table of the scorecard page (``sections/scorecard/tables/
conclusions.csv``: a conclusion belongs to the chapters whose compared numbers share its ``section``), with each
chapter's own
``results.csv``. Scorecard rows are read generically: every column not listed in :data:`PLUMBING` is part of the
verdict shown (``status``, ``tier``, ``reason`` and any column a later version adds, such as a tier of
conclusions).
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from hcc_utils.report.presentation import p_statement, typeset_minus
from hcc_utils.study.registry import parse_value, prose_value

#: Scorecard columns that say how a row was compared, not what the verdict is: left out of the verdict text.
PLUMBING = ("id", "result_id", "section", "statistic", "published", "reproduced", "kind", "unit", "basis",
            "tolerance")
#: Statuses of numbers the run reproduces; any other status is a departure.
REPRODUCED = ("met",)
BOX_TITLE = "Where this reproduction departs from the article"


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, comment="#") if path.is_file() else pd.DataFrame()


def verdict_text(row: dict) -> str:
    """The verdict of one scorecard row, every non-plumbing column that has a value: 'status: met; tier:
    identical'."""
    return "; ".join(f"{key}: {value}" for key, value in row.items() if key not in PLUMBING and str(value).strip())


def _chapter_rows(card: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    if card.empty or results.empty:
        return card.iloc[0:0]
    return card[card["result_id"].isin(set(results["id"]))]


def _label(row: dict, labels: dict[str, str]) -> str:
    """A compared number by its result's label ('Events, Progression-free survival (All enrolled)'), else its id."""
    return labels.get(row.get("result_id", ""), "") or row["id"]


#: How the box words each status of a conclusion other than "held".
CONCLUSION_STATUS = {"not held": "does not hold here", "infeasible": "cannot hold together with the article's numbers",
                     "not evaluable": "not checked"}


def chapter_conclusions(rows: pd.DataFrame, conclusions: pd.DataFrame, results: pd.DataFrame | None = None
                        ) -> pd.DataFrame:
    """The article's conclusions about a chapter: those whose ``section`` is the section of one of the chapter's
    compared numbers (``rows``), and those judged from one of the chapter's results (a ``subject`` id of
    ``results``; the subgroups by previous cycles have no published number of their own)."""
    if conclusions.empty or "section" not in conclusions:
        return conclusions.iloc[0:0]
    sections = set(rows["section"]) if len(rows) and "section" in rows else set()
    ids = set(results["id"]) if results is not None and len(results) and "id" in results else set()
    subjects = conclusions.get("subject", pd.Series("", index=conclusions.index)).fillna("").astype(str)
    judged_here = subjects.map(lambda text: bool(ids & set(re.split(r"[;|]", text))))
    return conclusions[conclusions["section"].isin(sections) | judged_here]


_RESULT_ID = re.compile(r"\b[a-z][a-z0-9_]*\.[a-z0-9_]+\b")


def conclusion_item(row: dict, labels: dict[str, str] | None = None) -> str:
    """One conclusion that does not hold (or cannot be checked), with its place in the article and the reason; the
    result ids of what the run found are named by their labels ('P: ECOG 2, Overall survival, multivariable')."""
    labels = labels or {}
    status = CONCLUSION_STATUS.get(row.get("status", ""), row.get("status", ""))
    # the reason names what departs ('also independent: ...'); the observed values only when there is none
    said = str(row.get("reason", "") or "").strip() or str(row.get("observed", "") or "").strip()
    because = _RESULT_ID.sub(lambda m: labels.get(m.group(0)) or m.group(0), said)
    return (f"The article's conclusion \u201c{row['claim']}\u201d ({row.get('source', '')}) {status}"
            + (f": {because}" if because else ""))


def departures_html(rows: pd.DataFrame, audit: pd.DataFrame, labels: dict[str, str] | None = None,
                    conclusions: pd.DataFrame | None = None, results: pd.DataFrame | None = None) -> str:
    """The box that opens a chapter: each of the article's conclusions about the chapter that does not hold in the
    run (or cannot be checked), each of the article's numbers of the chapter that the run does not reproduce (its
    published and reproduced values and the verdict), and each inconsistency the audit finds in those numbers; or,
    when there is none, how many of the chapter's published numbers are reproduced and conclusions hold."""
    labels = labels or {}
    about = chapter_conclusions(rows, conclusions if conclusions is not None else pd.DataFrame(), results)
    items = [conclusion_item(row, labels) for row in about.to_dict("records") if row.get("status") != "held"]
    for row in rows.to_dict("records"):
        if row.get("status") not in REPRODUCED:
            reproduced = row.get("reproduced") or "not computed"
            items.append(f"{_label(row, labels)}: article {row['published']}, this run {reproduced} "
                         f"({verdict_text(row)})")
    if not audit.empty and "consistent" in audit.columns:
        ids = set(rows["id"]) if len(rows) else set()
        by_article = {r["id"]: r for r in rows.to_dict("records")}
        for row in audit[audit["id"].isin(ids) & ~audit["consistent"].str.lower().isin(("true", "yes"))].to_dict(
                "records"):
            items.append(f"{_label(by_article.get(row['id'], row), labels)}: the article's own numbers disagree "
                         f"({row.get('reason', '') or row.get('check', '')})")
    if items:
        body = "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul>"
    elif len(rows):
        met = int((rows["status"] == "met").sum())
        held = (f" and the {len(about)} conclusion{'s' if len(about) != 1 else ''} the article draws from them "
                f"hold{'s' if len(about) == 1 else ''}" if len(about) else "")
        body = (f"<p>None: the {len(rows)} numbers of the article this chapter reports are reproduced "
                f"({met} met; hover over or focus on a number for the article's value){held}.</p>")
    else:
        body = "<p>None: this chapter reports no number of the article (it goes beyond it).</p>"
    return (f'<div class="admonition hcc-departures" role="note"><p class="admonition-title">{BOX_TITLE}</p>'
            f"{body}</div>")


def _prose_texts(rows: pd.DataFrame, results: pd.DataFrame) -> dict[str, list[dict]]:
    """Each compared number as the prose writes it -> the scorecard rows it may stand for."""
    by_id = results.set_index("id")
    out: dict[str, list[dict]] = {}
    for row in rows.to_dict("records"):
        result = by_id.loc[row["result_id"]]
        value = parse_value(result["kind"], result["value"])
        text = typeset_minus(prose_value(result["kind"], value, unit=result.get("unit", ""),
                                         status=result.get("status")))
        forms = {text, p_statement(text)} if result["kind"] == "p" else {text}  # '0.017' and 'P = 0.017'
        for form in forms:
            out.setdefault(form, []).append(row)
    return out


_PASTED = re.compile(r'<span class="pasted-text">([^<]*)</span>')
#: A journal table's cell that names the results it shows (``tables.journal.Row.sources``).
_SOURCED_CELL = re.compile(r'<td class="([^"]*)" data-results="([^"]*)">')


def cell_tip(ids: list[str], rows: pd.DataFrame) -> str:
    """The article's values of a table cell's results that the scorecard compares, with their verdicts ("Article:
    10.3; status: met" for one; "Article: 10.3 (status: met); 7.2 (status: met)" for several); "" for none."""
    if rows.empty:
        return ""
    by_result = {row["result_id"]: row for row in rows.to_dict("records")}
    compared = [by_result[i] for i in ids if i in by_result]
    if len(compared) == 1:
        return f"Article: {compared[0]['published']}; {verdict_text(compared[0])}"
    return ("Article: " + "; ".join(f"{row['published']} ({verdict_text(row)})" for row in compared)) if compared else ""


def mark_table_cells(page: str, rows: pd.DataFrame) -> str:
    """Every journal-table cell of ``page`` showing a result the article also reports, marked as a glued number is
    (focusable, ``data-article``, an ``aria-describedby`` note; ``hcc.js`` shows the tip on hover and focus, above
    the table's scrolling box)."""
    count = [0]

    def mark(match: re.Match) -> str:
        tip = cell_tip(html.unescape(match.group(2)).split(), rows)
        if not tip:
            return match.group(0)
        count[0] += 1
        ident, text = f"hcc-cell-{count[0]}", html.escape(tip)
        return (f'<td class="{match.group(1)} hcc-compared-cell" data-results="{match.group(2)}" tabindex="0" '
                f'data-article="{text}" aria-describedby="{ident}"><span id="{ident}" class="hcc-compared-note" '
                f'hidden>{text}</span>')

    return _SOURCED_CELL.sub(mark, page)


def annotate_page(page: str, rows: pd.DataFrame, results: pd.DataFrame, audit: pd.DataFrame,
                  conclusions: pd.DataFrame | None = None) -> str:
    """A chapter page with its departures box after the title and every glued number the article also reports
    marked (``tabindex="0"``, a ``title`` and an ``aria-describedby`` note: "Article: 10.3; status: met; tier:
    identical"); a number that could stand for two published values with different verdicts is left unmarked.
    Journal-table cells that name their results are marked too (:func:`mark_table_cells`)."""
    texts = _prose_texts(rows, results) if len(rows) else {}
    count = [0]

    def mark(match: re.Match) -> str:
        shown = html.unescape(match.group(1))
        candidates = texts.get(shown, [])
        tips = {f"Article: {r['published']}; {verdict_text(r)}" for r in candidates}
        if len(tips) != 1:
            return match.group(0)
        count[0] += 1
        tip = html.escape(tips.pop())
        ident = f"hcc-cmp-{count[0]}"
        return (f'<span class="pasted-text hcc-compared" tabindex="0" title="{tip}" data-article="{tip}" '
                f'aria-describedby="{ident}">{match.group(1)}</span><span id="{ident}" class="hcc-compared-note" '
                f'hidden>{tip}</span>')

    page = _PASTED.sub(mark, page)
    page = mark_table_cells(page, rows)
    article = page.find('<article class="bd-article"')
    heading = re.compile(r"</h1>").search(page, max(article, 0))
    if article < 0 or heading is None:
        return page
    labels = dict(zip(results["id"], results["label"])) if "label" in results else {}
    return page[:heading.end()] + "\n" + departures_html(rows, audit, labels, conclusions, results) + page[heading.end():]


def annotate_chapters(run_dir: Path, html_dir: Path) -> int:
    """Annotate every chapter page (``html/notebooks/*.html``) of a built run; return the pages annotated (none
    without the scorecard page's table)."""
    card = _read(run_dir / "sections" / "scorecard" / "tables" / "scorecard.csv")
    audit = _read(run_dir / "sections" / "audit" / "tables" / "audit.csv")
    conclusions = _read(run_dir / "sections" / "scorecard" / "tables" / "conclusions.csv")
    if card.empty:
        return 0
    done = 0
    for page in sorted((html_dir / "notebooks").glob("*.html")):
        results = _read(run_dir / "sections" / page.stem / "results.csv")
        rows = _chapter_rows(card, results)
        page.write_text(annotate_page(page.read_text(encoding="utf-8"), rows, results, audit, conclusions), encoding="utf-8")
        done += 1
    return done
