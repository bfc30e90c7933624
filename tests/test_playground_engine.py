"""The playground's data, settings and model (no server): TF Playground's generators, the
clamping of absurd settings, traced rates that compile nothing, L1 against a hand-written
objective and finite differences, maps against a forward pass written here, the exported
model, and the vectorised ensemble against models trained one by one."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import jax
import numpy as np
import pytest

from jaxmlp.core import optimizers
from jaxmlp.core.epoch import value_and_grad
from jaxmlp.core.nn import mlp
from jaxmlp.core.program import Hyper, Program, init_state, make_data
from jaxmlp.data.playground import FEATURES, features, generate, parse_points_csv, split_points
from jaxmlp.workflows.playground import GRID, NEURON_GRID, Run, grid_points
from jaxmlp.workflows.playground_settings import Settings, SettingsError, settings_from


def test_generators_follow_tf_playground_rules():
    X, y = generate("circle", 500, 0, seed=3)
    r = np.hypot(X[:, 0], X[:, 1])
    assert ((r < 2.5) == (y == 1)).all() and (r <= 5 + 1e-5).all()
    assert y.sum() == 250
    X, y = generate("xor", 500, 0, seed=3)
    assert ((X[:, 0] * X[:, 1] >= 0) == (y == 1)).all() and (np.abs(X) >= 0.3 - 1e-6).all()
    X, y = generate("gaussian", 2000, 0, seed=3)
    assert np.allclose(X[y == 1].mean(axis=0), [2, 2], atol=0.1)
    assert np.allclose(X[y == 0].mean(axis=0), [-2, -2], atol=0.1)
    X, y = generate("spiral", 500, 0, seed=3)
    assert np.abs(np.hypot(X[:, 0], X[:, 1])).max() <= 5
    for name in ("circle", "xor", "gaussian", "spiral", "moons"):
        a, b = generate(name, 300, 25, seed=7), generate(name, 300, 25, seed=7)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
        assert not np.array_equal(a[0], generate(name, 300, 25, seed=8)[0])
        assert (np.abs(a[0]) <= 6).all()
    mask = split_points(500, 30, seed=1)
    assert mask.sum() == 150


def test_features_are_tf_playgrounds_inputs():
    X = np.array([[1.5, -2.0]], np.float32)
    got = features(X, tuple(FEATURES))
    want = [1.5, -2.0, 2.25, 4.0, -3.0, np.sin(1.5), np.sin(-2.0)]
    np.testing.assert_allclose(got[0], want, rtol=1e-6)


@pytest.mark.parametrize(
    "text, message",
    [
        ("a,b,label\n1,2,x\n", "one class"),
        ("a,b,label\n1,2,x\nfoo,3,y\n", "'foo' in column 'a' is not a number"),
        ("a,label\n1,x\n2,y\n", "it needs exactly 3"),
        ("a,b,label\n", "no data rows"),
        ("a,b,label\n1,2,x\n3,4\n", "line 3 has 2 fields"),
        ("a,b,label\n" + "1,2,x\n2,3,y\n" * 3000, "up to 5000"),
        ("a,b,label\n1,inf,x\n2,3,y\n", "infinite"),
    ],
)
def test_bad_uploads_are_refused_with_the_reason(text, message):
    with pytest.raises(ValueError, match=message):
        parse_points_csv(text)


def test_an_upload_of_any_number_of_classes_is_scaled_into_the_plane():
    X, y, classes = parse_points_csv('u,v,kind\n0,100,"a,b"\n10,300,c\n5,200,d\n')
    assert classes == ["a,b", "c", "d"] and list(y) == [0, 1, 2]
    np.testing.assert_allclose(X, [[-5, -5], [5, 5], [0, 0]])


def test_absurd_settings_are_clamped_or_refused():
    s, notes = settings_from({"hidden": [10_000] * 50, "learning_rate": 1e9, "noise": -3})
    assert s.hidden == (64,) * 6 and s.learning_rate == 10 and s.noise == 0
    assert len(notes) == 1 + 6 + 2 and "using the first 6" in notes[0]
    for bad, message in [({"learning_rate": "fast"}, "learning_rate must be a number"),
                         ({"activation": "softsign"}, "activation 'softsign' is not one of"),
                         ({"features": []}, "at least one input feature"),
                         ({"features": ["x3"]}, "unknown input feature 'x3'"),
                         ({"depth": 3}, "unknown setting 'depth'"),
                         ({"hidden": "4,2"}, "hidden must be a list")]:  # fmt: skip
        with pytest.raises(SettingsError, match=message):
            settings_from(bad)


def _forward(params, X, f):
    """The network's class probabilities, written here with numpy."""
    dense = [(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in
             (p for p in params if len(p) == 2)]  # fmt: skip
    hidden = []
    for W, b in dense[:-1]:
        X = f(X @ W + b)
        hidden.append(X)
    W, b = dense[-1]
    z = X @ W + b
    if z.shape[1] == 1:
        p = 1 / (1 + np.exp(-z[:, 0]))
        return np.stack([1 - p, p], axis=1), hidden
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True), hidden


def test_maps_match_a_forward_pass_written_here():
    run = Run(Settings(dataset="xor", features=("x1", "x2", "x1*x2"), hidden=(3, 2)))
    run.step(20)
    s = run.surfaces()
    mask = np.array([f in run.settings.features for f in FEATURES], np.float64)
    want, _ = _forward(run.state.params, features(grid_points(GRID), tuple(FEATURES)) * mask,
                       np.tanh)  # fmt: skip
    np.testing.assert_allclose(s.output.reshape(2, -1).T, want, atol=1e-5)
    np.testing.assert_allclose(run.predict_proba(grid_points(GRID)), want, atol=1e-5)
    small = features(grid_points(NEURON_GRID), tuple(FEATURES)) * mask
    _, hidden = _forward(run.state.params, small, np.tanh)
    for got, h in zip(s.neurons, hidden, strict=True):
        np.testing.assert_allclose(got, h.T.reshape(-1, NEURON_GRID, NEURON_GRID), atol=1e-5)
    # switched-off features keep zero weights: the model depends on the three only
    W0 = np.asarray(run.state.params[0][0])
    assert not W0[mask == 0].any() and W0[mask == 1].all()


def test_new_rates_compile_nothing_and_keep_training(compiles):
    run = Run(Settings(learning_rate=0.03))
    run.step(3)
    # with the compilation cache on (a CLI test in this process may have turned it on),
    # the stored program's wrapper is traced once more for state that came out of it
    run.step(1)
    first = compiles.training(this_thread=True)
    for rate in (0.3, 0.001, 3.0):
        s, _ = settings_from({"learning_rate": rate, "reg_rate": rate / 10}, run.settings)
        assert run.configure(s) == "rates"
        run.step(2)
    assert compiles.training(this_thread=True) == first and run.epoch == 10


def test_l1_is_alpha_times_the_absolute_weights_with_zero_subgradient_at_zero():
    net = mlp((3,), "tanh", n_outputs=1)
    params = net.init(jax.random.PRNGKey(0), (-1, 2))[1]
    W0, b0 = params[0]
    params = [(W0.at[0, 0].set(0.0), b0), *params[1:]]
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(16, 2)).astype(np.float32), rng.randint(0, 2, 16)
    data = make_data(X, y.astype(np.float32)[:, None])
    program = Program(apply=net.apply, optimizer=optimizers.factory("sgd"), loss="logistic",
                      l2=False, l1=True)  # fmt: skip
    hyper = Hyper(learning_rate=0.1, alpha=0.5)
    value, grads = value_and_grad(program, hyper, params, data)
    probs, _ = _forward(params, X.astype(np.float64), np.tanh)
    nll = -np.mean(np.log(probs[np.arange(16), y]))
    l1 = sum(np.abs(np.asarray(p[0])).sum() for p in params if len(p) == 2)
    np.testing.assert_allclose(float(value), nll + 0.5 * l1 / 16, rtol=1e-5)
    # at exactly 0 only the data term acts (jnp.abs would add alpha / n there)
    data_only = value_and_grad(dataclasses.replace(program, l1=False), hyper, params, data)[1]
    assert float(grads[0][0][0, 0]) == pytest.approx(float(data_only[0][0][0, 0]), abs=1e-7)
    eps = 1e-3  # elsewhere: finite differences
    bumped = [(W0.at[1, 2].add(eps), b0), *params[1:]]
    bumped[0] = (bumped[0][0].at[0, 0].set(0.0), b0)
    up = float(value_and_grad(program, hyper, bumped, data)[0])
    np.testing.assert_allclose((up - float(value)) / eps, float(grads[0][0][1, 2]), rtol=2e-2)


def test_export_loads_with_jaxmlp_and_predicts_like_the_page(tmp_path):
    import jaxmlp
    from jaxmlp.playground.exports import model_zip

    run = Run(Settings(dataset="circle", features=("x1^2", "x2^2"), hidden=(4,),
                       activation="relu", optimizer="adam"))  # fmt: skip
    run.step(30)
    zipfile.ZipFile(io.BytesIO(model_zip(run))).extractall(tmp_path)
    model = jaxmlp.load(tmp_path / "playground-model")
    assert list(model.feature_names_in_) == ["x1^2", "x2^2"]
    import pandas as pd

    X = pd.DataFrame(features(run.points.X, ("x1^2", "x2^2")), columns=["x1^2", "x2^2"])
    want, _ = _forward([(np.asarray(run.state.params[0][0])[2:4], run.state.params[0][1]),
                        *run.state.params[1:]], X.to_numpy(np.float64),
                       lambda z: np.maximum(z, 0))  # fmt: skip
    np.testing.assert_allclose(model.predict_proba(X), want, atol=1e-5)
    assert (tmp_path / "playground-model" / "report.html").read_text().count("<img") == 2


def test_the_ensemble_equals_its_members_trained_one_by_one():
    settings = Settings(dataset="xor", hidden=(4,), batch_size=25, seed=5)
    run = Run(settings)
    mean, mi = run.ensemble(3, 40)
    members = []
    for seed in (5, 6, 7):
        alone = Run(settings)
        alone.state = init_state(alone.program, alone.hyper(), alone.initial_params(seed), seed)
        alone.step(40)
        members.append(alone.surfaces().output)
    np.testing.assert_allclose(mean, np.mean(members, axis=0), atol=2e-4)
    assert mi.shape == (GRID, GRID) and 0 <= mi.min() and mi.max() <= 1


def test_tf_playgrounds_regression_problems_train_the_regressors_loss():
    """reg-plane and reg-gauss follow TF Playground's formulas; the tab trains one identity
    output on half the squared error (MLPRegressor's loss: checked by hand on the
    trained weights) and exports an MLPRegressor that predicts what the tab shows."""
    from jaxmlp import MLPRegressor
    from jaxmlp.playground.exports import estimator

    X, y = generate("reg-plane", 400, 0, seed=2)
    np.testing.assert_allclose(y, (X[:, 0] + X[:, 1]) / 10, rtol=1e-6, atol=1e-6)
    X, y = generate("reg-gauss", 400, 0, seed=2)
    centre = (np.abs(X[:, 0] - 4) < 0.5) & (np.abs(X[:, 1] - 2.5) < 0.5)
    assert (y[centre] > 0.5).all() and y.min() >= -1 and y.max() <= 1
    s = Settings(dataset="reg-plane", features=("x1", "x2"), hidden=(4,), learning_rate=0.03)
    run = Run(s)
    assert run.regression and run.loss == "squared"
    run.step(200)
    _, train_loss, test_loss, _, test_r2 = run.history[-1]
    p = run.points
    v = run.predict_values(p.X)[:, 0]
    # the last epoch's losses and R² from the weights, by hand
    te = ~p.train
    assert abs(0.5 * np.mean((v[te] - p.y[te]) ** 2) - test_loss) < 1e-5
    ss = np.sum((p.y[te] - p.y[te].mean()) ** 2)
    assert abs(1 - np.sum((p.y[te] - v[te]) ** 2) / ss - test_r2) < 1e-4
    assert test_r2 > 0.95 and train_loss < 0.01
    # the surface shows the value as the (orange, blue) pair
    out = run.surfaces().output
    grid = run.predict_values(grid_points(GRID))[:, 0].clip(-1, 1).reshape(GRID, GRID)
    np.testing.assert_allclose(out[1] - out[0], grid, atol=1e-6)
    est = estimator(run)
    assert isinstance(est, MLPRegressor) and est.out_activation_ == "identity"
    np.testing.assert_allclose(est.predict(features(p.X, s.features)), v, atol=1e-5)
