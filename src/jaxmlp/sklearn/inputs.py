"""scikit-learn's side of a fit's input: X and y validated, labels binarised, sample and
class weights, the early-stopping split -- with scikit-learn's own messages."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import _check_sample_weight, column_or_1d, validate_data

if TYPE_CHECKING:
    from jaxmlp.sklearn.base import BaseMLP
    from jaxmlp.sklearn.classifier import MLPClassifier
    from jaxmlp.sklearn.regressor import MLPRegressor

__all__ = ["Validated", "dense", "early_stopping_split", "eval_targets", "sample_weights",
           "validate_fit_input", "validate_regression_input", "validated"]  # fmt: skip

_DTYPES = (np.float64, np.float32)


def dense(X: Any, dtype: Any) -> np.ndarray:
    """Dense rows of ``dtype``; sparse input is densified (the engine works on dense
    arrays)."""
    if sp.issparse(X):
        X = X.toarray()
    return np.ascontiguousarray(X, dtype=dtype)


def validate_rows(est: BaseMLP, X: Any) -> Any:
    """X for prediction: checked against the fitted feature count (and names)."""
    return validate_data(est, X, accept_sparse=["csr", "csc"], reset=False, dtype=_DTYPES)


def _check_classes(est: MLPClassifier, y: np.ndarray, incremental: bool) -> None:
    classes = unique_labels(y)
    if est.warm_start and not incremental:
        if set(classes) != set(est.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in "
                f"the previous call to fit. Previously got {est.classes_}, `y` has "
                f"{classes}"
            )
    elif len(np.setdiff1d(classes, est.classes_, assume_unique=True)):
        raise ValueError(
            f"`y` has classes not in `self.classes_`. `self.classes_` has "
            f"{est.classes_}. 'y' has {classes}."
        )


def validate_fit_input(est: MLPClassifier, X: Any, y: Any, incremental: bool, reset: bool):
    """``(X, y, Y)``: validated rows, labels of shape (n,) or (n, k), and their binarised
    targets of shape (n, n_outputs); sets ``classes_`` on a fresh fit."""
    X, y = validate_data(est, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                         dtype=_DTYPES, reset=reset)  # fmt: skip
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    if not hasattr(est, "classes_") or (not est.warm_start and not incremental):
        est._label_binarizer = LabelBinarizer()
        est._label_binarizer.fit(y)
        est.classes_ = est._label_binarizer.classes_
    else:
        _check_classes(est, y, incremental)
    if len(est.classes_) < 2 and est._label_binarizer.y_type_ != "multilabel-indicator":
        raise ValueError(
            "Classifier can't train when only one class is present: y has the single "
            f"class {est.classes_[0]!r}. Provide samples of at least two classes."
        )
    Y = est._label_binarizer.transform(y).astype(X.dtype)
    return X, y, Y


def validate_regression_input(est: MLPRegressor, X: Any, y: Any, reset: bool):
    """``(X, y, Y)`` of a regressor: validated rows, the target as given (n,) or (n, k)
    (a single column made 1-d, with scikit-learn's warning), and the engine's targets of
    shape (n, n_outputs) in X's precision."""
    X, y = validate_data(est, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                         y_numeric=True, dtype=_DTYPES, reset=reset)  # fmt: skip
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    if est.loss == "poisson" and np.any(y < 0):
        raise ValueError(
            f"loss='poisson' needs non-negative targets (counts, rates); y has the value "
            f"{float(np.min(y))!r}. Use loss='squared_error' for targets that can be negative."
        )
    Y = np.asarray(y, dtype=X.dtype).reshape(X.shape[0], -1)
    return X, y, Y


@dataclasses.dataclass
class Validated:
    """A fit's input after scikit-learn's validation, to share among estimators that fit
    the same X and y (ensemble members, a grid's candidates on one fold): ``X`` dense in
    the training ``dtype``, labels ``y`` (n,) or (n, k), binarised ``Y`` (n, n_outputs),
    and the fitted attributes the validation set on the first estimator."""

    X: np.ndarray
    y: np.ndarray
    Y: np.ndarray
    dtype: np.dtype
    attributes: dict


_SHARED = ("classes_", "_label_binarizer", "n_features_in_", "feature_names_in_")


def validated(est: BaseMLP, X: Any, y: Any, incremental: bool, reset: bool,
              shared: Validated | None = None) -> Validated:  # fmt: skip
    """Validate (X, y) for ``est`` -- or, given ``shared`` from an estimator with the same
    input and precision, take its result (scikit-learn's checks cost ~3 ms per fit)."""
    if shared is not None:
        for name, value in shared.attributes.items():
            setattr(est, name, value)
        return shared
    X, y_raw, Y = est._validate_input(X, y, incremental, reset)
    # float32 or float64: the input's precision, as in scikit-learn, unless asked
    dtype = np.dtype(X.dtype if est.dtype is None else est.dtype)
    attributes = {name: getattr(est, name) for name in _SHARED if hasattr(est, name)}
    return Validated(dense(X, dtype), y_raw, Y, dtype, attributes)


def eval_targets(est: BaseMLP, X: Any, y: Any, dtype: Any, kind: str):
    """An ``eval_set`` pair as engine rows and targets (for the output ``kind``)."""
    X = dense(validate_rows(est, X), dtype)
    if kind in ("squared", "poisson"):
        return X, np.asarray(y, dtype=dtype).reshape(X.shape[0], -1)
    Y = est._label_binarizer.transform(np.asarray(y)).astype(dtype)
    return X, (Y.argmax(axis=1).astype(np.int32) if kind == "softmax" else Y)


def sample_weights(est: BaseMLP, y: np.ndarray, sample_weight: Any, X: Any) -> np.ndarray:
    """Per-row weights, shape (n,): ``sample_weight`` times ``class_weight`` (classifiers)."""
    w = np.ones(X.shape[0], np.float64)
    if sample_weight is not None:
        w = _check_sample_weight(sample_weight, X, ensure_non_negative=True).astype(np.float64)
    if getattr(est, "class_weight", None) is not None:
        if est._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError(
                "class_weight is not supported for multi-label targets; pass per-sample "
                "weights as sample_weight instead."
            )
        present = np.unique(y)
        cw = compute_class_weight(est.class_weight, classes=present, y=y)
        lookup = dict(zip(present, cw, strict=True))
        w = w * np.array([lookup[v] for v in y], np.float64)
    return w


def early_stopping_split(est: BaseMLP, X, targets, w, Y, random_state):
    """Hold out a ``validation_fraction`` exactly as scikit-learn does:
    ``(X_train, X_val, t_train, t_val, w_train, w_val)``.

    Like scikit-learn 1.9, it stratifies only a binary target (one output), on the
    binarised targets ``Y`` of shape (n, 1); multi-class, multi-label and regression
    (``Y=None``) splits are plain shuffles. A class with a single member is
    scikit-learn's own error."""
    stratify = Y.astype(bool) if Y is not None and Y.shape[1] == 1 else None
    kw = {"random_state": random_state, "test_size": est.validation_fraction}
    parts = train_test_split(X, targets, w, stratify=stratify, **kw)
    if parts[1].shape[0] < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or the size "
            "of your dataset."
        )
    return parts
