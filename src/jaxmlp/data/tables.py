"""A user's table (CSV or Parquet) to a training split, with the preprocessing a careful
data scientist would do, and a clear :class:`TableError` for every bad input.

Preprocessing is a scikit-learn ``ColumnTransformer`` fitted on the training rows only:
numeric columns imputed with the median and standardised, categorical (text, boolean)
columns imputed with the most frequent value and one-hot encoded, unknown categories
ignored at prediction time.
"""

from __future__ import annotations

import csv
import difflib
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from jaxmlp.data.toy import Split

__all__ = [
    "PreparedTable",
    "Schema",
    "TableError",
    "clean_features",
    "encode_target",
    "infer_schema",
    "make_preprocessor",
    "prepare_table",
    "read_table",
]


class TableError(ValueError):
    """The table cannot be used as given; the message says why and what to do."""


def _check_ragged(path: Path, delimiter: str, quote: str) -> None:
    """Every non-empty row must have as many fields as the header."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f, delimiter=delimiter, quotechar=quote, skipinitialspace=True)
            header = next(reader, [])
            for row in reader:
                if row and len(row) != len(header):
                    raise TableError(
                        f"'{path}' has ragged rows: line {reader.line_num} has {len(row)} "
                        f"field(s) but the header has {len(header)} (delimiter "
                        f"{delimiter!r}). Every row needs one value per column (empty for "
                        "missing)."
                    )
    except UnicodeDecodeError:
        raise TableError(f"'{path}' is not a UTF-8 text CSV file.") from None
    except csv.Error as e:
        raise TableError(f"'{path}' is not a well-formed CSV file: {e}.") from None


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
        head = f.read(65536)
    if b"\x00" in head or head.startswith(b"PAR1"):
        raise TableError(
            f"'{path}' is not a CSV file (it holds binary data). Give a CSV file with a header "
            "row, or a Parquet file named *.parquet."
        )
    sample = head.decode("utf-8", errors="ignore")  # only to guess the delimiter
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter, quote = dialect.delimiter, dialect.quotechar or '"'
    except csv.Error:  # one column, or nothing to tell: the standard comma
        delimiter, quote = ",", '"'
    _check_ragged(path, delimiter, quote)
    try:
        df = pd.read_csv(path, sep=delimiter, quotechar=quote, skipinitialspace=True)
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


class Schema(NamedTuple):
    """Feature columns by kind, in table order.

    Attributes
    ----------
    features : list of str
        All feature columns, in the table's order.
    numeric : list of str
    categorical : list of str
        Text and boolean columns (and those declared categorical).
    """

    features: list
    numeric: list
    categorical: list


def _closest(name: str, columns) -> str:
    match = difflib.get_close_matches(name, [str(c) for c in columns], n=1, cutoff=0.5)
    return f" Did you mean '{match[0]}'?" if match else ""


def _numeric_values(series, column: str, declared: bool):
    """``series`` as float64; a value that is not a number is a :class:`TableError`."""
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
    return values.astype(np.float64)


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
) -> tuple[Schema, list[str]]:
    """Choose the feature columns and their kinds; returns the schema and warnings.

    Numeric: numbers (and text columns whose values are almost all numbers -- those
    must be fixed or declared categorical). Categorical: text, booleans, and columns in
    ``categorical``. ``numeric`` forces a column numeric.
    """
    import pandas as pd

    columns = list(df.columns)
    if target not in columns:
        raise TableError(
            f"Target column '{target}' is not in the table. Columns: {', '.join(columns)}."
            + _closest(target, columns)
        )
    features = [c for c in columns if c != target] if features is None else list(features)
    for c in [*features, *categorical, *numeric]:
        if c not in columns:
            raise TableError(
                f"Column '{c}' is not in the table. Columns: {', '.join(columns)}."
                + _closest(c, columns)
            )
    if target in features:
        raise TableError(f"The target column '{target}' cannot also be a feature.")
    if not features:
        raise TableError(f"The table has no feature columns besides the target '{target}'.")
    both = set(categorical) & set(numeric)
    if both:
        raise TableError(f"Column(s) {sorted(both)} are declared both numeric and categorical.")
    notes, num, cat = [], [], []
    for c in features:
        col = df[c]
        if col.isna().all():
            raise TableError(
                f"Feature column '{c}' has no values at all. Leave it out (list the others "
                "with --features) or fill it in."
            )
        if c in categorical:
            cat.append(c)
        elif c in numeric or (pd.api.types.is_numeric_dtype(col)
                              and not pd.api.types.is_bool_dtype(col)):  # fmt: skip
            _numeric_values(col, c, declared=True)
            num.append(c)
        else:
            parsed = pd.to_numeric(col, errors="coerce")
            share = parsed.notna().sum() / max(col.notna().sum(), 1)
            if share >= 0.9:  # almost all numbers: a typo, not a category
                _numeric_values(col, c, declared=False)
            cat.append(c)
        n_unique = col.nunique()
        if n_unique == 1:
            notes.append(f"column '{c}' is constant; it carries no information")
        elif n_unique == len(df) and not pd.api.types.is_float_dtype(col) and len(df) > 20:
            notes.append(f"column '{c}' has a distinct value in every row; is it an id?")
        if c in cat and n_unique > 1000:
            notes.append(f"column '{c}' has {n_unique} categories (> 1000)")
    return Schema(features, num, cat), notes


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
        else:
            out[c] = _category_values(df[c])
    return pd.DataFrame(out, index=df.index)


def make_preprocessor(schema: Schema):
    """The (unfitted) ``ColumnTransformer``: median-impute + standardise numeric columns,
    most-frequent-impute + one-hot categorical ones (unknown categories: all zeros)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return ColumnTransformer(
        [("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
          schema.numeric),
         ("categorical", make_pipeline(
             SimpleImputer(strategy="most_frequent"),
             OneHotEncoder(handle_unknown="ignore", sparse_output=False)), schema.categorical)],
    )  # fmt: skip


def target_values(df, target: str, drop_missing_target: bool):
    """Rows with a target; a missing target is a :class:`TableError` unless dropped."""
    missing = int(df[target].isna().sum())
    if missing and not drop_missing_target:
        raise TableError(
            f"Target column '{target}' has {missing} missing value(s) (of {len(df)} "
            "rows). Fill them in, or pass --drop-missing-target to drop those rows."
        )
    return df[df[target].notna()] if missing else df


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
    schema : Schema
    warnings : list of str
        Things worth knowing (id-like or constant columns, huge category counts).
    frames : tuple of DataFrame
        The train and test rows as read (for the report's data summary).
    """

    split: Split
    preprocessor: Any
    classes: np.ndarray
    schema: Schema
    warnings: list
    frames: tuple


def _check_discrete(series, target: str) -> None:
    """A classifier's target holds classes; non-integral numbers mean a regression target."""
    import pandas as pd

    if pd.api.types.is_float_dtype(series):
        values = series.to_numpy()
        fractional = values != np.round(values)
        if fractional.any():
            raise TableError(
                f"Target column '{target}' holds continuous numbers (e.g. "
                f"{values[fractional][0]!r}; {series.nunique()} distinct values): jaxmlp "
                "trains classifiers, which need a column of classes. Bin the values into "
                "classes first, or choose another --target."
            )


def encode_target(values, classes=None):
    """Class indices of ``values``; ``classes`` fixes the order (values outside it are a
    :class:`TableError`)."""
    values = np.asarray(values)
    if values.dtype == object:
        values = values.astype(str)
    if classes is None:
        classes, codes = np.unique(values, return_inverse=True)
        return classes, codes.astype(np.int32)
    lookup = {v: i for i, v in enumerate(classes.tolist())}
    codes = np.array([lookup.get(v, -1) for v in values.tolist()], np.int32)
    if (codes < 0).any():
        unknown = sorted({str(v) for v, c in zip(values.tolist(), codes, strict=True) if c < 0})
        raise TableError(
            f"The target has class(es) the model never saw: {', '.join(unknown[:5])}. "
            f"Known classes: {', '.join(map(str, classes.tolist()))}."
        )
    return classes, codes


def prepare_table(
    df,
    target: str,
    *,
    features: list[str] | None = None,
    categorical: tuple[str, ...] = (),
    numeric: tuple[str, ...] = (),
    test_size: float = 0.25,
    test_df=None,
    seed: int = 0,
    drop_missing_target: bool = False,
) -> PreparedTable:
    """Split a table stratified by its target (or use ``test_df``) and fit the
    preprocessing on the training rows.

    Raises
    ------
    TableError
        For every problem of the table (see :func:`infer_schema`, :func:`target_values`),
        a single class, or a split that leaves a set empty.
    """
    from sklearn.model_selection import train_test_split

    df = df.set_axis([str(c) for c in df.columns], axis=1)
    schema, notes = infer_schema(df, target, features, categorical, numeric)
    df = target_values(df, target, drop_missing_target)
    _check_discrete(df[target], target)
    classes, y = encode_target(df[target].to_numpy())
    if len(classes) < 2:
        raise TableError(
            f"Target column '{target}' has a single class ({classes[0]!r}); a classifier "
            "needs at least two."
        )
    if test_df is None:
        counts = np.bincount(y)
        stratify = y if counts.min() >= 2 else None
        try:
            train_df, test_part = train_test_split(df, test_size=test_size, random_state=seed,
                                                   stratify=stratify)  # fmt: skip
        except ValueError as e:
            raise TableError(
                f"Cannot split {len(df)} rows with test size {test_size}: {e}"
            ) from None
    else:
        test_df = test_df.set_axis([str(c) for c in test_df.columns], axis=1)
        if target not in test_df.columns:
            raise TableError(f"The test file has no target column '{target}'.")
        train_df = df
        test_part = target_values(test_df, target, drop_missing_target)
    _, y_tr = encode_target(train_df[target].to_numpy(), classes)
    _, y_te = encode_target(test_part[target].to_numpy(), classes)
    pre = make_preprocessor(schema)
    Xt_tr = pre.fit_transform(clean_features(train_df, schema))
    Xt_te = pre.transform(clean_features(test_part, schema))
    split = Split(Xt_tr.astype(np.float32), y_tr, Xt_te.astype(np.float32), y_te,
                  {"target": target, "features": schema.features})  # fmt: skip
    return PreparedTable(split, pre, classes, schema, notes, (train_df, test_part))
