"""Metrics, figures and the HTML report of ``jaxmlp train`` and ``jaxmlp evaluate``.

The report: data summary (rows, columns, kinds, missing values, class balance), metrics
of jaxmlp next to the scikit-learn MLP baseline, learning curves (train/validation loss
and accuracy per epoch), confusion matrix, per-class precision/recall/F1, ROC curves, and
a 2-D view of the decision surface (the two features themselves when there are two
numeric ones, else a PCA projection of the preprocessed features).
"""

from __future__ import annotations

import html
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from jaxmlp.plots import png_bytes
from jaxmlp.report import _figure, _kv_table, html_page

__all__ = ["data_summary", "metrics", "render_images", "render_table_report"]


def data_summary(df, target: str, schema) -> dict[str, Any]:
    """Rows, columns with kind and missing count, class balance of ``target``."""
    cols = []
    for c in df.columns:
        c = str(c)
        kind = ("target" if c == target else "numeric" if c in schema.numeric
                else "categorical" if c in schema.categorical else "unused")  # fmt: skip
        missing, distinct = int(df[c].isna().sum()), int(df[c].nunique())
        cols.append({"column": c, "kind": kind, "dtype": str(df[c].dtype), "missing": missing,
                     "distinct": distinct})  # fmt: skip
    balance = df[target].astype(str).value_counts().sort_index()
    return {"rows": len(df), "columns": cols,
            "class_balance": {str(k): int(v) for k, v in balance.items()}}  # fmt: skip


def metrics(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> dict[str, Any]:
    """Accuracy, log loss, per-class precision/recall/F1/support, confusion matrix and
    ROC AUC (one-vs-rest) of predicted probabilities ``proba`` (n, k) for labels ``y``
    (class indices)."""
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        log_loss,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    k = len(classes)
    pred = proba.argmax(axis=1)
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(k), zero_division=0)
    present = np.unique(y)
    auc = None
    if len(present) == k:
        auc = float(roc_auc_score(y, proba[:, 1]) if k == 2
                    else roc_auc_score(y, proba, multi_class="ovr", labels=range(k)))  # fmt: skip
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "log_loss": float(log_loss(y, np.clip(proba, 1e-15, 1), labels=range(k))),
        "roc_auc": auc,
        "per_class": [
            {
                "class": str(c),
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f[i]),
                "support": int(s[i]),
            }
            for i, c in enumerate(classes)
        ],
        "confusion_matrix": confusion_matrix(y, pred, labels=range(k)).tolist(),
    }


def plot_learning_curves(curves: np.ndarray, loss_curve) -> Figure:
    """``curves`` (epochs, 2 sets [train, validation], [loss, accuracy])."""
    fig = Figure(figsize=(7.0, 6.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    epochs = np.arange(1, len(curves) + 1)
    top.plot(epochs, curves[:, 0, 0], label="train")
    top.plot(epochs, curves[:, 1, 0], label="validation")
    if loss_curve is not None and len(loss_curve) == len(curves):
        top.plot(epochs, loss_curve, ls=":", color="0.4", label="training objective (incl. L2)")
    top.set_ylabel("loss (cross-entropy)")
    top.set_title("Learning curves")
    top.legend(fontsize="small")
    top.grid(alpha=0.3)
    bottom.plot(epochs, curves[:, 0, 1], label="train")
    bottom.plot(epochs, curves[:, 1, 1], label="validation")
    bottom.set_ylim(0, 1.02)
    bottom.set_ylabel("accuracy")
    bottom.set_xlabel("epoch")
    bottom.legend(fontsize="small")
    bottom.grid(alpha=0.3)
    return fig


def plot_confusion(matrix, classes) -> Figure:
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
    ax.set_title("Confusion matrix (validation rows)")
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
    ax.legend(fontsize="small", loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def plot_decision_view(model, df, y) -> Figure:
    """The decision surface over two numeric features (when the model has exactly two
    numeric and no other features), else over a PCA plane of the preprocessed features;
    ``df`` rows coloured by their class index ``y``."""
    from sklearn.decomposition import PCA

    schema = model.schema
    k = len(model.classes)
    cmap = matplotlib.colormaps["tab10"]
    fig = Figure(figsize=(7.0, 5.5), layout="constrained")
    ax = fig.subplots()
    if len(schema.features) == 2 and len(schema.numeric) == 2:
        import pandas as pd

        a, b = schema.features
        pts = df[[a, b]].to_numpy(float)
        lo, hi = np.nanmin(pts, axis=0), np.nanmax(pts, axis=0)
        pad = 0.05 * (hi - lo + 1e-12)
        xx, yy = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], 200),
                             np.linspace(lo[1] - pad[1], hi[1] + pad[1], 200))  # fmt: skip
        proba = model.predict_proba(pd.DataFrame({a: xx.ravel(), b: yy.ravel()}))
        ax.set_xlabel(a)
        ax.set_ylabel(b)
        title = "Decision surface"
    else:
        X = model.transform(df)
        pca = PCA(n_components=2, random_state=0).fit(X)
        pts = pca.transform(X)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        pad = 0.05 * (hi - lo + 1e-12)
        xx, yy = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], 200),
                             np.linspace(lo[1] - pad[1], hi[1] + pad[1], 200))  # fmt: skip
        grid = pca.inverse_transform(np.c_[xx.ravel(), yy.ravel()]).astype(np.float32)
        proba = model.estimator.predict_proba(grid)
        share = pca.explained_variance_ratio_
        ax.set_xlabel(f"PC 1 ({share[0]:.0%} of variance)")
        ax.set_ylabel(f"PC 2 ({share[1]:.0%} of variance)")
        title = "Decision surface on the first two principal components"
    if k == 2:
        cs = ax.contourf(xx, yy, proba[:, 1].reshape(xx.shape), levels=np.linspace(0, 1, 11),
                         cmap=matplotlib.colormaps["RdBu"], alpha=0.7)  # fmt: skip
        fig.colorbar(cs, ax=ax, label=f"P({model.classes[1]})", fraction=0.05)
        colors = np.where(y == 1, "#0000FF", "#FF0000")
    else:
        from matplotlib.colors import ListedColormap

        regions = ListedColormap([cmap(i % 10) for i in range(k)])
        ax.contourf(xx, yy, proba.argmax(axis=1).reshape(xx.shape),
                    levels=np.arange(k + 1) - 0.5, cmap=regions, alpha=0.35)  # fmt: skip
        colors = [cmap(int(v) % 10) for v in y]
    ax.scatter(pts[:, 0], pts[:, 1], c=colors, edgecolors="k", linewidths=0.4, s=18)
    ax.set_title(title + " (validation rows)")
    return fig


def render_images(model, df, y, proba, result: dict, curves=None) -> dict[str, bytes]:
    images = {}
    if curves is not None and len(curves):
        images["learning_curves"] = png_bytes(
            plot_learning_curves(curves, getattr(model.estimator, "loss_curve_", None))
        )
    images["confusion"] = png_bytes(plot_confusion(result["confusion_matrix"], model.classes))
    images["roc"] = png_bytes(plot_roc(y, proba, model.classes))
    images["decision"] = png_bytes(plot_decision_view(model, df, y))
    return images


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.2f} %"


def _seconds(v) -> str:
    return "–" if v is None else f"{v:.2f} s"


def _num(v) -> str:
    return "–" if v is None else f"{v:.4f}"


def render_table_report(title: str, summary: dict, images: dict[str, bytes]) -> str:
    """The report; ``summary`` holds ``data`` (from :func:`data_summary`), ``jaxmlp`` and
    optionally ``sklearn`` (from :func:`metrics`), ``model`` and ``settings``."""
    jx, sk = summary["jaxmlp"], summary.get("sklearn")
    rows = [("Accuracy", "accuracy", _pct), ("Log loss", "log_loss", _num),
            ("ROC AUC", "roc_auc", _num), ("Fit time", "fit_time_s", _seconds)]  # fmt: skip
    head = "<th></th><th>jaxmlp</th>" + ("<th>scikit-learn MLPClassifier</th>" if sk else "")
    body = "".join(
        f"<tr><td>{label}</td><td>{fmt(jx.get(key))}</td>"
        + (f"<td>{fmt(sk.get(key))}</td>" if sk else "")
        + "</tr>"
        for label, key, fmt in rows
        if key in jx
    )
    per_class = "".join(
        f"<tr><td>{html.escape(r['class'])}</td><td>{r['precision']:.3f}</td>"
        f"<td>{r['recall']:.3f}</td><td>{r['f1']:.3f}</td><td>{r['support']}</td></tr>"
        for r in jx["per_class"]
    )
    data = summary["data"]
    columns = "".join(
        f"<tr><td>{html.escape(c['column'])}</td><td>{c['kind']}</td>"
        f"<td>{html.escape(c['dtype'])}</td><td>{c['missing']}</td><td>{c['distinct']}</td></tr>"
        for c in data["columns"]
    )
    balance = "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>"
                      for k, v in data["class_balance"].items())  # fmt: skip
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in summary.get("warnings", []))
    notes = f'<ul class="warn">{notes}</ul>' if notes else ""
    curves = _figure(images, "learning_curves", "Loss and accuracy per epoch")
    body = f"""
<p class="sub">{html.escape(summary.get("subtitle", ""))}</p>
{notes}
<h2>Metrics on the validation rows</h2>
<table id="metrics"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<h2>Per class</h2>
<table id="per-class"><thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>
<th>support</th></tr></thead><tbody>{per_class}</tbody></table>
{"<h2>Learning curves</h2><div class='row'>" + curves + "</div>" if curves else ""}
<h2>Confusion matrix and ROC curves</h2>
<div class="row">{_figure(images, "confusion", "Rows: true class; columns: predicted class")}
{_figure(images, "roc", "Receiver operating characteristic")}</div>
<h2>Decision surface</h2>
<div class="row">{_figure(images, "decision", "Predicted class over a 2-D view of the data")}</div>
<h2>Data</h2>
<p>{data["rows"]} rows, {len(data["columns"])} columns.</p>
<div class="row"><table id="columns"><thead><tr><th>column</th><th>kind</th><th>dtype</th>
<th>missing</th><th>distinct</th></tr></thead><tbody>{columns}</tbody></table>
<table id="balance"><thead><tr><th>class</th><th>rows</th></tr></thead>
<tbody>{balance}</tbody></table></div>
<h2>Settings</h2>
{_kv_table(summary.get("settings", {}))}
"""
    return html_page(title, body, summary.get("versions", {}))
