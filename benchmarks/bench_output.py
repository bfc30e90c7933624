"""What every benchmark script does with its results: print them, save Markdown + JSON."""

from __future__ import annotations

import json
import os
import platform
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
