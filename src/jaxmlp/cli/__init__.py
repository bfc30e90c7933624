"""The ``jaxmlp`` command line: the only layer that prints.

:data:`app` is the typer application (:mod:`~jaxmlp.cli.app`), :func:`main` the console
script's entry point. One module per command group parses options, calls the library's
runners (:mod:`jaxmlp.workflows`, :mod:`jaxmlp.reports`) and prints.
"""

from jaxmlp.cli.app import app, main
from jaxmlp.cli.common import err, out

__all__ = ["app", "err", "main", "out"]
