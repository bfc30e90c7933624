"""Using every CPU core for many models: one JAX CPU device per core.

XLA runs one program's small operations on one thread, so a program that trains many
small models uses one core. JAX can expose the host as several CPU devices
(``jax_num_cpu_devices``); :func:`jaxmlp.core.many.train_many` (and everything built on it:
``fit_many``, ``MLPEnsembleClassifier``, ``MLPSearchCV``, ``jaxmlp sweep``) spreads its
models over all local devices, each device running its own models' training loops. Single
models are unaffected (they run on the first device, whose large matrix products still use
every core).
"""

from __future__ import annotations

import os
import warnings

import jax

__all__ = ["use_cpu_cores"]


def use_cpu_cores(n: int | None = None) -> int:
    """Expose ``n`` CPU cores (default: all this process may use) as JAX CPU devices.

    Must run before JAX's first operation in the process (JAX fixes its devices then);
    later, it warns and changes nothing. Has no effect on GPU/TPU backends' devices.

    Returns
    -------
    int
        The number of local devices JAX uses.
    """
    if n is None:
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            n = os.cpu_count() or 1
    try:
        jax.config.update("jax_num_cpu_devices", int(n))
    except RuntimeError:
        warnings.warn(
            "use_cpu_cores() came after JAX's first operation in this process, so JAX's "
            "devices are fixed; call it right after `import jaxmlp`.",
            RuntimeWarning,
            stacklevel=2,
        )
    return len(jax.local_devices())
