"""The tutorial-level training API: :func:`fit` a network on a :class:`~jaxmlp.data.Split`
for a fixed number of epochs, recording train/test loss and accuracy after every epoch.

It is the engine's program (:mod:`jaxmlp.core.loop`) with two evaluation sets (train and
test) and an optimizer from the optimizer table (:mod:`jaxmlp.core.optimizers`) -- by
name, its numbers traced, so a new learning rate compiles nothing -- or any optax
transformation. ``jaxmlp demo`` and the tutorial notebook use it;
:func:`jaxmlp.fit_many` trains many such fits at once.
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

from jaxmlp.core import optimizers
from jaxmlp.core.loop import RunResult, train
from jaxmlp.core.losses import per_sample_loss
from jaxmlp.core.nn import Network
from jaxmlp.core.program import Hyper, Program, constant_optimizer, init_state, make_data
from jaxmlp.core.sharding import data_mesh
from jaxmlp.core.validation import check_positive, check_positive_int, check_rate
from jaxmlp.data import Split

__all__ = [
    "FitResult",
    "History",
    "TrainConfig",
    "accuracy",
    "cross_entropy",
    "fit",
    "history",
    "init_params",
    "optimizer_hyper",
    "tutorial_program",
]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How long and how to train with :func:`fit`.

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
    loss : {'softmax', 'squared'}
        'softmax': classification, the split's targets are class indices (the tutorial).
        'squared': regression, the targets are real values of shape (n,) or (n, k), the
        loss is half the squared error (scikit-learn's ``MLPRegressor`` scaling) and the
        history's accuracy columns hold R².
    """

    epochs: int = 250
    batch_size: int | None = None
    eval_every: int = 1
    seed: int = 0
    loss: str = "softmax"

    def __post_init__(self) -> None:
        for name in ("epochs", "eval_every"):
            check_positive_int(name, getattr(self, name))
        bs = self.batch_size
        if bs is not None and (isinstance(bs, bool) or not isinstance(bs, int) or bs <= 0):
            raise ValueError(
                f"batch_size must be a positive integer or None (full batch), got {bs!r}."
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"seed must be an integer, got {self.seed!r}.")
        if self.loss not in ("softmax", "squared"):
            raise ValueError(
                f"loss must be 'softmax' (classification) or 'squared' (regression), got "
                f"{self.loss!r}."
            )

    def targets(self, y: Any) -> np.ndarray:
        """The engine's targets of a split's ``y``: class indices (n,) as they are, or
        real values as a float32 column block (n, k) for ``loss='squared'``."""
        if self.loss == "softmax":
            return np.asarray(y)
        y = np.asarray(y, np.float32)
        return y.reshape(y.shape[0], -1)


class History(NamedTuple):
    """Metrics recorded during training, one row per evaluated epoch.

    Attributes
    ----------
    epoch : ndarray of shape (n_evals,), int
        1-based epoch after whose update the row was measured.
    train_loss, test_loss : ndarray of shape (n_evals,), float32
        Mean cross-entropy (half squared error for ``loss='squared'``) on the training /
        test set.
    train_acc, test_acc : ndarray of shape (n_evals,), float32
        Accuracy on the training / test set, in [0, 1] (R² for ``loss='squared'``).
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


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean cross-entropy of ``log_softmax(logits)`` at the true labels; logits of shape
    (n, n_classes), labels (n,) int. Returns a scalar."""
    return jnp.mean(per_sample_loss("softmax", logits, labels))


def accuracy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean of ``argmax(logits) == labels``; logits (n, n_classes), labels (n,)."""
    return jnp.mean(jnp.argmax(logits, axis=1).astype(labels.dtype) == labels)


@functools.partial(jax.jit, static_argnums=(0, 1))
def init_params(init_fn: Callable, n_features: int, seed: int | jax.Array) -> Any:
    """``init_fn(PRNGKey(seed), (-1, n_features))[1]`` as one compiled program."""
    return init_fn(jax.random.PRNGKey(seed), (-1, n_features))[1]


def optimizer_hyper(learning_rate: Any = 0.05, momentum: Any = 0.9, b1: Any = 0.9,
                    b2: Any = 0.999, **numbers: Any) -> Hyper:  # fmt: skip
    """The :class:`~jaxmlp.core.program.Hyper` of a named optimizer's numbers (checked)."""
    check_positive("learning_rate", learning_rate, "0.01")
    for name, value in (("momentum", momentum), ("b1", b1), ("b2", b2)):
        check_rate(name, value, "0.9")
    return Hyper(learning_rate=learning_rate, momentum=momentum, beta_1=b1, beta_2=b2,
                 **numbers)  # fmt: skip


def _steps_per_epoch(config: TrainConfig, n_train: int) -> int:
    return 1 if config.batch_size is None else -(-n_train // min(config.batch_size, n_train))


def fit(
    network: Network,
    optimizer: str | optax.GradientTransformation,
    split: Split,
    config: TrainConfig = TrainConfig(),
    *,
    learning_rate: float | None = None,
    momentum: float | None = None,
    b1: float | None = None,
    b2: float | None = None,
    schedule: str = "constant",
    decay_rate: float = 0.1,
    params: Any = None,
    alpha: float = 0.0,
    dropout: float = 0.0,
    sample_weight: Any = None,
    chunk_epochs: int | None = None,
    callback: Callable[[int, History], None] | None = None,
    devices: int | Any = None,
) -> FitResult:
    """Train ``network`` on ``split`` with ``optimizer`` for ``config.epochs`` epochs.

    Parameters
    ----------
    network : Network
        ``(init, apply)`` pair, e.g. from :func:`jaxmlp.mlp`; ``apply(params, X)``
        maps X of shape (n, n_features) to logits of shape (n, n_classes).
    optimizer : str or optax.GradientTransformation
        A name of :data:`jaxmlp.OPTIMIZERS` ('momentum', 'adam', ...), whose numbers
        (``learning_rate``, ``momentum``, ``b1``, ``b2``) are then traced: another value
        reuses the compiled program. Or any optax transformation, e.g. from
        :func:`jaxmlp.make_optimizer` (its numbers are fixed in the program).
    split : Split
        Training and test data.
    config : TrainConfig
        Epochs, batch size, evaluation interval and seed.
    learning_rate, momentum, b1, b2 : float, optional
        A named optimizer's numbers (defaults 0.05, 0.9, 0.9, 0.999, as
        :func:`jaxmlp.make_optimizer`); not with an optax transformation.
    schedule : {'constant', 'exponential', 'cosine'}
        A named optimizer's learning-rate schedule, decaying over all ``config.epochs``.
    decay_rate : float
        Factor the exponential schedule reaches at the end.
    params : pytree, optional
        Start from these parameters instead of ``network.init(PRNGKey(seed), ...)``.
    alpha : float
        L2 penalty ``alpha/2 * sum ||W||^2 / n_train`` added to the loss (scikit-learn's
        scaling); 0 (the tutorial) adds nothing.
    dropout : float
        Dropout rate in [0, 1) of a network built with ``mlp(..., dropout=True)``.
    sample_weight : array of shape (n_train,), optional
        Weight of each training row in the loss and the training metrics (0 masks a row
        out; counts give a bootstrap resample). Masked rows still fill mini-batch slots.
    chunk_epochs : int, optional
        Cut the run into calls of this many epochs (the same compiled program each
        time). Default: one call.
    callback : callable, optional
        ``callback(epochs_done, history_so_far)`` after each chunk, e.g. for a progress bar.
    devices : int or list of jax devices, optional
        Train data-parallel over these devices (a count takes the first of
        ``jax.devices()``): rows split over them, parameters replicated, the same result to
        float rounding (see :mod:`jaxmlp.core.sharding`). None: one device.

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
    check_rate("dropout", dropout, "0.1")
    numbers = {"learning_rate": learning_rate, "momentum": momentum, "b1": b1, "b2": b2}
    given = {k: v for k, v in numbers.items() if v is not None}
    if isinstance(optimizer, str):
        steps = config.epochs * _steps_per_epoch(config, split.X_train.shape[0])
        factory = optimizers.factory(
            optimizer, schedule, None if schedule == "constant" else steps, decay_rate
        )
        hyper = optimizer_hyper(**given, alpha=float(alpha), dropout=float(dropout))
    elif given or schedule != "constant":
        raise TypeError(
            f"{', '.join(given) or 'schedule'} set a named optimizer's numbers; an optax "
            "transformation has its own. Pass optimizer by name, e.g. "
            "fit(net, 'momentum', split, learning_rate=0.05)."
        )
    else:
        factory = constant_optimizer(optimizer)
        hyper = Hyper(alpha=float(alpha), dropout=float(dropout))
    program = tutorial_program(network, factory, split, config, alpha != 0, dropout > 0,
                               False, chunk_epochs)  # fmt: skip
    program = dataclasses.replace(program, mesh=data_mesh(devices))
    if params is None:
        params = init_params(network.init, split.n_features, config.seed)
    state = init_state(program, hyper, params, config.seed)
    train_data = make_data(split.X_train, config.targets(split.y_train), sample_weight)
    evals = (train_data, make_data(split.X_test, config.targets(split.y_test)))

    def on_chunk(done: int, result: RunResult) -> None:
        if callback is not None:
            callback(done, history(result.metrics))

    result = train(program, hyper, state, train_data, evals, max_epochs=config.epochs,
                   callback=None if callback is None else on_chunk)  # fmt: skip
    return FitResult(result.state.params, history(result.metrics), result.state.opt_state)


def tutorial_program(network: Network, optimizer: Callable, split: Split, config: TrainConfig,
                     l2: bool, dropout: bool, swish_beta: bool,
                     chunk_epochs: int | None) -> Program:  # fmt: skip
    """The program of :func:`fit` (and of each :func:`jaxmlp.fit_many` model): the
    config's loss, evaluation sets train (0) and test (1)."""
    E = config.epochs
    batch = config.batch_size
    if batch is not None and batch >= split.X_train.shape[0]:
        batch = None  # one batch holding every sample is full-batch training
    return Program(
        apply=network.apply,
        optimizer=optimizer,
        loss=config.loss,
        batch=batch,
        n_evals=2,
        eval_every=config.eval_every,
        l2=l2,
        dropout=dropout,
        swish_beta=swish_beta,
        train_eval=True,  # evaluation set 0 is the training data
        chunk=E if chunk_epochs is None else max(1, min(int(chunk_epochs), E)),
    )


def history(metrics: np.ndarray) -> History:
    """History of the evaluated rows of ``metrics`` of shape (n_epochs, 2, 2): sets
    (train, test) x (loss, accuracy)."""
    epoch = np.arange(1, len(metrics) + 1)
    keep = ~np.isnan(metrics[:, 0, 1])  # accuracy is nan exactly where not evaluated
    m = metrics[keep]
    return History(epoch[keep], m[:, 0, 0], m[:, 1, 0], m[:, 0, 1], m[:, 1, 1])
