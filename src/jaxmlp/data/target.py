"""What the target column asks for: classes or numbers.

``--task auto`` decides from the column: numbers with many distinct values (or with
fractions) are a regression target, anything else holds classes; the choice is said in
one line. Each task checks its target with a message that names the column, the value and
the fix: a classifier refuses a continuous column, a regressor refuses text, infinities and
a constant column.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jaxmlp.data.tables import TableError

__all__ = ["MAX_CLASSES_OF_NUMBERS", "TASKS", "check_classes", "choose_task", "classes_only",
           "regression_values"]  # fmt: skip

TASKS = ("auto", "classification", "regression")
# auto: an integer column with more distinct values than this is a quantity, not classes
AUTO_DISTINCT = 20
# --task classification refuses a column of fractional numbers with more distinct values
MAX_CLASSES_OF_NUMBERS = 50


def _is_number_column(series: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def _fractional(series: Any) -> bool:
    values = series.dropna().to_numpy(np.float64)
    finite = values[np.isfinite(values)]
    return bool((finite != np.round(finite)).any())


def choose_task(series: Any, target: str, task: str) -> tuple[str, str | None]:
    """``(task, note)``: the task for target column ``series`` ('classification' or
    'regression') and, when ``task='auto'`` chose regression, a line saying so and why."""
    if task not in TASKS:
        raise TableError(f"--task must be one of {', '.join(TASKS)}; got {task!r}.")
    if task != "auto":
        return task, None
    distinct = int(series.nunique())
    if _is_number_column(series) and (_fractional(series) or distinct > AUTO_DISTINCT):
        why = "fractional numbers" if _fractional(series) else f"{distinct} distinct integers"
        return "regression", (
            f"target '{target}' holds {why}: training a regressor (pass --task "
            "classification to treat its values as classes)"
        )
    return "classification", None


def check_classes(series: Any, target: str) -> None:
    """A classifier's target holds classes: a column of many distinct fractional numbers
    is refused with advice."""
    if _is_number_column(series) and _fractional(series):
        distinct = int(series.nunique())
        if distinct > MAX_CLASSES_OF_NUMBERS:
            example = float(series[series != np.round(series)].iloc[0])
            raise TableError(
                f"Target column '{target}' holds continuous numbers ({distinct} distinct "
                f"values, e.g. {example!r}): as classes, each value would be a class of its "
                "own. Use --task regression (or --task auto) to predict the number, or bin "
                "the values into classes first."
            )


def classes_only(series: Any, target: str, task: str, how: str) -> None:
    """For ways of training that take classes only (``how``: '--stream', 'several
    processes'): a numeric target (as ``task`` decides) is a :class:`TableError`."""
    if choose_task(series, target, task)[0] == "regression":
        raise TableError(
            f"Target column '{target}' is numeric, and {how} trains classifiers only (for "
            f"now). Train the regressor in memory (drop "
            f"{how if how.startswith('-') else '--coordinator-address'}), or pass --task "
            "classification to treat its values as classes."
        )
    check_classes(series, target)


def regression_values(series: Any, target: str, spread: bool = True) -> np.ndarray:
    """The target as float64 numbers, shape (n,); text, infinities and (with ``spread``,
    for training rows) a column with one distinct value are :class:`TableError`."""
    import pandas as pd

    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna() & series.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise TableError(
            f"Target column '{target}' is to be predicted as a number but has text: "
            f"{series[bad].iloc[0]!r} (row {row + 1} of the data rows). Fix those values, or "
            "train a classifier with --task classification."
        )
    y = values.to_numpy(np.float64)
    infinite = np.isinf(y)
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise TableError(
            f"Target column '{target}' has an infinite value ({float(y[row])!r}, row {row + 1} of "
            f"the data rows; {int(infinite.sum())} such value(s)): a regressor needs finite "
            "numbers. Remove or fix those rows."
        )
    if spread and len(y) and np.all(y == y[0]):
        raise TableError(
            f"Target column '{target}' has the same value ({float(y[0])!r}) in every row: there is "
            "nothing to predict. Choose another --target."
        )
    return y
