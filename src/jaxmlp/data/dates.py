"""Date and time columns: found, parsed, and turned into calendar features.

A column holds dates when it is a datetime (Parquet timestamp or date types) or text
whose values are ISO dates or times (``2012-01-31``, ``2012-01-31T08:30:00Z``); ``--datetime
COL`` declares one (any format pandas reads). :class:`CalendarFeatures` turns each into
numbers a network can use, learned on the training rows:

- the year (standardised with the training rows' mean and standard deviation: a trend),
- sin and cos of the month, the day of the year and the day of the week (cycles: December
  sits next to January),
- sin and cos of the time of day, where the training rows have times.

Missing dates are imputed with the training rows' median date. Times with a time zone are
converted to UTC.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from jaxmlp.data.tables import TableError

__all__ = ["CalendarFeatures", "date_values", "describe", "is_date_column", "looks_like_dates"]

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$")
# share of a text column's values that must read as ISO dates for it to be a date column
# (any value that then does not read as a date is an error, named with its row)
DATE_SHARE = 0.9


def is_date_column(series: Any) -> bool:
    """A datetime column (timestamps or Parquet dates read as ``datetime.date``)."""
    import datetime

    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series):
        return True
    if series.dtype != object:
        return False
    values = series.dropna()
    return bool(len(values)) and all(isinstance(v, datetime.date) for v in values.iloc[:100])


def looks_like_dates(series: Any) -> bool:
    """Text whose values (at least :data:`DATE_SHARE` of them) are ISO dates or times."""
    import pandas as pd

    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return False
    values = series.dropna()
    if not len(values) or not all(isinstance(v, str) for v in values.iloc[:100]):
        return False
    share = values.astype(str).str.strip().str.match(_ISO).mean()
    return bool(share >= DATE_SHARE)


def date_values(series: Any, column: str) -> Any:
    """``series`` as naive UTC ``datetime64[ns]`` (missing stays NaT); a value that is not a
    date is a :class:`TableError` naming it and its row."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise TableError(
            f"Column '{column}' holds numbers, not dates; --datetime takes a column of dates "
            f"or times (e.g. 2012-01-31). Drop --datetime {column}, or convert the numbers "
            "(e.g. Unix seconds) to dates first."
        )
    kinds = {"format": "ISO8601"}
    try:
        parsed = pd.to_datetime(series, errors="coerce", utc=True, **kinds)
    except (ValueError, TypeError):
        parsed = None
    if parsed is None or (parsed.isna() & series.notna()).any():
        parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    bad = parsed.isna() & series.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise TableError(
            f"Column '{column}' holds dates but {series.iloc[row]!r} (row {row + 1} of the "
            f"data, {int(bad.sum())} such value(s)) is not one. Fix those values, leave them "
            f"empty (missing dates are imputed), or treat the column as text with "
            f"--categorical {column}."
        )
    return parsed.dt.tz_convert(None).astype("datetime64[ns]")


def describe(has_time: bool) -> str:
    """What a date column becomes, in words."""
    hour = ", time of day" if has_time else ""
    return f"year (standardised) + sin/cos of month, day of year, weekday{hour}"


def _parts(values: np.ndarray, has_time: bool) -> list[np.ndarray]:
    """Cyclic angles (radians) of datetime64[ns] ``values``: month, day of year, weekday
    (and time of day)."""
    import pandas as pd

    t = pd.DatetimeIndex(values)
    angles = [2 * np.pi * (t.month.to_numpy() - 1) / 12,
              2 * np.pi * (t.day_of_year.to_numpy() - 1) / 365.25,
              2 * np.pi * t.day_of_week.to_numpy() / 7]  # fmt: skip
    if has_time:
        hours = t.hour.to_numpy() + t.minute.to_numpy() / 60 + t.second.to_numpy() / 3600
        angles.append(2 * np.pi * hours / 24)
    return angles


class CalendarFeatures(TransformerMixin, BaseEstimator):
    """Calendar features of date columns (see the module docstring).

    Attributes
    ----------
    fill_ : ndarray of shape (n_columns,), int64
        Median date of each column (ns since the epoch), for missing values.
    year_mean_, year_scale_ : ndarray of shape (n_columns,)
    has_time_ : ndarray of shape (n_columns,), bool
        Whether the column's training values have times of day.
    n_features_in_ : int
    """

    def fit(self, X, y=None):
        """Learn the imputation date, the year's mean and scale, and whether there are
        times, from X (DataFrame of datetime64 columns, or array of shape (n, k))."""
        cols = self._columns(X)
        self.n_features_in_ = len(cols)
        self.fill_ = np.zeros(len(cols), np.int64)
        self.year_mean_ = np.zeros(len(cols))
        self.year_scale_ = np.ones(len(cols))
        self.has_time_ = np.zeros(len(cols), bool)
        for i, v in enumerate(cols):
            ok = v[~np.isnat(v)]
            if not len(ok):
                raise TableError("a date column has no dates in the training rows")
            self.fill_[i] = int(np.median(ok.astype(np.int64)))
            years = ok.astype("datetime64[Y]").astype(np.int64) + 1970
            self.year_mean_[i] = years.mean()
            self.year_scale_[i] = years.std() or 1.0
            self.has_time_[i] = bool((ok != ok.astype("datetime64[D]")).any())
        return self

    def transform(self, X) -> np.ndarray:
        """Features of shape (n, sum over columns of 7, or 9 with times), float64."""
        out = []
        for i, v in enumerate(self._columns(X)):
            v = np.where(np.isnat(v), self.fill_[i].astype("datetime64[ns]"), v)
            years = v.astype("datetime64[Y]").astype(np.int64) + 1970
            out.append((years - self.year_mean_[i]) / self.year_scale_[i])
            for a in _parts(v, bool(self.has_time_[i])):
                out += [np.sin(a), np.cos(a)]
        n = len(X)
        return np.stack(out, axis=1) if out else np.zeros((n, 0))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        names = []
        for i, c in enumerate(input_features if input_features is not None else
                              [f"x{i}" for i in range(self.n_features_in_)]):  # fmt: skip
            names.append(f"{c}_year")
            parts = ["month", "dayofyear", "weekday"] + ["hour"] * bool(self.has_time_[i])
            names += [f"{c}_{p}_{f}" for p in parts for f in ("sin", "cos")]
        return np.asarray(names, dtype=object)

    @staticmethod
    def _columns(X) -> list[np.ndarray]:
        if hasattr(X, "columns"):
            return [X[c].to_numpy("datetime64[ns]") for c in X.columns]
        X = np.asarray(X, "datetime64[ns]")
        return [X[:, j] for j in range(X.shape[1])]
