"""Tests of hcc_utils.data.derive: flow counts and the analysis table against hand calculations."""

from __future__ import annotations

import pandas as pd
import pytest

from cohort_factory import FLOW, as_text, make_cohort, write_cohort
from hcc_utils.data.derive import (
    ANALYSIS_COLUMNS,
    DAYS_PER_MONTH,
    analysis_table,
    cohort_flow,
    study_groups,
)
from hcc_utils.data.readers import read_cohort

# docs/ARCHITECTURE.md, "Analysis table"
ARCHITECTURE_COLUMNS = [
    "patient_id", "group", "treatment", "age", "age_older", "sex_male", "ecog", "ecog_2", "etiology", "viral_etiology",
    "child_pugh_score", "child_pugh_class", "child_pugh_b", "bclc_stage", "bclc_c", "tumor_number", "tumor_multiple",
    "tumor_size_cm", "tumor_size_large", "lymph_node_metastasis", "extrahepatic_metastasis", "macrovascular_invasion",
    "afp_ng_ml", "afp_high", "pivka_mau_ml", "pivka_high", "atebev_cycles", "atebev_cycles_few",
    "atebev_cycles_many", "best_response_recist", "best_response_mrecist", "os_months", "os_event", "pfs_months",
    "pfs_event", "third_line_regimen", "received_third_line",
    "ae_proteinuria", "ae_ast_elevation", "ae_alt_elevation", "ae_bilirubin_elevation", "ae_thrombocytopenia",
    "ae_anemia", "ae_hypertension", "ae_hand_foot_syndrome", "ae_rash", "ae_anorexia", "ae_hypothyroidism",
    "ae_gi_bleeding", "ae_diarrhea", "ae_fatigue",
    "ae_any", "ae_grade_3_4", "ae_led_to_discontinuation",
]


def months(days: int) -> float:
    return days / 30.4375


def set_dates(text: pd.DataFrame, patient: str, **dates: str) -> None:
    for column, value in dates.items():
        text.loc[int(patient[1:]) - 1, f"{column}_date" if column != "second_line_start" else "second_line_start_date"] = value


@pytest.fixture()
def text() -> pd.DataFrame:
    return as_text(make_cohort())


def read_text(tmp_path, text: pd.DataFrame) -> pd.DataFrame:
    path = tmp_path / "cohort.csv"
    text.to_csv(path, index=False)
    return read_cohort(path)


# ----------------------------------------------------------------------------- flow
def test_days_per_month_comes_from_the_dictionary():
    assert DAYS_PER_MONTH == 30.4375


def test_flow_counts_of_the_factory_cohort(tmp_path):
    frame = read_cohort(write_cohort(make_cohort(), tmp_path / "cohort.csv"))
    assert cohort_flow(frame, {}) == FLOW


def test_flow_keys_are_the_run_ids_of_the_article_flow_counts():
    """Every count of the article's flow diagram has its key (the article's ids read by role: its
    ``flow.enrolled_lenvatinib`` is ``flow.enrolled_treatment``; regimen counts keep the regimen)."""
    from hcc_utils.reproduction.roles import align_targets
    from hcc_utils.reproduction.targets import load_targets

    targets = load_targets()
    run_ids = {a.run_id for a in align_targets(targets[targets["section"] == "flow"]).values()}
    assert "flow.enrolled_treatment" in run_ids and "flow.second_line_lenvatinib" in run_ids
    assert run_ids == set(cohort_flow(make_cohort())) - {"flow.no_second_line"}


def test_flow_counts_of_a_hand_built_cohort():
    rows = [
        # reason, deteriorated after, regimen
        ("progression", "no", "sorafenib"),
        ("progression", "", "sorafenib"),  # empty reads as no
        ("progression", "yes", "none"),
        ("progression", "yes", "lenvatinib"),  # deteriorated after: excluded even with a regimen
        ("progression", "no", "lenvatinib"),
        ("progression", "no", "fluorouracil"),
        ("progression", "no", "none"),
        ("death", "", "none"),
        ("death", "", "none"),
        ("deterioration", "", "none"),
        ("deterioration", "", "regorafenib"),  # not counted as second line: stopped for deterioration
    ]
    frame = pd.DataFrame(rows, columns=["first_line_end_reason", "deteriorated_after_first_line", "second_line_regimen"])
    frame.insert(0, "patient_id", [f"H{i}" for i in range(len(rows))])
    assert cohort_flow(frame) == {
        "flow.eligible": 11,
        "flow.died_on_first_line": 2,
        "flow.deteriorated_on_first_line": 2,
        "flow.progressed": 7,
        "flow.deteriorated_after_first_line": 2,
        "flow.no_second_line": 1,
        "flow.second_line": 4,
        "flow.second_line_lenvatinib": 1,
        "flow.second_line_sorafenib": 2,
        "flow.second_line_regorafenib": 0,
        "flow.second_line_5fu": 1,
        "flow.enrolled": 3,
        "flow.enrolled_treatment": 1,
        "flow.enrolled_control": 2,
    }


def test_flow_with_configured_groups():
    flow = cohort_flow(make_cohort(), {"groups": {"treatment": "regorafenib", "control": "sorafenib"}})
    assert flow["flow.enrolled"] == 17
    assert flow["flow.enrolled_treatment"] == 2 and flow["flow.enrolled_control"] == 15
    assert {key for key in flow if key.startswith("flow.enrolled_")} == {"flow.enrolled_treatment",
                                                                         "flow.enrolled_control"}  # groups by role


# ----------------------------------------------------------------------------- analysis table: shape
def test_analysis_columns_are_exactly_the_documented_ones(tmp_path):
    table = analysis_table(read_cohort(write_cohort(make_cohort(), tmp_path / "c.csv")), {})
    assert list(table.columns) == ARCHITECTURE_COLUMNS == list(ANALYSIS_COLUMNS)


def test_one_row_per_enrolled_patient_in_file_order():
    table = analysis_table(make_cohort(), {})
    assert table["patient_id"].tolist() == [f"P{i:03d}" for i in range(1, 31)]
    assert isinstance(table.index, pd.RangeIndex)
    assert table["group"].value_counts().to_dict() == {"lenvatinib": 15, "sorafenib": 15}
    assert (table["treatment"] == (table["group"] == "lenvatinib")).all()
    assert table["treatment"].dtype == "int64"


def test_groups_from_config_define_treatment():
    config = {"groups": {"treatment": "sorafenib", "control": "lenvatinib"}}
    table = analysis_table(make_cohort(), config)
    assert (table["treatment"] == (table["group"] == "sorafenib")).all()
    assert study_groups(config) == ("sorafenib", "lenvatinib")
    assert study_groups(None) == ("lenvatinib", "sorafenib")


def test_invalid_values_are_refused(tmp_path, text):
    text.loc[0, "ecog"] = "seven"
    with pytest.raises(ValueError, match=r"ecog \(1 value\(s\) not of type integer\).*validate_cohort"):
        analysis_table(read_text(tmp_path, text), {})


# ----------------------------------------------------------------------------- survival times
def test_survival_times_against_hand_calculation(tmp_path, text):
    set_dates(text, "P001", second_line_start="2022-01-03", progression="2022-02-12", death="2022-05-03",
              last_followup="2022-05-03")  # event, event
    set_dates(text, "P002", second_line_start="2022-03-01", progression="2022-03-01", death="2022-03-01",
              last_followup="2022-03-01")  # same-day events
    set_dates(text, "P003", second_line_start="2022-01-01", progression="2022-03-02", death="",
              last_followup="2022-12-31")  # alive: OS censored at last follow-up
    set_dates(text, "P004", second_line_start="2022-02-01", progression="", death="2022-04-02",
              last_followup="2022-03-15")  # death without progression is the PFS event
    set_dates(text, "P005", second_line_start="2022-02-01", progression="", death="",
              last_followup="2022-02-01")  # censored on the start day
    set_dates(text, "P006", second_line_start="2022-02-01", progression="", death="",
              last_followup="2023-02-01")  # censored for both
    set_dates(text, "P007", second_line_start="2022-02-01", progression="2022-04-02", death="2022-04-02",
              last_followup="2022-04-02")  # progression and death the same day: one PFS event
    table = analysis_table(read_text(tmp_path, text), {}).set_index("patient_id")
    expected = {
        # patient: (os days, os event, pfs days, pfs event)
        "P001": (120, 1, 40, 1),
        "P002": (0, 1, 0, 1),
        "P003": (364, 0, 60, 1),
        "P004": (60, 1, 60, 1),
        "P005": (0, 0, 0, 0),
        "P006": (365, 0, 365, 0),
        "P007": (60, 1, 60, 1),
    }
    for patient, (os_days, os_event, pfs_days, pfs_event) in expected.items():
        row = table.loc[patient]
        assert row["os_months"] == pytest.approx(months(os_days)), patient
        assert row["os_event"] == os_event, patient
        assert row["pfs_months"] == pytest.approx(months(pfs_days)), patient
        assert row["pfs_event"] == pfs_event, patient
    assert table.loc["P006", "os_months"] == pytest.approx(11.9918, abs=1e-4)
    assert table["os_event"].dtype == "int64" and table["os_months"].dtype == "float64"


def test_pfs_uses_the_earlier_of_progression_and_death():
    cohort = make_cohort()
    # P001 progressed on 2022-02-12; moving death before it (an inconsistent record the validator
    # reports) still gives the earliest event date.
    cohort.loc[0, "death_date"] = pd.Timestamp("2022-02-01")
    table = analysis_table(cohort, {})
    assert table.loc[0, "pfs_months"] == pytest.approx(months(29))
    assert table.loc[0, "pfs_event"] == 1


def test_factory_survival_matches_its_formula():
    table = analysis_table(make_cohort(), {})
    for i in range(30):
        progression = 40 + 5 * i if i % 5 != 4 else None
        death = 120 + 9 * i if i % 3 != 2 else None
        last_followup = death if death is not None else 200 + 3 * i
        first_event = progression if progression is not None else death
        assert table.loc[i, "os_months"] == pytest.approx(months(death if death is not None else last_followup))
        assert table.loc[i, "os_event"] == int(death is not None)
        assert table.loc[i, "pfs_months"] == pytest.approx(months(first_event if first_event is not None else last_followup))
        assert table.loc[i, "pfs_event"] == int(first_event is not None)


# ----------------------------------------------------------------------------- covariates
def test_binary_covariates_and_classes():
    cohort = make_cohort()
    cohort.loc[0, ["child_pugh_score", "ecog", "tumor_number", "tumor_size_cm"]] = [6, 2, 2, 10.0]
    cohort.loc[1, ["child_pugh_score", "ecog", "tumor_number", "tumor_size_cm"]] = [7, 1, 1, 9.99]
    cohort.loc[2, ["child_pugh_score"]] = [10]
    cohort.loc[0, ["afp_ng_ml", "pivka_mau_ml", "atebev_cycles"]] = [400.0, 999.0, 2]
    cohort.loc[1, ["afp_ng_ml", "pivka_mau_ml", "atebev_cycles"]] = [399.9, 1000.0, 3]
    cohort.loc[2, ["afp_ng_ml", "pivka_mau_ml", "atebev_cycles"]] = [None, None, 4]
    cohort.loc[0, ["sex", "etiology", "bclc_stage", "third_line_regimen"]] = ["male", "hbv_hcv", "c", "none"]
    cohort.loc[1, ["sex", "etiology", "bclc_stage", "third_line_regimen"]] = ["female", "nash", "d", "nivolumab"]
    table = analysis_table(cohort, {})
    first = table.iloc[:3]
    assert first["child_pugh_class"].tolist() == ["A", "B", "C"]
    assert first["child_pugh_b"].tolist() == [0, 1, 1]
    assert first["ecog_2"].tolist()[:2] == [1, 0]
    assert first["tumor_multiple"].tolist()[:2] == [1, 0]
    assert first["tumor_size_large"].tolist()[:2] == [1, 0]
    assert first["afp_high"].tolist()[:2] == [1, 0] and pd.isna(first["afp_high"].iloc[2])
    assert first["pivka_high"].tolist()[:2] == [0, 1] and pd.isna(first["pivka_high"].iloc[2])
    assert first["atebev_cycles_few"].tolist() == [1, 0, 0]
    assert first["atebev_cycles_many"].tolist() == [0, 0, 1]
    assert first["sex_male"].tolist()[:2] == [1, 0]
    assert first["viral_etiology"].tolist()[:2] == [1, 0]
    assert first["bclc_c"].tolist()[:2] == [1, 0]
    assert first["received_third_line"].tolist()[:2] == [0, 1]
    for column in ("sex_male", "afp_high", "lymph_node_metastasis", "ae_led_to_discontinuation"):
        assert table[column].dtype == "Int64", column


def test_cut_points_from_config():
    config = {"cutpoints": {"tumor_size_cm": 5, "afp_ng_ml": 100, "pivka_mau_ml": 200, "atebev_cycles_low": 2,
                            "atebev_cycles_subgroup": 5}}
    table = analysis_table(make_cohort(), config)
    cohort = make_cohort().iloc[:30]
    assert (table["tumor_size_large"] == (cohort["tumor_size_cm"] >= 5).astype(int).values).all()
    assert (table["afp_high"] == (cohort["afp_ng_ml"] >= 100).astype(int).values).all()
    assert (table["pivka_high"] == (cohort["pivka_mau_ml"] >= 200).astype(int).values).all()
    assert (table["atebev_cycles_few"] == (cohort["atebev_cycles"] < 2).astype(int).values).all()
    assert (table["atebev_cycles_many"] == (cohort["atebev_cycles"] > 5).astype(int).values).all()


def test_adverse_event_summaries():
    cohort = make_cohort()
    grades = [name for name in cohort.columns if name.startswith("ae_") and name != "ae_led_to_discontinuation"]
    cohort.loc[0, grades] = 0
    cohort.loc[1, grades] = 0
    cohort.loc[1, "ae_rash"] = 2
    cohort.loc[2, grades] = 0
    cohort.loc[2, "ae_fatigue"] = 4
    cohort.loc[3, grades] = 0
    cohort.loc[3, "ae_anemia"] = 5  # grade 5 is not "grade 3 or 4"
    table = analysis_table(cohort, {})
    assert table["ae_any"].tolist()[:4] == [0, 1, 1, 1]
    assert table["ae_grade_3_4"].tolist()[:4] == [0, 0, 1, 0]
    assert table.loc[2, "ae_fatigue"] == 4
