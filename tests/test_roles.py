"""Result ids name the groups by role, whatever the regimens; the scorecard compares a run of other regimens with
the article by role, and says so; the introduction's headline table never puts the article's values under the
author's regimens."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from hcc_utils.config import REPO_ROOT, load_config, parse_config
from hcc_utils.data.readers import read_cohort
from hcc_utils.report.journal_table import JournalTable
from hcc_utils.report.presentation import headline_ids, headline_table
from hcc_utils.reproduction.audit import audit_article, identical_infeasible
from hcc_utils.reproduction.roles import ARTICLE_GROUPS, align_targets, role_note
from hcc_utils.reproduction.scorecard import score, summary_line
from hcc_utils.reproduction.summary import scorecard_report
from hcc_utils.reproduction.targets import load_targets, published_headline_values
from hcc_utils.study import compute_results

OTHER = ("cabozantinib", "regorafenib")
#: Words that name a regimen in an id (the article's three-letter codes and the regimens themselves).
REGIMEN_WORDS = {"len", "sor", "cab", "reg", "lenvatinib", "sorafenib", "cabozantinib", "regorafenib"}


def _regimen_words(result_id: str) -> set[str]:
    return set(re.split(r"[._]", result_id)) & REGIMEN_WORDS


@pytest.fixture(scope="module")
def bundled():
    return compute_results(read_cohort(REPO_ROOT / "data" / "synthetic_cohort.csv"), load_config())


@pytest.fixture(scope="module")
def other_regimens(tmp_path_factory):
    """The bundled cohort with its second-line regimens renamed: the article's 8 regorafenib patients become
    ramucirumab, lenvatinib becomes cabozantinib (treatment) and sorafenib regorafenib (control). The patients
    and their data are the same, so every number of the study is the same."""
    raw = pd.read_csv(REPO_ROOT / "data" / "synthetic_cohort.csv", dtype=str, keep_default_na=False)
    raw["second_line_regimen"] = raw["second_line_regimen"].replace({"regorafenib": "ramucirumab"}).replace(
        {"lenvatinib": OTHER[0], "sorafenib": OTHER[1]})
    path = tmp_path_factory.mktemp("other") / "other_regimens.csv"
    raw.to_csv(path, index=False)
    config = parse_config({"groups": {"treatment": OTHER[0], "control": OTHER[1]}}, "test")
    return compute_results(read_cohort(path, config=config), config)


def test_ids_name_the_groups_by_role_and_not_by_regimen(bundled, other_regimens):
    """With cabozantinib vs regorafenib no id carries a regimen code, except the counts of a named regimen (the
    flow diagram's second-line regimens, third-line regimens), and every other id and value is the bundled run's."""
    regimen_counts = re.compile(r"^flow\.second_line_|^thirdline\.(treatment|control)_(?!pct$)")
    named = {key for key in other_regimens if _regimen_words(key) and not regimen_counts.match(key)}
    assert named == set()
    assert {"survival.os_median_treatment_matched", "baseline.child_pugh_a_control", "cox.os_uni_control_hr",
            "flow.enrolled_treatment", "safety.higher_in_treatment"} <= set(other_regimens)
    shared = {key for key in bundled if not regimen_counts.match(key)}
    assert shared == {key for key in other_regimens if not regimen_counts.match(key)}
    for key in shared:
        a, b = bundled[key], other_regimens[key]
        assert (a == b) or (a != a and b != b) or (isinstance(a, list) and a == b) or key.endswith("_significant"), key
    # the one list that names a group names it by its regimen (the control group as a predictor)
    assert "sorafenib" in bundled["cox.pfs_univariable_significant"]
    assert "regorafenib" in other_regimens["cox.pfs_univariable_significant"]
    # the regimen counts count the regimens: the article's regorafenib patients are now ramucirumab patients
    assert (other_regimens["flow.second_line_cabozantinib"], other_regimens["flow.second_line_regorafenib"],
            other_regimens["flow.second_line_ramucirumab"]) == (40, 86, 8)


def test_the_alignment_is_one_to_one_and_follows_the_targets_group_column():
    targets = load_targets()
    aligned = align_targets(targets)
    run_ids = [a.run_id for a in aligned.values()]
    assert None not in run_ids and len(set(run_ids)) == len(run_ids) == len(targets)
    for row in targets.itertuples(index=False):
        run_id = aligned[row.id].run_id
        if row.group in ARTICLE_GROUPS.values() and not row.id.startswith("flow.second_line_"):
            role = {name: role for role, name in ARTICLE_GROUPS.items()}[row.group]
            assert role in run_id.split(".")[1].split("_"), (row.id, run_id)
        if not re.match(r"^flow\.second_line_|^thirdline\.(treatment|control)_", run_id):
            assert not _regimen_words(run_id), run_id
    assert aligned["cox.pfs_sor_hr"].run_id == "cox.pfs_control_hr"  # the regimen indicator of Table 4
    assert aligned["safety.higher_in_lenvatinib"].run_id == "safety.higher_in_treatment"
    assert aligned["flow.second_line_lenvatinib"].run_id == "flow.second_line_lenvatinib"  # counts that regimen
    # a translation that is not one-to-one is refused (an injected duplicate)
    with pytest.raises(ValueError, match="would both be compared with survival.os_median_treatment"):
        align_targets(pd.concat([targets, targets[targets["id"] == "survival.os_median_len"].assign(
            id="survival.os_median_lenvatinib")]))


def test_the_scorecard_of_other_regimens_compares_by_role(tmp_path, other_regimens):
    targets = load_targets()
    audit, excluded = audit_article(targets)
    card = score(other_regimens, targets, excluded, identical_infeasible(audit), groups=OTHER).set_index("id")
    assert (card["status"] != "missing").all(), list(card.index[card["status"] == "missing"])
    # a role-bound number is the run's number of that role
    assert card.loc["survival.os_median_len", "result_id"] == "survival.os_median_treatment"
    assert float(card.loc["survival.os_median_len", "reproduced"]) == other_regimens["survival.os_median_treatment"]
    assert card.loc["cox.pfs_sor_hr", "result_id"] == "cox.pfs_control_hr"
    assert card.loc["cox.pfs_univariable_significant", "status"] == "met"  # 'sorafenib' read as the control group
    # the article's second-line lenvatinib count beside the run's count of its treatment regimen
    assert (card.loc["flow.second_line_lenvatinib", "result_id"],
            card.loc["flow.second_line_lenvatinib", "reproduced"]) == ("flow.second_line_cabozantinib", "40")
    # the article's 8 regorafenib patients (excluded from its study) are not the run's 86 regorafenib patients
    row = card.loc["flow.second_line_regorafenib"]
    assert (row["status"], row["result_id"]) == ("not comparable", "")
    assert "regorafenib" in row["reason"] and "control group" in row["reason"]
    # the article's lenvatinib patients given sorafenib (its control regimen) at third line: the run's treatment
    # patients given its control regimen (this renamed cohort kept its third-line names: 1, not 15)
    assert (card.loc["thirdline.len_sorafenib", "result_id"], card.loc["thirdline.len_sorafenib", "status"]) == (
        "thirdline.treatment_regorafenib", "missed")
    # M leaves out the one number without a counterpart; N and the identical count are this card's own
    comparable = card[~card["status"].isin(["not comparable", "excluded"])]
    met = comparable[comparable["status"] == "met"]
    assert len(comparable) == len(targets) - len(excluded) - 1
    assert summary_line(card.reset_index()) == (
        f"reproduced {len(met)} of {len(comparable)} published numbers ({int((met['tier'] == 'identical').sum())} "
        "identical at printed precision); 1 not comparable (other regimens)")
    results = tmp_path / "results.csv"
    pd.DataFrame({"id": list(other_regimens), "value": [";".join(v) if isinstance(v, list) else v
                                                         for v in other_regimens.values()]}).to_csv(results, index=False)
    report = scorecard_report(results, REPO_ROOT / "data" / "targets.csv", groups=OTHER)
    assert report.splitlines()[0] == ("Different regimens: compared by role (treatment = cabozantinib vs the article's "
                                      "lenvatinib; control = regorafenib vs sorafenib).")
    assert "0 missing" in report and "1 not comparable" in report and "flow.second_line_regorafenib:" in report
    # the defect the comparison by role prevents: the same run scored as if it compared the article's regimens
    blind = score(other_regimens, targets, excluded, groups=None).set_index("id")
    assert blind.loc["flow.second_line_regorafenib", "status"] == "missed"  # 8 published against 86 treated
    assert blind.loc["flow.second_line_lenvatinib", "status"] == "missed"


def test_the_article_s_regimens_score_as_before(bundled):
    targets = load_targets()
    audit, excluded = audit_article(targets)
    card = score(bundled, targets, excluded, identical_infeasible(audit), groups=load_config().groups)
    assert role_note(load_config().groups) == ""
    # the same verdicts as a scoring without regimens (the article's), and every counted number met (the calibration)
    assert card.equals(score(bundled, targets, excluded, identical_infeasible(audit)))
    counted = card[card["status"] != "excluded"]
    assert summary_line(card).startswith(f"reproduced {len(counted)} of {len(counted)} published numbers")


def _results(values: dict[str, tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame([{"id": key, "value": value, "kind": kind} for key, (value, kind) in values.items()])


def _headline_results(os_control: str = "5.6") -> pd.DataFrame:
    values = {}
    for suffix in ("", "_matched"):
        for stem, kind, pair in (("survival.pfs_median", "months", ("3.5", "1.8")),
                                 ("survival.os_median", "months", ("10.3", os_control)),
                                 ("response.orr", "percent", ("7.5", "5.8")), ("response.dcr", "percent", ("67.5", "24.4"))):
            values[f"{stem}_treatment{suffix}"] = (pair[0], kind)
            values[f"{stem}_control{suffix}"] = (pair[1], kind)
        for p in ("survival.pfs_logrank_p", "survival.os_logrank_p", "response.orr_p", "response.dcr_p"):
            values[p + suffix] = ("0.01", "p")
    return _results(values)


def test_headline_table_puts_the_article_only_beside_the_same_regimens_or_says_it_compares_by_role():
    targets = load_targets()
    article = published_headline_values(headline_ids(), targets)
    groups = (ARTICLE_GROUPS["treatment"], ARTICLE_GROUPS["control"])
    same = headline_table(_headline_results(), load_config(), article, article_groups=groups)
    assert [(c.spanner, c.label) for c in same.columns] == [
        ("This build", "Lenvatinib"), ("This build", "Sorafenib"), ("This build", "P"),
        ("Article", "Lenvatinib"), ("Article", "Sorafenib"), ("Article", "P")]
    assert not any("by role" in note for note in same.footnotes)
    other = headline_table(_headline_results(), parse_config({"groups": {"treatment": OTHER[0], "control": OTHER[1]}},
                                                             "test"), article, article_groups=groups)
    assert [(c.spanner, c.label) for c in other.columns] == [
        ("This build", "Cabozantinib"), ("This build", "Regorafenib"), ("This build", "P"),
        ("Article", "Lenvatinib"), ("Article", "Sorafenib"), ("Article", "P")]  # the article's regimens head its values
    assert any("by role" in note and "not values of the same regimens" in note for note in other.footnotes)


def test_headline_footnotes_explain_only_the_symbols_that_occur():
    config, targets = load_config(), load_targets()
    article = published_headline_values(headline_ids(), targets)
    plain = headline_table(_headline_results(), config, [("1", "2", "3")] * 8, symbols={"†": "derived"})
    assert not any(note.startswith(("—", "†")) or "NR" in note for note in plain.footnotes)
    marked = headline_table(_headline_results(os_control="NA"), config, article, symbols={"†": "derived"})
    assert "NR" in marked.row("Median OS, months", "All enrolled").cells[1]
    assert any("(NR: not reached)" in note for note in marked.footnotes)
    assert not any(note.startswith("†") for note in marked.footnotes)  # the article states its ORR: no mark
    symbol = headline_table(_headline_results(), config, [("7.5†", "5.8", "0.7")] * 8, symbols={"†": "derived"})
    assert "† derived" in symbol.footnotes  # a symbol that occurs is explained
    assert isinstance(marked, JournalTable)


def test_a_median_not_estimable_is_not_written_as_not_reached(monkeypatch):
    """A matched cohort that cannot be analysed records its medians as NaN with the status "not estimable": the
    headline table and the introduction's prose say so, and a median never reached stays "NR" / "not reached"."""
    from hcc_utils.report import presentation

    results = _headline_results(os_control="NA")
    results["status"] = "ok"
    blank = results["id"].str.endswith("_matched")
    results.loc[blank, ["value", "status"]] = ["NA", "not estimable"]
    table = headline_table(results, load_config())
    assert table.row("Median OS, months", "All enrolled").cells[:2] == ("10.3", "NR")
    assert table.row("Median OS, months", "PS-matched").cells[:2] == ("not estimable", "not estimable")
    glued = {}
    monkeypatch.setattr(presentation, "glue", lambda name, value, display=False: glued.__setitem__(name, value))
    presentation.glue_headlines(results, load_config())
    assert (glued["survival_os_median_treatment"], glued["survival_os_median_control"]) == ("10.3 months",
                                                                                             "not reached")
    assert glued["survival_os_median_control_matched"] == "not estimable"
    assert glued["response_orr_treatment"] == "7.5%" and glued["response_orr_treatment_matched"] == "not estimable"


def test_a_variable_whose_ids_would_be_the_regimen_indicator_s_is_refused():
    """Table 4's regimen indicator (control_group) is named by role in ids (cox.os_uni_control_hr): an author's
    variable named 'control' among the same candidates would share its ids, and validation says so."""
    from hcc_utils.data.variables import CONTROL_GROUP, list_problems

    variable = {"variables": [{"name": "control", "type": "boolean"}]}
    with_indicator = parse_config({**variable, "cox": {"candidates": ["age_older", "control", CONTROL_GROUP]}}, "t")
    problems = [p for p in list_problems(with_indicator) if p.name == "control"]
    assert [(p.key, p.rule) for p in problems] == [("cox.candidates", "variable_name")]
    assert "would share its result ids with 'control_group'" in problems[0].message
    without = parse_config({**variable, "cox": {"candidates": ["age_older", "control"]}}, "t")
    assert not [p for p in list_problems(without) if p.key == "cox.candidates"]
