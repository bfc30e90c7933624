"""scikit-learn's MLP solvers, a thin layer over the optimizer table
(:mod:`jaxmlp.core.optimizers`).

Each solver is a factory ``hyper -> optax transformation`` called inside the compiled
program (numbers traced, so a grid over learning rates or momenta reuses one program):

- ``'adam'``: scikit-learn's ``AdamOptimizer`` exactly: optax's moment updates and
  ``ScaleByAdamState``, with epsilon where scikit-learn puts it --
  ``lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)``, i.e. added to
  the *uncorrected* ``sqrt(v)``; ``optax.adam`` adds it after the bias correction, which
  on small gradients (a regression target's, a dead unit's) moves weights by up to 1e-2
  over 40 epochs.
- ``'sgd'``: scikit-learn's ``SGDOptimizer``, which differs from the table's
  momentum/nesterov in one respect: ``v = momentum * v - lr * g``, then ``w += v`` (or
  ``w += momentum * v - lr * g`` with Nesterov), i.e. the learning rate is applied
  *before* the momentum trace, so a learning rate changed by the 'invscaling' or
  'adaptive' schedule leaves earlier velocity untouched, exactly as scikit-learn does.
  Built from optax's own pieces (``scale_by_learning_rate`` then ``trace``).
- ``'lbfgs'`` is not an optax transformation here: scipy's L-BFGS-B drives the engine's
  compiled objective, as scikit-learn drives its own (:mod:`jaxmlp.sklearn.lbfgs`).

The schedules themselves ('invscaling', 'adaptive') run in the engine's loop
(``Program.schedule``), on the injected learning rate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import optax

from jaxmlp.core.compiled import describe

__all__ = ["solver"]


def _sklearn_sgd(learning_rate, momentum, nesterov: bool) -> optax.GradientTransformation:
    return optax.chain(
        optax.scale_by_learning_rate(learning_rate),
        optax.trace(decay=momentum, nesterov=nesterov),
    )


@functools.lru_cache(maxsize=2)
def _sgd(nesterov: bool) -> Callable:
    def make(hyper: Any) -> optax.GradientTransformation:
        return optax.inject_hyperparams(_sklearn_sgd, static_args=("nesterov",))(
            learning_rate=hyper.learning_rate, momentum=hyper.momentum, nesterov=nesterov
        )

    return describe(make, ("sklearn-sgd", nesterov))


def _scale_by_sklearn_adam(b1, b2, eps) -> optax.GradientTransformation:
    """scikit-learn's Adam direction (see the module docstring), without the rate."""
    import jax
    import jax.numpy as jnp
    from optax import tree_utils as tu

    def init(params: Any) -> optax.ScaleByAdamState:
        zeros = tu.tree_zeros_like(params)
        return optax.ScaleByAdamState(count=jnp.zeros([], jnp.int32), mu=zeros, nu=zeros)

    def update(grads: Any, state: optax.ScaleByAdamState, params: Any = None):
        mu = tu.tree_update_moment(grads, state.mu, b1, 1)
        nu = tu.tree_update_moment_per_elem_norm(grads, state.nu, b2, 2)
        count = optax.safe_int32_increment(state.count)

        def step(m: jax.Array, v: jax.Array) -> jax.Array:
            t = count.astype(m.dtype)
            return jnp.sqrt(1 - b2**t) / (1 - b1**t) * m / (jnp.sqrt(v) + eps)

        return jax.tree.map(step, mu, nu), optax.ScaleByAdamState(count, mu, nu)

    return optax.GradientTransformation(init, update)


def _sklearn_adam_make(hyper: Any) -> optax.GradientTransformation:
    return optax.chain(_scale_by_sklearn_adam(hyper.beta_1, hyper.beta_2, hyper.epsilon),
                       optax.scale_by_learning_rate(hyper.learning_rate))  # fmt: skip


_ADAM = describe(_sklearn_adam_make, ("sklearn-adam",))


def solver(name: str, nesterov: bool = True) -> Callable[[Any], optax.GradientTransformation]:
    """The factory of scikit-learn's stochastic solver ``name`` ('sgd' or 'adam')."""
    if name == "sgd":
        return _sgd(bool(nesterov))
    if name == "adam":
        return _ADAM
    raise ValueError(f"Unknown stochastic solver {name!r}. Valid: 'sgd', 'adam'.")
