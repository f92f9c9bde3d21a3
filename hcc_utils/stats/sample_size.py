"""Schoenfeld's sample size of a trial comparing two arms by the log-rank test (or a Cox model).

What is estimated
-----------------
Events needed by a two-sided log-rank test of level alpha with power 1 - beta to detect hazard ratio HR with a
fraction ``p`` of patients in one arm (Schoenfeld 1983): ``D = (z_{1-alpha/2} + z_{1-beta})^2 / (p (1-p)
log(HR)^2)``, i.e. ``4 (z + z)^2 / log(HR)^2`` for 1:1; patients = D / (the proportion expected to have the event),
both rounded up. Assumes proportional hazards and that the observed HR is the true one (it is not: the observed
estimate is a random quantity, so this is the size needed to detect an effect of that size, not a forecast).

References
----------
Schoenfeld DA. Sample-size formula for the proportional-hazards regression model. Biometrics 1983;39:499-503.
"""
from __future__ import annotations

import math

from scipy import special

__all__ = ["schoenfeld_events", "schoenfeld_patients"]


def schoenfeld_events(hr: float, alpha: float = 0.05, power: float = 0.8, allocation: float = 0.5) -> int:
    """Events a two-sided log-rank test needs to detect ``hr`` (Schoenfeld 1983), rounded up.

    Raises ValueError for HR = 1 (no effect to detect) or arguments out of range."""
    if not (hr > 0 and math.isfinite(hr)) or hr == 1:
        raise ValueError(f"hr: must be a positive number other than 1, got {hr!r}")
    for name, value in (("alpha", alpha), ("power", power), ("allocation", allocation)):
        if not 0 < value < 1:
            raise ValueError(f"{name}: must lie in (0, 1), got {value!r}")
    z = special.ndtri(1 - alpha / 2) + special.ndtri(power)
    return math.ceil(z ** 2 / (allocation * (1 - allocation) * math.log(hr) ** 2) - 1e-9)


def schoenfeld_patients(events: int, event_proportion: float) -> int:
    """Patients to enrol so that ``events`` occur when a fraction ``event_proportion`` has the event."""
    if not 0 < event_proportion <= 1:
        raise ValueError(f"event_proportion: must lie in (0, 1], got {event_proportion!r}")
    return math.ceil(events / event_proportion - 1e-9)
