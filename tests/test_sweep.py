"""`jaxmlp sweep`: results equal single fits, files, report, CSV input, bad grids."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from jaxmlp import TrainConfig, fit, make_dataset, make_optimizer, mlp
from jaxmlp.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _flat(output: str) -> str:
    return " ".join(output.replace("│", " ").split())


def test_sweep_on_a_toy_set_matches_single_fits(tmp_path):
    out = tmp_path / "sweep"
    result = run("sweep", "--dataset", "moons", "--n-samples", "120", "--hidden", "8",
                 "--hidden", "8,8", "--lr", "0.05,1e4", "--alpha", "0,0.01", "--seeds", "3",
                 "--epochs", "40", "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 architecture(s)" in result.output and "2 compiled program(s)" in result.output
    expected = {"heatmap.png", "learning_curves.png", "ensemble_surface.png", "results.csv",
                "results.json", "summary.json", "report.html"}  # fmt: skip
    assert {p.name for p in out.iterdir()} == expected
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 2 * 2 * 2 * 3
    # a model from the table against the same model trained alone with fit()
    split = make_dataset("moons", n_samples=120, noise=0.2, seed=1337, test_size=0.3)
    row = next(r for r in rows if r["hidden"] == "8-8" and r["lr"] == "0.05"
               and r["alpha"] == "0.01" and r["seed"] == "2")  # fmt: skip
    alone = fit(mlp((8, 8)), make_optimizer("momentum", 0.05, momentum=0.9), split,
                TrainConfig(epochs=40, seed=2), alpha=0.01)  # fmt: skip
    assert float(row["val_acc"]) == pytest.approx(alone.history.test_acc[-1], abs=1e-6)
    assert float(row["train_loss"]) == pytest.approx(alone.history.train_loss[-1], rel=1e-4)
    # lr=1e4 diverges: reported per model, left out of the cells' means
    diverged = [r for r in rows if r["lr"] == "10000.0"]
    assert all(int(r["diverged_at_epoch"]) > 0 and r["val_acc"] == "" for r in diverged)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_models"] == 24 and summary["n_diverged"] == 12
    assert summary["best"]["lr"] == 0.05
    models = json.loads((out / "results.json").read_text())
    assert len(models) == 24 and models[0].keys() == rows[0].keys()
    report = (out / "report.html").read_text()
    assert "Validation accuracy over the grid" in report and "12 of 24 models" in report
    assert report.count("data:image/png;base64,") == 3


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_sweep_on_a_table(tmp_path, kind):
    from sklearn.datasets import load_iris

    iris = load_iris(as_frame=True).frame
    iris["species"] = np.array(["setosa", "versicolor", "virginica"])[iris.pop("target")]
    path = tmp_path / f"iris.{kind}"
    if kind == "csv":
        iris.to_csv(path, sep=";", index=False)
    else:
        iris.to_parquet(path)
    out = tmp_path / "out"
    result = run("sweep", "--data", str(path), "--target", "species", "--lr", "0.03,0.1",
                 "--alpha", "0", "--seeds", "2", "--epochs", "60", "--out", str(out),
                 "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["data"]["n_features"] == 4 and summary["data"]["n_classes"] == 3
    assert summary["best"]["val_acc_mean"] > 0.8
    assert not (out / "ensemble_surface.png").exists()  # 4-D data: no surface


def test_sweep_on_a_regression_table_ranks_cells_by_r2(tmp_path):
    """A numeric target: each model's validation R² is scikit-learn's r2_score of that
    model (refitted alone with jaxmlp.fit on the same standardised split), and the cells
    are ranked by their mean R²."""
    import pandas as pd
    from sklearn.metrics import r2_score

    from jaxmlp.workflows.sweep import table_split

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.uniform(-2, 2, 400), "b": rng.uniform(-2, 2, 400)})
    df["y"] = np.sin(df.a) * 30 + df.b**2 * 5 + rng.normal(0, 1, 400)
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "out"
    result = run("sweep", "--data", str(path), "--target", "y", "--lr", "0.003,0.03",
                 "--alpha", "0", "--seeds", "2", "--epochs", "80", "--hidden", "16",
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "training a regressor" in _flat(result.output)
    assert "validation R²" in _flat(result.output)
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert {"train_r2", "val_r2"} <= set(rows[0])
    means = {lr: np.mean([float(r["val_r2"]) for r in rows if r["lr"] == lr])
             for lr in ("0.003", "0.03")}  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["score"] == "R²"
    assert str(summary["best"]["lr"]) == max(means, key=means.get)
    assert summary["best"]["val_r2_mean"] == pytest.approx(max(means.values()), abs=1e-5)
    split, _ = table_split(str(path), "y", 0.3, False)  # the sweep's --test-size
    alone = fit(mlp((16,), "swish", n_outputs=1), "momentum", split,
                TrainConfig(epochs=80, loss="squared"), learning_rate=0.03)  # fmt: skip
    pred = np.asarray(mlp((16,), "swish", n_outputs=1).apply(alone.params, split.X_test))[:, 0]
    seed0 = next(r for r in rows if r["lr"] == "0.03" and r["seed"] == "0")
    assert float(seed0["val_r2"]) == pytest.approx(r2_score(split.y_test, pred), abs=1e-4)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--lr", "0.1,-1"], ["--lr", "grid value -1 is out of range", "> 0"]),
        (["--alpha", "0,x"], ["--alpha", "not a comma-separated list of numbers"]),
        (["--momentum", "0.5,1"], ["--momentum", "grid value 1", "[0, 1)"]),
        (["--lr", "0.1,0.1"], ["--lr", "lists a value twice"]),
        (["--hidden", "8", "--hidden", "8"], ["--hidden", "twice"]),
        (["--seeds", "0"], ["--seeds", "must be > 0"]),
        (["--models-per-program", "many"], ["--models-per-program", "'auto' or a positive"]),
        (["--optimizer", "lbfgs"], ["--optimizer", "sgd, momentum, nesterov, adam"]),
        (["--data", "nowhere.csv", "--target", "y"], ["nowhere.csv", "does not exist"]),
        (["--halving", "--factor", "1"], ["--factor", "must be greater than 1", "got 1"]),
        (["--factor", "2"], ["--factor sets the rungs of --halving", "add --halving"]),
    ],
)
def test_bad_grids_exit_2_naming_the_option_and_value(args, fragments, tmp_path):
    result = run("sweep", *args, "--out", str(tmp_path / "never"))
    assert result.exit_code == 2, result.output
    text = _flat(result.output)
    for fragment in fragments:
        assert fragment in text, result.output
    assert not (tmp_path / "never").exists()


def test_missing_target_column_suggests_the_closest(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("height,weight,label\n1,2,a\n3,4,b\n5,6,a\n7,8,b\n")
    result = run("sweep", "--data", str(path), "--target", "lable", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    text = _flat(result.output)
    assert "'lable' is not in the table" in text and "Did you mean 'label'?" in text
    assert not (tmp_path / "o").exists()


def test_a_grid_too_large_for_memory_is_refused_up_front(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXMLP_MEMORY_BUDGET", "1M")
    result = run("sweep", "--seeds", "64", "--models-per-program", "64", "--epochs", "2",
                 "--out", str(tmp_path / "o"))  # fmt: skip
    assert result.exit_code == 2
    text = _flat(result.output)
    assert "64 models per program need about" in text and "models_per_program=" in text
    assert not (tmp_path / "o" / "report.html").exists()


def test_halving_survivors_equal_the_full_grid_and_the_rest_stop_at_their_rung():
    """Successive halving against the reference it shortens: the same grid trained fully.
    The cells kept at each rung are the best by mean validation accuracy at that epoch
    of the full run, and they end with the full run's numbers; a survivor's model also
    equals the same model trained alone with fit()."""
    import dataclasses

    from jaxmlp.workflows.sweep import SweepConfig, run_sweep

    split = make_dataset("circles", n_samples=200, noise=0.2, seed=1337, test_size=0.3)
    config = SweepConfig(hidden=((16,),), lr=(0.01, 0.1, 0.3), alpha=(0.0, 1e-3), seeds=2,
                         epochs=27)  # fmt: skip
    full = run_sweep(config, split)
    half = run_sweep(dataclasses.replace(config, halving=True, factor=3.0), split)
    # 6 cells, factor 3: 6 cells to epoch 27 // 3 = 9, then ceil(6 / 3) = 2 to epoch 27
    assert half.rungs == [(9, 6), (27, 2)]
    at_9 = full.history.test_acc[:, :, 8].mean(axis=1)
    expected = np.sort(np.argsort(-at_9, kind="stable")[:2])
    assert half.survivors().tolist() == expected.tolist()
    assert half.epochs_trained.tolist() == [27 if c in expected else 9 for c in range(6)]
    for field in ("train_loss", "test_loss", "test_acc"):
        np.testing.assert_allclose(
            getattr(half.history, field)[expected],
            getattr(full.history, field)[expected],
            atol=1e-5,
        )
    stopped = np.setdiff1d(np.arange(6), expected)
    assert np.isnan(half.history.test_acc[stopped][:, :, 9:]).all()
    np.testing.assert_allclose(
        half.final("test_acc")[stopped], full.history.test_acc[stopped][:, :, 8], atol=1e-6
    )
    cell = half.cells[int(expected[-1])]
    alone = fit(mlp((16,)), make_optimizer("momentum", cell["lr"], momentum=0.9), split,
                TrainConfig(epochs=27, seed=1), alpha=cell["alpha"])  # fmt: skip
    assert half.final("test_loss")[expected[-1], 1] == pytest.approx(
        alone.history.test_loss[-1], rel=1e-4
    )
    assert half.best_cell() in expected.tolist()


def test_sweep_halving_on_the_command_line(tmp_path):
    out = tmp_path / "halving"
    result = run("sweep", "--dataset", "moons", "--n-samples", "120", "--hidden", "8",
                 "--hidden", "8,8", "--lr", "0.05,0.2,1e4", "--alpha", "0,0.01", "--seeds",
                 "2", "--epochs", "40", "--halving", "--factor", "2", "--out", str(out),
                 "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    # 12 cells, factor 2: 1 + floor(log2 12) = 4 rungs from 40 // 2**3 = 5 epochs
    assert summary["rungs"] == [
        {"epochs": 5, "cells": 12},
        {"epochs": 10, "cells": 6},
        {"epochs": 20, "cells": 3},
        {"epochs": 40, "cells": 2},
    ]
    assert summary["config"]["halving"] is True and summary["config"]["factor"] == 2.0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 24
    epochs = {(r["hidden"], r["lr"], r["alpha"]): int(r["epochs"]) for r in rows}
    assert sorted(epochs.values()) == [5] * 6 + [10] * 3 + [20] + [40] * 2
    # the diverging learning rate is out after the first rung, whatever the architecture
    assert all(e == 5 for (h, lr, a), e in epochs.items() if lr == "10000.0")
    best = summary["best"]
    assert epochs[("-".join(map(str, best["hidden"])), str(best["lr"]), str(best["alpha"]))] == 40
    report = (out / "report.html").read_text()
    assert "successive halving (factor 2): 12 cells to epoch 5" in report
    assert "<th>epochs</th>" in report
    # the cells' table ranks by the rung reached first, and says why
    ranked = [int(e) for e in re.findall(r"<tr><td>\d+</td>(?:<td>[^<]*</td>){4}<td>(\d+)</td>",
                                         report)]  # fmt: skip
    assert ranked == sorted(epochs.values(), reverse=True)
    assert "Ranked by the rung each cell reached" in report


def test_halving_a_single_cell_trains_it_fully(tmp_path):
    result = run("sweep", "--lr", "0.1", "--alpha", "0", "--seeds", "2", "--epochs", "12",
                 "--halving", "--out", str(tmp_path / "one"))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "one grid cell: nothing to halve; it trains for --epochs." in _flat(result.output)
    rows = list(csv.DictReader((tmp_path / "one" / "results.csv").open()))
    assert [int(r["epochs"]) for r in rows] == [12, 12]
