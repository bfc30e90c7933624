"""What every benchmark script shares: timing a call, and printing and saving results
(Markdown + JSON)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax

RESULTS = Path(__file__).parent / "results"


def machine() -> str:
    """One line naming the machine, the JAX version and backend."""
    return (f"{platform.machine()}, {os.cpu_count()} CPUs, jax {jax.__version__} on "
            f"{jax.default_backend()}")  # fmt: skip


def write_results(stem: str, title: str, text: str, payload: dict[str, Any]) -> None:
    """Print ``title (machine)`` and ``text``; write results/{stem}.md and, with the
    machine added to ``payload``, results/{stem}.json."""
    where = machine()
    text = f"{title} ({where})\n\n{text}"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.md").write_text(text + "\n")
    (RESULTS / f"{stem}.json").write_text(
        json.dumps({"machine": where, **payload}, indent=2) + "\n"
    )


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of ``repeats`` calls of ``fn`` (warm it up first if it compiles)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


class Timing(NamedTuple):
    """Seconds of repeated runs: the median with the fastest and slowest (one run's spread)."""

    median: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{_seconds(self.median)} ({_seconds(self.low)}-{_seconds(self.high)})"

    def ratio(self, other: Timing) -> str:
        """``self`` over ``other``, medians, as a factor."""
        return f"{self.median / other.median:.2f}x"


def _seconds(s: float) -> str:
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def timing(fn: Callable[[], object], repeats: int = 5, warmup: bool = True) -> Timing:
    """:class:`Timing` of ``repeats`` calls of ``fn`` after one warm-up call (compilation,
    caches, lazy imports): warm against warm."""
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return Timing(statistics.median(times), min(times), max(times))


def of(times: list[float]) -> Timing:
    """:class:`Timing` of seconds measured elsewhere (e.g. in fresh processes: cold)."""
    return Timing(statistics.median(times), min(times), max(times))
