"""The training loop: epochs in one compiled ``lax.while_loop``, driven from the host in
chunks.

- :func:`run_epochs` (device) runs up to ``program.chunk`` epochs from a state: every
  epoch (:func:`jaxmlp.core.epoch.train_epoch`), the evaluation sets, the stopping rules
  and scikit-learn's learning-rate schedules, with no host round trip.
- :func:`drive` (host) calls a compiled chunk until the models are done, collecting the
  per-epoch losses and metrics; the end of a chunk is the only host sync, so progress
  bars, early stopping and the playground share this one code path.
- :func:`train` trains one model with it; :func:`jaxmlp.core.many.train_many` many.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmlp.core import compiled
from jaxmlp.core.epoch import fused, metrics, set_learning_rate, train_epoch
from jaxmlp.core.program import Data, DivergenceError, HostData, Hyper, Program, State
from jaxmlp.core.sharding import pad_rows, replicate, shard_rows

__all__ = ["RunResult", "drive", "epoch_end", "run_epochs", "train"]


def _evaluate(program: Program, hyper: Hyper, params, evals, weight_sums, epoch, last_epoch,
              nan):  # fmt: skip
    """(loss, accuracy) of each evaluation set after an epoch, shape (n_evals, 2); ``nan``
    where not evaluated this epoch (and for set 0 when it comes from the next epoch)."""

    def evaluate(params):
        pairs = zip(evals, weight_sums, strict=True)
        return jnp.stack([metrics(program, hyper, params, e, s) for e, s in pairs])

    def no_eval(params):
        return jnp.full((program.n_evals, 2), nan)

    if program.n_evals == 0:
        return no_eval(params)
    if fused(program):  # eval set 0 comes from the next epoch (or after the loop)
        rest = [metrics(program, hyper, params, e, s)
                for e, s in zip(evals[1:], weight_sums[1:], strict=True)]  # fmt: skip
        return jnp.stack([jnp.full((2,), nan), *rest])
    if program.eval_every == 1:
        return evaluate(params)
    due = (epoch % program.eval_every == 0) | (epoch == last_epoch)
    return jax.lax.cond(due, evaluate, no_eval, params)


def _track_best(program: Program, hyper: Hyper, state: State, loss, m, params):
    """scikit-learn's improvement counters: (no_improve, best_loss, best_score,
    best_params) after an epoch with training ``loss`` and evaluation metrics ``m``."""
    no_improve, best_loss, best_score = state.no_improve, state.best_loss, state.best_score
    best_params = state.best_params
    if program.stopping == "loss":
        no_improve = jnp.where(loss > best_loss - hyper.tol, no_improve + 1, 0)
        best_loss = jnp.minimum(best_loss, loss)
    elif program.stopping in ("validation", "validation_loss"):
        if program.stopping == "validation":  # scikit-learn's: the score (accuracy, R²)
            score = m[0, 1]
            no_improve = jnp.where(score < best_score + hyper.tol, no_improve + 1, 0)
            better = score > best_score
            best_score = jnp.where(better, score, best_score)
        else:  # the validation loss: smooth, where accuracy on a few rows is a step function
            v_loss = m[0, 0]
            no_improve = jnp.where(v_loss > best_loss - hyper.tol, no_improve + 1, 0)
            better = v_loss < best_loss
            best_loss = jnp.where(better, v_loss, best_loss)
            best_score = jnp.where(better, m[0, 1], best_score)
        if program.keep_best:
            best_params = jax.tree_util.tree_map(
                lambda b, p: jnp.where(better, p, b), best_params, params
            )
    return no_improve, best_loss, best_score, best_params


def _schedule_and_stop(program: Program, hyper: Hyper, state: State, opt_state, t,
                       no_improve):  # fmt: skip
    """scikit-learn's 'invscaling' and 'adaptive' schedules and the stopping rules:
    (opt_state, no_improve, done) after an epoch that left the optimizer at ``opt_state``."""
    if program.schedule == "invscaling":
        opt_state = set_learning_rate(opt_state, hyper.learning_rate / (t + 1.0) ** hyper.power_t)
    done = state.done
    if program.stopping != "none":
        trigger = no_improve.astype(state.t.dtype) > hyper.n_iter_no_change
        if program.schedule == "adaptive":
            lr = opt_state.hyperparams["learning_rate"]
            can_shrink = lr > 1e-6
            opt_state = set_learning_rate(opt_state, jnp.where(trigger & can_shrink, lr / 5.0, lr))
            no_improve = jnp.where(trigger & can_shrink, 0, no_improve)
            done = done | (trigger & ~can_shrink)
        else:
            done = done | trigger
    return opt_state, no_improve, done


def epoch_end(program: Program, hyper: Hyper, state: State, params, opt_state, key, loss,
              m, n_rows) -> State:  # fmt: skip
    """The one rule at the end of an epoch, for every driver (the compiled loop here, the
    streamed one in :mod:`jaxmlp.core.stream`): the state after an epoch that left
    ``params``, ``opt_state`` and ``key`` with training ``loss`` over ``n_rows`` rows and
    evaluation metrics ``m`` of shape (n_evals, 2) -- counters, divergence, the best
    weights, the learning-rate schedule and the stopping rule (issue #21: the streamed
    driver kept a copy without the schedules)."""
    epoch = state.epoch + 1
    t = state.t + jnp.asarray(n_rows).astype(state.t.dtype)
    finite = jnp.isfinite(loss)
    diverged_at = jnp.where((state.diverged_at == 0) & ~finite, epoch, state.diverged_at)
    no_improve, best_loss, best_score, best_params = _track_best(program, hyper, state, loss,
                                                                 m, params)  # fmt: skip
    opt_state, no_improve, done = _schedule_and_stop(program, hyper, state, opt_state, t,
                                                     no_improve)  # fmt: skip
    return State(params, opt_state, key, epoch, t, no_improve.astype(jnp.int32), best_loss,
                 best_score, best_params, done, diverged_at.astype(jnp.int32))  # fmt: skip


def run_epochs(program: Program, hyper: Hyper, state: State, data: Data,
               evals: tuple[Data, ...], last_epoch: jax.Array):  # fmt: skip
    """Up to ``program.chunk`` epochs from ``state``: the one compiled program.

    Returns the new state, the number of epochs run, the per-epoch training loss of
    shape (chunk,) and evaluation metrics of shape (chunk, n_evals, 2); entries of epochs
    not run (or not evaluated) hold nan.
    """
    opt = program.optimizer(hyper)
    nan = jnp.asarray(jnp.nan, data.X.dtype)
    weight_sums = [jnp.maximum(jnp.sum(e.W), 1e-30) for e in evals]  # loop-invariant
    is_fused = fused(program)

    def body(carry):
        state, i, losses, ms = carry
        out = train_epoch(program, hyper, opt, state, data)
        if is_fused:  # the starting parameters' training metrics belong to the previous epoch
            assert out.sums is not None
            prev = jnp.maximum(i - 1, 0)
            ms = ms.at[prev, 0].set(jnp.where(i > 0, out.sums / weight_sums[0], ms[prev, 0]))
        m = _evaluate(program, hyper, out.params, evals, weight_sums, state.epoch + 1,
                      last_epoch, nan)  # fmt: skip
        new_state = epoch_end(program, hyper, state, out.params, out.opt_state, out.key,
                              out.loss, m, data.n)  # fmt: skip
        return new_state, i + 1, losses.at[i].set(out.loss), ms.at[i].set(m)

    def cond(carry):
        state, i, _, _ = carry
        return (
            (i < program.chunk)
            & (state.epoch < last_epoch)
            & ~state.done
            & (state.diverged_at == 0)
        )

    losses = jnp.full((program.chunk,), nan)
    ms = jnp.full((program.chunk, program.n_evals, 2), nan)
    state, n_run, losses, ms = jax.lax.while_loop(
        cond, body, (state, jnp.zeros((), jnp.int32), losses, ms)
    )
    if is_fused:  # the last epoch's training metrics: one forward pass after the loop
        last = jnp.maximum(n_run - 1, 0)
        final = metrics(program, hyper, state.params, evals[0], weight_sums[0])
        ms = ms.at[last, 0].set(jnp.where(n_run > 0, final, ms[last, 0]))
    return state, n_run, losses, ms


class RunResult(NamedTuple):
    """What :func:`train` returns (and :func:`drive` collects).

    Attributes
    ----------
    state : State
        Final state (``state.params``, ``state.opt_state``, counters).
    losses : ndarray of shape (n_epochs,) -- (M, n_epochs) for M models
        Per-epoch training loss (scikit-learn's ``loss_curve_``); nan after a model stopped.
    metrics : ndarray of shape (n_epochs, n_evals, 2) -- (M, n_epochs, n_evals, 2)
        Per-epoch (loss, accuracy) of each evaluation set; nan where not evaluated.
    """

    state: Any
    losses: np.ndarray
    metrics: np.ndarray


def drive(
    call: Callable[[Any], tuple[Any, Any, Any, Any]],
    state: Any,
    *,
    chunk: int,
    finished: Callable[[RunResult, np.ndarray], bool],
    callback: Callable[[RunResult, np.ndarray], None] | None = None,
    view: Callable[[Any], Any] = lambda state: state,
) -> tuple[RunResult, np.ndarray]:
    """Call a compiled chunk of epochs until every model is done.

    Parameters
    ----------
    call : callable
        ``call(state) -> (state, n_run, losses, metrics)``: one compiled chunk (of one
        model, or of M models with a leading model axis on ``n_run``, ``losses``,
        ``metrics``).
    state : pytree
        The starting state.
    chunk : int
        Epochs per call; a call that ran fewer for every model ends the run.
    finished : callable
        ``finished(result_so_far, epochs_run)``: True when every model is done. It may
        raise (e.g. :class:`DivergenceError`), which ends the run before ``callback``.
    callback : callable, optional
        ``callback(result_so_far, epochs_run)`` after each chunk.
    view : callable
        Maps the state carried between calls to the one reported (e.g. without padding
        models).

    Returns
    -------
    result : RunResult
        Losses and metrics of every epoch run (trimmed to the longest-running model).
    epochs_run : ndarray of int, shape () or (M,)
    """
    compiled.release_if_crowded()  # a long-lived process never runs out of memory maps
    losses: list[np.ndarray] = []
    metric_rows: list[np.ndarray] = []
    ran = np.zeros((), np.int64)
    while True:
        state, n_run, l_chunk, m_chunk = call(state)
        n_run = np.asarray(n_run)  # host sync, once per chunk
        ran = ran + n_run
        # whole chunks, trimmed on the host: slicing device arrays by n_run would compile
        # a program per length
        losses.append(np.asarray(l_chunk))
        metric_rows.append(np.asarray(m_chunk))
        width = int(np.max(ran))
        result = RunResult(view(state), np.concatenate(losses, axis=-1)[..., :width],
                           np.concatenate(metric_rows, axis=-3)[..., :width, :, :])  # fmt: skip
        stop = finished(result, ran) or bool((n_run < chunk).all())
        if callback is not None:
            callback(result, ran)
        if stop:
            return result, ran


def train(
    program: Program,
    hyper: Hyper,
    state: State,
    data: Data,
    evals: tuple[Data, ...] = (),
    *,
    max_epochs: int,
    callback: Callable[[int, RunResult], None] | None = None,
    divergence_hint: str = "",
) -> RunResult:
    """Run ``program`` from ``state`` until a stopping rule fires or ``max_epochs`` more
    epochs have run, in calls of ``program.chunk`` epochs.

    Parameters
    ----------
    program, hyper, state
        See :class:`~jaxmlp.core.program.Program`, :class:`~jaxmlp.core.program.Hyper`,
        :func:`~jaxmlp.core.program.init_state`.
    data : Data
        Training rows.
    evals : tuple of Data
        Evaluation sets (``program.n_evals`` of them).
    max_epochs : int
        Epochs to run at most in this call.
    callback : callable, optional
        ``callback(epochs_run, result_so_far)`` after each chunk.
    divergence_hint : str
        Appended to the :class:`DivergenceError` message.

    Raises
    ------
    DivergenceError
        If a training loss became nan or inf (at the end of that chunk).
    """
    if len(evals) != program.n_evals:
        raise ValueError(f"program expects {program.n_evals} evaluation sets, got {len(evals)}")
    # computed on the host: an eager device add would compile a tiny program per process
    last_epoch = np.asarray(state.epoch, np.int32) + np.int32(max_epochs)
    if program.mesh is not None:  # data-parallel: rows split over the mesh, the rest copied
        data, evals = _on_mesh(program.mesh, data), tuple(_on_mesh(program.mesh, e) for e in evals)
        hyper, state, last_epoch = replicate(program.mesh, (hyper, state, last_epoch))

    def call(state: State):
        return compiled.run_chunk(run_epochs, program, hyper, state, data, evals, last_epoch)

    def finished(result: RunResult, ran: np.ndarray) -> bool:
        diverged_at = int(result.state.diverged_at)
        if diverged_at:
            raise DivergenceError(diverged_at, divergence_hint)
        return bool(result.state.done) or int(ran) >= max_epochs

    def report(result: RunResult, ran: np.ndarray) -> None:
        if callback is not None:
            callback(int(ran), result)

    result, _ = drive(call, state, chunk=program.chunk, finished=finished, callback=report)
    return result


def _on_mesh(mesh: Any, data: Data) -> Data:
    """``data`` split over ``mesh`` (rows padded with zero weight to a multiple of its
    size); global arrays made by :func:`~jaxmlp.core.sharding.global_rows` pass as they
    are."""
    if isinstance(data.X, jax.Array) and getattr(data.X.sharding, "mesh", None) == mesh:
        return data
    host = HostData(np.asarray(data.X), np.asarray(data.Y), np.asarray(data.W),
                    np.int32(np.asarray(data.n)))  # fmt: skip
    return shard_rows(mesh, pad_rows(host, mesh.size))
