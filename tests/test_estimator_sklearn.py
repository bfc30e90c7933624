"""jaxmlp.MLPClassifier against scikit-learn: its estimator checks, meta-estimators, parity."""

import pickle
import warnings

import numpy as np
import pytest
from conftest import quiet_fit
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_circles
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier as SkMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from jaxmlp import MLPClassifier


def _expected_failures(estimator) -> dict[str, str]:
    if estimator.early_stopping:
        # scikit-learn's own MLPClassifier(early_stopping=True) fails the first three the
        # same way (checked in test_early_stopping_fails_the_checks_scikit_learns_fails)
        tiny = (
            "the check's few rows leave a validation split too small to stratify: "
            "scikit-learn's own error, as scikit-learn's early-stopping MLP raises it"
        )
        split = (
            "repeated rows and integer weights give different validation splits, so "
            "early stopping stops elsewhere (scikit-learn's MLP fails it too)"
        )
        return {
            "check_estimators_nan_inf": tiny, "check_fit2d_1feature": tiny,
            "check_sample_weight_equivalence_on_dense_data": split,
            "check_sample_weight_equivalence_on_sparse_data": split,
            "check_class_weight_classifiers": (
                "early stopping keeps the weights of the best validation accuracy, which "
                "the check's minority-class threshold does not expect (scikit-learn's MLP "
                "has no class_weight, so it skips this check)"),
        }  # fmt: skip
    if estimator.dtype != "float32":
        return {}  # none: the same as scikit-learn's own MLPClassifier
    why = ("asserts predict_proba equal to rtol 1e-7, below float32 resolution: training on "
           "repeated rows sums the gradient in another order")  # fmt: skip
    return {f"check_sample_weight_equivalence_on_{k}_data": why for k in ("dense", "sparse")}


@parametrize_with_checks(
    [
        MLPClassifier(max_iter=100),  # scikit-learn checks its own MLP with max_iter=100
        MLPClassifier(solver="sgd", momentum=0.9, max_iter=100),
        MLPClassifier(max_iter=100, dtype="float32"),  # float64 check data trained in float32
        MLPClassifier(solver="lbfgs", max_iter=100),
        MLPClassifier(early_stopping=True, max_iter=100),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.mark.slow
def test_early_stopping_fails_the_checks_scikit_learns_fails():
    """The expected failures of the early-stopping configuration are scikit-learn's too."""
    from sklearn.utils.estimator_checks import check_estimator

    def failed(est) -> set[str]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = check_estimator(est, on_fail=None)
        return {r["check_name"] for r in results if r["status"] == "failed"}

    ours = failed(MLPClassifier(early_stopping=True, max_iter=100))
    theirs = failed(SkMLP(early_stopping=True, max_iter=100))
    assert {"check_estimators_nan_inf", "check_fit2d_1feature",
            "check_sample_weight_equivalence_on_sparse_data"} <= ours & theirs  # fmt: skip
    assert ours <= set(_expected_failures(MLPClassifier(early_stopping=True)))


@pytest.mark.parametrize("sparse", [False, True])
def test_float32_sample_weight_equivalence_holds_to_float32_resolution(sparse):
    """The two checks expected to fail for dtype='float32', rerun as scikit-learn runs them
    (same data, weights, repetitions and seeds) at rtol 1e-4 instead of 1e-7: integer
    weights equal repeated rows up to float32 round-off."""
    import scipy.sparse as sp
    from sklearn.utils import shuffle

    rng = np.random.RandomState(42)
    X = rng.rand(15, 30)
    y = rng.randint(0, 3, size=15)
    sw = rng.randint(0, 5, size=15)
    X_rep, y_rep = X.repeat(sw, axis=0), y.repeat(sw)
    X_w, y_w, sw = shuffle(X, y, sw, random_state=0)
    if sparse:
        X_rep, X_w = sp.csr_matrix(X_rep), sp.csr_matrix(X_w)
    est = MLPClassifier(max_iter=100, dtype="float32", random_state=0)
    repeated = quiet_fit(clone(est), X_rep, y_rep)
    weighted = quiet_fit(clone(est), X_w, y_w, sample_weight=sw)
    np.testing.assert_allclose(repeated.predict_proba(X), weighted.predict_proba(X), rtol=1e-4)
    np.testing.assert_array_equal(repeated.predict(X), weighted.predict(X))


def test_same_start_and_same_loss_curve_as_sklearn(iris):
    """Same Glorot-uniform draws from the same RandomState, full batch (n < 200): the two
    libraries follow the same optimisation path, so loss_curve_ means the same thing."""
    X, y = iris
    for solver in ("adam", "sgd"):
        ours = quiet_fit(MLPClassifier((10,), solver=solver, max_iter=50, random_state=3), X, y)
        ref = quiet_fit(SkMLP((10,), solver=solver, max_iter=50, random_state=3), X, y)
        assert ours.n_iter_ == ref.n_iter_ == 50
        np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-5)
        for a, b in zip(ours.coefs_, ref.coefs_, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
        assert ours.t_ == ref.t_ == 50 * len(X)


def test_fitted_attributes_match_sklearn_layout(iris):
    X, y = iris
    yb = (y == 1).astype(int)
    for target in (y, yb):
        ours = quiet_fit(MLPClassifier((7, 5), max_iter=20, random_state=0), X, target)
        ref = quiet_fit(SkMLP((7, 5), max_iter=20, random_state=0), X, target)
        assert [c.shape for c in ours.coefs_] == [c.shape for c in ref.coefs_]
        assert [b.shape for b in ours.intercepts_] == [b.shape for b in ref.intercepts_]
        for name in ("n_layers_", "n_outputs_", "out_activation_", "n_iter_", "t_",
                     "n_features_in_"):  # fmt: skip
            assert getattr(ours, name) == getattr(ref, name), name
        np.testing.assert_array_equal(ours.classes_, ref.classes_)
        assert len(ours.loss_curve_) == ours.n_iter_
        assert ours.best_loss_ == pytest.approx(min(ours.loss_curve_))
        assert ours.validation_scores_ is None and ours.best_validation_score_ is None


def test_clone_pickle_pipeline_and_params(iris):
    X, y = iris
    est = MLPClassifier((8,), activation="swish", max_iter=100, learning_rate_init=0.01,
                        random_state=0)  # fmt: skip
    assert clone(est).get_params() == est.get_params()
    est.set_params(alpha=0.01, hidden_layer_sizes=(6,))
    assert est.get_params()["alpha"] == 0.01
    quiet_fit(est, X, y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict_proba(X), est.predict_proba(X))
    pipe = make_pipeline(
        StandardScaler(), MLPClassifier((8,), max_iter=100, learning_rate_init=0.01, random_state=0)
    )
    quiet_fit(pipe, X, y)
    assert pipe.score(X, y) > 0.7


def test_grid_search_compiles_a_handful_of_programs(iris, compiles):
    """5 folds x 4 learning rates = 20 fits, + the refit: padded buckets and traced
    hyperparameters keep that to one training program per row bucket."""
    X, y = iris
    grid = GridSearchCV(
        MLPClassifier((9,), solver="sgd", max_iter=15, random_state=0),
        {"learning_rate_init": [0.001, 0.01, 0.05, 0.1]},
        cv=StratifiedKFold(5),
    )
    quiet_fit(grid, X, y)
    assert 1 <= compiles.training() <= 2  # folds of 120 rows, refit on 150
    assert len(grid.cv_results_["mean_test_score"]) == 4
    assert grid.best_params_["learning_rate_init"] in (0.01, 0.05, 0.1)
    assert grid.best_estimator_.n_iter_ == 15


def test_plain_number_hyperparameters_do_not_recompile(iris, compiles):
    X, y = iris
    base = dict(hidden_layer_sizes=(11,), random_state=0)
    quiet_fit(MLPClassifier(**base, max_iter=5), X, y)
    assert compiles.training() <= 1  # (0 if an earlier test compiled it already)
    compiles.clear()
    for kw in ({"learning_rate_init": 0.1}, {"alpha": 0.3}, {"beta_1": 0.5, "epsilon": 1e-6},
               {"tol": 0.1, "n_iter_no_change": 3}, {"max_iter": 9}):  # fmt: skip
        quiet_fit(MLPClassifier(**(base | {"max_iter": 5} | kw)), X, y)
    assert compiles.training() == 0


def test_cross_val_score_runs(iris):
    X, y = iris
    est = MLPClassifier((8,), max_iter=100, learning_rate_init=0.01, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(est, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.7


def _circles():
    return make_circles(n_samples=300, noise=0.1, factor=0.5, random_state=0)


PARITY_DATA = {
    "iris": lambda: load_iris(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "digits": lambda: load_digits(return_X_y=True),
    "circles": _circles,
}


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("dataset", sorted(PARITY_DATA))
def test_cv_accuracy_parity_with_sklearn(dataset, solver):
    """5-fold CV accuracy within 2 points of scikit-learn's MLP, same hyperparameters."""
    X, y = PARITY_DATA[dataset]()
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = {}
    for name, cls in (("jaxmlp", MLPClassifier), ("sklearn", SkMLP)):
        pipe = make_pipeline(StandardScaler(), cls(solver=solver, max_iter=200, random_state=0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            scores[name] = cross_val_score(pipe, X, y, cv=cv).mean()
    assert abs(scores["jaxmlp"] - scores["sklearn"]) <= 0.02, scores
