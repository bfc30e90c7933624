"""The demo's output folder: plots, metrics.csv, summary.json and report.html.

Each file is written atomically (:func:`jaxmlp.io.files.atomic_write`); ``report.html``
is written last, so its presence means the run finished.
"""

from __future__ import annotations

import dataclasses
import html
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jaxmlp.core.nn import ACTIVATIONS, n_params, swish
from jaxmlp.io.files import write_files
from jaxmlp.reports import figures
from jaxmlp.reports.html import figure, fmt, html_page, json_text, kv_table, versions
from jaxmlp.workflows.demo import DemoResult

__all__ = [
    "OUTPUT_FILES",
    "build_summary",
    "metrics_csv",
    "render_demo_report",
    "render_images",
    "write_demo_outputs",
]

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
        "data": figures.png_bytes(figures.plot_dataset(split)),
        "activation": figures.png_bytes(figures.plot_activation(_activation_fn(result), name)),
    }
    if result.baseline is not None:
        images["baseline_surface"] = figures.png_bytes(
            figures.plot_decision_surface(
                result.baseline.proba1, split, "scikit-learn MLPClassifier: P(class 1)"
            )
        )
    images["learning_curves"] = figures.png_bytes(
        figures.plot_learning_curves(result.history, "jaxmlp learning curves")
    )
    images["model_surface"] = figures.png_bytes(
        figures.plot_decision_surface(result.proba1, split, "jaxmlp MLP: P(class 1)")
    )
    return images


def write_demo_outputs(result: DemoResult, out_dir: str | Path, eval_log: list[str]) -> dict:
    """Write the demo's files into ``out_dir`` (which must exist and be writable).

    Returns
    -------
    dict of str to Path
        The files written, by name (see :data:`OUTPUT_FILES`).
    """
    images = render_images(result)
    summary = build_summary(result)
    contents: dict[str, bytes | str] = {**images, "metrics": metrics_csv(result),
                                        "summary": json_text(summary)}  # fmt: skip
    contents["report"] = render_demo_report(summary, images, eval_log)
    return write_files(out_dir, OUTPUT_FILES, contents)


def render_demo_report(
    summary: Mapping[str, Any], images: Mapping[str, bytes], eval_log: list[str]
) -> str:
    """Render the demo's report.

    Parameters
    ----------
    summary : mapping
        The content of ``summary.json`` (keys ``config``, ``jaxmlp``, ``sklearn``,
        ``data``, ``versions``).
    images : mapping of str to bytes
        PNG images by name: ``data``, ``activation``, ``learning_curves``,
        ``model_surface`` and, with a baseline, ``baseline_surface``.
    eval_log : list of str
        The ``eval_epoch: ...`` lines printed during the run.

    Returns
    -------
    str
        A complete HTML document.
    """
    cfg, jx, sk, data = (
        summary["config"],
        summary["jaxmlp"],
        summary.get("sklearn"),
        summary["data"],
    )
    rows = [
        ("Test accuracy", "test_acc", "pct"),
        ("Test loss (cross-entropy)", "test_loss", "loss"),
        ("Train accuracy", "train_acc", "pct"),
        ("Train loss", "train_loss", "loss"),
        ("Fit time, first call (incl. compilation)", "fit_time_s", "time"),
        ("Fit time, compiled (steady state)", "steady_fit_time_s", "time"),
        ("Epochs / iterations", "epochs", "int"),
    ]
    table_rows = "".join(
        f"<tr><td>{label}</td><td>{fmt(jx.get(key), kind)}</td>"
        f"<td>{fmt(sk.get(key), kind) if sk else 'not run'}</td></tr>"
        for label, key, kind in rows
    )
    hidden = "-".join(str(h) for h in cfg["hidden"])
    sk_name = "scikit-learn MLPClassifier(alpha=1, max_iter=1000, random_state=0)"
    warn = ""
    if sk and sk.get("warnings"):
        items = "".join(f"<li>{html.escape(w)}</li>" for w in sk["warnings"])
        warn = f'<p class="warn">scikit-learn warned:</p><ul class="warn">{items}</ul>'
    title = f"jaxmlp demo: {cfg['dataset']}"
    surfaces = figure(images, "model_surface", "jaxmlp: P(class 1) = softmax(logits)[:, 1]")
    surfaces += figure(images, "baseline_surface", "scikit-learn baseline: predict_proba[:, 1]")
    body = f"""
<p class="sub">MLP {html.escape(str(data["n_features"]))}-{hidden}-{data["n_classes"]}
({html.escape(cfg["activation"])}), {html.escape(cfg["optimizer"])} lr={cfg["lr"]},
{cfg["epochs"]} epochs, {
        "full batch" if cfg["batch_size"] is None else f"batch size {cfg['batch_size']}"
    }; {data["n_train"]} train / {data["n_test"]} test points.</p>

<h2>jaxmlp vs scikit-learn</h2>
<table id="comparison"><thead><tr><th></th><th>jaxmlp</th><th>{html.escape(sk_name)}</th></tr>
</thead><tbody>{table_rows}</tbody></table>
{warn}

<h2>Decision surfaces</h2>
<div class="row">{surfaces}</div>

<h2>Learning curves</h2>
<div class="row">{figure(images, "learning_curves", "Train/test loss and accuracy per epoch")}</div>

<h2>Data and activation</h2>
<div class="row">{figure(images, "data", "Train points opaque, test points translucent")}
{figure(images, "activation", f"Activation: {cfg['activation']}")}</div>

<h2>Training log</h2>
<pre>{html.escape(chr(10).join(eval_log))}</pre>

<h2>Settings</h2>
{kv_table(cfg)}
"""
    return html_page(title, body, summary["versions"])
