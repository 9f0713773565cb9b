"""Argument checks shared across graphrec: one wording for every "must be an integer >= 1".

Predictors, the synthetic zoo, the benchmark's masks and the node encoders all take counts
and settings from users. These checks say what was expected and what was given, the same
way everywhere; each returns the value as a plain `int` or `float`. A bool is never
accepted as a number (True is 1 to Python, but `epochs=True` is a mistake), and NaN fails
every comparison, so it fails every check. They raise ValueError; the layers that talk to
users (the CLI, `graphrec.api`) turn it into a `UsageError`.

This module depends on nothing else in graphrec, so any module may use it.
"""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["check_between", "check_integer", "check_number", "is_integer", "is_number"]


def is_integer(value: Any) -> bool:
    """Whether `value` is an integer (Python's or numpy's), and not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """Whether `value` is a real number (int, float or numpy's), and not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_integer(what: str, value: Any, low: int) -> int:
    """`value` as an int if it is an integer >= `low`; else a ValueError naming `what`."""
    if not is_integer(value) or value < low:
        raise ValueError(f"{what} must be an integer >= {low}, got {value!r}")
    return int(value)


def check_number(what: str, value: Any, low: float, *, strict: bool = False) -> float:
    """`value` as a float if it is a real number >= `low` (> `low` when `strict`)."""
    if not is_number(value) or not (value > low if strict else value >= low):
        raise ValueError(f"{what} must be a number {'>' if strict else '>='} {low}, "
                         f"got {value!r}")
    return float(value)


def check_between(what: str, value: Any, low: float, high: float, *,
                  closed: str = "neither", noun: str = "number") -> float:
    """`value` as a float if it is a real number between `low` and `high`; `closed` says
    which ends belong to the interval ("neither", "left", "right" or "both"), `noun` how
    the message calls the value ("a fraction in (0, 1)")."""
    if closed not in ("neither", "left", "right", "both"):
        raise ValueError(f"closed must be neither, left, right or both, got {closed!r}")
    left, right = closed in ("left", "both"), closed in ("right", "both")
    ok = is_number(value) and (low <= value if left else low < value) and (
        value <= high if right else value < high)
    if not ok:
        interval = f"{'[' if left else '('}{low}, {high}{']' if right else ')'}"
        raise ValueError(f"{what} must be a {noun} in {interval}, got {value!r}")
    return float(value)
