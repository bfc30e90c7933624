"""Many models in one compiled program: :func:`train_many` vmaps the engine's program.

Each model has its own hyperparameters (traced :class:`~jaxmlp.engine.Hyper` values),
state (initial parameters, optimizer state, shuffling key) and optionally its own row
weights (a CV-fold mask, bootstrap counts); the rows themselves are shared.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmlp.engine import Data, Hyper, Program, State, _chunk, _init_state

__all__ = ["ManyResult", "init_states", "train_many"]


@functools.partial(jax.jit, static_argnums=(0, 1))
def _run_chunk_many(program: Program, weights_batched: bool, hyper, state, data, evals, last):
    """``_chunk`` vmapped over models: hyper, state and ``last`` have a leading model axis;
    the rows are shared, and so are the sample weights unless ``weights_batched``."""
    data_axes = Data(None, None, 0 if weights_batched else None, None)
    eval_axes = tuple(Data(None, None, None, None) for _ in evals)
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
        Epochs each model ran.
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
    max_epochs: int,
    weights: Any = None,
    callback: Callable[[int, ManyResult], None] | None = None,
) -> ManyResult:
    """Train M models in one compiled program (``jax.vmap`` of :func:`train`'s program).

    Every model gets its own hyperparameters, state (initial parameters, optimizer state,
    shuffling key) and, with ``weights``, its own sample weights -- a fold mask or a
    bootstrap count per row. Each model's result equals training it alone with
    :func:`train` (to float tolerance).

    Parameters
    ----------
    program : Program
        Shared by all models (one architecture, one loss, one optimizer family).
    hypers : Hyper
        Leaves of shape (M,).
    states : State
        From :func:`init_states`.
    data : Data
        Shared training rows.
    evals : tuple of Data
        Shared evaluation sets.
    max_epochs : int
    weights : array of shape (M, N), optional
        Per-model sample weights replacing ``data.W`` (0 drops a row for that model).
    callback : callable, optional
        ``callback(epochs_done, result_so_far)`` after each chunk.
    """
    if len(evals) != program.n_evals:
        raise ValueError(f"program expects {program.n_evals} evaluation sets, got {len(evals)}")
    batched = weights is not None
    if batched:
        data = data._replace(W=jnp.asarray(weights, data.X.dtype))
    last = np.asarray(states.epoch, np.int32) + np.int32(max_epochs)
    losses, metrics, done = [], [], 0
    while True:
        states, n_run, l_chunk, m_chunk = _run_chunk_many(
            program, batched, hypers, states, data, evals, last
        )
        n_run = np.asarray(n_run)  # host sync, once per chunk
        losses.append(np.asarray(l_chunk))
        metrics.append(np.asarray(m_chunk))
        done += program.chunk
        result = ManyResult(
            states,
            np.concatenate(losses, axis=1),
            np.concatenate(metrics, axis=1),
            np.asarray(states.epoch),
            np.asarray(states.diverged_at),
        )
        if callback is not None:
            callback(done, result)
        finished = np.asarray(states.done) | (result.diverged_at > 0)
        if (n_run < program.chunk).all() or finished.all() or done >= max_epochs:
            width = int(result.n_epochs.max(initial=0))
            return result._replace(losses=result.losses[:, :width],
                                   metrics=result.metrics[:, :width])  # fmt: skip
