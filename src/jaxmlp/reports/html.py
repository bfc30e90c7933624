"""A self-contained HTML page (every image inlined, no external file or script), and the
pieces every report shares: figures by name, key-value tables, value formats, the
versions block, JSON text."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["figure", "fmt", "html_page", "json_text", "kv_table", "versions"]

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


def figure(images: Mapping[str, bytes], name: str, caption: str) -> str:
    """``images[name]`` as a captioned ``<figure>``; empty if there is no such image."""
    if name not in images:
        return ""
    return (
        f'<figure id="fig-{html.escape(name)}">{_img(images[name], caption)}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def fmt(value: Any, kind: str) -> str:
    """A value for a table cell: ``kind`` 'pct', 'loss', 'time' or anything else (text)."""
    if value is None:
        return "–"
    if kind == "pct":
        return f"{100 * value:.2f} %"
    if kind == "loss":
        return f"{value:.4f}"
    if kind == "time":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    return html.escape(str(value))


def kv_table(rows: Mapping[str, Any]) -> str:
    """A two-column table of ``rows``' keys and values."""
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
{kv_table(versions)}
</body></html>
"""


def versions() -> dict[str, str]:
    """Versions of Python, the platform, jaxmlp and its main dependencies."""
    import platform
    from importlib import metadata

    import jax

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in ("jaxmlp", "jax", "jaxlib", "optax", "scikit-learn", "numpy", "matplotlib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    out["jax_backend"] = jax.default_backend()
    return out


def json_text(obj: Any, indent: int = 2) -> str:
    """``obj`` as JSON text (numpy scalars as numbers), with a final newline."""

    def default(value: Any) -> Any:
        if isinstance(value, np.generic):
            return value.item()
        raise TypeError(f"not JSON-serialisable: {type(value).__name__}")

    return json.dumps(obj, indent=indent, default=default) + "\n"
