"""The network ``jaxmlp train`` fits on a table, by default an ensemble (issue #20).

A table model is ``ensemble`` MLP members trained side by side as one vectorised
program (:func:`jaxmlp.sklearn.bridge.fit_estimators`), their predictions averaged. Each
member holds out its own ``validation_fraction`` of the training rows (drawn from its own
seed), stops when the held-out *loss* has not fallen for a patience counted in optimizer
steps (at least :data:`MIN_PATIENCE_EPOCHS` epochs), and keeps the weights of its lowest
held-out loss. The numbers were chosen on ``benchmarks/bench_suite.py`` (see
``benchmarks/README.md``).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from jaxmlp.sklearn.budget import fit_within
from jaxmlp.sklearn.classifier import checked_classifier
from jaxmlp.sklearn.cross_fit import fold_curves
from jaxmlp.sklearn.ensemble import MLPEnsembleClassifier
from jaxmlp.sklearn.ensemble_regressor import MLPEnsembleRegressor
from jaxmlp.sklearn.regressor import checked_regressor

__all__ = ["CURVE_ROWS", "ENSEMBLE", "MAX_EPOCHS", "MIN_PATIENCE_EPOCHS", "MIN_ROWS_EARLY_STOPPING",
           "PATIENCE_STEPS", "FitOutcome", "batch_rows", "early_stopping_rows", "fit_members",
           "patience_epochs", "table_params"]  # fmt: skip

# members of the default ensemble (4 scored as 8 on the suite, in half the time)
ENSEMBLE = 4
# early stopping's patience in optimizer steps, and its floor in epochs (an epoch of a
# small table is one or two steps: ten epochs of patience would be twenty updates)
PATIENCE_STEPS = 200
MIN_PATIENCE_EPOCHS = 10
# most epochs with early stopping (it stops far sooner); without it, scikit-learn's 200
MAX_EPOCHS = 1000
# rows of each set the learning curves are measured on after every epoch
CURVE_ROWS = 4096


def batch_rows(n_fit: int) -> int:
    """The mini-batch size for ``n_fit`` training rows: the power of two nearest
    ``n_fit / 8``, within [32, 256] -- several steps per epoch on a small table (one
    batch of 200 would be one step), 256 rows on a large one."""
    return int(min(256, max(32, 2 ** round(math.log2(max(n_fit, 1) / 8)))))


def table_params(params: dict, n_train: int) -> dict:
    """``params`` with what was left to jaxmlp filled in for ``n_train`` training rows:
    early stopping on the held-out loss, the batch size (:func:`batch_rows` for 'auto'),
    the patience (:func:`patience_epochs` for None) and the epochs (:data:`MAX_EPOCHS`
    with early stopping, 200 without, for None) and the precision (float32, as the
    PyTorch-based tabular MLPs train, for None)."""
    params = {"early_stopping_metric": "loss", **params}
    params["dtype"] = params.get("dtype") or "float32"
    early = bool(params.get("early_stopping"))
    if params.get("batch_size", "auto") == "auto":
        share = 1 - float(params.get("validation_fraction", 0.1)) if early else 1.0
        params["batch_size"] = batch_rows(max(1, int(n_train * share)))
    if params.get("n_iter_no_change") is None:
        params["n_iter_no_change"] = patience_epochs(n_train, params)
    if params.get("max_iter") is None:
        params["max_iter"] = MAX_EPOCHS if early else 200
    return params


def patience_epochs(n_train: int, params: dict) -> int:
    """Epochs of patience worth :data:`PATIENCE_STEPS` optimizer steps on ``n_train``
    rows (the members fit ``1 - validation_fraction`` of them), at least
    :data:`MIN_PATIENCE_EPOCHS`."""
    n_fit = max(1, int(n_train * (1 - float(params.get("validation_fraction", 0.1)))))
    batch = params.get("batch_size", "auto")
    batch = min(batch_rows(n_fit) if batch == "auto" else int(batch), n_fit)
    steps = math.ceil(n_fit / batch)
    return max(MIN_PATIENCE_EPOCHS, math.ceil(PATIENCE_STEPS / steps))


class FitOutcome:
    """A fitted table network: ``estimator`` (a member or an ensemble), ``fit_time_s``,
    ``notes`` (convergence warnings, one line each) and ``curves`` (train and
    validation (loss, score) per epoch, averaged over members, or None)."""

    def __init__(self, estimator: Any, fit_time_s: float, notes: list[str],
                 curves: np.ndarray | None):  # fmt: skip
        self.estimator, self.fit_time_s = estimator, fit_time_s
        self.notes, self.curves = notes, curves


def fit_members(params: dict, regression: bool, ensemble: int, X_tr: np.ndarray,
                y_tr: np.ndarray, X_te: np.ndarray | None, y_te: np.ndarray | None,
                devices: int | None, progress: Callable[[int, float], None] | None,
                time_budget: float | None = None,
                folds: list[np.ndarray] | None = None) -> FitOutcome:  # fmt: skip
    """Fit ``ensemble`` members of ``params`` (one plain estimator when ``ensemble`` is 1)
    on rows ``X_tr`` (n, d) and targets ``y_tr`` (n,), watching the training rows and
    ``(X_te, y_te)`` (if given; at most :data:`CURVE_ROWS` of each) after every epoch;
    ``progress(epochs, loss)`` after every chunk of epochs.

    With ``time_budget`` (seconds of this fit, compilation included) the members train in
    rungs that continue each other and end within it
    (:func:`jaxmlp.sklearn.budget.fit_within`); a note says where it cut the fit short.

    With ``folds`` (arrays of row indices) the members are the folds: member ``i`` trains
    on the rows outside ``folds[i]`` and stops on them (:mod:`jaxmlp.sklearn.cross_fit`);
    without ``X_te`` the curves' second set is the members' own held-out folds."""
    make = checked_regressor if regression else checked_classifier
    member = make(**params)
    member.set_params(devices=devices if (devices or 1) > 1 else None)
    evals = [_sample(X_tr, y_tr)]
    if X_te is not None and y_te is not None:
        evals.append(_sample(X_te, y_te))
    estimator: Any = member
    if ensemble > 1 or folds is not None:
        cls = MLPEnsembleRegressor if regression else MLPEnsembleClassifier
        estimator = cls(member, n_estimators=ensemble if folds is None else len(folds),
                        random_state=params.get("random_state"))  # fmt: skip
    budget_notes: list[str] = []
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if time_budget is not None:
            budget_notes = fit_within(estimator, X_tr, y_tr, evals, time_budget, progress)
        elif folds is not None:
            estimator.fit(X_tr, y_tr, eval_set=evals, callback=progress, folds=folds)
        else:
            estimator.fit(X_tr, y_tr, eval_set=evals, callback=progress)
    fit_time = time.perf_counter() - t0
    for m in [member, *getattr(estimator, "estimators_", [])]:
        m.set_params(devices=None)  # where it trained is not part of the model
    notes = sorted({str(w.message).splitlines()[0] for w in caught
                    if "converge" in str(w.message).lower()
                    or "Maximum iterations" in str(w.message)})  # fmt: skip
    curves = getattr(estimator, "eval_curves_", None)
    if folds is not None and X_te is None and curves is not None:
        own = fold_curves(estimator)  # each member on its own held-out fold (None: none)
        mine = np.full((len(curves), 2), np.nan)
        if own is not None:
            mine[: min(len(own), len(curves))] = own[: len(curves)]
        curves = np.stack([curves[:, 0], mine], axis=1)
    return FitOutcome(estimator, fit_time, notes + budget_notes, curves)


def _sample(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most :data:`CURVE_ROWS` rows of (X, y), drawn without replacement (seed 0): the
    learning curves' rows, so that on a large table the curves do not cost a third of
    every epoch (a forward pass over all rows, beside the training's three passes)."""
    if len(X) <= CURVE_ROWS:
        return X, y
    keep = np.sort(np.random.default_rng(0).choice(len(X), CURVE_ROWS, replace=False))
    return X[keep], y[keep]


# fewest training rows for early stopping: its 10% validation slice needs a few rows
MIN_ROWS_EARLY_STOPPING = 50


def early_stopping_rows(params: dict, n_train: int) -> tuple[dict, str | None]:
    """``params`` without early stopping when ``n_train`` rows are too few for its
    validation slice, and a note saying so."""
    if not params.get("early_stopping") or n_train >= MIN_ROWS_EARLY_STOPPING:
        return params, None
    return {**params, "early_stopping": False}, (
        f"only {n_train} training rows: trained without early stopping (its validation slice "
        f"needs {MIN_ROWS_EARLY_STOPPING} rows or more)"
    )
