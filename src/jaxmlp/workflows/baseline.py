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
