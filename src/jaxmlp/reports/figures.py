"""Matplotlib figures, and the pieces every report's figures share.

SPEC §2's figures (:func:`plot_dataset`, :func:`plot_activation`,
:func:`plot_decision_surface`, :func:`plot_learning_curves`), built from shared pieces that
the sweep and table reports use too: class colours (:func:`class_colors`, red/blue for two
classes as the tutorial, tab10 beyond), points by class (:func:`scatter_classes`), a
decision surface from class probabilities (:func:`draw_surface`), and two-panel learning
curves with optional spread bands (:func:`plot_curves`).

Each ``plot_*`` function returns a new ``matplotlib.figure.Figure`` and touches no file;
:func:`png_bytes` renders one. Figures are made without pyplot, so nothing needs a display,
no global backend is switched, and in Jupyter a returned figure shows inline.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from jaxmlp.data import Split
from jaxmlp.workflows.fit import History

__all__ = [
    "FIGSIZE",
    "Curve",
    "class_colors",
    "draw_surface",
    "mesh_grid",
    "plot_activation",
    "plot_curves",
    "plot_dataset",
    "plot_decision_surface",
    "plot_learning_curves",
    "png_bytes",
    "scatter_classes",
]

RED_BLUE = ("#FF0000", "#0000FF")  # the tutorial's class 0 and class 1
FIGSIZE = (6.0, 5.0)
DPI = 100
PAD = 0.5  # axes padding around the data
MESH_STEP = 0.02


def png_bytes(fig: Figure) -> bytes:
    """Render ``fig`` as PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def class_colors(k: int) -> ListedColormap:
    """One colour per class: red and blue for two classes (the tutorial's), else tab10."""
    if k <= 2:
        return ListedColormap(list(RED_BLUE))
    tab10 = matplotlib.colormaps["tab10"]
    return ListedColormap([tab10(i % 10) for i in range(k)])


def scatter_classes(ax: Any, X: np.ndarray, y: np.ndarray, k: int, *, alpha: float = 1.0,
                    size: float = 30, label: str | None = None) -> None:  # fmt: skip
    """Points X of shape (n, 2) coloured by class index y of shape (n,), of k classes."""
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=class_colors(k), vmin=-0.5, vmax=max(k, 2) - 0.5,
               edgecolors="k", linewidths=0.5, s=size, alpha=alpha, label=label)  # fmt: skip


def draw_surface(fig: Figure, ax: Any, xx: np.ndarray, yy: np.ndarray, proba: np.ndarray,
                 *, label: str = "P(class 1)", alpha: float = 0.8,
                 classes: Any = None) -> None:  # fmt: skip
    """Class probabilities ``proba`` of shape (n_mesh, k) over the mesh ``xx``, ``yy``:
    two classes as RdBu contours of P(class 1) with a colour bar, more as the predicted
    class's region in its class colour (the bar's ticks named by ``classes``, if given)."""
    k = proba.shape[1]
    if k == 2:
        cs = ax.contourf(xx, yy, proba[:, 1].reshape(xx.shape), levels=np.linspace(0, 1, 11),
                         cmap=matplotlib.colormaps["RdBu"], alpha=alpha)  # fmt: skip
        fig.colorbar(cs, ax=ax, label=label, fraction=0.05, pad=0.03)
        return
    cs = ax.contourf(xx, yy, proba.argmax(axis=1).reshape(xx.shape), levels=np.arange(k + 1) - 0.5,
                     cmap=class_colors(k), alpha=0.45)  # fmt: skip
    bar = fig.colorbar(cs, ax=ax, label="predicted class", fraction=0.05, pad=0.03)
    bar.set_ticks(range(k), labels=None if classes is None else [str(c) for c in classes])


def _limits(split: Split) -> tuple[float, float, float, float]:
    X = np.concatenate([split.X_train, split.X_test])
    return (float(X[:, 0].min() - PAD), float(X[:, 0].max() + PAD),
            float(X[:, 1].min() - PAD), float(X[:, 1].max() + PAD))  # fmt: skip


def mesh_grid(split: Split, step: float = MESH_STEP) -> tuple[np.ndarray, np.ndarray]:
    """The plotting mesh over the padded data range.

    Returns
    -------
    xx, yy : ndarray of shape (n_rows, n_cols)
        Coordinates of the mesh of the given step (``np.meshgrid(arange, arange)``).
    """
    x0, x1, y0, y1 = _limits(split)
    return np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))


def _marker(color: str, alpha: float, label: str) -> Line2D:
    return Line2D([], [], ls="", marker="o", mfc=color, mec="k", mew=0.5, alpha=alpha, label=label)


def scatter_split(ax: Any, split: Split, k: int = 2) -> None:
    """Train points opaque, test points translucent, by class; axes fitted to the data."""
    scatter_classes(ax, split.X_train, split.y_train, k, label="train")
    scatter_classes(ax, split.X_test, split.y_test, k, alpha=0.4, label="test")
    x0, x1, y0, y1 = _limits(split)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if k <= 2:
        handles = [_marker(RED_BLUE[0], 1.0, "class 0"), _marker(RED_BLUE[1], 1.0, "class 1"),
                   _marker("0.5", 1.0, "train"), _marker("0.5", 0.4, "test")]  # fmt: skip
        ax.legend(handles=handles, loc="upper right", fontsize="small", framealpha=0.8)


def _new_axes(figsize: tuple[float, float] = FIGSIZE):
    fig = Figure(figsize=figsize, layout="constrained")  # room for a colour bar's label
    ax = fig.add_subplot()
    return fig, ax


def plot_dataset(
    split: Split, title: str = "Data: train (opaque) and test (translucent)"
) -> Figure:
    """SPEC §2.1: train points opaque, test points translucent, coloured by label."""
    fig, ax = _new_axes()
    scatter_split(ax, split)
    ax.set_title(title)
    return fig


def plot_activation(
    fn: Callable[[np.ndarray], np.ndarray], name: str = "swish", lim: float = 5.0
) -> Figure:
    """SPEC §2.2: an activation over ``x`` in ``[-lim, lim]``; ``fn`` maps (n,) -> (n,)."""
    x = np.linspace(-lim, lim, 401, dtype=np.float32)
    fig, ax = _new_axes()
    ax.plot(x, np.asarray(fn(x)), lw=2)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_xlabel("x")
    ax.set_ylabel(f"{name}(x)")
    ax.set_title(f"Activation: {name}")
    ax.grid(alpha=0.3)
    return fig


def plot_decision_surface(
    predict_proba: Callable[[np.ndarray], np.ndarray], split: Split, title: str
) -> Figure:
    """SPEC §2.3 / §2.5: P(class 1) as filled contours with the points on top.

    Parameters
    ----------
    predict_proba : callable
        Maps points of shape (n, 2) to P(class 1) of shape (n,).
    split : Split
        2-D data; fixes the padded plotting range.
    title : str
    """
    xx, yy = mesh_grid(split)
    p1 = np.asarray(predict_proba(np.c_[xx.ravel(), yy.ravel()].astype(np.float32)))
    fig, ax = _new_axes()
    draw_surface(fig, ax, xx, yy, np.stack([1 - p1, p1], axis=1))
    scatter_split(ax, split)
    ax.set_title(title)
    return fig


@dataclasses.dataclass
class Curve:
    """One line of :func:`plot_curves`: a loss curve (top panel) and an accuracy curve
    (bottom panel, optional), each of shape (n_epochs,), optionally with a +-1 std band."""

    label: str
    loss: np.ndarray | None
    accuracy: np.ndarray | None = None
    loss_std: np.ndarray | None = None
    accuracy_std: np.ndarray | None = None
    style: dict = dataclasses.field(default_factory=dict)


def _panel(ax: Any, epochs: np.ndarray, curves: Sequence[Curve], field: str,
           legend: bool) -> None:  # fmt: skip
    for curve in curves:
        values, spread = getattr(curve, field), getattr(curve, f"{field}_std")
        if values is None:
            continue
        (line,) = ax.plot(epochs, values, label=curve.label, **curve.style)
        if spread is not None:
            ax.fill_between(epochs, values - spread, values + spread, color=line.get_color(),
                            alpha=0.2, lw=0)  # fmt: skip
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize="small")


def plot_curves(epochs: np.ndarray, curves: Sequence[Curve], *, title: str = "Learning curves",
                loss_label: str = "loss", accuracy_label: str = "accuracy",
                figsize: tuple[float, float] = (7.0, 6.0),
                legend_below: bool = True) -> Figure:  # fmt: skip
    """Loss per epoch (top) and accuracy (bottom, y in [0, 1]) of ``curves``; the legend
    in the top panel (and, with ``legend_below``, in the bottom one too)."""
    fig = Figure(figsize=figsize, layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    _panel(top, epochs, curves, "loss", True)
    _panel(bottom, epochs, curves, "accuracy", legend_below)
    top.set_ylabel(loss_label)
    top.set_title(title)
    bottom.set_ylim(0, 1.02)
    bottom.set_ylabel(accuracy_label)
    bottom.set_xlabel("epoch")
    return fig


def plot_learning_curves(history: History, title: str = "Learning curves") -> Figure:
    """SPEC §2.4: train/test loss (top) and accuracy (bottom, y in [0, 1]) per epoch."""
    return plot_curves(history.epoch, [Curve("train", history.train_loss, history.train_acc),
                                       Curve("test", history.test_loss, history.test_acc)],
                       title=title)  # fmt: skip
