"""Runners that the CLI (and later the playground) call, and that return values: the
tutorial-level :func:`~jaxmlp.workflows.fit.fit` and
:func:`~jaxmlp.workflows.fit_many.fit_many`, :func:`~jaxmlp.workflows.demo.run_demo`,
:func:`~jaxmlp.workflows.sweep.run_sweep`, :func:`~jaxmlp.workflows.table.train_table`
(train / predict / evaluate on a table), and the scikit-learn baseline
(:mod:`~jaxmlp.workflows.baseline`). They print nothing and write no file."""
