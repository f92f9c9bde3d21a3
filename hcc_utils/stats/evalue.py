"""E-values for hazard ratios (sensitivity to unmeasured confounding).

E-value (VanderWeele & Ding 2017)
---------------------------------
The E-value is the minimum strength of association, on the risk-ratio scale, that an unmeasured confounder would
need with both the treatment and the outcome, beyond the measured covariates, to move the observed risk ratio
to 1: ``E = RR + sqrt(RR (RR - 1))`` for RR >= 1 (RR < 1 is inverted first). For a confidence interval the
E-value is that of the limit nearer 1, and 1 when the interval contains 1.

A hazard ratio is first turned into an approximate risk ratio. For a rare outcome (< 15% by the end of
follow-up) RR ~ HR. For a common outcome (death or progression in most patients here) the conversion of
VanderWeele & Ding's Table 2 (VanderWeele 2020), built on square roots of the HR, is used:
``RR ~ (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))``; the R package EValue (``evalues.HR(rare = FALSE)``) does
the same.

References
----------
VanderWeele TJ, Ding P. Sensitivity analysis in observational research: introducing the E-value. Ann Intern Med
2017;167:268-74.
VanderWeele TJ. Optimal approximate conversions of odds ratios and hazard ratios to risk ratios. Biometrics
2020;76:746-52.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["EValue", "hr_to_rr", "evalue_rr", "evalue_hr"]


@dataclass(frozen=True)
class EValue:
    """E-values of a hazard ratio (point estimate and the confidence limit nearer 1) and the risk ratios used."""

    hr: float
    rr: float
    rr_low: float
    rr_high: float
    point: float
    ci: float


def hr_to_rr(hr: float, rare: bool = False) -> float:
    """Approximate risk ratio of a hazard ratio: HR itself for a rare outcome, else
    ``(1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))``."""
    if not hr > 0:
        raise ValueError(f"hr: must be a positive number, got {hr!r}")
    if rare:
        return float(hr)
    return (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))


def evalue_rr(rr: float) -> float:
    """E-value of a risk ratio: ``RR + sqrt(RR (RR - 1))`` after inverting an RR below 1."""
    if not rr > 0:
        raise ValueError(f"rr: must be a positive number, got {rr!r}")
    rr = 1 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1))


def evalue_hr(hr: float, ci_low: float, ci_high: float, rare: bool = False) -> EValue:
    """E-values of a hazard ratio and its confidence interval (the limit nearer 1; 1 if the CI contains 1).
    NaN input gives NaN E-values."""
    if any(not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0) for v in (hr, ci_low, ci_high)):
        nan = math.nan
        return EValue(hr, nan, nan, nan, nan, nan)
    if not ci_low <= hr <= ci_high:
        raise ValueError(f"the confidence interval ({ci_low}, {ci_high}) does not contain the estimate {hr}")
    rr, low, high = (hr_to_rr(v, rare) for v in (hr, ci_low, ci_high))
    if low <= 1 <= high:
        ci = 1.0
    else:
        ci = evalue_rr(low if rr > 1 else high)
    return EValue(float(hr), rr, low, high, evalue_rr(rr), ci)
