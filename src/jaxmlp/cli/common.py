"""What every command shares: the two consoles (results to stdout, messages and progress
to stderr) and the one way a command fails."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

__all__ = ["err", "fail", "out", "output_folder", "printer"]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``Error: message`` to stderr and exit with ``code`` (2: a usage mistake,
    1: a run that failed, e.g. diverged)."""
    err.print(f"Error: {message}", markup=False)  # a message may hold [brackets]
    raise typer.Exit(code)


def printer(quiet: bool) -> Callable[..., Any]:
    """``out.print``, or a function that prints nothing."""
    return (lambda *args: None) if quiet else out.print


def output_folder(path: Path) -> None:
    """Create the ``--out`` folder once every option has been checked (a folder that
    cannot be written is a usage error), and turn on the compilation cache."""
    from jaxmlp.core.compiled import enable_compilation_cache
    from jaxmlp.io.files import ensure_writable_dir

    try:
        ensure_writable_dir(path)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="'--out'") from None
    enable_compilation_cache()
