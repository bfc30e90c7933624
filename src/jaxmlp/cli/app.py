"""The ``jaxmlp`` typer app: the root options and one command per module
(:mod:`~jaxmlp.cli.demo`, :mod:`~jaxmlp.cli.sweep`, :mod:`~jaxmlp.cli.tables`).

Usage mistakes exit with code 2 and a message naming the option, the value and the fix;
a failed run (a diverged training) exits with code 1. Heavy imports (jax, scikit-learn,
matplotlib) happen inside commands, so ``jaxmlp --help`` is instant.
"""

from __future__ import annotations

import atexit
import os
import sys
from typing import Annotated

import typer

from jaxmlp.cli.common import err, out
from jaxmlp.cli.demo import demo
from jaxmlp.cli.playground import playground
from jaxmlp.cli.sweep import sweep
from jaxmlp.cli.tables import evaluate, predict, train

__all__ = ["app", "main"]

app = typer.Typer(
    name="jaxmlp",
    help="Multilayer-perceptron classifiers and regressors in JAX.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"jaxmlp {version('jaxmlp')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """Multilayer-perceptron classifiers and regressors in JAX."""


for _command in (demo, sweep, train, predict, evaluate, playground):
    app.command()(_command)


def main() -> None:
    """Entry point of the ``jaxmlp`` console script.

    Ends with ``os._exit``: with jax, scikit-learn and matplotlib loaded, the interpreter's
    own teardown takes about 0.5 s and does nothing useful here -- every output file has
    been written (atomically) and closed by then, and the streams are flushed first. The
    ``atexit`` handlers do run: joblib removes its workers' temporary folders there, and
    ``jax.distributed`` says goodbye to its coordinator.
    """
    try:
        app()
        code = 0
    except SystemExit as e:
        if isinstance(e.code, str):
            err.print(e.code)
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:
        err.print("Interrupted.")
        code = 130
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
