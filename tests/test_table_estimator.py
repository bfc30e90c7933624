"""``TableClassifier`` / ``TableRegressor``: the model ``jaxmlp train`` builds, as
scikit-learn estimators that take a DataFrame (issue #20, item 6)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.utils.estimator_checks import check_estimator
from typer.testing import CliRunner

import jaxmlp
from jaxmlp import TableClassifier, TableRegressor
from jaxmlp.cli import app

# 100 epochs: cross-fitted members learn from half the rows each (2 folds)
SMALL = {"hidden_layer_sizes": (8,), "ensemble": 2, "max_iter": 100}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@pytest.mark.parametrize("cls", [TableClassifier, TableRegressor])
def test_passes_scikit_learns_estimator_checks(cls):
    """scikit-learn's own check suite, every check (a small network keeps it short)."""
    results = check_estimator(cls(**SMALL), on_fail=None)
    failed = [(r["check_name"], repr(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]  # fmt: skip
    assert not failed
    assert sum(r["status"] == "passed" for r in results) >= 45


def _table(n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    size = rng.normal(10, 3, n)
    colour = rng.choice(["red", "green", "blue"], n)
    flag = rng.random(n) < 0.5
    size[::17] = np.nan  # imputed
    price = 2 * np.nan_to_num(size, nan=10) + (colour == "red") * 5 + flag * 3
    label = np.where(price + rng.normal(0, 0.3, n) > 26, "dear", "cheap")
    return pd.DataFrame({"size": size, "colour": colour, "flag": flag, "price": price,
                         "label": label})  # fmt: skip


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_regressor_answers_the_members_mean_in_the_targets_units():
    """A forward pass written here: the preprocessing's output through each member, the
    members averaged, then un-standardised with the training target's own mean and
    standard deviation."""
    df = _table()
    X, y = df[["size", "colour", "flag"]], df["price"].to_numpy()
    model = TableRegressor(**SMALL, random_state=0).fit(X, y)
    Xt = model.preprocessor_.transform(X).astype(np.float32)
    members = np.mean([m.predict(Xt) for m in model.estimator_.estimators_], axis=0)
    expected = members * np.std(y) + np.mean(y)
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-5, atol=1e-5)
    assert len(model.estimator_.estimators_) == 2
    # columns by name, in any order, extra columns ignored
    shuffled = X[["flag", "size", "colour"]].assign(other=1)
    np.testing.assert_allclose(model.predict(shuffled), model.predict(X))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_train_builds_it_and_load_returns_it(tmp_path: Path):
    """`jaxmlp train` cross-fits every row (2 folds for --ensemble 2); the loaded model is
    a TableClassifier whose parameters are the flags, and refitting a clone of it on the
    same rows gives the same model; with --cv none it fits the rows of its seeded,
    stratified split (made here again with scikit-learn)."""
    df = _table().drop(columns="price")
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "m"
    result = CliRunner().invoke(app, ["train", str(path), "--target", "label", "--hidden", "16",
                                      "--ensemble", "2", "--max-iter", "40", "--no-baseline",
                                      "--random-state", "3", "--out", str(out), "-q"])  # fmt: skip
    assert result.exit_code == 0, result.output
    loaded = jaxmlp.load(out)
    assert isinstance(loaded, TableClassifier)
    params = loaded.get_params()
    assert params["hidden_layer_sizes"] == (16,) and params["ensemble"] == 2
    assert params["max_iter"] == 40 and params["random_state"] == 3 and params["cv"] == 2
    assert list(loaded.feature_names_in_) == ["size", "colour", "flag"]
    again = pd.read_csv(path)
    refit = clone(loaded).fit(again.drop(columns="label"), again["label"])
    np.testing.assert_allclose(refit.predict_proba(again), loaded.predict_proba(again),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    # the out-of-fold score is the accuracy of the stored out-of-fold probabilities
    codes = refit.encode(again["label"])
    assert refit.oof_score_ == np.mean(refit.oof_predictions_.argmax(axis=1) == codes)
    majority = again["label"].value_counts(normalize=True).max()
    assert refit.oof_score_ > majority
    result = CliRunner().invoke(app, ["train", str(path), "--target", "label", "--hidden", "16",
                                      "--ensemble", "2", "--max-iter", "40", "--no-baseline",
                                      "--random-state", "3", "--cv", "none", "--out",
                                      str(tmp_path / "h"), "-q"])  # fmt: skip
    assert result.exit_code == 0, result.output
    held = jaxmlp.load(tmp_path / "h")
    assert held.get_params()["cv"] is None
    train, test = train_test_split(again, test_size=0.25, random_state=3,
                                   stratify=again["label"])  # fmt: skip
    refit = clone(held).fit(train.drop(columns="label"), train["label"])
    np.testing.assert_allclose(refit.predict_proba(test), held.predict_proba(test),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    assert held.score(test, test["label"]) > majority + 0.1


def test_old_model_folders_load_as_the_estimator():
    """A table model folder written by jaxmlp 0.1 (format 1) loads as a TableClassifier."""
    old = Path(__file__).parent / "data" / "models-v0.1" / "table"
    model = jaxmlp.load(old)
    assert isinstance(model, TableClassifier)
    assert model.get_params()["ensemble"] == 1


def test_bad_input_names_the_fix():
    df = _table()
    with pytest.raises(ValueError, match="one class"):
        TableClassifier(**SMALL).fit(df[["size"]], np.ones(len(df)))
    with pytest.raises(ValueError, match="requires y"):
        TableClassifier(**SMALL).fit(df[["size"]], None)
    with pytest.raises(ValueError, match="one target per row"):
        TableRegressor(**SMALL).fit(df[["size"]], np.ones(3))
