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

__all__ = ["available_cores", "limit_xla_threads", "use_cpu_cores"]


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
        n = available_cores()
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


def available_cores() -> int:
    """CPU cores this process may use (its affinity on Linux, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_limited: list[int | None] = []  # what limit_xla_threads did in this process (once)


def _threads_of_this_process() -> list[int]:
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return [0]


def limit_xla_threads(n: int | None = None) -> int | None:
    """Start JAX's CPU backend with a pool of ``n`` threads, in a worker process.

    ``n`` default: ``$OMP_NUM_THREADS`` (Ray sets it per task, Dask's nanny per worker),
    else 1. XLA ignores OMP_NUM_THREADS, and jax 0.10's XLA ignores its own
    ``--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1`` flags (measured:
    a 1500x1500 matmul chain still used 1.96 of 2 cores); it sizes its thread pool from
    the cores the process may run on. So the process is allowed ``n`` cores while the
    backend starts, and all of them again afterwards -- the pool keeps ``n`` threads and
    the operating system spreads the workers' threads over the cores.

    Does nothing after JAX's backend has started in this process, on other operating
    systems, or when called again. Returns the thread count applied, or None.
    """
    if _limited:
        return _limited[0]
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized() or not hasattr(os, "sched_setaffinity"):
        _limited.append(None)
        return None
    if n is None:
        try:
            n = int(os.environ.get("OMP_NUM_THREADS", "1"))
        except ValueError:
            n = 1
    cores = sorted(os.sched_getaffinity(0))
    n = max(1, min(int(n), len(cores)))
    try:
        os.sched_setaffinity(0, cores[:n])
        jax.devices()  # starts the backend: XLA sizes its pool now
    finally:
        for tid in _threads_of_this_process():
            try:
                os.sched_setaffinity(tid, cores)
            except OSError:  # a thread that ended meanwhile
                pass
    _limited.append(n)
    return n
