"""One table per concept: every activation and every optimizer in the tables works in
every place that names it (nn, MLPClassifier, the demo, fit, fit_many, the sweep, the
CLI), against references written here; the places list exactly the table's names; and a
named optimizer's numbers are traced (a new learning rate compiles nothing)."""

from __future__ import annotations

import math
import warnings

import jax
import numpy as np
import optax
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from typer.testing import CliRunner

import jaxmlp
from jaxmlp.cli import app
from jaxmlp.cli import options as cli_options
from jaxmlp.core import activations, optimizers
from jaxmlp.workflows.demo import DemoConfig, run_demo
from jaxmlp.workflows.sweep import SweepConfig, run_sweep


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# the reference of every activation, written here (numpy, float64)
REFERENCE_ACTIVATIONS = {
    "swish": lambda x: x * _sigmoid(x),
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "logistic": _sigmoid,
    "sigmoid": _sigmoid,
    "gelu": lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    "identity": lambda x: x,
}

# the reference of every optimizer: the optax call a user would write
REFERENCE_OPTIMIZERS = {
    "sgd": lambda lr, m: optax.sgd(lr),
    "momentum": lambda lr, m: optax.sgd(lr, momentum=m),
    "nesterov": lambda lr, m: optax.sgd(lr, momentum=m, nesterov=True),
    "adam": lambda lr, m: optax.adam(lr, b1=0.9, b2=0.999, eps=1e-8),
    "adamw": lambda lr, m: optax.adamw(lr, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4),
    "rmsprop": lambda lr, m: optax.rmsprop(lr, decay=0.9, eps=1e-8),
}


def test_every_table_entry_has_a_reference_here():
    assert set(activations.REGISTRY) == set(REFERENCE_ACTIVATIONS)
    assert set(optimizers.REGISTRY) == set(REFERENCE_OPTIMIZERS)
    assert jaxmlp.OPTIMIZERS == tuple(optimizers.REGISTRY)
    assert list(jaxmlp.ACTIVATIONS) == list(activations.REGISTRY)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("name", list(activations.REGISTRY))
def test_activation_matches_its_reference(name):
    x = np.linspace(-4, 4, 81)
    with jax.enable_x64(True):
        got = np.asarray(jaxmlp.ACTIVATIONS[name](x))
    np.testing.assert_allclose(got, REFERENCE_ACTIVATIONS[name](x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(activations.REGISTRY))
def test_activation_works_in_mlpclassifier(name, iris):
    """Probabilities equal a forward pass written here with the fitted weights."""
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = jaxmlp.MLPClassifier((5,), activation=name, max_iter=5, random_state=0).fit(X, y)
    (W1, W2), (b1, b2) = est.coefs_, est.intercepts_
    logits = REFERENCE_ACTIVATIONS[name](X @ W1 + b1) @ W2 + b2
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(est.predict_proba(X), expected, rtol=1e-9, atol=1e-12)


def test_sigmoid_is_logistic_to_the_estimator(iris):
    """The alias draws scikit-learn's initial weights for the sigmoid (factor 2)."""
    X, y = iris
    a, b = (jaxmlp.MLPClassifier((4,), activation=n, max_iter=3, random_state=1)
            for n in ("logistic", "sigmoid"))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a.fit(X, y), b.fit(X, y)
    for wa, wb in zip(a.coefs_, b.coefs_, strict=True):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("name", list(activations.REGISTRY))
def test_activation_works_in_the_demo_and_the_sweep(name):
    result = run_demo(DemoConfig(activation=name, hidden=(6,), epochs=4, baseline=False))
    assert np.isfinite(result.history.train_loss).all() and len(result.history.epoch) == 4
    split = jaxmlp.make_dataset("xor", n_samples=40, noise=0.1)
    sweep = run_sweep(SweepConfig(hidden=((4,),), lr=(0.05,), alpha=(0.0,), seeds=2,
                                  activation=name, epochs=3), split)  # fmt: skip
    assert (sweep.diverged_at == 0).all() and np.isfinite(sweep.history.test_loss).all()


def test_cli_and_estimator_name_exactly_the_tables():
    assert cli_options.ACTIVATION_HELP == ", ".join(activations.REGISTRY) + "."
    assert cli_options.OPTIMIZER_HELP == ", ".join(optimizers.REGISTRY) + "."
    assert cli_options.DATASET_HELP == ", ".join(jaxmlp.DATASETS) + "."
    for name in activations.REGISTRY:
        jaxmlp.MLPClassifier(activation=name)._validate_params()
    with pytest.raises(InvalidParameterError, match="'activation'"):
        jaxmlp.MLPClassifier(activation="swishy")._validate_params()
    runner = CliRunner()
    for command in ("demo", "sweep"):
        result = runner.invoke(app, [command, "--activation", "swishy"])
        assert result.exit_code == 2 and "swish, relu, tanh, logistic, sigmoid" in result.output
        result = runner.invoke(app, [command, "--optimizer", "adagrad"])
        assert result.exit_code == 2
        assert "sgd, momentum, nesterov, adam, adamw, rmsprop" in result.output


def _reference_losses(name, split, lr, m, epochs):
    """Full-batch training written here: plain optax, the tutorial's loss."""
    net = jaxmlp.mlp((8,), "tanh", 2)
    params = net.init(jax.random.PRNGKey(0), (-1, 2))[1]
    opt = REFERENCE_OPTIMIZERS[name](lr, m)
    with jax.numpy_dtype_promotion("standard"):
        state = opt.init(params)

    rows = np.arange(len(split.y_train))

    def loss(p):
        logp = jax.nn.log_softmax(net.apply(p, split.X_train))
        return -jax.numpy.mean(logp[rows, split.y_train])

    out = []
    for _ in range(epochs):
        grads = jax.grad(loss)(params)
        with jax.numpy_dtype_promotion("standard"):  # optax's own arithmetic
            updates, state = opt.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        out.append(float(loss(params)))
    return np.array(out)


@pytest.mark.parametrize("name", list(optimizers.REGISTRY))
def test_optimizer_by_name_in_fit_and_fit_many_matches_plain_optax(name):
    split = jaxmlp.make_dataset("moons", n_samples=60, noise=0.2, seed=3)
    lr, m, epochs = 0.05, 0.8, 12
    cfg = jaxmlp.TrainConfig(epochs=epochs)
    net = jaxmlp.mlp((8,), "tanh", 2)
    by_name = jaxmlp.fit(net, name, split, cfg, learning_rate=lr, momentum=m)
    reference = _reference_losses(name, split, lr, m, epochs)
    np.testing.assert_allclose(by_name.history.train_loss, reference, rtol=2e-5)
    as_object = jaxmlp.fit(net, jaxmlp.make_optimizer(name, lr, momentum=m), split, cfg)
    np.testing.assert_allclose(as_object.history.train_loss, reference, rtol=2e-5)
    many = jaxmlp.fit_many(net, split, cfg, optimizer=name, learning_rate=[lr, lr / 2],
                           momentum=m)  # fmt: skip
    np.testing.assert_allclose(many.history.train_loss[0], reference, rtol=2e-5)


def test_a_named_optimizer_compiles_once_for_any_learning_rate(compiles):
    """The demo's learning rate and momentum are traced: a second value reuses the program."""
    config = DemoConfig(hidden=(13,), epochs=7, baseline=False)
    run_demo(config)
    assert compiles.training() >= 1
    compiles.clear()
    other = run_demo(DemoConfig(hidden=(13,), epochs=7, baseline=False, lr=0.2, momentum=0.5))
    assert compiles.training() == 0
    again = jaxmlp.fit(jaxmlp.mlp((13,), "swish", 2), jaxmlp.make_optimizer("momentum", 0.2,
                       momentum=0.5), other.split, jaxmlp.TrainConfig(epochs=7))  # fmt: skip
    np.testing.assert_allclose(other.history.test_loss, again.history.test_loss, rtol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda: jaxmlp.make_optimizer("sgd", -0.5),
        lambda: jaxmlp.fit(jaxmlp.mlp((2,)), "sgd", jaxmlp.tutorial_split(), learning_rate=-0.5),
        lambda: jaxmlp.fit_many(jaxmlp.mlp((2,)), jaxmlp.tutorial_split(), learning_rate=-0.5),
    ],
)
def test_one_rule_one_message_for_a_learning_rate(call):
    with pytest.raises(ValueError, match=r"^learning_rate must be > 0, got -0\.5; e\.g\. "):
        call()
