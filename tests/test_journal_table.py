"""Journal tables: the HTML every table of the book goes through, its JSON form, the article's tables built from
the bundled cohort, the scorecard's display and the article values derived for the introduction."""
from __future__ import annotations

import re

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from hcc_utils.config import REPO_ROOT, StudyConfig
from hcc_utils.tables.formatting import fmt_p
from hcc_utils.report.journal_table import Column, JournalTable, Row
from hcc_utils.report.presentation import show_table
from hcc_utils.reproduction.summary import audit_table, reproduced_text, scorecard_table
from hcc_utils.reproduction.targets import derived_targets, load_targets, published_headline_values
from hcc_utils.study import load_study
from hcc_utils.study.labels import group_label
from hcc_utils.study.registry import Kind

COHORT = REPO_ROOT / "data" / "synthetic_cohort.csv"


def small_table(label: str = "Age, years") -> JournalTable:
    columns = [Column("Lenvatinib\nN = 40", "All enrolled"), Column("Sorafenib\nN = 86", "All enrolled"),
               Column("P", "All enrolled"), Column("Lenvatinib\nN = 36", "PS-matched"),
               Column("Sorafenib\nN = 36", "PS-matched"), Column("P", "PS-matched")]
    rows = [Row(label, ("63.5 (52.5–70.0)", "63.0 (55.0–75.0)", "0.582", "64.0", "63.5", "0.892"), group="Demography"),
            Row("ECOG", ("", "", "0.050", "", "", "0.032"), group="Demography"),
            Row("0", ("20 (50.0)", "29 (33.7)", "", "19 (52.8)", "11 (30.6)", ""), indent=1, group="Demography"),
            Row("Child-Pugh B", ("3 (7.5)", "32 (37.2)", "<0.001", "3", "3", "1.000"), group="Liver")]
    return JournalTable("demo_table", "Table 9", "A demonstration & <test>", "Characteristic", columns, rows,
                        ["P: Mann–Whitney U test.", "SMD, standardized mean difference."], order=9)


def soup_of(table: JournalTable) -> BeautifulSoup:
    return BeautifulSoup(table._repr_html_(), "html.parser")


def test_html_has_spanners_with_their_colspans_and_n_in_the_headings():
    soup = soup_of(small_table())
    spanners = [(th.get_text(), th["colspan"]) for th in soup.select("th.hcc-spanner")]
    assert spanners == [("All enrolled", "3"), ("PS-matched", "3")]
    assert soup.select_one("th.hcc-stub-head")["rowspan"] == "2"
    headings = [str(th) for th in soup.select("th.hcc-col-head")]
    assert headings[0] == '<th class="hcc-col-head" scope="col">Lenvatinib<br/>N = 40</th>'
    assert len(headings) == 6


def test_html_has_group_rows_spanning_the_table_indented_categories_and_footnotes():
    soup = soup_of(small_table())
    groups = soup.select("tr.hcc-group-row th")
    assert [(th.get_text(), th["colspan"]) for th in groups] == [("Demography", "7"), ("Liver", "7")]
    assert [th.get_text() for th in soup.select("th.hcc-indent-1")] == ["0"]
    assert len(soup.select("tbody")) == 2
    notes = [p.get_text() for p in soup.select(".hcc-table-notes p")]
    assert notes == ["P: Mann–Whitney U test.", "SMD, standardized mean difference."]
    caption = soup.select_one(".hcc-table-caption")
    assert caption.get_text() == "Table 9. A demonstration & <test>"
    # the caption is outside the scrolling wrapper (it stays in view on a phone); numbers do not wrap
    assert caption.find_parent(class_="hcc-table-wrap") is None
    assert soup.select_one(".hcc-table-wrap table.hcc-journal") is not None
    assert soup.select("tbody tr")[1].find("td")["class"] == ["hcc-num"]


def test_text_is_escaped_so_a_script_label_shows_as_text():
    table = small_table(label='<script>alert("x")</script>')
    markup = table.to_html()
    assert "<script>" not in markup
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in markup
    assert soup_of(table).select_one("th.hcc-stub").get_text() == '<script>alert("x")</script>'


def test_html_is_deterministic_and_its_id_comes_from_the_name():
    assert small_table().to_html() == small_table().to_html()
    assert 'id="hcc-table-demo_table"' in small_table().to_html()
    assert re.search(r"T_[0-9a-f]{5}", small_table().to_html()) is None  # no Styler-style random ids


def test_json_round_trip_keeps_every_field_and_reads_json_without_optional_fields():
    table = small_table()
    again = JournalTable.from_json(table.to_json())
    assert again == table
    legacy = table.to_json().replace(',\n   "wrap": false', "")
    assert '"wrap"' not in legacy
    assert JournalTable.from_json(legacy) == table


def test_a_row_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError, match="do not have 1 cells"):
        JournalTable("t", "", "t", "s", [Column("a")], [Row("x", ("1", "2"))])


def test_show_table_saves_csv_and_json_and_links_docx_xlsx_csv(tmp_path):
    output_dir = tmp_path / "02_baseline"
    shown = show_table(small_table(), output_dir)
    assert (output_dir / "tables" / "demo_table.csv").exists()
    assert JournalTable.from_json((output_dir / "tables" / "demo_table.json").read_text()) == small_table()
    links = BeautifulSoup(shown._repr_html_(), "html.parser").select("p.hcc-downloads a")
    assert [a["href"] for a in links] == [f"../downloads/02_baseline/tables/demo_table.{s}" for s in ("docx", "xlsx", "csv")]
    frame = pd.read_csv(output_dir / "tables" / "demo_table.csv", keep_default_na=False)
    assert list(frame.columns[:3]) == ["Group", "Characteristic", "All enrolled: Lenvatinib N = 40"]
    assert frame.iloc[2]["Characteristic"] == "  0"


@pytest.fixture(scope="module")
def study():
    return load_study(COHORT, StudyConfig())


def test_table1_from_the_bundled_cohort_has_the_articles_headings(study):
    from hcc_utils.study.sections import baseline

    table = baseline.compute(study).tables["table1"]
    assert table.number == "Table 1" and table.stub == "Characteristic"
    headings = [(c.spanner, c.label) for c in table.columns]
    assert headings == [("All enrolled", "Overall\nN = 126"), ("All enrolled", "Lenvatinib\nN = 40"),
                        ("All enrolled", "Sorafenib\nN = 86"), ("All enrolled", "P"), ("All enrolled", "SMD"),
                        ("PS-matched", "Overall\nN = 72"), ("PS-matched", "Lenvatinib\nN = 36"),
                        ("PS-matched", "Sorafenib\nN = 36"), ("PS-matched", "P"), ("PS-matched", "SMD")]
    ecog = [row for row in table.rows if row.indent == 1][:3]
    assert [row.label for row in ecog] == ["0", "1", "2"]
    assert table.row("Male sex, n (%)").cells[:3] == ("111 (88.1)", "35 (87.5)", "76 (88.4)")
    assert any("Mann–Whitney U" in note for note in table.footnotes)
    assert any("without continuity correction" in note for note in table.footnotes)


def test_tables_2_to_4_use_row_groups_and_show_each_p_once(study):
    from hcc_utils.study.sections import predictors, responses, survival

    table2 = responses.compute(study).tables["table2"]
    assert [group for group, _ in table2.groups()] == ["RECIST 1.1", "mRECIST"]
    assert table2.column("P", "All enrolled")[:5] == [""] * 5  # categories are not tested
    assert table2.row("Objective response rate (CR + PR)", "RECIST 1.1").cells[:3] == \
        ("3 (7.5; 1.6–20.4)", "5 (5.8; 1.9–13.0)", "0.718")
    section3 = survival.compute(study)
    table3 = section3.tables["table3"]
    assert [group for group, _ in table3.groups()][:2] == ["Overall survival, All enrolled", "Overall survival, PS-matched"]
    assert table3.column("Log-rank P")[:2] == [fmt_p(section3.values["survival.os_logrank_p"]), ""]
    assert table3.column("Log-rank P")[0] not in ("", "—")
    assert [row.label for row in table3.rows[:2]] == ["Lenvatinib", "Sorafenib"]
    table4 = predictors.compute(study).tables["table4"]
    assert [s for s, _ in table4.spanners()] == ["Univariable", "Multivariable"]
    assert [group for group, _ in table4.groups()] == ["Overall survival", "Progression-free survival"]
    assert any("Efron" in note for note in table4.footnotes)


def test_no_raw_variable_code_reaches_a_table(study):
    from hcc_utils.study.sections import SECTIONS

    texts = []
    for section in SECTIONS:
        for table in section.compute(study).tables.values():
            if isinstance(table, JournalTable):
                texts += [table.title, table.stub, *table.footnotes, *(r.label for r in table.rows),
                          *(r.group for r in table.rows), *(c.label for c in table.columns)]
    joined = "\n".join(texts)
    for code in ("atebev", "child_pugh", "ecog_2", "cycles lt", "lenvatinib\n", "_"):
        assert code not in joined, code


def test_group_label_capitalises_only_the_first_letter():
    assert group_label("lenvatinib") == "Lenvatinib"
    assert group_label("nab-Paclitaxel") == "Nab-Paclitaxel"
    assert group_label("FOLFOX") == "FOLFOX"


def test_scorecard_shows_no_value_with_more_decimals_than_its_kind():
    card = pd.DataFrame([
        {"id": "survival.os_logrank_p", "section": "survival", "statistic": "p", "published": "0.002",
         "reproduced": "0.0016467654541227025", "kind": "p", "unit": "p", "tolerance": "±0.002", "status": "met",
         "reason": ""},
        {"id": "survival.os_median_len", "result_id": "survival.os_median_treatment", "section": "survival",
         "statistic": "median", "published": "10.3",
         "reproduced": "10.258145", "kind": "months", "unit": "months", "tolerance": "±0.1", "status": "met",
         "reason": ""},
        {"id": "flow.enrolled", "section": "flow", "statistic": "n", "published": "126", "reproduced": "126",
         "kind": "count", "unit": "patients", "tolerance": "exact", "status": "met", "reason": ""},
    ])
    table = scorecard_table(card, "card", "Scorecard")
    assert table.column("Reproduced") == ["0.002", "10.3", "126"]
    # a row is shown under the run's id compared with the published number (groups by role), else the article's
    assert [row.label for row in table.rows] == ["survival.os_logrank_p", "survival.os_median_treatment", "flow.enrolled"]
    assert [group for group, _ in table.groups()] == ["Survival", "Cohort flow"]
    assert reproduced_text(Kind.RATIO.value, "0.51234567") == "0.512"
    assert reproduced_text("", "raw") == "raw"


def test_audit_reads_yes_or_no():
    audit = pd.DataFrame([{"id": "a", "check": "percent", "stated": "63.2%", "recomputed": "86/136 = 63.24%",
                           "consistent": True, "reason": ""},
                          {"id": "b", "check": "percent", "stated": "86.6%", "recomputed": "109/126 = 86.51%",
                           "consistent": False, "reason": "rounding"}])
    assert audit_table(audit, "audit", "Audit").column("Consistent") == ["Yes", "No"]


def test_the_articles_all_patients_orr_is_derived_from_its_cr_and_pr_counts():
    targets = load_targets()
    assert "response.orr_len" not in set(targets["id"])
    derived = derived_targets(targets)
    assert derived == {"response.orr_len": "7.5", "response.orr_sor": "5.8"}  # (0 + 3)/40, (0 + 5)/86
    rows = [{"ids": ["response.orr_treatment", "response.orr_control", "response.orr_p"]},  # the run's ids, by role
            {"ids": ["survival.os_median_treatment", "survival.os_median_control", "no.such_id"]}]
    # the article states these rates (7.5% vs 5.8%): shown as its values, with no mark claiming otherwise
    assert published_headline_values(rows, targets) == [("7.5", "5.8", "0.719"), ("10.3", "5.6", "—")]


def test_scorecard_lists_read_as_labels_not_codes():
    assert reproduced_text("list", "atebev_cycles_few;child_pugh_b;ecog_2;sorafenib") == \
        "ATE+BEV cycles <3, Child-Pugh B, ECOG 2, Sorafenib"


def breakable_number_text(soup: BeautifulSoup) -> list[str]:
    """Text of the number cells that lies outside a ``span.hcc-nowrap``, other than the spaces where a cell may fold
    (before "(" and after ";"): a number or an interval there could break across lines."""
    loose = []
    for cell in soup.select("td.hcc-num"):
        for node in cell.find_all(string=True):
            if node.parent.name != "span" or "hcc-nowrap" not in node.parent.get("class", []):
                if node.strip():
                    loose.append(str(node))
    return loose


def test_a_number_cell_folds_only_between_a_value_and_its_interval():
    """'63.5 (52.5–70.0)' may fold as '63.5' over '(52.5–70.0)', never inside the interval (issue 24: Table 1 read
    '63.0 (55.0–' over '70.0)'); the previous rendering, a break allowed after the dash, is the injected defect."""
    soup = soup_of(small_table())
    assert breakable_number_text(soup) == []
    cell = soup.select("td.hcc-num")[0]
    assert [s.get_text() for s in cell.select("span.hcc-nowrap")] == ["63.5", "(52.5–70.0)"]
    response = BeautifulSoup(JournalTable("t", "", "t", "x", [Column("A")], [Row("ORR", ("24 (66.7; 49.0–81.4)",))],
                                          []).to_html(), "html.parser")
    assert [s.get_text() for s in response.select("span.hcc-nowrap")] == ["24", "(66.7;", "49.0–81.4)"]
    defect = BeautifulSoup('<table><tr><td class="hcc-num">63.5&nbsp;(52.5–<wbr>70.0)</td></tr></table>',
                           "html.parser")
    assert breakable_number_text(defect) == ["63.5\xa0(52.5–", "70.0)"]
