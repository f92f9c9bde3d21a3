"""The chapters beside the article (hcc_utils.pipeline.comparison): the departures box and the article's value on
hover or focus, from the scorecard's rows read generically."""
from __future__ import annotations

import pandas as pd

from hcc_utils.pipeline import comparison

PAGE = ('<html><body><nav><h1>Site</h1></nav><article class="bd-article"><section><h1>Survival</h1>'
        '<p>Median OS was <span class="pasted-text">10.3 months</span> (<span class="pasted-text">P = 0.017</span>)'
        ' and <span class="pasted-text">81</span> died; <span class="pasted-text">44</span> in the matched '
        'cohort.</p></section></article></body></html>')
RESULTS = pd.DataFrame([
    {"id": "survival.os_median_treatment", "value": "10.3", "status": "ok", "kind": "months", "unit": "months",
     "label": "Median OS, lenvatinib"},
    {"id": "survival.os_logrank_p", "value": "0.0171", "status": "ok", "kind": "p", "unit": "p", "label": "OS P"},
    {"id": "survival.os_events", "value": "81", "status": "ok", "kind": "count", "unit": "patients",
     "label": "Events, OS"},
    {"id": "survival.os_events_matched", "value": "44", "status": "ok", "kind": "count", "unit": "patients",
     "label": "Events, OS (matched)"}])


def card(**changes) -> pd.DataFrame:
    rows = [{"id": "survival.os_median_len", "result_id": "survival.os_median_treatment", "section": "survival",
             "statistic": "median", "published": "10.3", "reproduced": "10.3", "kind": "months", "unit": "months",
             "tolerance": "±0.1", "status": "met", "tier": "identical", "reason": "", "basis": "the article's method"},
            {"id": "survival.os_p", "result_id": "survival.os_logrank_p", "section": "survival", "statistic": "p",
             "published": "0.019", "reproduced": "0.0171", "kind": "p", "unit": "p", "tolerance": "±0.005",
             "status": "met", "tier": "close", "reason": "", "basis": "the article's method"},
            {"id": "survival.os_events", "result_id": "survival.os_events", "section": "survival",
             "statistic": "n", "published": "81", "reproduced": "81", "kind": "count", "unit": "patients",
             "tolerance": "exact", "status": "met", "tier": "identical", "reason": "", "basis": ""}]
    frame = pd.DataFrame(rows)
    for column, values in changes.items():
        frame[column] = values
    return frame


def test_each_compared_number_shows_the_article_s_value_on_focus_and_the_box_opens_the_chapter():
    out = comparison.annotate_page(PAGE, card(), RESULTS, pd.DataFrame())
    assert out.count('tabindex="0"') == 3  # 10.3 months, P = 0.017, 81; not 44 (the article has no such number)
    assert 'title="Article: 10.3; status: met; tier: identical"' in out
    assert 'data-article="Article: 0.019; status: met; tier: close"' in out
    assert out.count("aria-describedby=") == 3 and out.count('class="hcc-compared-note" hidden') == 3
    assert '<span class="pasted-text">44</span>' in out
    # the box follows the article's title, not the site's heading, and says nothing departs
    box = out.index("hcc-departures")
    assert out.index("Survival</h1>") < box < out.index("Median OS")
    assert "None: the 3 numbers of the article this chapter reports are reproduced" in out


def test_a_number_not_reproduced_and_an_inconsistent_article_number_are_listed_in_the_box():
    missed = card(status=["met", "missed", "met"], tier=["identical", "", "identical"],
                  reason=["", "P 0.017 vs 0.019 beyond the tolerance", ""])
    audit = pd.DataFrame([{"id": "survival.os_events", "check": "percent", "consistent": "False",
                           "reason": "81/126 is 64.3%, not 63.5%"}])
    out = comparison.annotate_page(PAGE, missed, RESULTS, audit)
    assert "OS P: article 0.019, this run 0.0171 (status: missed; reason: P 0.017 vs 0.019 beyond the tolerance)" in out
    assert "Events, OS: the article&#x27;s own numbers disagree (81/126 is 64.3%, not 63.5%)" in out
    assert "None:" not in out


def test_a_future_column_of_the_scorecard_is_shown_without_a_change_here():
    """Another branch adds a tier of conclusions to the scorecard: every column not known as plumbing is part of
    the verdict, so it is shown as soon as the scorecard has it."""
    out = comparison.annotate_page(PAGE, card(conclusions=["holds", "holds", ""]), RESULTS, pd.DataFrame())
    assert 'title="Article: 10.3; status: met; tier: identical; conclusions: holds"' in out


def test_a_glued_text_standing_for_two_verdicts_is_left_unmarked():
    two = card(result_id=["survival.os_median_treatment", "survival.os_logrank_p", "survival.os_events"])
    results = RESULTS.copy()
    results.loc[results["id"] == "survival.os_events_matched", "value"] = "81"
    extra = pd.concat([two, two.iloc[[2]].assign(id="survival.os_events_matched",
                                                 result_id="survival.os_events_matched", published="80",
                                                 status="missed", tier="")])
    out = comparison.annotate_page(PAGE.replace(">44<", ">81<"), extra, results, pd.DataFrame())
    assert out.count('<span class="pasted-text">81</span>') == 2  # ambiguous: which published number?


def conclusions_table(status: str) -> pd.DataFrame:
    return pd.DataFrame([
        {"id": "cox.os_multivariable_significant", "section": "survival",
         "claim": "The only independent predictors of death: Child-Pugh B and PIVKA-II >= 1000",
         "source": "Results/Predictors (line 39)", "status": status,
         "observed": "survival.os_logrank_p = 0.01, cox.os_ecog2_p = 0.001" if status != "held" else "",
         "reason": "also independent: survival.os_logrank_p, cox.os_ecog2_p" if status != "held" else ""},
        {"id": "safety.most_common", "section": "safety", "claim": "Hand-foot syndrome most common",
         "source": "Results/Safety (line 47)", "status": "not held", "observed": "rash", "reason": ""}])


def test_a_conclusion_of_the_article_that_does_not_hold_opens_its_chapter_s_box():
    """The conclusions tier reaches the chapters: a conclusion of the chapter's section that does not hold is
    listed with its place in the article and what the run found; one of another chapter is not; a held one turns
    the box's 'None' into '... and the conclusion the article draws from them holds'."""
    out = comparison.annotate_page(PAGE, card(), RESULTS, pd.DataFrame(), conclusions_table("not held"))
    assert ("The article&#x27;s conclusion \u201cThe only independent predictors of death: Child-Pugh B and "
            "PIVKA-II &gt;= 1000\u201d (Results/Predictors (line 39)) does not hold here: also independent: OS P, "
            "cox.os_ecog2_p") in out  # a result of the chapter by its label, another id as it is
    assert "Hand-foot" not in out and "None:" not in out and "0.001" not in out  # the reason, not every value
    held = comparison.annotate_page(PAGE, card(), RESULTS, pd.DataFrame(), conclusions_table("held"))
    assert ("None: the 3 numbers of the article this chapter reports are reproduced (3 met; hover over or focus on "
            "a number for the article's value) and the 1 conclusion the article draws from them holds.") in held
    # without the conclusions' table (a run before the tier existed) the box is the numbers' alone
    assert "conclusion" not in comparison.annotate_page(PAGE, card(), RESULTS, pd.DataFrame()).split("hcc-departures")[1].split("</div>")[0]


def test_a_conclusion_judged_from_a_chapter_s_result_without_a_published_number_reaches_that_chapter():
    """The subgroups by previous cycles have no published number of their own (section 'cycles' has no scorecard
    row); their conclusion is listed in the chapter whose results it is judged from."""
    table = pd.DataFrame([{"id": "conclusion.cycles_no_difference", "section": "cycles",
                           "claim": "No difference within strata of previous cycles", "source": "Results (line 45)",
                           "subject": "cycles.gt3_os_logrank_p|survival.os_events", "status": "not held",
                           "observed": "cycles.gt3_os_logrank_p 0.031", "reason": ""}])
    out = comparison.annotate_page(PAGE, card(), RESULTS, pd.DataFrame(), table)
    assert "No difference within strata of previous cycles\u201d (Results (line 45)) does not hold here" in out
    elsewhere = table.assign(subject="cycles.gt3_os_logrank_p")  # judged from another chapter's result only
    assert "No difference within strata" not in comparison.annotate_page(PAGE, card(), RESULTS, pd.DataFrame(),
                                                                         elsewhere)


def test_a_table_cell_showing_a_compared_result_shows_the_article_s_value_on_focus():
    from hcc_utils.tables.journal import Column, JournalTable, Row, table_html

    table = JournalTable("table3_survival", "Table 3", "Survival", "Regimen",
                         [Column("Events, n"), Column("Median, months\n(95% CI)"), Column("Patients, n")],
                         [Row("Lenvatinib", ("81", "10.3 (7.2–13.1)", "40"),
                              sources=("survival.os_events", "survival.os_median_treatment survival.os_ci_low", "")),
                          Row("Sorafenib", ("44", "5.8", "86"), sources=("survival.os_events_matched", "", ""))])
    page = PAGE.replace("</section>", table_html(table) + "</section>")
    out = comparison.annotate_page(page, card(), RESULTS, pd.DataFrame())
    cells = out[out.index("<table"):out.index("</table>")]
    assert cells.count("hcc-compared-cell") == 2 and cells.count('tabindex="0"') == 2  # not 44: the article has none
    assert 'data-results="survival.os_events" tabindex="0" data-article="Article: 81; status: met; tier: identical"' \
        in cells
    assert 'data-article="Article: 10.3; status: met; tier: identical"' in cells   # the CI's id is not compared
    assert cells.count('class="hcc-compared-note" hidden>Article:') == 2
    assert '<td class="hcc-num" data-results="survival.os_events_matched">' in cells
    # several compared results in one cell: each with its verdict
    assert comparison.cell_tip(["survival.os_median_treatment", "survival.os_events"], card()) == \
        "Article: 10.3 (status: met; tier: identical); 81 (status: met; tier: identical)"
    # without the sources (a table built without them) nothing is marked: the marking reads the cells' ids only
    bare = JournalTable.from_json(table.to_json().replace('"survival.os_events"', '""'))
    assert comparison.mark_table_cells(table_html(bare), card()).count("hcc-compared-cell") == 1
    assert JournalTable.from_json(table.to_json()) == table                       # the sources survive the JSON


def test_every_result_a_cell_of_tables_1_to_5_names_is_a_result_of_its_section():
    from hcc_utils.config import REPO_ROOT, load_config
    from hcc_utils.study.cohort import load_study
    from hcc_utils.study.sections import baseline, predictors, responses, safety, survival

    study = load_study(REPO_ROOT / "data" / "synthetic_cohort.csv", load_config())
    values = survival.survival_results(study)
    models = predictors.predictor_models(study)
    table1, table5 = baseline.compute(study), safety.compute(study)
    for table, results in ((table1.tables["table1"], table1.values),
                           (survival.survival_table(study, values), values),
                           (responses.response_display_table(study), responses.response_results(study)),
                           (predictors.predictor_table(study, models), predictors.predictor_results(study, models)),
                           (table5.tables["table5"], table5.values)):
        named = [i for row in table.rows for source in row.sources for i in source.split()]
        assert len(named) > 20 and set(named) <= set(results), (table.name, set(named) - set(results))
        # a cell names only results it shows: its count or percentage, not another row's (checked on values)
        for row in table.rows:
            for cell, source in zip(row.cells, row.sources or ("",) * len(row.cells)):
                assert cell or not source, (table.name, row.label, source)  # an empty cell names nothing
    # Table 1's age cell of the treatment group names that group's median and quartiles
    age = next(row for row in table1.tables["table1"].rows if row.label.startswith("Age"))
    assert age.sources[1].split() == [f"baseline.age_{k}_treatment" for k in ("median", "q1", "q3")]
    assert str(table1.values["baseline.age_median_treatment"]).rstrip("0").rstrip(".") in age.cells[1]
    # Table 5's proteinuria grade 3-4 cell of the control group: its count and percentage, the cell's numbers
    row = next(row for row in table5.tables["table5"].rows if row.label == "Proteinuria")
    count_id, percent_id = row.sources[4].split()
    assert (count_id, percent_id) == ("safety.proteinuria_g34_n_control", "safety.proteinuria_g34_control")
    assert row.cells[4].startswith(f"{table5.values[count_id]} (")
        # the median cell of Table 3 names the median and both limits of its interval
    first = survival.survival_table(study, values).rows[0]
    assert first.sources[2].split() == [f"survival.os_{k}_treatment" for k in ("median", "median_ci_low", "median_ci_high")]
