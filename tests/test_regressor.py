"""jaxmlp.MLPRegressor against scikit-learn's MLPRegressor: its estimator checks, the same
loss curves in full batch, cross-validated R², the ensemble's spread, the grid search,
fit_many on a regression split, and model files."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.neural_network import MLPRegressor as SkMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import jaxmlp
from jaxmlp import MLPClassifier, MLPEnsembleRegressor, MLPRegressor, MLPSearchCV


def _diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y / 100.0


def _expected_failures(estimator) -> dict[str, str]:
    """scikit-learn's own MLPRegressor(early_stopping=True) fails these and more
    (test_early_stopping_fails_the_checks_scikit_learns_fails)."""
    if not estimator.early_stopping:
        return {}
    split = "repeated rows and integer weights give different validation splits"
    tiny = "the check's few rows leave a validation set under 2 rows: scikit-learn's error"
    return {"check_sample_weight_equivalence_on_dense_data": split,
            "check_sample_weight_equivalence_on_sparse_data": split,
            **{k: tiny for k in ("check_estimators_nan_inf", "check_fit2d_1feature",
                                 "check_regressors_no_decision_function")}}  # fmt: skip


@parametrize_with_checks(
    [
        MLPRegressor(max_iter=100),  # as scikit-learn checks its own
        MLPRegressor(solver="lbfgs", max_iter=100),
        MLPRegressor(early_stopping=True, max_iter=100),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.mark.slow
def test_early_stopping_fails_the_checks_scikit_learns_fails():
    from sklearn.utils.estimator_checks import check_estimator

    def failed(est) -> set[str]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = check_estimator(est, on_fail=None)
        return {r["check_name"] for r in results if r["status"] == "failed"}

    ours = failed(MLPRegressor(early_stopping=True, max_iter=100))
    theirs = failed(SkMLP(early_stopping=True, max_iter=100))
    assert ours <= theirs
    assert ours == set(_expected_failures(MLPRegressor(early_stopping=True)))


@pytest.mark.parametrize(
    ("params", "rtol"),
    [
        ({"solver": "sgd", "learning_rate_init": 0.01}, 1e-12),
        ({"solver": "sgd", "learning_rate_init": 0.01, "nesterovs_momentum": False}, 1e-12),
        # scikit-learn's epsilon placement (optax.adam's would part by ~5e-4 here: this
        # target's gradients are small; see jaxmlp.sklearn.solvers)
        ({"solver": "adam", "learning_rate_init": 0.01}, 1e-12),
        ({"solver": "sgd", "learning_rate": "invscaling", "learning_rate_init": 0.1}, 1e-12),
        ({"solver": "lbfgs"}, 1e-9),
        ({"solver": "sgd", "loss": "poisson", "learning_rate_init": 0.001}, 1e-12),
    ],
)
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_full_batch_loss_curve_equals_scikit_learns(params, rtol, n_outputs):
    X, y = _diabetes()
    if n_outputs == 2:  # scikit-learn's gradient sums over outputs, its loss averages
        y = np.c_[y, 0.5 * y + 0.3 * X[:, 0] + 1.0]
    if params.get("loss") == "poisson":
        y = np.abs(y)
    kw = {"hidden_layer_sizes": (16, 8), "batch_size": 10**6, "max_iter": 40,
          "random_state": 0, "alpha": 1e-3, **params}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = SkMLP(**kw).fit(X, y)
        ours = MLPRegressor(**kw).fit(X, y)
    if params["solver"] == "lbfgs":
        assert ours.n_iter_ == theirs.n_iter_
        np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=rtol)
    else:
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=rtol)
    assert ours.out_activation_ == theirs.out_activation_
    assert ours.predict(X).shape == theirs.predict(X).shape
    for W, V in zip(ours.coefs_, theirs.coefs_, strict=True):
        np.testing.assert_allclose(W, V, rtol=1e-6, atol=1e-9)


def _cv_r2(make, X, y) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_pipeline(StandardScaler(), make())
        return float(cross_val_score(pipe, X, y, cv=KFold(5, shuffle=True, random_state=0),
                                     scoring="r2").mean())  # fmt: skip


@pytest.mark.parametrize("data", ["diabetes", "friedman"])
def test_five_fold_r2_within_0_02_of_scikit_learn(data):
    """Default adam, mini-batches: shuffling draws differ, the quality may not."""
    if data == "diabetes":
        X, y = load_diabetes(return_X_y=True)
        y = y / 100.0
    else:  # a California-like smooth nonlinear target with noise
        X, y = make_friedman1(1500, n_features=8, noise=0.5, random_state=0)
    kw = {"hidden_layer_sizes": (16,), "alpha": 1.0, "max_iter": 200, "random_state": 0,
          "learning_rate_init": 0.01}  # fmt: skip
    theirs = _cv_r2(lambda: SkMLP(**kw), X, y)
    ours = _cv_r2(lambda: MLPRegressor(**kw), X, y)
    assert theirs > 0.4
    assert abs(ours - theirs) < 0.02, (ours, theirs)


def test_early_stopping_scores_are_r2_and_best_weights_are_kept():
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split

    X, y = _diabetes()
    kw = {"hidden_layer_sizes": (16,), "early_stopping": True, "random_state": 0,
          "learning_rate_init": 0.01, "max_iter": 300}  # fmt: skip
    est = MLPRegressor(**kw).fit(X, y)
    assert len(est.validation_scores_) == est.n_iter_ < 300
    assert est.best_validation_score_ == max(est.validation_scores_)
    # the held-out rows are scikit-learn's split: its RandomState draws the 16 x 10 + 16
    # + 16 + 1 initial weights first, then splits (not stratified, for a regressor)
    rs = np.random.RandomState(0)
    rs.uniform(size=10 * 16 + 16 + 16 + 1)
    _, X_val, _, y_val = train_test_split(X, y, random_state=rs, test_size=0.1)
    # coefs_ are the best epoch's weights, and their R² is the best validation score
    assert abs(r2_score(y_val, est.predict(X_val)) - est.best_validation_score_) < 1e-9
    theirs = SkMLP(**kw).fit(X, y)
    assert abs(est.best_validation_score_ - theirs.best_validation_score_) < 0.05


def test_r2_inside_the_loop_equals_scikit_learns_r2_score():
    from sklearn.metrics import r2_score

    X, y = _diabetes()
    y2 = np.c_[y, -y + X[:, 1]]
    est = MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X[:300], y2[:300], eval_set=[(X[300:], y2[300:])])
    assert est.eval_curves_.shape == (30, 1, 2)
    ours = est.eval_curves_[-1, 0]  # the last epoch's (loss, R²), computed on the device
    pred = est.predict(X[300:])
    assert abs(ours[1] - r2_score(y2[300:], pred)) < 1e-9
    assert abs(ours[0] - 0.5 * np.mean((y2[300:] - pred) ** 2)) < 1e-9


def test_ensemble_mean_is_the_members_mean_and_std_grows_away_from_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 1))
    y = np.sin(3 * X[:, 0]) + 0.05 * rng.normal(size=200)
    member = MLPRegressor(hidden_layer_sizes=(32,), solver="lbfgs", max_iter=300)
    ens = MLPEnsembleRegressor(member, n_estimators=5, random_state=0).fit(X, y)
    inside, far = np.array([[0.0], [0.5]]), np.array([[4.0], [-4.0]])
    members = np.stack([m.predict(inside) for m in ens.estimators_])
    mean, std = ens.predict(inside, return_std=True)
    np.testing.assert_allclose(mean, members.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, members.std(axis=0), rtol=1e-12)
    assert ens.score(X, y) > 0.9
    assert ens.predict(far, return_std=True)[1].min() > 5 * std.max()
    # each member is the model MLPRegressor(random_state=seed) trains alone
    alone = MLPRegressor(**{**member.get_params(), "random_state":
                            ens.estimators_[0].random_state}).fit(X, y)  # fmt: skip
    np.testing.assert_allclose(alone.predict(inside), members[0], rtol=1e-12, atol=1e-12)


def test_search_cv_matches_grid_search_cv_on_a_regressor():
    X, y = _diabetes()
    est = MLPRegressor(hidden_layer_sizes=(16,), solver="sgd", batch_size=10**6,
                       max_iter=40, random_state=0)  # fmt: skip
    grid = {"learning_rate_init": [0.001, 0.01], "alpha": [1e-4, 1e-1]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = GridSearchCV(est, grid).fit(X, y)
        ours = MLPSearchCV(est, grid).fit(X, y)
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                               theirs.cv_results_["mean_test_score"], rtol=1e-9,
                               atol=1e-12)  # fmt: skip
    assert ours.best_params_ == theirs.best_params_
    assert ours.n_programs_ == 1
    from sklearn.base import is_regressor

    assert is_regressor(ours) and not hasattr(ours, "classes_")


def test_fit_many_on_a_regression_split_equals_fit_alone():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (300, 2)).astype(np.float32)
    y = (2 * X[:, 0] - X[:, 1] ** 2).astype(np.float32)
    split = jaxmlp.Split(X[:200], y[:200], X[200:], y[200:])
    net = jaxmlp.mlp((8,), "tanh", n_outputs=1)
    cfg = jaxmlp.TrainConfig(epochs=150, loss="squared")
    many = jaxmlp.fit_many(net, split, cfg, optimizer="adam", learning_rate=[0.01, 0.03])
    alone = jaxmlp.fit(net, "adam", split, cfg, learning_rate=0.03)
    np.testing.assert_allclose(many.history.test_acc[1], alone.history.test_acc, rtol=1e-5)
    # the history's R² is scikit-learn's r2_score of the trained network's predictions
    from sklearn.metrics import r2_score

    pred = np.asarray(net.apply(alone.params, X[200:]))[:, 0]
    assert abs(r2_score(y[200:], pred) - alone.history.test_acc[-1]) < 1e-5
    # and the loss is half the mean squared error
    assert abs(0.5 * np.mean((y[200:] - pred) ** 2) - alone.history.test_loss[-1]) < 1e-6
    assert alone.history.test_acc[-1] > 0.95


def test_save_and_load_a_regressor(tmp_path):
    X, y = _diabetes()
    est = MLPRegressor(hidden_layer_sizes=(8,), loss="poisson", solver="lbfgs", max_iter=50,
                       random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, np.abs(y))
    jaxmlp.save(est, tmp_path / "m")
    back = jaxmlp.load(tmp_path / "m")
    assert type(back) is MLPRegressor and back.loss == "poisson"
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    assert not hasattr(back, "classes_")


def test_poisson_refuses_negative_targets_and_unknown_loss():
    X, y = _diabetes()
    with pytest.raises(ValueError, match=r"non-negative targets.*squared_error"):
        MLPRegressor(loss="poisson").fit(X, y - 5)
    with pytest.raises(ValueError, match="loss"):
        MLPRegressor(loss="absolute").fit(X, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_the_networks_precision_is_the_answers(dtype, Estimator):
    """scikit-learn's test_mlp_param_dtypes (issue #21 defect 4: float32 networks answered
    in float64): weights and predictions in the input's precision."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X.astype(dtype)
    mlp = Estimator(alpha=1e-5, hidden_layer_sizes=(5, 3), random_state=1, max_iter=50,
                    tol=1e-1)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X[:300], y[:300])
    assert all(c.dtype == dtype for c in mlp.coefs_ + mlp.intercepts_)
    if Estimator is MLPRegressor:
        assert mlp.predict(X[300:]).dtype == dtype
    else:
        assert mlp.predict_proba(X[300:]).dtype == dtype


def test_inputs_too_large_get_scikit_learns_advice_not_the_learning_rates():
    """scikit-learn's test_nonfinite_params (issue #21 defect 5): inputs near float64's
    maximum are a preprocessing problem, not a step-size one."""
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.standard_normal(size=10)
    msg = ("Solver produced non-finite parameter weights. The input data may contain large"
           " values and need to be preprocessed.")  # fmt: skip
    with pytest.raises(ValueError, match=msg) as caught:
        MLPRegressor().fit(X, y)
    assert "learning rate" not in str(caught.value)
