"""Independent double programming: `hcc-study verify` recomputes a build in R (verify/R) and compares it by id.

The R tests need ``Rscript`` with survival and MatchIt; they skip without it, except in CI (``CI`` set), where
``.ci/run`` installs R and they must run.
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import bundled_book, published  # noqa: F401 (the session's build of the bundled cohort)
from hcc_utils.config import REPO_ROOT, load_config
from hcc_utils.pipeline.cli import main
from hcc_utils.reproduction.verify import TOLERANCES, compare, r_settings, verification_for

REF = Path(__file__).parent / "reference"
HAVE_R = shutil.which("Rscript") is not None
needs_r = pytest.mark.skipif(not HAVE_R and not os.environ.get("CI"), reason="Rscript is not installed")


def _results(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id", "value", "status", "kind", "unit", "section", "label"]).astype(str)


def test_compare_agrees_within_the_tolerance_of_each_kind_and_flags_a_perturbed_value():
    results = _results([("a.count", "12", "ok", "count", "", "s", ""), ("a.p", "0.0123", "ok", "p", "", "s", ""),
                        ("a.hr", "1.5", "ok", "ratio", "", "s", ""), ("a.nr", "NA", "not reached", "months", "", "s", ""),
                        ("a.list", "x;y", "ok", "list", "", "s", ""), ("a.gone", "3", "ok", "count", "", "s", "")])
    r = pd.DataFrame({"id": ["a.count", "a.p", "a.hr", "a.nr"], "value": [12.0, 0.0123 * (1 + 1e-9), 1.5, math.nan]})
    table = compare(results, r).table.set_index("id")
    assert "a.list" not in table.index                                    # lists are not numbers
    assert table.loc[["a.count", "a.p", "a.hr", "a.nr"], "verdict"].tolist() == ["agree"] * 4
    assert table.loc["a.gone", "verdict"] == "not recomputed"
    # the injected defect: one value off by more than its kind's tolerance
    for result_id, perturbed in (("a.count", 13.0), ("a.p", 0.0123 * (1 + 1e-5)), ("a.nr", 9.5)):
        changed = r.assign(value=[perturbed if i == result_id else v for i, v in zip(r["id"], r["value"])])
        assert compare(results, changed).table.set_index("id").loc[result_id, "verdict"] == "disagree", result_id
    assert TOLERANCES["count"] == (0.0, 0.0)


def test_r_settings_carry_the_configured_lists_and_the_ids_short_names():
    settings = r_settings(load_config())
    assert settings["matching.covariates"].split(";")[0] == "age"
    assert settings["matching.caliper"] == "0.2" and settings["matching.compat"] == ""
    candidates, short = settings["cox.candidates"].split(";"), settings["cox.id_names"].split(";")
    assert dict(zip(candidates, short))["ecog_2"] == "ecog2" and dict(zip(candidates, short))["control_group"] == "control"


def _copy_run(source: Path, out: Path) -> Path:
    """A published run in the folder layout (OUT/current) holding the three files verify reads."""
    run = out / "current"
    run.mkdir(parents=True)
    for name in ("results.csv", "analysis.csv", "manifest.json"):
        shutil.copy2(source / name, run / name)
    return run


@needs_r
def test_verify_agrees_on_the_bundled_build_and_exits_1_when_one_python_value_is_perturbed(bundled_book, tmp_path,
                                                                                            capsys):
    run = _copy_run(published(bundled_book), tmp_path / "out")
    assert main(["verify", "--out", str(tmp_path / "out"), "--no-book"]) == 0
    summary = verification_for(run)
    assert summary is not None and summary["disagree"] == 0
    assert summary["recomputed"] >= 0.9 * summary["numeric_ids"]
    table = pd.read_csv(tmp_path / "out" / "verify" / "verify.csv", keep_default_na=False)
    assert set(table["verdict"]) == {"agree", "not recomputed"}
    assert (table.loc[table["verdict"] == "not recomputed", "reason"] != "").all()   # each with its reason
    # the injected defect: one Python value moved by 1e-4 (relative)
    results = pd.read_csv(run / "results.csv", dtype=str, keep_default_na=False)
    target = results["id"] == "survival.os_median_treatment"
    results.loc[target, "value"] = repr(float(results.loc[target, "value"].iloc[0]) * (1 + 1e-4))
    results.to_csv(run / "results.csv", index=False)
    capsys.readouterr()
    assert main(["verify", "--out", str(tmp_path / "out"), "--no-book"]) == 1
    assert "disagree: 1" in capsys.readouterr().out
    table = pd.read_csv(tmp_path / "out" / "verify" / "verify.csv", keep_default_na=False).set_index("id")
    assert table.loc["survival.os_median_treatment", "verdict"] == "disagree"
    assert (table["verdict"] == "disagree").sum() == 1


def test_verify_without_rscript_exits_2_and_says_how_to_install_r(bundled_book, tmp_path, monkeypatch, capsys):
    _copy_run(published(bundled_book), tmp_path / "out")
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    assert main(["verify", "--out", str(tmp_path / "out"), "--no-book"]) == 2
    err = capsys.readouterr().err
    assert "Rscript was not found" in err and "install.packages" in err and "apt-get install r-base-core" in err
    assert "Traceback" not in err


def test_verification_for_is_none_for_other_results(tmp_path):
    run = tmp_path / "out" / ".runs" / "r1"
    run.mkdir(parents=True)
    (run / "results.csv").write_text("id,value\n", encoding="utf-8")
    assert verification_for(run) is None                                   # verify never ran
    (tmp_path / "out" / "verify").mkdir()
    (tmp_path / "out" / "verify" / "verify.json").write_text('{"results_sha256": "other"}', encoding="utf-8")
    assert verification_for(run) is None                                   # it ran on other results


@needs_r
def test_r_greedy_matching_gives_the_pairs_of_matchit_built_with_a_floating_point_abs(tmp_path):
    # the base-R matcher of verify/R/03_matching.R against MatchIt 4.5.1 rebuilt with a float abs()
    # (tests/reference/matching_reference.R), on every 1:1 setting of the fixture: ties, orders, calipers
    script = tmp_path / "pairs.R"
    script.write_text(f"""
source(file.path("{(REPO_ROOT / 'verify' / 'R').as_posix()}", "common.R"))
source(file.path("{(REPO_ROOT / 'verify' / 'R').as_posix()}", "03_matching.R"))
d <- read.csv("{(REF / 'matching_data.csv').as_posix()}", stringsAsFactors = FALSE)
s <- read.csv("{(REF / 'matching_settings.csv').as_posix()}", stringsAsFactors = FALSE)
s <- s[s$ratio == 1, ]
out <- do.call(rbind, lapply(seq_len(nrow(s)), function(i) {{
  p <- d[[s$score[i]]]; dist <- if (s$scale[i] == "logit") log(p / (1 - p)) else p
  width <- if (is.na(s$caliper[i])) NA else s$caliper[i] * sd(dist)
  mm <- greedy_match(dist, d$treatment, 1L, width, s$order[i])
  data.frame(setting = s$setting[i], treated_id = d$patient_id[d$treatment == 1],
             control_id = ifelse(is.na(mm[, 1]), "", d$patient_id[mm[, 1]]))
}}))
cat("integer_abs_defect", matchit_has_integer_abs(), "\\n")
write.csv(out, "{(tmp_path / 'pairs.csv').as_posix()}", row.names = FALSE)
""", encoding="utf-8")
    done = subprocess.run(["Rscript", "--vanilla", str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    mine = pd.read_csv(tmp_path / "pairs.csv", keep_default_na=False)
    fixed = pd.read_csv(REF / "matching_pairs_fixed.csv", keep_default_na=False)
    merged = mine.merge(fixed[fixed["slot"] == 1], on=["setting", "treated_id"], suffixes=("_r", "_matchit"))
    assert len(merged) == len(mine) > 0
    assert (merged["control_id_r"] == merged["control_id_matchit"]).all()


def test_validation_page_says_plainly_whether_verify_has_run_for_this_build(bundled_book):
    # the session's build was never verified (a prebuilt book, HCC_STUDY_TEST_BOOK, may have been)
    html = (published(bundled_book) / "html" / "book" / "validation.html").read_text(encoding="utf-8")
    verified = verification_for(published(bundled_book))
    assert ("Verify has not run for this build" in html) == (verified is None)
    assert ("R recomputed" in html) == (verified is not None)


def test_validation_texts_state_the_agreement_versions_and_pairs():
    from hcc_utils.reproduction.verify_page import family_table, status_text, uncovered_table, versions_text

    summary = {"recomputed": 9, "numeric_ids": 10, "disagree": 0, "agree": 9,
               "notes": {"r_version": "R version 4.2.2", "survival_version": "3.5.3", "matchit_version": "4.5.1",
                         "matching_engine": "MatchIt 4.5.1", "matched_sets_differing": "0",
                         "ps_max_abs_difference": "4.44089209850063e-16", "matching_note": ""},
               "families": [{"family": "survival", "recomputed": 9, "agree": 9, "id": "survival.os_n", "abs_diff": 0.0,
                             "rel_diff": 0.0}],
               "not_recomputed": [{"reason": "the bootstrap", "count": 1, "ids": ["sensitivity.boot_used"]}]}
    assert status_text(summary).startswith("R recomputed 9 of the 10 numbers") and "every one agrees" in status_text(summary)
    assert "1 disagree" in status_text({**summary, "disagree": 1})
    assert "survival 3.5.3" in versions_text(summary) and "0 matched sets differ" in versions_text(summary)
    assert "differ by at most 4.4e-16." in versions_text(summary)  # as a reader reads it, not R's 15 digits
    assert family_table(summary).rows[0].cells[:2] == ("9", "9")
    assert uncovered_table(summary).rows[0].label == "the bootstrap"
