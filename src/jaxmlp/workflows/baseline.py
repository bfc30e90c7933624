"""scikit-learn's own ``MLPClassifier`` as the baseline every report compares with, and
its ``HistGradientBoostingClassifier`` (the one tabular practitioners reach for first).

``jaxmlp demo`` fits the tutorial's ``MLPClassifier(alpha=1, max_iter=1000,
random_state=0)``; ``jaxmlp train`` fits the counterpart of the jaxmlp model's own
settings (:func:`sklearn_params`). Both go through :func:`fit_baseline`.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from jaxmlp.core.activations import REGISTRY

__all__ = ["Baseline", "fit_baseline", "fit_gradient_boosting", "sklearn_params"]

# jaxmlp-only estimator options, which scikit-learn's MLPClassifier does not take
_JAXMLP_ONLY = ("dropout", "class_weight", "dtype", "optimizer", "early_stopping_metric")


@dataclasses.dataclass
class Baseline:
    """A fitted scikit-learn ``MLPClassifier``, its fit time and what it warned."""

    model: Any
    fit_time_s: float
    warnings: list[str]


def sklearn_params(params: dict[str, Any]) -> dict[str, Any]:
    """scikit-learn ``MLPClassifier`` keyword arguments closest to jaxmlp ``params``:
    jaxmlp-only options dropped, an activation scikit-learn lacks (swish, gelu) replaced
    by 'relu', 'sigmoid' by its scikit-learn name 'logistic'."""
    kw = {k: v for k, v in params.items() if k not in _JAXMLP_ONLY}
    activation = kw.get("activation")
    if isinstance(activation, str) and activation in REGISTRY:
        kw["activation"] = REGISTRY[activation].sklearn or "relu"
    return kw


def fit_baseline(X: np.ndarray, y: np.ndarray, regression: bool = False,
                 **params: Any) -> Baseline:  # fmt: skip
    """Fit ``sklearn.neural_network.MLPClassifier(**params)`` (``MLPRegressor`` with
    ``regression``) on X of shape (n, n_features) and y of shape (n,), timing it and
    recording its warnings."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    return _timed_fit((MLPRegressor if regression else MLPClassifier)(**params), X, y)


def fit_gradient_boosting(X: np.ndarray, y: np.ndarray, random_state: int | None = 0,
                          regression: bool = False) -> Baseline:  # fmt: skip
    """Fit scikit-learn's ``HistGradientBoostingClassifier`` (``...Regressor`` with
    ``regression``) with its defaults -- the baseline a tabular practitioner compares with
    first -- on X of shape (n, n_features) and y of shape (n,), timing it."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
    return _timed_fit(cls(random_state=random_state), X, y)


def _timed_fit(model: Any, X: np.ndarray, y: np.ndarray) -> Baseline:
    """``model.fit(X, y)``, timed, its warnings recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - t0
    return Baseline(model, seconds, [str(w.message) for w in caught])


def scored(fit: Callable[[np.ndarray, np.ndarray], Baseline],
           predict: Callable[[Any, np.ndarray], np.ndarray], X: np.ndarray, y: np.ndarray,
           X_val: np.ndarray, folds: list | None) -> tuple[np.ndarray, float]:  # fmt: skip
    """A baseline's predictions to score, and the seconds its fits took: ``fit(X, y)`` then
    ``predict(model, X_val)``; or with ``folds`` (arrays of row indices of X) out of fold,
    as the cross-fitted table model is scored -- one fit per fold on the other rows,
    predicting the fold's rows (shape (n,) or (n, n_classes), in X's row order)."""
    if folds is None:
        fitted = fit(X, y)
        return np.asarray(predict(fitted.model, X_val)), fitted.fit_time_s
    out: np.ndarray | None = None
    seconds = 0.0
    for held in folds:
        rest = np.ones(len(X), bool)
        rest[held] = False
        fitted = fit(X[rest], y[rest])
        part = np.asarray(predict(fitted.model, X[held]))
        if out is None:
            out = np.zeros((len(X), *part.shape[1:]), part.dtype)
        out[held] = part
        seconds += fitted.fit_time_s
    assert out is not None, "at least one fold"
    return out, seconds
