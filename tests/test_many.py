"""Many models at once: fit_many, run_jobs, MLPEnsembleClassifier, MLPSearchCV.

References: each vectorised model against the same model trained alone (fit / the
estimator's fit), the grid search against scikit-learn's GridSearchCV on the same folds.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils._param_validation import InvalidParameterError

from jaxmlp import (
    DivergenceError,
    MLPClassifier,
    MLPEnsembleClassifier,
    MLPSearchCV,
    TrainConfig,
    fit,
    fit_many,
    make_optimizer,
    mlp,
)
from jaxmlp.core.jobs import MemoryBudgetError
from jaxmlp.core.many import _run_chunk_many, init_states
from jaxmlp.core.program import Hyper, Program, make_data
from jaxmlp.workflows.fit import init_params


def test_fit_many_equals_fit_per_model(tutorial):
    """Seeds, learning rates, momenta, alphas and swish slopes in one program; each model
    equals fit() with its settings (the first one is the tutorial: golden numbers)."""
    split = tutorial[0]
    config = TrainConfig(epochs=60, eval_every=3)
    settings = dict(seeds=[0, 1, 2, 3], learning_rate=[0.05, 0.1, 0.02, 0.05],
                    momentum=[0.9, 0.5, 0.9, 0.0], alpha=[0.0, 0.01, 0.0, 0.1],
                    beta=[1.0, 2.0, 0.5, 1.0])  # fmt: skip
    many = fit_many(mlp((64,)), split, config, **settings)
    assert many.history.test_loss.shape == (4, 20)
    assert (many.diverged_at == 0).all()
    for i in range(4):
        net = mlp((64,), beta=settings["beta"][i])
        opt = make_optimizer("momentum", settings["learning_rate"][i],
                             momentum=settings["momentum"][i])  # fmt: skip
        alone = fit(net, opt, split, TrainConfig(epochs=60, eval_every=3,
                                                 seed=settings["seeds"][i]),
                    alpha=settings["alpha"][i])  # fmt: skip
        np.testing.assert_array_equal(alone.history.epoch, many.history.epoch)
        for field in ("train_loss", "test_loss", "train_acc", "test_acc"):
            np.testing.assert_allclose(getattr(many.history, field)[i],
                                       getattr(alone.history, field), rtol=2e-5,
                                       atol=1e-6)  # fmt: skip
        mine = jax.tree_util.tree_map(lambda a, i=i: a[i], many.params)
        for a, b in zip(jax.tree_util.tree_leaves(mine), jax.tree_util.tree_leaves(alone.params),
                        strict=True):  # fmt: skip
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_fit_many_minibatch_adam_dropout_and_row_weights(tutorial):
    """Mini-batches, Adam's betas, dropout rates and per-model row weights (a CV-fold mask,
    bootstrap counts) against fit() on the same rows; a diverging model is reported."""
    split = tutorial[0]
    net = mlp((16,), dropout=True)
    rng = np.random.RandomState(0)
    n = split.X_train.shape[0]
    weights = np.stack([np.ones(n), (np.arange(n) % 5 != 0) * 1.0, rng.poisson(1.0, n) * 1.0,
                        np.ones(n)]).astype(np.float32)  # fmt: skip
    config = TrainConfig(epochs=15, batch_size=32)
    kw = dict(seeds=[3, 4, 5, 6], learning_rate=[1e-2, 3e-2, 1e-2, 1e30], b1=[0.9, 0.8, 0.9, 0.9],
              dropout=[0.0, 0.2, 0.5, 0.0])  # fmt: skip
    many = fit_many(net, split, config, optimizer="adam", weights=weights, **kw,
                    models_per_program=3)  # fmt: skip
    assert many.diverged_at[3] > 0 and (many.diverged_at[:3] == 0).all()
    assert np.isnan(many.history.test_loss[3]).all()
    for i in range(3):
        opt = make_optimizer("adam", kw["learning_rate"][i], b1=kw["b1"][i])
        alone = fit(net, opt, split, TrainConfig(epochs=15, batch_size=32, seed=kw["seeds"][i]),
                    dropout=kw["dropout"][i], sample_weight=weights[i])  # fmt: skip
        for field in ("train_loss", "test_loss", "train_acc", "test_acc"):
            np.testing.assert_allclose(getattr(many.history, field)[i],
                                       getattr(alone.history, field), rtol=2e-5,
                                       atol=1e-6)  # fmt: skip


def test_fit_many_checks_its_arguments(tutorial):
    split = tutorial[0]
    with pytest.raises(ValueError, match="different lengths: seed=3, learning_rate=2"):
        fit_many(mlp((4,)), split, seeds=[0, 1, 2], learning_rate=[0.1, 0.2])
    with pytest.raises(ValueError, match=r"learning_rate must be > 0, got -0\.1"):
        fit_many(mlp((4,)), split, learning_rate=[0.1, -0.1])
    with pytest.raises(ValueError, match="dropout must be in"):
        fit_many(mlp((4,)), split, dropout=1.5)
    with pytest.raises(ValueError, match=r"weights must have shape \(n_models, 140\)"):
        fit_many(mlp((4,)), split, weights=np.ones((2, 10)))


def test_too_many_models_per_program_is_refused_up_front(tutorial, monkeypatch):
    split = tutorial[0]
    monkeypatch.setenv("JAXMLP_MEMORY_BUDGET", "2M")
    with pytest.raises(MemoryBudgetError, match=r"100 models per program need about \d+ MiB"):
        fit_many(mlp((64,)), split, TrainConfig(epochs=2), seeds=range(100),
                 models_per_program=100)  # fmt: skip
    # 'auto' trains them in blocks that fit instead, with the same results
    auto = fit_many(mlp((64,)), split, TrainConfig(epochs=2), seeds=range(12))
    monkeypatch.delenv("JAXMLP_MEMORY_BUDGET")
    whole = fit_many(mlp((64,)), split, TrainConfig(epochs=2), seeds=range(12))
    np.testing.assert_allclose(auto.history.test_loss, whole.history.test_loss, rtol=1e-6)


@pytest.mark.parametrize("batch", [None, 32])
def test_memory_of_the_vectorised_program_grows_linearly(tutorial, batch):
    """XLA's buffer assignment for M = 8..64 models in one vmapped block: temp memory is
    affine in M (no buffer that grows like M**2)."""
    from jaxmlp.sklearn.solvers import solver

    split, net, _ = tutorial
    program = Program(net.apply, solver("adam"), batch=batch, n_evals=2, chunk=4)
    data, test = make_data(split.X_train, split.y_train), make_data(split.X_test, split.y_test)
    sizes, temps = [8, 16, 32, 64], []
    for M in sizes:
        hypers = Hyper(*(jnp.full((M,), v, jnp.float32) for v in Hyper()))
        params = jax.vmap(lambda s: init_params(net.init, 2, s))(jnp.arange(M))
        states = init_states(program, hypers, params, np.arange(M))
        compiled = _run_chunk_many.lower(program, M, 1, hypers, states, data, (data, test),
                                         jnp.full((M,), 4, jnp.int32)).compile()  # fmt: skip
        temps.append(compiled.memory_analysis().temp_size_in_bytes)
    slope, intercept = np.polyfit(sizes, temps, 1)
    assert slope > 0
    np.testing.assert_allclose(np.polyval([slope, intercept], sizes), temps, rtol=0.05)


# ----------------------------------------------------------------------------- ensembles


def _data(n=240, seed=0, dtype=np.float64):
    from sklearn.datasets import make_classification

    X, y = make_classification(n, 6, n_informative=4, n_classes=3, random_state=seed)
    return X.astype(dtype), y


def test_ensemble_members_equal_models_trained_alone():
    X, y = _data()
    template = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, batch_size=64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ens = MLPEnsembleClassifier(template, n_estimators=4, bootstrap=True,
                                    random_state=0).fit(X, y)  # fmt: skip
        seeds = np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=4)
        rng = np.random.RandomState(0)
        rng.randint(np.iinfo(np.int32).max, size=4)
        for member, seed in zip(ens.estimators_, seeds, strict=True):
            counts = np.bincount(rng.randint(len(X), size=len(X)), minlength=len(X))
            alone = clone(template).set_params(random_state=int(seed))
            alone.fit(X, y, sample_weight=counts.astype(float))
            np.testing.assert_allclose(member.loss_curve_, alone.loss_curve_, rtol=1e-9)
            np.testing.assert_allclose(member.predict_proba(X), alone.predict_proba(X),
                                       rtol=1e-9, atol=1e-12)  # fmt: skip
    members = np.stack([m.predict_proba(X) for m in ens.estimators_])
    np.testing.assert_allclose(ens.predict_proba(X), members.mean(axis=0))
    assert ens.loss_curves_.shape == (4, 30)


def test_ensemble_of_one_is_the_single_model():
    X, y = _data(dtype=np.float32)
    template = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ens = MLPEnsembleClassifier(template, n_estimators=1, random_state=7).fit(X, y)
        seed = np.random.RandomState(7).randint(np.iinfo(np.int32).max, size=1)[0]
        alone = clone(template).set_params(random_state=int(seed)).fit(X, y)
    np.testing.assert_allclose(ens.predict_proba(X), alone.predict_proba(X), rtol=1e-5,
                               atol=1e-6)  # fmt: skip
    np.testing.assert_array_equal(ens.predict(X), alone.predict(X))


def test_ensemble_uncertainty_decomposes_the_predictive_entropy():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ens = MLPEnsembleClassifier(MLPClassifier(hidden_layer_sizes=(8,), max_iter=40),
                                    n_estimators=6, random_state=1).fit(X, y)  # fmt: skip
    u = ens.predict_uncertainty(X)
    p = ens.member_proba(X)
    mean = p.mean(axis=0)
    np.testing.assert_allclose(u.entropy, -(mean * np.log(mean)).sum(axis=1), rtol=1e-10)
    np.testing.assert_allclose(u.expected_entropy, -(p * np.log(p)).sum(axis=2).mean(axis=0),
                               rtol=1e-10)  # fmt: skip
    assert (u.mutual_information >= 0).all() and (u.mutual_information <= u.entropy).all()
    assert ((u.disagreement >= 0) & (u.disagreement <= 1)).all() and u.disagreement.max() > 0
    np.testing.assert_allclose(u.proba_std, p.std(axis=0))


def test_ensemble_whose_members_all_diverge_raises():
    X, y = _data()
    with pytest.raises(DivergenceError, match="Every member of the ensemble diverged"):
        MLPEnsembleClassifier(MLPClassifier(solver="sgd", learning_rate_init=1e30, max_iter=5),
                              n_estimators=3, random_state=0).fit(X, y)  # fmt: skip


# ----------------------------------------------------------------------------- grid search


def test_search_equals_gridsearchcv_on_the_same_folds():
    X, y = _data(n=300)
    base = MLPClassifier(hidden_layer_sizes=(8,), max_iter=25, batch_size=50, random_state=0)
    grid = {"learning_rate_init": [1e-3, 1e-2], "alpha": [1e-4, 1e-1], "random_state": [0, 1]}
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine = MLPSearchCV(base, grid, cv=cv, return_train_score=True).fit(X, y)
        ref = GridSearchCV(base, grid, cv=cv, return_train_score=True).fit(X, y)
    assert mine.n_programs_ == 1  # 8 candidates x 4 folds in one vmapped program
    for key in ref.cv_results_:
        if "time" in key:
            continue
        if key == "params":
            assert mine.cv_results_[key] == ref.cv_results_[key]
        else:
            np.testing.assert_allclose(np.asarray(mine.cv_results_[key], float),
                                       np.asarray(ref.cv_results_[key], float), rtol=1e-9,
                                       err_msg=key)  # fmt: skip
    assert set(mine.cv_results_) == set(ref.cv_results_)
    assert mine.best_params_ == ref.best_params_ and mine.best_index_ == ref.best_index_
    np.testing.assert_allclose(mine.predict_proba(X), ref.predict_proba(X), rtol=1e-9)
    assert mine.score(X, y) == ref.score(X, y)


def test_search_groups_candidates_by_architecture():
    X, y = _data(n=150, dtype=np.float32)
    base = MLPClassifier(max_iter=5, random_state=0)
    grid = [{"hidden_layer_sizes": [(4,), (8,)], "learning_rate_init": [1e-3, 1e-2]},
            {"hidden_layer_sizes": [(4,)], "solver": ["sgd"]}]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = MLPSearchCV(base, grid, cv=3, refit=False).fit(X, y)
    assert search.n_programs_ == 3
    assert len(search.cv_results_["params"]) == 5
    assert search.cv_results_["param_solver"].mask.tolist() == [True] * 4 + [False]
    assert not hasattr(search, "best_estimator_")


def test_search_reports_a_diverging_candidate_and_ranks_it_last():
    X, y = _data(n=150)
    base = MLPClassifier(solver="sgd", hidden_layer_sizes=(4,), max_iter=10, random_state=0)
    with pytest.warns(Warning, match="failed and was scored nan"):
        search = MLPSearchCV(base, {"learning_rate_init": [1e-2, 1e30]}, cv=3).fit(X, y)
    assert np.isnan(search.cv_results_["mean_test_score"][1])
    assert search.cv_results_["rank_test_score"].tolist() == [1, 2]
    assert search.best_params_ == {"learning_rate_init": 1e-2}
    with pytest.raises(DivergenceError):
        MLPSearchCV(base, {"learning_rate_init": [1e30]}, cv=3, error_score="raise").fit(X, y)


@pytest.mark.parametrize(
    ("grid", "error", "match"),
    [
        ({"alpha": [1e-4, -1.0]}, InvalidParameterError, "'alpha' parameter.*Got -1.0"),
        ({"hiden_layer_sizes": [(4,)]}, ValueError, "Invalid parameter 'hiden_layer_sizes'"),
        ({"alpha": []}, ValueError, r"param_grid\['alpha'\] is empty"),
        ({"alpha": 0.1}, TypeError, r"param_grid\['alpha'\] must be a list"),
    ],
)
def test_search_refuses_bad_grids_before_training(grid, error, match):
    X, y = _data(n=60)
    with pytest.raises(error, match=match):
        MLPSearchCV(MLPClassifier(), grid, cv=3).fit(X, y)


@pytest.mark.slow
def test_blocks_and_devices_give_the_same_models(tmp_path, tutorial):
    """7 models in blocks of 2 spread over 2 CPU devices (a fresh process with 2 host
    devices; padding models fill the last block) equal the models trained alone."""
    import subprocess
    import sys

    script = tmp_path / "two_devices.py"
    script.write_text(
        "import jax, numpy as np\n"
        "jax.config.update('jax_num_cpu_devices', 2)\n"
        "from jaxmlp import TrainConfig, fit_many, mlp, tutorial_split\n"
        "from jaxmlp.core import many\n"
        "assert len(jax.local_devices()) == 2\n"
        "calls = []\n"
        "orig = many._run_chunk_many\n"
        "def spy(program, block, n_dev, *a):\n"
        "    calls.append((block, n_dev))\n"
        "    return orig(program, block, n_dev, *a)\n"
        "many._run_chunk_many = spy\n"
        "r = fit_many(mlp((16,)), tutorial_split(), TrainConfig(epochs=30), seeds=range(7),\n"
        "             learning_rate=[0.01, 0.02, 0.05, 0.1, 0.2, 0.05, 0.05])\n"
        "assert calls and calls[0][1] == 2, calls\n"
        f"np.save({str(tmp_path / 'loss.npy')!r}, r.history.test_loss)\n"
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    two = np.load(tmp_path / "loss.npy")
    for i, lr in enumerate([0.01, 0.02, 0.05, 0.1, 0.2, 0.05, 0.05]):
        alone = fit(mlp((16,)), make_optimizer("momentum", lr, momentum=0.9), tutorial[0],
                    TrainConfig(epochs=30, seed=i))  # fmt: skip
        np.testing.assert_allclose(two[i], alone.history.test_loss, rtol=2e-5, atol=1e-6)


def test_ensemble_passes_scikit_learns_estimator_checks():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(
            MLPEnsembleClassifier(MLPClassifier(max_iter=50), n_estimators=2, random_state=0),
            on_fail=None,
        )
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]  # fmt: skip
    assert not failed
    assert len(results) > 50
