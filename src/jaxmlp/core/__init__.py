"""The engine: networks, losses, optimizers and training as compiled programs.

Nothing here knows scikit-learn's estimator API, tables, reports or the command line;
every other layer builds on it. In the order data flows:

- :mod:`~jaxmlp.core.activations`, :mod:`~jaxmlp.core.optimizers` -- the one table of
  activation functions, the one table of optimizers (name -> optax factory);
- :mod:`~jaxmlp.core.nn` -- stax ``(init, apply)`` networks; :mod:`~jaxmlp.core.losses`;
- :mod:`~jaxmlp.core.program` -- what a run is made of (:class:`Program`, :class:`Hyper`,
  padded :class:`Data`, :class:`State`);
- :mod:`~jaxmlp.core.epoch` -- one epoch on the device; :mod:`~jaxmlp.core.batching`;
- :mod:`~jaxmlp.core.loop` -- the compiled loop over epochs and its host driver;
- :mod:`~jaxmlp.core.stream` -- the same epochs over rows that arrive in chunks;
- :mod:`~jaxmlp.core.many` -- the same program vmapped over models, across devices;
- :mod:`~jaxmlp.core.jobs` -- prepared fits, grouped and run side by side, in blocks of
  models (:mod:`~jaxmlp.core.blocks`) here or in joblib workers;
- :mod:`~jaxmlp.core.halving` -- successive halving's schedule of epochs and candidates;
- :mod:`~jaxmlp.core.sharding` -- one fit data-parallel over a device mesh;
  :mod:`~jaxmlp.core.hosts` -- over several processes (``jax.distributed``);
- :mod:`~jaxmlp.core.compiled` -- compiled programs kept across processes;
- :mod:`~jaxmlp.core.devices` -- one JAX device per CPU core;
- :mod:`~jaxmlp.core.validation` -- checks of user-given numbers, shared by all layers;
- :mod:`~jaxmlp.core.durable` -- files and folders replaced atomically and durably (the
  bottom of every layer: model folders, the stored programs, streamed Parquet copies).

Importing this package imports nothing heavy; the modules import JAX as they need it.
"""
