"""Models as data: an estimator to a JSON record plus named arrays, and back -- the
content of a model folder (:mod:`jaxmlp.io.model_files` writes and reads it;
:mod:`jaxmlp.io.table_records` does the same for a table model's preprocessing).

The estimator goes through its public seam, ``get_fitted_state()`` /
``set_fitted_state()``; hyperparameters are stored as plain JSON values (a callable
activation or an optax optimizer is code, and is refused). Rebuilding executes nothing
from the files.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jaxmlp.sklearn.base import BaseMLP
from jaxmlp.sklearn.classifier import checked_classifier
from jaxmlp.sklearn.regressor import checked_regressor
from jaxmlp.sklearn.state import FittedState

__all__ = [
    "ENSEMBLES",
    "ModelFileError",
    "RecordError",
    "build_any",
    "build_estimator",
    "estimator_record",
    "label_array",
    "label_list",
    "model_record",
]

# hyperparameters stored as data; a callable activation or an optax optimizer is code
PARAMS = ("hidden_layer_sizes", "activation", "solver", "alpha", "batch_size", "learning_rate",
          "learning_rate_init", "power_t", "max_iter", "shuffle", "random_state", "tol",
          "verbose", "warm_start", "momentum", "nesterovs_momentum", "early_stopping",
          "validation_fraction", "beta_1", "beta_2", "epsilon", "n_iter_no_change", "max_fun",
          "dropout", "dtype", "early_stopping_metric")  # fmt: skip
# each estimator class: its own parameters and how to build it (checked)
CLASSES = {
    "MLPClassifier": (("class_weight",), checked_classifier),
    "MLPRegressor": (("loss",), checked_regressor),  # format version 2 on
}
# added after format version 1 was first written: absent in older files, then the default
ADDED = {"dtype": None, "early_stopping_metric": "score"}


class ModelFileError(ValueError):
    """A model folder that cannot be saved or loaded; the message says why and what to do."""


class RecordError(ValueError):
    """A record that does not describe a model; the message says what is wrong."""


def label_list(values: np.ndarray) -> dict:
    """Class labels as JSON: their dtype and values."""
    values = np.asarray(values)
    kind = "str" if values.dtype.kind in "OUS" else values.dtype.str
    items = [str(v) for v in values.tolist()] if kind == "str" else values.tolist()
    return {"dtype": kind, "values": items}


def label_array(spec: dict) -> np.ndarray:
    """The labels of :func:`label_list`, with their dtype."""
    if spec["dtype"] == "str":
        return np.array([str(v) for v in spec["values"]], dtype=object)
    return np.array(spec["values"], dtype=np.dtype(spec["dtype"]))


def _json_param(name: str, value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return {"__dict__": [[k.item() if isinstance(k, np.generic) else k, v]
                             for k, v in value.items()]}  # fmt: skip
    if value is None or isinstance(value, bool | int | float | str | list):
        return value
    raise ModelFileError(
        f"Cannot save {name}={value!r} as data (it is code or an object). Models with a "
        "callable activation, an optax optimizer or a RandomState cannot be saved; use the "
        "named options (e.g. activation='swish', solver='adam', random_state=0)."
    )


def _param_value(name: str, value: Any) -> Any:
    if name == "hidden_layer_sizes" and isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict) and "__dict__" in value:
        return {k: v for k, v in value["__dict__"]}
    return value


def estimator_record(est: BaseMLP, arrays: dict[str, np.ndarray]) -> dict:
    """JSON record of a fitted estimator; its weights are added to ``arrays``."""
    state = est.get_fitted_state()
    params = est.get_params()
    if params.get("optimizer") is not None:
        _json_param("optimizer", params["optimizer"])
    names = PARAMS + CLASSES[type(est).__name__][0]
    record: dict[str, Any] = {
        "class": type(est).__name__,
        "params": {k: _json_param(k, params[k]) for k in names},
        "classes": None if state.classes is None else label_list(state.classes),
        "y_type": state.y_type,
        "n_features_in": int(state.n_features_in),
        "n_inputs": int(state.n_inputs),
        "n_outputs": int(state.n_outputs),
        "n_layers": int(state.n_layers),
        "out_activation": state.out_activation,
        "n_iter": int(state.n_iter),
        "t": int(state.t or 0),
        "loss": float(state.loss),
        "loss_curve": [float(v) for v in state.loss_curve or []],
        "validation_scores": [float(v) for v in state.validation_scores or []],
        "validation_loss_curve": [float(v) for v in state.validation_loss_curve or []],
        "feature_names_in": None,
    }
    if state.feature_names_in is not None:
        record["feature_names_in"] = [str(v) for v in state.feature_names_in]
    for i, (W, b) in enumerate(zip(state.coefs, state.intercepts, strict=True)):
        arrays[f"coefs.{i}"] = np.asarray(W)
        arrays[f"intercepts.{i}"] = np.asarray(b)
    return record


def build_estimator(rec: dict, arrays: dict[str, np.ndarray]) -> BaseMLP:
    """The fitted estimator of a record (raises :class:`RecordError` naming the flaw)."""
    try:
        own, build = CLASSES[rec.get("class", "MLPClassifier")]
        stored = {**ADDED, **rec["params"]}
        params = {k: _param_value(k, stored[k]) for k in PARAMS + own}
        est = build(**params)
        n_layers = int(rec["n_layers"])
        coefs = [arrays[f"coefs.{i}"] for i in range(n_layers - 1)]
        intercepts = [arrays[f"intercepts.{i}"] for i in range(n_layers - 1)]
        sizes = [rec["n_features_in"], *params["hidden_layer_sizes"], rec["n_outputs"]]
    except (KeyError, TypeError, ValueError) as e:
        raise RecordError(f"its estimator record is incomplete or invalid ({e})") from None
    for i, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        if W.shape != (sizes[i], sizes[i + 1]) or b.shape != (sizes[i + 1],):
            raise RecordError(f"layer {i} has weights {W.shape} and bias {b.shape}, the "
                              f"network is {sizes}")  # fmt: skip
    scores = [float(v) for v in rec["validation_scores"]]
    stochastic = params["solver"] != "lbfgs"
    early = bool(params["early_stopping"])
    names = rec.get("feature_names_in")
    state = FittedState(
        classes=None if rec["classes"] is None else label_array(rec["classes"]),
        y_type=rec["y_type"],
        n_features_in=int(rec["n_features_in"]),
        feature_names_in=None if names is None else np.array(names, dtype=object),
        n_inputs=int(rec["n_inputs"]), n_outputs=int(rec["n_outputs"]), n_layers=n_layers,
        out_activation=rec["out_activation"], n_iter=int(rec["n_iter"]), t=int(rec["t"]),
        loss=float(rec["loss"]), coefs=coefs, intercepts=intercepts,
        # the optimizer state is not saved: a warm start after loading restarts it
        loss_curve=list(rec["loss_curve"]) if stochastic else None,
        validation_scores=scores if stochastic and early else None,
        validation_loss_curve=([float(v) for v in rec.get("validation_loss_curve", [])]
                               if stochastic and early else None),  # format 3 on
        best_loss=None if early or not stochastic else min(rec["loss_curve"] or [np.inf]),
        best_validation_score=max(scores) if early and scores else None,
    )  # fmt: skip
    try:
        return est.set_fitted_state(state)
    except ValueError as e:
        raise RecordError(f"its classes do not fit target type {rec['y_type']!r}") from e


# ensembles (format version 3): their members' records, arrays prefixed "member.<i>."
ENSEMBLES = {"MLPEnsembleClassifier": "MLPClassifier", "MLPEnsembleRegressor": "MLPRegressor"}


def model_record(model: Any, arrays: dict[str, np.ndarray]) -> dict:
    """:func:`estimator_record` of an estimator, or of an ensemble: its members' records
    (each member's arrays named ``member.<i>.<name>``) and its own parameters."""
    name = type(model).__name__
    if name not in ENSEMBLES:
        return estimator_record(model, arrays)
    members = []
    for i, member in enumerate(model.estimators_):
        own: dict[str, np.ndarray] = {}
        members.append(estimator_record(member, own))
        arrays.update({f"member.{i}.{k}": v for k, v in own.items()})
    return {"class": name, "n_estimators": int(model.n_estimators),
            "random_state": _json_param("random_state", model.random_state),
            "members": members}  # fmt: skip


def build_any(rec: dict, arrays: dict[str, np.ndarray]) -> Any:
    """The fitted estimator or ensemble of a :func:`model_record`."""
    name = rec.get("class", "MLPClassifier")
    if name not in ENSEMBLES:
        return build_estimator(rec, arrays)
    from jaxmlp.sklearn.ensemble import MLPEnsembleClassifier
    from jaxmlp.sklearn.ensemble_regressor import MLPEnsembleRegressor

    try:
        members = []
        for i, member in enumerate(rec["members"]):
            if member.get("class") != ENSEMBLES[name]:
                raise RecordError(f"member {i} of a {name} is a {member.get('class')}")
            prefix = f"member.{i}."
            own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            members.append(build_estimator(member, own))
        if not members:
            raise RecordError(f"the {name} has no members")
        cls = MLPEnsembleClassifier if name == "MLPEnsembleClassifier" else MLPEnsembleRegressor
        template = type(members[0])(**{**members[0].get_params(), "random_state": None})
        ens = cls(template, n_estimators=int(rec["n_estimators"]),
                  random_state=rec["random_state"])  # fmt: skip
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, RecordError):
            raise
        raise RecordError(f"its ensemble record is incomplete or invalid ({e})") from None
    ens.estimators_, ens.diverged_members_ = members, []
    ens.n_features_in_ = members[0].n_features_in_
    if hasattr(members[0], "classes_"):
        ens.classes_ = members[0].classes_
    return ens
