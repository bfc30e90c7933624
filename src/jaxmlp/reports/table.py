"""Metrics, figures and the HTML report of ``jaxmlp train`` and ``jaxmlp evaluate``.

The report: data summary (rows, columns, kinds, missing values, class balance), metrics
of jaxmlp next to the scikit-learn MLP baseline, learning curves (train/validation loss
and accuracy per epoch), confusion matrix, per-class precision/recall/F1, ROC curves, and
a 2-D view of the decision surface (the two features themselves when there are two
numeric ones, else a PCA projection of the preprocessed features).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from jaxmlp.io.files import atomic_write, ensure_writable_dir
from jaxmlp.io.model_files import save
from jaxmlp.reports.figures import Curve, draw_surface, plot_curves, png_bytes, scatter_classes
from jaxmlp.reports.html import figure, html_page, kv_table, versions
from jaxmlp.reports.table_html import (
    columns_table,
    members_note,
    metrics_table,
    rows_label,
    warnings_list,
)
from jaxmlp.reports.table_html import where_html as _where
from jaxmlp.reports.table_regression import (
    mark_restored,
    regression_images,
    render_regression_report,
    restored_epoch,
)
from jaxmlp.workflows.shortfall import shortfall, where
from jaxmlp.workflows.table import TableTrainResult

__all__ = [
    "render_images",
    "render_table_report",
    "table_report",
    "write_evaluation_report",
    "write_table_model",
]

VIEW_MESH = 80  # points along each side of the decision view's mesh


def plot_learning_curves(
    curves: np.ndarray, loss_curve: Any, restored: int | None = None
) -> Figure:
    """``curves`` of shape (epochs, 2 sets [train, validation], [loss, accuracy]), and the
    training objective per epoch (``loss_curve``, with the L2 term) when it has one value
    per epoch; the epoch early stopping restored marked."""
    epochs = np.arange(1, len(curves) + 1)
    lines = [Curve("train", curves[:, 0, 0], curves[:, 0, 1]),
             Curve("validation", curves[:, 1, 0], curves[:, 1, 1])]  # fmt: skip
    if loss_curve is not None and len(loss_curve) == len(curves):
        lines.append(Curve("training objective (incl. L2)", np.asarray(loss_curve),
                           style={"ls": ":", "color": "0.4"}))  # fmt: skip
    return mark_restored(plot_curves(epochs, lines, loss_label="loss (cross-entropy)"), restored)


def plot_confusion(matrix, classes, rows: str = "validation rows") -> Figure:
    m = np.asarray(matrix)
    k = len(classes)
    size = min(3.5 + 0.45 * k, 12)
    fig = Figure(figsize=(size + 1, size), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(m, cmap=matplotlib.colormaps["Blues"])
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(m[i, j]), ha="center", va="center",
                    color="w" if m[i, j] > m.max() / 2 else "k", fontsize=9)  # fmt: skip
    labels = [str(c) for c in classes]
    ax.set_xticks(range(k), labels, rotation=45 if k > 4 else 0, ha="right" if k > 4 else "center")
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix ({rows})")
    fig.colorbar(image, ax=ax, fraction=0.05)
    return fig


def plot_roc(y, proba, classes) -> Figure:
    from sklearn.metrics import auc, roc_curve

    fig = Figure(figsize=(6.0, 5.5), layout="constrained")
    ax = fig.subplots()
    k = len(classes)
    which = [1] if k == 2 else range(k)
    for i in which:
        if (y == i).all() or (y != i).all():
            continue
        fpr, tpr, _ = roc_curve(y == i, proba[:, i])
        label = f"{classes[i]} (AUC {auc(fpr, tpr):.3f})"
        ax.plot(fpr, tpr, lw=1.6, label=label if k > 2 else f"positive class {label}")
    ax.plot([0, 1], [0, 1], ls="--", color="0.6", lw=1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC curves" + (" (one vs rest)" if k > 2 else ""))
    if ax.get_legend_handles_labels()[1]:
        ax.legend(fontsize="small", loc="lower right")
    else:  # every scored row of one class: no curve to draw
        ax.text(0.5, 0.5, "one class only in the scored rows", ha="center", va="center")
    ax.grid(alpha=0.3)
    return fig


def _view(model: Any, df: Any) -> tuple:
    """Points and a mesh for the decision view: ``(points (n, 2), xx, yy, proba of the
    mesh (n_mesh, k), x label, y label, title)``."""
    schema = model.schema

    def mesh(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.nanmin(pts, axis=0), np.nanmax(pts, axis=0)
        pad = 0.05 * (hi - lo + 1e-12)
        # filled contours of 11 levels look as smooth at 80 x 80 points as at 120 x 120, in
        # 0.44 of the forward passes (12 members of (256, 256): ~0.3 s -> ~0.13 s)
        return np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], VIEW_MESH),
                           np.linspace(lo[1] - pad[1], hi[1] + pad[1], VIEW_MESH))  # fmt: skip

    if len(schema.features) == 2 and len(schema.numeric) == 2:
        import pandas as pd

        a, b = schema.features
        pts = df[[a, b]].to_numpy(float)
        xx, yy = mesh(pts)
        proba = model.predict_proba(pd.DataFrame({a: xx.ravel(), b: yy.ravel()}))
        return pts, xx, yy, proba, a, b, "Decision surface"
    from sklearn.decomposition import PCA

    X = model.encode_features(df)
    if X.shape[1] == 1:  # one encoded feature: the model along it, points on a line
        pts = np.c_[X[:, 0], np.zeros(len(X))]
        xx, yy = mesh(np.r_[pts, [[pts[:, 0].min(), -1.0], [pts[:, 0].max(), 1.0]]])
        proba = model.estimator.predict_proba(xx.ravel()[:, None].astype(np.float32))
        return (
            pts,
            xx,
            yy,
            proba,
            f"{schema.features[0]} (encoded)",
            "",
            "Decision along the feature",
        )
    pca = PCA(n_components=2, random_state=0).fit(X)
    pts = pca.transform(X)
    xx, yy = mesh(pts)
    grid = pca.inverse_transform(np.c_[xx.ravel(), yy.ravel()]).astype(np.float32)
    share = pca.explained_variance_ratio_
    return (pts, xx, yy, model.estimator.predict_proba(grid),
            f"PC 1 ({share[0]:.0%} of variance)", f"PC 2 ({share[1]:.0%} of variance)",
            "Decision surface on the first two principal components")  # fmt: skip


def plot_decision_view(model: Any, df: Any, y: np.ndarray,
                       rows: str = "validation rows") -> Figure:  # fmt: skip
    """The decision surface over two numeric features (when the model has exactly two
    numeric and no other features), else over a PCA plane of the preprocessed features;
    ``df`` rows coloured by their class index ``y``."""
    pts, xx, yy, proba, xlabel, ylabel, title = _view(model, df)
    k = len(model.classes)
    fig = Figure(figsize=(7.0, 5.5), layout="constrained")
    ax = fig.subplots()
    draw_surface(fig, ax, xx, yy, proba, label=f"P({model.classes[1]})", alpha=0.7,
                 classes=model.classes)  # fmt: skip
    scatter_classes(ax, pts, y, k, size=18)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}\n({rows}; each dot coloured by its true class)")
    return fig


def render_images(model, df, y, proba, result: dict, curves=None,
                  rows: str = "validation rows") -> dict[str, bytes]:  # fmt: skip
    images = {}
    if curves is not None and len(curves):
        est = model.estimator
        images["learning_curves"] = png_bytes(
            plot_learning_curves(curves, getattr(est, "loss_curve_", None), restored_epoch(est))
        )
    images["confusion"] = png_bytes(plot_confusion(result["confusion_matrix"], model.classes,
                                                   rows))  # fmt: skip
    images["roc"] = png_bytes(plot_roc(y, proba, model.classes))
    if len(y) >= 2:  # a view of one point would say nothing (and PCA needs two)
        images["decision"] = png_bytes(plot_decision_view(
            model, df, y, "all rows" if rows == "out of fold" else rows))  # fmt: skip
    return images


def render_table_report(title: str, summary: dict, images: dict[str, bytes]) -> str:
    """The report; ``summary`` holds ``data`` (from :func:`data_summary`), ``jaxmlp`` and
    optionally ``sklearn`` and ``gbm`` (from :func:`metrics`), ``model`` and ``settings``."""
    jx = summary["jaxmlp"]
    names = (
        ("sklearn", "scikit-learn MLPClassifier"),
        ("gbm", "scikit-learn HistGradientBoostingClassifier"),
    )
    rows = [("Accuracy", "accuracy", "pct"), ("Log loss", "log_loss", "loss"),
            ("ROC AUC", "roc_auc", "loss"), ("Fit time", "fit_time_s", "time")]  # fmt: skip
    per_class = "".join(
        f"<tr><td>{html.escape(r['class'])}</td><td>{r['precision']:.3f}</td>"
        f"<td>{r['recall']:.3f}</td><td>{r['f1']:.3f}</td><td>{r['support']}</td></tr>"
        for r in jx["per_class"]
    )
    data = summary["data"]
    note = f" The {html.escape(data['note'])}." if data.get("note") else ""
    balance = "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>"
                      for k, v in data["class_balance"].items())  # fmt: skip
    curves = figure(images, "learning_curves",
                    "Loss and accuracy per epoch" + members_note(summary))  # fmt: skip
    body = f"""
<p class="sub">{html.escape(summary.get("subtitle", ""))}</p>
{warnings_list(summary)}
<h2>Metrics {_where(summary)}</h2>
{metrics_table(summary, names, rows)}
<h2>Per class</h2>
<table id="per-class"><thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>
<th>support</th></tr></thead><tbody>{per_class}</tbody></table>
{"<h2>Learning curves</h2><div class='row'>" + curves + "</div>" if curves else ""}
<h2>Confusion matrix and ROC curves</h2>
<div class="row">{figure(images, "confusion", "Rows: true class; columns: predicted class")}
{figure(images, "roc", "Receiver operating characteristic")}</div>
<h2>Decision surface</h2>
<div class="row">{figure(images, "decision", "Predicted class over a 2-D view of the data")}</div>
<h2>Data</h2>
<p>{data["rows"]} rows, {len(data["columns"])} columns.{note}</p>
<div class="row">{columns_table(data)}
<table id="balance"><thead><tr><th>class</th><th>rows</th></tr></thead>
<tbody>{balance}</tbody></table></div>
<h2>Settings</h2>
{kv_table(summary.get("settings", {}))}
"""
    return html_page(title, body, summary.get("versions", {}))


def table_report(model: Any, title: str, summary: dict, frame: Any, y: np.ndarray,
                 proba: np.ndarray, curves: np.ndarray | None, settings: dict) -> str:  # fmt: skip
    """The report of ``model`` on labelled rows ``frame`` (class indices ``y``,
    predicted ``proba``); ``summary`` holds ``data``, ``jaxmlp`` (and ``sklearn``)."""
    est, k = model.members[0], len(model.members)
    what = "regression" if model.regression else f"{len(model.classes)} classes"
    mlp = f"an ensemble of {k} MLPs" if k > 1 else "MLP"
    trained = {**est.get_params(), "dtype": str(est.coefs_[0].dtype)}  # None: the data's
    summary = {**summary, "settings": _effective(settings, trained),
               "versions": versions(),
               "members": k, "subtitle": f"{what}, target '{model.target}'; {mlp} "
                           f"{est.hidden_layer_sizes} ({est.activation}, {est.solver}, "
                           f"{est.coefs_[0].dtype})"}  # fmt: skip
    if model.regression:  # proba: the predictions
        return render_regression_report(title, summary, regression_images(
            model, y, proba, curves, rows_label(summary)))  # fmt: skip
    images = render_images(model, frame, y, proba, summary["jaxmlp"], curves,
                           rows_label(summary))  # fmt: skip
    return render_table_report(title, summary, images)


def _effective(settings: dict, member: dict) -> dict[str, str]:
    """The settings as given, with what was left to jaxmlp (None, 'auto') shown as the
    value a member trained with: ``max_iter None`` reads ``1000 (chosen)``."""
    out = {}
    for key, value in settings.items():
        chosen = member.get(key)
        left = value is None or (isinstance(value, str) and value == "auto")
        out[key] = f"{chosen} (chosen)" if left and chosen not in (None, "auto") else str(value)
    return out


def write_table_model(result: TableTrainResult, out_dir: str | Path, *, overwrite: bool = False,
                      settings: dict | None = None) -> Path:  # fmt: skip
    """Save the model of :func:`~jaxmlp.workflows.table.train_table` with its report as
    ``out_dir`` (see :func:`jaxmlp.save`)."""
    summary: dict[str, Any] = {"jaxmlp": result.metrics, "data": result.data,
               "warnings": result.table.warnings}  # fmt: skip
    if result.sklearn is not None:
        summary["sklearn"] = result.sklearn
    if result.gbm is not None:
        summary["gbm"] = result.gbm
    summary["scored"] = result.model.info.get("scored", "validation rows")
    summary["shortfall"] = shortfall(result.metrics, result.gbm, result.model.regression,
                                     where(summary["scored"]))  # fmt: skip
    split = result.table.split
    report = table_report(result.model, f"jaxmlp train: {Path(result.model.info['source']).name}",
                          summary, result.table.frames[1], split.y_test, result.proba,
                          result.curves, settings or {})  # fmt: skip
    return save(result.model, out_dir, overwrite=overwrite, report=report)


def write_evaluation_report(model: Any, evaluation: dict, out_dir: str | Path,
                            settings: dict) -> Path:  # fmt: skip
    """Write ``report.html`` of :func:`~jaxmlp.workflows.table_use.evaluate_table`'s result
    into ``out_dir`` (created if needed)."""
    out = ensure_writable_dir(out_dir)
    summary = {
        "jaxmlp": evaluation["metrics"],
        "data": evaluation["data"],
        "scored": "evaluated",
        "evaluated_on": Path(settings["data"]).name,
    }
    report = table_report(model, f"jaxmlp evaluate: {Path(settings['data']).name}", summary,
                          evaluation["frame"], evaluation["y"], evaluation["proba"], None,
                          settings)  # fmt: skip
    return atomic_write(out / "report.html", report)
