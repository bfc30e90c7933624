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
                           "label", "--max-iter", "20", "--out", str(tmp_path / "m"),
                           "--json"], capture_output=True, text=True, timeout=240)  # fmt: skip
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
                                "--target", "label", "--max-iter", "20", "--out",
                                str(tmp_path / "m2")], capture_output=True, text=True,
                               timeout=240)  # fmt: skip
    said = next(ln for ln in quiet_off.stdout.splitlines() if ln.startswith("best on"))
    winners = [k for k, v in scores.items() if v == best]
    assert any(f"best on the validation rows: {w} (accuracy {best:.4f}" in said for w in winners)
