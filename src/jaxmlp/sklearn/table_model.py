"""``TableModel``: the preprocessing + classifier pipeline that ``jaxmlp train`` builds.

It takes a DataFrame with the training table's feature columns (in any order, extra
columns ignored), applies the fitted ``ColumnTransformer`` and the fitted
:class:`~jaxmlp.MLPClassifier`, and answers in the target's own class labels.
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
    """A fitted table classifier.

    Attributes
    ----------
    estimator : MLPClassifier
        Fitted on the preprocessed features and class indices ``0..k-1``.
    preprocessor : sklearn.compose.ColumnTransformer
        Fitted on the training rows.
    schema : Schema
        Feature columns and their kinds.
    target : str
        Name of the target column.
    classes : ndarray of shape (n_classes,)
        The target's labels; class index ``i`` is ``classes[i]``.
    info : dict
        Training metrics and data summary kept with the model (JSON-able).
    """

    estimator: Any
    preprocessor: Any
    schema: Schema
    target: str
    classes: np.ndarray
    info: dict = dataclasses.field(default_factory=dict)

    def check_columns(self, df) -> list[str]:
        """Raise :class:`TableError` for missing feature columns; return notes about
        extra columns (ignored) and unseen categories (encoded as all zeros)."""
        notes = []
        extra = [c for c in df.columns if c not in self.schema.features and c != self.target]
        if extra:
            notes.append(f"ignored column(s) the model does not use: {', '.join(map(str, extra))}")
        clean = clean_features(df, self.schema)  # raises for missing / mistyped columns
        encoder = self.preprocessor.named_transformers_["categorical"][-1]
        for c, known in zip(self.schema.categorical, getattr(encoder, "categories_", []),
                            strict=False):  # fmt: skip
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
        return self.estimator.predict_proba(self.transform(df))

    def predict(self, df) -> np.ndarray:
        """Predicted labels, shape (n_rows,)."""
        return self.classes[np.argmax(self.predict_proba(df), axis=1)]

    def encode(self, labels) -> np.ndarray:
        """Class indices of target labels (unknown labels are a :class:`TableError`)."""
        return encode_target(labels, self.classes)[1]

    def __post_init__(self) -> None:
        if len(self.classes) < 2:
            raise TableError("a TableModel needs at least two classes")
