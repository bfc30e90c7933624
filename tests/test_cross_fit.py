"""Cross-fitting (issue #27 item 2): folds as members of one program, every row training the
final model and scored out of fold -- against references: each member trained alone on
its rows, the stored out-of-fold predictions, scikit-learn's gradient boosting fitted by
hand on the same folds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_random_state
from typer.testing import CliRunner

import jaxmlp
from jaxmlp import MLPClassifier, MLPEnsembleClassifier, TableClassifier, TableRegressor
from jaxmlp.cli import app


def _table(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                       "colour": rng.choice(["red", "blue", "green"], n)})  # fmt: skip
    y = np.where(df["a"] + 0.5 * (df["colour"] == "red") - df["b"] > 0, "yes", "no")
    return df, y


def test_each_fold_member_equals_that_fold_trained_alone():
    """Member i of a cross-fitted ensemble trains on the rows outside fold i and stops on
    fold i: the same weights as that member fitted alone on those rows, stopping on them."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(240, 5)).astype(np.float32)
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    folds = [f for _, f in StratifiedKFold(3, shuffle=True, random_state=0).split(X, y)]
    template = MLPClassifier(hidden_layer_sizes=(16,), early_stopping=True, max_iter=300,
                             n_iter_no_change=5, learning_rate_init=0.01)  # fmt: skip
    ens = MLPEnsembleClassifier(template, n_estimators=3, random_state=7).fit(X, y, folds=folds)
    seeds = check_random_state(7).randint(np.iinfo(np.int32).max, size=3)
    for i, fold in enumerate(folds):
        rest = np.setdiff1d(np.arange(len(X)), fold)
        alone = MLPClassifier(**{**template.get_params(), "random_state": int(seeds[i])})
        alone._held_out = (X[fold], y[fold])  # the rows it stops on, as the ensemble gives
        alone.fit(X[rest], y[rest])
        member = ens.estimators_[i]
        assert member.n_iter_ == alone.n_iter_ < 300  # stopped early, on its own fold
        for a, b in zip(member.coefs_, alone.coefs_, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        assert not hasattr(member, "_held_out")  # the rows are not kept in the model


def test_out_of_fold_predictions_and_score_come_from_the_member_that_left_the_row_out():
    df, y = _table()
    model = TableClassifier(hidden_layer_sizes=(16,), ensemble=4, random_state=0).fit(df, y)
    assert len(model.members) == 4 and len(model.cv_folds_) == 4
    held = np.concatenate(model.cv_folds_)
    assert sorted(held.tolist()) == list(range(len(df)))  # every row in exactly one fold
    Xt = model.encode_features(df)
    for member, fold in zip(model.members, model.cv_folds_, strict=True):
        np.testing.assert_allclose(model.oof_predictions_[fold],
                                   member.predict_proba(Xt[fold]), rtol=1e-6)  # fmt: skip
    codes = model.encode(y)
    assert model.oof_score_ == accuracy_score(codes, model.oof_predictions_.argmax(axis=1))
    assert model.oof_score_ > 0.9  # a table an MLP separates
    # the final model averages the members (each trained on 3 folds of the 4)
    np.testing.assert_allclose(model.predict_proba(df),
                               np.mean([m.predict_proba(Xt) for m in model.members], axis=0),
                               rtol=1e-6)  # fmt: skip


def test_a_regressor_scores_out_of_fold_in_the_targets_units():
    df, _ = _table(240, seed=3)
    target = 1000.0 + 50.0 * df["a"].to_numpy() - 20.0 * df["b"].to_numpy()
    model = TableRegressor(hidden_layer_sizes=(16,), ensemble=3, random_state=0).fit(df, target)
    assert len(model.cv_folds_) == 3
    assert model.oof_score_ == pytest.approx(r2_score(target, model.oof_predictions_))
    assert model.oof_score_ > 0.9
    Xt = model.encode_features(df)
    for member, fold in zip(model.members, model.cv_folds_, strict=True):
        values = member.predict(Xt[fold]) * model.target_scale_ + model.target_mean_
        np.testing.assert_allclose(model.oof_predictions_[fold], values, rtol=1e-6)


def test_cv_none_a_large_table_and_a_time_budget_keep_a_holdout():
    df, y = _table(120)
    for model in (TableClassifier(hidden_layer_sizes=(8,), ensemble=2, max_iter=5, cv=None),
                  TableClassifier(hidden_layer_sizes=(8,), ensemble=1, max_iter=5),
                  TableClassifier(hidden_layer_sizes=(8,), ensemble=2, max_iter=5,
                                  time_budget=60)):  # fmt: skip
        model.fit(df, y)
        assert model.cv_folds_ is None and model.oof_predictions_ is None
    with pytest.raises(ValueError, match="time_budget=60 trains one set of rows"):
        TableClassifier(cv=3, time_budget=60).fit(df, y)
    with pytest.raises(ValueError, match="'cv' parameter"):
        TableClassifier(cv=1).fit(df, y)


def test_a_class_rarer_than_the_folds_gives_fewer_folds_said_in_a_note():
    df, y = _table(120)
    y = y.astype(object)
    y[:3] = "rare"  # 3 rows: 3 folds, not 4
    model = TableClassifier(hidden_layer_sizes=(8,), ensemble=4, max_iter=5).fit(df, y)
    assert len(model.cv_folds_) == 3 and len(model.members) == 3
    assert any("the rarest class, 'rare', has 3 rows: cross-fitted in 3 folds, not 4" in n
               for n in model.fit_notes_)  # fmt: skip


def test_train_scores_out_of_fold_and_so_do_its_baselines(tmp_path: Path):
    """`jaxmlp train` on a small table: every row trains the model; the score, the
    baselines' and the report are out of fold -- gradient boosting's equal to
    scikit-learn's own, fitted here on the same folds of the same encoded rows."""
    df, y = _table(200, seed=5)
    df["label"] = y
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    done = subprocess.run([sys.executable, "-m", "jaxmlp.cli", "train", str(path), "--target",
                           "label", "--hidden", "16", "--max-iter", "30", "--out",
                           str(tmp_path / "m"), "--json"], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["scored"] == "out-of-fold"
    model = jaxmlp.load(tmp_path / "m")
    assert model.get_params()["cv"] == 4 and len(model.members) == 4
    assert model.oof_score_ == summary["validation"]["accuracy"] and model.oof_predictions_ is None
    from jaxmlp.data.prepare import prepare_table

    table = prepare_table(pd.read_csv(path), "label", test_size=0.0, seed=0)
    X, codes = table.split.X_train, table.split.y_train
    oof = np.zeros((len(X), 2))
    for _, fold in StratifiedKFold(4, shuffle=True, random_state=0).split(X, codes):
        rest = np.setdiff1d(np.arange(len(X)), fold)
        hgb = HistGradientBoostingClassifier(random_state=0).fit(X[rest], codes[rest])
        oof[fold] = hgb.predict_proba(X[fold])
    assert summary["gradient_boosting"]["accuracy"] == accuracy_score(codes, oof.argmax(1))
    report = (tmp_path / "m" / "report.html").read_text()
    assert "<h2>Metrics out of fold" in report and "Confusion" in report
    info = json.loads((tmp_path / "m" / "model.json").read_text())["table"]["info"]
    assert info["scored"] == "out-of-fold" and info["rows"]["folds"] == 4


def test_cv_on_the_command_line(tmp_path: Path):
    df, y = _table(120)
    df["label"] = y
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    runner = CliRunner()
    base = ["train", str(path), "--target", "label", "--hidden", "8", "--max-iter", "5",
            "--no-baseline"]  # fmt: skip
    said = runner.invoke(app, [*base, "--cv", "3", "--out", str(tmp_path / "a")])
    assert said.exit_code == 0, said.output
    flat = " ".join(said.output.split())
    assert (
        "120 rows cross-fitted in 3 folds (each member trains on 2 and stops on its own; "
        "scored out of fold)"
        in flat
        and "out-of-fold accuracy" in flat
    )
    held = runner.invoke(app, [*base, "--test-size", "0.2", "--out", str(tmp_path / "b")])
    assert held.exit_code == 0 and "96 train / 24 validation rows" in " ".join(held.output.split())
    assert "trains on a hold-out" not in held.output  # asked for
    # one network: 'auto' cannot cross-fit, and says what it does instead
    one = runner.invoke(app, [*base, "--ensemble", "1", "--out", str(tmp_path / "c")])
    assert one.exit_code == 0, one.output
    assert ("one network trains on a hold-out: 25% of the rows score the model and are not "
            "trained on (--cv K cross-fits K members over every row)") in " ".join(
        one.output.replace("│", " ").split())  # fmt: skip
    same = runner.invoke(app, [*base, "--ensemble", "3", "--cv", "3", "--out",
                               str(tmp_path / "d")])  # fmt: skip
    assert same.exit_code == 0, same.output  # the same count said twice is no conflict
    for args, fragment in (
        (["--cv", "1"], "'1' is not a number of folds"),
        (["--cv", "many"], "use a whole number from 2 to 20"),
        (["--cv", "500"], "'500' folds is more than 20: each fold is one member"),
        (["--cv", "3", "--test-size", "0.2"], "--cv 3 and --test-size 0.2 disagree"),
        (["--cv", "3", "--time-budget", "5"], "--cv 3 and --time-budget 5 disagree"),
        (
            ["--cv", "3", "--ensemble", "1"],
            "--cv 3 and --ensemble 1 disagree: cross-fitting trains one member per fold (3)",
        ),
    ):
        bad = runner.invoke(app, [*base, *args, "--out", str(tmp_path / "never")])
        assert bad.exit_code == 2, bad.output
        assert fragment in " ".join(bad.output.replace("│", " ").split())
        assert not (tmp_path / "never").exists()


def test_folders_written_before_cross_fitting_load_with_a_holdout():
    old = jaxmlp.load(Path(__file__).parent / "data" / "models-v0.1" / "table")
    assert old.get_params()["cv"] is None


def test_more_folds_than_twenty_are_refused_before_training():
    """Each fold is a member: cv=500 on 120 rows would train ~120 networks (minutes),
    so scikit-learn's parameter validation refuses it, naming the range."""
    from sklearn.utils._param_validation import InvalidParameterError

    df, y = _table(120)
    with pytest.raises(InvalidParameterError, match=r"'cv' parameter .* range \[2, 20\]"):
        TableClassifier(cv=500).fit(df, y)


def test_a_class_of_one_row_falls_back_to_a_holdout_said_in_a_note(tmp_path: Path):
    """No fold can hold out a class of one row: `jaxmlp train` keeps a holdout and says so,
    and a scored slice of one class draws no ROC curve (nor matplotlib's legend warning)."""
    import warnings

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=40).round(3), "y": ["z"] + ["x"] * 39})
    df.to_csv(tmp_path / "t.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        said = CliRunner().invoke(app, ["train", str(tmp_path / "t.csv"), "--target", "y",
                                        "--hidden", "4", "--max-iter", "5", "--no-baseline",
                                        "--out", str(tmp_path / "m")])  # fmt: skip
    assert said.exit_code == 0, said.output
    flat = " ".join(said.output.split())
    assert (
        "Note: the rarest class, 'z', has a single row: not cross-fitted; trained with a holdout"
    ) in flat
    assert "30 train / 10 validation rows" in flat  # the warning-as-error did not fire


def test_a_model_fitted_in_python_keeps_its_out_of_fold_score_through_save(tmp_path: Path):
    """jaxmlp.save of a TableClassifier fitted in Python wrote an empty info: the loaded
    model had no oof_score_ (a folder written by jaxmlp train had it)."""
    df, y = _table(160)
    model = TableClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(df, y)
    assert model.oof_score_ == accuracy_score(
        model.encode(y), np.asarray(model.oof_predictions_).argmax(axis=1)
    )
    jaxmlp.save(model, tmp_path / "m")
    back = jaxmlp.load(tmp_path / "m")
    assert back.oof_score_ == model.oof_score_
    np.testing.assert_array_equal(back.predict_proba(df), model.predict_proba(df))
