"""An MLP on a user's table: what ``jaxmlp train`` does, as functions that return values
and print nothing (``predict`` and ``evaluate``: :mod:`jaxmlp.workflows.table_use`).

:func:`train_table` reads and prepares the table (:mod:`jaxmlp.data`), fits a
:class:`~jaxmlp.MLPClassifier` -- or, for a numeric target, an
:class:`~jaxmlp.MLPRegressor` (:mod:`jaxmlp.workflows.table_regression`) -- watching the
train and validation rows after every epoch, fits the scikit-learn baselines, and returns
the fitted :class:`~jaxmlp.TableModel` with everything its report shows
(:mod:`jaxmlp.reports.table` renders and saves it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from jaxmlp.data.prepare import PreparedTable, prepare_table
from jaxmlp.data.tables import TableError, read_table
from jaxmlp.sklearn.classifier import checked_classifier
from jaxmlp.sklearn.cross_fit import CV_ROWS, make_folds, resolve_cv
from jaxmlp.sklearn.table_estimators import table_estimator
from jaxmlp.sklearn.table_fit import ENSEMBLE, early_stopping_rows
from jaxmlp.sklearn.table_model import TableModel
from jaxmlp.workflows import baseline
from jaxmlp.workflows.table_regression import (
    regression_parts,
    training_precision,
)

__all__ = [
    "TableTrainConfig",
    "TableTrainResult",
    "data_summary",
    "metrics",
    "train_table",
]


@dataclasses.dataclass(frozen=True)
class TableTrainConfig:
    """What ``jaxmlp train`` was asked to do.

    ``params`` are :class:`~jaxmlp.MLPClassifier` keyword arguments (of each member of
    an ``ensemble``); ``random_state`` in them also seeds the validation split;
    ``n_iter_no_change`` None is a patience of
    :data:`~jaxmlp.sklearn.table_fit.PATIENCE_STEPS` optimizer steps.
    """

    data: Path
    target: str
    params: dict = dataclasses.field(default_factory=dict)
    features: list[str] | None = None
    categorical: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    test_size: float | None = None  # a holdout of this share; None: 0.25, or none to cross-fit
    test_file: Path | None = None
    drop_missing_target: bool = False
    baseline: bool = True
    devices: int | None = None  # data-parallel over this many devices (all processes')
    stream: bool = False  # read row groups one at a time (jaxmlp.workflows.stream)
    shared: bool = False  # several processes, each reading its rows (jaxmlp.workflows.shares)
    keep: tuple[str, ...] = ()  # id-like columns to use anyway (--keep-column)
    task: str = "auto"  # 'classification', 'regression' or 'auto' (from the target column)
    datetime: tuple[str, ...] = ()  # columns to read as dates (--datetime)
    max_onehot: int | None = 50  # more levels than this: target-encoded (--max-onehot)
    ensemble: int = ENSEMBLE  # members trained as one program, predictions averaged
    scaling: str = "robust"  # the numeric columns' (jaxmlp.data.schema.make_preprocessor)
    time_budget: float | None = None  # most seconds of training (--time-budget); None: no limit
    cv: int | str | None = "auto"  # cross-fitted folds (--cv): jaxmlp.sklearn.cross_fit

    @property
    def holdout(self) -> float:
        """The validation share where the rows are held out (not cross-fitted)."""
        return 0.25 if self.test_size is None else self.test_size


@dataclasses.dataclass
class TableTrainResult:
    """What :func:`train_table` returns.

    Attributes
    ----------
    model : TableModel
        The fitted pipeline (``model.info``: validation metrics, row counts, source).
    table : PreparedTable
        The split, preprocessing, schema, warnings and the rows as read.
    metrics : dict
        :func:`metrics` of the jaxmlp model on the validation rows, plus ``fit_time_s``.
    sklearn : dict or None
        The same for scikit-learn's ``MLPClassifier`` (``MLPRegressor``) with the same
        settings.
    proba : ndarray of shape (n_validation, n_classes), or (n_validation,)
        Class probabilities, or a regressor's predictions in the target's units.
    curves : ndarray of shape (n_epochs, 2, 2) or None
        Train and validation (loss, accuracy) after every epoch ((loss, R²) of the
        standardised target for regression).
    data : dict
        :func:`data_summary` of the whole table.
    notes : list of str
        The fit's convergence notes (e.g. maximum iterations reached).
    gbm : dict or None
        :func:`metrics` of scikit-learn's ``HistGradientBoostingClassifier`` on the same
        split, plus ``fit_time_s``.
    """

    model: TableModel
    table: PreparedTable
    metrics: dict
    sklearn: dict | None
    proba: np.ndarray
    curves: np.ndarray | None
    data: dict
    notes: list[str]
    gbm: dict | None = None


def _date_kind(series: Any) -> str:
    """What a date column became, for the data summary."""
    from jaxmlp.data.dates import date_values, describe

    v = date_values(series, str(series.name)).dropna().to_numpy()
    return "date: " + describe(bool((v != v.astype("datetime64[D]")).any()))


def data_summary(df: Any, target: str, schema: Any, regression: bool = False) -> dict[str, Any]:
    """Rows, columns with kind and missing count, class balance of ``target`` (for a
    regression target: its quantiles, mean and standard deviation)."""
    cols = []
    for c in df.columns:
        c = str(c)
        kind = ("target" if c == target else "numeric" if c in schema.numeric
                else _date_kind(df[c]) if c in schema.datetime
                else "categorical (target-encoded)" if c in schema.target_encoded
                else "categorical" if c in schema.categorical else "unused")  # fmt: skip
        missing, distinct = int(df[c].isna().sum()), int(df[c].nunique())
        cols.append({"column": c, "kind": kind, "dtype": str(df[c].dtype), "missing": missing,
                     "distinct": distinct})  # fmt: skip
    if regression:
        import pandas as pd

        y = pd.to_numeric(df[target], errors="coerce")
        stats = {"min": y.min(), "25%": y.quantile(0.25), "median": y.median(),
                 "75%": y.quantile(0.75), "max": y.max(), "mean": y.mean(),
                 "std": y.std()}  # fmt: skip
        return {"rows": len(df), "columns": cols,
                "target_summary": {k: float(v) for k, v in stats.items()}}  # fmt: skip
    balance = df[target].astype(str).value_counts().sort_index()
    return {"rows": len(df), "columns": cols,
            "class_balance": {str(k): int(v) for k, v in balance.items()}}  # fmt: skip


def metrics(y: np.ndarray, proba: np.ndarray, classes: np.ndarray | None) -> dict[str, Any]:
    """Accuracy, log loss, per-class precision/recall/F1/support, confusion matrix and
    ROC AUC (one-vs-rest) of predicted probabilities ``proba`` (n, k) for labels ``y``
    (class indices, shape (n,))."""
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        log_loss,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    assert classes is not None, "a classifier's metrics"
    k = len(classes)
    # a float32 network's rows sum to 1 within 1e-7, not the 1.5e-8 log_loss checks
    proba = np.asarray(proba, np.float64)
    proba = proba / proba.sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(k), zero_division=0)
    auc = None
    if len(np.unique(y)) == k:
        auc = float(roc_auc_score(y, proba[:, 1]) if k == 2
                    else roc_auc_score(y, proba, multi_class="ovr", labels=range(k)))  # fmt: skip
    per_class = [
        {
            "class": str(c),
            "precision": float(p[i]),
            "recall": float(r[i]),
            "f1": float(f[i]),
            "support": int(s[i]),
        }
        for i, c in enumerate(classes)
    ]
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "log_loss": float(log_loss(y, np.clip(proba, 1e-15, 1), labels=range(k))),
        "roc_auc": auc,
        "per_class": per_class,
        "confusion_matrix": confusion_matrix(y, pred, labels=range(k)).tolist(),
    }  # fmt: skip


def _sklearn_row(params: dict, table: PreparedTable, folds: list | None) -> dict:
    """scikit-learn's MLP with the same settings, on the same split (or out of the same
    folds), at the same precision."""
    split = table.split
    X_tr, X_te = training_precision(params, split)  # scikit-learn: its input's precision
    kw = baseline.sklearn_params(params)
    proba, seconds = baseline.scored(lambda X, y: baseline.fit_baseline(X, y, **kw),
                                     lambda m, X: m.predict_proba(X), X_tr, split.y_train,
                                     X_te, folds)  # fmt: skip
    return {**metrics(split.y_test, proba, table.classes), "fit_time_s": seconds}


def _gbm_row(params: dict, table: PreparedTable, folds: list | None) -> dict:
    """scikit-learn's histogram gradient boosting (defaults) on the same split (or out of
    the same folds) and the same preprocessed inputs."""
    split, seed = table.split, params.get("random_state", 0)
    proba, seconds = baseline.scored(lambda X, y: baseline.fit_gradient_boosting(X, y, seed),
                                     lambda m, X: m.predict_proba(X), split.X_train,
                                     split.y_train, split.X_test, folds)  # fmt: skip
    return {**metrics(split.y_test, proba, table.classes), "fit_time_s": seconds}


def _folds(config: TableTrainConfig, df: Any, ensemble: int) -> int | None:
    """The folds to cross-fit in (:func:`~jaxmlp.sklearn.cross_fit.resolve_cv`), or None
    for a holdout (``test_size`` asks for one)."""
    if config.test_size is not None and config.cv not in ("auto", None):
        raise TableError(f"--cv {config.cv} cross-fits every row; --test-size "
                         f"{config.test_size} holds some out. Give one of them.")  # fmt: skip
    if config.test_size is not None:
        return None
    return resolve_cv(config.cv, ensemble, len(df), config.time_budget)


def _rows_info(split: Any, folds: list | None) -> dict:
    """The rows a model learned from and was scored on, for its model folder."""
    if folds is not None:
        return {"train": len(split.X_train), "validation": 0, "folds": len(folds)}
    return {"train": len(split.X_train), "validation": len(split.X_test)}


def train_table(
    config: TableTrainConfig,
    progress: Callable[[int, float], None] | None = None,
    on_prepared: Callable[[PreparedTable], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> TableTrainResult:
    """Train a table classifier (see the module docstring).

    Parameters
    ----------
    config : TableTrainConfig
    progress : callable, optional
        ``progress(epochs_done, loss)`` during the fit (``MLPClassifier.fit``'s callback).
    on_prepared : callable, optional
        ``on_prepared(table)`` once the table is read and split, before training.
    on_stage : callable, optional
        ``on_stage(text)`` when a stage after training begins (the baselines' fits).

    Raises
    ------
    TableError
        Anything wrong with the table or the columns asked for.
    sklearn.utils._param_validation.InvalidParameterError
        An estimator setting out of range (raised before the table is read).
    DivergenceError
        The training diverged.
    """
    checked_classifier(**sklearn_defaults(config.params))  # the settings, before reading
    df = read_table(config.data)
    test_df = read_table(config.test_file) if config.test_file is not None else None
    ensemble = config.ensemble if (config.devices or 1) <= 1 else 1
    k = _folds(config, df, ensemble)
    seed = config.params.get("random_state", 0)

    def prepare(holdout: float) -> PreparedTable:
        return prepare_table(df, config.target, features=config.features,
                             categorical=config.categorical, numeric=config.numeric,
                             test_size=holdout, test_df=test_df, seed=seed,
                             drop_missing_target=config.drop_missing_target,
                             keep=config.keep, task=config.task, datetime=config.datetime,
                             max_onehot=config.max_onehot, scaling=config.scaling)  # fmt: skip

    table = prepare(0.0 if k and test_df is None else config.holdout)
    cut, fallback = (make_folds(k, table.split.y_train, table.regression, seed or 0,
                                table.classes) if k else (None, None))  # fmt: skip
    if k and cut is None:
        k = None  # too few rows (of a class) to cut: a holdout, as before cross-fitting
        if test_df is None:
            table = prepare(config.holdout)
    if k:
        table.split.meta["folds"] = k  # said by the CLI before training
        # scored out of fold: the split's validation part is its training rows again
        table.split.meta["out_of_fold"] = test_df is None
    if on_prepared is not None:
        on_prepared(table)
    given, _ = early_stopping_rows(config.params, len(table.split.X_train))
    model = table_estimator(config.params, table.regression, ensemble=ensemble, cv=k,
                            scaling=config.scaling, max_onehot=config.max_onehot,
                            categorical=config.categorical, numeric=config.numeric,
                            datetime=config.datetime,
                            time_budget=config.time_budget)  # fmt: skip
    model.fit_prepared(table, config.target, devices=config.devices, progress=progress)
    if k is None and fallback:
        model.fit_notes_.insert(0, fallback)
    elif k is None and test_df is None and config.test_size is None and config.cv == "auto" \
            and len(df) <= CV_ROWS:  # 'auto' would have cross-fitted but for these  # fmt: skip
        why, fix = (("--time-budget", "without it the members cross-fit every row")
                    if config.time_budget is not None else ("one network", "--cv K cross-fits"
                    " K members over every row"))  # fmt: skip
        model.fit_notes_.insert(0, f"{why} trains on a hold-out: {config.holdout:.0%} of the "
                                f"rows score the model and are not trained on ({fix})")  # fmt: skip
    if config.baseline and on_stage is not None:
        on_stage("fitting the baselines")
    # out of fold: each row scored by the member that did not train on it
    folds = model.cv_folds_ if test_df is None else None
    scored = "out-of-fold" if folds is not None else ("test file" if test_df is not None
                                                      else "validation rows")  # fmt: skip
    if table.regression:
        parts = regression_parts(model, table, config.baseline, sklearn_defaults(given), folds)
        parts["model"].info.update(source=str(config.data), scored=scored)
        return TableTrainResult(table=table, data=data_summary(df, config.target, table.schema,
                                                               True), **parts)  # fmt: skip
    split = table.split
    proba = (np.asarray(model.oof_predictions_) if folds is not None
             else model.predict_proba_encoded(split.X_test))  # fmt: skip
    result = {**metrics(split.y_test, proba, table.classes), "fit_time_s": model.fit_time_s_}
    sk = _sklearn_row(sklearn_defaults(given), table, folds) if config.baseline else None
    gbm = _gbm_row(given, table, folds) if config.baseline else None
    model.info = {"validation": {k: result[k] for k in ("accuracy", "log_loss", "roc_auc")},
                  "rows": _rows_info(split, folds), "source": str(config.data),
                  "scored": scored}  # fmt: skip
    return TableTrainResult(model, table, result, sk, proba, model.eval_curves_,
                            data_summary(df, config.target, table.schema), model.fit_notes_,
                            gbm)  # fmt: skip


def sklearn_defaults(params: dict) -> dict:
    """``params`` with what was left to jaxmlp (None) at scikit-learn's defaults: the
    settings of scikit-learn's MLP baseline, and of a check before the table is read."""
    return {**params, "max_iter": params.get("max_iter") or 200,
            "n_iter_no_change": params.get("n_iter_no_change") or 10}  # fmt: skip
