"""The fused engine against a plain per-step Python loop, compile counts, batching, errors."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxmlp import DivergenceError, TrainConfig, fit, make_dataset, make_optimizer, mlp
from jaxmlp.core.batching import epoch_batches, epoch_order
from jaxmlp.core.loop import train
from jaxmlp.core.many import init_states, train_many
from jaxmlp.core.program import Hyper, Program, constant_optimizer, init_state, make_data
from jaxmlp.workflows.fit import accuracy, cross_entropy, init_params


def reference_loop(net, opt, split, epochs, batch_size=None, seed=0):
    """The tutorial's structure: a jit-compiled step, metrics evaluated outside it per epoch."""
    key = jax.random.PRNGKey(seed)
    _, params = net.init(key, (-1, split.n_features))
    opt_state = opt.init(params)
    shuffle_key = jax.random.fold_in(key, 1)

    def loss(p, X, y):
        return cross_entropy(net.apply(p, X), y)

    @jax.jit
    def step(p, s, X, y):
        updates, s = opt.update(jax.grad(loss)(p, X, y), s, p)
        return optax.apply_updates(p, updates), s

    Xtr, ytr, Xte, yte = (jnp.asarray(a) for a in (split.X_train, split.y_train,
                                                   split.X_test, split.y_test))  # fmt: skip
    n = len(Xtr)
    rows = []
    for _ in range(epochs):
        if batch_size is None:
            params, opt_state = step(params, opt_state, Xtr, ytr)
        else:
            shuffle_key, k_order, _ = jax.random.split(shuffle_key, 3)
            order = np.asarray(epoch_order(k_order, jnp.asarray(n), n))
            for start in range(0, n, batch_size):  # a truly ragged last batch
                b = order[start : start + batch_size]
                params, opt_state = step(params, opt_state, Xtr[b], ytr[b])
        lt, le = net.apply(params, Xtr), net.apply(params, Xte)
        rows.append([float(cross_entropy(lt, ytr)), float(cross_entropy(le, yte)),
                     float(accuracy(lt, ytr)), float(accuracy(le, yte))])  # fmt: skip
    return params, np.array(rows)


def assert_params_close(a, b, atol=1e-5):
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=atol, rtol=1e-4)


def history_array(h):
    return np.stack([h.train_loss, h.test_loss, h.train_acc, h.test_acc], axis=1)


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_full_batch_equals_reference_loop(tutorial, optimizer):
    split, net, _ = tutorial
    opt = make_optimizer(optimizer, 0.05)
    with jax.numpy_dtype_promotion("standard"):  # the reference loop calls optax directly
        params, rows = reference_loop(net, opt, split, epochs=40)
    result = fit(net, opt, split, TrainConfig(epochs=40))
    assert_params_close(result.params, params)
    np.testing.assert_allclose(history_array(result.history), rows, atol=1e-5)
    np.testing.assert_array_equal(result.history.epoch, np.arange(1, 41))


@pytest.mark.parametrize("batch_size", [32, 35, 1])
def test_mini_batch_equals_reference_loop(tutorial, batch_size):
    # 140 = 4*32 + 12 (ragged last batch), 4*35 (exact), 140*1 (every sample alone)
    split, net, opt = tutorial
    epochs = 3 if batch_size == 1 else 12
    params, rows = reference_loop(net, opt, split, epochs, batch_size=batch_size, seed=3)
    result = fit(net, opt, split, TrainConfig(epochs=epochs, batch_size=batch_size, seed=3))
    assert_params_close(result.params, params, atol=2e-5)
    np.testing.assert_allclose(history_array(result.history), rows, atol=2e-5)


@pytest.mark.parametrize(("n", "batch_size"), [(140, 32), (140, 35), (7, 3), (5, 5), (10, 1)])
def test_every_sample_exactly_once_per_epoch(n, batch_size):
    for epoch_key in jax.random.split(jax.random.PRNGKey(0), 4):
        idx, mask = epoch_batches(epoch_key, n, batch_size)
        assert idx.shape == mask.shape == (-(-n // batch_size), batch_size)
        seen = np.asarray(idx)[np.asarray(mask) == 1]
        np.testing.assert_array_equal(np.sort(seen), np.arange(n))
        # padding only at the end of the last batch
        assert np.asarray(mask).ravel()[:n].all() and not np.asarray(mask).ravel()[n:].any()


@pytest.mark.parametrize(("n", "N", "batch_size"), [(10, 16, 3), (100, 128, 32), (5, 8, 8)])
def test_padding_rows_are_never_visited(n, N, batch_size):
    idx, mask = epoch_batches(jax.random.PRNGKey(1), n, batch_size, N=N)
    seen = np.asarray(idx)[np.asarray(mask) == 1]
    np.testing.assert_array_equal(np.sort(seen), np.arange(n))


def test_padded_data_trains_exactly_like_unpadded(tutorial):
    """Zero-weight padding rows (for compile reuse) change nothing but the buffer size."""
    split, net, opt = tutorial
    program = Program(net.apply, constant_optimizer(opt), batch=32, n_evals=1, l2=True)
    hyper = Hyper(alpha=0.01)
    _, params = net.init(jax.random.PRNGKey(0), (-1, 2))
    runs = []
    for N in (140, 200):
        data = make_data(split.X_train, split.y_train, N=N)
        test = make_data(split.X_test, split.y_test, N=N)
        state = init_state(program, hyper, params, seed=0)
        runs.append(train(program, hyper, state, data, (test,), max_epochs=7))
    assert_params_close(runs[0].state.params, runs[1].state.params, atol=1e-6)
    np.testing.assert_allclose(runs[0].losses, runs[1].losses, rtol=1e-5)
    np.testing.assert_allclose(runs[0].metrics, runs[1].metrics, rtol=1e-5)


def test_batches_are_reshuffled_every_epoch(tutorial):
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    assert not np.array_equal(epoch_batches(k1, 140, 32)[0], epoch_batches(k2, 140, 32)[0])


def test_no_recompilation_after_first_call(tutorial, compiles):
    split, net, opt = tutorial
    config = TrainConfig(epochs=17, batch_size=32, seed=1)  # 17 epochs: a fresh program
    fit(net, opt, split, config)
    assert compiles.training() == 1  # the ragged last batch needs no second program
    compiles.clear()
    fit(net, opt, split, config)
    fit(net, opt, split, TrainConfig(epochs=17, batch_size=32, seed=2))  # seed is data
    assert compiles.names == []


def test_chunked_run_compiles_one_program_and_equals_one_call(tutorial, compiles):
    split, net, opt = tutorial
    whole = fit(net, opt, split, TrainConfig(epochs=23))
    compiles.clear()
    seen = []
    chunked = fit(net, opt, split, TrainConfig(epochs=23), chunk_epochs=5,
                  callback=lambda done, h: seen.append((done, len(h.epoch))))  # fmt: skip
    assert compiles.training() == 1  # chunks of 5, the last one of 3: one program
    assert seen == [(5, 5), (10, 10), (15, 15), (20, 20), (23, 23)]
    assert_params_close(chunked.params, whole.params, atol=1e-6)
    np.testing.assert_allclose(history_array(chunked.history), history_array(whole.history))


def test_eval_every_records_every_kth_and_the_last_epoch(tutorial):
    split, net, opt = tutorial
    every = fit(net, opt, split, TrainConfig(epochs=23))
    sparse = fit(net, opt, split, TrainConfig(epochs=23, eval_every=5))
    np.testing.assert_array_equal(sparse.history.epoch, [5, 10, 15, 20, 23])
    np.testing.assert_allclose(
        history_array(sparse.history), history_array(every.history)[[4, 9, 14, 19, 22]]
    )
    assert_params_close(sparse.params, every.params, atol=0)


def test_divergence_stops_with_epoch_and_advice(tutorial):
    split, net, _ = tutorial
    with pytest.raises(DivergenceError, match=r"epoch \d+.*smaller learning rate") as info:
        fit(net, optax.sgd(1e30), split, TrainConfig(epochs=50))
    assert 1 <= info.value.epoch <= 50


def test_chunked_divergence_stops_early(tutorial):
    split, net, _ = tutorial
    seen = []
    with pytest.raises(DivergenceError):
        fit(net, optax.sgd(1e30), split, TrainConfig(epochs=1000), chunk_epochs=10,
            callback=lambda done, h: seen.append(done))  # fmt: skip
    assert len(seen) < 5  # training stopped, it did not run all 100 chunks


_DETERMINISM_SCRIPT = """
import hashlib, sys, warnings
import jaxmlp
if sys.argv[1] == "cores":
    jaxmlp.use_cpu_cores()  # before any JAX operation: one device per core
import jax, numpy as np
from sklearn.datasets import load_digits
from jaxmlp import MLPClassifier, TrainConfig, fit, fit_many, make_dataset, make_optimizer, mlp
warnings.simplefilter("ignore")

def digest(arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.asarray(a).tobytes())
    return h.hexdigest()

split = make_dataset("moons", n_samples=97, seed=5)
r = fit(mlp((16, 8), "tanh", 2), make_optimizer("adam", 0.01), split,
        TrainConfig(epochs=20, batch_size=16, seed=11))
print("fit", digest(jax.tree_util.tree_leaves(r.params)))
X, y = load_digits(return_X_y=True)
for dtype in (np.float32, np.float64):
    est = MLPClassifier((16,), max_iter=5, batch_size=64, dropout=0.1, random_state=3)
    est.fit(X.astype(dtype), y)
    print("estimator", dtype.__name__, digest([*est.coefs_, est.predict_proba(X)]))
many = fit_many(mlp((16,), "tanh", 2), split, TrainConfig(epochs=15, batch_size=16),
                seeds=range(5), learning_rate=[0.01, 0.02, 0.05, 0.1, 0.2])
print("fit_many", len(jax.local_devices()), digest(jax.tree_util.tree_leaves(many.params)))
"""


@pytest.mark.slow
@pytest.mark.parametrize("devices", ["one", "cores"])
def test_same_seed_is_bitwise_identical_across_processes(devices):
    """fit, MLPClassifier in float32 and float64 (mini-batches, dropout) and fit_many, in two
    fresh processes -- on one device, and spread over one CPU device per core."""
    outputs = [
        subprocess.run([sys.executable, "-c", _DETERMINISM_SCRIPT, devices], capture_output=True,
                       text=True, check=True, timeout=300).stdout.splitlines()
        for _ in range(2)
    ]  # fmt: skip
    assert outputs[0] == outputs[1]
    assert [line.split()[0] for line in outputs[0]] == ["fit", "estimator", "estimator",
                                                        "fit_many"]  # fmt: skip
    n_devices = int(outputs[0][-1].split()[1])
    assert n_devices == (1 if devices == "one" else len(__import__("os").sched_getaffinity(0)))


def test_different_seeds_give_different_models(tutorial):
    split, net, opt = tutorial
    a = fit(net, opt, split, TrainConfig(epochs=5, seed=0)).params
    b = fit(net, opt, split, TrainConfig(epochs=5, seed=1)).params
    assert not np.allclose(a[0][0], b[0][0])


def test_initial_params_are_not_modified(tutorial):
    split, net, opt = tutorial
    _, params = net.init(jax.random.PRNGKey(0), (-1, 2))
    before = np.asarray(params[0][0]).copy()
    result = fit(net, opt, split, TrainConfig(epochs=3), params=params)
    np.testing.assert_array_equal(np.asarray(params[0][0]), before)
    assert not np.allclose(result.params[0][0], before)


def test_multiclass_and_wider_networks():
    split = make_dataset("gaussian", n_samples=60, seed=2)
    three = split.__class__(split.X_train, (split.y_train + (split.X_train[:, 0] > 1)) % 3,
                            split.X_test, split.y_test, {})  # fmt: skip
    net = mlp((8, 8), "relu", 3)
    r = fit(net, make_optimizer("adam", 0.01), three, TrainConfig(epochs=5))
    assert net.apply(r.params, three.X_test).shape == (len(three.X_test), 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        ({"epochs": -5}, "epochs must be a positive integer, got -5"),
        ({"batch_size": 0}, "batch_size must be a positive integer or None"),
        ({"eval_every": 2.5}, "eval_every must be a positive integer, got 2.5"),
    ],
)
def test_train_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


# ----------------------------------------------------------------------------- many models


def _stacked_hypers(**columns):
    m = len(next(iter(columns.values())))
    fields = {f: np.full(m, getattr(Hyper(), f), np.float32) for f in Hyper._fields}
    fields.update({k: np.asarray(v, np.float32) for k, v in columns.items()})
    return Hyper(**{k: jnp.asarray(v) for k, v in fields.items()})


def test_train_many_equals_training_each_model_alone(tutorial):
    """Seeds, learning rates, alphas and per-model row weights (a CV-fold mask and a
    bootstrap count) vectorised in one program; each model equals its own run."""
    from jaxmlp.sklearn.solvers import solver

    split, net, _ = tutorial
    program = Program(net.apply, solver("sgd", False), batch=32, n_evals=1, l2=True, chunk=16)
    data, test = make_data(split.X_train, split.y_train), make_data(split.X_test, split.y_test)
    seeds = np.array([0, 1, 2, 3])
    lrs, alphas = [0.05, 0.1, 0.02, 0.05], [0.0, 0.01, 0.0, 0.1]
    rng = np.random.RandomState(0)
    weights = np.stack([np.ones(140), (np.arange(140) % 5 != 0) * 1.0,
                        rng.poisson(1.0, 140) * 1.0, np.ones(140)]).astype(np.float32)  # fmt: skip
    hypers = _stacked_hypers(learning_rate=lrs, alpha=alphas)
    params = jax.vmap(lambda s: init_params(net.init, 2, s))(jnp.asarray(seeds))
    many = train_many(program, hypers, init_states(program, hypers, params, seeds), data,
                      (test,), max_epochs=20, weights=weights)  # fmt: skip
    assert many.losses.shape == (4, 20) and many.metrics.shape == (4, 20, 1, 2)
    for i in range(4):
        hyper = Hyper(learning_rate=lrs[i], alpha=alphas[i])
        p = init_params(net.init, 2, int(seeds[i]))
        alone = train(program, hyper, init_state(program, hyper, p, int(seeds[i])),
                      data._replace(W=jnp.asarray(weights[i])), (test,), max_epochs=20)  # fmt: skip
        np.testing.assert_allclose(many.losses[i], alone.losses, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(many.metrics[i], alone.metrics, rtol=1e-5, atol=1e-6)
        mine = jax.tree_util.tree_map(lambda a, i=i: a[i], many.state.params)
        assert_params_close(mine, alone.state.params, atol=1e-5)


def test_train_many_stops_each_model_on_its_own_rule(tutorial):
    from jaxmlp.sklearn.solvers import solver

    split, net, _ = tutorial
    program = Program(net.apply, solver("sgd", False), stopping="loss", chunk=32)
    data = make_data(split.X_train, split.y_train)
    hypers = _stacked_hypers(learning_rate=[0.05, 0.05, 1e30], tol=[1.0, 0.0, 0.0],
                             n_iter_no_change=[2, 1000, 1000])  # fmt: skip
    params = jax.vmap(lambda s: init_params(net.init, 2, s))(jnp.arange(3))
    many = train_many(program, hypers, init_states(program, hypers, params, [0, 1, 2]), data,
                      max_epochs=50)  # fmt: skip
    # tol=1: epoch 1 sets the best loss, epochs 2-4 do not improve on it by 1: 3 > 2, stop
    assert many.n_epochs[0] == 4
    assert many.n_epochs[1] == 50 and many.diverged_at[1] == 0
    assert many.diverged_at[2] > 0  # reported, not averaged in; the others went on
    assert np.isnan(many.losses[0, 4:]).all() and np.isfinite(many.losses[1]).all()
