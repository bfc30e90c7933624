"""scikit-learn's MLP solvers as optax transformations, with traced hyperparameters.

Each factory maps a :class:`jaxmlp.engine.Hyper` to an optax transformation inside the
compiled program, so a grid over learning rates or momenta reuses one program. The
factories are module-level (or cached) objects: a :class:`~jaxmlp.engine.Program` that
holds them hashes the same across fits.

- ``sgd``: scikit-learn's ``SGDOptimizer``: ``v = momentum * v - lr * g``, then
  ``w += v`` (or ``w += momentum * v - lr * g`` with Nesterov), i.e. the learning rate is
  applied *before* the momentum trace, so a learning rate changed by the 'invscaling' or
  'adaptive' schedule leaves earlier velocity untouched, exactly as scikit-learn does.
- ``adam``: ``optax.adam`` (scikit-learn puts epsilon outside the bias correction; the
  difference is of order epsilon).
- ``lbfgs``: ``optax.lbfgs`` with its zoom line search (memory 10, scipy's default).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import optax

__all__ = ["adam", "lbfgs", "sgd"]


def _sklearn_sgd(learning_rate, momentum, nesterov: bool) -> optax.GradientTransformation:
    return optax.chain(
        optax.scale_by_learning_rate(learning_rate),
        optax.trace(decay=momentum, nesterov=nesterov),
    )


@functools.lru_cache(maxsize=2)
def sgd(nesterov: bool) -> Callable:
    """Factory ``hyper -> sgd transformation`` (``learning_rate`` injected, so schedules
    can change it every epoch)."""

    def factory(hyper) -> optax.GradientTransformation:
        return optax.inject_hyperparams(_sklearn_sgd, static_args=("nesterov",))(
            learning_rate=hyper.learning_rate, momentum=hyper.momentum, nesterov=nesterov
        )

    factory._jaxmlp_spec = ("sklearn-sgd", nesterov)
    return factory


def adam(hyper) -> optax.GradientTransformation:
    """Factory ``hyper -> optax.adam`` with scikit-learn's ``beta_1``, ``beta_2``,
    ``epsilon``."""
    return optax.inject_hyperparams(optax.adam)(
        learning_rate=hyper.learning_rate, b1=hyper.beta_1, b2=hyper.beta_2, eps=hyper.epsilon
    )


def lbfgs(hyper) -> optax.GradientTransformation:
    """Factory ``hyper -> optax.lbfgs`` (step sizes from the zoom line search)."""
    return optax.lbfgs()


# stable descriptions of the factories (see jaxmlp.exported)
adam._jaxmlp_spec = ("adam",)
lbfgs._jaxmlp_spec = ("lbfgs",)
