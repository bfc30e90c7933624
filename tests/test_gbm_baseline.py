"""The baseline tabular practitioners use: scikit-learn's HistGradientBoostingClassifier
on the same split, in the report, the JSON summary and the console (issue #14, item 6)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, log_loss

from jaxmlp.data.prepare import prepare_table


def test_gradient_boosting_row_is_scikit_learns_own_fit_on_the_same_split(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 4))
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["colour"] = rng.choice(["red", "blue"], 600)
    df["label"] = np.where(X[:, 0] * X[:, 1] + (df["colour"] == "red") > 0.3, "yes", "no")
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    done = subprocess.run([sys.executable, "-m", "jaxmlp.cli", "train", str(path), "--target",
                           "label", "--max-iter", "20", "--cv", "none", "--out",
                           str(tmp_path / "m"), "--json"], capture_output=True, text=True,
                          timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    # the reference: the same split and preprocessing, scikit-learn's estimator, by hand
    table = prepare_table(pd.read_csv(path), "label", seed=0)
    split = table.split
    hgb = HistGradientBoostingClassifier(random_state=0).fit(split.X_train, split.y_train)
    proba = hgb.predict_proba(split.X_test)
    gbm = summary["gradient_boosting"]
    assert gbm["accuracy"] == accuracy_score(split.y_test, proba.argmax(1))
    assert np.isclose(gbm["log_loss"], log_loss(split.y_test, proba), rtol=1e-9)
    assert gbm["fit_time_s"] > 0
    report = (tmp_path / "m" / "report.html").read_text()
    assert "scikit-learn HistGradientBoostingClassifier" in report
    scores = {"jaxmlp": summary["validation"]["accuracy"], "scikit-learn's MLP":
              summary["sklearn"]["accuracy"], "gradient boosting": gbm["accuracy"]}  # fmt: skip
    best = max(scores.values())
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("best on")]
    assert not line  # --json: stdout is the JSON only
    quiet_off = subprocess.run([sys.executable, "-m", "jaxmlp.cli", "train", str(path),
                                "--target", "label", "--max-iter", "20", "--cv", "none", "--out",
                                str(tmp_path / "m2")], capture_output=True, text=True,
                               timeout=240)  # fmt: skip
    said = next(ln for ln in quiet_off.stdout.splitlines() if ln.startswith("best on"))
    winners = [k for k, v in scores.items() if v == best]
    assert any(f"best on the validation rows: {w} (accuracy {best:.4f}" in said for w in winners)


def test_a_model_worse_than_gradient_boosting_is_said_to_be_worse(tmp_path):
    """Issue #27 item 3: one epoch at a tiny learning rate is far below gradient boosting on
    a table it separates; the command says so on stderr, in --json and atop the report."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 3))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["label"] = np.where(X[:, 0] > 0.2, "yes", "no")
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    done = subprocess.run([sys.executable, "-m", "jaxmlp.cli", "train", str(path), "--target",
                           "label", "--max-iter", "1", "--lr", "1e-6", "--ensemble", "1",
                           "--out", str(tmp_path / "m"), "--json"], capture_output=True,
                          text=True, timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    jx, gbm = summary["validation"]["accuracy"], summary["gradient_boosting"]["accuracy"]
    assert gbm - jx > 0.01  # the premise: a clear shortfall
    short = summary["shortfall"]
    assert short["metric"] == "accuracy" and short["baseline"] == gbm
    assert np.isclose(short["by"], gbm - jx) and short["below_zero"] is False
    said = " ".join(done.stderr.split())
    assert (f"Warning: The model written is worse than gradient boosting on the same "
            f"validation rows: accuracy {jx:.4f} against {gbm:.4f}") in said  # fmt: skip
    report = (tmp_path / "m" / "report.html").read_text()
    assert 'id="shortfall"><strong>The model written is worse than gradient boosting' in report


def test_shortfall_margins():
    from jaxmlp.workflows.shortfall import shortfall

    # within 0.01 of gradient boosting, or above it: nothing to say
    assert shortfall({"accuracy": 0.905}, {"accuracy": 0.91}, False) is None
    assert shortfall({"accuracy": 0.95}, {"accuracy": 0.91}, False) is None
    assert shortfall({"accuracy": 0.5}, None, False) is None  # no baseline to compare
    short = shortfall({"accuracy": 0.89}, {"accuracy": 0.91}, False)
    assert short is not None and np.isclose(short["by"], 0.02)
    # a regressor: an R² below 0 is said even without a baseline
    neg = shortfall({"r2": -0.25}, None, True)
    assert neg is not None and neg["below_zero"] and neg["baseline"] is None
    assert "R² of -0.2500 is below 0" in neg["message"]
    both = shortfall({"r2": -0.25}, {"r2": 0.6}, True)
    assert both is not None and both["below_zero"] and np.isclose(both["by"], 0.85)
    assert "HistGradientBoostingRegressor" in both["message"]
    assert shortfall({"r2": 0.595}, {"r2": 0.6}, True) is None
    # fewer right answers but better probabilities: both said, not one as the verdict
    calibrated = shortfall({"accuracy": 0.768, "log_loss": 0.6432},
                           {"accuracy": 0.779, "log_loss": 1.0230}, False)  # fmt: skip
    assert (
        calibrated is not None
        and ("probabilities are the better calibrated (log loss 0.6432 against 1.0230)")
        in calibrated["message"]
    )
    assert "log loss" not in short["message"]  # no log losses given: nothing said of them


def test_the_baselines_stage_is_announced_after_training(tmp_path):
    """The progress bar would sit still while the baselines fit (seconds on a loaded
    machine): train_table says when that stage begins -- after the last epoch reported,
    and only when there are baselines to fit."""
    from jaxmlp.workflows.table import TableTrainConfig, train_table

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    df["y"] = np.where(df.a + df.b > 0, "p", "q")
    df.to_csv(tmp_path / "t.csv", index=False)
    params = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0}
    for baseline, expected in ((True, 1), (False, 0)):
        events: list[str] = []
        train_table(TableTrainConfig(tmp_path / "t.csv", "y", params, baseline=baseline),
                    progress=lambda done, loss, events=events: events.append("epoch"),
                    on_stage=events.append)  # fmt: skip
        stages = [e for e in events if e != "epoch"]
        assert stages == ["fitting the baselines"] * expected
        assert events[0] == "epoch" and (not stages or events[-1] == stages[0])


def test_the_best_line_says_a_tie_instead_of_zero_points():
    from jaxmlp.cli.table_output import best_line

    scores = {"jaxmlp": {"accuracy": 0.9, "log_loss": 0.31},
              "gradient boosting": {"accuracy": 0.9, "log_loss": 0.25},
              "scikit-learn's MLP": {"accuracy": 0.8, "log_loss": 0.5}}  # fmt: skip
    assert best_line(scores) == (
        "best on the validation rows: gradient boosting (accuracy "
        "0.9000, tied with jaxmlp; log loss 0.2500 against 0.3100)"
    )
    scores["jaxmlp"]["accuracy"] = 0.925
    assert best_line(scores, "out of fold") == (
        "best out of fold: jaxmlp (accuracy 0.9250, 2.50 points above gradient boosting)"
    )
