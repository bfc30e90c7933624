"""A self-contained HTML report: every image inlined, no external file or script."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from typing import Any

__all__ = ["html_page", "render_demo_report"]

_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #1d1d1f; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.7rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f3f3f3; }
.row { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; flex: 1 1 420px; max-width: 720px; } figure img { width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9rem; text-align: center; }
pre { background: #f6f8fa; padding: 0.8rem; overflow-x: auto; }
.warn { color: #8a5a00; }
"""


def _img(png: bytes, alt: str) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{b64}" alt="{html.escape(alt)}">'


def _figure(images: Mapping[str, bytes], name: str, caption: str) -> str:
    if name not in images:
        return ""
    return (
        f'<figure id="fig-{html.escape(name)}">{_img(images[name], caption)}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return f"{100 * value:.2f} %"
    if kind == "loss":
        return f"{value:.4f}"
    if kind == "time":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    return html.escape(str(value))


def _kv_table(rows: Mapping[str, Any]) -> str:
    body = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in rows.items()
    )
    return f"<table><tbody>{body}</tbody></table>"


def html_page(title: str, body: str, versions: Mapping[str, Any]) -> str:
    """A complete, self-contained HTML document: ``title`` as heading, ``body`` (HTML),
    then the package versions."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{html.escape(title)}</h1>
{body}
<h2>Versions</h2>
{_kv_table(versions)}
</body></html>
"""


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
        f"<tr><td>{label}</td><td>{_fmt(jx.get(key), kind)}</td>"
        f"<td>{_fmt(sk.get(key), kind) if sk else 'not run'}</td></tr>"
        for label, key, kind in rows
    )
    hidden = "-".join(str(h) for h in cfg["hidden"])
    sk_name = "scikit-learn MLPClassifier(alpha=1, max_iter=1000, random_state=0)"
    warn = ""
    if sk and sk.get("warnings"):
        items = "".join(f"<li>{html.escape(w)}</li>" for w in sk["warnings"])
        warn = f'<p class="warn">scikit-learn warned:</p><ul class="warn">{items}</ul>'
    title = f"jaxmlp demo: {cfg['dataset']}"
    surfaces = _figure(images, "model_surface", "jaxmlp: P(class 1) = softmax(logits)[:, 1]")
    surfaces += _figure(images, "baseline_surface", "scikit-learn baseline: predict_proba[:, 1]")
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
<div class="row">{
        _figure(images, "learning_curves", "Train/test loss and accuracy per epoch")
    }</div>

<h2>Data and activation</h2>
<div class="row">{_figure(images, "data", "Train points opaque, test points translucent")}
{_figure(images, "activation", f"Activation: {cfg['activation']}")}</div>

<h2>Training log</h2>
<pre>{html.escape(chr(10).join(eval_log))}</pre>

<h2>Settings</h2>
{_kv_table(cfg)}
"""
    return html_page(title, body, summary["versions"])
