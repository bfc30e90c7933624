"""Parity with scikit-learn's MLPClassifier where the two see exactly the same batches:
with ``shuffle=False`` and the same ``random_state`` (so the same initial weights and the
same early-stopping split), every mini-batch is the same rows in the same order, so the
per-epoch losses must agree to float64 round-off -- for sgd under each learning-rate
schedule with and without Nesterov momentum, for adam, and for early stopping's validation
scores and stopping epoch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLP
from sklearn.preprocessing import StandardScaler

from jaxmlp import MLPClassifier


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _both(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(**params).fit(X, y)
        theirs = SkMLP(**params).fit(X, y)
    return ours, theirs


MINI_BATCH = dict(hidden_layer_sizes=(12,), batch_size=32, shuffle=False, random_state=0,
                  alpha=1e-3, max_iter=40)  # fmt: skip


@pytest.mark.parametrize("nesterov", [True, False])
@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
def test_sgd_mini_batches_follow_scikit_learn(wine, schedule, nesterov):
    X, y = wine  # 178 rows: five batches of 32 and a ragged one of 18
    params = dict(MINI_BATCH, solver="sgd", learning_rate=schedule, learning_rate_init=0.05,
                  momentum=0.9, nesterovs_momentum=nesterov, power_t=0.25, tol=1e-3,
                  n_iter_no_change=3)  # fmt: skip
    ours, theirs = _both(X, y, **params)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-12)
    assert ours.t_ == theirs.t_
    assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-12)
    for a, b in zip(ours.coefs_, theirs.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_the_adaptive_schedule_really_shrinks_the_rate(wine):
    """The case above stops early; here the rate is divided by 5 several times (tol large):
    scikit-learn and jaxmlp still agree epoch by epoch."""
    X, y = wine
    params = dict(MINI_BATCH, solver="sgd", learning_rate="adaptive", learning_rate_init=0.1,
                  tol=0.5, n_iter_no_change=2, max_iter=60)  # fmt: skip
    ours, theirs = _both(X, y, **params)
    assert theirs.n_iter_ > 9  # at least three shrinks of 3 epochs each happened
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-12)


def test_adam_mini_batches_follow_scikit_learn(wine):
    X, y = wine
    ours, theirs = _both(X, y, **MINI_BATCH, solver="adam", learning_rate_init=0.01)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-12)
    for a, b in zip(ours.coefs_, theirs.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_early_stopping_follows_scikit_learn(solver):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(MINI_BATCH, solver=solver, learning_rate_init=0.02, early_stopping=True,
                  validation_fraction=0.2, n_iter_no_change=4, tol=1e-3, max_iter=80)  # fmt: skip
    ours, theirs = _both(X, y, **params)
    assert ours.n_iter_ == theirs.n_iter_ < 80  # it stopped, at the same epoch
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-9)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-12)
    assert ours.best_loss_ is None and theirs.best_loss_ is None
    assert ours.best_validation_score_ == theirs.best_validation_score_
    # the best epoch's weights restored in both (Adam's epsilon where scikit-learn puts it)
    for a, b in zip(ours.coefs_, theirs.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["iris", "wine", "digits"])
def test_lbfgs_follows_scikit_learn(name):
    """scipy's L-BFGS-B on the same objective from the same start: the same iterations,
    final loss and weights (as a user would fit: standardised, max_iter=200)."""
    from sklearn.datasets import load_digits

    loader = {"iris": load_iris, "wine": load_wine, "digits": load_digits}[name]
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours, theirs = _both(X, y, solver="lbfgs", max_iter=200, random_state=0)
    assert ours.n_iter_ == theirs.n_iter_
    # the objective and its gradient are summed in another order than numpy's: round-off
    # (1e-15 on wine and digits) that 64 iterations on iris grow to 2e-7 (weights), 3e-8 (loss)
    loss_tol, weight_tol = (1e-7, 1e-6) if name == "iris" else (1e-12, 1e-12)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=loss_tol)
    for W, V in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_,
                    strict=True):  # fmt: skip
        np.testing.assert_allclose(W, V, rtol=0, atol=weight_tol)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=weight_tol)


def test_lbfgs_warns_as_scikit_learn():
    X, y = load_iris(return_X_y=True)
    messages = []
    for cls in (MLPClassifier, SkMLP):
        with pytest.warns(ConvergenceWarning) as caught:
            cls(solver="lbfgs", max_iter=3, random_state=0).fit(X, y)
        messages.append([str(w.message) for w in caught])
    assert messages[0] == messages[1]
    assert "lbfgs failed to converge after 3 iteration(s)" in messages[0][0]


def test_lbfgs_iris_cross_validation_matches():
    from sklearn.model_selection import cross_val_score

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    kw = dict(solver="lbfgs", max_iter=200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = cross_val_score(MLPClassifier(**kw), X, y, cv=5)
        theirs = cross_val_score(SkMLP(**kw), X, y, cv=5)
    np.testing.assert_array_equal(ours, theirs)


def test_early_stopping_with_a_one_member_class_is_scikit_learns_error():
    X, y = load_iris(return_X_y=True)
    y = (y > 0).astype(int)
    y[0], y[1:50] = 0, 1  # class 0 has a single member
    messages = []
    for cls in (MLPClassifier, SkMLP):
        with pytest.raises(ValueError) as info:
            cls(early_stopping=True, max_iter=5, random_state=0).fit(X, y)
        messages.append(str(info.value))
    assert messages[0] == messages[1] and "least populated class" in messages[0]


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_float32_and_float64_fits_tell_the_same_story(solver):
    """The same settings in both precisions: shuffling (and dropout) draw the same random
    numbers in both, so the fits differ only by round-off, as scikit-learn's do."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    kw = dict(hidden_layer_sizes=(5, 3), alpha=1e-5, max_iter=100, tol=0.1, random_state=1,
              solver=solver, dropout=0.1 if solver == "sgd" else 0.0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        f32 = MLPClassifier(**kw).fit(X.astype(np.float32), y)
        f64 = MLPClassifier(**kw).fit(X.astype(np.float64), y)
    assert f32.coefs_[0].dtype == np.float32 and f64.coefs_[0].dtype == np.float64
    assert f32.n_iter_ == f64.n_iter_
    np.testing.assert_array_equal(f32.predict(X), f64.predict(X))
    np.testing.assert_allclose(f32.predict_proba(X), f64.predict_proba(X), rtol=1e-2, atol=1e-6)
    np.testing.assert_allclose(f32.loss_curve_, f64.loss_curve_, rtol=1e-4)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_the_initial_weights_are_scikit_learns_draws(activation, wine):
    """The same ``random_state`` gives scikit-learn's initial weights exactly, the sigmoid's
    smaller Glorot bound included (README: "the same initial weights"); the estimator
    starts there (its first full-batch epoch's loss is scikit-learn's)."""
    import itertools

    from jaxmlp.sklearn.state import initial_weights

    units = [5, 7, 4, 3]
    ours = initial_weights(np.random.RandomState(3), units, activation, np.float64)
    sk = SkMLP(activation=activation)
    sk._random_state = np.random.RandomState(3)
    theirs = [sk._init_coef(a, b, np.float64) for a, b in itertools.pairwise(units)]
    for i, (coef, intercept) in enumerate(theirs):
        np.testing.assert_array_equal(ours[0][i], coef)
        np.testing.assert_array_equal(ours[1][i], intercept)
    X, y = wine
    fitted = _both(X, y, hidden_layer_sizes=(6,), activation=activation, solver="sgd",
                   batch_size=len(X), shuffle=False, max_iter=1, random_state=3)  # fmt: skip
    assert fitted[0].loss_curve_[0] == pytest.approx(fitted[1].loss_curve_[0], rel=1e-12)
