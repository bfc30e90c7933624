"""Many models in one compiled program: :func:`train_many` vmaps the engine's program.

Each model has its own hyperparameters (traced :class:`~jaxmlp.core.program.Hyper`
values), state (initial parameters, optimizer state, shuffling key), epoch budget and
optionally its own rows: any leaf of :class:`~jaxmlp.core.program.Data` may be a
:class:`Stacked` set of
alternatives with one index per model (CV folds, bootstrap weights, early-stopping splits),
the other leaves are shared.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmlp.core import compiled
from jaxmlp.core.loop import RunResult, drive, run_epochs
from jaxmlp.core.program import Data, Hyper, Program, State, initial_state

__all__ = ["ManyResult", "Stacked", "init_states", "train_many"]


class Stacked(NamedTuple):
    """A :class:`~jaxmlp.core.program.Data` leaf that differs between models.

    Attributes
    ----------
    values : array of shape (U, ...)
        The U distinct versions of the leaf (e.g. one weight vector per CV fold).
    index : array of shape (M,), int32
        Which version each of the M models trains on.
    """

    values: Any
    index: Any


def _per_model(data: Data) -> tuple[Data, Data]:
    """Data with a model axis on its :class:`Stacked` leaves, and the matching vmap axes."""
    leaves: list[Any] = []
    axes: list[int | None] = []
    for leaf in data:
        if isinstance(leaf, Stacked):
            leaves.append(jnp.take(leaf.values, leaf.index, axis=0))
            axes.append(0)
        else:
            leaves.append(leaf)
            axes.append(None)
    return Data(*leaves), Data(*axes)


def _vmapped(program: Program, hyper, state, data, evals, last):
    """:func:`~jaxmlp.core.loop.run_epochs` vmapped over the models of one block."""
    data, data_axes = _per_model(data)
    picked = [_per_model(e) for e in evals]
    evals = tuple(e for e, _ in picked)
    eval_axes = tuple(a for _, a in picked)
    run = functools.partial(run_epochs, program)
    return jax.vmap(run, in_axes=(0, 0, data_axes, eval_axes, 0))(hyper, state, data, evals, last)


def _blocked(program: Program, block: int, hyper, state, data, evals, last):
    """The models in blocks of ``block``, one block after the other (``lax.map``): each
    block's activations stay in cache for all its epochs."""
    n = jax.tree_util.tree_leaves(last)[0].shape[0]
    if block >= n:
        return _vmapped(program, hyper, state, data, evals, last)

    def split(a):
        return a.reshape(n // block, block, *a.shape[1:])

    def merge(a):
        return a.reshape(n, *a.shape[2:])

    def pick(d: Data) -> Data:  # Stacked indices are per model: split them too
        return Data(*(Stacked(leaf.values, split(leaf.index)) if isinstance(leaf, Stacked)
                      else leaf for leaf in d))  # fmt: skip

    # only the per-model parts are mapped over; shared rows are closed over
    sdata, sevals = pick(data), tuple(pick(e) for e in evals)

    def body(args):
        h, st, data_idx, eval_idx, la = args
        d = _with_index(sdata, data_idx)
        es = tuple(_with_index(e, i) for e, i in zip(sevals, eval_idx, strict=True))
        return _vmapped(program, h, st, d, es, la)

    mapped = jax.lax.map(
        body,
        (jax.tree_util.tree_map(split, hyper), jax.tree_util.tree_map(split, state),
         _indices(sdata), tuple(_indices(e) for e in sevals), split(last)),
    )  # fmt: skip
    return jax.tree_util.tree_map(merge, mapped)


def _indices(d: Data) -> tuple:
    return tuple(leaf.index if isinstance(leaf, Stacked) else None for leaf in d)


def _with_index(d: Data, indices: tuple) -> Data:
    return Data(*(Stacked(leaf.values, i) if isinstance(leaf, Stacked) else leaf
                  for leaf, i in zip(d, indices, strict=True)))  # fmt: skip


def _specs(d: Data, models):
    from jax.sharding import PartitionSpec as P

    return Data(*(Stacked(P(), P(models)) if isinstance(leaf, Stacked) else P() for leaf in d))


def _chunk_many(program: Program, block: int, n_devices: int, hyper, state, data, evals,
                last):  # fmt: skip
    """:func:`~jaxmlp.core.loop.run_epochs` for M models: vmapped within blocks of ``block``
    models, blocks one after the other, and the blocks spread over ``n_devices`` local
    devices (each device runs its own models' loops, no communication). hyper, state and
    ``last`` have a leading model axis divisible by ``block * n_devices``;
    :class:`Stacked` data leaves are picked per model, the others are shared."""
    run = functools.partial(_blocked, program, block)
    if n_devices == 1:
        return run(hyper, state, data, evals, last)
    from jax.sharding import Mesh
    from jax.sharding import PartitionSpec as P

    mesh = Mesh(np.array(jax.local_devices()[:n_devices]), ("models",))
    specs = (P("models"), P("models"), _specs(data, "models"),
             tuple(_specs(e, "models") for e in evals), P("models"))  # fmt: skip
    sharded = jax.shard_map(run, mesh=mesh, in_specs=specs, out_specs=P("models"),
                            check_vma=False)  # fmt: skip
    return sharded(hyper, state, data, evals, last)


_run_chunk_many = jax.jit(_chunk_many, static_argnums=(0, 1, 2))


def init_states(program: Program, hypers: Hyper, params, seeds) -> State:
    """:func:`init_state` for many models at once: ``hypers`` leaves and ``seeds`` have
    shape (M,), every ``params`` leaf a leading axis of size M."""
    return _init_many(program.optimizer, program.keep_best, hypers, params,
                      jnp.asarray(seeds, jnp.int32))  # fmt: skip


@functools.partial(jax.jit, static_argnums=(0, 1))
def _init_many(optimizer, keep_best: bool, hypers: Hyper, params, seeds) -> State:
    # module level, so that its compiled program is kept (a jit of a fresh closure per
    # call compiled again for every block: ~0.3 s each)
    init = jax.vmap(lambda h, p, s: initial_state(optimizer, keep_best, h, p, s, None))
    return init(hypers, params, seeds)


def _block_size(program: Program, states: State, data: Data, per_device: int) -> int:
    """Models per vmapped block: about 2 MiB of one step's activations."""
    leaves = jax.tree_util.tree_leaves(states.params)
    widths = sum(np.shape(a)[-1] for a in leaves if np.ndim(a) == 3)
    X = data.X.values[0] if isinstance(data.X, Stacked) else data.X
    rows = X.shape[0] if program.batch is None else program.batch
    per_model = 4 * rows * (X.shape[-1] + widths) * np.dtype(X.dtype).itemsize
    return int(max(1, min(per_device, (2 << 20) // max(per_model, 1))))


def _pad_models(tree, padded: int):
    """Pad every per-model leaf (leading model axis; Stacked indices) to ``padded``
    models by repeating model 0. Shared rows are left alone."""
    if isinstance(tree, tuple) and not hasattr(tree, "_fields"):  # the evals tuple
        return tuple(_pad_models(t, padded) for t in tree)
    if isinstance(tree, Data):
        return Data(*(Stacked(leaf.values, _pad_array(leaf.index, padded))
                      if isinstance(leaf, Stacked) else leaf for leaf in tree))  # fmt: skip
    return jax.tree_util.tree_map(lambda a: _pad_array(a, padded), tree)


def _pad_array(a, padded: int):
    a = np.asarray(a)
    if a.shape[0] == padded:
        return a
    return np.concatenate([a, np.repeat(a[:1], padded - a.shape[0], axis=0)])


class ManyResult(NamedTuple):
    """What :func:`train_many` returns, with a leading model axis of size M.

    Attributes
    ----------
    state : State
        Final states (``state.params`` leaves of shape (M, ...)).
    losses : ndarray of shape (M, n_epochs)
        Per-epoch training loss; nan after a model stopped.
    metrics : ndarray of shape (M, n_epochs, n_evals, 2)
        Per-epoch (loss, accuracy) on each evaluation set; nan where not evaluated.
    n_epochs : ndarray of shape (M,), int
        Epochs each model ran (loop iterations: a converged L-BFGS iteration counts, as
        in :func:`~jaxmlp.core.loop.train`).
    diverged_at : ndarray of shape (M,), int
        First epoch with a non-finite loss per model, 0 if none (a diverged model stops;
        the others go on).
    """

    state: State
    losses: np.ndarray
    metrics: np.ndarray
    n_epochs: np.ndarray
    diverged_at: np.ndarray


def train_many(
    program: Program,
    hypers: Hyper,
    states: State,
    data: Data,
    evals: tuple[Data, ...] = (),
    *,
    max_epochs: int | np.ndarray,
    weights: Any = None,
    callback: Callable[[int, ManyResult], None] | None = None,
    block: int | None = None,
    devices: int | None = None,
) -> ManyResult:
    """Train M models in one compiled program (``jax.vmap`` of the program of
    :func:`~jaxmlp.core.loop.train`).

    Every model gets its own hyperparameters, state (initial parameters, optimizer state,
    shuffling key), epoch budget and, through :class:`Stacked` data leaves, its own rows or
    sample weights. Each model's result equals training it alone with
    :func:`~jaxmlp.core.loop.train` (to float tolerance).

    Parameters
    ----------
    program : Program
        Shared by all models (one architecture, one loss, one optimizer family).
    hypers : Hyper
        Leaves of shape (M,).
    states : State
        From :func:`init_states` (or stacked :func:`init_state` results).
    data : Data
        Training rows; leaves shared or :class:`Stacked`.
    evals : tuple of Data
        Evaluation sets, likewise.
    max_epochs : int or array of shape (M,)
        Epochs each model may run at most in this call.
    weights : array of shape (M, N), optional
        Per-model sample weights replacing ``data.W`` (0 drops a row for that model);
        shorthand for ``data.W = Stacked(weights, arange(M))``.
    callback : callable, optional
        ``callback(epochs_done, result_so_far)`` after each chunk.
    block : int, optional
        Models vmapped together; blocks run one after the other so that a block's
        activations stay in cache (default: sized to about 2 MiB of activations).
    devices : int, optional
        Local devices to spread the blocks over (default: all; on CPU see
        :func:`jaxmlp.use_cpu_cores`).
    """
    if len(evals) != program.n_evals:
        raise ValueError(f"program expects {program.n_evals} evaluation sets, got {len(evals)}")
    if weights is not None:
        weights = jnp.asarray(weights, data.X.dtype)
        data = data._replace(W=Stacked(weights, np.arange(weights.shape[0], dtype=np.int32)))
    start = np.asarray(states.epoch, np.int32)
    M = start.shape[0]
    budget = np.broadcast_to(np.asarray(max_epochs, np.int32), start.shape)
    n_dev = max(1, min(len(jax.local_devices()) if devices is None else int(devices), M))
    block = _block_size(program, states, data, -(-M // n_dev)) if block is None else int(block)
    padded = -(-M // (block * n_dev)) * block * n_dev
    # padding models: copies of model 0 with no epochs to run
    hypers, states, data, evals = (_pad_models(t, padded) for t in (hypers, states, data, evals))
    last = np.concatenate([start + budget, np.broadcast_to(start[:1], (padded - M,))])

    def call(states: State):
        args = (hypers, states, data, evals, last)
        states, n_run, losses, metrics = compiled.run_stored(
            _chunk_many, program, (block, n_dev), args,
            lambda: _run_chunk_many(program, block, n_dev, *args))  # fmt: skip
        return states, np.asarray(n_run)[:M], np.asarray(losses)[:M], np.asarray(metrics)[:M]

    def view(states: State) -> State:
        # without padding models, no slicing (each slice would be a device operation)
        return states if padded == M else jax.tree_util.tree_map(lambda a: a[:M], states)

    def finished(result: RunResult, ran: np.ndarray) -> bool:
        diverged = np.asarray(result.state.diverged_at) > 0
        return bool((np.asarray(result.state.done) | diverged | (ran >= budget)).all())

    def report(result: RunResult, ran: np.ndarray) -> None:
        if callback is not None:
            callback(int(ran.max(initial=0)), _many_result(result, ran))

    result, ran = drive(call, states, chunk=program.chunk, finished=finished, callback=report,
                        view=view)  # fmt: skip
    return _many_result(result, ran)


def _many_result(result: RunResult, ran: np.ndarray) -> ManyResult:
    return ManyResult(result.state, result.losses, result.metrics, ran.copy(),
                      np.asarray(result.state.diverged_at))  # fmt: skip
