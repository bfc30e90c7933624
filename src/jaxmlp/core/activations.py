"""The one table of activation functions.

Every place that knows activation names reads :data:`REGISTRY`: the stax layers
(:func:`jaxmlp.core.nn.activation_layer`), ``MLPClassifier``'s parameter validation and
initialisation, the CLI's choices and help texts, and the scikit-learn baselines. A new
activation is one line here (its tests then run it in the demo, the estimator and the
sweep).

The functions are named by import path and resolved on first use, so this module -- and
``jaxmlp --help``, which lists the names -- does not import JAX.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from collections.abc import Callable

__all__ = ["REGISTRY", "Activation", "check_activation", "names", "resolve"]


@dataclasses.dataclass(frozen=True)
class Activation:
    """One activation function.

    Attributes
    ----------
    name : str
        What users write (``activation='relu'``, ``--activation relu``).
    function : str
        ``'module:attribute'`` of the elementwise ``f(x) -> y`` (x: any shape).
    glorot_factor : float
        scikit-learn's initialisation: weights uniform in ``+-sqrt(factor / (fan_in +
        fan_out))``; 2 for the sigmoid, 6 for everything else.
    sklearn : str or None
        scikit-learn's name for the same function (for baselines), None if it has none.
    description : str
        One line for help texts.
    """

    name: str
    function: str
    glorot_factor: float
    sklearn: str | None
    description: str


REGISTRY: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("swish", "jaxmlp.core.nn:swish", 6.0, None, "x * sigmoid(beta x)"),
        Activation("relu", "jax.nn:relu", 6.0, "relu", "max(x, 0)"),
        Activation("tanh", "jax.numpy:tanh", 6.0, "tanh", "tanh(x)"),
        Activation("logistic", "jax.nn:sigmoid", 2.0, "logistic", "sigmoid (scikit-learn's name)"),
        Activation("sigmoid", "jax.nn:sigmoid", 2.0, "logistic", "1 / (1 + exp(-x))"),
        Activation("gelu", "jax.nn:gelu", 6.0, None, "Gaussian error linear unit"),
        Activation("identity", "jaxmlp.core.nn:identity", 6.0, "identity", "x (linear)"),
    )
}  # fmt: skip


def names() -> tuple[str, ...]:
    """Every activation name, in table order."""
    return tuple(REGISTRY)


def check_activation(name: object) -> Activation:
    """The table entry of ``name``; an unknown name is a ValueError listing the valid ones."""
    if not isinstance(name, str) or name not in REGISTRY:
        valid = ", ".join(repr(a) for a in REGISTRY)
        raise ValueError(
            f"Unknown activation {name!r}. Valid activations: {valid}, "
            "or any function f(x) -> y, e.g. activation=jax.nn.softplus."
        )
    return REGISTRY[name]


@functools.cache
def resolve(name: str) -> Callable:
    """The function ``f(x) -> y`` of activation ``name`` (imports JAX on first use)."""
    module, attribute = check_activation(name).function.split(":")
    fn: Callable = getattr(importlib.import_module(module), attribute)
    return fn
