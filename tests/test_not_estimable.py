"""Odd but legal data: a matched cohort that cannot be analysed gives 'not estimable', never a crash or a
misleading number (issue: honest output)."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from hcc_utils.config import REPO_ROOT, StudyConfig  # noqa: E402
from hcc_utils.data.readers import read_cohort  # noqa: E402
from hcc_utils.report.figures import cycles_subgroup_figures, survival_figures, third_line_figures  # noqa: E402
from hcc_utils.study import build_study, compute_results  # noqa: E402
from hcc_utils.study.sections import SECTIONS  # noqa: E402

COHORT = REPO_ROOT / "data" / "synthetic_cohort.csv"
NO_PAIRS = StudyConfig().replace(**{"matching.caliper": 1e-7})  # no control is that close: zero pairs


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def study():
    return build_study(read_cohort(COHORT), NO_PAIRS)


def test_zero_pairs_is_a_cohort_problem_with_a_reason(study):
    assert study.match_summary["pairs"] == 0
    assert study.cohort_problems() == {"_matched": "no pair was formed by the matching"}
    assert list(study.cohorts()) == [""]


def test_every_section_computes_and_the_ids_do_not_depend_on_the_data(study):
    bundled = compute_results(read_cohort(COHORT), StudyConfig())
    odd = compute_results(read_cohort(COHORT), NO_PAIRS)
    assert set(odd) == set(bundled)
    matched = [k for k in odd if k.endswith("_matched")]
    assert len(matched) > 100
    for key in matched:
        assert odd.spec(key).status == "not estimable", key
        value = odd[key]
        assert value is None or (isinstance(value, float) and math.isnan(value)), key
    # the all-enrolled numbers are those of the bundled run
    assert odd["survival.os_median_treatment"] == bundled["survival.os_median_treatment"]


def test_tables_show_the_analysable_cohort_only(study):
    results = {section.__name__.rsplit(".", 1)[1]: section.compute(study) for section in SECTIONS}
    table1 = results["baseline"].tables["table1"]
    assert {column.spanner for column in table1.columns} == {"All enrolled"}
    assert {group.rsplit(", ", 1)[1] for group, _ in results["survival"].tables["table3"].groups()} == {"All enrolled"}
    assert {group.rsplit(", ", 1)[1] for group, _ in results["cycles"].tables["supp_table2"].groups()} == {"All enrolled"}


def test_figures_keep_their_names_and_say_not_estimable(study):
    values = {section.__name__.rsplit(".", 1)[1]: section.compute(study).values for section in SECTIONS}
    figures = survival_figures(study, values["survival"])
    assert set(figures) == {"figure2", "figure3"}
    texts = [t.get_text() for ax in figures["figure3"].axes for t in ax.texts]
    assert any(t.startswith("Not estimable: no pair was formed") for t in texts)
    assert set(third_line_figures(study, values["third_line"])) == {"supp_figure1", "supp_figure2"}
    assert set(cycles_subgroup_figures(study, values["cycles"])) == {"supp_figure3", "supp_figure4"}


def test_a_cox_coefficient_without_finite_estimate_is_not_estimable_not_a_tiny_number():
    """Monotone likelihood: every patient with macrovascular invasion is censored for OS, so its HR has no finite
    maximum-likelihood estimate; R says 'coefficient may be infinite'. The book records NaN, not 4e-9."""
    import dataclasses

    from hcc_utils.stats.cox import CoxConvergenceWarning
    from hcc_utils.study.sections import predictors

    bundled = build_study(read_cohort(COHORT), StudyConfig())
    data = bundled.data.copy()
    data["macrovascular_invasion"] = (data["os_event"] == 0).astype(int).where(data.index % 3 == 0, 0)
    odd = dataclasses.replace(bundled, data=data)
    with pytest.warns(CoxConvergenceWarning, match="macrovascular_invasion"):
        section = predictors.compute(odd)
    assert math.isnan(section.values["cox.os_uni_mvi_hr"])
    assert section.values.spec("cox.os_uni_mvi_hr").label.endswith("(not estimable: no finite estimate)")
    row = section.tables["table4"].row("Macrovascular invasion", group="Overall survival")
    assert row.cells[1] == "not estimable" and row.cells[2] == ""  # univariable HR (95% CI) and P
    assert section.values["cox.os_uni_mvi_n"] == len(data)


def test_table4_states_patients_and_events_of_every_model():
    from hcc_utils.study.sections import predictors

    section = predictors.compute(build_study(read_cohort(COHORT), StudyConfig()))
    table = section.tables["table4"]
    assert table.rows[0].cells[0] == f"{section.values['cox.os_uni_age65_n']} " \
                                     f"({section.values['cox.os_uni_age65_events']})"
    multi = [row for row in table.rows if row.label == predictors.MULTIVARIABLE_SIZE_LABEL]
    assert [row.group for row in multi] == ["Overall survival", "Progression-free survival"]


def test_table1_shows_missing_counts_as_rows_when_values_are_missing():
    import dataclasses

    from hcc_utils.study.sections import baseline

    bundled = build_study(read_cohort(COHORT), StudyConfig())
    data = bundled.data.copy()
    data.loc[data.index[:5], "afp_ng_ml"] = float("nan")  # five enrolled patients without AFP
    data.loc[data.index[:5], "afp_high"] = None
    table = baseline.compute(dataclasses.replace(bundled, data=data)).tables["table1"]
    missing = [row for row in table.rows if row.label == "Missing"]
    assert len(missing) == 2 and all(row.indent == 1 for row in missing)  # AFP (median) and AFP >= 400 (n %)
    assert missing[0].cells[0] == "5"  # all enrolled, overall
    assert sum(int(cell) for cell in missing[0].cells[1:3]) == 5
    assert table.columns[0].label == f"Overall\nN = {len(data)}"


def test_table2_shows_patients_without_a_recorded_response():
    import dataclasses

    from hcc_utils.study.sections import responses

    bundled = build_study(read_cohort(COHORT), StudyConfig())
    data = bundled.data.copy()
    lenvatinib = data.index[data["group"] == bundled.treatment][:3]
    data.loc[lenvatinib, "best_response_recist"] = None
    table = responses.compute(dataclasses.replace(bundled, data=data)).tables["table2"]
    missing = [row for row in table.rows if row.label == "Not assessed (missing)" and row.group == "RECIST 1.1"]
    assert len(missing) == 1
    assert missing[0].cells[:2] == ("3", "0")  # all enrolled: treatment, control


def test_levels_below_the_minimum_subgroup_size_are_left_out_of_tests_and_figures():
    """By default every level is compared, as the article's p-values require (a one-patient level is only not
    drawn); survival.min_subgroup_size = 2 leaves one-patient levels out of the tests, a larger minimum larger ones."""
    from hcc_utils.study.sections import cycles, third_line

    cohort = read_cohort(COHORT)
    article = build_study(cohort, StudyConfig())
    strict = build_study(cohort, StudyConfig().replace(**{"survival.min_subgroup_size": 2}))
    kept, dropped = third_line.compute(article).values, third_line.compute(strict).values
    assert kept["thirdline.treatment_nivolumab"] == 1  # a one-patient regimen in the bundled cohort
    assert 0 <= kept["thirdline.os_type_treatment_p"] < 1  # sorafenib (15) against three one-patient regimens
    assert "not estimable" in third_line.compute(strict).values.spec("thirdline.os_type_treatment_p").label
    assert 0 < kept["thirdline.os_type_control_p"] < 1  # every sorafenib-group regimen has at least 3 patients
    recipients = article.data[(article.data["group"] == article.treatment) & (article.data["received_third_line"] == 1)]
    assert set(third_line.comparable_levels(recipients, "third_line_regimen", 2)["third_line_regimen"]) == {"sorafenib"}
    assert math.isnan(dropped["thirdline.os_type_treatment_p"])  # one regimen left: nothing to compare
    huge = build_study(cohort, StudyConfig().replace(**{"survival.min_subgroup_size": 500}))
    values = cycles.compute(huge).values
    assert math.isnan(values["cycles.le3_os_logrank_p"]) and math.isnan(values["cycles.le3_os_median_treatment"])
    assert values["cycles.le3_os_n_treatment"] == cycles.compute(article).values["cycles.le3_os_n_treatment"]
    figures = cycles_subgroup_figures(huge, values)
    panel_a = figures["supp_figure3"].subfigs[0]
    assert not any(line.get_xydata().size for ax in panel_a.axes for line in ax.get_lines()
                   if line.get_linestyle() == "-")  # no arm drawn (the legend names them "not drawn")
