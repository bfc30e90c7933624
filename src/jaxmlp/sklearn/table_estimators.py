"""``TableClassifier`` and ``TableRegressor``: the better-by-default model of
``jaxmlp train`` as scikit-learn estimators that take a DataFrame (parameters, fitting
and column handling in their base, :class:`~jaxmlp.sklearn.table_model.TableModel`);
and the two ways to make one other than ``fit``: from the member settings of
``jaxmlp train`` (:func:`table_estimator`) and from fitted parts, as a model folder
holds them (:func:`fitted_table_model`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from jaxmlp.data.prepare import encode_target
from jaxmlp.data.schema import Schema
from jaxmlp.data.tables import TableError
from jaxmlp.data.target import check_classes, regression_values
from jaxmlp.sklearn.table_model import TableModel

__all__ = ["TableClassifier", "TableRegressor", "fitted_table_model", "table_estimator"]


class TableClassifier(ClassifierMixin, TableModel):
    """The table classifier of ``jaxmlp train``, as a scikit-learn estimator that takes a
    DataFrame: see :class:`TableModel` for the parameters.

    Examples
    --------
    >>> import pandas as pd
    >>> from jaxmlp import TableClassifier
    >>> df = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0] * 10, "colour": ["a", "b"] * 20})
    >>> clf = TableClassifier(hidden_layer_sizes=(8,), ensemble=2, max_iter=5,
    ...                       random_state=0).fit(df, df["colour"] == "a")
    >>> clf.predict(df.head(2)).tolist()
    [True, False]
    """

    task = "classification"

    def _targets(self, y) -> tuple[np.ndarray, str, Any]:
        check_classes(y, "y")
        values = np.asarray(y.to_numpy())
        classes, codes = encode_target(values if values.dtype != object else values.astype(str))
        if len(classes) < 2:
            raise ValueError(f"y has one class ({classes[0]!r}); a classifier needs at least "
                             "two classes.")  # fmt: skip
        return codes, "binary" if len(classes) == 2 else "multiclass", classes

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_rows, n_classes), columns in ``classes_`` order."""
        return self.predict_proba_encoded(self.encode_features(X))

    def predict_proba_encoded(self, Xt: np.ndarray) -> np.ndarray:
        """Class probabilities of preprocessed rows Xt of shape (n, n_encoded), in float64,
        each row summing to 1 to float64 rounding (a float32 network's sum to 1 within
        ~1e-7, which scikit-learn's ``log_loss`` warns about)."""
        p = np.asarray(self.estimator_.predict_proba(Xt), np.float64)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Predicted labels, shape (n_rows,)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def encode(self, labels) -> np.ndarray:
        """Class indices of target labels (unknown labels are a :class:`TableError`)."""
        return encode_target(labels, self.classes_)[1]


class TableRegressor(RegressorMixin, TableModel):
    """The table regressor of ``jaxmlp train``, as a scikit-learn estimator that takes a
    DataFrame: see :class:`TableModel` for the parameters. It learns the standardised
    target and answers in the target's units."""

    task = "regression"

    def _targets(self, y) -> tuple[np.ndarray, str, Any]:
        return regression_values(y, "y"), "continuous", None

    def predict(self, X) -> np.ndarray:
        """Predicted numbers in the target's units, shape (n_rows,), float64."""
        return self.predict_values(self.encode_features(X))


def fitted_table_model(estimator: Any, preprocessor: Any, schema: Schema, target: str,
                       classes: np.ndarray | None, *, info: dict | None = None,
                       task: str = "classification", target_mean: float = 0.0,
                       target_scale: float = 1.0,
                       params: dict | None = None) -> TableModel:  # fmt: skip
    """A :class:`TableClassifier` or :class:`TableRegressor` made of fitted parts (a
    model folder's, or a fit driven elsewhere); ``params`` are its parameters (default:
    those the members show)."""
    if task not in ("classification", "regression"):
        raise TableError(f"unknown task {task!r}")
    if task == "classification" and (classes is None or len(classes) < 2):
        raise TableError("a table classifier needs at least two classes")
    if task == "regression" and not (np.isfinite(target_scale) and target_scale > 0):
        raise TableError(f"target scale {target_scale!r} is not a positive number")
    model = (TableRegressor if task == "regression" else TableClassifier)()
    members = list(getattr(estimator, "estimators_", [estimator]))
    shown = members[0].get_params()
    own = {k: shown[k] for k in model.get_params() if k in shown and k != "random_state"}
    # a folder that does not record cv was written before cross-fitting: a holdout
    model.set_params(**{**own, "ensemble": len(members), "cv": None, **(params or {})})
    model.estimator_, model.preprocessor_, model.schema_ = estimator, preprocessor, schema
    model.target_, model.target_mean_, model.target_scale_ = target, target_mean, target_scale
    model.info_ = dict(info or {})
    # the out-of-fold score the folder recorded (its predictions are not kept)
    scores = model.info_.get("validation", {}) if model.info_.get("scored") == "out-of-fold" else {}
    model.oof_predictions_ = None
    model.oof_score_ = scores.get("r2" if task == "regression" else "accuracy")
    model.n_iter_ = max(int(getattr(m, "n_iter_", 0)) for m in members)
    model.n_features_in_ = len(schema.features)
    model.feature_names_in_ = np.asarray(schema.features, dtype=object)
    if classes is not None:
        model.classes_ = np.asarray(classes)
    return model


def table_estimator(params: dict, regression: bool, **options: Any) -> TableModel:
    """The unfitted :class:`TableClassifier` (or :class:`TableRegressor`) of member
    keyword arguments ``params`` (those it does not name go to ``mlp_params``; a
    regressor drops ``class_weight``) and the table ``options`` (``ensemble``,
    ``scaling``, ``max_onehot``, ...)."""
    names = set(TableModel().get_params())
    own = {k: v for k, v in params.items() if k in names}
    rest = {k: v for k, v in params.items()
            if k not in names and not (regression and k == "class_weight")}  # fmt: skip
    cls = TableRegressor if regression else TableClassifier
    return cls(**own, **options, mlp_params=rest or None)
