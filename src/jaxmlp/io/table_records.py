"""A table model's preprocessing as data: a JSON record plus named arrays, and back.

What each part learned on the training rows is stored as plain numbers and text: the
numeric columns' medians, means and scales; the one-hot columns' levels and most frequent
values; the target-encoded columns' levels, encodings and scaling (format version 2); the
date columns' imputation date, year mean and scale (format version 2). Loading fits the
same ``ColumnTransformer`` on a small synthetic frame that yields exactly the stored levels,
then sets every learned number from the record: nothing from the files is executed.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from jaxmlp.io.records import RecordError

__all__ = ["build_preprocessor", "probe_frame", "table_record"]


def _scaler_arrays(prefix: str, scaler: Any, arrays: dict) -> None:
    for name in ("mean", "var", "scale"):
        arrays[f"{prefix}.{name}"] = np.asarray(getattr(scaler, f"{name}_"), np.float64)


def _set_scaler(prefix: str, scaler: Any, arrays: dict, k: int, seen: int) -> None:
    for name in ("mean", "var", "scale"):
        if arrays[f"{prefix}.{name}"].shape != (k,):
            raise RecordError(f"{prefix}.{name} does not have one value per column")
    scaler.mean_, scaler.var_ = arrays[f"{prefix}.mean"], arrays[f"{prefix}.var"]
    scaler.scale_, scaler.n_samples_seen_ = arrays[f"{prefix}.scale"], seen


def _robust(pre: Any) -> bool:
    """Whether the numeric columns are scaled robustly (RobustScaler + smooth clip)."""
    return len(pre.named_transformers_["numeric"].steps) == 3


def _json_params(params: dict) -> dict | None:
    """``params`` as JSON (tuples as lists), or None where a value is not plain data (an
    optax optimizer in ``mlp_params``, say: then the members' own settings are read)."""
    import json

    try:
        return json.loads(json.dumps(params))
    except (TypeError, ValueError):
        return None


def table_params(rec: dict) -> dict | None:
    """The estimator's parameters in a table record (tuples restored), or None."""
    params = rec.get("params")
    if not isinstance(params, dict):
        return None
    tuples = ("hidden_layer_sizes", "categorical", "numeric", "datetime")
    return {k: tuple(v) if k in tuples and isinstance(v, list) else v for k, v in params.items()}


def table_record(model: Any, arrays: dict[str, np.ndarray]) -> dict:
    """JSON record of a :class:`~jaxmlp.sklearn.table_model.TableModel`'s columns and
    preprocessing (and task); the preprocessing arrays are added to ``arrays``."""
    from jaxmlp.io.records import label_list

    schema, pre = model.schema, model.preprocessor
    info = dict(model.info)
    oof = getattr(model, "oof_score_", None)
    if oof is not None and "scored" not in info:  # fitted in Python: keep its score
        info.update(
            scored="out-of-fold", validation={"r2" if model.regression else "accuracy": float(oof)}
        )
    record: dict[str, Any] = {
        "target": model.target, "task": model.task,
        "classes": None if model.classes is None else label_list(model.classes),
        "features": list(schema.features), "numeric": list(schema.numeric),
        "categorical": list(schema.categorical), "info": info,
        "datetime": list(schema.datetime), "target_encoded": list(schema.target_encoded),
    }  # fmt: skip
    params = _json_params(model.get_params())
    if params is not None:  # the estimator's parameters (jaxmlp.load gives them back)
        record["params"] = params
    if model.regression:
        record["target_mean"] = float(model.target_mean)
        record["target_scale"] = float(model.target_scale)
    if schema.numeric:
        imputer, scaler, *_ = pre.named_transformers_["numeric"]
        arrays["numeric.median"] = np.asarray(imputer.statistics_, np.float64)
        if _robust(pre):  # format version 3: median, IQR, smooth clipping
            record["scaling"] = "robust"
            arrays["numeric.center"] = np.asarray(scaler.center_, np.float64)
            arrays["numeric.scale"] = np.asarray(scaler.scale_, np.float64)
        else:
            _scaler_arrays("numeric", scaler, arrays)
            record["n_samples_seen"] = int(np.max(scaler.n_samples_seen_))
    if schema.onehot:
        imputer, encoder = pre.named_transformers_["categorical"]
        record["most_frequent"] = [str(v) for v in imputer.statistics_]
        record["categories"] = [[str(v) for v in c] for c in encoder.categories_]
    if schema.target_encoded:
        imputer, encoder, scaler = pre.named_transformers_["target"]
        record["target_most_frequent"] = [str(v) for v in imputer.statistics_]
        record["target_levels"] = [[str(v) for v in c] for c in encoder.categories_]
        record["target_type"] = str(encoder.target_type_)
        for j, e in enumerate(encoder.encodings_):
            arrays[f"target.encoding.{j}"] = np.asarray(e, np.float64)
        arrays["target.target_mean"] = np.atleast_1d(np.asarray(encoder.target_mean_, np.float64))
        _scaler_arrays("target.scaler", scaler, arrays)
        record["target_samples_seen"] = int(np.max(scaler.n_samples_seen_))
    if schema.datetime:
        dates = pre.named_transformers_["datetime"]
        record["dates"] = [{"fill": int(f), "year_mean": float(m), "year_scale": float(s),
                            "has_time": bool(t)} for f, m, s, t in
                           zip(dates.fill_, dates.year_mean_, dates.year_scale_, dates.has_time_,
                               strict=True)]  # fmt: skip
    return record


def _fit_on_levels(schema: Any, rec: dict) -> Any:
    """The preprocessor fitted on a synthetic frame that yields exactly the stored levels
    (and classes); the learned numbers are set from the stored arrays afterwards."""
    import pandas as pd

    from jaxmlp.data.schema import make_preprocessor

    levels = dict(zip(schema.onehot, rec.get("categories", []), strict=True))
    levels |= dict(zip(schema.target_encoded, rec.get("target_levels", []), strict=True))
    k = len(rec["classes"]["values"]) if rec.get("classes") else 0
    n = max([10, 5 * k, *(len(v) for v in levels.values())])
    frame: dict[str, Any] = {}
    for c in schema.features:
        if c in schema.numeric:
            frame[c] = np.arange(n, dtype=np.float64)
        elif c in schema.datetime:
            frame[c] = pd.date_range("2000-01-01", periods=n, freq="D").to_numpy()
        else:
            if not levels.get(c):
                raise RecordError(f"column '{c}' has no category levels")
            frame[c] = np.array([*levels[c], *[levels[c][0]] * (n - len(levels[c]))], object)
    y = np.arange(n) % k if k else np.arange(n) + 0.5  # every class, or continuous
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few rows per class for the encoder's folds
        pre = make_preprocessor(schema, stratify=bool(k),  # stratified folds need classes
                                scaling=rec.get("scaling", "standard"),
                                target_type=rec.get("target_type", "auto"))  # fmt: skip
        return pre.fit(pd.DataFrame(frame)[schema.features], y)


def _restore_target_encoder(pre: Any, schema: Any, rec: dict, arrays: dict) -> None:
    imputer, encoder, scaler = pre.named_transformers_["target"]
    imputer.statistics_ = np.array(rec["target_most_frequent"], dtype=object)
    got = [[str(v) for v in c] for c in encoder.categories_]
    if got != rec["target_levels"] or encoder.target_type_ != rec["target_type"]:
        raise RecordError("its target-encoded levels or target type do not fit")
    n = len(encoder.encodings_)
    encodings = [arrays[f"target.encoding.{j}"] for j in range(n)]
    for e, old in zip(encodings, encoder.encodings_, strict=True):
        if e.shape != np.shape(old):
            raise RecordError("a target encoding does not have one value per level")
    encoder.encodings_ = encodings
    mean = arrays["target.target_mean"]
    encoder.target_mean_ = mean if encoder.target_type_ == "multiclass" else float(mean[0])
    _set_scaler("target.scaler", scaler, arrays, n, int(rec["target_samples_seen"]))


def _restore_dates(pre: Any, schema: Any, rec: dict) -> None:
    dates = pre.named_transformers_["datetime"]
    stored = rec["dates"]
    if len(stored) != len(schema.datetime):
        raise RecordError("its date records do not match the date columns")
    dates.fill_ = np.array([int(d["fill"]) for d in stored], np.int64)
    dates.year_mean_ = np.array([float(d["year_mean"]) for d in stored])
    dates.year_scale_ = np.array([float(d["year_scale"]) for d in stored])
    dates.has_time_ = np.array([bool(d["has_time"]) for d in stored])


def build_preprocessor(rec: dict, arrays: dict[str, np.ndarray]) -> tuple[Any, Any]:
    """``(schema, fitted ColumnTransformer)`` of a table record."""
    from jaxmlp.data.schema import Schema

    schema = Schema(list(rec["features"]), list(rec["numeric"]), list(rec["categorical"]),
                    list(rec.get("datetime", [])), list(rec.get("target_encoded", [])))  # fmt: skip
    kinds = schema.numeric + schema.categorical + schema.datetime
    if sorted(kinds) != sorted(schema.features) or not set(schema.target_encoded) <= set(
        schema.categorical
    ):
        raise RecordError("its feature lists disagree")
    if len(rec.get("categories", [])) != len(schema.onehot):
        raise RecordError("its category levels do not match the categorical columns")
    pre = _fit_on_levels(schema, rec)
    k = len(schema.numeric)
    if k:
        imputer, scaler, *_ = pre.named_transformers_["numeric"]
        if arrays["numeric.median"].shape != (k,):
            raise RecordError("numeric.median does not have one value per numeric column")
        imputer.statistics_ = arrays["numeric.median"]
        if _robust(pre):
            for name in ("center", "scale"):
                if arrays[f"numeric.{name}"].shape != (k,):
                    raise RecordError(f"numeric.{name} does not have one value per column")
            scaler.center_, scaler.scale_ = arrays["numeric.center"], arrays["numeric.scale"]
        else:
            _set_scaler("numeric", scaler, arrays, k, int(rec["n_samples_seen"]))
    if schema.onehot:
        imputer, encoder = pre.named_transformers_["categorical"]
        imputer.statistics_ = np.array(rec["most_frequent"], dtype=object)
        got = [[str(v) for v in c] for c in encoder.categories_]
        if got != [[str(v) for v in c] for c in rec["categories"]]:
            raise RecordError("its category levels are not sorted or not unique")
    if schema.target_encoded:
        _restore_target_encoder(pre, schema, rec, arrays)
    if schema.datetime:
        _restore_dates(pre, schema, rec)
    return schema, pre


def probe_frame(schema: Any, rec: dict) -> Any:
    """One row that the preprocessing can transform (to check its output width)."""
    import pandas as pd

    levels = dict(zip(schema.onehot, rec.get("categories", []), strict=True))
    levels |= dict(zip(schema.target_encoded, rec.get("target_levels", []), strict=True))
    row = {c: [0.0] if c in schema.numeric else [pd.Timestamp("2000-01-01")]
           if c in schema.datetime else [levels[c][0]] for c in schema.features}  # fmt: skip
    return pd.DataFrame(row)[schema.features]
