"""What a tab can take away or compare with: the model as a ``jaxmlp.MLPClassifier`` (or
``MLPRegressor`` for a regression problem; a zipped model folder that :func:`jaxmlp.load`
reads), the HTML report, and scikit-learn's MLP trained on the same points."""

from __future__ import annotations

import io
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from jaxmlp.data.playground import features
from jaxmlp.io.model_files import save
from jaxmlp.reports.playground import playground_report
from jaxmlp.sklearn.base import BaseMLP
from jaxmlp.sklearn.classifier import MLPClassifier
from jaxmlp.sklearn.regressor import MLPRegressor
from jaxmlp.sklearn.state import FittedState
from jaxmlp.workflows.baseline import fit_baseline, sklearn_params
from jaxmlp.workflows.playground import GRID, Run, grid_points

__all__ = ["baseline_surface", "estimator", "model_zip", "report_html"]

FOLDER = "playground-model"


def _estimator_params(run: Run) -> dict:
    s = run.settings
    return dict(hidden_layer_sizes=s.hidden, activation=s.activation,
                solver="adam" if s.optimizer == "adam" else "sgd",
                momentum=0.9 if s.optimizer == "momentum" else 0.0, nesterovs_momentum=False,
                learning_rate_init=s.learning_rate, batch_size=s.batch_size,
                alpha=s.reg_rate if s.regularization == "l2" else 0.0,
                max_iter=max(run.epoch, 1), random_state=s.seed)  # fmt: skip


def estimator(run: Run) -> BaseMLP:
    """``run``'s model as a fitted :class:`~jaxmlp.MLPClassifier` (or
    :class:`~jaxmlp.MLPRegressor`) whose inputs are the features switched on (named as in
    the playground, e.g. 'x1^2')."""
    coefs = run.weights()
    dense = [p for p in run.state.params if len(p) == 2]
    intercepts = [np.asarray(b) for _, b in dense]
    k = run.n_classes
    labels = run.points.classes
    classes = np.array(labels) if run.settings.dataset == "custom" else np.arange(k)
    est: BaseMLP = (MLPRegressor if run.regression else MLPClassifier)(**_estimator_params(run))
    out = "identity" if run.regression else "logistic" if k == 2 else "softmax"
    losses = [h[1] for h in run.history]
    est.set_fitted_state(FittedState(
        classes=None if run.regression else classes,
        y_type="continuous" if run.regression else "binary" if k == 2 else "multiclass",
        n_features_in=coefs[0].shape[0],
        feature_names_in=np.array(run.settings.features, dtype=object),
        n_inputs=coefs[0].shape[0], n_outputs=1 if k == 2 else k,
        n_layers=len(coefs) + 1, out_activation=out,
        n_iter=run.epoch, t=run.epoch * int(run.points.train.sum()),
        loss=losses[-1] if losses else float("nan"), coefs=coefs, intercepts=intercepts,
        loss_curve=losses,
    ))  # fmt: skip
    return est


def report_html(run: Run) -> bytes:
    """The HTML report of ``run`` (UTF-8)."""
    return playground_report(run).encode()


def model_zip(run: Run) -> bytes:
    """A zip of the model folder ``playground-model/`` (model.json, arrays.safetensors,
    report.html)."""
    with tempfile.TemporaryDirectory(prefix="jaxmlp-playground-") as tmp:
        folder = save(estimator(run), Path(tmp) / FOLDER, report=playground_report(run))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(folder.iterdir()):
                z.write(f, f"{FOLDER}/{f.name}")
    return buffer.getvalue()


def baseline_surface(run: Run) -> tuple[np.ndarray, float, float]:
    """scikit-learn's ``MLPClassifier`` (``MLPRegressor``) with the closest settings (its
    own initialisation; as many epochs as the tab has run, at least 1) trained on the same
    training points.

    Returns
    -------
    proba : ndarray of shape (n_classes, GRID, GRID)
        Class probabilities (for regression, the values' colour pair).
    test_score : float
        Accuracy (R² for regression) on the test points.
    fit_seconds : float
    """
    p = run.points
    names = run.settings.features
    t0 = time.perf_counter()
    fitted = fit_baseline(features(p.X[p.train], names), p.y[p.train], run.regression,
                          **sklearn_params(_estimator_params(run)))  # fmt: skip
    seconds = time.perf_counter() - t0
    model = fitted.model
    if run.regression:
        v = np.clip(model.predict(features(grid_points(GRID), names)), -1, 1)
        pair = np.stack([(1 - v) / 2, (1 + v) / 2])
        r2 = float(model.score(features(p.X[~p.train], names), p.y[~p.train]))
        return pair.reshape(-1, GRID, GRID).astype(np.float32), r2, seconds
    proba = np.zeros((GRID * GRID, run.n_classes))
    proba[:, model.classes_] = model.predict_proba(features(grid_points(GRID), names))
    accuracy = float(model.score(features(p.X[~p.train], names), p.y[~p.train]))
    return proba.T.reshape(-1, GRID, GRID).astype(np.float32), accuracy, seconds
