"""``time_budget`` of the table estimators and ``jaxmlp train --time-budget``: the members
train in rungs that continue each other (whole engine state) and end within the budget;
a budget that does not bind gives the model one fit gives."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from typer.testing import CliRunner

import jaxmlp
from jaxmlp import MLPClassifier, MLPEnsembleClassifier, TableClassifier, TableRegressor
from jaxmlp.cli import app
from jaxmlp.core.program import DivergenceError


def _table(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    X, y = make_classification(n, 8, n_informative=5, flip_y=0.05, random_state=seed)
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(8)]), y


def _epochs(model) -> list[int]:
    return [int(m.max_iter) for m in model.members]


def test_a_budget_shorter_than_the_fit_stops_it_in_time():
    """A fit that would not stop for 100,000 epochs ends within 1.2 x the budget (the
    program compiled once before: the budget is then epochs, on a slow machine too),
    with a note, and the members' max_iter back at the real setting."""
    df, y = _table(2000)
    kw = {"hidden_layer_sizes": (32,), "ensemble": 2, "early_stopping": False, "cv": None,
          "max_iter": 100_000, "n_iter_no_change": 100_000, "random_state": 0}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        TableClassifier(**{**kw, "max_iter": 1}).fit(df, y)  # compiles the same program
    model = TableClassifier(**kw, time_budget=3).fit(df, y)
    assert model.fit_time_s_ <= 1.2 * 3
    assert 3 < model.n_iter_ < 100_000
    assert model.fit_notes_ == [f"stopped by the time budget after {model.n_iter_} epochs "
                                "(--time-budget 3 s); raise it for a longer fit"]  # fmt: skip
    assert _epochs(model) == [100_000, 100_000]
    assert model.estimator_.estimator.max_iter == 100_000
    assert model.eval_curves_.shape[0] == model.n_iter_  # one row per epoch, every rung's
    assert len(model.members[0].loss_curve_) == model.n_iter_
    assert model.score(df, y) > 0.8


@pytest.mark.parametrize(
    ("cls", "extra"),
    [
        (TableClassifier, {"ensemble": 2}),  # early stopping fires in a rung
        (TableRegressor, {"ensemble": 1}),  # one network: continued as its fit runs
        (TableClassifier, {"ensemble": 2, "max_iter": 6}),  # the last rung reaches max_iter
    ],
)
def test_a_budget_that_does_not_bind_gives_one_fits_model(cls, extra):
    """Same seeds, same model: the rungs continue one state, so they end as one fit would
    (predictions, epochs, curves, notes: a ConvergenceWarning only where the full
    max_iter was reached, as without a budget)."""
    df, y = _table(400, seed=1)
    target = y + 0.1 * df["x0"].to_numpy() if cls is TableRegressor else y
    # a budget keeps a holdout ('auto' does not cross-fit in rungs): so does the reference
    kw = {"hidden_layer_sizes": (16,), "random_state": 0, **extra}
    plain = cls(**kw, cv=None).fit(df, target)
    budgeted = cls(**kw, time_budget=300).fit(df, target)
    assert budgeted.n_iter_ == plain.n_iter_
    assert [m.n_iter_ for m in budgeted.members] == [m.n_iter_ for m in plain.members]
    assert budgeted.fit_notes_ == plain.fit_notes_
    if "max_iter" in extra:
        assert plain.fit_notes_ and "Maximum iterations (6)" in plain.fit_notes_[0]
    else:
        assert plain.n_iter_ < 1000  # early stopping fired
    out = "predict_proba" if cls is TableClassifier else "predict"
    # the rungs run the one fit's program: the same numbers, not only close ones
    np.testing.assert_array_equal(getattr(budgeted, out)(df), getattr(plain, out)(df))
    np.testing.assert_array_equal(budgeted.eval_curves_, plain.eval_curves_)
    assert _epochs(budgeted) == _epochs(plain)


def test_a_budget_spent_on_compiling_keeps_the_first_epoch():
    df, y = _table(300, seed=2)
    model = TableClassifier(hidden_layer_sizes=(8,), ensemble=2, random_state=0,
                            time_budget=0.001).fit(df, y)  # fmt: skip
    assert model.n_iter_ == 1 and [m.n_iter_ for m in model.members] == [1, 1]
    assert model.fit_notes_ == ["the time budget of 0.001 s was spent on compiling and the "
                                "first epoch; the model trained 1 epoch: raise "
                                "--time-budget"]  # fmt: skip
    assert _epochs(model) == [1000, 1000]  # the real setting, not the rung's
    assert model.predict_proba(df).shape == (300, 2)


@pytest.mark.parametrize("bad", [0, -1, 0.0, float("nan")])
def test_a_budget_not_above_zero_names_the_fix(bad):
    df, y = _table(50)
    with pytest.raises(ValueError, match=r"time_budget must be > 0, got .*time_budget=60"):
        TableClassifier(time_budget=bad).fit(df, y)


def test_lbfgs_cannot_train_in_rungs():
    df, y = _table(50)
    with pytest.raises(ValueError, match=r"time_budget=5 .*solver='adam'"):
        TableClassifier(time_budget=5, mlp_params={"solver": "lbfgs"}).fit(df, y)


def test_cli_refuses_a_budget_not_above_zero(tmp_path: Path):
    df, y = _table(60)
    path = tmp_path / "t.csv"
    df.assign(label=y).to_csv(path, index=False)
    out = tmp_path / "m"
    proc = subprocess.run([sys.executable, "-m", "jaxmlp.cli", "train", str(path), "--target",
                           "label", "--time-budget", "0", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode != 0
    assert "--time-budget" in proc.stderr and "must be > 0" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists()
    stream = CliRunner().invoke(app, ["train", str(path), "--target", "label", "--stream",
                                      "--time-budget", "5", "--out", str(out)])  # fmt: skip
    assert stream.exit_code == 2 and "--time-budget" in stream.output
    assert not out.exists()


def test_the_model_folder_keeps_the_budget(tmp_path: Path):
    """`jaxmlp train --time-budget` records the budget: `jaxmlp.load` gives an estimator
    with it; a folder written before the budget existed loads with None."""
    df, y = _table(200, seed=3)
    path = tmp_path / "t.csv"
    df.assign(label=y).to_csv(path, index=False)
    out = tmp_path / "m"
    result = CliRunner().invoke(app, ["train", str(path), "--target", "label", "--hidden", "8",
                                      "--ensemble", "2", "--time-budget", "60",
                                      "--no-baseline", "--out", str(out), "-q"])  # fmt: skip
    assert result.exit_code == 0, result.output
    loaded = jaxmlp.load(out)
    assert loaded.get_params()["time_budget"] == 60
    assert _epochs(loaded) == [1000, 1000] and loaded.n_iter_ < 1000
    old = jaxmlp.load(Path(__file__).parent / "data" / "models-v0.1" / "table")
    assert old.get_params()["time_budget"] is None


# ------------------------------------------------------------- the ensemble's continued fit


def test_an_ensemble_continued_ends_as_one_fit():
    """``_resume`` (the rungs of an ensemble) continues the kept members: 5 then 20
    epochs end as one fit of 20 (members, curves, predictions)."""
    X, y = make_classification(300, 6, random_state=4)

    def make(epochs: int, bootstrap: bool = False) -> MLPEnsembleClassifier:
        member = MLPClassifier(hidden_layer_sizes=(8,), max_iter=epochs)
        return MLPEnsembleClassifier(member, 3, bootstrap=bootstrap, random_state=0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        once = make(20).fit(X, y)
        rungs = make(5).fit(X, y)._resume(X, y, 20)
        resampled = make(5, bootstrap=True).fit(X, y)
    assert [m.n_iter_ for m in rungs.estimators_] == [m.n_iter_ for m in once.estimators_]
    np.testing.assert_allclose(rungs.loss_curves_, once.loss_curves_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        rungs.predict_proba(X), once.predict_proba(X), rtol=1e-10, atol=1e-12
    )
    with pytest.raises(ValueError, match="bootstrap=True"):
        resampled._resume(X, y, 20)


def test_members_diverging_in_a_later_rung_keep_their_index():
    """A member that diverges when continued is left out under its index among all the
    members, beside those that diverged before; a warning names them."""
    ens = MLPEnsembleClassifier(n_estimators=4)
    a, b = MLPClassifier(), MLPClassifier()
    with pytest.warns(UserWarning, match=r"2 of 4 ensemble members diverged \(members \[1, 2\]"):
        ens._keep_members([a, b], [None, DivergenceError(3)], [0, 2], [1])
    assert ens.estimators_ == [a] and ens.diverged_members_ == [1, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing diverged now: no warning again
        ens._keep_members([a], [None], [0], [1, 2])
    assert ens.diverged_members_ == [1, 2]
