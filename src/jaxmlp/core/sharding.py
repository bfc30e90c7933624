"""One fit, data-parallel: the rows sharded over a device mesh, the model replicated.

A :class:`~jaxmlp.core.program.Program` with a ``mesh`` trains exactly as without one --
the same compiled loop (:func:`jaxmlp.core.loop.train`) -- but its rows are split over the
mesh's ``"batch"`` axis and its parameters and optimizer state are replicated; XLA's
partitioner (GSPMD) inserts the reduction of the gradients. The axis is ``Auto``, chosen
deliberately: the epoch gathers rows in a shuffled order and reshapes them into batches,
which ``Explicit`` axes refuse on a sharded dimension (``ShardingTypeError``), while with
``Auto`` the partitioner moves the rows as needed. Each mini-batch is constrained to be
sharded over the devices (:func:`constrain_rows`), so every device computes the gradient
of its slice of the batch.

Across hosts (``jax.distributed``, :mod:`jaxmlp.core.hosts`) the mesh holds every process's
devices; every process runs the same fit on the same rows, and puts on its own devices only
its own part of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from jaxmlp.core.program import Data, HostData

__all__ = [
    "AXIS",
    "DeviceCountError",
    "constrain_rows",
    "data_mesh",
    "global_rows",
    "pad_rows",
    "replicate",
    "shard_rows",
]

AXIS = "batch"


class DeviceCountError(ValueError):
    """More devices were asked for than JAX sees."""


def data_mesh(devices: int | Sequence[Any] | None) -> Mesh | None:
    """A one-axis mesh (``"batch"``, Auto) over ``devices``: a count (the first ``n`` of
    ``jax.devices()``, every process's devices under ``jax.distributed``) or the devices
    themselves. None or 1 device: None (the plain single-device program).

    Raises
    ------
    DeviceCountError
        If more devices are asked for than JAX sees, with how to get more.
    """
    if devices is None:
        return None
    if not isinstance(devices, int | np.integer):
        chosen = list(devices)
        if not chosen:
            raise ValueError("devices is empty; give a device count >= 1 or a list of devices.")
    else:
        n = int(devices)
        have = jax.devices()
        if n < 1:
            raise ValueError(f"devices must be >= 1, got {n}.")
        if n > len(have):
            kind = have[0].platform
            hint = (
                " On CPU, start Python with XLA_FLAGS=--xla_force_host_platform_device_count="
                f"{n} (or call jaxmlp.use_cpu_cores({n}) before JAX's first operation) to "
                "expose more devices."
                if kind == "cpu"
                else ""
            )
            raise DeviceCountError(
                f"devices={n} but JAX sees {len(have)} {kind} device(s); use devices="
                f"{len(have)} or fewer.{hint}"
            )
        chosen = have[:n]
    if len(chosen) == 1 and jax.process_count() == 1:
        return None
    return Mesh(np.array(chosen), (AXIS,), axis_types=(AxisType.Auto,))


def _sharding(mesh: Mesh, sharded: bool) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec(AXIS) if sharded else PartitionSpec())


def constrain_rows(mesh: Mesh | None, x: jax.Array) -> jax.Array:
    """Inside a traced program: ``x`` (rows first) split over the mesh's devices."""
    if mesh is None:
        return x
    return jax.lax.with_sharding_constraint(x, _sharding(mesh, True))


def pad_rows(data: HostData, multiple: int) -> HostData:
    """``data`` with zero-weight rows added so that its row count divides by ``multiple``."""
    N = data.X.shape[0]
    extra = -N % multiple
    if not extra:
        return data

    def pad(a: np.ndarray) -> np.ndarray:
        return np.concatenate([a, np.zeros((extra, *a.shape[1:]), a.dtype)])

    return HostData(pad(data.X), pad(data.Y), pad(data.W), data.n)


def _place(a: Any, sharding: NamedSharding) -> jax.Array:
    """A global array from ``a``, held whole by this process: each process puts on its
    own devices only the parts they hold (so under ``jax.distributed`` every process
    passes the same ``a``, and sends nothing to the others)."""
    host = np.asarray(a)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def shard_rows(mesh: Mesh, data: Data | HostData) -> Data:
    """Rows of ``data`` split over ``mesh``; the row count must divide by the mesh size
    (:func:`pad_rows`)."""
    rows, full = _sharding(mesh, True), _sharding(mesh, False)
    X, Y, W = (_place(a, rows) for a in data[:3])
    return Data(X, Y, W, _place(data.n, full))


def global_rows(mesh: Mesh, local: HostData, n_total: int) -> Data:
    """Across processes: this process's rows ``local`` (the same padded count on every
    process, its devices' part of the rows in process order) as its part of global arrays;
    ``n_total`` real rows in all, the padding after them (on the last process)."""
    rows = _sharding(mesh, True)
    X, Y, W = (jax.make_array_from_process_local_data(rows, np.asarray(a)) for a in local[:3])
    return Data(X, Y, W, _place(np.int32(n_total), _sharding(mesh, False)))


def replicate(mesh: Mesh, tree: Any) -> Any:
    """Every array of ``tree`` (host or device) replicated on every device of ``mesh``."""
    full = _sharding(mesh, False)
    return jax.tree_util.tree_map(lambda a: _place(a, full), tree)
