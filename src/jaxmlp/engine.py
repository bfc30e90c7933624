"""The training engine: a whole run of epochs as one jit-compiled program.

:func:`fit` trains a network given as an ``(init, apply)`` pair with an optax optimizer.
Inside one compiled program (``lax.scan`` over epochs, and over mini-batches within an
epoch) it takes every gradient step and records the per-epoch train/test loss and accuracy,
so nothing returns to the host between steps. For progress reporting the run can be cut
into chunks of epochs: each chunk is one call of the same compiled program, and the only
host sync is at the end of a chunk.

Randomness: ``PRNGKey(seed)`` initialises the parameters (as the tutorial does with
``PRNGKey(0)``); mini-batch shuffling draws from ``fold_in(PRNGKey(seed), 1)``, split once
per epoch. The same seed gives bitwise-identical results in every process.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxmlp.data import Split
from jaxmlp.nn import Network

__all__ = [
    "DivergenceError",
    "FitResult",
    "History",
    "TrainConfig",
    "accuracy",
    "cross_entropy",
    "epoch_batches",
    "fit",
]


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss.

    Attributes
    ----------
    epoch : int
        1-based epoch in which the training loss was first non-finite.
    """

    def __init__(self, epoch: int):
        self.epoch = epoch
        super().__init__(
            f"Training diverged: the training loss became non-finite (nan or inf) in epoch "
            f"{epoch}. Use a smaller learning rate (e.g. a tenth of the current one), or an "
            "adaptive optimizer such as 'adam'."
        )


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How long and how to train.

    Attributes
    ----------
    epochs : int
        Passes over the training set (the tutorial: 250).
    batch_size : int or None
        ``None`` for full-batch gradient descent (the tutorial's default), else the
        mini-batch size; the last batch of an epoch may be smaller (it is masked).
    eval_every : int
        Record train/test metrics every ``eval_every`` epochs (and after the last one).
    seed : int
        Seed of ``jax.random.PRNGKey`` for initialisation and shuffling.
    """

    epochs: int = 250
    batch_size: int | None = None
    eval_every: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("epochs", "eval_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        bs = self.batch_size
        if bs is not None and (isinstance(bs, bool) or not isinstance(bs, int) or bs <= 0):
            raise ValueError(
                f"batch_size must be a positive integer or None (full batch), got {bs!r}."
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"seed must be an integer, got {self.seed!r}.")


class History(NamedTuple):
    """Metrics recorded during training, one row per evaluated epoch.

    Attributes
    ----------
    epoch : ndarray of shape (n_evals,), int
        1-based epoch after whose update the row was measured.
    train_loss, test_loss : ndarray of shape (n_evals,), float32
        Mean cross-entropy on the training / test set.
    train_acc, test_acc : ndarray of shape (n_evals,), float32
        Accuracy on the training / test set, in [0, 1].
    """

    epoch: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray


class FitResult(NamedTuple):
    """What :func:`fit` returns: the trained ``params`` pytree, the :class:`History`, and
    the final optimizer state (to continue training)."""

    params: Any
    history: History
    opt_state: Any


class _State(NamedTuple):
    params: Any
    opt_state: Any
    key: jax.Array
    epoch: jax.Array  # int32 scalar: epochs done so far
    diverged_at: jax.Array  # int32 scalar: first epoch with a non-finite loss, 0 if none


def cross_entropy(logits: jax.Array, labels: jax.Array, weights: jax.Array | None = None):
    """Mean cross-entropy of ``log_softmax(logits)`` at the true labels.

    Parameters
    ----------
    logits : jax.Array of shape (n, n_classes)
    labels : jax.Array of shape (n,), int
    weights : jax.Array of shape (n,), optional
        Per-sample weights (0 masks a padded sample); the mean is weighted.

    Returns
    -------
    jax.Array, scalar
    """
    logp = jax.nn.log_softmax(logits)
    nll = -jnp.take_along_axis(logp, labels[:, None], axis=1)[:, 0]
    if weights is None:
        return jnp.mean(nll)
    return jnp.sum(weights * nll) / jnp.sum(weights)


def accuracy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean of ``argmax(logits) == labels``; logits (n, n_classes), labels (n,)."""
    return jnp.mean(jnp.argmax(logits, axis=1) == labels)


def epoch_batches(key: jax.Array, n: int, batch_size: int) -> tuple[jax.Array, jax.Array]:
    """Shuffle ``n`` sample indices into mini-batches that cover every sample once.

    Parameters
    ----------
    key : jax.Array
        PRNG key of this epoch.
    n : int
        Number of training samples (static).
    batch_size : int
        Batch size (static), <= n.

    Returns
    -------
    idx : jax.Array of shape (n_batches, batch_size), int32
        Sample indices; padding slots of the ragged last batch hold index 0.
    mask : jax.Array of shape (n_batches, batch_size), float32
        1 for a real sample, 0 for padding. ``n_batches = ceil(n / batch_size)``.
    """
    n_batches = -(-n // batch_size)
    pad = n_batches * batch_size - n
    perm = jax.random.permutation(key, n).astype(jnp.int32)
    idx = jnp.concatenate([perm, jnp.zeros(pad, jnp.int32)])
    mask = jnp.concatenate([jnp.ones(n, jnp.float32), jnp.zeros(pad, jnp.float32)])
    return idx.reshape(n_batches, batch_size), mask.reshape(n_batches, batch_size)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3, 4))
def _train_chunk(
    apply_fn: Callable,
    optimizer: optax.GradientTransformation,
    batch_size: int | None,
    n_epochs: int,
    eval_every: int,
    state: _State,
    data: tuple[jax.Array, ...],
    last_epoch: jax.Array,
):
    """Train ``n_epochs`` epochs from ``state``: the one compiled program of the engine.

    Returns the new state and per-epoch metrics of shape (n_epochs, 4) holding
    (train loss, test loss, train acc, test acc); rows of epochs that are not evaluated
    hold nan.
    """
    X_train, y_train, X_test, y_test = data
    n = X_train.shape[0]

    def loss_fn(params, X, y, w=None):
        return cross_entropy(apply_fn(params, X), y, w)

    grad_fn = jax.value_and_grad(loss_fn)

    def step(params, opt_state, X, y, w=None):
        loss, grads = grad_fn(params, X, y, w)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    def evaluate(params):
        train_logits = apply_fn(params, X_train)
        test_logits = apply_fn(params, X_test)
        return jnp.stack(
            [
                cross_entropy(train_logits, y_train),
                cross_entropy(test_logits, y_test),
                accuracy(train_logits, y_train),
                accuracy(test_logits, y_test),
            ]
        )

    def one_epoch(state: _State, _):
        params, opt_state, key = state.params, state.opt_state, state.key
        if batch_size is None:
            params, opt_state, loss = step(params, opt_state, X_train, y_train)
            finite = jnp.isfinite(loss)
        else:
            key, sub = jax.random.split(key)
            idx, mask = epoch_batches(sub, n, batch_size)

            def one_batch(carry, batch):
                p, s = carry
                b_idx, b_mask = batch
                p, s, loss = step(p, s, X_train[b_idx], y_train[b_idx], b_mask)
                return (p, s), loss

            (params, opt_state), losses = jax.lax.scan(one_batch, (params, opt_state), (idx, mask))
            finite = jnp.all(jnp.isfinite(losses))
        epoch = state.epoch + 1
        diverged_at = jnp.where(
            (state.diverged_at == 0) & ~finite, epoch, state.diverged_at
        ).astype(jnp.int32)
        if eval_every == 1:
            metrics = evaluate(params)
        else:
            due = (epoch % eval_every == 0) | (epoch == last_epoch)
            metrics = jax.lax.cond(
                due, evaluate, lambda p: jnp.full((4,), jnp.nan, jnp.float32), params
            )
        return _State(params, opt_state, key, epoch, diverged_at), metrics

    return jax.lax.scan(one_epoch, state, None, length=n_epochs)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _init_params(init_fn: Callable, n_features: int, seed: int | jax.Array) -> Any:
    """``init_fn(PRNGKey(seed), (-1, n_features))[1]`` as one compiled program."""
    return init_fn(jax.random.PRNGKey(seed), (-1, n_features))[1]


@functools.partial(jax.jit, static_argnums=0)
def _init_state(optimizer: optax.GradientTransformation, params: Any, seed) -> _State:
    return _State(
        params=params,
        opt_state=optimizer.init(params),
        key=jax.random.fold_in(jax.random.PRNGKey(seed), 1),
        epoch=jnp.zeros((), jnp.int32),
        diverged_at=jnp.zeros((), jnp.int32),
    )


def fit(
    network: Network,
    optimizer: optax.GradientTransformation,
    split: Split,
    config: TrainConfig = TrainConfig(),
    *,
    params: Any = None,
    chunk_epochs: int | None = None,
    callback: Callable[[int, History], None] | None = None,
) -> FitResult:
    """Train ``network`` on ``split`` with ``optimizer``.

    Parameters
    ----------
    network : Network
        ``(init, apply)`` pair, e.g. from :func:`jaxmlp.nn.mlp`; ``apply(params, X)``
        maps X of shape (n, n_features) to logits of shape (n, n_classes).
    optimizer : optax.GradientTransformation
        E.g. from :func:`jaxmlp.optim.make_optimizer`.
    split : Split
        Training and test data.
    config : TrainConfig
        Epochs, batch size, evaluation interval and seed.
    params : pytree, optional
        Start from these parameters instead of ``network.init(PRNGKey(seed), ...)``.
    chunk_epochs : int, optional
        Cut the run into calls of this many epochs (the same compiled program each
        time; at most one more for a shorter last chunk). Default: one call.
    callback : callable, optional
        ``callback(epochs_done, history_so_far)`` after each chunk, e.g. for a progress bar.

    Returns
    -------
    FitResult
        ``(params, history, opt_state)``.

    Raises
    ------
    DivergenceError
        If a training loss became nan or inf; raised at the end of the chunk in which it
        happened, so training stops there.
    """
    E = config.epochs
    n_train = split.X_train.shape[0]
    batch_size = config.batch_size
    if batch_size is not None and batch_size >= n_train:
        batch_size = None  # one batch holding every sample is full-batch training
    chunk = E if chunk_epochs is None else max(1, min(int(chunk_epochs), E))

    if params is None:
        params = _init_params(network.init, split.n_features, config.seed)
    state = _init_state(optimizer, params, config.seed)
    data = tuple(jnp.asarray(a) for a in (split.X_train, split.y_train, split.X_test, split.y_test))
    last_epoch = jnp.asarray(E, jnp.int32)

    rows: list[np.ndarray] = []
    done = 0
    while done < E:
        n = min(chunk, E - done)
        state, metrics = _train_chunk(
            network.apply, optimizer, batch_size, n, config.eval_every, state, data, last_epoch
        )
        rows.append(np.asarray(metrics))  # host sync, once per chunk
        done += n
        diverged_at = int(state.diverged_at)
        if diverged_at:
            raise DivergenceError(diverged_at)
        if callback is not None:
            callback(done, _history(np.concatenate(rows)))
    return FitResult(state.params, _history(np.concatenate(rows)), state.opt_state)


def _history(metrics: np.ndarray) -> History:
    """Keep the evaluated rows of per-epoch metrics of shape (n_epochs, 4)."""
    epoch = np.arange(1, len(metrics) + 1)
    keep = ~np.isnan(metrics[:, 2])  # accuracy is nan exactly where not evaluated
    m = metrics[keep]
    return History(epoch[keep], m[:, 0], m[:, 1], m[:, 2], m[:, 3])
