"""Self-check of the chapters' exercises: a trainee's number against the value the notebook computed from the data.

Each exercise of an article chapter ends with a cell ``self_check("5.1", your_answer, expected, tolerance)``, where
``expected`` is computed in that notebook from the study's data with the project's functions (never typed), so the
check holds on any cohort the book runs on. The function only compares and prints: it never raises for an answer
not yet given, for a wrong one or for an exercise the cohort cannot answer, so a build runs every exercise cell.
"""
from __future__ import annotations

import math
from numbers import Real

import numpy as np

__all__ = ["NOT_ANSWERED", "CORRECT", "NOT_QUITE", "NOT_COMPUTABLE", "self_check", "verdict"]

#: How each verdict starts (the tests and the browser read these words).
NOT_ANSWERED = "Not answered yet"
CORRECT = "Correct"
NOT_QUITE = "Not quite"
NOT_COMPUTABLE = "Not computable on this cohort"


def _number(value) -> float | None:
    """``value`` as a float, or None when it is not a real number (text, None, a list, True/False...)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        return None
    return float(value)


def verdict(name: str, your_answer, expected, tolerance: float = 0.0) -> str:
    """The verdict on a trainee's answer to an exercise, compared with the value computed from the data.

    Parameters
    ----------
    name : str
        The exercise's number as the book writes it ("5.1").
    your_answer : number or None
        The trainee's answer; None (the cell as shipped) means not answered yet.
    expected : number
        The notebook's own computation of the answer; NaN when the cohort cannot answer the exercise (for example
        when matching formed no pair).
    tolerance : float, default 0
        Largest absolute difference accepted as correct (say 0.005 for a P given to two decimals, 0 for a count).

    Returns
    -------
    str
        Starts with ``"Not answered yet"``, ``"Correct"``, ``"Not quite"`` or ``"Not computable on this cohort"``
        and names the exercise; a wrong answer's verdict says whether it is too high or too low, never the value.

    Raises
    ------
    ValueError
        For a negative tolerance (a mistake of the notebook, not of the trainee).
    """
    if not tolerance >= 0:
        raise ValueError(f"tolerance: must be a number >= 0, got {tolerance!r}")
    target = _number(expected)
    if your_answer is None:
        return f"{NOT_ANSWERED} (exercise {name}): replace None with your number and run the cell again."
    if target is None or not math.isfinite(target):
        return f"{NOT_COMPUTABLE} (exercise {name}): the data give no value to check against."
    answer = _number(your_answer)
    if answer is None or not math.isfinite(answer):
        return f"{NOT_QUITE} (exercise {name}): the answer must be a number, got {your_answer!r}."
    if abs(answer - target) <= tolerance + 1e-12 * max(1.0, abs(target)):
        return f"{CORRECT} (exercise {name})."
    side = "too high" if answer > target else "too low"
    return f"{NOT_QUITE} (exercise {name}): {answer:g} is {side}; look at the worked answer."


def self_check(name: str, your_answer, expected, tolerance: float = 0.0) -> None:
    """Print the `verdict` on a trainee's answer (the one call of an exercise's self-check cell).

    Returns nothing, so that a notebook shows the verdict once; the parameters are `verdict`'s.
    """
    print(verdict(name, your_answer, expected, tolerance))
