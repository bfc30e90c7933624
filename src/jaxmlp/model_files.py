"""Safe, versioned model folders: :func:`save` and :func:`load`.

A model folder holds

- ``model.json``: format name and version, jaxmlp version, the estimator's
  hyperparameters and fitted attributes, classes, feature names and kinds, category
  levels, training metrics, and the name, shape and dtype of every array plus the
  SHA-256 of the array file;
- ``arrays.safetensors``: the weights and the preprocessing arrays (medians, means,
  scales), in the safetensors format -- a JSON header and raw little-endian numbers.

Loading executes nothing from the files: it reads JSON and raw arrays, checks the format
version (a newer one is refused), the checksum, and every array's shape against the
metadata before building the model. Saving writes a temporary folder next to the target
and renames it into place, so a crash mid-save leaves any previous model intact; an
existing model is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FORMAT", "FORMAT_VERSION", "ModelFileError", "load", "save"]

FORMAT = "jaxmlp-model"
FORMAT_VERSION = 1
META = "model.json"
ARRAYS = "arrays.safetensors"

# hyperparameters stored as data; a callable activation or an optax optimizer is code
_PARAMS = ("hidden_layer_sizes", "activation", "solver", "alpha", "batch_size", "learning_rate",
           "learning_rate_init", "power_t", "max_iter", "shuffle", "random_state", "tol",
           "verbose", "warm_start", "momentum", "nesterovs_momentum", "early_stopping",
           "validation_fraction", "beta_1", "beta_2", "epsilon", "n_iter_no_change", "max_fun",
           "dropout", "class_weight", "dtype")  # fmt: skip
# added after format version 1 was first written: absent in older files, then the default
_ADDED = {"dtype": None}


class ModelFileError(ValueError):
    """A model folder that cannot be saved or loaded; the message says why and what to do."""


# ----------------------------------------------------------------------------- JSON values


def _label_list(values: np.ndarray) -> dict:
    values = np.asarray(values)
    kind = "str" if values.dtype.kind in "OUS" else values.dtype.str
    items = [str(v) for v in values.tolist()] if kind == "str" else values.tolist()
    return {"dtype": kind, "values": items}


def _label_array(spec: dict) -> np.ndarray:
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


# ----------------------------------------------------------------------------- saving


def _estimator_record(est, arrays: dict[str, np.ndarray], prefix: str) -> dict:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    params = est.get_params()
    if params.get("optimizer") is not None:
        _json_param("optimizer", params["optimizer"])
    record: dict[str, Any] = {
        "class": type(est).__name__,
        "params": {k: _json_param(k, params[k]) for k in _PARAMS},
        "classes": _label_list(est.classes_),
        "y_type": est._label_binarizer.y_type_,
        "n_features_in": int(est.n_features_in_),
        "n_inputs": int(getattr(est, "_n_inputs", None) or est.n_features_in_),
        "n_outputs": int(est.n_outputs_),
        "n_layers": int(est.n_layers_),
        "out_activation": est.out_activation_,
        "n_iter": int(est.n_iter_),
        "t": int(getattr(est, "t_", 0)),
        "loss": float(est.loss_),
        "loss_curve": [float(v) for v in getattr(est, "loss_curve_", None) or []],
        "validation_scores": [float(v) for v in getattr(est, "validation_scores_", None) or []],
        "feature_names_in": None,
    }
    if hasattr(est, "feature_names_in_"):
        record["feature_names_in"] = [str(v) for v in est.feature_names_in_]
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
        arrays[f"{prefix}coefs.{i}"] = np.asarray(W)
        arrays[f"{prefix}intercepts.{i}"] = np.asarray(b)
    return record


def _table_record(model, arrays: dict[str, np.ndarray]) -> dict:
    schema = model.schema
    pre = model.preprocessor
    record: dict[str, Any] = {
        "target": model.target,
        "classes": _label_list(model.classes),
        "features": list(schema.features),
        "numeric": list(schema.numeric),
        "categorical": list(schema.categorical),
        "info": model.info,
    }
    if schema.numeric:
        imputer, scaler = pre.named_transformers_["numeric"]
        arrays["numeric.median"] = np.asarray(imputer.statistics_, np.float64)
        arrays["numeric.mean"] = np.asarray(scaler.mean_, np.float64)
        arrays["numeric.var"] = np.asarray(scaler.var_, np.float64)
        arrays["numeric.scale"] = np.asarray(scaler.scale_, np.float64)
        record["n_samples_seen"] = int(np.max(scaler.n_samples_seen_))
    if schema.categorical:
        imputer, encoder = pre.named_transformers_["categorical"]
        record["most_frequent"] = [str(v) for v in imputer.statistics_]
        record["categories"] = [[str(v) for v in c] for c in encoder.categories_]
    return record


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save(model, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Save a fitted :class:`~jaxmlp.MLPClassifier` or :class:`~jaxmlp.table_model.TableModel`.

    Parameters
    ----------
    model : MLPClassifier or TableModel
    path : path-like
        The model folder to create.
    overwrite : bool
        Replace an existing model folder (otherwise that is an error).

    Returns
    -------
    Path
        The model folder.

    Raises
    ------
    ModelFileError
        The folder exists (without ``overwrite``), is not a model folder, or the model
        holds code that cannot be saved as data (a callable activation, an optax
        optimizer).
    """
    from safetensors.numpy import save_file

    from jaxmlp import __version__
    from jaxmlp.estimator import MLPClassifier
    from jaxmlp.table_model import TableModel

    path = Path(path)
    if path.exists():
        if not overwrite:
            raise ModelFileError(
                f"'{path}' already exists; choose another folder, or pass --force "
                "(overwrite=True) to replace the model in it."
            )
        if not path.is_dir() or (any(path.iterdir()) and not (path / META).exists()):
            raise ModelFileError(
                f"'{path}' exists and is not a jaxmlp model folder; refusing to replace it."
            )
    arrays: dict[str, np.ndarray] = {}
    if isinstance(model, TableModel):
        meta = {"kind": "TableModel", "table": _table_record(model, arrays),
                "estimator": _estimator_record(model.estimator, arrays, "")}  # fmt: skip
    elif isinstance(model, MLPClassifier):
        meta = {"kind": "MLPClassifier", "estimator": _estimator_record(model, arrays, "")}
    else:
        raise ModelFileError(
            f"save() takes a fitted jaxmlp MLPClassifier or TableModel, got {type(model).__name__}."
        )
    parent = path.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{path.name}.saving-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(tmp / ARRAYS))
        specs = {k: {"shape": list(a.shape), "dtype": a.dtype.str} for k, a in arrays.items()}
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "jaxmlp_version": __version__,
            **meta,
            "arrays": specs,
            "arrays_sha256": _digest(tmp / ARRAYS),
        }
        (tmp / META).write_text(json.dumps(meta, indent=2) + "\n")
        extra = getattr(model, "_extra_files", {}) or {}
        for name, data in extra.items():  # e.g. the training report
            (tmp / name).write_bytes(data if isinstance(data, bytes) else data.encode())
        for f in tmp.iterdir():  # on disk before the folder becomes visible
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        if path.exists():
            old = parent / f".{path.name}.old-{secrets.token_hex(4)}"
            os.rename(path, old)
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


# ----------------------------------------------------------------------------- loading


def _fail(path: Path, what: str) -> ModelFileError:
    return ModelFileError(
        f"'{path}' is not a usable jaxmlp model: {what}. Re-create it with "
        "`jaxmlp train` or jaxmlp.save()."
    )


def _read_meta(path: Path) -> dict:
    if not path.exists():
        raise ModelFileError(f"Model folder '{path}' does not exist. Check the path.")
    if not path.is_dir():
        raise ModelFileError(f"'{path}' is a file; a jaxmlp model is a folder.")
    meta_file = path / META
    if not meta_file.exists():
        raise _fail(path, f"it has no {META}")
    try:
        meta = json.loads(meta_file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _fail(path, f"{META} is not valid JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _fail(path, f"{META} does not describe a '{FORMAT}'")
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise _fail(path, "its format version is missing")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"'{path}' was saved in model format version {version} by jaxmlp "
            f"{meta.get('jaxmlp_version', '?')}; this jaxmlp reads versions up to "
            f"{FORMAT_VERSION}. Upgrade jaxmlp (pip install -U jaxmlp) to load it."
        )
    return meta


def _read_arrays(path: Path, meta: dict) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    file = path / ARRAYS
    if not file.exists():
        raise _fail(path, f"{ARRAYS} is missing")
    if _digest(file) != meta.get("arrays_sha256"):
        raise _fail(path, f"{ARRAYS} does not match its checksum (truncated or modified)")
    try:
        arrays = load_file(str(file))
    except (SafetensorError, OSError, ValueError) as e:
        raise _fail(path, f"{ARRAYS} is not a safetensors file ({e})") from None
    expected = meta.get("arrays")
    if not isinstance(expected, dict) or set(expected) != set(arrays):
        raise _fail(path, "its arrays do not match the metadata")
    for name, spec in expected.items():
        a = arrays[name]
        if list(a.shape) != spec.get("shape") or a.dtype.str != spec.get("dtype"):
            raise _fail(path, f"array '{name}' has shape {list(a.shape)} {a.dtype}, the "
                              f"metadata says {spec.get('shape')} {spec.get('dtype')}")  # fmt: skip
    return arrays


def _build_estimator(path: Path, rec: dict, arrays: dict, prefix: str):
    from sklearn.preprocessing import LabelBinarizer

    from jaxmlp.estimator import MLPClassifier

    try:
        stored = {**_ADDED, **rec["params"]}
        params = {k: _param_value(k, stored[k]) for k in _PARAMS}
        est = MLPClassifier(**params)
        est._validate_params()
        classes = _label_array(rec["classes"])
        n_layers = int(rec["n_layers"])
        coefs = [arrays[f"{prefix}coefs.{i}"] for i in range(n_layers - 1)]
        intercepts = [arrays[f"{prefix}intercepts.{i}"] for i in range(n_layers - 1)]
        sizes = [rec["n_features_in"], *params["hidden_layer_sizes"], rec["n_outputs"]]
    except (KeyError, TypeError, ValueError) as e:
        raise _fail(path, f"its estimator record is incomplete or invalid ({e})") from None
    for i, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        if W.shape != (sizes[i], sizes[i + 1]) or b.shape != (sizes[i + 1],):
            raise _fail(path, f"layer {i} has weights {W.shape} and bias {b.shape}, the "
                              f"network is {sizes}")  # fmt: skip
    binarizer = LabelBinarizer()
    if rec["y_type"] == "multilabel-indicator":
        binarizer.fit(np.eye(len(classes), dtype=int))
    else:
        binarizer.fit(classes)
    if binarizer.y_type_ != rec["y_type"]:
        raise _fail(path, f"its classes do not fit target type {rec['y_type']!r}")
    est._label_binarizer = binarizer
    est.classes_ = binarizer.classes_ if rec["y_type"] != "multilabel-indicator" else classes
    est.coefs_, est.intercepts_ = coefs, intercepts
    est._latest_coefs, est._latest_intercepts = coefs, intercepts
    est._engine_state = None  # the optimizer state is not saved: warm starts restart it
    est._n_inputs = int(rec["n_inputs"])
    est.n_features_in_ = int(rec["n_features_in"])
    if rec.get("feature_names_in") is not None:
        est.feature_names_in_ = np.array(rec["feature_names_in"], dtype=object)
    est.n_outputs_ = int(rec["n_outputs"])
    est.n_layers_ = n_layers
    est.out_activation_ = rec["out_activation"]
    est.n_iter_ = int(rec["n_iter"])
    est.t_ = int(rec["t"])
    est.loss_ = float(rec["loss"])
    est.stop_training_ = False
    if params["solver"] != "lbfgs":
        scores = list(rec["validation_scores"])
        est.loss_curve_ = list(rec["loss_curve"])
        early = bool(params["early_stopping"])
        est.best_loss_ = None if early else min(rec["loss_curve"] or [np.inf])
        est.validation_scores_ = scores if early else None
        est.best_validation_score_ = max(scores) if early and scores else None
        est.validation_loss_curve_ = None
    return est


def _build_preprocessor(path: Path, rec: dict, arrays: dict):
    import pandas as pd

    from jaxmlp.tables import Schema, make_preprocessor

    schema = Schema(list(rec["features"]), list(rec["numeric"]), list(rec["categorical"]))
    if sorted(schema.numeric + schema.categorical) != sorted(schema.features):
        raise _fail(path, "its feature lists disagree")
    cats = rec.get("categories", [])
    if len(cats) != len(schema.categorical):
        raise _fail(path, "its category levels do not match the categorical columns")
    n = max([2, *(len(c) for c in cats)])
    # a frame on which fitting yields exactly the stored category levels; the learned
    # numbers are then set from the stored arrays
    frame = {}
    for c in schema.features:
        if c in schema.numeric:
            frame[c] = np.arange(n, dtype=np.float64)
        else:
            levels = cats[schema.categorical.index(c)]
            if not levels:
                raise _fail(path, f"column '{c}' has no category levels")
            frame[c] = np.array([*levels, *[levels[0]] * (n - len(levels))], dtype=object)
    pre = make_preprocessor(schema).fit(pd.DataFrame(frame)[schema.features])
    k = len(schema.numeric)
    if k:
        imputer, scaler = pre.named_transformers_["numeric"]
        for name in ("median", "mean", "var", "scale"):
            if arrays[f"numeric.{name}"].shape != (k,):
                raise _fail(path, f"numeric.{name} does not have one value per numeric column")
        imputer.statistics_ = arrays["numeric.median"]
        scaler.mean_, scaler.var_ = arrays["numeric.mean"], arrays["numeric.var"]
        scaler.scale_ = arrays["numeric.scale"]
        scaler.n_samples_seen_ = int(rec["n_samples_seen"])
    if schema.categorical:
        imputer, encoder = pre.named_transformers_["categorical"]
        imputer.statistics_ = np.array(rec["most_frequent"], dtype=object)
        got = [[str(v) for v in c] for c in encoder.categories_]
        if got != [[str(v) for v in c] for c in cats]:
            raise _fail(path, "its category levels are not sorted or not unique")
    return schema, pre


def load(path: str | os.PathLike):
    """Load a model folder written by :func:`save` (or ``jaxmlp train``).

    Returns
    -------
    MLPClassifier or TableModel

    Raises
    ------
    ModelFileError
        Missing, truncated or modified files, arrays that do not fit the metadata, or a
        newer format version.
    """
    from jaxmlp.table_model import TableModel

    path = Path(path)
    meta = _read_meta(path)
    arrays = _read_arrays(path, meta)
    kind = meta.get("kind")
    try:
        if kind == "MLPClassifier":
            return _build_estimator(path, meta["estimator"], arrays, "")
        if kind == "TableModel":
            rec = meta["table"]
            est = _build_estimator(path, meta["estimator"], arrays, "")
            schema, pre = _build_preprocessor(path, rec, arrays)
            width = pre.transform(_probe(schema, rec)).shape[1]
            if width != est.n_features_in_:
                raise _fail(path, f"the preprocessing makes {width} features, the network "
                                  f"takes {est.n_features_in_}")  # fmt: skip
            return TableModel(est, pre, schema, str(rec["target"]), _label_array(rec["classes"]),
                              dict(rec.get("info") or {}))  # fmt: skip
    except KeyError as e:
        raise _fail(path, f"{META} lacks {e}") from None
    raise _fail(path, f"unknown model kind {kind!r}")


def _probe(schema, rec):
    import pandas as pd

    row = {c: [0.0] if c in schema.numeric else [rec["categories"][schema.categorical.index(c)][0]]
           for c in schema.features}  # fmt: skip
    return pd.DataFrame(row)[schema.features]
