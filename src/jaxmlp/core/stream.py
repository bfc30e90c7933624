"""Training on rows that arrive in chunks (a table larger than memory).

Each chunk runs the engine's own mini-batch epoch (:func:`jaxmlp.core.epoch.train_epoch`)
from the state the previous chunk left, so a pass over all chunks is one epoch: the same
optimizer steps, in the same order, as an in-memory epoch over the concatenated rows when
every chunk but the last holds a whole number of batches (and shuffling is off; with it on,
rows are shuffled within each chunk). Chunks are padded to one size, so one program is
compiled. After each epoch the host evaluates, records scikit-learn's training loss and
applies its loss-based stopping rule.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxmlp.core.epoch import evaluate, train_epoch
from jaxmlp.core.loop import RunResult
from jaxmlp.core.program import Data, DivergenceError, HostData, Hyper, Program, State

__all__ = ["train_chunks"]


@functools.partial(jax.jit, static_argnums=0)
def _chunk(program: Program, hyper: Hyper, state: State, data: Data) -> tuple[State, jax.Array]:
    """One pass over a chunk: (new state, loss summed over its rows)."""
    out = train_epoch(program, hyper, program.optimizer(hyper), state, data)
    new = state._replace(params=out.params, opt_state=out.opt_state, key=out.key)
    return new, out.loss * data.n.astype(out.loss.dtype)


def _number(a: Any) -> float:
    return float(np.asarray(a))


def train_chunks(
    program: Program,
    hyper: Hyper,
    state: State,
    epoch_chunks: Callable[[int], Iterable[HostData]],
    evals: tuple[Data, ...] = (),
    *,
    max_epochs: int,
    callback: Callable[[int, RunResult], None] | None = None,
) -> RunResult:
    """Train over ``epoch_chunks(epoch)`` (host chunks of one padded size) per epoch.

    Parameters
    ----------
    program : Program
        A mini-batch program (``batch`` set); ``stopping`` 'loss' or 'none'.
    epoch_chunks : callable
        ``epoch_chunks(e)`` yields the chunks of epoch ``e`` (0-based).
    evals : tuple of Data
        Evaluated after every epoch (``program.n_evals`` of them).
    max_epochs : int
    callback : callable, optional
        ``callback(epochs_done, result_so_far)`` after each epoch.

    Returns
    -------
    RunResult
        ``losses`` of shape (epochs,), ``metrics`` (epochs, n_evals, 2).

    Raises
    ------
    DivergenceError
        If an epoch's loss is not finite.
    """
    if program.batch is None:
        raise ValueError("training in chunks needs a mini-batch program (batch_size).")
    losses: list[float] = []
    metrics: list[np.ndarray] = []
    best, no_improve, done = _number(state.best_loss), 0, False
    t = _number(state.t)
    for e in range(max_epochs):
        sums: list[jax.Array] = []
        rows = 0
        for chunk in epoch_chunks(e):
            state, loss_sum = _chunk(program, hyper, state, chunk.device())
            if sums:  # at most two chunks on the device: dispatch would otherwise queue them all
                sums[-1].block_until_ready()
            sums.append(loss_sum)
            rows += int(chunk.n)
        loss = float(jnp.sum(jnp.stack(sums))) / max(rows, 1)  # one host sync per epoch
        if not np.isfinite(loss):
            raise DivergenceError(int(np.asarray(state.epoch)) + 1, "")
        t += rows
        losses.append(loss)
        metrics.append(np.asarray(evaluate(program, hyper, state.params, evals))
                       if evals else np.zeros((0, 2), np.float32))  # fmt: skip
        if program.stopping == "loss":  # scikit-learn's rule on the training loss
            no_improve = no_improve + 1 if loss > best - _number(hyper.tol) else 0
            best = min(best, loss)
            done = no_improve > _number(hyper.n_iter_no_change)
        dtype = np.asarray(state.t).dtype
        counters: dict[str, Any] = dict(
            epoch=np.asarray(np.asarray(state.epoch) + 1, np.int32), t=np.asarray(t, dtype),
            best_loss=np.asarray(best, dtype), no_improve=np.asarray(no_improve, np.int32),
            done=np.asarray(done))  # fmt: skip
        state = state._replace(**counters)
        result = RunResult(state, np.asarray(losses), np.stack(metrics))
        if callback is not None:
            callback(e + 1, result)
        if done:
            break
    return RunResult(state, np.asarray(losses), np.stack(metrics))
