"""scikit-learn's MLP solvers, a thin layer over the optimizer table
(:mod:`jaxmlp.core.optimizers`).

Each solver is a factory ``hyper -> optax transformation`` called inside the compiled
program (numbers traced, so a grid over learning rates or momenta reuses one program):

- ``'adam'``: the table's ``adam`` (``optax.adam`` with ``beta_1``, ``beta_2``,
  ``epsilon``; scikit-learn puts epsilon outside the bias correction, a difference of
  order epsilon).
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
from jaxmlp.core.optimizers import factory

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


def solver(name: str, nesterov: bool = True) -> Callable[[Any], optax.GradientTransformation]:
    """The factory of scikit-learn's stochastic solver ``name`` ('sgd' or 'adam')."""
    if name == "sgd":
        return _sgd(bool(nesterov))
    if name == "adam":
        return factory("adam")
    raise ValueError(f"Unknown stochastic solver {name!r}. Valid: 'sgd', 'adam'.")
