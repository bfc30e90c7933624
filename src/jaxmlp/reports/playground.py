"""The playground's HTML report: the settings, the learning curves and the decision surface
of a tab's model, with its points; self-contained (figures inlined as PNG)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from jaxmlp.reports.figures import Curve, draw_surface, plot_curves, png_bytes, scatter_classes
from jaxmlp.reports.html import figure, fmt, html_page, kv_table, versions
from jaxmlp.workflows.playground import Run, grid_points

__all__ = ["playground_report"]

FINE = 200  # the report's surface: 200 x 200 points (the page's is 50 x 50)


def _surface(run: Run) -> bytes:
    fig = Figure(figsize=(6.0, 5.2), layout="constrained")
    ax = fig.subplots()
    cells = grid_points(FINE)
    xx, yy = cells[:, 0].reshape(FINE, FINE), cells[:, 1].reshape(FINE, FINE)
    proba = run.predict_proba(cells)
    p = run.points
    if run.regression:  # the value from -1 (orange) to +1 (blue), points coloured alike
        draw_surface(fig, ax, xx, yy, proba, label="predicted value (-1 .. 1)")
        for rows, alpha in ((p.train, 1.0), (~p.train, 0.4)):
            ax.scatter(p.X[rows, 0], p.X[rows, 1], c=p.y[rows], cmap="PuOr", vmin=-1, vmax=1,
                       s=18, alpha=alpha, edgecolors="white", linewidths=0.5)  # fmt: skip
    else:
        draw_surface(fig, ax, xx, yy, proba)
        scatter_classes(ax, p.X[p.train], p.y[p.train], run.n_classes, size=18, label="train")
        scatter_classes(ax, p.X[~p.train], p.y[~p.train], run.n_classes, size=18, alpha=0.4,
                        label="test")  # fmt: skip
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    what = "Predicted value" if run.regression else "Decision surface"
    ax.set_title(f"{what} after epoch {run.epoch}")
    return png_bytes(fig)


def playground_report(run: Run) -> str:
    """A complete HTML page about ``run``'s model (see the module docstring)."""
    s = run.settings
    images = {"surface": _surface(run)}
    if run.history:
        h = np.asarray(run.history)
        fig = plot_curves(h[:, 0], [Curve("train", h[:, 1], h[:, 3]),
                                    Curve("test", h[:, 2], h[:, 4])],
                          accuracy_label="R²" if run.regression else "accuracy")  # fmt: skip
        images["curves"] = png_bytes(fig)
    last = run.history[-1] if run.history else None
    settings = {
        "data": f"{s.dataset} ({len(run.points.y)} points, noise {s.noise:g} %, "
        f"{s.train_percent:g} % for training, seed {s.seed})",
        "classes": "none: values in [-1, 1] (regression)"
        if run.regression
        else ", ".join(run.points.classes),
        "inputs": ", ".join(s.features),
        "hidden layers": ", ".join(map(str, s.hidden)) or "none",
        "activation": s.activation,
        "optimizer": f"{s.optimizer}, learning rate {s.learning_rate:g}, batch {s.batch_size}",
        "regularisation": f"{s.regularization}, rate {s.reg_rate:g}",
        "epochs": run.epoch,
    }
    metrics = "<p>Not trained yet.</p>"
    if last is not None:
        score, kind = ("R²", "loss") if run.regression else ("accuracy", "pct")
        metrics = kv_table({"training loss": fmt(last[1], "loss"),
                            "test loss": fmt(last[2], "loss"),
                            f"training {score}": fmt(last[3], kind),
                            f"test {score}": fmt(last[4], kind)})  # fmt: skip
    body = (
        "<h2>Settings</h2>" + kv_table(settings) + "<h2>Metrics</h2>" + metrics
        + figure(images, "surface", "The model's class probabilities with the points")
        + figure(images, "curves", "Loss and accuracy per epoch")
    )  # fmt: skip
    return html_page("jaxmlp playground model", body, versions())
