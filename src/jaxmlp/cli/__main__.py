"""``python -m jaxmlp.cli``: the same as the ``jaxmlp`` command."""

from jaxmlp.cli.app import main

main()
