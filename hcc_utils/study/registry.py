"""The registry of result ids: every number the study computes, with its kind, unit, display format and label.

A section declares each value as it computes it (:meth:`ResultSet.add`), so a value's meaning never depends on
a pattern over its name. The registry drives how a number is written in prose and tables
(:func:`display_value`), the ``kind``/``unit``/``label`` columns of ``results.csv``, the headline table and the
scorecard's join with the article's numbers.

Statuses
--------
A value that the study could not produce is one of three things, kept apart in ``results.csv``:
``not reached`` (a Kaplan-Meier quantile the curve never reaches; written ``NR``), ``not estimable`` (a test or
model that the data cannot support) and ``missing`` (not computed).
"""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterable

from hcc_utils.tables.formatting import fmt_months, fmt_number, fmt_p, fmt_ratio, is_missing


class Kind(str, Enum):
    """What a number is; it fixes the unit and how the number is written."""

    COUNT = "count"          # patients or events, an integer
    PERCENT = "percent"      # percentage of a group, one decimal
    MONTHS = "months"        # a survival time or follow-up, one decimal; NR when not reached
    QUANTITY = "quantity"    # a descriptive statistic in the variable's own unit (years, cycles), one decimal;
                             # stored as an int when it is a whole summary of whole data (written '4', not '4.0')
    RATIO = "ratio"          # a hazard ratio or one of its confidence limits, three decimals
    P = "p"                  # a p-value, three decimals or <0.001
    WIDTH = "width"          # a caliper width on the score scale, three decimals
    STATISTIC = "statistic"  # a test statistic (e.g. the log-rank chi-square), three decimals
    LIST = "list"            # a set of names (e.g. significant predictors)


#: Unit written beside each kind in ``results.csv`` (QUANTITY takes the unit given with the value).
UNITS = {Kind.COUNT: "patients", Kind.PERCENT: "%", Kind.MONTHS: "months", Kind.QUANTITY: "",
         Kind.RATIO: "ratio", Kind.P: "p", Kind.WIDTH: "score units", Kind.STATISTIC: "", Kind.LIST: "names"}


@dataclass(frozen=True)
class ResultSpec:
    """One registered result id."""

    id: str
    kind: Kind
    label: str = ""
    unit: str = ""
    item_labels: dict | None = field(default=None, compare=False, hash=False)  # readable names of LIST items
    status: str | None = None  # set when the value's status is known beyond its value (see not_estimable)

    @property
    def unit_text(self) -> str:
        return self.unit or UNITS[self.kind]


class ResultSet(dict):
    """``{result id: value}`` of a section, with the :class:`ResultSpec` of every id in :attr:`specs`.

    It is a ``dict`` of values, so sections and notebooks read it as before; :meth:`add` is the only way in.
    """

    def __init__(self) -> None:
        super().__init__()
        self.specs: dict[str, ResultSpec] = {}

    def add(self, result_id: str, value: Any, kind: Kind, label: str = "", unit: str = "",
            item_labels: dict | None = None, not_estimable: str = "") -> Any:
        """Record ``value`` under ``result_id`` as a number of ``kind`` and return it (``item_labels``: readable
        names of the items of a LIST, used where it is written in prose). With a ``not_estimable`` reason the value
        is NaN with the status ``not estimable`` and the reason in its label, whatever ``value`` is."""
        if not_estimable:
            value = math.nan
            label = f"{label} (not estimable: {not_estimable})"
        self[result_id] = value
        self.specs[result_id] = ResultSpec(result_id, Kind(kind), label, unit, item_labels,
                                           status="not estimable" if not_estimable else None)
        return value

    def not_estimable(self, reason: str) -> "ResultSet":
        """The same ids with every value NaN and the status ``not estimable`` (for a cohort or analysis the data
        cannot support), the reason added to each label."""
        out = ResultSet()
        for key, spec in self.specs.items():
            out[key] = math.nan
            out.specs[key] = ResultSpec(key, spec.kind, f"{spec.label} (not estimable: {reason})", spec.unit,
                                        spec.item_labels, status="not estimable")
        return out

    def merge(self, other: "ResultSet") -> "ResultSet":
        """Add every value and spec of ``other`` (a later section may not overwrite an id)."""
        clash = set(self) & set(other)
        if clash:
            raise ValueError(f"result ids computed twice: {sorted(clash)}")
        super().update(other)
        self.specs.update(other.specs)
        return self

    def spec(self, result_id: str) -> ResultSpec:
        try:
            return self.specs[result_id]
        except KeyError:
            raise KeyError(f"result id {result_id!r} is not registered (declare it with ResultSet.add)") from None


def status_of(kind: Kind | str, value: Any, spec: ResultSpec | None = None) -> str:
    """``ok``, ``not reached`` (a survival time the curve never reaches), ``not estimable`` or ``missing``."""
    if spec is not None and spec.status:
        return spec.status
    if value is None:
        return "missing"
    if isinstance(value, (list, tuple, set, frozenset, str)):
        return "ok"
    if is_missing(value):
        return "not reached" if Kind(kind) is Kind.MONTHS else "not estimable"
    return "ok"


def display_value(kind: Kind | str, value: Any, item_labels: dict | None = None) -> str:
    """How a number of ``kind`` is written in the book's prose and tables (LIST items by their labels)."""
    kind = Kind(kind)
    if kind is Kind.LIST and is_missing(value):
        return "not estimable"
    if kind is Kind.LIST:
        items = list(value) if isinstance(value, (list, tuple, set, frozenset)) else \
            [v for v in str(value).split(";") if v]
        names = item_labels or {}
        return ", ".join(names.get(str(v), str(v).replace("_", " ")) for v in items) or "none"
    if isinstance(value, str):
        return value
    if kind is Kind.P:
        return fmt_p(value, missing="not estimable")
    if kind is Kind.MONTHS:
        return fmt_months(value)
    if is_missing(value):
        return "not estimable"
    if kind in (Kind.RATIO, Kind.WIDTH, Kind.STATISTIC):
        return fmt_ratio(value)
    if kind is Kind.COUNT:
        return str(int(value))
    return fmt_number(value, 1, whole=isinstance(value, numbers.Integral))


#: Units a value carries in prose, written after the number ('10.3 months', '64.0 years', '6.0 cycles'): times,
#: ages and treatment cycles. Other units (SMD, pairs, weight) are named by the sentence around the number.
PROSE_UNITS = ("months", "years", "cycles")


def whole_summary(value: Any, whole_data: bool) -> Any:
    """A summary (median, quartile) of data that are all whole numbers, as an int when it is whole, so that
    :func:`display_value` writes '4 cycles', never '4.0 cycles' (and ``results.csv`` keeps it as '4'); any other
    value unchanged."""
    if whole_data and not is_missing(value) and float(value).is_integer():
        return int(value)
    return value


def prose_value(kind: Kind | str, value: Any, item_labels: dict | None = None, unit: str = "",
                status: str | None = None) -> str:
    """How a number of ``kind`` is written in a sentence: as :func:`display_value` writes it, but a percentage
    carries its sign ('7.5%'), a survival time (MONTHS) or a quantity in one of :data:`PROSE_UNITS` its unit
    ('10.3 months', '64.0 years'); a survival time never reached reads "not reached" (never "NR months"), and a
    value that could not be estimated "not estimable" (without a unit: never "not estimable%"), as does any value
    whose ``status`` (the registry's, e.g. of a cohort that cannot be analysed) is "not estimable".

    ``unit``: the registered unit of a QUANTITY (a MONTHS value is in months).
    """
    kind = Kind(kind)
    if status == "not estimable":
        return "not estimable"
    if kind is Kind.PERCENT and not isinstance(value, str):
        return "not estimable" if is_missing(value) else display_value(kind, value) + "%"
    word = UNITS[Kind.MONTHS] if kind is Kind.MONTHS else str(unit or "").strip()
    if kind not in (Kind.MONTHS, Kind.QUANTITY) or word not in PROSE_UNITS or isinstance(value, str):
        return display_value(kind, value, item_labels)
    if is_missing(value):
        return "not reached" if kind is Kind.MONTHS else "not estimable"
    return f"{display_value(kind, value, item_labels)} {word}"


def parse_value(kind: Kind | str, text: str) -> Any:
    """A value of ``results.csv`` (text) back as a number of ``kind`` (NaN for NA, a list for LIST)."""
    kind = Kind(kind)
    if kind is Kind.LIST:
        return [v for v in str(text).split(";") if v]
    if text in ("NA", "", None):
        return math.nan
    if kind is Kind.COUNT or (kind is Kind.QUANTITY and re.fullmatch(r"-?\d+", str(text))):
        return int(text)  # a QUANTITY stored as an int (a whole summary of whole data) stays whole
    return float(text)


def registry_rows(specs: Iterable[ResultSpec]) -> list[dict[str, str]]:
    """``id, kind, unit, label`` rows (for ``results.csv`` and the book's list of results)."""
    return [{"id": s.id, "kind": s.kind.value, "unit": s.unit_text, "label": s.label} for s in specs]
