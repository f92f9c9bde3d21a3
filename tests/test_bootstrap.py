"""The pair bootstrap of the matched analysis: seeded per replicate, identical on joblib and Dask, failures counted."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from hcc_utils.config import REPO_ROOT, ConfigError, StudyConfig  # noqa: E402
from hcc_utils.data.readers import read_cohort  # noqa: E402
from hcc_utils.report.figures import bootstrap_alt_text, bootstrap_hr_figure  # noqa: E402
from hcc_utils.report.figures.style import DISPLAY_DPI, MIN_FONT_PT, figure_width_in  # noqa: E402
from hcc_utils.stats.resampling import percentile_interval, replicate_seeds, stratified_resample  # noqa: E402
from hcc_utils.study import build_study  # noqa: E402
from hcc_utils.study.bootstrap import (REPLICATE_COLUMNS, analysis_columns, bootstrap_matched,  # noqa: E402
                                       one_replicate, rematch_and_estimate)
from hcc_utils.study.sections import bootstrap as section  # noqa: E402
from hcc_utils.study.sections import survival  # noqa: E402

COHORT = REPO_ROOT / "data" / "synthetic_cohort.csv"


@pytest.fixture(scope="module")
def study():
    return build_study(read_cohort(COHORT), StudyConfig())


@pytest.fixture(scope="module")
def serial(study):
    return bootstrap_matched(study.data, study.config, replicates=12, n_jobs=1, progress=False)


def test_stratified_resample_keeps_group_sizes_draws_with_replacement_and_is_seeded():
    strata = np.array([1] * 40 + [0] * 86)
    seed = replicate_seeds(7, 3)[1]
    positions = stratified_resample(strata, seed)
    assert len(positions) == 126 and np.all(np.diff(positions) >= 0)
    assert (strata[positions] == 1).sum() == 40 and (strata[positions] == 0).sum() == 86
    assert len(np.unique(positions)) < 126  # with replacement: some patients drawn twice
    assert np.array_equal(positions, stratified_resample(strata, replicate_seeds(7, 3)[1]))
    assert not np.array_equal(positions, stratified_resample(strata, replicate_seeds(7, 3)[2]))
    # replicate i's stream does not depend on how many replicates were spawned
    assert np.array_equal(positions, stratified_resample(strata, replicate_seeds(7, 50)[1]))


def test_percentile_interval_is_R_quantile_type_7_by_hand():
    # R: quantile(1:100, c(0.025, 0.975)) = 3.475, 97.525 (type 7: 1 + 0.025 * 99)
    assert percentile_interval(np.arange(1, 101)) == pytest.approx((3.475, 97.525), abs=1e-12)
    assert percentile_interval([1.0, np.nan, 3.0], level=0.5) == pytest.approx((1.5, 2.5), abs=1e-12)
    assert all(math.isnan(v) for v in percentile_interval([np.nan, 2.0]))


def test_rematching_the_study_data_itself_gives_the_matched_estimates_of_table_3(study):
    row = rematch_and_estimate(study.data[analysis_columns(study.config)], study.config)
    values = survival.survival_results(study)
    assert row["status"] == "ok" and row["pairs"] == study.match_summary["pairs"] == 36
    assert row["pfs_hr"] == pytest.approx(values["survival.pfs_hr_matched"], rel=1e-12)
    assert row["os_hr"] == pytest.approx(values["survival.os_hr_matched"], rel=1e-12)
    assert row["pfs_median_diff"] == pytest.approx(
        values["survival.pfs_median_treatment_matched"] - values["survival.pfs_median_control_matched"], abs=1e-12)
    assert row["os_median_diff"] == pytest.approx(
        values["survival.os_median_treatment_matched"] - values["survival.os_median_control_matched"], abs=1e-12)


def test_replicates_are_seeded_per_replicate_whatever_the_chunking(study, serial):
    assert list(serial.replicates.columns) == REPLICATE_COLUMNS
    assert serial.replicates["replicate"].tolist() == list(range(12))
    rechunked = bootstrap_matched(study.data, study.config, replicates=12, n_jobs=1, chunk_size=5, progress=False)
    pd.testing.assert_frame_equal(serial.replicates, rechunked.replicates)
    seeds = replicate_seeds(study.config.bootstrap.seed, 12)
    alone = one_replicate(study.data[analysis_columns(study.config)], study.config, 7, seeds[7])
    assert alone == pytest.approx(serial.replicates.iloc[7].to_dict(), nan_ok=True)
    # the first replicates of a larger run are the same replicates
    longer = bootstrap_matched(study.data, study.config, replicates=15, n_jobs=1, progress=False)
    pd.testing.assert_frame_equal(serial.replicates, longer.replicates.iloc[:12])
    # real numbers: the replicates' HRs vary around the matched estimate
    ok = serial.ok
    assert len(ok) >= 10 and ok["pfs_hr"].between(0.5, 10).all() and ok["pfs_hr"].nunique() == len(ok)
    assert ok["pairs"].between(20, 40).all()


def test_dask_local_cluster_and_joblib_give_identical_replicates(study, serial):
    distributed = pytest.importorskip("distributed")
    local = bootstrap_matched(study.data, study.config, replicates=12, n_jobs=2, chunk_size=2, progress=False)
    pd.testing.assert_frame_equal(serial.replicates, local.replicates)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) \
            as cluster:
        lines = []
        on_dask = bootstrap_matched(study.data, study.config, replicates=12, scheduler=cluster.scheduler_address,
                                    chunk_size=2, progress=lines.append)
    assert on_dask.backend.startswith("dask tcp://")
    pd.testing.assert_frame_equal(serial.replicates, on_dask.replicates)
    assert len(lines) == 6 and lines[-1].startswith("bootstrap (dask tcp://") and "12/12 replicates (100%)" in lines[-1]


def test_progress_is_reported_about_every_tenth(study):
    lines = []
    bootstrap_matched(study.data, study.config, replicates=20, n_jobs=1, chunk_size=1, progress=lines.append)
    assert len(lines) == 10
    assert [line.split(": ")[1].split(" ")[0] for line in lines] == [f"{2 * k}/20" for k in range(1, 11)]


def test_failed_replicates_are_counted_with_their_reason_not_dropped(study):
    no_pairs = StudyConfig().replace(**{"matching.caliper": 1e-7})
    result = bootstrap_matched(study.data, no_pairs, replicates=6, n_jobs=1, progress=False)
    assert result.n == 6 and result.failed == 6 and len(result.replicates) == 6
    assert set(result.failures()) <= {"fewer than two matched patients in a group",
                                      "propensity model: complete separation"}
    assert sum(result.failures().values()) == 6
    assert all(math.isnan(v) for v in result.interval("pfs_hr"))


def test_section_registers_its_numbers_and_builds_its_table_and_figure(study):
    result = section.compute(study, replicates=30, n_jobs=1, progress=False)
    values = result.values
    boot = result.inputs["bootstrap"]
    assert values["sensitivity.boot_replicates"] == 30
    assert values["sensitivity.boot_failed"] + values["sensitivity.boot_used"] == 30
    assert values["sensitivity.boot_failed"] == boot.failed
    matched = survival.survival_results(study)  # the point estimate is the matched Cox HR of Table 3's cohort
    assert values["sensitivity.boot_pfs_hr"] == pytest.approx(matched["survival.pfs_hr_matched"], rel=1e-9)
    assert values["sensitivity.boot_os_hr"] == pytest.approx(matched["survival.os_hr_matched"], rel=1e-9)
    for endpoint in ("pfs", "os"):
        stem = f"sensitivity.boot_{endpoint}"
        hr = boot.ok[f"{endpoint}_hr"].to_numpy(float)
        assert (values[f"{stem}_hr_lo"], values[f"{stem}_hr_hi"]) == pytest.approx(
            tuple(np.quantile(hr, [0.025, 0.975])), rel=1e-12)
        assert values[f"{stem}_hr_lo"] < values[f"{stem}_hr_median"] < values[f"{stem}_hr_hi"]
        assert values[f"{stem}_hr_above_1"] == pytest.approx(100 * np.mean(hr > 1), abs=1e-12)
    wald = survival.survival_results(study)
    for endpoint in ("pfs", "os"):
        assert values[f"sensitivity.boot_{endpoint}_hr_wald_lo"] == pytest.approx(
            wald[f"survival.{endpoint}_hr_lo_matched"], rel=1e-12)
        assert values[f"sensitivity.boot_{endpoint}_hr_wald_hi"] == pytest.approx(
            wald[f"survival.{endpoint}_hr_hi_matched"], rel=1e-12)
    table = result.tables["boot_matched_estimates"]
    assert [row.label for row in table.rows][:2] == ["HR", "Median difference, months"]
    assert table.rows[0].group == "Progression-free survival" and table.rows[0].cells[0] == f"{values['sensitivity.boot_pfs_hr']:.3f}"
    assert table.rows[-1].label.startswith("Failed: ")
    assert sum(int(row.cells[-1]) for row in table.rows if row.label.startswith("Failed: ")) == boot.failed
    fig = bootstrap_hr_figure(boot.replicates, values, study.control, study.treatment)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["A  Progression-free survival", "B  Overall survival"]
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]
    assert min(sizes) >= MIN_FONT_PT
    assert figure_width_in(fig) * DISPLAY_DPI / 768 <= 1.3  # shrunk at most 1.3x in the book's image column
    plt.close(fig)
    alt = bootstrap_alt_text(values, study.control, study.treatment)
    assert alt.startswith(f"Histograms of the hazard ratios of sorafenib versus lenvatinib in {boot.n - boot.failed} ")
    assert f"hazard ratio {values['sensitivity.boot_pfs_hr']:.3f}" in alt
    assert f"hazard ratio {values['sensitivity.boot_os_hr']:.3f}" in alt


def test_section_on_a_cohort_without_pairs_says_not_estimable():
    odd = build_study(read_cohort(COHORT), StudyConfig().replace(**{"matching.caliper": 1e-7}))
    result = section.compute(odd, replicates=4, n_jobs=1, progress=False)
    assert result.values["sensitivity.boot_failed"] == 4
    for key in ("sensitivity.boot_pfs_hr", "sensitivity.boot_pfs_hr_lo", "sensitivity.boot_os_hr_wald_hi",
                "sensitivity.boot_os_median_diff_hi"):
        assert math.isnan(result.values[key]), key
    fig = bootstrap_hr_figure(result.inputs["replicates"], result.values, odd.control, odd.treatment)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts == ["Not estimable: fewer than two analysed replicates"] * 2
    plt.close(fig)
    cells = [cell for row in result.tables["boot_matched_estimates"].rows for cell in row.cells]
    assert "NA" in cells and "not estimable" in " ".join(cells)


def test_scheduler_key_is_an_address_and_does_not_change_the_cache_key():
    with pytest.raises(ConfigError, match="tcp://host:8786"):
        StudyConfig().replace(**{"bootstrap.scheduler": "localhost"})
    config = StudyConfig().replace(**{"bootstrap.scheduler": "tcp://10.0.0.1:8786", "bootstrap.n_jobs": 2})
    assert config.results_dict() == StudyConfig().results_dict()
    assert "scheduler" not in config.results_dict()["bootstrap"]
    assert config.results_dict()["bootstrap"]["replicates"] == 999
    from hcc_utils.pipeline.runner import NotebookTask, cache_key

    task = NotebookTask("notebooks/13_bootstrap.ipynb", 1)
    assert cache_key(task, REPO_ROOT, "data", config, "code") == cache_key(task, REPO_ROOT, "data", StudyConfig(), "code")
    fewer = StudyConfig().replace(**{"bootstrap.replicates": 99})
    assert cache_key(task, REPO_ROOT, "data", fewer, "code") != cache_key(task, REPO_ROOT, "data", StudyConfig(), "code")


def test_cli_scheduler_flag_reaches_the_runner(monkeypatch, tmp_path):
    from hcc_utils.pipeline import cli, runner

    seen = {}

    def fake_run_study(config, out, **kwargs):
        seen["config"] = config
        raise runner.StudyRunError("stopped by the test")

    monkeypatch.setattr(runner, "run_study", fake_run_study)
    status = cli.main(["build", "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:8786"])
    assert status == 1 and seen["config"].bootstrap.scheduler == "tcp://127.0.0.1:8786"
    assert cli.main(["build", "--out", str(tmp_path / "out"), "--scheduler", "nowhere"]) == 2
