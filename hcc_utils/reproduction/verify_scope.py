"""What the R programs of ``verify/R`` do not recompute, and why (the Validation page lists them)."""
from __future__ import annotations

#: Result-id prefixes R does not recompute, with the reason.
UNCOVERED = (
    ("flow.", "the flow's earlier steps count screened patients; analysis.csv holds the enrolled patients only"),
    ("sensitivity.boot_", "the bootstrap's resamples (numpy's random streams) are shared with R only up to "
                          "5,000,000 draws (patients x replicates)"),
    ("sensitivity.gbm_", "the boosted propensity model is scikit-learn's; R's gbm is another algorithm"),
)


def uncovered_reason(result_id: str) -> str:
    """Why R does not recompute ``result_id`` (a generic reason for ids no R program names yet)."""
    for prefix, reason in UNCOVERED:
        if result_id.startswith(prefix):
            return reason
    return "not recomputed by the R programs"
