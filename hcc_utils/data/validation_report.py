"""The validation report: one :class:`Violation` per problem, all of them in a :class:`ValidationReport`.

:class:`ValidationReport` is what :func:`hcc_utils.data.validate.validate_cohort` returns: every error and
warning of a cohort at once, readable (:meth:`ValidationReport.format`) or as a table for the data owner
(:meth:`ValidationReport.to_frame`); :class:`CohortValidationError` carries it when an invalid cohort must stop
a run. The rules that find violations (:mod:`hcc_utils.data.column_rules`, :mod:`hcc_utils.data.cohort_rules`)
record them with a :class:`ViolationCollector`, which turns boolean masks over the rows into violations (Python
work only per violation) and sorts them: file-level first, then by row and column order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from hcc_utils.data.text import plural

__all__ = ["CohortValidationError", "ValidationReport", "Violation", "ViolationCollector"]


@dataclass(frozen=True)
class Violation:
    """One problem found in the cohort.

    Attributes
    ----------
    row_number : int or None
        The row as the author sees it: the Excel row or CSV line, the header being row 1 (so the first data
        row is 2); None for file-level problems.
    patient_id : str or None
        The row's patient id as written, if any.
    column : str or None
        The column concerned.
    value : str or None
        The cell's value as written in the file (normalised spaces/case), if relevant.
    rule : str
        Short rule id (see the module docstring).
    message : str
        What is wrong, in words.
    """

    row_number: int | None
    patient_id: str | None
    column: str | None
    value: str | None
    rule: str
    message: str

    def describe(self, source: str = "") -> str:
        """One line: ``source row N (patient X), column c: message [rule]`` (``row N ...`` without a source)."""
        parts = [str(source)] if source else []
        if self.row_number is not None:
            patient = f"(patient {self.patient_id})" if self.patient_id is not None else "(no patient id)"
            parts.append(f"row {self.row_number} {patient}")
        location = " ".join(parts)
        if self.column is not None:
            location += f"{', ' if location else ''}column {self.column}"
        return f"{location}: {self.message} [{self.rule}]" if location else f"{self.message} [{self.rule}]"


def _split_message(message: str) -> tuple[str, str]:
    """A message's own part (the value) and its explanation: the text from the first ' (' or '; ' on."""
    cuts = [position for position in (message.find(" ("), message.find("; ")) if position > 0]
    return (message[:min(cuts)], message[min(cuts):]) if cuts else (message, "")


@dataclass
class ValidationReport:
    """All violations of one cohort.

    Attributes
    ----------
    source : str
        File name shown in every line.
    n_rows : int
        Data rows checked.
    errors, warnings : list of Violation
        Sorted: file-level first, then by row and column order.
    notes : list of str
        Sentences the readable report opens with (the analysis checks' findings are provisional while cells have
        errors).
    """

    source: str
    n_rows: int
    errors: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def format(self, limit: int | None = None, warnings: bool = True) -> str:
        """Readable report, one line per violation.

        Parameters
        ----------
        limit : int, optional
            Show at most this many lines per section (the rest is counted).
        warnings : bool
            Include the warnings section.

        Returns
        -------
        str
        """
        lines = [
            f"Validation of {self.source}: {plural(self.n_rows, 'data row')}, {plural(len(self.errors), 'error')}, "
            f"{plural(len(self.warnings), 'warning')}. Rows are numbered as in the file (Excel row, CSV line; the "
            "header is row 1).", *self.notes
        ]
        summary = self.summary(warnings)
        if not summary.empty:
            lines.append("Summary (severity, column, rule, count; then the first message of the rule):")
            width = max(len(str(column)) for column in summary["column"])
            for row in summary.itertuples(index=False):
                lines.append(f"  {row.severity:<7} {str(row.column):<{width}} {row.rule:<28} {row.count:>6}  "
                             f"e.g. {row.example}")
        sections = [("Errors", self.errors)] + ([("Warnings", self.warnings)] if warnings else [])
        for title, violations in sections:
            if not violations:
                continue
            lines.append(f"{title}:")
            shown = violations if limit is None else violations[:limit]
            # The source is named once above; each line starts with the row the author opens, and an explanation
            # the summary already gave is not repeated (the line keeps what differs: row, patient, value).
            explained: set[tuple] = set()
            for violation in shown:
                head, tail = _split_message(violation.message)
                key = (violation.column, violation.rule, tail)
                if tail and key in explained:
                    violation = replace(violation, message=head + " (as above)")
                explained.add(key)
                lines.append("  " + violation.describe())
            if len(shown) < len(violations):
                lines.append(f"  ... and {len(violations) - len(shown)} more")
        return "\n".join(lines)

    def summary(self, warnings: bool = True) -> pd.DataFrame:
        """Counts by severity, column and rule (``severity, column, rule, count, example``), errors first."""
        records = [("error", v) for v in self.errors] + ([("warning", v) for v in self.warnings] if warnings else [])
        counts: dict[tuple, list] = {}
        for severity, violation in records:
            key = (severity, violation.column or "(file)", violation.rule)
            if key not in counts:
                counts[key] = [0, violation.message]
            counts[key][0] += 1
        rows = [(*key, count, example) for key, (count, example) in counts.items()]
        return pd.DataFrame(rows, columns=["severity", "column", "rule", "count", "example"])

    __str__ = format

    def to_frame(self) -> pd.DataFrame:
        """Violations as a table with a ``severity`` column (for export to the data owner)."""
        records = [{"severity": "error", **vars(v)} for v in self.errors]
        records += [{"severity": "warning", **vars(v)} for v in self.warnings]
        columns = ["severity", "row_number", "patient_id", "column", "value", "rule", "message"]
        return pd.DataFrame.from_records(records, columns=columns)

    def raise_if_invalid(self) -> "ValidationReport":
        """Raise :class:`CohortValidationError` if there is any error; otherwise return ``self``."""
        if self.errors:
            raise CohortValidationError(self)
        return self


class CohortValidationError(ValueError):
    """The cohort has validation errors; ``.report`` holds the full :class:`ValidationReport`."""

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__(report.format(limit=50))


# --------------------------------------------------------------------------- collecting violations
class ViolationCollector:
    """Accumulates violations from boolean masks (Python work only per violation)."""

    def __init__(
        self, patient_ids: np.ndarray, column_order: Mapping[str, int], file_rows: Sequence[int] | None = None
    ):
        self.patient_ids = patient_ids
        # Row numbers as the author sees them (reader's attrs), else data row + 1 for the header.
        self.file_rows = np.asarray(file_rows if file_rows is not None and len(file_rows) == len(patient_ids)
                                    else np.arange(2, len(patient_ids) + 2), dtype=np.int64)
        self.column_order = column_order
        self.errors: list[Violation] = []
        self.warnings: list[Violation] = []

    def _target(self, severity: str) -> list[Violation]:
        return self.errors if severity == "error" else self.warnings

    def table(self, severity: str, rule: str, message: str, column: str | None = None) -> None:
        """A file-level violation."""
        self._target(severity).append(Violation(None, None, column, None, rule, message))

    def cells(
        self,
        severity: str,
        rule: str,
        mask: np.ndarray,
        column: str,
        values: Sequence[Any] | np.ndarray | None,
        messages: str | Sequence[str],
    ) -> None:
        """Violations at the rows where ``mask`` is true.

        ``values`` and ``messages`` are aligned with the whole frame (indexed by position);
        a str ``messages`` is a template with ``{value}``.
        """
        positions = np.flatnonzero(mask)
        if positions.size == 0:
            return
        target = self._target(severity)
        ids = self.patient_ids[positions]
        shown = [None] * positions.size if values is None else [values[p] for p in positions]
        if isinstance(messages, str):
            texts = [messages.format(value=value) for value in shown]
        else:
            texts = [messages[p] for p in positions]
        target.extend(
            Violation(int(self.file_rows[p]), patient_id, column, value, rule, text)
            for p, patient_id, value, text in zip(positions, ids, shown, texts)
        )

    def sorted(self, violations: list[Violation]) -> list[Violation]:
        def key(violation: Violation) -> tuple:
            return (
                violation.row_number is not None,
                violation.row_number or 0,
                self.column_order.get(violation.column or "", -1),
                violation.rule,
            )

        return sorted(violations, key=key)
