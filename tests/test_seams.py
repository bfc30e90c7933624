"""Public seams: watching a fit (``fit(callback=, eval_set=)``), the fitted state as data
(``get_fitted_state`` / ``set_fitted_state``, used by pickle and the model files), a
report passed to ``save``, and model folders written by jaxmlp 0.1.0 loading unchanged."""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss

import jaxmlp

OLD = Path(__file__).parent / "data" / "models-v0.1"


def _fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


def test_callback_reports_every_chunk_with_the_loss_curve(iris):
    X, y = iris
    seen = []
    est = jaxmlp.MLPClassifier((8,), max_iter=300, tol=0.0, n_iter_no_change=1000,
                               random_state=0)  # fmt: skip
    _fit(est, X, y, callback=lambda done, loss: seen.append((done, loss)))
    assert [d for d, _ in seen] == [128, 256, 300]  # a host sync per chunk of 128 epochs
    for done, loss in seen:
        assert loss == pytest.approx(est.loss_curve_[done - 1], rel=1e-12)


def test_eval_set_curves_end_at_the_final_models_metrics(iris):
    """The last row of ``eval_curves_`` is the fitted model's log loss and accuracy on
    each set, as scikit-learn's metrics compute them from predict_proba."""
    X, y = iris
    sets = [(X[:75], y[:75]), (X[75:], y[75:])]
    est = _fit(jaxmlp.MLPClassifier((8,), max_iter=40, random_state=0), X, y, eval_set=sets)
    assert est.eval_curves_.shape == (est.n_iter_, 2, 2)
    for k, (Xs, ys) in enumerate(sets):
        p = est.predict_proba(Xs)
        loss = log_loss(ys, p, labels=[0, 1, 2])
        assert est.eval_curves_[-1, k, 0] == pytest.approx(loss, rel=1e-9)
        assert est.eval_curves_[-1, k, 1] == pytest.approx(accuracy_score(ys, p.argmax(1)))
    plain = _fit(jaxmlp.MLPClassifier((8,), max_iter=40, random_state=0), X, y)
    np.testing.assert_array_equal(plain.coefs_[0], est.coefs_[0])  # watching changes nothing


def test_fitted_state_moves_a_model_into_another_estimator(iris):
    X, y = iris
    est = _fit(jaxmlp.MLPClassifier((6,), max_iter=30, random_state=0), X, y)
    state = est.get_fitted_state()
    other = jaxmlp.MLPClassifier((6,), max_iter=30, random_state=0).set_fitted_state(state)
    np.testing.assert_array_equal(other.predict_proba(X), est.predict_proba(X))
    assert other.loss_curve_ == est.loss_curve_ and other.n_iter_ == est.n_iter_


def test_pickle_goes_through_the_fitted_state_and_warm_starts_exactly(iris):
    """The pickled dict holds the fitted state as one blob (no private attributes), and
    a warm start after unpickling continues as without pickling (optimizer state kept)."""
    X, y = iris
    est = _fit(jaxmlp.MLPClassifier((6,), max_iter=20, warm_start=True, random_state=0), X, y)
    state = est.__getstate__()
    assert "_fitted_state" in state
    assert not {"coefs_", "_engine_state", "_label_binarizer"} & set(state)
    copy = pickle.loads(pickle.dumps(est))
    _fit(est, X, y), _fit(copy, X, y)
    np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))
    assert copy.loss_curve_ == est.loss_curve_


def test_save_keeps_a_report_only_when_given(iris, tmp_path):
    X, y = iris
    est = _fit(jaxmlp.MLPClassifier((4,), max_iter=5, random_state=0), X, y)
    jaxmlp.save(est, tmp_path / "plain")
    jaxmlp.save(est, tmp_path / "reported", report="<html>made here</html>")
    assert not (tmp_path / "plain" / "report.html").exists()
    assert (tmp_path / "reported" / "report.html").read_text() == "<html>made here</html>"


def test_model_folders_written_by_version_0_1_load_and_predict_the_same():
    expected = json.loads((OLD / "expected.json").read_text())
    table = jaxmlp.load(OLD / "table")
    rows = pd.read_csv(OLD / "rows.csv")
    # a float32 network answers in float32 (#21): equal to float32 rounding, not float64's
    np.testing.assert_allclose(table.predict_proba(rows), expected["table_proba"], rtol=1e-6)
    assert table.predict(rows).tolist() == expected["table_predict"]
    clf = jaxmlp.load(OLD / "classifier")
    from sklearn.datasets import load_iris

    X = load_iris(return_X_y=True)[0][::5, :2].astype(np.float32)  # as make_models.py
    np.testing.assert_allclose(clf.predict_proba(X), expected["classifier_proba"], rtol=1e-6)


def test_uncertainty_of_float32_members_with_certain_predictions_is_finite():
    """A sweep's members predict in float32 and may put exactly 0 on a class."""
    from jaxmlp.sklearn.ensemble import uncertainty

    members = np.array([[[1.0, 0.0], [0.5, 0.5]], [[0.0, 1.0], [0.5, 0.5]]], np.float32)
    u = uncertainty(members)
    np.testing.assert_allclose(u.entropy, [np.log(2), np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(u.expected_entropy, [0.0, np.log(2)], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(u.mutual_information, [np.log(2), 0.0], rtol=1e-6, atol=1e-7)
