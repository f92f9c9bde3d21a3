"""Independent double programming: the book's numbers recomputed in R and compared, id by id.

``hcc-study verify`` runs the R programs of ``verify/R`` (one per section of the article and the chapters beyond
it, written against the analysis table ``analysis.csv`` and the run's configuration, not against this package's
code) with the system's ``Rscript``, then compares every value of ``results.csv`` that R recomputes with a
tolerance per kind (:data:`TOLERANCES`). It writes ``verify.csv`` (id, Python value, R value, absolute and
relative difference, tolerance, verdict) and ``verify.json`` (the summary the book's Validation page shows) into
``OUT/verify/``, keyed by the checksum of the ``results.csv`` they verified, so that a page built from other results
says that verify has not run for them.

Like the scorecard, this compares results and lies beside the analysis (no analysis layer imports it). R is run
as a list of arguments (no shell), so the same code runs on Windows, macOS and Linux.
"""
from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hcc_utils.config import REPO_ROOT, as_config
from hcc_utils.data.variables import CONTROL_GROUP, analysis_columns
from hcc_utils.report.recorder import load_results
from hcc_utils.stats.resampling import replicate_seeds, stratified_resample
from hcc_utils.study.sections.safety import AE_SHORT
from hcc_utils.reproduction.verify_scope import uncovered_reason

__all__ = ["TOLERANCES", "RNotFound", "compare", "r_settings", "run_r", "verify_run", "verification_for"]

R_PROGRAMS = REPO_ROOT / "verify" / "R"
#: Largest number of bootstrap draws (patients x replicates) shared with R; beyond it the bootstrap is not
#: recomputed (its resamples would be a file of that many numbers).
MAX_SHARED_DRAWS = 5_000_000
#: Where ``hcc-study verify`` writes, inside the output folder (beside the published run, not inside it).
VERIFY_DIR = "verify"
#: (absolute, relative) tolerance of each kind of result: a value agrees when |Python - R| <= abs + rel * |R|.
#: Counts must be equal; percentages, times and quantities are arithmetic on the same data (rounding only);
#: statistics from iterative fits (Cox, logistic regression) or distributions agree to about 1e-9 relative, and
#: 1e-6 leaves room for their convergence criteria.
TOLERANCES = {
    "count": (0.0, 0.0),
    "percent": (1e-9, 1e-9),
    "months": (1e-9, 1e-9),
    "quantity": (1e-9, 1e-9),
    "ratio": (1e-10, 1e-6),
    "p": (1e-10, 1e-6),
    "statistic": (1e-10, 1e-6),
    "width": (1e-10, 1e-6),
}
INSTALL_HELP = """R (Rscript) with the packages survival and MatchIt is needed to verify a build:
  Windows: install R from https://cran.r-project.org/bin/windows/base/ (tick "add to PATH", or put
           C:\\Program Files\\R\\R-x.y.z\\bin on PATH), then in R: install.packages(c("survival", "MatchIt"))
  macOS:   brew install --cask r   (or the installer from https://cran.r-project.org/bin/macosx/), then in R:
           install.packages(c("survival", "MatchIt"))
  Linux:   Debian/Ubuntu: sudo apt-get install r-base-core r-cran-survival r-cran-matchit
           Fedora: sudo dnf install R-core R-survival, then in R: install.packages("MatchIt")"""


class RNotFound(RuntimeError):
    """``Rscript`` (or one of its packages) is missing; the message says how to install them."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def r_settings(config) -> dict[str, str]:
    """The run's configuration as the R programs read it (``settings.csv``: key, value; lists joined by ';', an
    empty value for null). Only settings, never a computed number."""
    config = as_config(config)
    columns = analysis_columns(config)

    def short(name: str) -> str:
        if name == CONTROL_GROUP:
            return "control"
        return columns[name].id_name if name in columns else name

    m, c, s = config.matching, config.cox, config.survival
    univariable = config.diagnostics.univariable
    return {
        "groups.treatment": config.groups.treatment, "groups.control": config.groups.control,
        "matching.covariates": ";".join(m.covariates), "matching.ratio": str(m.ratio),
        "matching.caliper": "" if m.caliper is None else repr(float(m.caliper)),
        "matching.caliper_scale": m.caliper_scale, "matching.order": m.order, "matching.compat": m.compat or "",
        "baseline.categorical_test": config.baseline.categorical_test,
        "baseline.continuous_test": config.baseline.continuous_test,
        "baseline.quantile_method": config.baseline.quantile_method,
        "cox.ties": c.ties, "cox.selection_p": repr(float(c.selection_p)),
        "cox.candidates": ";".join(c.candidates), "cox.forced": ";".join(c.forced),
        "cox.id_names": ";".join(short(name) for name in c.candidates),
        "diagnostics.regimen_models": str(config.diagnostics.regimen_models).lower(),
        "diagnostics.univariable": ";".join(c.candidates if univariable is None else univariable),
        "diagnostics.univariable_id_names": ";".join(short(n) for n in (c.candidates if univariable is None
                                                                        else univariable)),
        "diagnostics.multivariable": str(config.diagnostics.multivariable).lower(),
        "survival.followup_method": s.followup_method,
        "survival.risk_table_months": ";".join(f"{float(v):g}" for v in s.risk_table_months),
        "survival.min_subgroup_size": str(s.min_subgroup_size),
        "cutpoints.atebev_cycles_subgroup": f"{float(config.cutpoints.atebev_cycles_subgroup):g}",
        "significance_level": repr(float(config.significance_level)),
        "safety.terms": ";".join(AE_SHORT), "safety.id_names": ";".join(AE_SHORT.values()),
    }


def write_resamples(analysis_csv: Path, config, path: Path) -> bool:
    """Write the bootstrap's own resamples for R (one replicate a line: the 1-based rows of ``analysis.csv`` drawn
    within group, :func:`hcc_utils.stats.resampling.stratified_resample` with the replicate's seed), so that R
    recomputes everything after the draw. False (nothing written) when the draws would exceed
    :data:`MAX_SHARED_DRAWS`."""
    config = as_config(config)
    treatment = pd.read_csv(analysis_csv, usecols=["treatment"])["treatment"].to_numpy()
    replicates = config.bootstrap.replicates
    if treatment.size * replicates > MAX_SHARED_DRAWS:
        return False
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for seed in replicate_seeds(config.bootstrap.seed, replicates):
            out.write(" ".join(map(str, stratified_resample(treatment, seed) + 1)) + "\n")
    return True


def rscript() -> str:
    """The path of ``Rscript`` on PATH (``Rscript.exe`` on Windows), or raise :class:`RNotFound`."""
    found = shutil.which("Rscript")
    if found is None:
        raise RNotFound("Rscript was not found on PATH.\n" + INSTALL_HELP)
    return found


def run_r(analysis_csv: Path, config, workdir: Path) -> tuple[pd.DataFrame, dict[str, str], float]:
    """Run ``verify/R/run_all.R`` on an analysis table; the values by id, the notes and R's wall time (s)."""
    workdir.mkdir(parents=True, exist_ok=True)
    settings, values, notes = workdir / "settings.csv", workdir / "r_values.csv", workdir / "r_notes.csv"
    settings_map = r_settings(config)
    resamples = workdir / "bootstrap_resamples.txt"
    if write_resamples(analysis_csv, config, resamples):
        settings_map["bootstrap.resamples"] = str(resamples)
    pd.DataFrame(sorted(settings_map.items()), columns=["key", "value"]).to_csv(settings, index=False)
    command = [rscript(), "--vanilla", str(R_PROGRAMS / "run_all.R"), str(analysis_csv), str(settings), str(values),
               str(notes)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", errors="replace", check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        if "there is no package called" in done.stderr:
            raise RNotFound(f"an R package is missing:\n{tail}\n" + INSTALL_HELP)
        raise RuntimeError(f"the R programs stopped (exit status {done.returncode}):\n{tail}")
    r_values = pd.read_csv(values, dtype={"id": str}, keep_default_na=False)
    r_values["value"] = pd.to_numeric(r_values["value"].replace("NA", np.nan), errors="coerce")
    note_frame = pd.read_csv(notes, dtype=str, keep_default_na=False)
    return r_values, dict(zip(note_frame["key"], note_frame["value"])), seconds


@dataclass(frozen=True)
class Comparison:
    """``verify.csv`` (one row per numeric id of results.csv) and what R did not recompute."""

    table: pd.DataFrame

    @property
    def recomputed(self) -> pd.DataFrame:
        return self.table[self.table["verdict"] != "not recomputed"]

    @property
    def disagreeing(self) -> pd.DataFrame:
        return self.table[self.table["verdict"] == "disagree"]


def _agrees(python: float, r: float, kind: str) -> tuple[bool, float, float, float]:
    absolute, relative = TOLERANCES.get(kind, (1e-10, 1e-6))
    if math.isnan(python) or math.isnan(r):
        both = math.isnan(python) and math.isnan(r)
        return both, (0.0 if both else math.inf), (0.0 if both else math.inf), absolute
    diff = abs(python - r)
    tolerance = absolute + relative * abs(r)
    return diff <= tolerance, diff, diff / abs(r) if r != 0 else (0.0 if diff == 0 else math.inf), tolerance


def compare(results: pd.DataFrame, r_values: pd.DataFrame) -> Comparison:
    """Every numeric id of ``results`` (``load_results``) beside R's value: differences, tolerance and verdict
    (``agree``, ``disagree``, or ``not recomputed`` with the reason). Not reached and not estimable values are NaN
    on both sides and agree when both are."""
    numeric = results[results["kind"] != "list"]
    r_by_id = dict(zip(r_values["id"], r_values["value"]))
    rows = []
    for row in numeric.itertuples():
        python = float(row.value) if row.value not in ("", "NA") else math.nan
        if row.id not in r_by_id:
            rows.append((row.id, row.kind, python, math.nan, math.nan, math.nan, math.nan, "not recomputed",
                         uncovered_reason(row.id)))
            continue
        r = float(r_by_id[row.id])
        ok, diff, rel, tolerance = _agrees(python, r, row.kind)
        rows.append((row.id, row.kind, python, r, diff, rel, tolerance, "agree" if ok else "disagree", ""))
    table = pd.DataFrame(rows, columns=["id", "kind", "python", "r", "abs_diff", "rel_diff", "tolerance", "verdict",
                                        "reason"])
    return Comparison(table)


def family(result_id: str) -> str:
    """The family of a result id in the summary: its section, and for the chapters beyond the article (all
    ``sensitivity.``) the analysis (``sensitivity.zph``, ``sensitivity.rmst``, ``sensitivity.caliper`` ...)."""
    section, _, rest = result_id.partition(".")
    if section != "sensitivity":
        return section
    return f"{section}.{rest.split('_')[0]}"


def summarise(comparison: Comparison, notes: dict[str, str], results_sha: str, seconds: float) -> dict:
    """What ``verify.json`` keeps for the Validation page and the command's report."""
    table = comparison.table
    recomputed = comparison.recomputed
    largest = []
    for name, rows in recomputed.assign(family=recomputed["id"].map(family)).groupby("family", sort=True):
        # a disagreement first, else the value nearest its tolerance (a relative difference alone would pick an
        # SMD of 1e-15 beside 0)
        closeness = (rows["abs_diff"] / rows["tolerance"].clip(lower=np.finfo(float).tiny)).where(
            rows["verdict"] == "agree", np.inf).fillna(np.inf)
        top = rows.loc[closeness.sort_values(ascending=False, kind="stable").index].head(1)
        largest.append({"family": name, "recomputed": int(len(rows)), "agree": int((rows["verdict"] == "agree").sum()),
                        "id": str(top["id"].iloc[0]) if len(top) else "",
                        "abs_diff": float(top["abs_diff"].iloc[0]) if len(top) else 0.0,
                        "rel_diff": float(top["rel_diff"].iloc[0]) if len(top) else 0.0})
    missing = table[table["verdict"] == "not recomputed"]
    return {
        "results_sha256": results_sha, "numeric_ids": int(len(table)), "recomputed": int(len(recomputed)),
        "agree": int((recomputed["verdict"] == "agree").sum()), "disagree": int(len(comparison.disagreeing)),
        "families": largest,
        "not_recomputed": [{"reason": reason, "count": int(len(rows)), "ids": rows["id"].tolist()}
                           for reason, rows in missing.groupby("reason", sort=True)],
        "tolerances": {kind: {"abs": a, "rel": r} for kind, (a, r) in TOLERANCES.items()},
        "notes": notes, "r_seconds": round(seconds, 2),
    }


def verify_run(run_dir: Path, verify_dir: Path) -> dict:
    """Recompute a published run in R and compare it (``run_dir``: the run's folder with ``results.csv``,
    ``analysis.csv`` and ``manifest.json``). Writes ``verify.csv`` and ``verify.json`` into ``verify_dir`` and
    returns the summary.

    Raises
    ------
    RNotFound
        Rscript or one of its packages is missing.
    FileNotFoundError
        The run lacks one of its files.
    """
    run_dir, verify_dir = Path(run_dir), Path(verify_dir)
    for name in ("results.csv", "analysis.csv", "manifest.json"):
        if not (run_dir / name).is_file():
            raise FileNotFoundError(f"{run_dir / name} is missing: build the run again")
    config = as_config(json.loads((run_dir / "manifest.json").read_text(encoding="utf-8")).get("config"))
    with tempfile.TemporaryDirectory(prefix="hcc-verify-") as work:
        r_values, notes, seconds = run_r(run_dir / "analysis.csv", config, Path(work))
    comparison = compare(load_results(run_dir / "results.csv"), r_values)
    verify_dir.mkdir(parents=True, exist_ok=True)
    table = comparison.table.rename(columns={"python": "python_value", "r": "r_value"})
    table.to_csv(verify_dir / "verify.csv", index=False, float_format="%.17g")
    summary = summarise(comparison, notes, _sha256(run_dir / "results.csv"), seconds)
    (verify_dir / "verify.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return summary


def verification_for(run_dir: Path) -> dict | None:
    """The summary of ``hcc-study verify`` for the results of ``run_dir`` (a run's folder, published or being
    built, inside its output folder), or None when verify has not run on these very results."""
    run_dir = Path(run_dir)
    out_dir = run_dir.parent.parent if run_dir.parent.name == ".runs" else run_dir.parent
    summary_path, results = out_dir / VERIFY_DIR / "verify.json", run_dir / "results.csv"
    if not summary_path.is_file() or not results.is_file():
        return None
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    return summary if summary.get("results_sha256") == _sha256(results) else None


def report_text(summary: dict) -> str:
    """The command's report: coverage, agreement, the largest difference per family, what R did not recompute."""
    lines = [f"recomputed in R: {summary['recomputed']} of {summary['numeric_ids']} numeric results "
             f"({100 * summary['recomputed'] / max(summary['numeric_ids'], 1):.1f}%); agree: {summary['agree']}; "
             f"disagree: {summary['disagree']}",
             f"R: {summary['notes'].get('r_version', '?')}, survival {summary['notes'].get('survival_version', '?')}, "
             f"MatchIt {summary['notes'].get('matchit_version', '?')}; matching: "
             f"{summary['notes'].get('matching_engine', '?')}",
             f"matched sets differing from the build's: {summary['notes'].get('matched_sets_differing', '?')}; "
             f"largest difference of a propensity score: {summary['notes'].get('ps_max_abs_difference', '?')}"]
    if summary["notes"].get("matching_note"):
        lines.append(f"note: {summary['notes']['matching_note']}")
    lines.append("largest difference per family (relative, absolute):")
    lines += [f"  {f['family']:<28} {f['agree']}/{f['recomputed']} agree; {f['rel_diff']:.2e}, {f['abs_diff']:.2e}"
              f"{'  ' + f['id'] if f['id'] else ''}" for f in summary["families"]]
    for item in summary["not_recomputed"]:
        lines.append(f"not recomputed ({item['count']}): {item['reason']}")
    return "\n".join(lines)
