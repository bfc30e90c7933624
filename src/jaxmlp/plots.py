"""Matplotlib figures of SPEC §2, drawn from arrays and a :class:`~jaxmlp.training.History`.

Each ``plot_*`` function returns a new ``matplotlib.figure.Figure`` and touches no file;
:func:`png_bytes` renders one. Figures are made without pyplot, so nothing needs a display,
no global backend is switched, and in Jupyter a returned figure shows inline.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import matplotlib
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from jaxmlp.data import Split
from jaxmlp.training import History

__all__ = [
    "FIGSIZE",
    "mesh_grid",
    "plot_activation",
    "plot_dataset",
    "plot_decision_surface",
    "plot_learning_curves",
    "png_bytes",
]

POINT_COLORS = ListedColormap(["#FF0000", "#0000FF"])  # class 0 red, class 1 blue
FIGSIZE = (6.0, 5.0)
DPI = 100
PAD = 0.5  # axes padding around the data
MESH_STEP = 0.02


def _marker(color: str, alpha: float, label: str) -> Line2D:
    return Line2D([], [], ls="", marker="o", mfc=color, mec="k", mew=0.5, alpha=alpha, label=label)


_LEGEND = [
    _marker("#FF0000", 1.0, "class 0"),
    _marker("#0000FF", 1.0, "class 1"),
    _marker("0.5", 1.0, "train"),
    _marker("0.5", 0.4, "test"),
]


def _new_axes(figsize: tuple[float, float] = FIGSIZE):
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot()
    fig.subplots_adjust(left=0.12, right=0.95, top=0.92, bottom=0.11)
    return fig, ax


def png_bytes(fig: Figure) -> bytes:
    """Render ``fig`` as PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _limits(split: Split) -> tuple[float, float, float, float]:
    X = np.concatenate([split.X_train, split.X_test])
    return (
        float(X[:, 0].min() - PAD),
        float(X[:, 0].max() + PAD),
        float(X[:, 1].min() - PAD),
        float(X[:, 1].max() + PAD),
    )


def mesh_grid(split: Split, step: float = MESH_STEP) -> tuple[np.ndarray, np.ndarray]:
    """The plotting mesh over the padded data range.

    Returns
    -------
    xx, yy : ndarray of shape (n_rows, n_cols)
        Coordinates of the mesh of the given step (``np.meshgrid(arange, arange)``).
    """
    x0, x1, y0, y1 = _limits(split)
    return np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))


def _scatter(ax, split: Split) -> None:
    ax.scatter(
        split.X_train[:, 0], split.X_train[:, 1], c=split.y_train, cmap=POINT_COLORS,
        vmin=0, vmax=1, edgecolors="k", linewidths=0.5, s=30, label="train",
    )  # fmt: skip
    ax.scatter(
        split.X_test[:, 0], split.X_test[:, 1], c=split.y_test, cmap=POINT_COLORS,
        vmin=0, vmax=1, edgecolors="k", linewidths=0.5, s=30, alpha=0.4, label="test",
    )  # fmt: skip
    x0, x1, y0, y1 = _limits(split)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(handles=_LEGEND, loc="upper right", fontsize="small", framealpha=0.8)


def plot_dataset(
    split: Split, title: str = "Data: train (opaque) and test (translucent)"
) -> Figure:
    """SPEC §2.1: train points opaque, test points translucent, coloured by label."""
    fig, ax = _new_axes()
    _scatter(ax, split)
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
    zz = np.asarray(predict_proba(np.c_[xx.ravel(), yy.ravel()].astype(np.float32)))
    fig, ax = _new_axes()
    cs = ax.contourf(
        xx,
        yy,
        zz.reshape(xx.shape),
        levels=np.linspace(0, 1, 11),
        cmap=matplotlib.colormaps["RdBu"],
        alpha=0.8,
    )
    fig.colorbar(cs, ax=ax, label="P(class 1)", fraction=0.05, pad=0.03)
    _scatter(ax, split)
    ax.set_title(title)
    return fig


def plot_learning_curves(history: History, title: str = "Learning curves") -> Figure:
    """SPEC §2.4: train/test loss (top) and accuracy (bottom, y in [0, 1]) per epoch."""
    fig = Figure(figsize=(7.0, 6.0))
    top, bottom = fig.subplots(2, 1, sharex=True)
    fig.subplots_adjust(left=0.1, right=0.97, top=0.94, bottom=0.09, hspace=0.08)
    top.plot(history.epoch, history.train_loss, label="train")
    top.plot(history.epoch, history.test_loss, label="test")
    top.set_ylabel("loss")
    top.set_title(title)
    top.legend()
    top.grid(alpha=0.3)
    bottom.plot(history.epoch, history.train_acc, label="train")
    bottom.plot(history.epoch, history.test_acc, label="test")
    bottom.set_ylim(0, 1)
    bottom.set_ylabel("accuracy")
    bottom.set_xlabel("epoch")
    bottom.legend()
    bottom.grid(alpha=0.3)
    return fig
