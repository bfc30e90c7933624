"""Training on rows that arrive in chunks (a table larger than memory).

Each chunk runs the engine's own mini-batch epoch (:func:`jaxmlp.core.epoch.train_epoch`)
from the state the previous chunk left, so a pass over all chunks is one epoch: the same
optimizer steps, in the same order, as an in-memory epoch over the concatenated rows when
every chunk but the last holds a whole number of batches (and shuffling is off; with it on,
rows are shuffled within each chunk). Chunks are padded to one size, so one program is
compiled. After each epoch the host evaluates and records scikit-learn's training loss,
and the compiled loop's own epoch-end rule (:func:`jaxmlp.core.loop.epoch_end`: counters,
learning-rate schedules, stopping) gives the next state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

import jax
import jax.numpy as jnp
import numpy as np

from jaxmlp.core.epoch import evaluate, train_epoch
from jaxmlp.core.loop import RunResult, epoch_end
from jaxmlp.core.program import Data, DivergenceError, HostData, Hyper, Program, State

__all__ = ["train_chunks"]


@functools.partial(jax.jit, static_argnums=0)
def _chunk(program: Program, hyper: Hyper, state: State, data: Data) -> tuple[State, jax.Array]:
    """One pass over a chunk: (new state, loss summed over its rows)."""
    out = train_epoch(program, hyper, program.optimizer(hyper), state, data)
    new = state._replace(params=out.params, opt_state=out.opt_state, key=out.key)
    return new, out.loss * data.n.astype(out.loss.dtype)


_epoch_end = jax.jit(epoch_end, static_argnums=0)


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
        losses.append(loss)
        dtype = np.asarray(state.best_loss).dtype
        m = (np.asarray(evaluate(program, hyper, state.params, evals)) if evals
             else np.zeros((0, 2), dtype))  # fmt: skip
        metrics.append(m)
        state = _epoch_end(program, hyper, state, state.params, state.opt_state, state.key,
                           np.asarray(loss, dtype), m, np.asarray(rows, dtype))  # fmt: skip
        result = RunResult(state, np.asarray(losses), np.stack(metrics))
        if callback is not None:
            callback(e + 1, result)
        if bool(state.done):
            break
    return RunResult(state, np.asarray(losses), np.stack(metrics))
