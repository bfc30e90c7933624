"""A user's table (CSV or Parquet) to a training split, with the preprocessing a careful
data scientist would do, and a clear :class:`TableError` for every bad input.

Preprocessing is a scikit-learn ``ColumnTransformer`` fitted on the training rows only:
numeric columns imputed with the median and standardised, categorical (text, boolean)
columns imputed with the most frequent value and one-hot encoded, unknown categories
ignored at prediction time.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from jaxmlp.data import Split

__all__ = ["PreparedTable", "TableError", "prepare_table", "read_table"]


class TableError(ValueError):
    """The table cannot be used as given; the message says why and what to do."""


def read_table(path: str | Path):
    """Read a CSV (any delimiter, quoted fields, header row) or Parquet file.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    TableError
        Missing, empty, unreadable, ragged or not a CSV/Parquet file.
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise TableError(f"Data file '{path}' does not exist. Check the path.")
    if path.is_dir():
        raise TableError(f"'{path}' is a folder; give a CSV or Parquet file.")
    if path.stat().st_size == 0:
        raise TableError(f"Data file '{path}' is empty; it needs a header row and data rows.")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except Exception as e:  # pyarrow raises many types for a bad file
            raise TableError(
                f"'{path}' is not a readable Parquet file ({type(e).__name__}: {e})."
            ) from None
    with open(path, "rb") as f:
        head = f.read(4096)
    if b"\x00" in head or head.startswith(b"PAR1"):
        raise TableError(
            f"'{path}' is not a CSV file (it holds binary data). Give a CSV file with a header "
            "row, or a Parquet file named *.parquet."
        )
    try:
        # sep=None: the delimiter is sniffed (comma, semicolon, tab, ...)
        df = pd.read_csv(path, sep=None, engine="python", skipinitialspace=True)
    except pd.errors.ParserError as e:
        raise TableError(
            f"'{path}' has ragged rows: {e}. Every row needs as many fields as the header."
        ) from None
    except pd.errors.EmptyDataError:
        raise TableError(f"Data file '{path}' has no columns.") from None
    except UnicodeDecodeError:
        raise TableError(f"'{path}' is not a UTF-8 text CSV file.") from None
    if df.shape[0] == 0:
        raise TableError(f"Data file '{path}' has a header but no data rows.")
    return df


class PreparedTable(NamedTuple):
    """A table ready for training.

    Attributes
    ----------
    split : Split
        Preprocessed float32 features and int32 class indices, train and test.
    preprocessor : sklearn ColumnTransformer
        Fitted on the training rows.
    classes : ndarray of shape (n_classes,)
        Original target values, in class-index order.
    features : list of str
        Input columns, in order.
    warnings : list of str
        Things worth knowing (id-like or constant columns, huge category counts).
    """

    split: Split
    preprocessor: Any
    classes: np.ndarray
    features: list
    warnings: list


def _closest(name: str, columns) -> str:
    match = difflib.get_close_matches(name, [str(c) for c in columns], n=1, cutoff=0.5)
    return f" Did you mean '{match[0]}'?" if match else ""


def prepare_table(
    df,
    target: str,
    *,
    features: list[str] | None = None,
    test_size: float = 0.25,
    seed: int = 0,
    drop_missing_target: bool = False,
) -> PreparedTable:
    """Split a table stratified by its target and fit the preprocessing on the train part.

    Raises
    ------
    TableError
        Target or feature column absent (with the closest name), target with missing
        values (unless ``drop_missing_target``), a single class, an all-missing feature,
        no feature columns.
    """
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    columns = [str(c) for c in df.columns]
    df = df.set_axis(columns, axis=1)
    if target not in columns:
        raise TableError(
            f"Target column '{target}' is not in the table. Columns: {', '.join(columns)}."
            + _closest(target, columns)
        )
    missing = int(df[target].isna().sum())
    if missing:
        if not drop_missing_target:
            raise TableError(
                f"Target column '{target}' has {missing} missing value(s) (of {len(df)} "
                "rows). Fill them in, or pass --drop-missing-target to drop those rows."
            )
        df = df[df[target].notna()]
    features = [c for c in columns if c != target] if features is None else list(features)
    for c in features:
        if c not in columns:
            raise TableError(
                f"Feature column '{c}' is not in the table. Columns: {', '.join(columns)}."
                + _closest(c, columns)
            )
    if not features:
        raise TableError(f"The table has no feature columns besides the target '{target}'.")
    notes = []
    for c in features:
        if df[c].isna().all():
            raise TableError(
                f"Feature column '{c}' has no values at all. Drop it (list the others with "
                "--features) or fill it in."
            )
        n_unique = df[c].nunique()
        if n_unique == 1:
            notes.append(f"column '{c}' is constant; it carries no information")
        elif n_unique == len(df) and not pd.api.types.is_float_dtype(df[c]):
            notes.append(f"column '{c}' has a distinct value in every row; is it an id?")
    y_raw = df[target].to_numpy()
    classes, y = np.unique(y_raw.astype(str) if y_raw.dtype == object else y_raw,
                           return_inverse=True)  # fmt: skip
    if len(classes) < 2:
        raise TableError(
            f"Target column '{target}' has a single class ({classes[0]!r}); a classifier "
            "needs at least two."
        )
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(df[c])
               and not pd.api.types.is_bool_dtype(df[c])]  # fmt: skip
    categorical = [c for c in features if c not in numeric]
    for c in categorical:
        if df[c].nunique() > 1000:
            notes.append(f"column '{c}' has {df[c].nunique()} categories (> 1000)")
    X = df[features]
    counts = np.bincount(y)
    stratify = y if counts.min() >= 2 else None
    try:
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=seed,
                                                  stratify=stratify)  # fmt: skip
    except ValueError as e:
        raise TableError(f"Cannot split {len(df)} rows with test size {test_size}: {e}") from None
    pre = ColumnTransformer(
        [("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
         ("categorical", make_pipeline(
             SimpleImputer(strategy="most_frequent"),
             OneHotEncoder(handle_unknown="ignore", sparse_output=False)), categorical)],
    )  # fmt: skip
    Xt_tr = pre.fit_transform(X_tr.astype({c: object for c in categorical}))
    Xt_te = pre.transform(X_te.astype({c: object for c in categorical}))
    split = Split(Xt_tr.astype(np.float32), y_tr.astype(np.int32), Xt_te.astype(np.float32),
                  y_te.astype(np.int32), {"target": target, "features": features})  # fmt: skip
    return PreparedTable(split, pre, classes, features, notes)
