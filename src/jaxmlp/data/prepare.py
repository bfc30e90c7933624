"""A table ready for training: rows with a target, the classes encoded (or the numbers of a
regression target), a split -- stratified for classes -- (or a test file), and the
preprocessing fitted on the training rows."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from jaxmlp.data.schema import Schema, clean_features, infer_schema, make_preprocessor
from jaxmlp.data.tables import TableError
from jaxmlp.data.target import check_classes, choose_task, regression_values
from jaxmlp.data.toy import Split

__all__ = ["PreparedTable", "encode_target", "fit_preprocessor", "prepare_table",
           "target_values"]  # fmt: skip


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
        Preprocessed float32 features and int32 class indices (float64 target values for
        regression), train and test.
    preprocessor : sklearn ColumnTransformer
        Fitted on the training rows.
    classes : ndarray of shape (n_classes,) or None
        Original target values, in class-index order; None for regression.
    schema : Schema
    warnings : list of str
        Things worth knowing (id-like or constant columns, huge category counts).
    frames : tuple of DataFrame
        The train and test rows as read (for the report's data summary).
    """

    split: Split
    preprocessor: Any
    classes: np.ndarray | None
    schema: Schema
    warnings: list
    frames: tuple
    task: str = "classification"
    task_note: str | None = None  # what --task auto chose for a numeric target, and why

    @property
    def regression(self) -> bool:
        return self.task == "regression"


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
    keep: tuple[str, ...] = (),
    task: str = "auto",
    datetime: tuple[str, ...] = (),
    max_onehot: int | None = 50,
    scaling: str = "robust",
) -> PreparedTable:
    """Split a table -- stratified by its classes -- (or use ``test_df``) and fit the
    preprocessing on the training rows. ``task`` is 'classification', 'regression' or
    'auto' (see :func:`jaxmlp.data.target.choose_task`). Categorical columns with more
    than ``max_onehot`` levels in the training rows are target-encoded (None: never).
    ``scaling`` is the numeric columns' (see :func:`~jaxmlp.data.schema.make_preprocessor`).

    Raises
    ------
    TableError
        For every problem of the table (see :func:`infer_schema`, :func:`target_values`),
        a single class, or a split that leaves a set empty.
    """
    read_notes = list(df.attrs.get("notes", ()))  # what read_table did (a row index left out)
    df = df.set_axis([str(c) for c in df.columns], axis=1)
    schema, notes = infer_schema(df, target, features, categorical, numeric, keep, datetime)
    notes = [*read_notes, *notes]
    rows = len(df)
    df = target_values(df, target, drop_missing_target)
    if len(df) < rows:
        notes.append(f"left out {rows - len(df)} of the {rows} rows: no '{target}' value "
                     "(--drop-missing-target)")  # fmt: skip
    task, note = choose_task(df[target], target, task)
    if task == "regression":
        table = _prepare_regression(df, target, schema, notes, test_size, test_df, seed,
                                    drop_missing_target, max_onehot, scaling)  # fmt: skip
        return table._replace(task_note=note)
    check_classes(df[target], target)
    classes, y = encode_target(df[target].to_numpy())
    if len(classes) < 2:
        raise TableError(
            f"Target column '{target}' has a single class ('{classes[0]}'); a classifier "
            "needs at least two."
        )
    stratify = y if np.bincount(y).min() >= 2 else None
    train_df, test_part = _split(df, target, test_size, test_df, seed, drop_missing_target,
                                 stratify, schema.features)  # fmt: skip
    _, y_tr = encode_target(train_df[target].to_numpy(), classes)
    _, y_te = encode_target(test_part[target].to_numpy(), classes)
    missing = [str(c) for i, c in enumerate(classes) if not (y_tr == i).any()]
    if missing:
        raise TableError(
            f"The training rows have no row of class(es) {', '.join(map(repr, missing))} of "
            f"target '{target}' (too rare to split: every class needs at least 2 rows). Add "
            "rows of those classes, drop them, or give the validation rows with --test-file."
        )
    split, pre, schema = _preprocess(schema, target, train_df, test_part, y_tr, y_te,
                                     max_onehot, seed, scaling,
                                     "binary" if len(classes) == 2 else "multiclass")  # fmt: skip
    return PreparedTable(split, pre, classes, schema, notes, (train_df, test_part))


def _split(
    df,
    target: str,
    test_size: float,
    test_df,
    seed: int,
    drop: bool,
    stratify: np.ndarray | None = None,
    features: list[str] | None = None,
) -> tuple:
    """``(training rows, validation rows)``: a seeded hold-out of ``df`` (stratified by
    ``stratify``), or all of ``df`` and the rows of ``test_df`` that have a target (and
    every column of ``features``); with ``test_size`` 0 (a cross-fit, scored out of fold)
    all of ``df`` twice."""
    from sklearn.model_selection import train_test_split

    if test_df is None and test_size == 0:  # cross-fitted: every row trains and is scored
        return df, df
    if test_df is None:
        try:
            return tuple(train_test_split(df, test_size=test_size, random_state=seed,
                                          stratify=stratify))  # fmt: skip
        except ValueError as e:
            raise TableError(
                f"Cannot split {len(df)} rows with test size {test_size}: {e}"
            ) from None
    test_df = test_df.set_axis([str(c) for c in test_df.columns], axis=1)
    if target not in test_df.columns:
        raise TableError(f"The test file has no target column '{target}'.")
    lacking = [c for c in features or () if c not in test_df.columns]
    if lacking:
        raise TableError(f"The test file lacks column(s) the training table has: "
                         f"{', '.join(lacking)}. Give it every feature column.")  # fmt: skip
    return df, target_values(test_df, target, drop)


def fit_preprocessor(schema: Schema, train_df, y_tr: np.ndarray, max_onehot: int | None,
                     seed: int, scaling: str,
                     target_type: str) -> tuple[np.ndarray, Any, Schema]:  # fmt: skip
    """Fit the preprocessing on the training rows ``train_df``: returns their features
    (float32, shape (n, n_encoded)), the fitted ``ColumnTransformer`` and the schema with
    its target-encoded columns (the categorical ones above ``max_onehot`` levels; None:
    never). The target-encoder learns from ``y_tr`` (n,), of ``target_type``:
    'continuous', 'binary' or 'multiclass' -- said, never inferred from the values."""
    clean = clean_features(train_df, schema)
    if max_onehot is not None:
        many = [c for c in schema.categorical if clean[c].nunique() > max_onehot]
        schema = schema._replace(target_encoded=many)
    pre = make_preprocessor(schema, seed, stratify=target_type != "continuous",
                            scaling=scaling, target_type=target_type)  # fmt: skip
    return np.asarray(pre.fit_transform(clean, y_tr), np.float32), pre, schema


def _preprocess(schema: Schema, target: str, train_df, test_part, y_tr, y_te,
                max_onehot: int | None, seed: int, scaling: str, target_type: str):  # fmt: skip
    """The split of preprocessed features (float32), the preprocessor fitted on the
    training rows (:func:`fit_preprocessor`) and the schema with its target-encoded
    columns."""
    Xt_tr, pre, schema = fit_preprocessor(schema, train_df, y_tr, max_onehot, seed, scaling,
                                          target_type)  # fmt: skip
    Xt_te = pre.transform(clean_features(test_part, schema))
    split = Split(Xt_tr, y_tr, Xt_te.astype(np.float32), y_te,
                  {"target": target, "features": schema.features})  # fmt: skip
    return split, pre, schema


def _prepare_regression(df, target: str, schema: Schema, notes: list, test_size: float,
                        test_df, seed: int, drop: bool,
                        max_onehot: int | None, scaling: str) -> PreparedTable:  # fmt: skip
    """:func:`prepare_table` for a numeric target: a plain shuffled split."""
    regression_values(df[target], target)  # checked on all rows first
    train_df, test_part = _split(df, target, test_size, test_df, seed, drop, None,
                                 schema.features)  # fmt: skip
    y_tr = regression_values(train_df[target], target)
    y_te = regression_values(test_part[target], target, spread=False)
    split, pre, schema = _preprocess(schema, target, train_df, test_part, y_tr, y_te,
                                     max_onehot, seed, scaling, "continuous")  # fmt: skip
    return PreparedTable(split, pre, None, schema, notes, (train_df, test_part), "regression")
