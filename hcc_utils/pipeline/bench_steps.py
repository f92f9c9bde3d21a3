"""The measured steps of ``hcc-study bench``, each run in a fresh Python (or R) process.

``python -m hcc_utils.pipeline.bench_steps STEP REQUEST_JSON`` does the step's preparation (reading the cohort,
loading the pickled study...), times only the step itself with ``time.perf_counter`` and prints one JSON line
``{"seconds": ...}``. The parent (:mod:`hcc_utils.pipeline.bench`) has a launcher read the process's peak RSS
(``getrusage(RUSAGE_CHILDREN)``), so each figure of memory is that of one process doing one step (preparation
included).

Steps ours: ``read``, ``validate``, ``derive``, ``match``, ``section:<module>``, ``analysis``, ``km_logrank``,
``cox``. Peers: ``lifelines:km_logrank``, ``lifelines:cox`` (when lifelines is importable) and the R script
:data:`R_SCRIPT` (``survfit`` + ``survdiff``, ``coxph``, ``MatchIt::matchit``). Preparation steps (not timed
rows): ``generate`` (the synthetic cohort as Parquet) and ``prepare`` (the pickled :class:`~hcc_utils.study.Study`
the section steps start from, and the survival/matching columns as Parquet and CSV for the kernels' peers).
The kernel functions below are small on purpose: swap them for ``benchmarks/bench_kernels.py``'s when shared.
"""
from __future__ import annotations

import json
import pickle
import sys
import time
from pathlib import Path

#: Columns of the kernels' frame: the survival endpoint, the Cox model's covariates and the matching's.
KERNEL_TIME, KERNEL_EVENT = "os_months", "os_event"
COX_COVARIATES = ("treatment", "age", "sex_male", "ecog")

#: R's side: survival (survfit + survdiff, coxph with Efron ties) and MatchIt (the study's matching: logistic
#: propensity model, logit distance, 0.2 SD caliper, largest first). Only the computation is timed, not reading.
R_SCRIPT = r"""
args <- commandArgs(TRUE)
d <- read.csv(args[1])
step <- args[2]
covariates <- strsplit(args[3], ",")[[1]]
if (step == "km_logrank") {
  suppressMessages(library(survival))
  took <- system.time({
    fit <- survfit(Surv(os_months, os_event) ~ treatment, data = d)
    test <- survdiff(Surv(os_months, os_event) ~ treatment, data = d)
  })[["elapsed"]]
} else if (step == "cox") {
  suppressMessages(library(survival))
  f <- as.formula(paste("Surv(os_months, os_event) ~", paste(covariates, collapse = " + ")))
  took <- system.time(coxph(f, data = d, ties = "efron"))[["elapsed"]]
} else if (step == "match") {
  suppressMessages(library(MatchIt))
  f <- as.formula(paste("treatment ~", paste(covariates, collapse = " + ")))
  took <- system.time(matchit(f, data = d, method = "nearest", distance = "glm", link = "linear.logit",
                              caliper = 0.2, std.caliper = TRUE, m.order = "largest", replace = FALSE))[["elapsed"]]
} else stop(paste("unknown step", step))
cat(sprintf('{"seconds": %.6f}\n', took))
"""


def _config(request: dict):
    from hcc_utils.config import load_config

    return load_config(request.get("config"), data=request["cohort"])


def _read(request: dict):
    from hcc_utils.data.readers import read_cohort

    return read_cohort(Path(request["cohort"]), config=_config(request))


def _timed(function, *args) -> float:
    began = time.perf_counter()
    function(*args)
    return time.perf_counter() - began


# ------------------------------------------------------------------------------------------ preparation
def generate(request: dict) -> float:
    """Write the synthetic cohort of ``request['rows']`` screened patients as Parquet (uncalibrated, as
    ``hcc-study synth --no-calibrate --scale rows/194``)."""
    from hcc_utils.config import load_config
    from hcc_utils.synthetic.generator import generate_cohort

    rows, target = int(request["rows"]), Path(request["cohort"])
    began = time.perf_counter()
    frame = generate_cohort(int(request["seed"]), config=load_config(), n_scale=rows / BASE_SCREENED)
    partial = target.with_name(target.name + ".partial")
    frame.to_parquet(partial, index=False)
    partial.replace(target)  # a cohort in the cache is always whole
    return time.perf_counter() - began


#: Screened patients of the article's cohort: the generator's ``n_scale=1``.
BASE_SCREENED = 194


def prepare(request: dict) -> float:
    """Pickle the study (read, validated, derived, matched) and write the kernels' columns (Parquet and CSV)."""
    from hcc_utils.study import build_study

    config = _config(request)
    raw = _read(request)
    began = time.perf_counter()
    study = build_study(raw, config, source_name=Path(request["cohort"]).name, validate=True)
    took = time.perf_counter() - began
    work = Path(request["work"])
    with (work / "study.pkl").open("wb") as handle:
        pickle.dump(study, handle, protocol=pickle.HIGHEST_PROTOCOL)
    columns = list(dict.fromkeys([KERNEL_TIME, KERNEL_EVENT, *COX_COVARIATES, *config.matching.covariates]))
    kernel = study.data[columns].dropna().astype(float)
    kernel.to_parquet(work / "kernel.parquet", index=False)
    kernel.to_csv(work / "kernel.csv", index=False)
    (work / "kernel.json").write_text(json.dumps({"rows": len(kernel), "enrolled": len(study.data),
                                                  "pairs": int(study.match_summary["pairs"]),
                                                  "matching_covariates": list(config.matching.covariates)}),
                                      encoding="utf-8")
    return took


# ------------------------------------------------------------------------------------------ ours
def read(request: dict) -> float:
    return _timed(_read, request)


def validate(request: dict) -> float:
    from hcc_utils.data.validate import validate_cohort

    raw, config = _read(request), _config(request)
    return _timed(validate_cohort, raw, Path(request["cohort"]).name, config)


def derive(request: dict) -> float:
    from hcc_utils.data.derive import analysis_table, cohort_flow

    raw, config = _read(request), _config(request)
    return _timed(lambda: (cohort_flow(raw, config), analysis_table(raw, config)))


def match(request: dict) -> float:
    from hcc_utils.data.derive import analysis_table
    from hcc_utils.study.matching import match_cohort

    raw, config = _read(request), _config(request)
    table = analysis_table(raw, config)
    return _timed(match_cohort, table, config)


def section(request: dict, name: str) -> float:
    from hcc_utils.study import SECTIONS

    module = {m.__name__.rsplit(".", 1)[-1]: m for m in SECTIONS}[name]
    with (Path(request["work"]) / "study.pkl").open("rb") as handle:
        study = pickle.load(handle)
    return _timed(module.compute, study)


def analysis(request: dict) -> float:
    """The whole analysis from the file: read, then ``compute_results(..., validate=True)``."""
    from hcc_utils.study import compute_results

    config = _config(request)
    return _timed(lambda: compute_results(_read(request), config, validate=True))


def _kernel_frame(request: dict):
    import pandas as pd

    return pd.read_parquet(Path(request["work"]) / "kernel.parquet")


def km_logrank(request: dict) -> float:
    """Kaplan-Meier of each group and the log-rank test (``stats.survival``), as the survival section does."""
    from hcc_utils.stats.survival import kaplan_meier, logrank_test

    d = _kernel_frame(request)
    t, e, g = d[KERNEL_TIME].to_numpy(), d[KERNEL_EVENT].to_numpy(), d["treatment"].to_numpy()

    def run():
        for level in (0.0, 1.0):
            kaplan_meier(t[g == level], e[g == level])
        logrank_test(t, e, g)
    return _timed(run)


def cox(request: dict) -> float:
    """A Cox model with Efron ties on the kernels' covariates (``stats.cox.cox_model``)."""
    from hcc_utils.stats.cox import cox_model

    d = _kernel_frame(request)
    return _timed(cox_model, d, KERNEL_TIME, KERNEL_EVENT, list(COX_COVARIATES))


# ------------------------------------------------------------------------------------------ lifelines
def lifelines_km_logrank(request: dict) -> float:
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test

    d = _kernel_frame(request)
    t, e, g = d[KERNEL_TIME].to_numpy(), d[KERNEL_EVENT].to_numpy(), d["treatment"].to_numpy()

    def run():
        for level in (0.0, 1.0):
            KaplanMeierFitter().fit(t[g == level], e[g == level])
        logrank_test(t[g == 0], t[g == 1], e[g == 0], e[g == 1])
    return _timed(run)


def lifelines_cox(request: dict) -> float:
    from lifelines import CoxPHFitter

    d = _kernel_frame(request)[[KERNEL_TIME, KERNEL_EVENT, *COX_COVARIATES]]
    return _timed(lambda: CoxPHFitter().fit(d, KERNEL_TIME, KERNEL_EVENT))


STEPS = {"generate": generate, "prepare": prepare, "read": read, "validate": validate, "derive": derive,
         "match": match, "analysis": analysis, "km_logrank": km_logrank, "cox": cox,
         "lifelines:km_logrank": lifelines_km_logrank, "lifelines:cox": lifelines_cox}


def run_step(step: str, request: dict) -> float:
    """Seconds of ``step`` (a key of :data:`STEPS` or ``section:<module>``)."""
    if step.startswith("section:"):
        return section(request, step.split(":", 1)[1])
    return STEPS[step](request)


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")  # a step's warnings (convergence, lifelines' notes) are not the bench's output
    seconds = run_step(sys.argv[1], json.loads(sys.argv[2]))
    print(json.dumps({"seconds": seconds}), flush=True)
