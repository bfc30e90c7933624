"""The regression half of the table report (``jaxmlp train`` / ``evaluate`` on a numeric
target): R², RMSE and MAE of jaxmlp next to scikit-learn's MLP and gradient boosting,
learning curves (loss and R² per epoch), predicted against actual values, residuals
against predictions, and the target's distribution in the data summary."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from jaxmlp.reports.figures import Curve, plot_curves, png_bytes
from jaxmlp.reports.html import figure, html_page, kv_table
from jaxmlp.reports.table_html import (
    columns_table,
    members_note,
    metrics_table,
    rows_label,
    warnings_list,
    where_html,
)

__all__ = ["plot_predicted_vs_actual", "plot_residuals", "regression_images",
           "render_regression_report"]  # fmt: skip


def restored_epoch(estimator: Any) -> int | None:
    """The epoch whose weights early stopping kept (1-based), or None (also for an
    ensemble: each member kept its own)."""
    if getattr(estimator, "early_stopping_metric", "score") == "loss":
        losses = getattr(estimator, "validation_loss_curve_", None)
        return int(np.argmin(losses)) + 1 if losses else None
    scores = getattr(estimator, "validation_scores_", None)
    return int(np.argmax(scores)) + 1 if scores else None


def mark_restored(fig: Figure, epoch: int | None) -> Figure:
    """A dotted vertical line at the restored epoch on every panel of learning curves."""
    if epoch is None:
        return fig
    label = f"restored: epoch {epoch} (best validation score)"
    for i, ax in enumerate(fig.axes):
        ax.axvline(epoch, color="0.3", ls="--", lw=1, label=label if i == 0 else None)
    fig.axes[0].legend(fontsize="small")
    return fig


def plot_regression_curves(curves: np.ndarray, loss_curve: Any, restored: int | None) -> Figure:
    """``curves`` of shape (epochs, 2 sets [train, validation], [loss, R²]) of the
    standardised target, with the restored epoch marked."""
    epochs = np.arange(1, len(curves) + 1)
    lines = [Curve("train", curves[:, 0, 0], curves[:, 0, 1]),
             Curve("validation", curves[:, 1, 0], curves[:, 1, 1])]  # fmt: skip
    if loss_curve is not None and len(loss_curve) == len(curves):
        lines.append(Curve("training objective (incl. L2)", np.asarray(loss_curve),
                           style={"ls": ":", "color": "0.4"}))  # fmt: skip
    fig = plot_curves(epochs, lines, loss_label="loss (half squared error, standardised)",
                      accuracy_label="R²")  # fmt: skip
    low = float(np.nanmin(curves[:, :, 1])) if np.isfinite(curves[:, :, 1]).any() else 0.0
    fig.axes[1].set_ylim(max(-1.0, min(0.0, low)), 1.02)
    return mark_restored(fig, restored)


def plot_predicted_vs_actual(y: np.ndarray, pred: np.ndarray, target: str,
                             rows: str = "validation rows") -> Figure:  # fmt: skip
    """Predictions against true values of shape (n,), with the diagonal of a perfect fit."""
    fig = Figure(figsize=(6.0, 5.5), layout="constrained")
    ax = fig.subplots()
    ax.scatter(y, pred, s=10, alpha=0.5, color="#1f77b4", edgecolors="none")
    lo, hi = float(min(y.min(), pred.min())), float(max(y.max(), pred.max()))
    ax.plot([lo, hi], [lo, hi], ls="--", color="0.4", lw=1, label="predicted = actual")
    ax.set_xlabel(f"actual {target}")
    ax.set_ylabel(f"predicted {target}")
    ax.set_title(f"Predicted vs actual ({rows})")
    ax.legend(fontsize="small", loc="upper left")
    ax.grid(alpha=0.3)
    return fig


def plot_residuals(y: np.ndarray, pred: np.ndarray, target: str,
                   rows: str = "validation rows") -> Figure:  # fmt: skip
    """Residuals ``actual - predicted`` against the prediction, and their histogram."""
    residual = y - pred
    fig = Figure(figsize=(8.0, 4.5), layout="constrained")
    ax, hist = fig.subplots(1, 2, width_ratios=[2, 1], sharey=True)
    ax.scatter(pred, residual, s=10, alpha=0.5, color="#d62728", edgecolors="none")
    ax.axhline(0, color="0.4", ls="--", lw=1)
    ax.set_xlabel(f"predicted {target}")
    ax.set_ylabel("residual (actual - predicted)")
    ax.set_title(f"Residuals ({rows})")
    ax.grid(alpha=0.3)
    style = {"orientation": "horizontal", "color": "#d62728", "alpha": 0.7}
    try:
        hist.hist(residual, bins=40, **style)
    except ValueError:  # residuals too close for 40 finite bins (e.g. one row near 1e16)
        finite = residual[np.isfinite(residual)]
        if finite.size:  # one bar over a range wide enough to be finite at that magnitude
            lo, hi = float(finite.min()), float(finite.max())
            pad = max(abs(lo), abs(hi), 1.0) * 1e-3
            hist.hist(finite, bins=1, range=(lo - pad, hi + pad), **style)
    hist.set_xlabel("rows")
    return fig


def regression_images(model: Any, y: np.ndarray, pred: np.ndarray, curves: np.ndarray | None,
                      rows: str = "validation rows") -> dict[str, bytes]:  # fmt: skip
    images = {}
    est = model.estimator
    if curves is not None and len(curves):
        images["learning_curves"] = png_bytes(plot_regression_curves(
            curves, getattr(est, "loss_curve_", None), restored_epoch(est)))  # fmt: skip
    if len(y):
        images["predicted"] = png_bytes(plot_predicted_vs_actual(y, pred, model.target, rows))
        images["residuals"] = png_bytes(plot_residuals(y, pred, model.target, rows))
    return images


def render_regression_report(title: str, summary: dict, images: dict[str, bytes]) -> str:
    """The report of a table regressor; ``summary`` as for the classifier's report, with
    regression metrics and the target's summary."""
    jx = summary["jaxmlp"]
    names = (("sklearn", "scikit-learn MLPRegressor"),
             ("gbm", "scikit-learn HistGradientBoostingRegressor"))  # fmt: skip
    rows = [("R²", "r2", "loss"), ("RMSE", "rmse", "loss"), ("MAE", "mae", "loss"),
            ("Fit time", "fit_time_s", "time")]  # fmt: skip
    data = summary["data"]
    target = "".join(f"<tr><td>{k}</td><td>{v:.6g}</td></tr>"
                     for k, v in data["target_summary"].items())  # fmt: skip
    curves = figure(images, "learning_curves", "Loss and R² per epoch (standardised target)"
                    + members_note(summary))  # fmt: skip
    caption = ("Each row, predicted out of fold: true and predicted value"
               if rows_label(summary) == "out of fold"
               else "Each validation row: true and predicted value")  # fmt: skip
    page = f"""
<p class="sub">{html.escape(summary.get("subtitle", ""))}</p>
{warnings_list(summary)}
<h2>Metrics {where_html(summary)}</h2>
<p>RMSE and MAE in the target's units; its standard deviation on these rows is
{jx.get("target_std", float("nan")):.4g} (the RMSE of always predicting the mean).</p>
{metrics_table(summary, names, rows)}
{"<h2>Learning curves</h2><div class='row'>" + curves + "</div>" if curves else ""}
<h2>Predictions</h2>
<div class="row">{figure(images, "predicted", caption)}
{figure(images, "residuals", "What the model misses, by predicted value")}</div>
<h2>Data</h2>
<p>{data["rows"]} rows, {len(data["columns"])} columns.</p>
<div class="row">{columns_table(data)}
<table id="target"><thead><tr><th>target</th><th>value</th></tr></thead>
<tbody>{target}</tbody></table></div>
<h2>Settings</h2>
{kv_table(summary.get("settings", {}))}
"""
    return html_page(title, page, summary.get("versions", {}))
