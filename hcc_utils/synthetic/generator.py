"""Seeded generator of the bundled SYNTHETIC screened cohort.

The article's patient-level data are not public. The project therefore ships a synthetic cohort
(``data/synthetic_cohort.csv``) that has the canonical schema of ``data/data_dictionary.yml`` (one row per
*screened* patient) and is built so that the project's own analysis of it reproduces the numbers the article
reports. It contains no real patient.

How the cohort is built (for trainees)
--------------------------------------
The generator works in four layers, each deterministic given the seed (one :class:`numpy.random.Generator`):

1. **Flow.** The screened patients are split into the flow-diagram boxes with the article's counts (died on
   first line, deteriorated on first line, deteriorated after stopping, regorafenib, 5-FU, lenvatinib,
   sorafenib). The counts are read from ``data/targets.csv``; ``n_scale`` multiplies every box.
2. **Covariates with exact counts.** Where the article gives a count (111 men, 92 viral, 109 BCLC C,
   Child-Pugh A 37/40 and 54/86, age median 63 (IQR 55-70), ATE+BEV cycle medians and IQRs by group) the
   generator does not *sample* the count, it *places* it: exactly k of n patients get the attribute, and
   order statistics are pinned so that the SAS PCTLDEF=5 quantiles equal the published ones. Where the article
   is silent the values are drawn from the documented, clinically plausible :data:`ASSUMPTIONS`.
3. **Propensity-aware outcomes.** A few lenvatinib patients are given an extreme (young, very large tumour)
   profile so that the article's 1:1 caliper matching leaves exactly 4 of 40 unmatched (36 pairs). The
   generator runs the project's own matching (:mod:`hcc_utils.stats.matching`) and then builds the outcomes of each
   subset (group x matched) separately, because the article reports survival, responses and events for the
   whole cohort *and* for the matched cohort.
4. **Outcomes.** Progression-free and overall survival are drawn from Weibull models whose linear predictor
   contains the published prognostic factors, censored, and then the time axis of each group is transformed
   by a monotone piecewise-linear map so that the Kaplan-Meier quartiles equal the published ones (a monotone
   map of time leaves the order of events, hence the Kaplan-Meier steps, unchanged). Responses follow the PFS
   rank within a subset; adverse events are placed term by term with exact counts. Finally dates are
   produced from the times (months = days / 30.4375).

What construction alone cannot hit (log-rank and Cox p-values, hazard ratios, matched-cohort quartiles ...)
is tuned afterwards by :mod:`hcc_utils.synthetic.calibrate`, a seeded search that only *permutes or nudges* patient
values. ``generate_cohort`` itself is fast and vectorised: 10^6 rows take seconds.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hcc_utils.config import StudyConfig
from hcc_utils.config.checksums import file_sha256
from hcc_utils.synthetic.adverse_events import adverse_events
from hcc_utils.synthetic.assumptions import ASSUMPTIONS, assumptions_table
from hcc_utils.synthetic.calibrate import calibrate_cohort
from hcc_utils.synthetic.covariates import (enrolled_covariates, matched_membership, matching_frame,
                                            other_covariates, repair_matching)
from hcc_utils.synthetic.outcomes import responses, survival_outcomes, third_line
from hcc_utils.synthetic.plan import (AE_TERMS, DATA_CUTOFF, DAYS_PER_MONTH, FIRST_START, LAST_START, TARGETS_PATH,
                                      load_target_values, plan_counts, study_settings)

__all__ = [
    "ASSUMPTIONS",
    "AE_TERMS",
    "assumptions_table",
    "DATA_CUTOFF",
    "generate_cohort",
    "load_target_values",
    "matched_membership",
    "matching_frame",
    "plan_counts",
    "write_synthetic_cohort",
    "checksum_path",
    "checksum_problem",
    "file_sha256",
    "record_checksum",
    "recorded_checksum",
    "to_csv_bytes",
    "TARGETS_PATH",
    "DAYS_PER_MONTH",
    "FIRST_START",
]


# ----------------------------------------------------------------------------------------------------------------
# Dates and assembly
# ----------------------------------------------------------------------------------------------------------------
def _dates(rng: np.random.Generator, os_days: np.ndarray, os_event: np.ndarray) -> np.ndarray:
    """Second-line start dates (as day offsets from FIRST_START) compatible with follow-up and the cut-off."""
    span_hi = (LAST_START - FIRST_START).days
    cutoff = (DATA_CUTOFF - FIRST_START).days
    latest = np.minimum(span_hi, cutoff - os_days)
    latest = np.maximum(latest, 0)
    u = rng.uniform(size=os_days.size)
    start = np.floor(u * (latest + 1)).astype(int)
    # censored patients: administratively censored at the cut-off when the window allows it
    admin = (os_event == 0) & (cutoff - os_days >= 0) & (cutoff - os_days <= span_hi) & (rng.uniform(size=os_days.size) < 0.7)
    start = np.where(admin, cutoff - os_days, start)
    return start


def _fmt_date(offsets: np.ndarray, valid: np.ndarray) -> np.ndarray:
    d = (np.datetime64(FIRST_START.date()) + offsets.astype("timedelta64[D]")).astype(str)
    return np.where(valid, d, "")


COLUMNS = [
    "patient_id", "centre", "first_line_end_reason", "deteriorated_after_first_line", "second_line_regimen",
    "second_line_start_date", "age", "sex", "ecog", "body_weight_kg", "etiology", "child_pugh_score", "bclc_stage",
    "tumor_number", "tumor_size_cm", "lymph_node_metastasis", "extrahepatic_metastasis", "macrovascular_invasion",
    "afp_ng_ml", "pivka_mau_ml", "atebev_cycles", "best_response_recist", "best_response_mrecist",
    "progression_date", "death_date", "last_followup_date", "data_cutoff_date", "third_line_regimen",
    "ae_led_to_discontinuation", *[f"ae_{t}" for t in AE_TERMS],
]


def generate_cohort(seed: int, config: StudyConfig | dict | None = None, n_scale: float = 1.0, *, return_internal: bool = False):
    """Generate the synthetic screened cohort (one row per screened patient, canonical schema).

    Parameters
    ----------
    seed : int
        Seed of the single :class:`numpy.random.Generator`; the same seed gives the same table byte for byte.
    config : dict, optional
        Study configuration (groups, matching). The bundled ``study.yml`` by default.
    n_scale : float
        Multiplies every flow count (0.5 = half-sized cohort, 1000 = about 194,000 rows). Exact published counts
        and quantiles hold for ``n_scale = 1``; other sizes keep the proportions.
    return_internal : bool
        Also return the internal per-patient table (times in days, matched flag) used by the calibration.

    Returns
    -------
    pandas.DataFrame
        Columns in dictionary order, values as text-friendly scalars (dates ISO strings, booleans 0/1, empty
        where not applicable). With ``return_internal``, a tuple ``(cohort, internal)``.
    """
    settings = study_settings(config)
    cfg = settings.config
    rng = np.random.default_rng(seed)
    t = load_target_values()
    plan = plan_counts(n_scale, t)
    flow = plan["flow"]

    enr = enrolled_covariates(rng, plan, t)
    enr["patient_id"] = [f"tmp{i}" for i in range(len(enr))]
    if (settings.treatment, settings.control) != ("lenvatinib", "sorafenib"):
        enr["matched"] = 1
    else:
        enr["matched"] = repair_matching(rng, enr, cfg, plan["n_outliers"], max_iter=80 if n_scale == 1 else 5)
    surv = survival_outcomes(rng, enr, t, n_scale)
    enr = pd.concat([enr, surv], axis=1)
    rec, mrec = responses(rng, enr, t)
    enr["best_response_recist"] = rec
    enr["best_response_mrecist"] = mrec
    enr["third_line_regimen"] = third_line(rng, enr)
    enr = pd.concat([enr, adverse_events(rng, enr, t)], axis=1)

    # other second-line regimens: covariates and survival only
    n_oth = flow["regorafenib"] + flow["fluorouracil"]
    oth = other_covariates(rng, n_oth, ["regorafenib"] * flow["regorafenib"] + ["fluorouracil"] * flow["fluorouracil"])
    oth_os = np.clip(np.floor(np.exp(rng.normal(np.log(6.0), 0.8, n_oth)) * DAYS_PER_MONTH), 14, 1100).astype(int)
    oth_ev = (rng.uniform(size=n_oth) < 0.7).astype(int)
    oth_pfs = np.maximum(7, np.floor(oth_os * rng.uniform(0.2, 0.8, n_oth))).astype(int)
    oth = oth.assign(os_days=oth_os, os_event=oth_ev, pfs_days=oth_pfs, pfs_event=1, progressed=1, matched=0)

    second = pd.concat([enr, oth], ignore_index=True)
    start = _dates(rng, second["os_days"].to_numpy(), second["os_event"].to_numpy())
    valid = np.ones(len(second), dtype=bool)
    second["second_line_start_date"] = _fmt_date(start, valid)
    second["last_followup_date"] = _fmt_date(start + second["os_days"].to_numpy(), valid)
    second["death_date"] = _fmt_date(start + second["os_days"].to_numpy(), second["os_event"].to_numpy() == 1)
    second["progression_date"] = _fmt_date(start + second["pfs_days"].to_numpy(), second["progressed"].to_numpy() == 1)
    second["first_line_end_reason"] = "progression"
    second["deteriorated_after_first_line"] = "0"

    # patients without second-line therapy
    n_no = flow["death"] + flow["deterioration"] + flow["deteriorated_after"]
    none = pd.DataFrame({
        "first_line_end_reason": ["death"] * flow["death"] + ["deterioration"] * flow["deterioration"]
        + ["progression"] * flow["deteriorated_after"],
        "deteriorated_after_first_line": [""] * (flow["death"] + flow["deterioration"]) + ["1"] * flow["deteriorated_after"],
        "second_line_regimen": "none",
        "atebev_cycles": rng.integers(1, 9, n_no),
    })
    allp = pd.concat([second, none], ignore_index=True)
    n_all = len(allp)
    order = rng.permutation(n_all)
    allp = allp.iloc[order].reset_index(drop=True)
    allp["patient_id"] = [f"SYN{i + 1:05d}" if n_all < 100000 else f"SYN{i + 1:07d}" for i in range(n_all)]
    allp["centre"] = np.where(rng.uniform(size=n_all) < 0.6, "synthetic-1", "synthetic-2")
    allp["data_cutoff_date"] = str(DATA_CUTOFF.date())
    internal = allp.copy()

    out = pd.DataFrame(index=allp.index)
    for col in COLUMNS:
        out[col] = allp[col] if col in allp else ""
    int_cols = ["ecog", "child_pugh_score", "tumor_number", "atebev_cycles", "lymph_node_metastasis",
                "extrahepatic_metastasis", "macrovascular_invasion", "ae_led_to_discontinuation",
                *[f"ae_{t}" for t in AE_TERMS]]
    for col in int_cols:
        out[col] = out[col].astype("Int64")
    out["age"] = out["age"].astype("Int64")
    for col in ("best_response_recist", "best_response_mrecist", "third_line_regimen"):
        out[col] = out[col].fillna("")
    if return_internal:
        return out, internal
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """Canonical CSV serialisation (LF line ends, no index, empty cells for missing)."""
    return df.to_csv(index=False, lineterminator="\n", na_rep="").encode("utf-8")


#: Suffix of the file beside a calibrated cohort that records its SHA-256 (``sha256sum``'s format), committed with it.
CHECKSUM_SUFFIX = ".sha256"


def checksum_path(path: str | Path) -> Path:
    """The checksum file recorded beside a cohort file (``data/synthetic_cohort.csv.sha256``)."""
    path = Path(path)
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def record_checksum(path: str | Path) -> Path:
    """Write the SHA-256 of ``path`` beside it, as ``sha256sum`` writes it (``<hex>  <name>``, one line)."""
    path = Path(path)
    target = checksum_path(path)
    target.write_text(f"{file_sha256(path)}  {path.name}\n", encoding="utf-8", newline="\n")
    return target


def recorded_checksum(path: str | Path) -> str | None:
    """The SHA-256 recorded beside ``path`` (its first field), or None without a checksum file."""
    target = checksum_path(path)
    if not target.is_file():
        return None
    fields = target.read_text(encoding="utf-8").split()
    return fields[0] if fields else ""


def checksum_problem(path: str | Path, expected: str | None = None) -> str | None:
    """Why the bytes of ``path`` are not the recorded ones (None when they are).

    ``expected`` defaults to the checksum recorded beside the file (:func:`recorded_checksum`); a regenerated cohort
    is checked against the committed cohort's record this way."""
    path = Path(path)
    expected = recorded_checksum(path) if expected is None else expected
    if expected is None:
        return f"{checksum_path(path)}: no recorded checksum (write it with `hcc-study synth`)"
    actual = file_sha256(path)
    if actual != expected:
        return f"{path}: SHA-256 {actual}, recorded {expected}"
    return None


def write_synthetic_cohort(path: str | Path, seed: int, scale: float = 1.0, calibrate: bool = True,
                           config: StudyConfig | dict | None = None) -> Path:
    """Generate (and, for the default size, calibrate) the synthetic cohort and write it as CSV (Parquet when
    ``path`` ends in ``.parquet``).

    Parameters
    ----------
    path : output file.
    seed : generator seed (study.yml ``seed``).
    scale : ``n_scale`` of :func:`generate_cohort`.
    calibrate : run :func:`hcc_utils.synthetic.calibrate.calibrate_cohort` afterwards (default cohort only).
        The file's SHA-256 is recorded beside it (:func:`record_checksum`).
    config : study configuration; the bundled one by default.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    df = generate_cohort(seed, config=config, n_scale=scale)
    if calibrate and scale == 1.0:
        df = calibrate_cohort(df, seed=seed, config=config).cohort
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":  # the same cells, typed columns kept (a registry-sized cohort reads fast)
        df = df.copy()
        for col in df.columns[df.dtypes == object]:
            df[col] = df[col].where(df[col] != "", None)  # an empty cell of the CSV is a missing value
        df.to_parquet(path, index=False)
    else:
        path.write_bytes(to_csv_bytes(df))
    record_checksum(path)  # a cohort is data: `hcc-study synth --check` and the test suite check its bytes
    return path
