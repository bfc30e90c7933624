"""The playground's update rate: boundary frames per second per tab, measured as a browser
sees them, against ``jaxmlp playground`` started as a user starts it.

    .venv/bin/python benchmarks/bench_playground.py [--seconds 10] [--repeats 5]

Each client is a WebSocket connection on 127.0.0.1 (the ``websockets`` package, one thread
per client) that sends the page's messages -- the default settings (TF Playground's
network: circle, x1 and x2, 4 and 2 tanh neurons, batch 10, 1 epoch per frame), then
play -- and counts the training frames that arrive, after a warm-up (compilation done).
Rows: one tab; two tabs at once (the CPU shared: each tab's rate); 20 tabs at once (a
bounded loopback load: each tab's median and the slowest); one tab and two tabs of a big
network (6 x 64 neurons), also at 16 epochs per frame (CPU-bound). The server caps a tab
at 30 frames per second (``FRAME_PERIOD``). Every row: median (min-max) over
``--repeats`` windows of ``--seconds``.

Writes benchmarks/results/playground.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time

import numpy as np
from bench_output import write_results
from websockets.sync.client import connect


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "jaxmlp.cli", "playground", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    line = proc.stdout.readline() if proc.stdout else ""
    match = re.search(r"http://(127\.0\.0\.1:\d+)/", line)
    if not match:
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return proc, f"ws://{match.group(1)}/ws"


def is_frame(message: bytes | str) -> bool:
    if isinstance(message, str):
        return False
    n = int.from_bytes(message[:4], "little")
    return b'"type":"frame"' in message[4 : 4 + n]


class Tab(threading.Thread):
    """One client: counts frames per window after ``warm`` seconds of play."""

    def __init__(self, url: str, settings: dict, windows: int, seconds: float, warm: float):
        super().__init__(daemon=True)
        self.url, self.settings = url, settings
        self.windows, self.seconds, self.warm = windows, seconds, warm
        self.rates: list[float] = []
        self.start_at = 0.0

    def run(self) -> None:
        with connect(self.url, max_size=None, open_timeout=60) as ws:
            settings = dict(self.settings)
            ws.send(json.dumps({"type": "speed", "epochs": settings.pop("epochs_per_frame", 1)}))
            ws.send(json.dumps({"type": "settings", "settings": settings}))
            ws.send(json.dumps({"type": "play"}))
            end = time.monotonic() + self.warm
            while time.monotonic() < end:
                ws.recv(timeout=120)
            for _ in range(self.windows):
                count, end = 0, time.monotonic() + self.seconds
                while time.monotonic() < end:
                    try:
                        count += is_frame(ws.recv(timeout=max(0.01, end - time.monotonic())))
                    except TimeoutError:
                        break
                self.rates.append(count / self.seconds)


def measure(url: str, n_tabs: int, settings: dict, args) -> list[list[float]]:
    tabs = [Tab(url, {**settings, "seed": i + 1}, args.repeats, args.seconds, args.warm)
            for i in range(n_tabs)]  # fmt: skip
    for t in tabs:
        t.start()
    for t in tabs:
        t.join(timeout=args.warm + args.repeats * args.seconds + 300)
    return [t.rates for t in tabs]


def cell(rates: list[float]) -> str:
    return f"{np.median(rates):.1f} ({min(rates):.1f}-{max(rates):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warm", type=float, default=8.0)
    args = parser.parse_args()
    proc, url = start_server()
    rows: list[tuple[str, str, str]] = []
    try:
        default: dict = {}
        big = {"hidden": [64] * 6}
        one = measure(url, 1, default, args)
        rows.append(("1 tab, default network", cell(one[0]), "target >= 20"))
        two = measure(url, 2, default, args)
        for i, r in enumerate(two):
            rows.append((f"2 tabs at once, default network: tab {i + 1}", cell(r), ""))
        many = measure(url, 20, default, args)
        medians = [float(np.median(r)) for r in many]
        rows.append(("20 tabs at once, default network: median tab", cell(medians),
                     f"total {sum(medians):.0f} frames/s"))  # fmt: skip
        rows.append(("1 tab, 6 x 64 neurons", cell(measure(url, 1, big, args)[0]), ""))
        heavy = measure(url, 2, big, args)
        for i, r in enumerate(heavy):
            rows.append((f"2 tabs at once, 6 x 64 neurons: tab {i + 1}", cell(r), ""))
        busy = measure(url, 2, {**big, "epochs_per_frame": 16}, args)
        for i, r in enumerate(busy):
            rows.append((f"2 tabs at once, 6 x 64 neurons, 16 epochs per frame: tab {i + 1}",
                         cell(r), "CPU-bound: the turnstile shares it"))  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    lines = [f"Frames per second per tab: median (min-max) of {args.repeats} windows of "
             f"{args.seconds:g} s after {args.warm:g} s of warm-up; the server caps a tab at "
             "30.", "", "| clients | frames/s | note |", "|---|---:|---|"]  # fmt: skip
    lines += [f"| {w} | {v} | {n} |" for w, v, n in rows]
    write_results("playground", "Playground update rate", "\n".join(lines),
                  {"rows": [dict(what=w, rate=v, note=n) for w, v, n in rows]})  # fmt: skip


if __name__ == "__main__":
    main()
