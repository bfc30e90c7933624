"""Checks of user-given numbers, shared by every layer: one rule, one message, one place.

Each check takes the argument's ``name`` as the user wrote it (``learning_rate`` in Python,
``--lr`` on the command line) and an ``example`` of a good value, and raises a
``ValueError`` (a ``TypeError`` for something that is not a number) whose message names
the argument, the value and a fix::

    learning_rate must be > 0, got -0.1; e.g. learning_rate=0.01.

The checks accept a scalar or an array (every element is checked; the first bad one is
named) and return the value unchanged. numpy is imported on first use, so the CLI can
use them before anything heavy is loaded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "caller_stacklevel",
    "check_fraction",
    "check_nonnegative",
    "check_positive",
    "check_positive_int",
    "check_rate",
]

T = TypeVar("T")

# packages whose frames stand between a user's call and a warning: jaxmlp's own, and the
# wrappers a user's call may pass through (scikit-learn's fit context, joblib)
_INSIDE = ("jaxmlp.", "sklearn.", "joblib.")


def caller_stacklevel() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` made by the function calling this one
    that names the user's line: the first frame outside jaxmlp, scikit-learn and joblib.
    A fixed number cannot: the same warning is reached from ``fit``, an ensemble or a
    search through different depths (Python 3.12's ``skip_file_prefixes`` does this)."""
    import sys

    frame: Any = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith(_INSIDE):
        frame, level = frame.f_back, level + 1
    return level


def _example(name: str, example: str | None) -> str:
    if example is None:
        return ""
    return f"; e.g. {example if ' ' in example or '=' in example else f'{name}={example}'}"


def _check(name: str, value: T, ok: Callable[[np.ndarray], np.ndarray], rule: str,
           example: str | None) -> T:  # fmt: skip
    import numpy as np

    given: Any = value
    try:
        values = np.atleast_1d(np.asarray(given, dtype=float))
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}.") from None
    bad = values[~ok(values)]
    if bad.size:
        shown: Any = given if np.ndim(given) == 0 else float(bad[0])
        raise ValueError(f"{name} must be {rule}, got {shown!r}{_example(name, example)}.")
    return value


def check_positive(name: str, value: T, example: str | None = None) -> T:
    """``value > 0`` (and finite), e.g. a learning rate."""
    return _check(name, value, lambda v: (v > 0) & (v < math.inf), "> 0", example)


def check_nonnegative(name: str, value: T, example: str | None = None) -> T:
    """``value >= 0`` (and finite), e.g. an L2 penalty or a noise level."""
    return _check(name, value, lambda v: (v >= 0) & (v < math.inf), ">= 0", example)


def check_rate(name: str, value: T, example: str | None = None) -> T:
    """``0 <= value < 1``, e.g. a momentum, a dropout rate, Adam's betas."""
    return _check(name, value, lambda v: (v >= 0) & (v < 1), "in [0, 1)", example)


def check_fraction(name: str, value: T, example: str | None = None) -> T:
    """``0 < value < 1``, e.g. a test-set share."""
    return _check(name, value, lambda v: (v > 0) & (v < 1), "a fraction in (0, 1)", example)


def check_positive_int(name: str, value: Any, example: str | None = None) -> int:
    """A positive ``int`` (not a bool, not a float), e.g. a number of epochs."""
    if isinstance(value, bool) or not hasattr(value, "__index__") or value <= 0:
        raise ValueError(
            f"{name} must be a positive integer, got {value!r}{_example(name, example)}."
        )
    return int(value)
