"""The scikit-learn side of ``bench_suite.py``: one preprocessing for every baseline, and a
plain script (HistGradientBoosting on a train/test CSV pair) timed from the outside.

Preprocessing (a :class:`~sklearn.compose.ColumnTransformer`, fitted on the training rows):

- numbers: median-impute, then standardise;
- text (categorical) columns: most-frequent-impute, then one-hot
  (``handle_unknown='ignore'``, dense);
- date columns (text that parses as ISO dates throughout): year, month, day of the year and
  weekday as numbers, then median-impute and standardise.

As a script it reads the two CSVs, fits that preprocessing and
``HistGradientBoostingClassifier/Regressor(random_state=SEED)``, predicts the test rows and
prints one JSON line ``{"score": ..., "seconds": ...}`` (accuracy or R², seconds inside the
process)::

    python benchmarks/suite_sklearn.py train.csv test.csv TARGET classification|regression SEED
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _is_date(column: pd.Series) -> bool:
    """Whether a text column holds ISO dates (or date-times) in every non-missing cell."""
    values = column.dropna()
    if values.empty or pd.api.types.is_numeric_dtype(values):
        return False
    text = values.astype(str)
    if not text.str.match(_ISO_DATE).all():
        return False
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    return bool(parsed.notna().all())


def column_kinds(frame: pd.DataFrame, target: str) -> dict[str, list[str]]:
    """The feature columns of ``frame`` by kind.

    Parameters
    ----------
    frame : pandas.DataFrame
        Training rows (the target included).
    target : str
        The target column (left out).

    Returns
    -------
    dict
        ``{"numeric": [...], "categorical": [...], "date": [...]}``.
    """
    kinds: dict[str, list[str]] = {"numeric": [], "categorical": [], "date": []}
    for name in frame.columns.drop(target):
        column = frame[name]
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            kinds["date" if _is_date(column) else "categorical"].append(name)
        else:
            kinds["numeric"].append(name)
    return kinds


def calendar(frame: pd.DataFrame) -> np.ndarray:
    """Year, month, day of the year and weekday (Monday 0) of each date column, as numbers
    (NaN where the date is missing)."""
    out = []
    for name in frame.columns:
        dates = pd.to_datetime(frame[name].astype("string"), format="ISO8601", utc=True,
                               errors="coerce")  # fmt: skip
        out += [dates.dt.year, dates.dt.month, dates.dt.day_of_year, dates.dt.day_of_week]
    return np.stack([part.to_numpy(dtype=float, na_value=np.nan) for part in out], axis=1)


def preprocessor(frame: pd.DataFrame, target: str) -> ColumnTransformer:
    """The suite's (unfitted) preprocessing for ``frame``'s feature columns.

    Parameters
    ----------
    frame : pandas.DataFrame
        Training rows (the target included): they decide each column's kind.
    target : str
        The target column.

    Returns
    -------
    sklearn.compose.ColumnTransformer
    """
    kinds = column_kinds(frame, target)
    numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    text = make_pipeline(SimpleImputer(strategy="most_frequent"),
                         OneHotEncoder(handle_unknown="ignore", sparse_output=False))  # fmt: skip
    dates = make_pipeline(FunctionTransformer(calendar), SimpleImputer(strategy="median"),
                          StandardScaler())  # fmt: skip
    parts = [("num", numbers, kinds["numeric"]), ("cat", text, kinds["categorical"]),
             ("date", dates, kinds["date"])]  # fmt: skip
    return ColumnTransformer([part for part in parts if part[2]], sparse_threshold=0.0)


def _categorical_as_objects(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with ``columns`` as object dtype (NaN for missing): the imputer's input."""
    return frame.assign(**{c: frame[c].astype(object).where(frame[c].notna(), np.nan)
                           for c in columns})  # fmt: skip


def features(frame: pd.DataFrame, target: str, kinds: dict[str, list[str]]) -> pd.DataFrame:
    """The feature columns of ``frame`` ready for :func:`preprocessor`'s transformer."""
    return _categorical_as_objects(frame.drop(columns=target), kinds["categorical"])


def hgb(task: str, seed: int) -> Any:
    """``HistGradientBoostingClassifier/Regressor(random_state=seed)``, defaults otherwise."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    kind = HistGradientBoostingClassifier if task == "classification" else (
        HistGradientBoostingRegressor)  # fmt: skip
    return kind(random_state=seed)


def mlp(task: str, seed: int) -> Any:
    """scikit-learn's MLP, defaults (``max_iter=200``), ``random_state=seed``; for regression
    the target is standardised (and the predictions scaled back)."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    if task == "classification":
        return MLPClassifier(max_iter=200, random_state=seed)
    return TransformedTargetRegressor(MLPRegressor(max_iter=200, random_state=seed),
                                      transformer=StandardScaler())  # fmt: skip


def score(task: str, y_true: Any, y_pred: Any) -> float:
    """Accuracy (classification) or R² (regression)."""
    from sklearn.metrics import accuracy_score, r2_score

    if task == "classification":
        return float(accuracy_score(y_true, y_pred))
    return float(r2_score(np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)))


def fit_score(model: Any, train: pd.DataFrame, test: pd.DataFrame, target: str,
              task: str) -> tuple[float, Pipeline]:  # fmt: skip
    """Fit ``preprocessor + model`` on ``train``; the score on ``test`` and the pipeline."""
    kinds = column_kinds(train, target)
    pipe = make_pipeline(preprocessor(train, target), model)
    y = train[target].to_numpy(dtype=float) if task == "regression" else train[target]
    pipe.fit(features(train, target, kinds), y)
    return score(task, test[target], pipe.predict(features(test, target, kinds))), pipe


def main(argv: list[str]) -> None:
    """The plain script: read, preprocess, HistGradientBoosting, score; print JSON."""
    t0 = time.perf_counter()
    train_csv, test_csv, target, task, seed = argv
    train, test = pd.read_csv(train_csv), pd.read_csv(test_csv)
    value, _ = fit_score(hgb(task, int(seed)), train, test, target, task)
    print(json.dumps({"score": value, "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main(sys.argv[1:])
