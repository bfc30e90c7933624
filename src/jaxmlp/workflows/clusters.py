"""Where joblib runs the blocks of a sweep: this machine's processes, a Ray cluster or a
Dask cluster -- existing engines, reached through ``joblib.parallel_config``; jaxmlp has no
server of its own.

:func:`parallel_backend` is a context manager: inside it, every ``n_jobs`` of jaxmlp (and of
scikit-learn) uses the chosen backend. Without an address it starts a cluster of
``workers`` processes on this machine, bound to 127.0.0.1, and stops it on exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

import joblib

from jaxmlp.core.devices import available_cores

__all__ = ["BACKENDS", "ClusterError", "parallel_backend"]

BACKENDS = ("local", "ray", "dask")


def connect_timeout() -> float:
    """Seconds to wait for a cluster: ``$JAXMLP_CONNECT_TIMEOUT``, default 15."""
    try:
        return max(0.1, float(os.environ.get("JAXMLP_CONNECT_TIMEOUT", "15")))
    except ValueError:
        return 15.0


class ClusterError(RuntimeError):
    """A backend that is not installed or a cluster that cannot be reached."""


@contextlib.contextmanager
def parallel_backend(backend: str, address: str | None = None,
                     workers: int | None = None) -> Iterator[int]:  # fmt: skip
    """Run joblib's work on ``backend`` inside the ``with`` block; yields the number of
    workers jaxmlp should cut its models for (joblib's ``n_jobs``).

    Parameters
    ----------
    backend : {'local', 'ray', 'dask'}
    address : str, optional
        A running cluster: Ray's ``HOST:PORT`` (or ``auto``), Dask's scheduler
        ``tcp://HOST:PORT``. None: a cluster of ``workers`` processes on 127.0.0.1, for
        this call only ('local' needs none).
    workers : int, optional
        Worker processes (default: one per core here; all of a given cluster's).

    Raises
    ------
    ClusterError
        The backend's package is missing, or the cluster cannot be reached within
        ``$JAXMLP_CONNECT_TIMEOUT`` seconds (default 15).
    """
    if backend not in BACKENDS:
        raise ClusterError(f"--backend {backend!r} is not one of {', '.join(BACKENDS)}.")
    if backend == "local":
        if address is not None:
            raise ClusterError("--address needs --backend ray or --backend dask.")
        try:
            yield workers or -1
        finally:
            _end_local_workers()
        return
    with _ray(address, workers) if backend == "ray" else _dask(address, workers) as n:
        with joblib.parallel_config(backend=backend, n_jobs=n):
            yield n


def _end_local_workers() -> None:
    """End joblib's local worker processes (kept for reuse) and remove their temporary
    folder now: the CLI exits with ``os._exit``, which skips joblib's own clean-up."""
    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor()
    folders = getattr(executor, "_temp_folder_manager", None)
    executor.shutdown(wait=True)
    if folders is not None:
        folders._clean_temporary_resources(force=True)


def _missing(name: str, extra: str) -> ClusterError:
    return ClusterError(f"--backend {extra} needs {name}, which is not installed; install "
                        f"it with: pip install 'jaxmlp[{extra}]'.")  # fmt: skip


@contextlib.contextmanager
def _dask(address: str | None, workers: int | None) -> Iterator[int]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise _missing("Dask's distributed", "dask") from None
    stack = contextlib.ExitStack()
    with stack:
        try:
            if address is None:
                cluster = stack.enter_context(LocalCluster(
                    n_workers=workers or available_cores(), threads_per_worker=1, processes=True,
                    host="127.0.0.1", dashboard_address=None))  # fmt: skip
                client = stack.enter_context(Client(cluster, timeout=connect_timeout()))
            else:
                client = stack.enter_context(Client(address, timeout=connect_timeout()))
        except (OSError, TimeoutError) as e:
            where = address or "a local Dask cluster"
            raise ClusterError(
                f"could not reach the Dask scheduler at {where} within {connect_timeout():g} s "
                f"({e}); start one with `dask scheduler` and `dask worker ADDRESS`, and pass "
                "its address, e.g. --address tcp://10.0.0.5:8786."
            ) from None
        threads = sum(client.nthreads().values())
        yield workers or max(1, threads)


@contextlib.contextmanager
def _ray(address: str | None, workers: int | None) -> Iterator[int]:
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError:
        raise _missing("Ray", "ray") from None
    register_ray()
    # Ray logs notices at WARNING (a generated auth token; that joblib's 'context' argument
    # is unused); only errors reach the user
    quiet = logging.getLogger("ray")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    if address is not None and address != "auto":
        host, _, port = address.rpartition(":")
        if "://" not in address and not _reachable(host, port):
            raise ClusterError(
                f"could not reach a Ray cluster at {address} within {connect_timeout():g} s; "
                "start one with `ray start --head` and pass the address it prints "
                "(HOST:PORT, default port 6379)."
            )
    options: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False,
                                   configure_logging=False)  # fmt: skip
    try:
        if address is None:
            ray.init(num_cpus=workers or available_cores(), _node_ip_address="127.0.0.1", **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise ClusterError(f"could not connect to Ray at {address}: {e}") from None
    try:
        yield workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    finally:
        ray.shutdown()
        quiet.setLevel(level)


def _reachable(host: str, port: str) -> bool:
    import socket

    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), connect_timeout()):
            return True
    except (OSError, ValueError):
        return False
