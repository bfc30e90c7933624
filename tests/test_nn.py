"""Layers and networks: the stax contract, activations, init identical to stax."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.example_libraries import stax

from jaxmlp.core.nn import ACTIVATIONS, Dense, activation_layer, elementwise, mlp, n_params, swish


def test_dense_init_is_stax_dense_init():
    key = jax.random.PRNGKey(7)
    shape_ours, (W, b) = Dense(5)[0](key, (-1, 3))
    shape_stax, (Ws, bs) = stax.Dense(5)[0](key, (-1, 3))
    assert shape_ours == shape_stax == (-1, 5)
    np.testing.assert_array_equal(W, Ws)
    np.testing.assert_array_equal(b, bs)


def test_dense_apply_is_affine():
    W = jnp.arange(6.0).reshape(3, 2)
    b = jnp.array([1.0, -1.0])
    x = jnp.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(Dense(2)[1]((W, b), x), np.array([[17.0, 21.0]]))


def test_tutorial_network_shapes_and_params():
    net = mlp((64,), "swish", 2)
    out_shape, params = net.init(jax.random.PRNGKey(0), (-1, 2))
    assert out_shape == (-1, 2)
    assert [tuple(p.shape) for layer in params for p in layer] == [(2, 64), (64,), (64, 2), (2,)]
    assert n_params(params) == 2 * 64 + 64 + 64 * 2 + 2
    assert net.apply(params, jnp.zeros((5, 2))).shape == (5, 2)


def test_network_equals_hand_written_forward():
    net = mlp((4, 3), "tanh", 3)
    _, params = net.init(jax.random.PRNGKey(1), (-1, 2))
    x = np.random.RandomState(0).normal(size=(6, 2)).astype(np.float32)
    (W1, b1), _, (W2, b2), _, (W3, b3) = jax.tree_util.tree_map(np.asarray, params)
    expected = np.tanh(np.tanh(x @ W1 + b1) @ W2 + b2) @ W3 + b3
    np.testing.assert_allclose(net.apply(params, x), expected, rtol=1e-5, atol=1e-6)


def test_equal_specs_share_one_network():
    assert mlp((64,), "swish", 2) is mlp([64], "swish", 2)
    assert mlp((64,), "swish", 2) is not mlp((64,), "relu", 2)


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("swish", lambda x: x / (1 + np.exp(-x))),
        ("relu", lambda x: np.maximum(x, 0)),
        ("tanh", np.tanh),
        ("logistic", lambda x: 1 / (1 + np.exp(-x))),
        ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
        ("gelu", lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))),
        ("identity", lambda x: x),
    ],
)
def test_activation_values(name, reference):
    x = np.linspace(-5, 5, 41, dtype=np.float32)
    _, apply = activation_layer(name)
    np.testing.assert_allclose(apply((), x), reference(x), rtol=1e-5, atol=1e-6)
    assert set(ACTIVATIONS) >= {name}


def test_swish_beta():
    x = np.linspace(-5, 5, 11, dtype=np.float32)
    np.testing.assert_allclose(swish(x, 2.0), x / (1 + np.exp(-2 * x)), rtol=1e-5, atol=1e-6)
    _, apply = activation_layer("swish", beta=2.0)
    np.testing.assert_allclose(apply((), x), swish(x, 2.0))


def test_user_function_as_activation():
    net = mlp((3,), jax.nn.softplus, 2)
    _, params = net.init(jax.random.PRNGKey(0), (-1, 2))
    (W1, b1), _, (W2, b2) = jax.tree_util.tree_map(np.asarray, params)
    x = np.ones((2, 2), np.float32)
    expected = np.log1p(np.exp(x @ W1 + b1)) @ W2 + b2
    np.testing.assert_allclose(net.apply(params, x), expected, rtol=1e-5)
    assert elementwise(jnp.abs)[1]((), -x).min() == 1


def test_swish_gradient_matches_finite_differences():
    x = np.linspace(-4, 4, 9)
    eps = 1e-3
    grad = jax.vmap(jax.grad(lambda v: swish(v)))(jnp.asarray(x, jnp.float32))
    fd = (np.asarray(swish(x + eps)) - np.asarray(swish(x - eps))) / (2 * eps)
    np.testing.assert_allclose(grad, fd, atol=2e-3)


@pytest.mark.parametrize("bad", ["swishy", "", "ReLU"])
def test_unknown_activation_lists_valid_names(bad):
    with pytest.raises(ValueError, match=r"Unknown activation .*'swish', 'relu', 'tanh'"):
        mlp((4,), bad, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden": (0,)}, r"hidden\[0\] must be a positive integer"),
        ({"hidden": (4, -1)}, r"hidden\[1\] must be a positive integer"),
        ({"hidden": (2.5,)}, r"hidden\[0\] must be a positive integer"),
        ({"n_classes": 1}, "n_classes must be an integer >= 2"),
    ],
)
def test_mlp_rejects_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mlp(**kwargs)
