"""Figures, tables and the HTML report of ``jaxmlp sweep``.

- ``heatmap.png``: mean validation accuracy over the grid (learning rate x alpha), one
  panel per architecture and momentum, each cell annotated with mean and std over seeds.
- ``learning_curves.png``: the best cells' training loss and validation accuracy per
  epoch, mean over seeds with a +-1 std band.
- ``ensemble_surface.png`` (2-D data): the best cell's seeds as an ensemble -- its mean
  prediction next to its epistemic uncertainty (mutual information).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from jaxmlp.io.files import write_files
from jaxmlp.reports.figures import (
    Curve,
    draw_surface,
    mesh_grid,
    plot_curves,
    png_bytes,
    scatter_split,
)
from jaxmlp.reports.html import figure, html_page, json_text, versions
from jaxmlp.sklearn.ensemble import uncertainty
from jaxmlp.workflows.sweep import SweepResult

__all__ = ["SWEEP_FILES", "plot_ensemble_surface", "plot_heatmaps", "plot_seed_bands",
           "write_sweep_outputs"]  # fmt: skip

SWEEP_FILES = {
    "heatmap": "heatmap.png",
    "learning_curves": "learning_curves.png",
    "ensemble_surface": "ensemble_surface.png",
    "results_csv": "results.csv",
    "results_json": "results.json",
    "summary": "summary.json",
    "report": "report.html",
}


def _arch(hidden) -> str:
    return "-".join(map(str, hidden))


def plot_heatmaps(result: SweepResult) -> Figure:
    """Mean validation accuracy over learning rate (x) and alpha (y), one panel per
    (architecture, momentum)."""
    cfg = result.config
    mean, std = result.cell_scores()
    panels = [(h, m) for h in cfg.hidden for m in cfg.momentum]
    n = len(panels)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig = Figure(figsize=(1.5 + (1.0 * len(cfg.lr) + 1.2) * cols,
                          1.0 + (0.8 * len(cfg.alpha) + 1.3) * rows),
                 layout="constrained")  # fmt: skip
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    cmap = matplotlib.colormaps["viridis"]
    finite = mean[np.isfinite(mean)]
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    image = None
    for ax, (h, mom) in zip(axes, panels, strict=False):
        grid = np.full((len(cfg.alpha), len(cfg.lr)), np.nan)
        spread = np.full_like(grid, np.nan)
        epochs = np.zeros(grid.shape, int)
        for c, cell in enumerate(result.cells):
            if cell["hidden"] == h and cell["momentum"] == mom:
                i, j = cfg.alpha.index(cell["alpha"]), cfg.lr.index(cell["lr"])
                grid[i, j], spread[i, j] = mean[c], std[c]
                epochs[i, j] = result.epochs_trained[c]
        image = ax.imshow(grid, cmap=cmap, vmin=lo, vmax=max(hi, lo + 1e-6), origin="lower",
                          aspect="auto")  # fmt: skip
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                if np.isnan(grid[i, j]):
                    text, color = "diverged", "k"
                else:
                    text = f"{grid[i, j]:.3f}\n±{spread[i, j]:.3f}"
                    if epochs[i, j] < cfg.epochs:  # stopped by halving
                        text += f"\n{epochs[i, j]} ep"
                    color = "w" if (grid[i, j] - lo) < 0.6 * (hi - lo + 1e-12) else "k"
                ax.text(j, i, text, ha="center", va="center", fontsize=8, color=color)
        ax.set_xticks(range(len(cfg.lr)), [f"{v:g}" for v in cfg.lr])
        ax.set_yticks(range(len(cfg.alpha)), [f"{v:g}" for v in cfg.alpha])
        ax.set_xlabel("learning rate")
        ax.set_ylabel("alpha (L2)")
        title = f"hidden {_arch(h)}"
        if len(cfg.momentum) > 1:
            title += f", momentum {mom:g}"
        ax.set_title(title, fontsize=10)
    for ax in axes[n:]:
        ax.set_visible(False)
    if image is not None:
        label = f"validation {result.score_name} (mean over seeds)"
        fig.colorbar(image, ax=list(axes[:n]), label=label,
                     fraction=0.04, pad=0.02)  # fmt: skip
    title = f"Validation {result.score_name}, mean ± std over {cfg.seeds} seeds"
    if cfg.halving:
        title += f" (halving: 'N ep' = stopped after N epochs of {cfg.epochs})"
    fig.suptitle(title, fontsize=11)
    return fig


def _label(cell: dict, cfg) -> str:
    parts = [f"h={_arch(cell['hidden'])}"] if len(cfg.hidden) > 1 else []
    parts += [f"lr={cell['lr']:g}", f"alpha={cell['alpha']:g}"]
    if len(cfg.momentum) > 1:
        parts.append(f"mom={cell['momentum']:g}")
    return ", ".join(parts)


def ranking(result: SweepResult) -> np.ndarray:
    """The cells best first: by epochs trained (halving's survivors first), then by mean
    validation score (cells where every seed diverged last)."""
    mean, _ = result.cell_scores()
    return np.lexsort((-np.nan_to_num(mean, nan=-np.inf), -result.epochs_trained))


def top_cells(result: SweepResult, k: int = 4) -> list[int]:
    """Indices of the ``k`` best cells of :func:`ranking`."""
    mean, _ = result.cell_scores()
    return [int(c) for c in ranking(result)[:k] if np.isfinite(mean[c])]


def plot_seed_bands(result: SweepResult, cells: list[int]) -> Figure:
    """Training loss (top) and validation accuracy (bottom) per epoch for ``cells``: the
    mean over seeds with a +-1 std band."""
    h = result.history
    colors = matplotlib.colormaps["tab10"]
    curves = []
    for n, c in enumerate(cells):
        ok = result.diverged_at[c] == 0
        loss, acc = h.train_loss[c][ok], h.test_acc[c][ok]
        label = f"{_label(result.cells[c], result.config)} ({ok.sum()} seeds)"
        curves.append(Curve(label, loss.mean(axis=0), acc.mean(axis=0), loss.std(axis=0),
                            acc.std(axis=0), {"color": colors(n), "lw": 1.6}))  # fmt: skip
    return plot_curves(h.epoch, curves, title="Best cells: mean over seeds, band = ±1 std",
                       loss_label="training loss", accuracy_label=f"validation {result.score_name}",
                       figsize=(7.5, 6.0), legend_below=False)  # fmt: skip


def plot_ensemble_surface(result: SweepResult, cell: int) -> Figure:
    """The seeds of ``cell`` as an ensemble on 2-D data: mean prediction (left) and mutual
    information between prediction and member (right)."""
    split = result.split
    xx, yy = mesh_grid(split, step=max(0.02, float(np.ptp(split.X_train[:, 0])) / 250))
    grid = np.c_[xx.ravel(), yy.ravel()].astype(np.float32)
    members = result.member_proba(cell, grid)  # (S, n, k)
    spread = uncertainty(members)
    fig = Figure(figsize=(12.0, 5.0), layout="constrained")
    left, right = fig.subplots(1, 2)
    draw_surface(fig, left, xx, yy, members.mean(axis=0), label="mean P(class 1)")
    cs = right.contourf(xx, yy, spread.mutual_information.reshape(xx.shape), levels=12,
                        cmap=matplotlib.colormaps["magma_r"])  # fmt: skip
    fig.colorbar(cs, ax=right, label="mutual information (nats)", fraction=0.05, pad=0.03)
    for ax in (left, right):
        scatter_split(ax, split, result.n_classes)
    left.set_title(f"Ensemble of {members.shape[0]} seeds: mean prediction")
    right.set_title("Epistemic uncertainty (members disagree)")
    return fig


def build_summary(result: SweepResult) -> dict[str, Any]:
    """Settings, data, best cell, counts and timings of a sweep (JSON-ready)."""
    cfg = result.config
    mean, std = result.cell_scores()
    best = result.best_cell()
    cell = result.cells[best]
    config = {k: v for k, v in vars(cfg).items() if k != "hidden"}
    config["hidden"] = [list(h) for h in cfg.hidden]

    def number(v) -> float | None:
        return float(v) if np.isfinite(v) else None

    return {
        "config": config,
        "data": dict(result.split.meta)
        | {
            "n_train": int(result.split.X_train.shape[0]),
            "n_validation": int(result.split.X_test.shape[0]),
            "n_features": int(result.split.X_train.shape[1]),
            "n_classes": None if result.regression else result.n_classes,
        },
        "score": result.score_name,
        "n_models": len(result.cells) * cfg.seeds,
        "n_cells": len(result.cells),
        "n_programs": result.n_programs,
        "n_diverged": int((result.diverged_at > 0).sum()),
        "fit_time_s": result.fit_time_s,
        "rungs": [{"epochs": e, "cells": n} for e, n in result.rungs],
        "best": {
            "hidden": list(cell["hidden"]),
            "lr": cell["lr"],
            "alpha": cell["alpha"],
            "momentum": cell["momentum"],
            f"val_{result.score_key}_mean": number(mean[best]),
            f"val_{result.score_key}_std": number(std[best]),
        },
        "versions": versions(),
    }


def results_csv(result: SweepResult) -> str:
    rows = result.rows()
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def render_sweep_report(result: SweepResult, summary: dict, images: dict[str, bytes]) -> str:
    cfg = result.config
    mean, std = result.cell_scores()
    diverged = (result.diverged_at > 0).sum(axis=1)
    body = "".join(
        f"<tr><td>{rank + 1}</td><td>{_arch(result.cells[c]['hidden'])}</td>"
        f"<td>{result.cells[c]['lr']:g}</td><td>{result.cells[c]['alpha']:g}</td>"
        f"<td>{result.cells[c]['momentum']:g}</td><td>{result.epochs_trained[c]}</td>"
        f"<td>{'–' if np.isnan(mean[c]) else f'{mean[c]:.4f} ± {std[c]:.4f}'}</td>"
        f"<td>{diverged[c]}</td></tr>"
        for rank, c in enumerate(ranking(result))
    )
    best = summary["best"]
    data = summary["data"]
    name = data.get("dataset", data.get("source", "data"))
    title = f"jaxmlp sweep: {name}"
    warn = ""
    if summary["n_diverged"]:
        warn = (f'<p class="warn">{summary["n_diverged"]} of {summary["n_models"]} models '
                "diverged; they are left out of the means and the ensemble.</p>")  # fmt: skip
    caption = "Best cell's seeds as an ensemble: mean prediction and uncertainty"
    surface = figure(images, "ensemble_surface", caption)
    surface_section = f"<h2>Ensemble of the best cell</h2><div class='row'>{surface}</div>"
    body = f"""
<p class="sub">{summary["n_models"]} models ({summary["n_cells"]} grid cells × {cfg.seeds}
seeds), {cfg.optimizer}, {cfg.activation}, {cfg.epochs} epochs,
{"full batch" if cfg.batch_size is None else f"batch size {cfg.batch_size}"}{_halving_text(result)};
{data["n_train"]} train / {data["n_validation"]} validation rows, {data["n_features"]}
features, {"a numeric target (R²)" if result.regression else f"{data['n_classes']} classes"}. Trained in {summary["n_programs"]} compiled
program(s), {summary["fit_time_s"]:.2f} s (compilation included).</p>
<p>{_best_line(best, result)}</p>
{warn}
<h2>Validation {result.score_name} over the grid</h2>
<div class="row">{figure(images, "heatmap", f"Mean ± std over seeds of the final validation {result.score_name}")}</div>
<h2>Learning curves of the best cells</h2>
<div class="row">{figure(images, "learning_curves", "Mean over seeds, band = ±1 std")}</div>
{surface_section if "ensemble_surface" in images else ""}
<h2>All cells</h2>{_halving_note(result)}
<table id="cells"><thead><tr><th>rank</th><th>hidden</th><th>lr</th><th>alpha</th>
<th>momentum</th><th>epochs</th><th>validation {result.score_name}</th>
<th>diverged seeds</th></tr></thead>
<tbody>{body}</tbody></table>
<p>Per-model results: <code>results.csv</code>, <code>results.json</code>.</p>
"""  # noqa: E501
    return html_page(title, body, summary["versions"])


def _halving_note(result: SweepResult) -> str:
    """Why a halving sweep's table ranks a lower score above a higher one ('' without)."""
    if not result.config.halving or len(result.rungs) < 2:
        return ""
    return (
        "<p>Ranked by the rung each cell reached, then by its score there: a cell "
        "halving stopped was scored at its last epoch (the <em>epochs</em> column), "
        "earlier than the survivors, so its score is not comparable with theirs.</p>"
    )


def _halving_text(result: SweepResult) -> str:
    """The rungs of a halving sweep, as a clause of the report's first line."""
    if not result.config.halving:
        return ""
    rungs = ", ".join(f"{n} cells to epoch {e}" for e, n in result.rungs)
    return f", successive halving (factor {result.config.factor:g}): {rungs}"


def _best_line(best: dict, result: SweepResult) -> str:
    k = result.score_key
    if best[f"val_{k}_mean"] is None:
        return "Every model diverged: lower the learning rates."
    return (f"Best: hidden {_arch(best['hidden'])}, lr {best['lr']:g}, alpha "
            f"{best['alpha']:g}, momentum {best['momentum']:g} — validation "
            f"{result.score_name} {best[f'val_{k}_mean']:.4f} ± "
            f"{best[f'val_{k}_std']:.4f}.")  # fmt: skip


def render_images(result: SweepResult) -> dict[str, bytes]:
    images = {"heatmap": png_bytes(plot_heatmaps(result))}
    cells = top_cells(result)
    if cells:
        images["learning_curves"] = png_bytes(plot_seed_bands(result, cells))
        if result.split.X_train.shape[1] == 2 and not result.regression:
            images["ensemble_surface"] = png_bytes(plot_ensemble_surface(result, cells[0]))
    return images


def write_sweep_outputs(result: SweepResult, out_dir: str | Path) -> dict[str, Path]:
    """Write the sweep's files into ``out_dir`` (existing, writable), each atomically.

    Returns
    -------
    dict of str to Path
        The files written, by name (see :data:`SWEEP_FILES`).
    """
    images = render_images(result)
    summary = build_summary(result)
    contents: dict[str, bytes | str] = {**images, "results_csv": results_csv(result),
                                        "results_json": json_text(result.rows(), indent=1),
                                        "summary": json_text(summary)}  # fmt: skip
    contents["report"] = render_sweep_report(result, summary, images)
    return write_files(out_dir, SWEEP_FILES, contents)
