"""Networks in the tutorial's stax idiom.

Every layer is a pair of pure functions, as in ``jax.example_libraries.stax``::

    init(rng, input_shape) -> (output_shape, params)
    apply(params, inputs, **kwargs) -> outputs

Layers compose with :func:`serial`; parameters are a plain pytree (a list with one
``(W, b)`` tuple per Dense layer and ``()`` for parameter-free layers). :func:`mlp`
builds the classifier ``serial(Dense(h1), Act, ..., Dense(n_classes))`` that returns
logits of shape ``(n_samples, n_classes)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.example_libraries import stax

from jaxmlp.core import activations
from jaxmlp.core.compiled import describe

serial = stax.serial
elementwise = stax.elementwise

__all__ = [
    "ACTIVATIONS",
    "Dense",
    "Dropout",
    "Network",
    "activation_layer",
    "elementwise",
    "identity",
    "mlp",
    "n_params",
    "serial",
    "swish",
]


class Network(NamedTuple):
    """An ``(init, apply)`` pair, as returned by ``stax.serial``.

    Attributes
    ----------
    init : callable
        ``init(rng, input_shape) -> (output_shape, params)``.
    apply : callable
        ``apply(params, X) -> logits``; ``X`` has shape ``(n_samples, n_features)``,
        the logits ``(n_samples, n_classes)``.
    """

    init: Callable
    apply: Callable


# stax.Dense's initialisers: W glorot-normal, b normal with stddev 1e-2.
_GLOROT_NORMAL = jax.nn.initializers.glorot_normal()
_NORMAL_1E2 = jax.nn.initializers.normal(1e-2)


def Dense(
    out_dim: int,
    W_init: Callable = _GLOROT_NORMAL,
    b_init: Callable = _NORMAL_1E2,
) -> tuple[Callable, Callable]:
    """Fully connected layer ``x @ W + b``, initialised exactly as ``stax.Dense``.

    ``W`` has shape (in_dim, out_dim), ``b`` shape (out_dim,). Unlike ``stax.Dense`` the
    bias is broadcast explicitly, so the layer also runs under
    ``jax_numpy_rank_promotion='raise'``.
    """

    def init_fun(rng, input_shape):
        output_shape = (*input_shape[:-1], out_dim)
        k1, k2 = jax.random.split(rng)
        W, b = W_init(k1, (input_shape[-1], out_dim)), b_init(k2, (out_dim,))
        return output_shape, (W, b)

    def apply_fun(params, inputs, **kwargs):
        W, b = params
        out = jnp.dot(inputs, W)
        return out + b.reshape((1,) * (out.ndim - 1) + b.shape)

    return init_fun, apply_fun


def Dropout() -> tuple[Callable, Callable]:
    """Inverted dropout: zero each input with probability ``dropout_rate``, scale the rest
    by ``1 / (1 - dropout_rate)``.

    Active only when ``apply`` gets an ``rng`` (training); without one it is the identity
    (prediction). The rate is an ``apply`` keyword, so it can be a traced value.
    """

    def init_fun(rng, input_shape):
        return input_shape, ()

    def apply_fun(params, inputs, rng=None, dropout_rate=0.0, **kwargs):
        if rng is None:
            return inputs
        keep = 1.0 - dropout_rate
        # float32 draws in any precision: float32 and float64 fits drop the same units
        mask = jax.random.uniform(rng, inputs.shape, jnp.float32) < jnp.asarray(keep, jnp.float32)
        return jnp.where(mask, inputs / keep, jnp.zeros_like(inputs))

    return init_fun, apply_fun


def swish(x: jax.Array, beta: float = 1.0) -> jax.Array:
    """Swish activation ``x * sigmoid(beta * x)`` (Ramachandran et al., 2017).

    Parameters
    ----------
    x : jax.Array, any shape
    beta : float
        Slope of the gate; ``beta=1`` is SiLU, as in the tutorial.

    Returns
    -------
    jax.Array, same shape as ``x``
    """
    return x * jax.nn.sigmoid(beta * x)


def identity(x: jax.Array) -> jax.Array:
    """The identity ``f(x) = x`` (a linear hidden layer)."""
    return x


# Name -> elementwise function, from the one activation table (jaxmlp.core.activations).
# 'logistic' is scikit-learn's name for the sigmoid.
ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    name: activations.resolve(name) for name in activations.names()
}


def activation_layer(activation: str | Callable, beta: float = 1.0) -> tuple[Callable, Callable]:
    """Turn an activation name or function into a stax layer.

    Parameters
    ----------
    activation : str or callable
        One of :data:`ACTIVATIONS` or any function ``f(x) -> y`` applied elementwise.
    beta : float
        Only for ``'swish'``: the gate slope.

    Returns
    -------
    (init, apply) : stax layer without parameters.
    """
    if callable(activation):
        return elementwise(activation)
    activations.check_activation(activation)
    if activation == "swish":
        return _swish_layer(beta)
    return elementwise(ACTIVATIONS[activation])


def _swish_layer(beta: float) -> tuple[Callable, Callable]:
    """Swish as a stax layer; ``apply(..., swish_beta=b)`` overrides the slope with a
    (possibly traced) value, so many models with different slopes share one program."""

    def init_fun(rng, input_shape):
        return input_shape, ()

    def apply_fun(params, inputs, swish_beta=None, **kwargs):
        return swish(inputs, beta if swish_beta is None else swish_beta)

    return init_fun, apply_fun


def mlp(
    hidden: tuple[int, ...] | list[int] = (64,),
    activation: str | Callable = "swish",
    n_classes: int = 2,
    beta: float = 1.0,
    *,
    dropout: bool = False,
    n_outputs: int | None = None,
) -> Network:
    """Build the classifier ``serial(Dense(h1), Act, ..., Dense(n_classes))``.

    Equal arguments return the very same :class:`Network`, so jit-compiled training
    programs keyed on it are reused rather than recompiled.

    Parameters
    ----------
    hidden : tuple of int
        Width of each hidden layer, e.g. ``(64,)`` for the tutorial's network.
    activation : str or callable
        Hidden-layer activation; see :func:`activation_layer`.
    n_classes : int
        Number of output logits (>= 2).
    beta : float
        Swish gate slope (ignored by other activations).
    dropout : bool
        Put a :func:`Dropout` layer after every hidden activation.
    n_outputs : int, optional
        Width of the output layer when it is not one logit per class, e.g. 1 for a
        binary classifier with a logistic output (scikit-learn's layout).

    Returns
    -------
    Network
        ``init(rng, (-1, n_features))`` gives params; ``apply(params, X)`` gives logits of
        shape ``(n_samples, n_classes)``.
    """
    hidden = tuple(hidden)
    for i, h in enumerate(hidden):
        if isinstance(h, bool) or not isinstance(h, int) or h <= 0:
            raise ValueError(
                f"hidden[{i}] must be a positive integer layer width, got {h!r}; "
                "e.g. hidden=(64,) or hidden=(32, 32)."
            )
    if n_outputs is None:
        if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
            raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}.")
        n_outputs = n_classes
    elif isinstance(n_outputs, bool) or not isinstance(n_outputs, int) or n_outputs < 1:
        raise ValueError(f"n_outputs must be a positive integer, got {n_outputs!r}.")
    return _build_mlp(hidden, activation, n_outputs, float(beta), bool(dropout))


@functools.lru_cache(maxsize=256)
def _build_mlp(
    hidden: tuple[int, ...], activation, n_outputs: int, beta: float, dropout: bool
) -> Network:
    act = activation_layer(activation, beta=beta)
    layers = []
    for h in hidden:
        layers += [Dense(h), act, Dropout()] if dropout else [Dense(h), act]
    layers.append(Dense(n_outputs))
    net = Network(*serial(*layers))
    if isinstance(activation, str):  # a stable description (see jaxmlp.core.compiled)
        describe(net.apply, ("mlp", hidden, activation, n_outputs, beta, dropout))
    return net


def n_params(params) -> int:
    """Number of scalar parameters in a params pytree."""
    return int(sum(leaf.size for leaf in jax.tree_util.tree_leaves(params)))
