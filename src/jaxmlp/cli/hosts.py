"""``jaxmlp train`` on several processes (``--coordinator-address``, ``--num-processes``,
``--process-id``): the checks before JAX starts, and a watch over JAX's own runtime.

JAX ends a process with SIGABRT from C++ when a peer does not join in time or stops
answering; Python cannot catch that. So the command checks what it can first
(:func:`jaxmlp.core.hosts.preflight`), then runs the training in a child process of the same
command and turns such an end into one message naming the process and the fix. The child
is plain ``jaxmlp train`` with the same arguments; nothing but its exit status is read.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import typer

from jaxmlp.cli.common import fail

__all__ = ["CHILD", "check_devices", "join_processes", "lost_peer", "supervise"]

CHILD = "JAXMLP_HOST_CHILD"  # set in the child: it connects instead of supervising


_RUNTIME_LOG = re.compile(r"^([IWEF]\d{4} \d\d:\d\d:\d\d|\[Gloo\]|Expected number of connected)")


_said: list[str] = []  # the child's own error messages


def _forward(stream: Any, to: Any) -> None:
    """The child's messages, without the C++ runtime's log lines; after a fatal one (JAX
    aborting) nothing more -- the stack trace -- passes. ``JAXMLP_RUNTIME_LOG=1`` passes
    everything."""
    everything = os.environ.get("JAXMLP_RUNTIME_LOG") == "1"
    fatal = False
    for line in stream:
        if line.startswith("Error: "):
            _said.append(line)
        if not everything:
            fatal = fatal or (line.startswith("F") and bool(_RUNTIME_LOG.match(line)))
            if fatal or _RUNTIME_LOG.match(line):
                continue
        to.write(line)
        to.flush()


def supervise(processes: Any, timeout: float) -> int:
    """Check ``processes``, then run this same command in a child that joins the others;
    returns the child's exit status (a JAX abort becomes a clear message and exit 1)."""
    from jaxmlp.core.hosts import HostsError, preflight

    try:
        preflight(processes, timeout)
    except HostsError as e:
        fail(str(e))
    env = {**os.environ, CHILD: "1"}
    if os.environ.get("JAXMLP_RUNTIME_LOG") != "1":
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # XLA's runtime: fatal messages only
    child = subprocess.Popen([sys.executable, "-m", "jaxmlp.cli", *sys.argv[1:]], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             bufsize=1)  # fmt: skip
    readers = [
        threading.Thread(target=_forward, args=(stream, to), daemon=True)
        for stream, to in ((child.stdout, sys.stdout), (child.stderr, sys.stderr))
    ]
    for reader in readers:
        reader.start()
    try:
        code = child.wait()
    except KeyboardInterrupt:
        child.send_signal(signal.SIGINT)
        code = child.wait()
    for reader in readers:
        reader.join(timeout=5)
    if code in (-signal.SIGABRT, 128 + signal.SIGABRT) and _said:
        return 1  # the child said what went wrong; JAX then stopped it at exit
    if code in (-signal.SIGABRT, 128 + signal.SIGABRT):
        n = processes.num_processes
        fail(
            f"{processes.name()}: JAX's runtime stopped it: not all {n or 'the'} processes "
            f"joined the coordinator at {processes.address} within {timeout:g} s, or one "
            f"stopped answering for {timeout:g} s. Start every process with the same "
            "--coordinator-address and --num-processes and its own --process-id (0 to "
            f"{(n or 1) - 1}), within --connect-timeout of each other. Nothing was written.",
            code=1,
        )
    return code


def join_processes(address: str | None, num_processes: int | None, process_id: int | None,
                   timeout: float, data: Path) -> int | None:  # fmt: skip
    """With several processes: this one's id once it has joined the others (the command
    itself supervises a child that joins, see :mod:`jaxmlp.cli.hosts`); else None.
    ``data``: the table every process must be able to read."""
    from jaxmlp.core.hosts import HostsError, connect, from_environment

    try:
        processes = from_environment(address, num_processes, process_id)
    except HostsError as e:
        fail(str(e))
    if processes is None:
        return None
    if not os.environ.get(CHILD):
        if not (data.is_file() or data.is_dir()) or not os.access(data, os.R_OK):
            why = "it does not exist" if not data.exists() else "no read permission"
            fail(f"{processes.name()}: cannot read the table '{data}' ({why}); every process "
                 "needs it at the path it is given (a shared file system, or a copy on each "
                 "host).")  # fmt: skip
        raise typer.Exit(supervise(processes, timeout))
    connect(processes, timeout, heartbeat=timeout)
    import jax

    if processes.num_processes is not None and jax.process_count() != processes.num_processes:
        fail(f"{processes.name()}: --num-processes {processes.num_processes} but the "
             f"coordinator at {processes.address} runs {jax.process_count()} processes; give "
             "every process the same --num-processes.")  # fmt: skip
    return jax.process_index()


def check_devices(devices: int | None, several_processes: bool) -> int | None:
    """``--devices`` checked against the devices JAX sees (all of them across processes
    when there are several); on a CPU-only machine one device per core is exposed, also
    without ``--devices``: the default ensemble's members then train on all the cores
    (XLA runs a program's small operations on one thread), equal to one device's
    members to float rounding."""
    if not several_processes and "xla_force_host_platform_device_count" not in os.environ.get(
        "XLA_FLAGS", ""
    ):
        from jaxmlp.core.devices import use_cpu_cores

        use_cpu_cores()  # only affects a CPU backend
    if devices is None and not several_processes:
        return None
    import jax

    have = len(jax.devices())
    if devices is not None and devices > have:
        kind = jax.devices()[0].platform
        more = (" On CPU, XLA_FLAGS=--xla_force_host_platform_device_count="
                f"{devices} simulates more (for testing)." if kind == "cpu" else "")  # fmt: skip
        fail(f"--devices {devices} but JAX sees {have} {kind} device(s); use --devices {have} "
             f"or fewer.{more}")  # fmt: skip
    return devices if devices is not None else have


def lost_peer(rank: int, error: BaseException) -> str:
    """The message of a collective that failed mid-run (a peer stopped)."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (f"process {rank}: lost contact with the other processes during training "
            f"({first}). Another process stopped or its host is unreachable; see its own "
            "messages, then start all of them again. Nothing was written.")  # fmt: skip
