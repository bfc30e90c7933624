"""The training engine: a whole run of epochs as one jit-compiled program.

Everything that happens in training -- every epoch, every mini-batch, the per-epoch loss,
the evaluation sets, the stopping rules and the learning-rate schedule -- runs inside one
compiled ``lax.while_loop``. For progress reporting a run is cut into chunks of epochs;
each chunk is one call of the same compiled program and the only host sync is at its end.

Layers, each in its own module:

- :func:`train` (here) is the general engine. What changes the compiled code is a hashable
  :class:`Program` (network, loss kind, optimizer factory, batch slot size, stopping rule
  ...); every number that may vary between fits (learning rate, ``alpha``, momentum,
  tolerances, dropout rate) is a traced :class:`Hyper` value, and the number of real rows
  is data: rows padded with zero weight fill a fixed-size buffer, so fits on data of
  similar size reuse one program.
- :func:`jaxmlp.many.train_many` vmaps the same program over many models.
- :func:`jaxmlp.training.fit` is the tutorial-level API used by ``jaxmlp demo``: full-batch
  or mini-batch training for a fixed number of epochs with train/test metrics after every
  epoch. Mini-batches are formed by :mod:`jaxmlp.batching`.

Randomness: ``PRNGKey(seed)`` initialises the parameters (as the tutorial does with
``PRNGKey(0)``); shuffling and dropout draw from ``fold_in(PRNGKey(seed), 1)``, split once
per epoch. The same seed gives bitwise-identical results in every process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxmlp.batching import batch_mask, epoch_order, pad_order
from jaxmlp.losses import correct, l2_penalty, per_sample_loss

__all__ = [
    "Data",
    "DivergenceError",
    "HostData",
    "Hyper",
    "Program",
    "RunResult",
    "State",
    "constant_optimizer",
    "init_state",
    "make_data",
    "objective_value",
    "precision",
    "train",
]


class DivergenceError(ValueError):
    """Training produced a non-finite loss.

    Attributes
    ----------
    epoch : int
        1-based epoch in which the training loss was first non-finite.
    """

    def __init__(self, epoch: int, hint: str = ""):
        self.epoch = epoch
        super().__init__(
            f"Training diverged: the training loss became non-finite (nan or inf) in epoch "
            f"{epoch}. Use a smaller learning rate (e.g. a tenth of the current one), or an "
            f"adaptive optimizer such as 'adam'.{hint}"
        )


# ----------------------------------------------------------------------------- the program


@dataclasses.dataclass(frozen=True)
class Program:
    """Everything that changes the compiled training program (hashable, compared by value).

    Attributes
    ----------
    apply : callable
        The network's ``apply(params, X, rng=None, dropout_rate=0.0) -> logits``.
    optimizer : callable
        ``optimizer(hyper) -> optax.GradientTransformation``, called inside the trace so
        that hyperparameters are traced values. Must be the same object across fits
        (e.g. a module-level function or :func:`constant_optimizer`) for reuse.
    loss : {'softmax', 'logistic'}
        Output kind, see :mod:`jaxmlp.losses`.
    batch : int or None
        Mini-batch slot size ``B`` (the real batch is ``min(B, n)``); ``None``: one
        full-batch step per epoch.
    shuffle : bool
        Reshuffle the samples every epoch (mini-batch only).
    schedule : {'constant', 'invscaling', 'adaptive'}
        scikit-learn's learning-rate schedules; the others need an optimizer made with
        ``optax.inject_hyperparams`` (its ``learning_rate`` is changed once per epoch).
    stopping : {'none', 'loss', 'validation'}
        Stop when the training loss (or the accuracy on evaluation set 0) did not improve
        by ``tol`` for more than ``n_iter_no_change`` epochs, as scikit-learn does.
    keep_best : bool
        Keep the parameters of the best validation score (with ``stopping='validation'``).
    n_evals : int
        Number of evaluation sets; each gives a weighted loss and accuracy.
    eval_every : int
        Evaluate every this many epochs (and after the last one).
    l2 : bool
        Add scikit-learn's penalty ``alpha/2 * sum ||W||^2 / sum(weights)`` to the loss.
    dropout : bool
        Pass a fresh ``rng`` and ``dropout_rate`` to ``apply`` in every step.
    linesearch : bool
        The optimizer is L-BFGS-like: full batch, ``update(..., value=, grad=, value_fn=)``;
        it stops when the largest gradient entry is <= ``tol`` or after ``max_fun`` calls.
    chunk : int
        Epochs per call of the compiled program (length of the metric buffers).
    swish_beta : bool
        Pass ``hyper.swish_beta`` to ``apply`` (the swish slope as a traced value).
    train_eval : bool
        Evaluation set 0 is the training data itself. In full-batch training (no dropout,
        metrics every epoch) its metrics then come from the next epoch's gradient pass --
        the parameters after epoch ``e`` are those epoch ``e + 1`` starts from -- which
        saves one forward pass over the training rows per epoch.
    """

    apply: Callable
    optimizer: Callable[[Any], optax.GradientTransformation]
    loss: str = "softmax"
    batch: int | None = None
    shuffle: bool = True
    schedule: str = "constant"
    stopping: str = "none"
    keep_best: bool = False
    n_evals: int = 0
    eval_every: int = 1
    l2: bool = True
    dropout: bool = False
    linesearch: bool = False
    chunk: int = 256
    swish_beta: bool = False
    train_eval: bool = False

    def __post_init__(self) -> None:
        if self.stopping == "validation" and (self.n_evals < 1 or self.eval_every != 1):
            raise ValueError("stopping='validation' needs evaluation set 0 every epoch")
        if self.linesearch and self.batch is not None:
            raise ValueError("a line-search optimizer trains full-batch (batch=None)")


class Hyper(NamedTuple):
    """Numbers that may change between fits without recompiling (all traced)."""

    learning_rate: float = 1e-3
    alpha: float = 0.0
    momentum: float = 0.9
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    power_t: float = 0.5
    tol: float = 1e-4
    n_iter_no_change: float = 10.0
    dropout: float = 0.0
    max_fun: float = math.inf
    swish_beta: float = 1.0


class Data(NamedTuple):
    """Training or evaluation rows, padded to a fixed size ``N``.

    Attributes
    ----------
    X : array of shape (N, n_features), float32 or float64 (the training dtype)
    Y : array of shape (N,) int32 (softmax) or (N, k) of X's dtype (logistic)
    W : array of shape (N,), X's dtype
        Sample weights; 0 for padding rows.
    n : int32 scalar
        Number of real rows; rows ``n:`` are padding.
    """

    X: Any
    Y: Any
    W: Any
    n: Any


class State(NamedTuple):
    params: Any
    opt_state: Any
    key: jax.Array
    epoch: jax.Array  # int32: epochs done
    t: jax.Array  # float: training samples seen (scikit-learn's t_)
    no_improve: jax.Array  # int32
    best_loss: jax.Array  # float
    best_score: jax.Array  # float
    best_params: Any  # params at the best validation score (keep_best), else ()
    done: jax.Array  # bool: a stopping rule fired
    diverged_at: jax.Array  # int32: first epoch with a non-finite loss, 0 if none
    n_fun: jax.Array  # int32: objective evaluations (line-search optimizers)


@functools.lru_cache(maxsize=256)
def constant_optimizer(optimizer: optax.GradientTransformation) -> Callable:
    """An optimizer factory for :class:`Program` that ignores :class:`Hyper`."""

    def factory(hyper: Hyper) -> optax.GradientTransformation:
        return optimizer

    return factory


class HostData(NamedTuple):
    """:class:`Data` on the host (numpy arrays), before it goes to the device."""

    X: np.ndarray
    Y: np.ndarray
    W: np.ndarray
    n: np.int32

    @classmethod
    def padded(cls, X, Y, W=None, N: int | None = None, dtype=np.float32) -> HostData:
        """Pad ``n`` rows to ``N`` (default ``n``) rows with zero weight; see
        :func:`make_data`."""
        X = np.asarray(X, dtype)
        n = X.shape[0]
        N = n if N is None else N
        Y = np.asarray(Y)
        Y = Y.astype(np.int32) if Y.ndim == 1 else Y.astype(dtype)
        W = np.ones(n, dtype) if W is None else np.asarray(W, dtype)
        pad = N - n
        if pad:
            X = np.concatenate([X, np.zeros((pad, *X.shape[1:]), X.dtype)])
            Y = np.concatenate([Y, np.zeros((pad, *Y.shape[1:]), Y.dtype)])
            W = np.concatenate([W, np.zeros(pad, W.dtype)])
        # np.int32, not a Python int: jnp.asarray(int) runs (and compiles) a tiny program
        return cls(X, Y, W, np.int32(n))

    def device(self) -> Data:
        """The same rows as device arrays."""
        return Data(*(jnp.asarray(a) for a in self))


def make_data(X, Y, W=None, N: int | None = None, dtype=np.float32) -> Data:
    """Pad ``n`` rows to ``N`` (default ``n``) rows with zero weight.

    Parameters
    ----------
    X : array of shape (n, n_features)
    Y : array of shape (n,) or (n, k)
    W : array of shape (n,), optional
        Sample weights (default 1).
    N : int, optional
        Padded size, >= n.
    dtype : numpy dtype
        Floating dtype of training (float64 needs ``jax.enable_x64``).
    """
    return HostData.padded(X, Y, W, N, dtype).device()


def init_state(program: Program, hyper: Hyper, params: Any, seed: int, opt_state=None):
    """The starting :class:`State`: ``params``, a fresh (or given) optimizer state, and the
    shuffling key ``fold_in(PRNGKey(seed), 1)``."""
    # keyed on what the state depends on, not the whole Program: fits that differ only in
    # row counts or batch sizes share one compiled initialiser
    return _init_state(program.optimizer, program.keep_best, hyper, params, seed, opt_state)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _init_state(optimizer, keep_best: bool, hyper: Hyper, params, seed, opt_state) -> State:
    if opt_state is None:
        with _optax_promotion():
            opt_state = optimizer(hyper).init(params)
    f32 = jax.tree_util.tree_leaves(params)[0].dtype  # the training dtype
    return State(
        params=params,
        opt_state=opt_state,
        key=jax.random.fold_in(jax.random.PRNGKey(seed), 1),
        epoch=jnp.zeros((), jnp.int32),
        t=jnp.zeros((), f32),
        no_improve=jnp.zeros((), jnp.int32),
        best_loss=jnp.asarray(jnp.inf, f32),
        best_score=jnp.asarray(-jnp.inf, f32),
        best_params=params if keep_best else (),
        done=jnp.zeros((), bool),
        diverged_at=jnp.zeros((), jnp.int32),
        n_fun=jnp.zeros((), jnp.int32),
    )


# ----------------------------------------------------------------------------- one epoch


def _apply(program: Program, hyper: Hyper, params, X, rng=None):
    """The network's logits; ``rng`` (dropout) only while training."""
    kwargs = {"swish_beta": hyper.swish_beta} if program.swish_beta else {}
    if program.dropout and rng is not None:
        kwargs.update(rng=rng, dropout_rate=hyper.dropout)
    return program.apply(params, X, **kwargs)


def _fused(program: Program) -> bool:
    """Training metrics taken from the next epoch's gradient pass (see ``train_eval``)."""
    return (program.train_eval and program.batch is None and not program.linesearch
            and not program.dropout and program.eval_every == 1
            and program.stopping != "validation")  # fmt: skip


def _objective_aux(program: Program, hyper: Hyper, params, X, Y, w, rng):
    """Weighted mean loss of a batch plus scikit-learn's L2 term, and the weighted sums
    of the per-sample loss and of the correct predictions (for metrics)."""
    logits = _apply(program, hyper, params, X, rng)
    sw = jnp.sum(w)
    sw = jnp.where(sw > 0, sw, 1.0)
    loss_sum = jnp.sum(w * per_sample_loss(program.loss, logits, Y))
    total = loss_sum
    if program.l2:
        total = total + 0.5 * hyper.alpha * l2_penalty(params)
    correct_sum = jnp.sum(w * correct(program.loss, logits, Y))
    return total / sw, jnp.stack([loss_sum, correct_sum])


def _objective(program: Program, hyper: Hyper, params, X, Y, w, rng):
    """Weighted mean loss of a batch plus scikit-learn's L2 term."""
    return _objective_aux(program, hyper, params, X, Y, w, rng)[0]


@functools.partial(jax.jit, static_argnums=0)
def objective_value(program: Program, hyper: Hyper, params, data: Data) -> jax.Array:
    """The training objective (weighted loss + L2 term) on all of ``data``; a scalar."""
    return _objective(program, hyper, params, data.X, data.Y, data.W, None)


def _metrics(program: Program, hyper: Hyper, params, data: Data, sw: jax.Array) -> jax.Array:
    """(weighted loss, weighted accuracy) on ``data`` whose weights sum to ``sw``; (2,)."""
    logits = _apply(program, hyper, params, data.X)
    loss = jnp.sum(data.W * per_sample_loss(program.loss, logits, data.Y)) / sw
    acc = jnp.sum(data.W * correct(program.loss, logits, data.Y)) / sw
    return jnp.stack([loss, acc])


def precision(dtype):
    """Train and predict in the input's precision, as scikit-learn does: float64 runs
    with ``jax.enable_x64`` (for this call only), float32 in float32."""
    return jax.enable_x64(True) if np.dtype(dtype) == np.float64 else contextlib.nullcontext()


def _optax_promotion():
    """Optimizers run with JAX's standard dtype promotion: optax's Adam computes
    ``b1 ** count`` (float ** int32), which a user's ``jax_numpy_dtype_promotion='strict'``
    would refuse. Our own code stays under whatever the user (or the tests) set."""
    return jax.numpy_dtype_promotion("standard")


def _set_lr(opt_state, new_lr):
    hp = getattr(opt_state, "hyperparams", None)
    if hp is None or "learning_rate" not in hp:
        raise TypeError(
            "learning-rate schedules 'invscaling' and 'adaptive' need an optimizer made with "
            "optax.inject_hyperparams (its 'learning_rate' is changed every epoch)."
        )
    return opt_state._replace(hyperparams={**hp, "learning_rate": new_lr})


def _train_epoch(program: Program, hyper: Hyper, opt, state: State, data: Data):
    """One epoch of updates. Returns (params, opt_state, key, epoch loss, updated?, n_fun,
    sums) where ``sums`` are the weighted loss and correct sums at the starting
    parameters (with :func:`_fused`, else None)."""
    needs_key = program.dropout or (program.batch is not None and program.shuffle)
    if needs_key:
        key, k_order, k_drop = jax.random.split(state.key, 3)
    else:  # nothing random this epoch: skip the (not free) key split
        key = k_order = k_drop = state.key
    objective = functools.partial(_objective, program, hyper)
    grad_fn = jax.value_and_grad(objective)

    if program.linesearch:
        value, grads = grad_fn(state.params, data.X, data.Y, data.W, None)
        converged = (
            jnp.max(jnp.stack([jnp.max(jnp.abs(g)) for g in jax.tree_util.tree_leaves(grads)]))
            <= hyper.tol
        )

        def value_fn(p):
            return objective(p, data.X, data.Y, data.W, None)

        with _optax_promotion():
            updates, opt_state = opt.update(
                grads, state.opt_state, state.params, value=value, grad=grads, value_fn=value_fn
            )
        params = optax.apply_updates(state.params, updates)
        steps = optax.tree_utils.tree_get(opt_state, "num_linesearch_steps", 0)
        n_fun = state.n_fun + 1 + jnp.asarray(steps, jnp.int32)
        # a converged iterate is kept as it is: no update
        params, opt_state = jax.tree_util.tree_map(
            lambda old, new: jnp.where(converged, old, new),
            (state.params, state.opt_state),
            (params, opt_state),
        )
        return params, opt_state, key, value, ~converged, n_fun, None

    if program.batch is None:
        if _fused(program):
            aux_fn = jax.value_and_grad(functools.partial(_objective_aux, program, hyper),
                                        has_aux=True)  # fmt: skip
            (loss, sums), grads = aux_fn(state.params, data.X, data.Y, data.W, k_drop)
        else:
            loss, grads = grad_fn(state.params, data.X, data.Y, data.W, k_drop)
            sums = None
        with _optax_promotion():
            updates, opt_state = opt.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        return params, opt_state, key, loss, jnp.ones((), bool), state.n_fun, sums

    B, N = program.batch, data.X.shape[0]
    b = jnp.minimum(B, data.n)
    n_batches = (data.n + b - 1) // b
    order = pad_order(epoch_order(k_order, data.n, N, program.shuffle), B)
    # One gather per epoch puts the rows in visiting order; each batch is then a contiguous
    # slice, which is much cheaper than gathering B scattered rows in every step.
    X, Y, W = (a[order] for a in (data.X, data.Y, data.W))

    def one_batch(j, carry):
        params, opt_state, total = carry
        mask = batch_mask(j, b, B, data.n)

        def rows(a):
            return jax.lax.dynamic_slice_in_dim(a, j * b, B)

        w = jnp.where(mask, rows(W), 0)
        loss, grads = grad_fn(params, rows(X), rows(Y), w, jax.random.fold_in(k_drop, j))
        with _optax_promotion():
            updates, opt_state = opt.update(grads, opt_state, params)
        # scikit-learn's loss_curve_: batch losses weighted by the batch's row count
        return (
            optax.apply_updates(params, updates),
            opt_state,
            total + loss * jnp.sum(mask).astype(loss.dtype),
        )

    zero = jnp.zeros((), data.X.dtype)
    params, opt_state, total = jax.lax.fori_loop(
        0, n_batches, one_batch, (state.params, state.opt_state, zero)
    )
    return (
        params,
        opt_state,
        key,
        total / data.n.astype(data.X.dtype),
        jnp.ones((), bool),
        state.n_fun,
        None,
    )


def _chunk(
    program: Program,
    hyper: Hyper,
    state: State,
    data: Data,
    evals: tuple[Data, ...],
    last_epoch: jax.Array,
):
    """Up to ``program.chunk`` epochs from ``state``: the one compiled program.

    Returns the new state, the number of epochs run, the per-epoch training loss of
    shape (chunk,) and evaluation metrics of shape (chunk, n_evals, 2); entries of epochs
    not run (or not evaluated) hold nan.
    """
    opt = program.optimizer(hyper)
    nan = jnp.asarray(jnp.nan, data.X.dtype)

    weight_sums = [jnp.maximum(jnp.sum(e.W), 1e-30) for e in evals]  # loop-invariant

    def evaluate(params):
        pairs = zip(evals, weight_sums, strict=True)
        return jnp.stack([_metrics(program, hyper, params, e, s) for e, s in pairs])

    def no_eval(params):
        return jnp.full((program.n_evals, 2), nan)

    fused = _fused(program)

    def body(carry):
        state, i, losses, metrics = carry
        params, opt_state, key, loss, updated, n_fun, sums = _train_epoch(
            program, hyper, opt, state, data
        )
        if fused:  # the starting parameters' training metrics belong to the previous epoch
            prev = jnp.maximum(i - 1, 0)
            metrics = metrics.at[prev, 0].set(
                jnp.where(i > 0, sums / weight_sums[0], metrics[prev, 0])
            )
        epoch = state.epoch + updated.astype(jnp.int32)
        t = state.t + data.n.astype(state.t.dtype)
        finite = jnp.isfinite(loss)
        diverged_at = jnp.where((state.diverged_at == 0) & ~finite, epoch, state.diverged_at)

        if program.n_evals == 0:
            m = no_eval(params)
        elif fused:  # eval set 0 comes from the next epoch (or after the loop)
            rest = [_metrics(program, hyper, params, e, s)
                    for e, s in zip(evals[1:], weight_sums[1:], strict=True)]  # fmt: skip
            m = jnp.stack([jnp.full((2,), nan), *rest])
        elif program.eval_every == 1:
            m = evaluate(params)
        else:
            due = (epoch % program.eval_every == 0) | (epoch == last_epoch)
            m = jax.lax.cond(due, evaluate, no_eval, params)

        no_improve, best_loss, best_score = state.no_improve, state.best_loss, state.best_score
        best_params = state.best_params
        if program.stopping == "loss":
            no_improve = jnp.where(loss > best_loss - hyper.tol, no_improve + 1, 0)
            best_loss = jnp.minimum(best_loss, loss)
        elif program.stopping == "validation":
            score = m[0, 1]
            no_improve = jnp.where(score < best_score + hyper.tol, no_improve + 1, 0)
            better = score > best_score
            best_score = jnp.where(better, score, best_score)
            if program.keep_best:
                best_params = jax.tree_util.tree_map(
                    lambda b, p: jnp.where(better, p, b), best_params, params
                )

        if program.schedule == "invscaling":
            opt_state = _set_lr(opt_state, hyper.learning_rate / (t + 1.0) ** hyper.power_t)
        done = state.done
        if program.linesearch:
            done = done | ~updated | (n_fun.astype(state.t.dtype) >= hyper.max_fun)
        if program.stopping != "none":
            trigger = no_improve.astype(state.t.dtype) > hyper.n_iter_no_change
            if program.schedule == "adaptive":
                lr = opt_state.hyperparams["learning_rate"]
                can_shrink = lr > 1e-6
                opt_state = _set_lr(opt_state, jnp.where(trigger & can_shrink, lr / 5.0, lr))
                no_improve = jnp.where(trigger & can_shrink, 0, no_improve)
                done = done | (trigger & ~can_shrink)
            else:
                done = done | trigger

        new_state = State(
            params, opt_state, key, epoch, t, no_improve.astype(jnp.int32), best_loss,
            best_score, best_params, done, diverged_at.astype(jnp.int32), n_fun,
        )  # fmt: skip
        return new_state, i + 1, losses.at[i].set(loss), metrics.at[i].set(m)

    def cond(carry):
        state, i, _, _ = carry
        return (
            (i < program.chunk)
            & (state.epoch < last_epoch)
            & ~state.done
            & (state.diverged_at == 0)
        )

    losses = jnp.full((program.chunk,), nan)
    metrics = jnp.full((program.chunk, program.n_evals, 2), nan)
    state, n_run, losses, metrics = jax.lax.while_loop(
        cond, body, (state, jnp.zeros((), jnp.int32), losses, metrics)
    )
    if fused:  # the last epoch's training metrics: one forward pass after the loop
        last = jnp.maximum(n_run - 1, 0)
        final = _metrics(program, hyper, state.params, evals[0], weight_sums[0])
        metrics = metrics.at[last, 0].set(jnp.where(n_run > 0, final, metrics[last, 0]))
    return state, n_run, losses, metrics


@functools.partial(jax.jit, static_argnums=0)
def _run_chunk(program: Program, hyper, state, data, evals, last_epoch):
    """:func:`_chunk` compiled for one model."""
    return _chunk(program, hyper, state, data, evals, last_epoch)


class RunResult(NamedTuple):
    """What :func:`train` returns.

    Attributes
    ----------
    state : State
        Final state (``state.params``, ``state.opt_state``, counters).
    losses : ndarray of shape (n_epochs,)
        Per-epoch training loss (scikit-learn's ``loss_curve_``).
    metrics : ndarray of shape (n_epochs, n_evals, 2)
        Per-epoch (loss, accuracy) of each evaluation set; nan where not evaluated.
    """

    state: State
    losses: np.ndarray
    metrics: np.ndarray


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
        See :class:`Program`, :class:`Hyper`, :func:`init_state`.
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
    from jaxmlp.exported import run_chunk  # _run_chunk, or its stored lowered program

    # computed on the host: an eager device add would compile a tiny program per process
    last_epoch = np.asarray(state.epoch, np.int32) + np.int32(max_epochs)
    losses, metrics, done = [], [], 0
    while True:
        state, n_run, l_chunk, m_chunk = run_chunk(program, hyper, state, data, evals, last_epoch)
        n_run = int(n_run)  # host sync, once per chunk
        # slice on the host: slicing the device array by n_run would compile per length
        losses.append(np.asarray(l_chunk)[:n_run])
        metrics.append(np.asarray(m_chunk)[:n_run])
        done += n_run
        diverged_at = int(state.diverged_at)
        if diverged_at:
            raise DivergenceError(diverged_at, divergence_hint)
        result = RunResult(state, np.concatenate(losses), np.concatenate(metrics))
        if callback is not None:
            callback(done, result)
        if n_run < program.chunk or bool(state.done) or done >= max_epochs:
            return result
