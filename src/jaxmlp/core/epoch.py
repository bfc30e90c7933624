"""One epoch of training, on the device: the objective, the metrics and the updates.

Two kinds of epoch, chosen by the :class:`~jaxmlp.core.program.Program` at trace time:

- full batch: one step on all rows (with ``train_eval``, the same gradient pass also
  yields the training metrics of the starting parameters);
- mini-batches: the rows in a (shuffled) visiting order, cut into ``B``-slot batches
  (:mod:`jaxmlp.core.batching`), one optimizer step per batch in a ``fori_loop``.

Everything here is traced inside :func:`jaxmlp.core.loop.run_epochs`.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxmlp.core.batching import batch_mask, epoch_order, pad_order
from jaxmlp.core.losses import REGRESSION, correct, l1_penalty, l2_penalty, per_sample_loss, score
from jaxmlp.core.program import Data, Hyper, Program, State, optax_promotion
from jaxmlp.core.sharding import constrain_rows

__all__ = ["EpochResult", "evaluate", "fused", "metrics", "set_learning_rate", "train_epoch",
           "value_and_grad"]  # fmt: skip


def apply_network(program: Program, hyper: Hyper, params: Any, X: jax.Array, rng=None):
    """The network's logits, shape (n, k); ``rng`` (dropout) only while training."""
    kwargs: dict[str, Any] = {"swish_beta": hyper.swish_beta} if program.swish_beta else {}
    if program.dropout and rng is not None:
        kwargs.update(rng=rng, dropout_rate=hyper.dropout)
    return program.apply(params, X, **kwargs)


def fused(program: Program) -> bool:
    """Training metrics taken from the next epoch's gradient pass (see ``train_eval``);
    not for regression (R² is not a sum over rows)."""
    return (program.train_eval and program.loss not in REGRESSION and program.batch is None
            and not program.dropout and program.eval_every == 1
            and not program.stopping.startswith("validation"))  # fmt: skip


def _objective_aux(program: Program, hyper: Hyper, params, X, Y, w, rng):
    """Weighted mean loss of a batch plus scikit-learn's L2 term, and the weighted sums
    of the per-sample loss and of the correct predictions (for metrics), shape (2,)."""
    logits = apply_network(program, hyper, params, X, rng)
    sw = jnp.sum(w)
    sw = jnp.where(sw > 0, sw, 1.0)
    loss_sum = jnp.sum(w * per_sample_loss(program.loss, logits, Y))
    total = loss_sum
    if program.l2:
        total = total + 0.5 * hyper.alpha * l2_penalty(params)
    if program.l1:
        total = total + hyper.alpha * l1_penalty(params)
    if program.loss in REGRESSION:  # never fused (see fused): no sums needed
        return total / sw, jnp.stack([loss_sum, jnp.zeros_like(loss_sum)])
    correct_sum = jnp.sum(w * correct(program.loss, logits, Y))
    return total / sw, jnp.stack([loss_sum, correct_sum])


def _objective(program: Program, hyper: Hyper, params, X, Y, w, rng):
    """Weighted mean loss of a batch plus scikit-learn's L2 term; a scalar."""
    return _objective_aux(program, hyper, params, X, Y, w, rng)[0]


@functools.partial(jax.jit, static_argnums=0)
def value_and_grad(program: Program, hyper: Hyper, params: Any, data: Data) -> Any:
    """The training objective (weighted loss + L2 term) on all of ``data`` and its
    gradient: ``(scalar, pytree like params)``, one compiled program (what an optimizer
    driven from the host, such as scipy's L-BFGS-B, calls)."""
    objective = functools.partial(_objective, program, hyper)
    return jax.value_and_grad(objective)(params, data.X, data.Y, data.W, None)


def metrics(program: Program, hyper: Hyper, params: Any, data: Data, sw: jax.Array) -> jax.Array:
    """(weighted loss, weighted score) on ``data`` whose weights sum to ``sw``; (2,). The
    score is the accuracy, or R² for regression (:func:`jaxmlp.core.losses.score`)."""
    logits = apply_network(program, hyper, params, data.X)
    loss = jnp.sum(data.W * per_sample_loss(program.loss, logits, data.Y)) / sw
    return jnp.stack([loss, score(program.loss, logits, data.Y, data.W, sw)])


@functools.partial(jax.jit, static_argnums=0)
def evaluate(program: Program, hyper: Hyper, params: Any, evals: tuple[Data, ...]) -> jax.Array:
    """(weighted loss, weighted score) of each evaluation set; shape (n_sets, 2)."""
    sums = [jnp.maximum(jnp.sum(e.W), 1e-30) for e in evals]
    return jnp.stack([metrics(program, hyper, params, e, s)
                      for e, s in zip(evals, sums, strict=True)])  # fmt: skip


def set_learning_rate(opt_state: Any, new_lr: jax.Array) -> Any:
    """``opt_state`` of an ``optax.inject_hyperparams`` optimizer with another rate."""
    hp = getattr(opt_state, "hyperparams", None)
    if hp is None or "learning_rate" not in hp:
        raise TypeError(
            "learning-rate schedules 'invscaling' and 'adaptive' need an optimizer made with "
            "optax.inject_hyperparams (its 'learning_rate' is changed every epoch)."
        )
    return opt_state._replace(hyperparams={**hp, "learning_rate": new_lr})


class EpochResult(NamedTuple):
    """What one epoch gives: the new ``params``, ``opt_state`` and shuffling ``key``, the
    epoch's training ``loss`` (scalar), and with :func:`fused` the weighted loss and
    correct sums at the starting parameters (``sums`` of shape (2,), else None)."""

    params: Any
    opt_state: Any
    key: jax.Array
    loss: jax.Array
    sums: jax.Array | None


def _full_batch_epoch(program: Program, hyper: Hyper, opt, state: State, data: Data, key,
                      k_drop):  # fmt: skip
    sums = None
    if fused(program):
        aux_fn = jax.value_and_grad(functools.partial(_objective_aux, program, hyper),
                                    has_aux=True)  # fmt: skip
        (loss, sums), grads = aux_fn(state.params, data.X, data.Y, data.W, k_drop)
    else:
        grad_fn = jax.value_and_grad(functools.partial(_objective, program, hyper))
        loss, grads = grad_fn(state.params, data.X, data.Y, data.W, k_drop)
    with optax_promotion():
        updates, opt_state = opt.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    return EpochResult(params, opt_state, key, loss, sums)


def _minibatch_epoch(program: Program, hyper: Hyper, opt, state: State, data: Data, key,
                     k_order, k_drop):  # fmt: skip
    grad_fn = jax.value_and_grad(functools.partial(_objective, program, hyper))
    B, N = program.batch, data.X.shape[0]
    assert B is not None
    b = jnp.minimum(B, data.n)
    n_batches = (data.n + b - 1) // b
    order = pad_order(epoch_order(k_order, data.n, N, program.shuffle), B)
    # One gather per epoch puts the rows in visiting order; each batch is then a contiguous
    # slice, which is much cheaper than gathering B scattered rows in every step.
    X, Y, W = (constrain_rows(program.mesh, a[order]) for a in (data.X, data.Y, data.W))

    def one_batch(j, carry):
        params, opt_state, total = carry
        mask = batch_mask(j, b, B, data.n)

        def rows(a):  # data-parallel: each device takes its part of the batch
            return constrain_rows(program.mesh, jax.lax.dynamic_slice_in_dim(a, j * b, B))

        w = jnp.where(mask, rows(W), 0)
        loss, grads = grad_fn(params, rows(X), rows(Y), w, jax.random.fold_in(k_drop, j))
        with optax_promotion():
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
    loss = total / data.n.astype(data.X.dtype)
    return EpochResult(params, opt_state, key, loss, None)


def train_epoch(program: Program, hyper: Hyper, opt: optax.GradientTransformation,
                state: State, data: Data) -> EpochResult:  # fmt: skip
    """One epoch of updates from ``state`` on ``data`` (see the module's three kinds)."""
    needs_key = program.dropout or (program.batch is not None and program.shuffle)
    if needs_key:
        key, k_order, k_drop = jax.random.split(state.key, 3)
    else:  # nothing random this epoch: skip the (not free) key split
        key = k_order = k_drop = state.key
    if program.batch is None:
        return _full_batch_epoch(program, hyper, opt, state, data, key, k_drop)
    return _minibatch_epoch(program, hyper, opt, state, data, key, k_order, k_drop)
