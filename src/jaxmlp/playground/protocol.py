"""What a page may send: JSON text messages, checked before anything reaches a worker.

====================  ===================================================================
``type``              fields
====================  ===================================================================
``settings``          ``settings``: an object of :class:`Settings` fields (any subset);
                      ``seq`` (optional): echoed in the ``data`` message it causes
``play`` ``pause``    --
``step`` ``reset``    --
``speed``             ``epochs``: epochs per frame, 1-16
``upload``            ``csv``: the text of a CSV file (header, two numeric columns, label)
``point``             ``x``, ``y``: a point in [-6, 6]^2; ``label``: class index 0-9
``baseline``          -- (scikit-learn's MLP on the same points)
``ensemble``          ``n``: seeds to train at once, 2-64
``export`` ``report`` -- (a zipped model folder / the HTML report comes back as a file)
====================  ===================================================================

Anything else -- binary data, broken JSON, an unknown type, a missing or mistyped field, a
message over :data:`MAX_MESSAGE` bytes -- is answered with an ``error`` message naming
the problem, and the connection stays open.
"""

from __future__ import annotations

import json
import math
from typing import Any

from jaxmlp.data.playground import EXTENT

__all__ = ["MAX_MESSAGE", "ProtocolError", "parse"]

MAX_MESSAGE = 1 << 20  # 1 MiB: an upload of ~5000 points fits many times over
_PLAIN = {"play", "pause", "step", "reset", "baseline", "export", "report"}
_TYPES = _PLAIN | {"settings", "speed", "upload", "point", "ensemble"}


class ProtocolError(ValueError):
    """A message the server refuses (the text says why)."""


def _number(m: dict[str, Any], key: str, low: float, high: float) -> float:
    v = m.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ProtocolError(f"'{m['type']}' needs a number '{key}', got {v!r}")
    if not low <= v <= high:
        raise ProtocolError(f"'{key}' must be from {low:g} to {high:g}, got {v!r}")
    return float(v)


def parse(text: str) -> dict[str, Any]:
    """The checked message in ``text``; raises :class:`ProtocolError`."""
    if len(text) > MAX_MESSAGE:
        raise ProtocolError(f"message of {len(text)} bytes refused: the limit is {MAX_MESSAGE} "
                            "(a CSV upload of up to 5000 points fits)")  # fmt: skip
    try:
        m = json.loads(text)
    except ValueError:
        raise ProtocolError("message is not JSON") from None
    if not isinstance(m, dict) or m.get("type") not in _TYPES:
        kind = m.get("type") if isinstance(m, dict) else None
        raise ProtocolError(f"unknown message type {kind!r}; valid: {', '.join(sorted(_TYPES))}")
    kind = m["type"]
    if kind == "settings" and not isinstance(m.get("settings"), dict):
        raise ProtocolError("'settings' needs an object 'settings'")
    seq = m.get("seq")
    if (
        kind == "settings"
        and seq is not None
        and (isinstance(seq, bool) or not isinstance(seq, int))
    ):
        raise ProtocolError(f"'seq' must be an integer, got {seq!r}")
    if kind == "upload" and not isinstance(m.get("csv"), str):
        raise ProtocolError("'upload' needs the file's text in 'csv'")
    if kind == "point":
        m["x"] = _number(m, "x", -EXTENT, EXTENT)
        m["y"] = _number(m, "y", -EXTENT, EXTENT)
        label = m.get("label")
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label <= 9:
            raise ProtocolError(f"'point' needs a class index 'label' from 0 to 9, got {label!r}")
    return m
