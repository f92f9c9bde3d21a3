"""How stable are the matched estimates? A bootstrap that re-matches inside every replicate (beyond the article).

Values (ids ``sensitivity.boot_*``): the replicates drawn, failed (by reason) and used; for PFS and OS the matched
hazard ratio (control vs treatment) with its bootstrap percentile interval and, for comparison, the Wald interval of
the matched Cox model; the difference in median survival (treatment minus control) with its percentile interval.
The engine is :mod:`hcc_utils.study.bootstrap`.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from hcc_utils.stats.cox import CoxConvergenceWarning, fit_cox
from hcc_utils.study.bootstrap import BootstrapResult, bootstrap_matched, matched_statistics
from hcc_utils.study.cohort import Study
from hcc_utils.study.labels import ENDPOINTS, abbreviation_note, group_label
from hcc_utils.study.registry import Kind, ResultSet, whole_summary
from hcc_utils.study.sections import SectionResult
from hcc_utils.tables.formatting import fmt_interval, fmt_ratio
from hcc_utils.tables.journal import Column, JournalTable, Row

PREFIX = "sensitivity.boot"
#: Order of the endpoints in the table, figure and prose (PFS first: the matched cohort's clearer difference).
ENDPOINT_ORDER = ("pfs", "os")


def wald_interval(study: Study, endpoint: str) -> tuple[float, float]:
    """95% Wald interval of the matched cohort's Cox hazard ratio (control vs treatment); NaN when not estimable."""
    if "_matched" in study.cohort_problems():
        return math.nan, math.nan
    time_col, event_col, _ = ENDPOINTS[endpoint]
    frame = study.matched.assign(control_group=(study.matched["group"] == study.control).astype(int))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoxConvergenceWarning)
            row = fit_cox(frame, time_col, event_col, ["control_group"], ties=study.config.cox.ties).iloc[0]
    except ValueError:                                   # no event in the matched cohort
        return math.nan, math.nan
    if bool(row["infinite_coef"]) or not np.isfinite(row["hr"]):
        return math.nan, math.nan
    return float(row["ci_low"]), float(row["ci_high"])


def point_estimates(study: Study) -> dict[str, float]:
    """The statistics on the study's own matched cohort (NaN when it cannot be analysed)."""
    if "_matched" in study.cohort_problems():
        return {f"{e}_{s}": math.nan for e in ENDPOINTS for s in ("hr", "median_diff")}
    return matched_statistics(study.matched, study.config)


def bootstrap_results(study: Study, boot: BootstrapResult) -> ResultSet:
    """Register every number of the chapter."""
    values = ResultSet()
    values.add(f"{PREFIX}_replicates", boot.n, Kind.COUNT, "Bootstrap replicates drawn", unit="replicates")
    values.add(f"{PREFIX}_failed", boot.failed, Kind.COUNT, "Bootstrap replicates that could not be analysed "
               "(propensity model, matching or Cox model not estimable)", unit="replicates")
    values.add(f"{PREFIX}_used", boot.n - boot.failed, Kind.COUNT, "Bootstrap replicates analysed", unit="replicates")
    pairs = boot.ok["pairs"].to_numpy(float)
    values.add(f"{PREFIX}_pairs_median", whole_summary(float(np.median(pairs)), True) if len(pairs) else math.nan,
               Kind.QUANTITY,
               "Matched pairs per bootstrap replicate, median", unit="pairs")
    level = f"{100 * boot.level:g}%"
    estimates = point_estimates(study)
    versus = f"{study.control} vs {study.treatment}"
    for endpoint, (_, _, name) in ENDPOINTS.items():
        lo, hi = boot.interval(f"{endpoint}_hr")
        wald = wald_interval(study, endpoint)
        values.add(f"{PREFIX}_{endpoint}_hr", estimates[f"{endpoint}_hr"], Kind.RATIO,
                   f"HR, {versus} (Cox), {name}, PS-matched cohort")
        values.add(f"{PREFIX}_{endpoint}_hr_lo", lo, Kind.RATIO, f"HR, {name}, bootstrap {level} percentile "
                   "interval lower limit (re-matched replicates)")
        values.add(f"{PREFIX}_{endpoint}_hr_hi", hi, Kind.RATIO, f"HR, {name}, bootstrap {level} percentile "
                   "interval upper limit (re-matched replicates)")
        values.add(f"{PREFIX}_{endpoint}_hr_wald_lo", wald[0], Kind.RATIO, f"HR, {name}, Wald 95% CI lower limit, "
                   "PS-matched cohort")
        values.add(f"{PREFIX}_{endpoint}_hr_wald_hi", wald[1], Kind.RATIO, f"HR, {name}, Wald 95% CI upper limit, "
                   "PS-matched cohort")
        width_boot, width_wald = math.log(hi) - math.log(lo) if lo > 0 else math.nan, \
            math.log(wald[1]) - math.log(wald[0]) if wald[0] > 0 else math.nan
        values.add(f"{PREFIX}_{endpoint}_hr_width_ratio", width_boot / width_wald, Kind.RATIO,
                   f"HR, {name}: width of the bootstrap interval over that of the Wald interval (log scale)")
        values.add(f"{PREFIX}_{endpoint}_hr_median", _median(boot, f"{endpoint}_hr"), Kind.RATIO,
                   f"HR, {name}: median of the analysed replicates")
        values.add(f"{PREFIX}_{endpoint}_hr_above_1", _share_above_one(boot, endpoint), Kind.PERCENT,
                   f"HR, {name}: replicates with HR above 1, % of analysed replicates")
        diff = f"{endpoint}_median_diff"
        lo, hi = boot.interval(diff)
        values.add(f"{PREFIX}_{diff}", estimates[diff], Kind.QUANTITY,
                   f"Median {name.lower()}, {study.treatment} minus {study.control}, PS-matched cohort", unit="months")
        values.add(f"{PREFIX}_{diff}_lo", lo, Kind.QUANTITY, f"Median {name.lower()} difference, bootstrap "
                   f"{level} percentile interval lower limit", unit="months")
        values.add(f"{PREFIX}_{diff}_hi", hi, Kind.QUANTITY, f"Median {name.lower()} difference, bootstrap "
                   f"{level} percentile interval upper limit", unit="months")
        values.add(f"{PREFIX}_{diff}_estimable", boot.estimable(diff), Kind.COUNT,
                   f"Analysed replicates in which both median {name.lower()} times are reached", unit="replicates")
    return values


def _median(boot: BootstrapResult, statistic: str) -> float:
    values = boot.ok[statistic].to_numpy(float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else math.nan


def _share_above_one(boot: BootstrapResult, endpoint: str) -> float:
    hr = boot.ok[f"{endpoint}_hr"].to_numpy(float)
    hr = hr[np.isfinite(hr)]
    return float(100 * np.mean(hr > 1)) if len(hr) else math.nan


def bootstrap_table(study: Study, values: ResultSet, boot: BootstrapResult) -> JournalTable:
    """Estimates of the matched cohort with their bootstrap percentile intervals and the Wald intervals."""
    def ratio(key: str) -> str:
        return fmt_ratio(values[key])

    def months(key: str) -> str:
        value = values[key]
        return "not estimable" if math.isnan(value) else f"{value:.1f}".replace("-", "−")

    rows = []
    for endpoint in ENDPOINT_ORDER:
        name = ENDPOINTS[endpoint][2]
        stem = f"{PREFIX}_{endpoint}"
        rows.append(Row("HR", (ratio(f"{stem}_hr"), fmt_interval(ratio(f"{stem}_hr_lo"), ratio(f"{stem}_hr_hi")),
                               fmt_interval(ratio(f"{stem}_hr_wald_lo"), ratio(f"{stem}_hr_wald_hi")),
                               str(values[f"{PREFIX}_used"])), group=name))
        rows.append(Row("Median difference, months", (
            months(f"{stem}_median_diff"), fmt_interval(months(f"{stem}_median_diff_lo"), months(f"{stem}_median_diff_hi")),
            "—", str(values[f"{stem}_median_diff_estimable"])), group=name))
    rows.append(Row("Drawn", ("", "", "", str(values[f"{PREFIX}_replicates"])), group="Bootstrap replicates"))
    for reason, count in boot.failures().items() or {"none": 0}.items():
        rows.append(Row(f"Failed: {reason}", ("", "", "", str(count)), group="Bootstrap replicates"))
    columns = [Column("Estimate"), Column("Bootstrap 95%\npercentile interval"), Column("Wald 95% CI"),
               Column("Replicates, n")]
    footnotes = [
        f"HR: Cox hazard ratio of {group_label(study.control)} vs {group_label(study.treatment)} in the "
        f"propensity-score-matched cohort; median difference: Kaplan–Meier median of "
        f"{group_label(study.treatment)} minus that of {group_label(study.control)}.",
        "Each replicate resamples the enrolled patients with replacement within each group, re-fits the propensity "
        "model and re-matches with the configured matching before estimating; the percentile interval is the "
        "2.5th to 97.5th percentile of the analysed replicates. Replicates in which a median is not reached do not "
        "enter that difference's interval.",
        abbreviation_note("CI", "HR", "PS"),
    ]
    return JournalTable("boot_matched_estimates", "", "Bootstrap of the matched estimates", "Statistic", columns,
                        rows, footnotes)


def compute(study: Study, replicates: int | None = None, n_jobs: int | None = None, scheduler: str | None = None,
            progress=True) -> SectionResult:
    """Run the bootstrap (``bootstrap.*`` of the configuration unless overridden) and register its results."""
    boot = bootstrap_matched(study.data, study.config, replicates=replicates, n_jobs=n_jobs, scheduler=scheduler,
                             progress=progress)
    values = bootstrap_results(study, boot)
    return SectionResult(values, {"boot_matched_estimates": bootstrap_table(study, values, boot)},
                         {"bootstrap": boot, "replicates": boot.replicates})
