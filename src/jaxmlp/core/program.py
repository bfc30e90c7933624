"""What a training run is made of: the compiled :class:`Program`, its traced :class:`Hyper`
numbers, the padded :class:`Data` and the :class:`State` carried from epoch to epoch.

The engine's contract: what changes compiled code is a hashable, frozen
:class:`Program` (network, loss kind, optimizer factory, batch slot size, stopping rule
...); every number that may vary between fits (learning rate, ``alpha``, momentum,
tolerances, dropout rate) is a traced :class:`Hyper` value, and the number of real rows
is data: rows padded with zero weight fill a fixed-size buffer (:func:`bucket`), so fits
on data of similar size reuse one program.

Randomness: ``PRNGKey(seed)`` initialises the parameters (as the tutorial does with
``PRNGKey(0)``); shuffling and dropout draw from ``fold_in(PRNGKey(seed), 1)``, split once
per epoch. The same seed gives bitwise-identical results in every process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.typing import ArrayLike

__all__ = [
    "Data",
    "DivergenceError",
    "HostData",
    "Hyper",
    "Program",
    "State",
    "bucket",
    "constant_optimizer",
    "feature_bucket",
    "init_state",
    "initial_state",
    "make_data",
    "optax_promotion",
    "precision",
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
        Output kind, see :mod:`jaxmlp.core.losses`.
    batch : int or None
        Mini-batch slot size ``B`` (the real batch is ``min(B, n)``); ``None``: one
        full-batch step per epoch.
    shuffle : bool
        Reshuffle the samples every epoch (mini-batch only).
    schedule : {'constant', 'invscaling', 'adaptive'}
        scikit-learn's learning-rate schedules; the others need an optimizer made with
        ``optax.inject_hyperparams`` (its ``learning_rate`` is changed once per epoch).
    stopping : {'none', 'loss', 'validation', 'validation_loss'}
        Stop when the training loss (or the score -- accuracy, R² -- on evaluation set 0,
        or its loss) did not improve by ``tol`` for more than ``n_iter_no_change`` epochs,
        as scikit-learn does ('validation_loss' is not scikit-learn's: it stops on the
        held-out loss, and ``best_score`` is then the score at the best loss).
    keep_best : bool
        Keep the parameters of the best validation score (or loss) (with a
        ``stopping='validation'`` or ``'validation_loss'``).
    n_evals : int
        Number of evaluation sets; each gives a weighted loss and accuracy.
    eval_every : int
        Evaluate every this many epochs (and after the last one).
    l2 : bool
        Add scikit-learn's penalty ``alpha/2 * sum ||W||^2 / sum(weights)`` to the loss.
    l1 : bool
        Add ``alpha * sum |W| / sum(weights)`` instead (the playground's L1; with ``l2``
        too, both terms use ``alpha``).
    dropout : bool
        Pass a fresh ``rng`` and ``dropout_rate`` to ``apply`` in every step.
    chunk : int
        Epochs per call of the compiled program (length of the metric buffers).
    swish_beta : bool
        Pass ``hyper.swish_beta`` to ``apply`` (the swish slope as a traced value).
    train_eval : bool
        Evaluation set 0 is the training data itself. In full-batch training (no dropout,
        metrics every epoch) its metrics then come from the next epoch's gradient pass --
        the parameters after epoch ``e`` are those epoch ``e + 1`` starts from -- which
        saves one forward pass over the training rows per epoch.
    mesh : jax.sharding.Mesh, optional
        Train data-parallel: rows split over the mesh's ``"batch"`` axis, parameters and
        optimizer state replicated (:mod:`jaxmlp.core.sharding`). None: one device.
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
    l1: bool = False
    dropout: bool = False
    chunk: int = 256
    swish_beta: bool = False
    train_eval: bool = False
    mesh: Any = None

    def __post_init__(self) -> None:
        if self.stopping.startswith("validation") and (self.n_evals < 1 or self.eval_every != 1):
            raise ValueError("stopping='validation' needs evaluation set 0 every epoch")


class Hyper(NamedTuple):
    """Numbers that may change between fits without recompiling (all traced)."""

    learning_rate: ArrayLike = 1e-3
    alpha: ArrayLike = 0.0
    momentum: ArrayLike = 0.9
    beta_1: ArrayLike = 0.9
    beta_2: ArrayLike = 0.999
    epsilon: ArrayLike = 1e-8
    power_t: ArrayLike = 0.5
    tol: ArrayLike = 1e-4
    n_iter_no_change: ArrayLike = 10.0
    dropout: ArrayLike = 0.0
    swish_beta: ArrayLike = 1.0
    weight_decay: ArrayLike = 1e-4  # AdamW's decoupled weight decay
    rms_decay: ArrayLike = 0.9  # RMSProp's decay of the squared-gradient average


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
    return _init_state_jit(program.optimizer, program.keep_best, hyper, params, seed, opt_state)


def initial_state(optimizer: Callable, keep_best: bool, hyper: Hyper, params: Any, seed: Any,
                  opt_state: Any = None) -> State:  # fmt: skip
    """:func:`init_state` as a traceable function of the optimizer factory (to vmap)."""
    if opt_state is None:
        with optax_promotion():
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
    )


_init_state_jit = jax.jit(initial_state, static_argnums=(0, 1))


def bucket(n: int) -> int:
    """Padded row count for ``n`` rows.

    Up to 4096 rows the next power of two (at least 8): small fits are dominated by
    compilation, so fewer distinct shapes matter most. Above, the smallest 2^k or
    3 * 2^(k-1) >= n, which wastes at most a third of the rows.
    """
    size = 8
    while size < n:
        small = size < 4096 or size & (size - 1)
        size = size * 2 if size < 4096 else (size * 3 // 2 if not small else size * 4 // 3)
    return size


def feature_bucket(n_features: int) -> int:
    """Padded feature count: the next power of two (at least 8) up to 64 features, else
    ``n_features``. Padded input columns are zero and their weights start at zero, so
    their gradients are zero and they stay zero: the model is unchanged."""
    if n_features > 64:
        return n_features
    size = 8
    while size < n_features:
        size *= 2
    return size


def precision(dtype: Any):
    """Train and predict in the input's precision, as scikit-learn does: float64 runs
    with ``jax.enable_x64`` (for this call only), float32 in float32."""
    return jax.enable_x64(True) if np.dtype(dtype) == np.float64 else contextlib.nullcontext()


def optax_promotion():
    """Optimizers run with JAX's standard dtype promotion: optax's Adam computes
    ``b1 ** count`` (float ** int32), which a user's ``jax_numpy_dtype_promotion='strict'``
    would refuse. Our own code stays under whatever the user (or the tests) set."""
    return jax.numpy_dtype_promotion("standard")
