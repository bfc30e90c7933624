"""A block of models as one vmapped program, in three steps that may run in two places.

:func:`pack` turns a block of :class:`~jaxmlp.core.jobs.Job` objects into a
:class:`BlockInput` of plain numpy arrays and the (cloudpickle-able) program;
:func:`train_block` trains it -- in this process, or in a joblib worker on another core or
another machine (Ray, Dask) -- and returns a :class:`BlockOutput` of numpy arrays;
:func:`unpack` hands each job its result. The estimators' ``finish`` callbacks never leave
the calling process; only arrays and the program travel.
"""

from __future__ import annotations

import hashlib
import pickle
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxmlp.core.compiled import enable_compilation_cache
from jaxmlp.core.devices import limit_xla_threads
from jaxmlp.core.loop import RunResult
from jaxmlp.core.many import Stacked, init_states, train_many
from jaxmlp.core.program import Data, DivergenceError, HostData, Hyper, precision

__all__ = [
    "BlockInput",
    "BlockOutput",
    "digest",
    "pack",
    "pickled_program",
    "train_block",
    "unpack",
]


class BlockInput(NamedTuple):
    """Everything one vmapped program needs, as host values.

    Attributes
    ----------
    program : bytes
        The :class:`~jaxmlp.core.program.Program`, pickled once per group (cloudpickle:
        the network's functions travel by value) -- a worker unpickles each distinct
        program once and reuses its compiled code for every later block of the group.
    hypers : Hyper
        One array of shape (M,) per field.
    start : tuple
        ``("fresh", params, seeds)`` (params stacked, leaves (M, ...); seeds (M,)) or
        ``("state", states)`` (a stacked :class:`~jaxmlp.core.program.State`).
    data : HostData
        Training rows; leaves shared or :class:`~jaxmlp.core.many.Stacked`.
    evals : tuple of HostData
    max_epochs : ndarray of shape (M,), int32
    dtype : str
        Training precision.
    threads : int or None
        XLA threads for a worker process (None: the worker's own rule, see
        :func:`~jaxmlp.core.devices.limit_xla_threads`).
    cache : str or None
        The caller's compilation cache folder: a worker that can write it (same machine,
        shared file system) reuses compiled programs across processes.
    """

    program: bytes
    hypers: Hyper
    start: tuple
    data: HostData
    evals: tuple
    max_epochs: np.ndarray
    dtype: str
    threads: int | None = None
    cache: str | None = None


class BlockOutput(NamedTuple):
    """A trained block: stacked final states, per-model losses (M, epochs) and metrics
    (M, epochs, n_evals, 2), the epoch each model diverged at (0: none) and ran, and the
    seconds the program took where it ran."""

    state: Any
    losses: np.ndarray
    metrics: np.ndarray
    diverged_at: np.ndarray
    n_epochs: np.ndarray
    seconds: float


def digest(a: np.ndarray) -> tuple:
    return (a.shape, a.dtype.str,
            hashlib.blake2b(np.ascontiguousarray(a).data, digest_size=16).digest())  # fmt: skip


def _stack_leaf(arrays: Sequence[Any]) -> Any:
    """One shared array if all are equal, else :class:`Stacked` distinct versions."""
    seen: dict[tuple, int] = {}
    index = np.empty(len(arrays), np.int32)
    distinct: list[np.ndarray] = []
    for i, a in enumerate(arrays):
        key = digest(np.asarray(a))
        if key not in seen:
            seen[key] = len(distinct)
            distinct.append(np.asarray(a))
        index[i] = seen[key]
    if len(distinct) == 1:
        return distinct[0]
    return Stacked(np.stack(distinct), index)


def _stack_data(datas: Sequence[HostData]) -> HostData:
    return HostData(*(_stack_leaf([d[k] for d in datas]) for k in range(4)))


def _stack_tree(trees: Sequence[Any]) -> Any:
    return jax.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *trees)


def pickled_program(program: Any) -> bytes:
    """``program`` as bytes that any worker can load (cloudpickle where installed --
    joblib, Ray and Dask all bring it -- else pickle)."""
    try:
        import cloudpickle
    except ImportError:  # pragma: no cover - joblib depends on it
        return pickle.dumps(program)
    return cloudpickle.dumps(program)


def pack(block: Sequence[Any], program: bytes, threads: int | None = None,
         cache: str | None = None) -> BlockInput:  # fmt: skip
    """The :class:`BlockInput` of a block of jobs that share one program."""
    first = block[0]
    dtype = np.dtype(first.dtype)
    hypers = Hyper(*(np.array([float(getattr(j.hyper, f)) for j in block], dtype)
                     for f in Hyper._fields))  # fmt: skip
    if all(j.state is None for j in block):  # fresh starts: one vmapped initialisation
        start: tuple = ("fresh", _stack_tree([j.params for j in block]),
                        np.array([j.seed for j in block], np.int32))  # fmt: skip
    else:
        with precision(dtype):
            start = ("state", _stack_tree([j.start() for j in block]))
    data = _stack_data([j.data for j in block])
    evals = tuple(_stack_data([j.evals[k] for j in block]) for k in range(len(first.evals)))
    max_epochs = np.array([j.max_epochs for j in block], np.int32)
    return BlockInput(program, hypers, start, data, evals, max_epochs, dtype.str, threads, cache)


_programs: dict[bytes, Any] = {}  # a worker's unpickled programs, by their bytes' digest


def _program(blob: bytes) -> Any:
    key = hashlib.blake2b(blob, digest_size=16).digest()
    if key not in _programs:
        _programs[key] = pickle.loads(blob)
    return _programs[key]


def _to_device(d: HostData) -> Data:
    return Data(*jax.tree_util.tree_map(jax.numpy.asarray, tuple(d)))


def train_block(block: BlockInput, in_worker: bool = True, program: Any = None,
                callback: Callable[[int, Any], None] | None = None) -> BlockOutput:  # fmt: skip
    """Train a packed block (``program``: the unpickled program, where the caller has it);
    ``in_worker``: limit XLA's threads first (the first time in this process, see
    :func:`~jaxmlp.core.devices.limit_xla_threads`); ``callback(epochs_done, result)``
    after each chunk of epochs (:func:`~jaxmlp.core.many.train_many`'s)."""
    if in_worker:
        limit_xla_threads(block.threads)
        cached = jax.config.jax_compilation_cache_dir  # type: ignore[attr-defined]
        if block.cache and not cached:
            enable_compilation_cache(block.cache)
    began = time.perf_counter()
    if program is None:
        program = _program(block.program)
    with precision(block.dtype):
        if block.start[0] == "fresh":
            states = init_states(program, block.hypers, block.start[1], block.start[2])
        else:
            states = block.start[1]
        data = _to_device(block.data)
        evals = tuple(_to_device(e) for e in block.evals)
        many = train_many(program, block.hypers, states, data, evals,
                          max_epochs=block.max_epochs, callback=callback)  # fmt: skip
        state = jax.tree_util.tree_map(np.asarray, many.state)
    return BlockOutput(state, np.asarray(many.losses), np.asarray(many.metrics),
                       np.asarray(many.diverged_at), np.asarray(many.n_epochs),
                       time.perf_counter() - began)  # fmt: skip


def unpack(block: Sequence[Any], out: BlockOutput) -> list[BaseException | None]:
    """Hand each job of ``block`` its result; per job None or the error it ended with."""
    errors: list[BaseException | None] = []
    for i, job in enumerate(block):
        if out.diverged_at[i]:
            errors.append(DivergenceError(int(out.diverged_at[i]), job.hint))
            continue
        n = int(out.n_epochs[i])
        state = jax.tree_util.tree_map(lambda a, i=i: a[i], out.state)
        try:
            job.finish(RunResult(state, out.losses[i, :n], out.metrics[i, :n]))
        except ValueError as error:  # e.g. non-finite weights
            errors.append(error)
        else:
            errors.append(None)
    return errors
