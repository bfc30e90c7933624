"""The binary WebSocket frames the server sends, and the quantisation of the maps.

A frame is ``[u32 little-endian header length][header: UTF-8 JSON][payload bytes]``; the
header's ``type`` says what it holds and where in the payload each part starts:

- ``frame``: training progress. Header: ``epoch``, ``history`` (rows ``[epoch, train
  loss, test loss, train accuracy, test accuracy]``, at most :data:`MAX_HISTORY`, evenly
  thinned), ``k`` (classes), ``grid`` / ``ngrid`` (map sizes), ``widths`` (neurons per
  hidden layer), ``shown`` (of those, drawn: at most :data:`MAX_DRAWN`), ``weights`` (per
  Dense layer, rows = the features on or the drawn neurons before, columns = the drawn
  neurons after or the output units), ``diverged`` (epoch or 0).
  Payload: the output map, ``k`` x ``grid`` x ``grid`` bytes (probability x 255), then
  every drawn neuron's map, ``ngrid`` x ``ngrid`` bytes ((value clipped to [-1, 1] + 1) x
  127.5).
- ``baseline`` / ``ensemble``: a map like the output one (``ensemble`` also a
  ``grid`` x ``grid`` uncertainty map after it), with their numbers in the header.
- ``file``: a download; header ``name`` and ``mime``, payload the file.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from jaxmlp.workflows.playground import GRID, NEURON_GRID, Run

__all__ = ["MAX_DRAWN", "MAX_HISTORY", "encode", "probability_bytes", "training_frame",
           "value_bytes"]  # fmt: skip

MAX_DRAWN = 8  # neurons drawn per layer (the rest are counted, not drawn)
MAX_HISTORY = 400


def encode(header: dict[str, Any], payload: bytes = b"") -> bytes:
    """One binary frame (see the module docstring)."""
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return struct.pack("<I", len(head)) + head + payload


def probability_bytes(p: np.ndarray) -> bytes:
    """Probabilities in [0, 1] as bytes 0-255, any shape (row-major)."""
    return np.round(np.clip(p, 0.0, 1.0) * 255).astype(np.uint8).tobytes()


def value_bytes(v: np.ndarray) -> bytes:
    """Values clipped to [-1, 1] as bytes 0-255 (0 -> 127.5 rounds to 128)."""
    return np.round((np.clip(v, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8).tobytes()


def _finite(x: float) -> float | None:
    return x if np.isfinite(x) else None


def _history(run: Run) -> list[list[float | None]]:
    rows = run.history
    if len(rows) > MAX_HISTORY:  # evenly thinned, the last row kept
        idx = np.unique(np.linspace(0, len(rows) - 1, MAX_HISTORY).round().astype(int))
        rows = [rows[i] for i in idx]
    return [[r[0], *(_finite(round(x, 6)) for x in r[1:])] for r in rows]


def training_frame(run: Run) -> bytes:
    """The ``frame`` of ``run``'s current state."""
    surfaces = run.surfaces()
    widths = [len(m) for m in surfaces.neurons]
    shown = [min(w, MAX_DRAWN) for w in widths]
    rows = [len(run.settings.features), *shown]
    weights = []
    for i, W in enumerate(run.weights()):
        cols = shown[i] if i < len(shown) else W.shape[1]
        block = np.round(W[: rows[i], :cols].astype(np.float64), 4)
        weights.append(np.where(np.isfinite(block), block, 0.0).tolist())
    payload = [probability_bytes(surfaces.output)]
    payload += [value_bytes(m[:n]) for m, n in zip(surfaces.neurons, shown, strict=True)]
    header = {"type": "frame", "epoch": run.epoch, "history": _history(run), "k": run.n_classes,
              "grid": GRID, "ngrid": NEURON_GRID, "shown": shown, "widths": widths,
              "weights": weights, "diverged": run.diverged_at}  # fmt: skip
    return encode(header, b"".join(payload))
