"""Optimizer names map onto optax; the tutorial's stax momentum is optax.sgd(momentum=)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.example_libraries import optimizers

from jaxmlp.core.optimizers import OPTIMIZERS, make_optimizer, make_schedule


def _quadratic_grads(params):
    return jax.grad(lambda p: jnp.sum((p["w"] - 3.0) ** 2))(params)


def test_momentum_is_the_tutorials_stax_momentum():
    """v = 0.9 v + g; w = w - 0.05 v, step for step."""
    opt = make_optimizer("momentum", 0.05, momentum=0.9)
    init, update, get = optimizers.momentum(0.05, mass=0.9)
    params = {"w": jnp.array([1.0, -2.0, 0.5])}
    stax_state, state, p = init(params), opt.init(params), params
    for i in range(20):
        stax_state = update(i, _quadratic_grads(get(stax_state)), stax_state)
        updates, state = opt.update(_quadratic_grads(p), state, p)
        p = optax.apply_updates(p, updates)
        np.testing.assert_allclose(p["w"], get(stax_state)["w"], rtol=1e-6)


def test_sgd_is_plain_gradient_descent():
    opt = make_optimizer("sgd", 0.1)
    p = {"w": jnp.array([1.0])}
    updates, _ = opt.update(_quadratic_grads(p), opt.init(p), p)
    np.testing.assert_allclose(optax.apply_updates(p, updates)["w"], [1.0 - 0.1 * 2 * (1 - 3)])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_minimises_a_quadratic(name):
    opt = make_optimizer(name, 0.05)
    p = {"w": jnp.zeros(3)}
    state = opt.init(p)
    with jax.numpy_dtype_promotion("standard"):  # optax's Adam: float ** int32
        for _ in range(300):
            updates, state = opt.update(_quadratic_grads(p), state, p)
            p = optax.apply_updates(p, updates)
    np.testing.assert_allclose(p["w"], 3.0, atol=0.1)


def test_equal_arguments_share_one_optimizer():
    assert make_optimizer("adam", 0.01) is make_optimizer("adam", 0.01)


def test_schedules():
    assert make_schedule(0.1) == 0.1
    exp = make_schedule(0.1, "exponential", decay_steps=100, decay_rate=0.1)
    np.testing.assert_allclose([exp(0), exp(50), exp(100)], [0.1, 0.1 * 0.1**0.5, 0.01], rtol=1e-5)
    cos = make_schedule(0.1, "cosine", decay_steps=100)
    np.testing.assert_allclose([cos(0), cos(50), cos(100)], [0.1, 0.05, 0.0], atol=1e-7)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("adagrad", 0.1), {}, r"Unknown optimizer 'adagrad'. Valid optimizers: 'sgd', "),
        (("sgd", -0.1), {}, r"learning_rate must be > 0, got -0.1"),
        (("sgd", 0.0), {}, r"learning_rate must be > 0, got 0.0"),
        (("momentum", 0.1), {"momentum": 1.5}, r"momentum must be in \[0, 1\), got 1.5"),
        (("sgd", 0.1), {"schedule": "linear"}, r"Unknown schedule 'linear'. Valid schedules"),
        (("sgd", 0.1), {"schedule": "cosine"}, r"needs decay_steps > 0"),
    ],
)
def test_bad_optimizer_settings(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_optimizer(*args, **kwargs)
