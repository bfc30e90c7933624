"""One browser tab's session: a worker thread that owns the tab's :class:`Run`.

The WebSocket handler only parses messages and queues them (:meth:`Session.submit`); the
worker does all JAX work in order, so a tab's model is never touched by two threads. What
the worker produces goes out two ways: text messages (status, errors, data) in order, and
training frames through a one-slot mailbox that keeps only the latest frame, so a slow
client skips frames instead of queueing them (a frame waiting there when a message is
queued goes out before it: the page sees everything in the order it happened).

Two tabs share the CPU fairly: each training chunk takes a turn at a first-come,
first-served :class:`Turnstile`, so no worker can run two chunks while another waits.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import queue
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from jaxmlp.data.playground import MAX_POINTS, parse_points_csv
from jaxmlp.playground import exports
from jaxmlp.playground.frames import encode, probability_bytes, training_frame
from jaxmlp.workflows.playground import CHUNK, Points, Run
from jaxmlp.workflows.playground_settings import Settings, SettingsError, settings_from

__all__ = ["FRAME_PERIOD", "Session", "Turnstile"]

FRAME_PERIOD = 1 / 30  # at most 30 training frames per second per tab
MAX_ENSEMBLE = 64


class Turnstile:
    """A first-come, first-served lock: threads get their turns in arrival order."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._waiting: collections.deque[int] = collections.deque()
        self._busy = False

    def __enter__(self) -> Turnstile:
        me = threading.get_ident()
        with self._cond:
            self._waiting.append(me)
            while self._busy or self._waiting[0] != me:
                self._cond.wait()
            self._waiting.popleft()
            self._busy = True
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()


TURNSTILE = Turnstile()


class Session:
    """A tab's worker thread and its outbox.

    Parameters
    ----------
    notify : callable
        Called (from the worker thread) whenever there is something to send; it must be
        thread-safe (the server passes ``loop.call_soon_threadsafe(event.set)``).
    """

    def __init__(self, notify: Callable[[], None]):
        self._notify = notify
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._texts: collections.deque[str | bytes] = collections.deque()
        self._latest: bytes | None = None
        self._lock = threading.Lock()
        self.closed = threading.Event()
        self.run: Run | None = None
        self.settings = Settings()
        self.playing = False
        self.epochs_per_frame = 1
        self.seq: int | None = None
        self.thread = threading.Thread(target=self._work, name="jaxmlp-playground", daemon=True)
        self.thread.start()

    # ------------------------------------------------------------------ the handler's side
    def submit(self, message: dict[str, Any]) -> None:
        """Queue a parsed message for the worker."""
        self._inbox.put(message)

    def close(self) -> None:
        """Stop the worker (it exits after the chunk it is running, if any)."""
        self.closed.set()
        self._inbox.put(None)

    def outgoing(self) -> list[str | bytes]:
        """What to send now: the queued messages in order, then the latest frame."""
        with self._lock:
            out = list(self._texts)
            self._texts.clear()
            if self._latest is not None:
                out.append(self._latest)
                self._latest = None
        return out

    # ------------------------------------------------------------------ the worker's side
    def _say(self, message: dict[str, Any] | bytes) -> None:
        item = message if isinstance(message, bytes) else json.dumps(message, allow_nan=False)
        with self._lock:
            if self._latest is not None:  # a frame made before this message goes out first
                self._texts.append(self._latest)
                self._latest = None
            self._texts.append(item)
        self._notify()

    def _frame(self) -> None:
        assert self.run is not None
        frame = training_frame(self.run)
        with self._lock:
            self._latest = frame
        self._notify()

    def _status(self, message: str = "") -> None:
        run = self.run
        self._say({"type": "status", "playing": self.playing, "epoch": run.epoch if run else 0,
                   "message": message})  # fmt: skip

    def _data(self) -> None:
        assert self.run is not None
        p = self.run.points
        rows = np.column_stack([np.round(p.X, 4), p.y, p.train]).tolist()
        # seq: the settings request this answers (None: the server changed the settings, e.g.
        # an upload); the page adopts the settings only from the answer to its latest request
        self._say({"type": "data", "points": rows, "classes": p.classes, "seq": self.seq,
                   "regression": self.run.regression,
                   "settings": _settings_dict(self.run.settings)})  # fmt: skip

    def _work(self) -> None:
        next_frame = time.monotonic()
        while not self.closed.is_set():
            try:
                wait = None if not self.playing else max(0.0, next_frame - time.monotonic())
                try:
                    message = self._inbox.get(timeout=wait)
                except queue.Empty:
                    message = {"type": "_tick"}
                if message is None:
                    break
                self._handle(message)
                if self.playing and self.run is not None and time.monotonic() >= next_frame:
                    next_frame = time.monotonic() + FRAME_PERIOD
                    with TURNSTILE:
                        if self.closed.is_set():
                            break
                        self.run.step(self.epochs_per_frame)
                    self._frame()
                    if self.run.diverged_at:
                        self.playing = False
                        self._status(f"diverged at epoch {self.run.diverged_at}: lower the "
                                     "learning rate and reset")  # fmt: skip
            except Exception as e:  # never let one tab's error end its worker
                if self.closed.is_set():
                    break
                traceback.print_exc()
                self._say({"type": "error", "message": f"internal error: {e}"})
                self.playing = False

    def _ensure_run(self) -> Run:
        if self.run is None:
            self._status("compiling the network (first time only)...")
            self.run = Run(self.settings)
            self._data()
        return self.run

    def _handle(self, m: dict[str, Any]) -> None:
        kind = m["type"]
        if kind == "_tick":
            return
        handler = getattr(self, f"_on_{kind}")
        handler(m)

    def _on_settings(self, m: dict[str, Any]) -> None:
        self.seq = m.get("seq")
        try:
            settings, notes = settings_from(m.get("settings", {}), self.settings)
        except SettingsError as e:
            self._say({"type": "error", "message": str(e)})
            return
        if settings.dataset == "custom" and (self.run is None or self.run.own is None):
            self._say({"type": "error", "message": "dataset 'custom' needs your own points: "
                       "upload a CSV or click on the plane to add points"})  # fmt: skip
            settings = dataclasses.replace(settings, dataset=self.settings.dataset)
        self.settings = settings
        for note in notes:
            self._say({"type": "notice", "message": note})
        if self.run is None:
            self._ensure_run()  # sends the data
            change = "new"
        else:
            change = self.run.configure(settings)
        if change == "data":
            self._data()
        if change in ("new", "data", "model"):
            self._frame()
        self._status()

    def _on_play(self, m: dict[str, Any]) -> None:
        run = self._ensure_run()
        if run.diverged_at:
            self._status(f"diverged at epoch {run.diverged_at}: reset to train again")
            return
        self.playing = True
        self._status()

    def _on_pause(self, m: dict[str, Any]) -> None:
        self.playing = False
        self._status()

    def _on_step(self, m: dict[str, Any]) -> None:
        run = self._ensure_run()
        self.playing = False
        with TURNSTILE:
            run.step(1)
        self._frame()
        self._status(f"diverged at epoch {run.diverged_at}" if run.diverged_at else "")

    def _on_reset(self, m: dict[str, Any]) -> None:
        run = self._ensure_run()
        self.playing = False
        run.reset()
        self._frame()
        self._status()

    def _on_speed(self, m: dict[str, Any]) -> None:
        n = m.get("epochs")
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= CHUNK:
            self._say({"type": "error", "message": f"epochs per frame must be 1 to {CHUNK}, "
                       f"got {n!r}"})  # fmt: skip
            return
        self.epochs_per_frame = n

    def _own_points(self, points: Points) -> None:
        self.seq = None
        self.settings = dataclasses.replace(self.settings, dataset="custom")
        if self.run is None:
            self.run = Run(self.settings, points)
        else:
            self.run.configure(self.settings, own=points)
        self.playing = False
        self._data()
        self._frame()
        self._status()

    def _on_upload(self, m: dict[str, Any]) -> None:
        try:
            X, y, classes = parse_points_csv(m["csv"])
        except ValueError as e:
            self._say({"type": "error", "message": f"upload refused: {e}"})
            return
        self._own_points(Points(X, y, np.ones(len(y), bool), classes))

    def _on_point(self, m: dict[str, Any]) -> None:
        run = self._ensure_run()
        p = run.own if run.own is not None and self.settings.dataset == "custom" else run.points
        label = m["label"]
        if len(p.y) >= MAX_POINTS:
            self._say({"type": "error", "message": f"up to {MAX_POINTS} points"})
            return
        classes = list(p.classes)
        while label >= len(classes):
            classes.append(str(len(classes)))
        X = np.concatenate([p.X, np.array([[m["x"], m["y"]]], np.float32)])
        y = np.concatenate([p.y, np.array([label], np.int32)])
        self._own_points(Points(X, y, np.ones(len(y), bool), classes))

    def _on_baseline(self, m: dict[str, Any]) -> None:
        run = self._ensure_run()
        proba, accuracy, seconds = exports.baseline_surface(run)
        header = {"type": "baseline", "k": run.n_classes, "grid": proba.shape[-1],
                  "test_accuracy": round(accuracy, 4), "fit_seconds": round(seconds, 3),
                  "score_name": "R²" if run.regression else "accuracy",
                  "epochs": max(run.epoch, 1)}  # fmt: skip
        self._say(encode(header, probability_bytes(proba)))

    def _on_ensemble(self, m: dict[str, Any]) -> None:
        run = self._ensure_run()
        n = m.get("n", 8)
        if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_ENSEMBLE:
            self._say({"type": "error", "message": f"seeds must be 2 to {MAX_ENSEMBLE}, got {n!r}"})
            return
        epochs = max(run.epoch, 100)
        self._status(f"training {n} seeds for {epochs} epochs in one program...")
        t0 = time.perf_counter()
        with TURNSTILE:
            mean, mi = run.ensemble(n, epochs)
        header = {"type": "ensemble", "k": run.n_classes, "grid": mean.shape[-1], "n": n,
                  "epochs": epochs, "seconds": round(time.perf_counter() - t0, 3)}  # fmt: skip
        self._say(encode(header, probability_bytes(mean) + probability_bytes(mi)))
        self._status()

    def _on_export(self, m: dict[str, Any]) -> None:
        run = self._ensure_run()
        header = {"type": "file", "name": "playground-model.zip", "mime": "application/zip"}
        self._say(encode(header, exports.model_zip(run)))

    def _on_report(self, m: dict[str, Any]) -> None:
        run = self._ensure_run()
        header = {"type": "file", "name": "playground-report.html", "mime": "text/html"}
        self._say(encode(header, exports.report_html(run)))


def _settings_dict(s: Settings) -> dict[str, Any]:
    d = dataclasses.asdict(s)
    d["features"], d["hidden"] = list(s.features), list(s.hidden)
    return d
