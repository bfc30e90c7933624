"""Many models in one compiled program: :func:`train_many` vmaps the engine's program.

Each model has its own hyperparameters (traced :class:`~jaxmlp.engine.Hyper` values),
state (initial parameters, optimizer state, shuffling key), epoch budget and optionally
its own rows: any leaf of :class:`~jaxmlp.engine.Data` may be a :class:`Stacked` set of
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

from jaxmlp.engine import Data, Hyper, Program, State, _chunk, _init_state

__all__ = ["ManyResult", "Stacked", "init_states", "train_many"]


class Stacked(NamedTuple):
    """A :class:`~jaxmlp.engine.Data` leaf that differs between models.

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
    leaves, axes = [], []
    for leaf in data:
        if isinstance(leaf, Stacked):
            leaves.append(jnp.take(leaf.values, leaf.index, axis=0))
            axes.append(0)
        else:
            leaves.append(leaf)
            axes.append(None)
    return Data(*leaves), Data(*axes)


@functools.partial(jax.jit, static_argnums=0)
def _run_chunk_many(program: Program, hyper, state, data, evals, last):
    """``_chunk`` vmapped over models: hyper, state and ``last`` have a leading model axis;
    :class:`Stacked` data leaves are picked per model, the others are shared."""
    data, data_axes = _per_model(data)
    picked = [_per_model(e) for e in evals]
    evals = tuple(e for e, _ in picked)
    eval_axes = tuple(a for _, a in picked)
    run = functools.partial(_chunk, program)
    return jax.vmap(run, in_axes=(0, 0, data_axes, eval_axes, 0))(hyper, state, data, evals, last)


def init_states(program: Program, hypers: Hyper, params, seeds) -> State:
    """:func:`init_state` for many models at once: ``hypers`` leaves and ``seeds`` have
    shape (M,), every ``params`` leaf a leading axis of size M."""
    init = jax.vmap(
        lambda h, p, s: _init_state.__wrapped__(program.optimizer, program.keep_best, h, p, s, None)
    )
    return jax.jit(init)(hypers, params, jnp.asarray(seeds, jnp.int32))


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
        in :func:`~jaxmlp.engine.train`).
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
) -> ManyResult:
    """Train M models in one compiled program (``jax.vmap`` of :func:`train`'s program).

    Every model gets its own hyperparameters, state (initial parameters, optimizer state,
    shuffling key), epoch budget and, through :class:`Stacked` data leaves, its own rows or
    sample weights. Each model's result equals training it alone with :func:`train` (to
    float tolerance).

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
    """
    if len(evals) != program.n_evals:
        raise ValueError(f"program expects {program.n_evals} evaluation sets, got {len(evals)}")
    if weights is not None:
        weights = jnp.asarray(weights, data.X.dtype)
        data = data._replace(W=Stacked(weights, np.arange(weights.shape[0], dtype=np.int32)))
    start = np.asarray(states.epoch, np.int32)
    budget = np.broadcast_to(np.asarray(max_epochs, np.int32), start.shape)
    last = start + budget
    losses, metrics, done = [], [], 0
    ran = np.zeros(start.shape, np.int64)
    while True:
        states, n_run, l_chunk, m_chunk = _run_chunk_many(program, hypers, states, data,
                                                          evals, last)  # fmt: skip
        n_run = np.asarray(n_run)  # host sync, once per chunk
        ran += n_run
        losses.append(np.asarray(l_chunk))
        metrics.append(np.asarray(m_chunk))
        done += program.chunk
        result = ManyResult(
            states,
            np.concatenate(losses, axis=1),
            np.concatenate(metrics, axis=1),
            ran.copy(),
            np.asarray(states.diverged_at),
        )
        if callback is not None:
            callback(done, result)
        finished = np.asarray(states.done) | (result.diverged_at > 0) | (ran >= budget)
        if (n_run < program.chunk).all() or finished.all():
            width = int(ran.max(initial=0))
            return result._replace(losses=result.losses[:, :width],
                                   metrics=result.metrics[:, :width])  # fmt: skip
