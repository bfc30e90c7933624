"""What jaxmlp.MLPClassifier adds to scikit-learn's, its targets and inputs, and bad input."""

import re
import sys

import jax
import numpy as np
import optax
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import quiet_fit
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from jaxmlp import DivergenceError, MLPClassifier
from jaxmlp.core.program import bucket, feature_bucket

FAST = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=150, random_state=0)


@pytest.mark.parametrize("activation", ["swish", "gelu", jax.nn.softplus])
def test_extra_activations_learn(iris, activation):
    X, y = iris
    est = quiet_fit(MLPClassifier(activation=activation, **FAST), X, y)
    assert est.score(X, y) > 0.9


def test_callable_activation_is_used(iris):
    X, y = iris
    a = quiet_fit(MLPClassifier(activation=jax.nn.relu, **FAST), X, y)
    b = quiet_fit(MLPClassifier(activation="relu", **FAST), X, y)
    c = quiet_fit(MLPClassifier(activation=jnp_abs, **FAST), X, y)
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-6)
    assert not np.allclose(a.coefs_[0], c.coefs_[0])


def jnp_abs(x):
    return jax.numpy.abs(x)


def test_dropout_trains_and_predicts_deterministically(iris):
    X, y = iris
    plain = quiet_fit(MLPClassifier(**FAST), X, y)
    dropped = quiet_fit(MLPClassifier(dropout=0.3, **FAST), X, y)
    assert not np.allclose(plain.coefs_[0], dropped.coefs_[0])  # dropout changed training
    # no dropout at prediction: a forward pass written here with the fitted weights
    (W1, W2), (b1, b2) = dropped.coefs_, dropped.intercepts_
    logits = np.maximum(X @ W1 + b1, 0) @ W2 + b2
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(
        dropped.predict_proba(X), expected / expected.sum(axis=1, keepdims=True), rtol=1e-10
    )
    assert dropped.score(X, y) > 0.85
    again = quiet_fit(MLPClassifier(dropout=0.3, **FAST), X, y)  # same seed, same masks
    np.testing.assert_array_equal(again.coefs_[0], dropped.coefs_[0])


def test_class_weight_balanced_equals_the_sample_weights_it_stands_for(iris):
    X, y = iris
    keep = np.r_[0:50, 50:70, 100:150]  # imbalanced: 50 / 20 / 50
    X, y = X[keep], y[keep]
    counts = np.bincount(y)
    sw = (len(y) / (3 * counts))[y]
    a = quiet_fit(MLPClassifier(class_weight="balanced", **FAST), X, y)
    b = quiet_fit(MLPClassifier(**FAST), X, y, sample_weight=sw)
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-6)
    c = quiet_fit(MLPClassifier(class_weight={0: 1.0, 1: 5.0, 2: 1.0}, **FAST), X, y)
    d = quiet_fit(MLPClassifier(**FAST), X, y, sample_weight=np.where(y == 1, 5.0, 1.0))
    np.testing.assert_allclose(c.coefs_[0], d.coefs_[0], rtol=1e-6)


def test_zero_weight_equals_dropping_the_row(iris):
    X, y = iris
    w = np.ones(len(y))
    w[::7] = 0
    a = quiet_fit(MLPClassifier(**FAST), X, y, sample_weight=w)
    b = quiet_fit(MLPClassifier(**FAST), X[w > 0], y[w > 0])
    # full batch (n < 200): the same objective; same initial draws
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-6)


def test_early_stopping_restores_best_and_records_validation_loss(iris):
    X, y = iris
    est = quiet_fit(MLPClassifier(early_stopping=True, n_iter_no_change=5, max_iter=400,
                            hidden_layer_sizes=(16,), learning_rate_init=0.05,
                            random_state=0), X, y)  # fmt: skip
    n = est.n_iter_
    assert len(est.validation_scores_) == len(est.validation_loss_curve_) == n
    assert len(est.loss_curve_) == n and est.best_loss_ is None
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert n < 400 and est.stop_training_  # stopped by the rule, not by max_iter
    best = int(np.argmax(est.validation_scores_))
    assert n - best - 1 > est.n_iter_no_change  # no improvement for more than 5 epochs
    assert all(np.isfinite(est.validation_loss_curve_))


def test_partial_fit_streams_and_supports_early_stopping(iris):
    X, y = iris
    rng = np.random.RandomState(0)
    est = MLPClassifier(early_stopping=True, n_iter_no_change=3, validation_fraction=0.2,
                        hidden_layer_sizes=(16,), learning_rate_init=0.05,
                        random_state=0)  # fmt: skip
    calls = 0
    while not getattr(est, "stop_training_", False) and calls < 200:
        idx = rng.permutation(len(y))[:100]
        est.partial_fit(X[idx], y[idx], classes=np.unique(y))
        calls += 1
    assert est.stop_training_ and calls < 200
    assert len(est.validation_scores_) == calls
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.score(X, y) > 0.75  # learned (chance: 0.33); stopped early on small chunks


def test_partial_fit_needs_classes_first_and_rejects_new_ones(iris):
    X, y = iris
    est = MLPClassifier(**FAST)
    with pytest.raises(ValueError, match=r"classes must be passed on the first call"):
        est.partial_fit(X, y)
    est.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert est.n_iter_ == 1 and list(est.classes_) == [0, 1, 2]
    with pytest.raises(ValueError, match=re.escape("`y` has classes not in `self.classes_`")):
        est.partial_fit(X, np.where(y == 2, 7, y))
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
        MLPClassifier(solver="lbfgs").partial_fit(X, y, classes=[0, 1, 2])
    assert "lbfgs is not stochastic" in str(info.value.__cause__)


def test_partial_fit_continues_the_optimizer_like_fit(iris):
    """Ten partial_fit calls on full data == fit with max_iter=10 (full batch, no stop)."""
    X, y = iris
    params = dict(hidden_layer_sizes=(8,), learning_rate_init=0.01, random_state=0, tol=0)
    a = quiet_fit(MLPClassifier(max_iter=10, **params), X, y)
    b = MLPClassifier(**params)
    for _ in range(10):
        b.partial_fit(X, y, classes=[0, 1, 2])
    np.testing.assert_allclose(b.coefs_[0], a.coefs_[0], rtol=1e-5)
    np.testing.assert_allclose(b.loss_curve_, a.loss_curve_, rtol=1e-5)


def test_warm_start_continues_from_the_previous_weights(iris):
    X, y = iris
    est = quiet_fit(MLPClassifier(warm_start=True, **{**FAST, "max_iter": 20}), X, y)
    first = [c.copy() for c in est.coefs_]
    quiet_fit(est, X, y)
    assert len(est.loss_curve_) == 40
    assert est.loss_curve_[20] < est.loss_curve_[0]  # did not restart
    assert not np.allclose(first[0], est.coefs_[0])


def test_any_optax_optimizer(iris):
    X, y = iris
    # optax's Nesterov SGD is scikit-learn's at a constant rate (velocity scaled by -lr)
    nesterov = optax.sgd(0.01, momentum=0.9, nesterov=True)
    ours = quiet_fit(MLPClassifier(optimizer=nesterov, **FAST), X, y)
    ref = quiet_fit(MLPClassifier(solver="sgd", **FAST), X, y)  # FAST: lr 0.01
    np.testing.assert_allclose(ours.coefs_[0], ref.coefs_[0], rtol=1e-6, atol=1e-9)
    # optax.adam is not the 'adam' solver (scikit-learn's epsilon placement), but close
    ours = quiet_fit(MLPClassifier(optimizer=optax.adam(0.01), **FAST), X, y)
    ref = quiet_fit(MLPClassifier(solver="adam", **FAST), X, y)
    assert not np.array_equal(ours.coefs_[0], ref.coefs_[0])
    np.testing.assert_allclose(ours.coefs_[0], ref.coefs_[0], rtol=1e-2, atol=1e-3)
    clipped = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(0.01, weight_decay=1e-3))
    assert quiet_fit(MLPClassifier(optimizer=clipped, **FAST), X, y).score(X, y) > 0.9


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["setosa", "versicolor", "virginica"]),
        np.array([10, -3, 7]),
        np.array(["a", "bb", "c"], dtype=object),
    ],
)
def test_string_integer_and_object_labels(iris, labels):
    X, y = iris
    est = quiet_fit(MLPClassifier(**FAST), X, labels[y])
    assert set(est.classes_) == set(labels)
    assert est.predict(X).dtype == est.classes_.dtype
    assert (est.predict(X) == labels[y]).mean() > 0.9


def test_binary_uses_one_logistic_output(iris):
    X, y = iris
    yb = np.where(y == 0, "no", "yes")
    est = quiet_fit(MLPClassifier(**FAST), X, yb)
    assert est.n_outputs_ == 1 and est.out_activation_ == "logistic"
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(1), 1)
    np.testing.assert_array_equal(est.predict(X), est.classes_[proba.argmax(1)])
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(proba))


def test_multilabel_indicator_targets():
    X, Y = make_multilabel_classification(n_samples=200, n_classes=4, random_state=0)
    est = quiet_fit(MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0), X, Y)
    assert est.n_outputs_ == 4 and est.out_activation_ == "logistic"
    P = est.predict(X)
    assert P.shape == Y.shape and set(np.unique(P)) <= {0, 1}
    assert est.predict_proba(X).shape == (200, 4)
    assert est.score(X, Y) > 0.5  # subset accuracy


def test_pandas_and_sparse_inputs(iris):
    X, y = iris
    df = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    est = quiet_fit(MLPClassifier(**FAST), df, pd.Series(y))
    assert list(est.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    dense = quiet_fit(MLPClassifier(**FAST), X, y)
    for container in (sp.csr_matrix, sp.csc_matrix, sp.csr_array):
        sparse = quiet_fit(MLPClassifier(**FAST), container(X), y)
        np.testing.assert_allclose(sparse.predict_proba(container(X)), dense.predict_proba(X))


def test_float32_input_trains_in_float32(iris):
    X, y = iris
    est = quiet_fit(MLPClassifier(**FAST), X.astype(np.float32), y)
    assert est.coefs_[0].dtype == np.float32
    assert quiet_fit(MLPClassifier(**FAST), X, y).coefs_[0].dtype == np.float64  # as scikit-learn


def test_dtype_sets_the_training_precision_whatever_the_input(iris):
    X, y = iris
    X32 = X.astype(np.float32)
    # dtype='float32' on float64 input is the fit on the same rows rounded to float32
    a = quiet_fit(MLPClassifier(dtype="float32", **FAST), X, y)
    b = quiet_fit(MLPClassifier(**FAST), X32, y)
    assert a.coefs_[0].dtype == np.float32
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_array_equal(ca, cb)
    assert a.loss_curve_ == b.loss_curve_
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X32))
    # and dtype='float64' trains float32 input in float64
    c = quiet_fit(MLPClassifier(dtype="float64", **FAST), X32, y)
    d = quiet_fit(MLPClassifier(**FAST), X32.astype(np.float64), y)
    assert c.coefs_[0].dtype == np.float64
    np.testing.assert_array_equal(c.coefs_[0], d.coefs_[0])
    # the two precisions learn the same model to float32 accuracy
    np.testing.assert_allclose(a.predict_proba(X), d.predict_proba(X), atol=1e-4)


def test_buckets():
    assert [bucket(n) for n in (1, 8, 9, 17, 100, 4096, 4097, 6145, 8193, 10000)] == [
        8, 8, 16, 32, 128, 4096, 6144, 8192, 12288, 12288,
    ]  # fmt: skip
    for n in range(1, 20000, 7):
        assert n <= bucket(n) <= max(8, 2 * n) and (n <= 4096 or bucket(n) <= 1.5 * n)
    assert [feature_bucket(f) for f in (1, 8, 9, 64, 65, 784)] == [8, 8, 16, 64, 65, 784]


def test_padded_features_leave_the_model_unchanged(iris):
    """3 features run as 8 (zero columns, zero weights): the padding weights stay zero and
    training follows scikit-learn's unpadded run step for step."""
    from sklearn.neural_network import MLPClassifier as SkMLP

    X, y = iris
    X3 = X[:, :3]
    ours = quiet_fit(MLPClassifier(**FAST), X3, y)
    ref = quiet_fit(SkMLP(**FAST), X3, y)
    assert ours.coefs_[0].shape == ref.coefs_[0].shape == (3, 16)
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-5)
    for solver in ("adam", "sgd"):  # (L-BFGS: scipy sees the unpadded weights only)
        est = quiet_fit(MLPClassifier(**(FAST | {"solver": solver})), X3, y)
        W0 = est._engine_state.params[0][0]
        assert W0.shape == (8, 16) and not W0[3:].any()


def test_large_data_mini_batches_match_sklearn_semantics():
    X, y = make_classification(n_samples=1000, n_features=20, n_classes=3, n_informative=6,
                               random_state=0)  # fmt: skip
    est = quiet_fit(MLPClassifier(hidden_layer_sizes=(32,), max_iter=5, random_state=0), X, y)
    assert est.t_ == 5000 and est.n_iter_ == 5 and len(est.loss_curve_) == 5
    assert est.loss_curve_[-1] < est.loss_curve_[0]


# ----------------------------------------------------------------------------- bad input


def sk_message(exc_info):
    return " ".join(str(exc_info.value).split())


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), [0, 1], "Input X contains NaN"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), [0, 1], "Input X contains infinity"),
        (np.array([[1 + 1j, 0], [0, 1]]), [0, 1], "Complex data not supported"),
        (np.empty((0, 3)), [], "Found array with 0 sample(s)"),
        (np.array([1.0, 2.0, 3.0]), [0, 1, 0], "Expected 2D array, got 1D array instead"),
        (np.ones((4, 2)), [0.1, 0.2, 0.3, 0.4], "Unknown label type: continuous"),
        (np.ones((4, 2)), ["a"] * 4, "only one class is present"),
    ],
)
def test_bad_training_data(X, y, message):
    with pytest.raises(ValueError) as info:
        MLPClassifier(max_iter=5).fit(X, np.asarray(y))
    assert message in sk_message(info)


def test_bad_sample_weights(iris):
    X, y = iris
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        MLPClassifier(max_iter=2).fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero"):
        MLPClassifier(max_iter=2).fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match=re.escape("sample_weight.shape == (3,)")):
        MLPClassifier(max_iter=2).fit(X, y, sample_weight=np.ones(3))


def test_wrong_feature_count_at_predict(iris):
    X, y = iris
    est = quiet_fit(MLPClassifier(**FAST), X, y)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 4"):
        est.predict(X[:, :3])


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"alpha": -1}, "alpha"),
        ({"solver": "newton"}, "solver"),
        ({"activation": "softsign"}, "activation"),
        ({"learning_rate_init": 0}, "learning_rate_init"),
        ({"dropout": 1.0}, "dropout"),
        ({"class_weight": "even"}, "class_weight"),
        ({"optimizer": "adam"}, "optimizer"),
        ({"max_iter": 0}, "max_iter"),
        ({"dtype": "float16"}, "dtype"),
    ],
)
def test_invalid_parameters_raise_at_fit(iris, params, name):
    X, y = iris
    est = MLPClassifier(**params)  # __init__ only stores
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of MLPClassifier"):
        est.fit(X, y)


def test_hidden_layer_sizes_must_be_positive(iris):
    X, y = iris
    with pytest.raises(ValueError, match=re.escape("hidden_layer_sizes must be > 0, got [4, 0]")):
        MLPClassifier(hidden_layer_sizes=(4, 0)).fit(X, y)


def test_diverging_fit_raises_instead_of_returning_nan(iris):
    X, y = iris
    est = MLPClassifier(solver="sgd", learning_rate_init=1e30, momentum=0.0, max_iter=50)
    with pytest.raises(DivergenceError, match=r"diverged.*epoch \d+.*learning_rate_init is 1e\+30"):
        est.fit(X * 1e3, y)
    assert isinstance(DivergenceError(1), ValueError)


def test_class_weight_refused_for_multilabel():
    X, Y = make_multilabel_classification(n_samples=50, random_state=0)
    with pytest.raises(ValueError, match="class_weight is not supported for multi-label"):
        MLPClassifier(class_weight="balanced", max_iter=2).fit(X, Y)


def test_convergence_warning_like_sklearn(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPClassifier(max_iter=3).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge after 2 iteration"):
        MLPClassifier(solver="lbfgs", max_iter=2).fit(X, y)


def test_warnings_name_the_line_that_called_fit():
    """Issue #21 defect 6: a fixed stacklevel named a frame above the user's call (or
    ``sys``); the warnings now point at the line calling ``fit``, whether the estimator
    fits alone or as an ensemble's member."""
    import warnings

    from jaxmlp import MLPEnsembleClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = sys._getframe().f_lineno + 1
        MLPClassifier(max_iter=2, batch_size=500).fit(X, y)
        MLPEnsembleClassifier(MLPClassifier(max_iter=2), n_estimators=2).fit(X, y)
    where = {(w.filename, w.lineno, str(w.message)[:20]) for w in caught}
    assert where == {
        (__file__, line, "Got `batch_size` les"),
        (__file__, line, "Stochastic Optimizer"),
        (__file__, line + 1, "Stochastic Optimizer"),
    }
