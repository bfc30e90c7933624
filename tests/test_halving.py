"""MLPHalvingSearchCV and the continued fit behind it.

References: a fit continued rung by rung against one fit of all its epochs trained alone;
the search against scikit-learn's HalvingGridSearchCV(resource='max_iter') over the same
jaxmlp estimator on the same folds (its survivors restart from scratch: with the same
random_state that is the same fit, so every score must agree).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingGridSearchCV, KFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.utils._param_validation import InvalidParameterError

from jaxmlp import MLPClassifier, MLPHalvingSearchCV, MLPRegressor
from jaxmlp.sklearn.bridge import fit_estimators

TIMES = ("mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time")


def _classes(n=150):
    X, y = make_classification(n, 6, n_informative=4, n_classes=3, random_state=0)
    return X, y


def _same_fit(mine, alone, atol):
    assert mine.n_iter_ == alone.n_iter_ and mine.t_ == alone.t_
    assert mine.stop_training_ == alone.stop_training_
    np.testing.assert_allclose(mine.loss_curve_, alone.loss_curve_, rtol=1e-9, atol=atol)
    for a, b in zip(mine.coefs_ + mine.intercepts_, alone.coefs_ + alone.intercepts_,
                    strict=True):  # fmt: skip
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "settings",
    [
        dict(solver="adam"),
        dict(solver="adam", early_stopping=True, n_iter_no_change=3),
        dict(solver="adam", tol=10.0, n_iter_no_change=1),  # stops at epoch 3
        dict(solver="sgd", learning_rate="adaptive", tol=0.05, n_iter_no_change=1),
        dict(solver="sgd", learning_rate="invscaling", momentum=0.5, dropout=0.2),
    ],
)
def test_rungs_add_up_to_one_fit(settings):
    """Fits continued to 4, then 8, then 18 epochs (side by side, resume=True) equal one
    fit of 18 epochs trained alone: weights (float64 to 1e-10), n_iter_, t_, curves,
    stopping (a fit that stopped in the first rung trains no more)."""
    X, y = _classes()
    base = MLPClassifier(hidden_layer_sizes=(8,), batch_size=32, random_state=0, **settings)
    grid = [{"learning_rate_init": 1e-3}, {"learning_rate_init": 1e-2, "alpha": 0.1}]
    mine = [clone(base).set_params(**p, max_iter=4) for p in grid]
    fit_estimators([(m, X, y, None) for m in mine])
    for epochs in (8, 18):
        for m in mine:
            m.set_params(max_iter=epochs)
        assert fit_estimators([(m, X, y, None) for m in mine], resume=True) == [None, None]
    for m, p in zip(mine, grid, strict=True):
        _same_fit(m, clone(base).set_params(**p, max_iter=18).fit(X, y), atol=1e-10)
        if base.early_stopping:
            alone = clone(base).set_params(**p, max_iter=18).fit(X, y)
            np.testing.assert_allclose(m.validation_scores_, alone.validation_scores_)
            assert m.best_validation_score_ == alone.best_validation_score_
    if settings.get("tol") == 10.0:
        assert [(m.stop_training_, m.n_iter_, len(m.loss_curve_)) for m in mine] == [
            (True, 3, 3), (True, 3, 3)]  # fmt: skip


def test_a_continued_fit_refuses_what_it_cannot_resume():
    X, y = _classes(60)
    with pytest.raises(ValueError, match=r"no engine state to resume.*Fit it first"):
        fit_estimators([(MLPClassifier(max_iter=3), X, y, None)], resume=True)
    est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    est.set_params(max_iter=3)
    with pytest.raises(ValueError, match=r"max_iter=3 is below the 5 epochs.*max_iter >= 5"):
        fit_estimators([(est, X, y, None)], resume=True)


def _both(base, grid, X, y, cv, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mine = MLPHalvingSearchCV(base, grid, cv=cv, **kw).fit(X, y)
        kw.setdefault("max_resources", base.max_iter)
        ref = HalvingGridSearchCV(base, grid, cv=cv, resource="max_iter", **kw).fit(X, y)
    return mine, ref


def _same_search(mine, ref, rtol=1e-9):
    names = ("n_resources_", "n_candidates_", "n_iterations_", "n_possible_iterations_",
             "n_required_iterations_", "min_resources_", "max_resources_",
             "n_remaining_candidates_", "n_splits_", "best_index_", "best_params_")  # fmt: skip
    for name in names:
        assert getattr(mine, name) == getattr(ref, name), name
    assert set(mine.cv_results_) == set(ref.cv_results_)
    for key, value in ref.cv_results_.items():
        if key in TIMES:
            continue
        if key == "params":
            assert mine.cv_results_[key] == value
        elif np.ma.isMaskedArray(value):  # param_<name>: masked where a grid lacks it
            assert (mine.cv_results_[key].mask == value.mask).all(), key
            assert mine.cv_results_[key].compressed().tolist() == value.compressed().tolist()
        else:
            mine_value = np.asarray(mine.cv_results_[key], float)
            np.testing.assert_allclose(mine_value, np.asarray(value, float), rtol=rtol,
                                       err_msg=key)  # fmt: skip
    np.testing.assert_allclose(mine.best_score_, ref.best_score_, rtol=rtol)


@pytest.mark.parametrize(
    "kw",
    [
        dict(factor=3),  # min_resources='exhaust': epochs [2, 6, 18]
        dict(factor=2, min_resources=3),
        dict(factor=3, min_resources=2, max_resources=6, aggressive_elimination=True),
    ],
)
def test_matches_halving_grid_search(kw):
    """Schedule, every cv_results_ column but the times, the best candidate, the refit's
    predictions: as HalvingGridSearchCV(resource='max_iter') over the same estimator (the
    aggressive case repeats its first rung: [2, 2, 6])."""
    X, y = _classes()
    base = MLPClassifier(hidden_layer_sizes=(8,), batch_size=50, max_iter=18, random_state=0)
    grid = {"learning_rate_init": [1e-3, 3e-3, 1e-2], "alpha": [1e-4, 1e-2, 1.0]}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    mine, ref = _both(base, grid, X, y, cv, **kw)
    _same_search(mine, ref)
    if kw.get("aggressive_elimination"):
        assert mine.n_resources_ == [2, 2, 6] and mine.n_candidates_ == [9, 3, 1]
    assert mine.n_candidates_[0] == 9 and mine.cv_results_["iter"][0] == 0
    assert mine.best_params_["max_iter"] == mine.n_resources_[-1]
    np.testing.assert_allclose(mine.predict_proba(X), ref.predict_proba(X), rtol=1e-9)
    assert (mine.predict(X) == ref.best_estimator_.predict(X)).all()
    assert mine.score(X, y) == ref.score(X, y)
    assert mine.classes_.tolist() == [0, 1, 2] and mine.n_features_in_ == 6


def test_regressor_matches_halving_grid_search():
    """A regressor (R²), a list of grids with different architectures (two programs),
    float32, no train scores."""
    X, y = make_regression(120, 5, noise=5.0, random_state=0)
    X, y = X.astype(np.float32), (y / 50).astype(np.float32)
    base = MLPRegressor(hidden_layer_sizes=(8,), batch_size=40, max_iter=12, random_state=1)
    grid = [{"learning_rate_init": [1e-3, 1e-2], "alpha": [1e-4, 1.0]},
            {"hidden_layer_sizes": [(4, 4)], "learning_rate_init": [1e-2, 3e-2]}]  # fmt: skip
    cv = KFold(3, shuffle=True, random_state=0)
    mine, ref = _both(base, grid, X, y, cv, factor=2, return_train_score=False)
    _same_search(mine, ref, rtol=1e-4)
    assert "mean_train_score" not in mine.cv_results_
    np.testing.assert_allclose(mine.predict(X), ref.predict(X), rtol=1e-5, atol=1e-6)


def test_no_convergence_warning_before_the_last_rung():
    X, y = _classes(90)
    base = MLPClassifier(hidden_layer_sizes=(4,), max_iter=9, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = MLPHalvingSearchCV(base, {"alpha": [1e-4, 1e-3, 1e-2]}, cv=2).fit(X, y)
    assert search.n_resources_ == [3, 9]
    messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert messages and all("Maximum iterations (9)" in m for m in messages)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_one_candidate_trains_to_max_resources():
    X, y = _classes(90)
    base = MLPClassifier(hidden_layer_sizes=(4,), max_iter=8, random_state=0)
    with pytest.warns(UserWarning, match="One candidate in param_grid: nothing to halve"):
        search = MLPHalvingSearchCV(base, {"alpha": [1e-3]}, cv=2, min_resources=2).fit(X, y)
    assert search.n_resources_ == [8] and search.n_iterations_ == 1
    assert search.best_params_ == {"alpha": 1e-3, "max_iter": 8}
    alone = clone(base).set_params(alpha=1e-3).fit(X, y)
    np.testing.assert_allclose(search.predict_proba(X), alone.predict_proba(X), rtol=1e-9)


@pytest.mark.parametrize(
    ("estimator", "grid", "kw", "error", "match"),
    [
        (MLPClassifier(max_iter=10), {"alpha": [1e-4, 1e-3]}, dict(min_resources=50),
         ValueError, r"min_resources=50 is greater than max_resources=10 \(the estimator's "
         r"max_iter\).*Use min_resources <= 10"),
        (MLPClassifier(), {"alpha": [1e-4, 1e-3]}, dict(factor=1),
         InvalidParameterError, r"'factor' parameter.*range \(1.0, inf\).*Got 1 "),
        (MLPClassifier(), {"alpha": [1e-4, 1e-3]}, dict(factor=0.5),
         InvalidParameterError, r"'factor' parameter.*Got 0.5"),
        (SkMLPClassifier(), {"alpha": [1e-4, 1e-3]}, {},
         TypeError, r"jaxmlp estimators only; estimator is sklearn\.neural_network.*"
         r"MLPClassifier.*HalvingGridSearchCV"),
        (MLPClassifier(), {"max_iter": [10, 20]}, {},
         ValueError, r"param_grid sets max_iter=10.*Remove it from param_grid"),
        (MLPClassifier(solver="lbfgs"), {"alpha": [1e-4, 1e-3]}, {},
         ValueError, r"solver='lbfgs'.*Use solver='adam'"),
        (MLPClassifier(), {"alpha": [1e-4, 1e-3]}, dict(resource="n_samples"),
         InvalidParameterError, r"'resource' parameter.*Got 'n_samples'"),
        (MLPClassifier(), {"alpha": [1e-4, -1.0]}, {},
         InvalidParameterError, r"'alpha' parameter.*Got -1.0"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_before_training(estimator, grid, kw, error, match):
    X, y = _classes(60)
    with pytest.raises(error, match=match):
        MLPHalvingSearchCV(estimator, grid, cv=2, **kw).fit(X, y)
