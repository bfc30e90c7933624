"""A regressor on a user's table: the regression half of ``jaxmlp train`` / ``predict`` /
``evaluate`` (:mod:`jaxmlp.workflows.table` calls it for a numeric target).

The :class:`~jaxmlp.MLPRegressor` trains on the standardised target (mean and standard
deviation of the training rows, kept in the :class:`~jaxmlp.TableModel`), as a
practitioner would wrap scikit-learn's in ``TransformedTargetRegressor``; scikit-learn's
``MLPRegressor`` baseline gets the same standardised target, its
``HistGradientBoostingRegressor`` the raw one (trees do not care about scale). Every
metric is in the target's own units.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jaxmlp.data.prepare import PreparedTable
from jaxmlp.data.tables import TableError
from jaxmlp.sklearn.table_model import TableModel
from jaxmlp.workflows import baseline

__all__ = [
    "evaluate_regression",
    "regression_metrics",
    "regression_parts",
    "regressor_params",
    "training_precision",
]  # fmt: skip


def training_precision(params: dict, split: Any) -> tuple[np.ndarray, np.ndarray]:
    """The split's preprocessed rows (float32) in the precision the table model trains in:
    ``params['dtype']``, or float64 as scikit-learn's baseline gets them (``--dtype
    float32`` to train in float32)."""
    dtype = params.get("dtype") or np.float64
    return np.asarray(split.X_train, dtype), np.asarray(split.X_test, dtype)


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """R², RMSE and MAE of predictions ``pred`` for targets ``y`` (both shape (n,)), and
    the target's spread (so an RMSE can be read against it)."""
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    r2 = float(r2_score(y, pred)) if len(y) >= 2 else None
    return {"r2": r2, "rmse": float(root_mean_squared_error(y, pred)),
            "mae": float(mean_absolute_error(y, pred)), "target_std": float(np.std(y))}  # fmt: skip


def regressor_params(params: dict) -> dict:
    """``MLPClassifier`` options as ``MLPRegressor`` options: ``class_weight`` is a
    classifier's (set: a :class:`TableError`)."""
    if params.get("class_weight") is not None:
        raise TableError(
            "--class-weight weighs classes; the target is numeric and a regressor is trained. "
            "Drop --class-weight, or pass --task classification."
        )
    return {k: v for k, v in params.items() if k != "class_weight"}


def _baselines(params: dict, table: PreparedTable, mean: float, scale: float,
               folds: list | None) -> tuple[dict, dict]:  # fmt: skip
    """scikit-learn's MLP (standardised target) and gradient boosting (raw target) on the
    same split, or out of the same folds."""
    split = table.split
    Xtr, Xte = training_precision(params, split)  # scikit-learn: its input's precision
    kw = baseline.sklearn_params(regressor_params(params))
    pred, seconds = baseline.scored(
        lambda X, y: baseline.fit_baseline(X, (y - mean) / scale, regression=True, **kw),
        lambda m, X: m.predict(X) * scale + mean,
        Xtr,
        split.y_train,
        Xte,
        folds,
    )
    sk = {**regression_metrics(split.y_test, pred), "fit_time_s": seconds}
    seed = params.get("random_state", 0)
    pred, seconds = baseline.scored(
        lambda X, y: baseline.fit_gradient_boosting(X, y, seed, regression=True),
        lambda m, X: m.predict(X),
        split.X_train,
        split.y_train,
        split.X_test,
        folds,
    )
    return sk, {**regression_metrics(split.y_test, pred), "fit_time_s": seconds}


def regression_parts(model: TableModel, table: PreparedTable, with_baseline: bool,
                     baseline_params: dict,
                     folds: list | None = None) -> dict[str, Any]:  # fmt: skip
    """The fields of a :class:`~jaxmlp.workflows.table.TableTrainResult` for a fitted
    table regressor ``model`` (and the baselines, scikit-learn's MLP with
    ``baseline_params``) as a dict; with ``folds`` scored out of fold."""
    split = table.split
    pred = (np.asarray(model.oof_predictions_) if folds is not None
            else model.predict_values(split.X_test))  # fmt: skip
    result = {**regression_metrics(split.y_test, pred), "fit_time_s": model.fit_time_s_}
    sk, gbm = (_baselines(baseline_params, table, model.target_mean_, model.target_scale_,
                          folds) if with_baseline else (None, None))  # fmt: skip
    rows = {"train": len(split.X_train), "validation": len(split.X_test)}
    if folds is not None:
        rows = {"train": len(split.X_train), "validation": 0, "folds": len(folds)}
    model.info = {"validation": {k: result[k] for k in ("r2", "rmse", "mae")}, "rows": rows}
    return {"model": model, "metrics": result, "sklearn": sk, "gbm": gbm, "proba": pred,
            "curves": model.eval_curves_, "notes": model.fit_notes_}  # fmt: skip


def evaluate_regression(model: TableModel, df: Any) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(y, predictions, metrics)`` of a regression model on labelled rows ``df``."""
    from jaxmlp.data.target import regression_values

    y = regression_values(df[model.target], model.target, spread=False)
    pred = model.predict(df)
    return y, pred, regression_metrics(y, pred)
