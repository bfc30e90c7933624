"""``TableModel``: the preprocessing + MLP pipeline that ``jaxmlp train`` builds.

It takes a DataFrame with the training table's feature columns (in any order, extra
columns ignored), applies the fitted ``ColumnTransformer`` and the fitted
:class:`~jaxmlp.MLPClassifier` (answering in the target's own class labels) or
:class:`~jaxmlp.MLPRegressor` (answering in the target's own units: it was trained on the
standardised target, as scikit-learn's ``TransformedTargetRegressor`` with a
``StandardScaler`` would).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from jaxmlp.data.prepare import encode_target
from jaxmlp.data.schema import Schema, clean_features
from jaxmlp.data.tables import TableError

__all__ = ["TableModel"]


@dataclasses.dataclass
class TableModel:
    """A fitted table classifier or regressor.

    Attributes
    ----------
    estimator : MLPClassifier, MLPRegressor, MLPEnsembleClassifier or MLPEnsembleRegressor
        Fitted on the preprocessed features and class indices ``0..k-1`` (or the
        standardised target ``(y - target_mean) / target_scale``); ``jaxmlp train``
        fits an ensemble by default.
    preprocessor : sklearn.compose.ColumnTransformer
        Fitted on the training rows.
    schema : Schema
        Feature columns and their kinds.
    target : str
        Name of the target column.
    classes : ndarray of shape (n_classes,) or None
        The target's labels; class index ``i`` is ``classes[i]``. None for regression.
    info : dict
        Training metrics and data summary kept with the model (JSON-able).
    task : {'classification', 'regression'}
    target_mean, target_scale : float
        Regression: the training rows' target mean and standard deviation.
    """

    estimator: Any
    preprocessor: Any
    schema: Schema
    target: str
    classes: np.ndarray | None
    info: dict = dataclasses.field(default_factory=dict)
    task: str = "classification"
    target_mean: float = 0.0
    target_scale: float = 1.0

    @property
    def regression(self) -> bool:
        return self.task == "regression"

    @property
    def members(self) -> list:
        """The fitted networks: an ensemble's members, or the one estimator."""
        return list(getattr(self.estimator, "estimators_", [self.estimator]))

    def check_columns(self, df) -> list[str]:
        """Raise :class:`TableError` for missing feature columns; return notes about
        extra columns (ignored) and unseen categories (encoded as all zeros)."""
        notes = []
        extra = [c for c in df.columns if c not in self.schema.features and c != self.target]
        if extra:
            notes.append(f"ignored column(s) the model does not use: {', '.join(map(str, extra))}")
        clean = clean_features(df, self.schema)  # raises for missing / mistyped columns
        encoder = self.preprocessor.named_transformers_["categorical"][-1]  # one-hot
        target = self.preprocessor.named_transformers_["target"]
        encoders = [*zip(self.schema.onehot, getattr(encoder, "categories_", []), strict=False),
                    *zip(self.schema.target_encoded,
                         getattr(target[1], "categories_", []), strict=False)]  # fmt: skip
        for c, known in encoders:
            seen = clean[c].dropna()
            unseen = sorted(set(seen) - set(known.tolist()))
            if unseen:
                notes.append(f"column '{c}' has categories unseen in training (treated as "
                             f"unknown): {', '.join(unseen[:5])}")  # fmt: skip
        return notes

    def transform(self, df) -> np.ndarray:
        """Preprocessed features, shape (n_rows, n_encoded), float32."""
        df = df.set_axis([str(c) for c in df.columns], axis=1)
        X = self.preprocessor.transform(clean_features(df, self.schema))
        return np.asarray(X, np.float32)

    def predict_proba(self, df) -> np.ndarray:
        """Class probabilities, shape (n_rows, n_classes), columns in ``classes`` order."""
        if self.regression:
            raise TableError("a regression model predicts numbers, not class probabilities")
        return self.estimator.predict_proba(self.transform(df))

    def predict(self, df) -> np.ndarray:
        """Predicted labels (or numbers, in the target's units), shape (n_rows,)."""
        if self.regression:
            return self.predict_values(self.transform(df))
        assert self.classes is not None
        return self.classes[np.argmax(self.predict_proba(df), axis=1)]

    def predict_values(self, X: np.ndarray) -> np.ndarray:
        """A regressor's predictions in the target's units for preprocessed rows X of
        shape (n, n_encoded); shape (n,), float64."""
        z = np.asarray(self.estimator.predict(X), np.float64).reshape(len(X))
        return z * self.target_scale + self.target_mean

    def encode(self, labels) -> np.ndarray:
        """Class indices of target labels (unknown labels are a :class:`TableError`)."""
        return encode_target(labels, self.classes)[1]

    def __post_init__(self) -> None:
        if self.task not in ("classification", "regression"):
            raise TableError(f"unknown task {self.task!r}")
        if not self.regression and (self.classes is None or len(self.classes) < 2):
            raise TableError("a table classifier needs at least two classes")
        if self.regression and not (np.isfinite(self.target_scale) and self.target_scale > 0):
            raise TableError(f"target scale {self.target_scale!r} is not a positive number")
