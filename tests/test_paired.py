"""Paired analyses of the matched cohort against R: McNemar (mcnemar.test with and without continuity correction,
binom.test for the exact form), the log-rank test stratified by pair (survdiff + strata) and Cox with a
pair-clustered robust variance (coxph(cluster =)).

Fixtures: tests/reference/paired_data.csv -> tests/reference/paired_reference.csv (tests/reference/paired_reference.R,
R 4.2.2, survival 3.5-3). Tolerance: 1e-6 absolute (1e-6 relative for statistics above 1).
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc_utils.config import REPO_ROOT, StudyConfig
from hcc_utils.data.readers import read_cohort
from hcc_utils.stats.contingency import mcnemar_test, paired_table
from hcc_utils.stats.cox import cox_model
from hcc_utils.stats.logrank import logrank_test
from hcc_utils.study import build_study
from hcc_utils.study.sections import paired

REF_DIR = Path(__file__).parent / "reference"
DATA = pd.read_csv(REF_DIR / "paired_data.csv")
REF = pd.read_csv(REF_DIR / "paired_reference.csv").set_index(["analysis", "statistic"])["value"]
COHORT = REPO_ROOT / "data" / "synthetic_cohort.csv"
HAND = {"equal": [[5, 4], [4, 7]], "single": [[3, 1], [0, 6]], "large": [[20, 31], [9, 40]], "small": [[0, 2], [7, 1]]}
OUTCOMES = list(paired.BINARY_OUTCOMES)


def ref(analysis: str, statistic: str) -> float:
    return float(REF[(analysis, statistic)])


def close(value: float, expected: float) -> bool:
    return math.isclose(value, expected, rel_tol=1e-6, abs_tol=1e-6)


def _data_table(name: str) -> np.ndarray:
    treated = DATA[DATA["treatment"] == 1].sort_values("pair_id")
    control = DATA[DATA["treatment"] == 0].sort_values("pair_id")
    return paired_table(treated[name].to_numpy(float), control[name].to_numpy(float))


def _tables():
    return [(f"hand_{name}", np.array(table)) for name, table in HAND.items()] + \
        [(name, _data_table(name)) for name in OUTCOMES]


@pytest.mark.parametrize("name,table", _tables(), ids=[n for n, _ in _tables()])
def test_mcnemar_matches_R_mcnemar_test_and_binom_test(name, table):
    analysis = f"mcnemar_{name}"
    assert table[0, 1] == ref(analysis, "b") and table[1, 0] == ref(analysis, "c")
    corrected = mcnemar_test(table)
    uncorrected = mcnemar_test(table, correction=False)
    exact = mcnemar_test(table, method="exact")
    assert close(corrected.statistic, ref(analysis, "statistic_corrected"))
    assert close(corrected.p, ref(analysis, "p_corrected"))
    assert close(uncorrected.statistic, ref(analysis, "statistic_uncorrected"))
    assert close(uncorrected.p, ref(analysis, "p_uncorrected"))
    assert close(exact.p, ref(analysis, "p_exact"))
    yates = "mcnemar" if table[0, 1] == table[1, 0] else "mcnemar_yates"  # R corrects only unequal counts
    assert (corrected.test, uncorrected.test, exact.test, corrected.df) == (yates, "mcnemar", "mcnemar_exact", 1.0)


def test_mcnemar_hand_values_and_edge_cases():
    # b = 7, c = 2: (|7 - 2| - 1)^2 / 9 = 16/9; uncorrected 25/9; exact p = 2 * P(X <= 2 | 9, 1/2) = 2 * 46/512
    assert mcnemar_test([[10, 7], [2, 20]]).statistic == pytest.approx(16 / 9, abs=1e-12)
    assert mcnemar_test([[10, 7], [2, 20]], correction=False).statistic == pytest.approx(25 / 9, abs=1e-12)
    assert mcnemar_test([[10, 7], [2, 20]], method="exact").p == pytest.approx(2 * 46 / 512, abs=1e-12)
    undefined = mcnemar_test([[4, 0], [0, 3]])
    assert math.isnan(undefined.p) and undefined.test == "none"
    with pytest.raises(ValueError, match="2x2"):
        mcnemar_test([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match="method"):
        mcnemar_test([[1, 2], [3, 4]], method="midp")


def test_paired_table_leaves_out_pairs_with_a_missing_outcome():
    table = paired_table([1, 1, 0, 0, np.nan, 1], [1, 0, 1, 0, 1, np.nan])
    assert table.tolist() == [[1, 1], [1, 1]]


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_pair_stratified_logrank_matches_R_survdiff_strata(endpoint):
    time, event = DATA[f"{endpoint}_months"].to_numpy(float), DATA[f"{endpoint}_event"].to_numpy(int)
    plain = logrank_test(time, event, DATA["treatment"].to_numpy())
    stratified = logrank_test(time, event, DATA["treatment"].to_numpy(), strata=DATA["pair_id"].to_numpy())
    assert close(plain.chisq, ref(f"logrank_{endpoint}", "chisq")) and close(plain.p, ref(f"logrank_{endpoint}", "p"))
    assert close(stratified.chisq, ref(f"pair_logrank_{endpoint}", "chisq"))
    assert close(stratified.p, ref(f"pair_logrank_{endpoint}", "p"))


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_weighted_cox_matches_R_coxph_cluster_pair(endpoint, ties):
    row = cox_model(DATA, f"{endpoint}_months", f"{endpoint}_event", ["control_group"], ties=ties,
                    cluster_col="pair_id").table().iloc[0]
    analysis = f"cluster_cox_{endpoint}_{ties}"
    for column, statistic in (("coef", "coef"), ("se", "se"), ("naive_se", "naive_se"), ("hr", "hr"),
                              ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("p", "p")):
        assert close(float(row[column]), ref(analysis, statistic)), column


@pytest.fixture(scope="module")
def bundled():
    return paired.compute(build_study(read_cohort(COHORT), StudyConfig()))


def test_section_on_the_bundled_cohort_gives_R_numbers(bundled):
    """paired_data.csv holds the bundled cohort's matched pairs: the section reproduces R on them."""
    values = bundled.values
    assert values["sensitivity.paired_n_pairs"] == values["sensitivity.mcnemar_pairs"] == len(DATA) // 2 == 36
    for endpoint in ("os", "pfs"):
        assert close(values[f"sensitivity.pair_logrank_{endpoint}_p"], ref(f"pair_logrank_{endpoint}", "p"))
        assert close(values[f"sensitivity.unpaired_logrank_{endpoint}_p"], ref(f"logrank_{endpoint}", "p"))
        assert close(values[f"sensitivity.cluster_cox_{endpoint}_hr"], ref(f"cluster_cox_{endpoint}_efron", "hr"))
        assert close(values[f"sensitivity.cluster_cox_{endpoint}_hr_lo"], ref(f"cluster_cox_{endpoint}_efron", "ci_low"))
        assert close(values[f"sensitivity.cluster_cox_{endpoint}_p"], ref(f"cluster_cox_{endpoint}_efron", "p"))
        assert close(values[f"sensitivity.naive_cox_{endpoint}_se"], ref(f"cluster_cox_{endpoint}_efron", "naive_se"))
        # the point estimate is the same; only its variance changes
        assert values[f"sensitivity.naive_cox_{endpoint}_hr"] == values[f"sensitivity.cluster_cox_{endpoint}_hr"]
    for name in OUTCOMES:
        assert close(values[f"sensitivity.mcnemar_{name}_p"], ref(f"mcnemar_{name}", "p_corrected"))
        assert close(values[f"sensitivity.mcnemar_{name}_p_exact"], ref(f"mcnemar_{name}", "p_exact"))
        assert values[f"sensitivity.mcnemar_{name}_only_treatment"] == ref(f"mcnemar_{name}", "b")
    # the discordant pairs counted by hand in the fixture (disease control in one member of a pair only)
    dcr = DATA.pivot(index="pair_id", columns="treatment", values="dcr")
    assert values["sensitivity.mcnemar_dcr_only_treatment"] == int(((dcr[1] == 1) & (dcr[0] == 0)).sum())
    assert values["sensitivity.mcnemar_dcr_only_control"] == int(((dcr[1] == 0) & (dcr[0] == 1)).sum())


def test_table_fits_the_layout_rules(bundled):
    table = bundled.tables["paired"]
    html = table.to_html()
    assert "Log-rank test" in html and "McNemar" in html
    for row in table.rows:
        for cell in row.cells:
            for number in re.findall(r"\d+\.(\d+)", cell):
                assert len(number) <= 3, cell


def test_no_pairs_gives_not_estimable_with_the_same_ids(bundled):
    study = build_study(read_cohort(COHORT), StudyConfig().replace(**{"matching.caliper": 1e-7}))
    values = paired.compute(study).values
    assert set(values) == set(bundled.values)
    assert all(values.spec(k).status == "not estimable" and math.isnan(values[k]) for k in values)
    rows = paired.compute(study).tables["paired"].rows
    assert all(cell in ("", "not estimable") for row in rows for cell in row.cells)


def test_one_to_two_matching_keeps_only_one_to_one_sets_for_mcnemar():
    study = build_study(read_cohort(COHORT), StudyConfig().replace(**{"matching.ratio": 2}))
    values = paired.compute(study).values
    sets = study.matched.groupby("pair_id")["treatment"].agg(["size", "sum"])
    assert values["sensitivity.paired_n_pairs"] == len(sets)
    assert values["sensitivity.mcnemar_pairs"] == int(((sets["size"] == 2) & (sets["sum"] == 1)).sum())
    assert math.isfinite(values["sensitivity.pair_logrank_os_p"])
