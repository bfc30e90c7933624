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
from typing import Any

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
