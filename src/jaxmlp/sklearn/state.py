"""An estimator's fitted state as plain data, and its weights in both layouts.

:class:`FittedState` is what ``MLPClassifier.get_fitted_state()`` exports and
``set_fitted_state()`` restores: pickling and the model files (:mod:`jaxmlp.io`) both go
through that one pair, so neither knows the estimator's private attributes.

scikit-learn keeps one ``(n_in, n_out)`` matrix per layer in ``coefs_``; the stax network
keeps ``[(W, b), (), (W, b), ...]`` with ``()`` for activation (and dropout) layers, and
a first layer padded with zero rows to the padded feature count.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import jax.numpy as jnp
import numpy as np

from jaxmlp.core.activations import REGISTRY

__all__ = [
    "FITTED_ATTRIBUTES",
    "OUT_ACTIVATIONS",
    "FittedState",
    "coefs_from_params",
    "export_state",
    "initial_weights",
    "initialize",
    "params_from_coefs",
    "restore_state",
]


@dataclasses.dataclass
class FittedState:
    """Everything a fitted ``MLPClassifier`` or ``MLPRegressor`` knows beyond its
    parameters.

    Attributes
    ----------
    classes : ndarray of shape (n_classes,) or None
        ``classes_`` (for multi-label targets, the label indices); None for a regressor.
    y_type : str
        scikit-learn's target type: 'binary', 'multiclass' or 'multilabel-indicator';
        'continuous' or 'continuous-multioutput' for a regressor.
    n_features_in : int
    feature_names_in : ndarray of str or None
    n_inputs : int
        Input width of the compiled network (``n_features_in`` padded, see
        :func:`jaxmlp.core.program.feature_bucket`).
    n_outputs, n_layers : int
    out_activation : {'softmax', 'logistic', 'identity', 'exp'}
    n_iter, t : int
        ``n_iter_`` and ``t_`` (training samples seen).
    loss : float
    coefs, intercepts : list of ndarray
        ``coefs_`` (each (n_in, n_out)) and ``intercepts_`` (each (n_out,)): the weights
        predictions use (the best ones, with early stopping).
    loss_curve, validation_scores, validation_loss_curve : list of float or None
    best_loss, best_validation_score : float or None
    stop_training : bool
    latest_coefs, latest_intercepts : list of ndarray or None
        The weights training continues from (with early stopping, not the best ones);
        None: the same as ``coefs``/``intercepts``.
    engine_state : pytree of ndarray or None
        The optimizer state and counters to continue training exactly (``warm_start``,
        ``partial_fit``); None restarts the optimizer (model files do not keep it).
    """

    classes: np.ndarray | None
    y_type: str
    n_features_in: int
    feature_names_in: np.ndarray | None
    n_inputs: int
    n_outputs: int
    n_layers: int
    out_activation: str
    n_iter: int
    t: int
    loss: float
    coefs: list[np.ndarray]
    intercepts: list[np.ndarray]
    loss_curve: list[float] | None = None
    validation_scores: list[float] | None = None
    validation_loss_curve: list[float] | None = None
    best_loss: float | None = None
    best_validation_score: float | None = None
    stop_training: bool = False
    latest_coefs: list[np.ndarray] | None = None
    latest_intercepts: list[np.ndarray] | None = None
    engine_state: Any = None
    eval_curves: np.ndarray | None = None


# the engine's output kind -> scikit-learn's out_activation_
OUT_ACTIVATIONS = {"softmax": "softmax", "logistic": "logistic", "squared": "identity",
                   "poisson": "exp"}  # fmt: skip
KINDS = {v: k for k, v in OUT_ACTIVATIONS.items()}


# fitted attribute of the estimator -> field of FittedState (the rest are set below)
_ATTRIBUTES = {
    "classes_": "classes", "n_features_in_": "n_features_in", "n_outputs_": "n_outputs",
    "n_layers_": "n_layers", "out_activation_": "out_activation", "n_iter_": "n_iter",
    "t_": "t", "loss_": "loss", "coefs_": "coefs", "intercepts_": "intercepts",
    "loss_curve_": "loss_curve", "validation_scores_": "validation_scores",
    "validation_loss_curve_": "validation_loss_curve", "best_loss_": "best_loss",
    "best_validation_score_": "best_validation_score", "stop_training_": "stop_training",
    "eval_curves_": "eval_curves",
}  # fmt: skip
# every attribute get_fitted_state() carries (left out of the plain pickled __dict__)
FITTED_ATTRIBUTES = frozenset(
    {
        *_ATTRIBUTES,
        "feature_names_in_",
        "_label_binarizer",
        "_n_inputs",
        "_latest_coefs",
        "_latest_intercepts",
        "_engine_state",
    }
)
# present only for stochastic solvers in scikit-learn (absent after an L-BFGS fit)
_STOCHASTIC_ONLY = ("loss_curve_", "validation_scores_", "validation_loss_curve_",
                    "best_loss_", "best_validation_score_")  # fmt: skip


def export_state(est: Any) -> FittedState:
    """The fitted state of ``est`` (see ``MLPClassifier.get_fitted_state``)."""
    values: dict[str, Any] = {
        field: getattr(est, attr, None) for attr, field in _ATTRIBUTES.items()
    }
    names = getattr(est, "feature_names_in_", None)
    binarizer = getattr(est, "_label_binarizer", None)
    if binarizer is not None:
        y_type = binarizer.y_type_
    else:  # a regressor
        y_type = "continuous" if est.n_outputs_ == 1 else "continuous-multioutput"
    return FittedState(
        **values, y_type=y_type, feature_names_in=names,
        n_inputs=int(getattr(est, "_n_inputs", None) or est.n_features_in_),
        latest_coefs=est._latest_coefs, latest_intercepts=est._latest_intercepts,
        engine_state=getattr(est, "_engine_state", None),
    )  # fmt: skip


def restore_state(est: Any, state: FittedState) -> None:
    """Set the fitted attributes of ``est`` from ``state`` (see ``set_fitted_state``)."""
    regression = state.y_type.startswith("continuous")
    if regression != (state.classes is None):
        raise ValueError(f"classes {state.classes!r} do not fit target type {state.y_type!r}")
    if not regression:
        _restore_labels(est, state)
    for attr, field in _ATTRIBUTES.items():
        if attr == "classes_":  # set by _restore_labels
            continue
        value = getattr(state, field)
        if attr in _STOCHASTIC_ONLY and value is None and est.solver == "lbfgs":
            est.__dict__.pop(attr, None)
        elif attr != "eval_curves_" or value is not None:
            setattr(est, attr, value)
    if state.feature_names_in is not None:
        est.feature_names_in_ = np.asarray(state.feature_names_in, dtype=object)
    est._n_inputs = int(state.n_inputs)
    est._latest_coefs = state.coefs if state.latest_coefs is None else state.latest_coefs
    est._latest_intercepts = (state.intercepts if state.latest_intercepts is None
                              else state.latest_intercepts)  # fmt: skip
    est._engine_state = state.engine_state


def _restore_labels(est: Any, state: FittedState) -> None:
    from sklearn.preprocessing import LabelBinarizer

    binarizer = LabelBinarizer()
    if state.y_type == "multilabel-indicator":
        binarizer.fit(np.eye(len(state.classes), dtype=np.int64))  # type: ignore[arg-type]
    else:
        binarizer.fit(state.classes)
    if binarizer.y_type_ != state.y_type:
        raise ValueError(f"classes {state.classes!r} do not fit target type {state.y_type!r}")
    est._label_binarizer = binarizer
    if state.y_type != "multilabel-indicator":
        state = dataclasses.replace(state, classes=binarizer.classes_)
    est.classes_ = state.classes


def initial_weights(
    random_state: np.random.RandomState, layer_units: list[int], activation: Any, dtype: Any
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Glorot-uniform ``coefs_``, ``intercepts_`` drawn exactly as scikit-learn draws them
    (same order, same bounds: ``sqrt(factor / (fan_in + fan_out))``, factor 2 for the
    sigmoid, 6 otherwise), so both libraries start from the same point."""
    entry = REGISTRY.get(activation) if isinstance(activation, str) else None
    factor = entry.glorot_factor if entry is not None else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in itertools.pairwise(layer_units):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(random_state.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype))
        intercepts.append(random_state.uniform(-bound, bound, fan_out).astype(dtype))
    return coefs, intercepts


def params_from_coefs(coefs: list[np.ndarray], intercepts: list[np.ndarray], dropout: bool,
                      dtype: Any, n_in: int, host: bool = False) -> list:  # fmt: skip
    """stax params of :func:`jaxmlp.core.nn.mlp`: (W, b) per Dense, () per activation
    (and dropout) layer; the first layer's weights padded with zero rows to ``n_in``.
    Device arrays, or numpy arrays with ``host=True`` (no transfer until they are used)."""
    xp = np if host else jnp
    params: list = []
    for i, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        if i == 0 and W.shape[0] < n_in:
            W = np.concatenate([W, np.zeros((n_in - W.shape[0], W.shape[1]), W.dtype)])
        params.append((xp.asarray(W, dtype), xp.asarray(b, dtype)))
        if i < len(coefs) - 1:
            params += [(), ()] if dropout else [()]
    return params


def coefs_from_params(params: Any, n_features: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """scikit-learn's ``coefs_``, ``intercepts_`` from stax params (padding rows cut)."""
    dense = [p for p in params if len(p) == 2]
    coefs = [np.asarray(W) for W, _ in dense]
    coefs[0] = coefs[0][:n_features]
    return coefs, [np.asarray(b) for _, b in dense]


def initialize(est: Any, layer_units: list[int], out_activation: str, stochastic: bool,
               dtype: Any) -> None:  # fmt: skip
    """The fitted attributes of a fresh fit, before training: scikit-learn's initial
    weights (from ``est._random_state``) and empty curves."""
    est.n_iter_ = 0
    est.t_ = 0
    est.n_outputs_ = layer_units[-1]
    est.n_layers_ = len(layer_units)
    est.out_activation_ = out_activation
    est.coefs_, est.intercepts_ = initial_weights(est._random_state, layer_units,
                                                  est.activation, dtype)  # fmt: skip
    est._latest_coefs, est._latest_intercepts = est.coefs_, est.intercepts_
    est._engine_state = None
    est._n_inputs = None  # input width of the compiled network (padded features)
    est.stop_training_ = False
    if stochastic:
        early = est.early_stopping
        est.loss_curve_ = []
        est.best_loss_ = None if early else np.inf
        est.validation_scores_ = [] if early else None
        est.best_validation_score_ = -np.inf if early else None
        est.validation_loss_curve_ = [] if early else None
