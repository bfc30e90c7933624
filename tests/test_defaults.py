"""Better by default (issue #20): ``jaxmlp train`` with no flags stops on the held-out
*loss* with a patience counted in optimizer steps, trains an ensemble as one program,
scales numeric columns robustly -- checked against hand computations and scikit-learn --
and whole-number regression targets stay continuous (issue #27)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss
from sklearn.preprocessing import RobustScaler
from typer.testing import CliRunner

import jaxmlp
from jaxmlp import MLPClassifier, MLPEnsembleClassifier
from jaxmlp.cli import app
from jaxmlp.data.schema import smooth_clip
from jaxmlp.sklearn.table_fit import (
    MIN_PATIENCE_EPOCHS,
    PATIENCE_STEPS,
    batch_rows,
    fit_members,
    patience_epochs,
    table_params,
)

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _rings(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Two noisy rings (an MLP separates them; a linear model cannot), a column of noise,
    a categorical column of noise and a few missing values."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    radius = np.where(label == 1, 1.0, 2.0) + rng.normal(0, 0.12, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    df = pd.DataFrame({"x": radius * np.cos(angle) * 100 + 500,  # unscaled on purpose
                       "y": radius * np.sin(angle), "noise": rng.normal(size=n),
                       "colour": rng.choice(["red", "green", "blue"], n),
                       "ring": np.where(label == 1, "inner", "outer")})  # fmt: skip
    df.loc[rng.choice(n, 5, replace=False), "noise"] = np.nan
    return df


def test_a_300_row_table_an_mlp_separates_reaches_095_by_default(tmp_path):
    path = tmp_path / "rings.csv"
    _rings().to_csv(path, index=False)
    result = run("train", path, "--target", "ring", "--out", tmp_path / "m", "--json",
                 "--no-baseline")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["validation"]["accuracy"] >= 0.95, summary["validation"]
    model = jaxmlp.load(tmp_path / "m")
    assert len(model.members) == 4  # the default ensemble, all members saved
    assert model.members[0].coefs_[0].dtype == np.float32  # the default precision
    # the saved model answers what the members' mean says (a forward pass by hand)
    df = _rings(40, seed=1)
    X = model.encode_features(df).astype(np.float64)
    probs = []
    for m in model.members:
        h = X
        for i, (W, b) in enumerate(zip(m.coefs_, m.intercepts_, strict=True)):
            h = h @ W + b
            if i < len(m.coefs_) - 1:
                h = np.maximum(h, 0)
        probs.append(1 / (1 + np.exp(-h[:, 0])))
    p1 = np.mean(probs, axis=0)
    np.testing.assert_allclose(model.predict_proba(df)[:, 1], p1, rtol=1e-5, atol=1e-6)  # float32
    pred = run("predict", tmp_path / "m", path)
    assert pred.exit_code == 0, pred.output
    assert pred.output.count("\n") == len(_rings()) + 1


def test_early_stopping_on_the_loss_keeps_the_weights_of_the_lowest_validation_loss():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    y = (X[:, 0] + 0.8 * rng.normal(size=400) > 0).astype(int)  # noisy: it overfits
    X_ext, y_ext = X[300:], y[300:]
    clf = MLPClassifier(hidden_layer_sizes=(64,), early_stopping=True,
                        early_stopping_metric="loss", n_iter_no_change=5, max_iter=300,
                        learning_rate_init=0.01, random_state=0)  # fmt: skip
    clf.fit(X[:300], y[:300], eval_set=[(X_ext, y_ext)])
    v = np.asarray(clf.validation_loss_curve_)
    best = int(np.argmin(v))
    # it stopped once the held-out loss had not fallen for more than 5 epochs ...
    assert clf.n_iter_ == best + 1 + 6 < 300
    assert np.all(v[best + 1 :] > v[best] - clf.tol)
    # ... and predicts with the weights after that best epoch: their log loss on another
    # set is the one recorded after that epoch
    got = log_loss(y_ext, clf.predict_proba(X_ext))
    np.testing.assert_allclose(got, clf.eval_curves_[best, 0, 0], rtol=1e-9)
    assert clf.best_validation_score_ == pytest.approx(clf.validation_scores_[best])


def test_an_ensemble_member_equals_that_member_trained_alone():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    template = MLPClassifier(hidden_layer_sizes=(16,), early_stopping=True,
                             early_stopping_metric="loss", n_iter_no_change=20,
                             max_iter=150)  # fmt: skip
    ens = MLPEnsembleClassifier(template, n_estimators=3, random_state=0).fit(X, y)
    for member in ens.estimators_:
        alone = MLPClassifier(**member.get_params()).fit(X, y)
        assert alone.n_iter_ == member.n_iter_
        for a, b in zip(alone.coefs_, member.coefs_, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)  # float64 round-off


def test_an_ensemble_reports_its_epochs_as_it_trains():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    calls = []
    template = MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, tol=0.0)
    ens = MLPEnsembleClassifier(template, n_estimators=2, random_state=0)
    ens.fit(X, y, callback=lambda epochs, loss: calls.append((epochs, loss)))
    done = [e for e, _ in calls]
    # one call per chunk of 128 epochs (bridge.CHUNK), the last at the members' most epochs
    assert done == sorted(done) and len(calls) >= 2 and done[-1] == 300
    assert done[-1] == max(m.n_iter_ for m in ens.estimators_)
    # the loss is the members' mean training loss of the latest epoch run
    np.testing.assert_allclose(calls[-1][1], np.mean([m.loss_curve_[-1] for m in ens.estimators_]),
                               rtol=1e-6)  # fmt: skip


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_learning_curves_of_a_large_table_are_measured_on_a_sample(monkeypatch):
    """Above CURVE_ROWS rows the per-epoch curves use CURVE_ROWS rows drawn without
    replacement (numpy's generator, seed 0, in row order): the last epoch's training
    log loss equals scikit-learn's on exactly those rows."""
    import jaxmlp.sklearn.table_fit as table_fit

    monkeypatch.setattr(table_fit, "CURVE_ROWS", 50)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    params = {"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0, "dtype": "float32"}
    fitted = fit_members(params, False, 1, X, y, X[:30], y[:30], None, None)
    rows = np.sort(np.random.default_rng(0).choice(200, 50, replace=False))
    expected = log_loss(y[rows], fitted.estimator.predict_proba(X[rows]), labels=[0, 1])
    np.testing.assert_allclose(fitted.curves[-1, 0, 0], expected, rtol=1e-4)
    # the validation set is under 50 rows: all of it
    expected = log_loss(y[:30], fitted.estimator.predict_proba(X[:30]), labels=[0, 1])
    np.testing.assert_allclose(fitted.curves[-1, 1, 0], expected, rtol=1e-4)


def test_patience_is_counted_in_optimizer_steps_and_batches_fit_the_table():
    # 100 rows: 90 fit in one batch of 200 -> one step per epoch: 200 steps are 200 epochs
    assert patience_epochs(100, {"validation_fraction": 0.1, "batch_size": 200}) == PATIENCE_STEPS
    # 100,000 rows in batches of 200: 450 steps per epoch -> the floor in epochs
    assert patience_epochs(100_000, {"batch_size": 200}) == MIN_PATIENCE_EPOCHS
    assert patience_epochs(1_000, {"batch_size": 64}) == math.ceil(200 / math.ceil(900 / 64))
    # 'auto' batches: a power of two near an eighth of the rows, within [32, 256]
    assert [batch_rows(n) for n in (50, 300, 900, 3000, 10**6)] == [32, 32, 128, 256, 256]
    filled = table_params({"early_stopping": True, "batch_size": "auto",
                           "n_iter_no_change": None, "max_iter": None}, 1000)  # fmt: skip
    assert filled["batch_size"] == batch_rows(900) == 128 and filled["max_iter"] == 1000
    assert filled["n_iter_no_change"] == math.ceil(200 / math.ceil(900 / 128))
    assert filled["early_stopping_metric"] == "loss"


def test_numeric_columns_are_scaled_robustly_and_clipped_smoothly(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"income": rng.lognormal(10, 1, 200), "age": rng.integers(18, 90, 200)})
    df.loc[0, "income"] = 1e9  # one outlier must not squash everyone else
    df["label"] = np.where(df.age > 50, "old", "young")
    from jaxmlp.data.prepare import prepare_table

    table = prepare_table(df, "label", test_size=0.25, seed=0)
    train_rows = table.frames[0]
    expected = smooth_clip(RobustScaler().fit_transform(train_rows[["income", "age"]]))
    np.testing.assert_allclose(table.split.X_train, expected, rtol=1e-6)
    assert np.abs(table.split.X_train).max() <= 3
    np.testing.assert_allclose(smooth_clip(np.array([0.0, 3.0, -1e9])),
                               [0.0, 3 / np.sqrt(2), -3.0], rtol=1e-12)  # fmt: skip


def test_a_whole_number_price_with_a_target_encoded_column_trains_and_predicts(tmp_path):
    # issue #27: TargetEncoder(target_type='auto') read whole-dollar prices as classes
    rng = np.random.default_rng(0)
    n = 600
    zips = rng.choice([f"zip-9{i:04d}" for i in range(80)], n)
    effect = {z: rng.normal(0, 5e4) for z in np.unique(zips)}
    sqft = rng.uniform(500, 4000, n)
    price = (150 * sqft + np.vectorize(effect.get)(zips) + rng.normal(0, 2e4, n)).round()
    df = pd.DataFrame({"sqft": sqft.round(), "zip": zips, "price": price.astype(np.int64)})
    path = tmp_path / "homes.csv"
    df.to_csv(path, index=False)
    result = run("train", path, "--target", "price", "--out", tmp_path / "m", "--json",
                 "--no-baseline")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["validation"]["r2"] > 0.5, summary["validation"]
    record = json.loads((tmp_path / "m" / "model.json").read_text())
    assert record["table"]["target_type"] == "continuous"
    model = jaxmlp.load(tmp_path / "m")
    assert model.members[0].n_features_in_ == 2  # sqft and the zip's encoding
    pred = run("predict", tmp_path / "m", path)
    assert pred.exit_code == 0, pred.output
