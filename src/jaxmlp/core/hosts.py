"""Several hosts, one fit: JAX's own multi-process runtime (``jax.distributed``).

Every process runs the same program; the mesh of a data-parallel fit
(:mod:`jaxmlp.core.sharding`) then spans every process's devices, each process puts its own
part of the rows on its own devices, and XLA's collectives (gloo on CPU, NCCL on GPU) sum
the gradients. jaxmlp adds no protocol of its own, only checks before JAX starts: JAX
aborts the process from C++ (SIGABRT, which Python cannot catch) when a peer is missing,
so :func:`preflight` catches what it can first -- wrong counts and ids, a coordinator port
already in use, a coordinator that is not there -- each in one message naming the process
and the fix.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import socket
import time
from typing import Any

import numpy as np

__all__ = [
    "HostsError",
    "Processes",
    "allgather_objects",
    "connect",
    "from_environment",
    "preflight",
]


class HostsError(RuntimeError):
    """A multi-process setting that cannot work, found before JAX starts."""


@dataclasses.dataclass(frozen=True)
class Processes:
    """Where the coordinator is and who this process is.

    ``address`` 'auto' leaves all three to JAX's cluster auto-detection (SLURM, Open MPI,
    Kubernetes, TPU pods)."""

    address: str
    num_processes: int | None
    process_id: int | None

    def name(self) -> str:
        return "this process" if self.process_id is None else f"process {self.process_id}"


def from_environment(address: str | None, num_processes: int | None,
                     process_id: int | None) -> Processes | None:  # fmt: skip
    """The options given, else ``JAX_COORDINATOR_ADDRESS`` / ``JAX_NUM_PROCESSES`` /
    ``JAX_PROCESS_ID`` (the variables levanter, MaxText and Keras read); None when no
    address is given at all (one process)."""

    def number(value: int | None, var: str) -> int | None:
        if value is not None:
            return value
        text = os.environ.get(var, "").strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise HostsError(f"{var}={text!r} is not a whole number.") from None

    address = address or os.environ.get("JAX_COORDINATOR_ADDRESS", "").strip() or None
    if address is None:
        return None
    return Processes(address, number(num_processes, "JAX_NUM_PROCESSES"),
                     number(process_id, "JAX_PROCESS_ID"))  # fmt: skip


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not host or not 0 < number < 65536:
        raise HostsError(
            f"--coordinator-address {address!r} is not HOST:PORT; give the address of process "
            "0's host and a free port, e.g. --coordinator-address 10.0.0.5:8476."
        )
    return host.strip("[]"), number


def preflight(p: Processes, timeout: float) -> None:
    """Check ``p`` before JAX starts: counts and ids; for process 0 that it can listen on
    the coordinator port; for the others that process 0's coordinator answers within
    ``timeout`` seconds.

    Raises
    ------
    HostsError
        Naming the process and the fix.
    """
    if p.address == "auto":
        return
    n, i = p.num_processes, p.process_id
    if n is None or i is None:
        raise HostsError(
            "--coordinator-address needs --num-processes and --process-id (or "
            "JAX_NUM_PROCESSES and JAX_PROCESS_ID), or use --coordinator-address auto on a "
            "cluster JAX recognises (SLURM, Open MPI, Kubernetes)."
        )
    if n < 1:
        raise HostsError(f"--num-processes must be at least 1, got {n}.")
    if not 0 <= i < n:
        raise HostsError(
            f"process {i}: --process-id must be between 0 and {n - 1} for --num-processes "
            f"{n}, got {i}; number the processes 0, 1, ..., {n - 1}."
        )
    host, port = _split(p.address)
    if i == 0:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            try:
                s.bind((host, port))
            except OSError as e:
                raise HostsError(
                    f"process 0: cannot listen on {host}:{port} for the coordinator ({e.strerror}"
                    "); the port is in use or the address is not this host's. Choose a free "
                    "port (and the same --coordinator-address on every process)."
                ) from None
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=max(0.1, min(2.0, timeout))):
                return
        except OSError:
            if time.monotonic() >= deadline:
                raise HostsError(
                    f"process {i}: no coordinator answered at {host}:{port} within "
                    f"{timeout:g} s. Start process 0 (--process-id 0) with the same "
                    "--coordinator-address, on the host that address names, and check that "
                    "the port is open between the hosts."
                ) from None
            time.sleep(0.2)


def connect(p: Processes, timeout: float, heartbeat: float = 100.0) -> None:
    """``jax.distributed.initialize`` with ``p``; JAX waits ``timeout`` seconds for every
    process to join and ends the others ``heartbeat`` seconds after one stops answering."""
    import jax

    if p.address == "auto":
        jax.distributed.initialize()
        return
    jax.distributed.initialize(p.address, p.num_processes, p.process_id,
                               initialization_timeout=max(1, round(timeout)),
                               heartbeat_timeout_seconds=max(1, round(heartbeat)))  # fmt: skip


def allgather_objects(obj: Any) -> list[Any]:
    """``obj`` of every process, in process order (pickled and all-gathered through JAX's
    own collectives; one process: ``[obj]``). For small things: statistics, samples."""
    import jax

    if jax.process_count() == 1:
        return [obj]
    from jax.experimental import multihost_utils

    blob = np.frombuffer(pickle.dumps(obj), np.uint8)
    sizes = multihost_utils.process_allgather(np.array([blob.size], np.int64))
    width = int(np.max(sizes))
    padded = np.zeros(width, np.uint8)
    padded[: blob.size] = blob
    everyone = np.asarray(multihost_utils.process_allgather(padded))
    return [pickle.loads(everyone[i, : int(sizes[i][0])].tobytes())
            for i in range(everyone.shape[0])]  # fmt: skip
