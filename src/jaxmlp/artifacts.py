"""The demo's output folder: plots, metrics.csv, summary.json and report.html.

Each file is written atomically (:func:`jaxmlp.files.atomic_write`); ``report.html`` is
written last, so its presence means the run finished.
"""

from __future__ import annotations

import dataclasses
import io
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxmlp import plots
from jaxmlp.demo import DemoResult
from jaxmlp.files import atomic_write
from jaxmlp.nn import ACTIVATIONS, n_params, swish
from jaxmlp.report import render_demo_report

__all__ = ["OUTPUT_FILES", "build_summary", "metrics_csv", "versions", "write_demo_outputs"]

# name -> file written by write_demo_outputs (baseline_surface only with a baseline)
OUTPUT_FILES = {
    "data": "data.png",
    "activation": "activation.png",
    "baseline_surface": "baseline_surface.png",
    "learning_curves": "learning_curves.png",
    "model_surface": "model_surface.png",
    "metrics": "metrics.csv",
    "summary": "summary.json",
    "report": "report.html",
}


def versions() -> dict[str, str]:
    """Versions of Python, the platform, jaxmlp and its main dependencies."""
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in ("jaxmlp", "jax", "jaxlib", "optax", "scikit-learn", "numpy", "matplotlib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    out["jax_backend"] = jax.default_backend()
    return out


def metrics_csv(result: DemoResult) -> str:
    """Per-epoch metrics as CSV: ``epoch,train_loss,test_loss,train_acc,test_acc``."""
    h = result.history
    buf = io.StringIO()
    buf.write("epoch,train_loss,test_loss,train_acc,test_acc\n")
    for row in zip(h.epoch, h.train_loss, h.test_loss, h.train_acc, h.test_acc, strict=True):
        buf.write(f"{row[0]},{row[1]:.8g},{row[2]:.8g},{row[3]:.8g},{row[4]:.8g}\n")
    return buf.getvalue()


def build_summary(result: DemoResult) -> dict[str, Any]:
    """Final metrics and fit times of both models, settings and versions (JSON-ready)."""
    h, split = result.history, result.split
    summary: dict[str, Any] = {
        "config": {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in dataclasses.asdict(result.config).items()
        },
        "data": {
            **split.meta,
            "n_train": len(split.X_train),
            "n_test": len(split.X_test),
            "n_features": split.n_features,
            "n_classes": split.n_classes,
        },
        "jaxmlp": {
            "train_loss": float(h.train_loss[-1]),
            "test_loss": float(h.test_loss[-1]),
            "train_acc": float(h.train_acc[-1]),
            "test_acc": float(h.test_acc[-1]),
            "fit_time_s": result.fit_time_s,
            "steady_fit_time_s": result.steady_fit_time_s,
            "epochs": int(h.epoch[-1]),
            "n_params": n_params(result.fit.params),
        },
        "sklearn": None,
        "versions": versions(),
    }
    if result.baseline is not None:
        b = result.baseline
        summary["sklearn"] = {
            "model": "MLPClassifier(alpha=1, max_iter=1000, random_state=0)",
            "train_loss": b.train_loss,
            "test_loss": b.test_loss,
            "train_acc": b.train_acc,
            "test_acc": b.test_acc,
            "fit_time_s": b.fit_time_s,
            "steady_fit_time_s": None,
            "epochs": b.n_iter,
            "warnings": b.warnings,
        }
    return summary


def _activation_fn(result: DemoResult):
    name, beta = result.config.activation, result.config.beta
    if name == "swish":
        return lambda x: swish(x, beta)
    return ACTIVATIONS[name]


def render_images(result: DemoResult) -> dict[str, bytes]:
    """The five figures of SPEC §2 as PNG bytes (four without a baseline)."""
    split, cfg = result.split, result.config
    name = cfg.activation if cfg.activation != "swish" else f"swish (beta={cfg.beta:g})"
    images = {
        "data": plots.png_bytes(plots.plot_dataset(split)),
        "activation": plots.png_bytes(plots.plot_activation(_activation_fn(result), name)),
    }
    if result.baseline is not None:
        images["baseline_surface"] = plots.png_bytes(
            plots.plot_decision_surface(
                result.baseline.proba1, split, "scikit-learn MLPClassifier: P(class 1)"
            )
        )
    images["learning_curves"] = plots.png_bytes(
        plots.plot_learning_curves(result.history, "jaxmlp learning curves")
    )
    images["model_surface"] = plots.png_bytes(
        plots.plot_decision_surface(result.proba1, split, "jaxmlp MLP: P(class 1)")
    )
    return images


def write_demo_outputs(result: DemoResult, out_dir: str | Path, eval_log: list[str]) -> dict:
    """Write the demo's files into ``out_dir`` (which must exist and be writable).

    Returns
    -------
    dict of str to Path
        The files written, by name (see :data:`OUTPUT_FILES`).
    """
    out = Path(out_dir)
    images = render_images(result)
    summary = build_summary(result)
    written = {}
    if result.baseline is None:  # no stale baseline figure from an earlier run
        (out / OUTPUT_FILES["baseline_surface"]).unlink(missing_ok=True)
    for name, png in images.items():
        written[name] = atomic_write(out / OUTPUT_FILES[name], png)
    written["metrics"] = atomic_write(out / OUTPUT_FILES["metrics"], metrics_csv(result))
    written["summary"] = atomic_write(
        out / OUTPUT_FILES["summary"], json.dumps(summary, indent=2, default=_json_default) + "\n"
    )
    written["report"] = atomic_write(
        out / OUTPUT_FILES["report"], render_demo_report(summary, images, eval_log)
    )
    return written


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")
