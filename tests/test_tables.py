"""`jaxmlp train` / `predict` / `evaluate` on tables, model files, and every bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import quiet_fit, tree
from typer.testing import CliRunner

import jaxmlp
from jaxmlp import MLPClassifier
from jaxmlp.cli import app
from jaxmlp.io.model_files import FORMAT_VERSION, ModelFileError

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def flat(output: str) -> str:
    return " ".join(output.replace("│", " ").split())


@pytest.fixture(scope="module")
def wine(tmp_path_factory):
    """scikit-learn's wine data as a user's CSV: named classes, a text column, a missing
    value, semicolons."""
    from sklearn.datasets import load_wine

    df = load_wine(as_frame=True).frame
    df["cultivar"] = np.array(["barolo", "grignolino", "barbera"])[df.pop("target")]
    df["region"] = np.random.RandomState(0).choice(["north", "south", "east"], len(df))
    df.loc[3, "alcohol"] = np.nan
    folder = tmp_path_factory.mktemp("wine")
    path = folder / "wine.csv"
    df.to_csv(path, sep=";", index=False)
    return folder, path, df


def wine_path(trained) -> str:
    """The CSV the ``trained`` model was trained on (its model.json records it)."""
    return json.loads((trained[0] / "model.json").read_text())["table"]["info"]["source"]


@pytest.fixture(scope="module")
def trained(wine):
    folder, path, _ = wine
    model = folder / "model"
    result = run("train", path, "--target", "cultivar", "--out", model, "--max-iter", "60",
                 "--hidden", "16", "--lr", "0.01", "--ensemble", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    return model, result.output


def test_train_writes_a_model_folder_and_a_report(trained):
    model, output = trained
    assert sorted(p.name for p in model.iterdir()) == ["arrays.safetensors", "model.json",
                                                       "report.html"]  # fmt: skip
    assert "validation accuracy" in output and "scikit-learn MLP" in output
    meta = json.loads((model / "model.json").read_text())
    assert meta["format"] == "jaxmlp-model" and meta["format_version"] == FORMAT_VERSION
    assert meta["table"]["categorical"] == ["region"] and "alcohol" in meta["table"]["numeric"]
    assert meta["table"]["categories"] == [["east", "north", "south"]]
    assert meta["estimator"]["params"]["hidden_layer_sizes"] == [16]
    report = (model / "report.html").read_text()
    for section in ("Metrics on the validation rows", "Per class", "Learning curves",
                    "Confusion matrix", "ROC", "Decision surface", "<h2>Data</h2>",
                    "scikit-learn MLPClassifier"):  # fmt: skip
        assert section in report, section
    assert report.count("data:image/png;base64,") == 4
    # the settings as given, and what was left to jaxmlp as the member trained with it
    member = jaxmlp.load(model).members[0]
    assert "<tr><td>max_iter</td><td>60</td></tr>" in report
    assert f"<tr><td>batch_size</td><td>{member.batch_size} (chosen)</td></tr>" in report
    assert "<tr><td>dtype</td><td>float32 (chosen)</td></tr>" in report
    # the class balance: every class of the whole table with its row count
    df = pd.read_csv(wine_path(trained), sep=";")
    balance = report.split('<table id="balance">')[1].split("</table>")[0]
    for label, count in df["cultivar"].value_counts().items():
        assert f"<tr><td>{label}</td><td>{count}</td></tr>" in balance


def test_predict_and_evaluate_agree_with_the_python_api(trained, wine, tmp_path):
    model_dir, _ = trained
    _, _, df = wine
    new = df.drop(columns=["cultivar"]).iloc[:25]
    new = new[list(reversed(new.columns))]  # reordered columns are fine
    new["comment"] = "extra"  # so are extra ones
    new.to_parquet(tmp_path / "new.parquet")
    out = tmp_path / "pred.csv"
    result = run("predict", model_dir, tmp_path / "new.parquet", "--proba", "--out", out)
    assert result.exit_code == 0, result.output
    assert "ignored column(s) the model does not use: comment" in flat(result.output)
    pred = pd.read_csv(out)
    model = jaxmlp.load(model_dir)
    assert isinstance(model, jaxmlp.TableModel)
    np.testing.assert_array_equal(pred["predicted_cultivar"], model.predict(new))
    np.testing.assert_allclose(pred[[f"proba_{c}" for c in model.classes]],
                               model.predict_proba(new), rtol=1e-12)  # fmt: skip
    # evaluate: metrics of the model's own predictions, as scikit-learn computes them
    labelled = tmp_path / "labelled.csv"
    df.to_csv(labelled, index=False)
    result = run("evaluate", model_dir, labelled, "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    from sklearn.metrics import accuracy_score

    assert metrics["accuracy"] == pytest.approx(accuracy_score(df["cultivar"], model.predict(df)))
    result = run("evaluate", model_dir, labelled, "--out", tmp_path / "ev")
    assert result.exit_code == 0 and (tmp_path / "ev" / "report.html").exists()
    page = (tmp_path / "ev" / "report.html").read_text()
    assert "on the rows of labelled.csv" in page and "validation rows" not in page
    # a report already there (the model's own, say) is not replaced without --force
    again = run("evaluate", model_dir, labelled, "--out", model_dir)
    assert again.exit_code == 2 and "already exists" in flat(again.output)
    assert "jaxmlp train" in (model_dir / "report.html").read_text()
    forced = run("evaluate", model_dir, labelled, "--out", tmp_path / "ev", "--force")
    assert forced.exit_code == 0, forced.output


def test_float32_probabilities_are_scored_without_scikit_learns_sum_warning():
    """A float32 network's rows sum to 1 within 1e-7; scikit-learn's log_loss warns past
    1.5e-8 ('y_prob values do not sum to one'). The scores are those of the rows made
    to sum to 1 in float64, and nothing leaks to the user's console."""
    from sklearn.metrics import log_loss, roc_auc_score

    from jaxmlp.workflows.table import metrics

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(300, 3)).astype(np.float32)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # float32 rounding
    y = rng.integers(0, 3, 300)
    exact = proba.astype(np.float64) / proba.astype(np.float64).sum(axis=1, keepdims=True)
    assert np.abs(proba.sum(axis=1, dtype=np.float64) - 1).max() > 1.5e-8  # would warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = metrics(y, proba, np.array(["a", "b", "c"]))
    assert scores["log_loss"] == pytest.approx(log_loss(y, exact), rel=1e-12)
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(y, exact, multi_class="ovr"))


def test_unseen_categories_are_handled(trained, wine, tmp_path):
    model_dir, _ = trained
    _, _, df = wine
    new = df.drop(columns=["cultivar"]).iloc[:5].copy()
    new["region"] = ["west", "north", "west", "south", "east"]
    new.to_csv(tmp_path / "new.csv", index=False)
    result = run("predict", model_dir, tmp_path / "new.csv")
    assert result.exit_code == 0
    assert "unseen in training" in flat(result.output) and "west" in result.output


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_save_load_round_trip_predicts_identically(tmp_path, iris, solver):
    X, y = iris
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=30,
                              early_stopping=solver == "sgd", random_state=0,
                              dtype="float32" if solver == "adam" else None)  # fmt: skip
        model.fit(X, labels)
    jaxmlp.save(model, tmp_path / "m")
    loaded = jaxmlp.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.get_params() == model.get_params()
    assert loaded.coefs_[0].dtype == model.coefs_[0].dtype
    assert loaded.loss_ == model.loss_ and loaded.n_iter_ == model.n_iter_
    with pytest.raises(ModelFileError, match="already exists"):
        jaxmlp.save(model, tmp_path / "m")


def test_model_files_written_before_the_dtype_option_still_load(tmp_path, iris):
    X, y = iris
    model = quiet_fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0), X, y)
    jaxmlp.save(model, tmp_path / "m")
    meta_file = tmp_path / "m" / "model.json"
    meta = json.loads(meta_file.read_text())
    del meta["estimator"]["params"]["dtype"]  # as jaxmlp 0.x before `dtype` wrote it
    meta_file.write_text(json.dumps(meta))
    loaded = jaxmlp.load(tmp_path / "m")
    assert loaded.dtype is None
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_models_holding_code_are_refused(tmp_path, iris):
    X, y = iris
    import jax

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(activation=jax.nn.softplus, max_iter=5).fit(X, y)
    with pytest.raises(ModelFileError, match="cannot be saved"):
        jaxmlp.save(model, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def _csv(tmp_path, text: str, name: str = "t.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


CONTINUOUS = "a,b,label\n" + "".join(f"{i},{i % 3},{i / 7:.3f}\n" for i in range(60))


def _binary(path):
    path.write_bytes(b"\x89PNG\r\n\x00\x00\x01")
    return path


GOOD = "a,b,color,label\n" + "".join(
    f"{i % 7},{(i * 3) % 5},{['red', 'blue'][i % 2]},{['x', 'y'][(i // 2) % 2]}\n"
    for i in range(40)
)


@pytest.mark.parametrize(
    ("make", "extra", "fragments"),
    [
        (lambda p: p / "nowhere.csv", [], ["does not exist"]),
        (lambda p: _csv(p, ""), [], ["is empty"]),
        (lambda p: _csv(p, "a,b,label\n"), [], ["no data rows"]),
        (lambda p: _binary(p / "x.csv"), [],
         ["not a CSV file", "binary"]),
        (lambda p: _csv(p, "a,b,label\n1,2,x\n3,4\n5,6,y\n"), [],
         ["ragged rows", "line 3 has 2 field(s)", "header has 3"]),
        (lambda p: _csv(p, GOOD), ["--target", "lable"],
         ["'lable' is not in the table", "a, b, color, label", "Did you mean 'label'?"]),
        (lambda p: _csv(p, GOOD.replace(",x\n", ",\n", 3)), [],
         ["'label' has 3 missing value(s)", "--drop-missing-target"]),
        (lambda p: _csv(p, GOOD.replace(",y\n", ",x\n")), [], ["single class"]),
        (lambda p: _csv(p, GOOD.replace("\n3,", "\nthree,", 1)), [],
         ["Column 'a' holds numbers but has text: 'three'", "--categorical a"]),
        (lambda p: _csv(p, "a,b,label\n" + "".join(f"{i},,{'xy'[i % 2]}\n" for i in range(20))),
         [], ["'b' has no values at all"]),
        (lambda p: _csv(p, GOOD), ["--features", "a,colour"], ["'colour' is not in the table"]),
        (lambda p: _csv(p, CONTINUOUS), ["--task", "classification"],
         ["'label' holds continuous numbers", "--task regression", "bin the"]),
    ],
)  # fmt: skip
def test_bad_tables_exit_2_and_write_nothing(tmp_path, make, extra, fragments):
    path = make(tmp_path)
    args = ["--target", "label", *extra] if "--target" not in extra else extra
    before = tree(tmp_path)
    result = run("train", path, *args, "--out", tmp_path / "model", "--max-iter", "5")
    assert result.exit_code == 2, result.output
    text = flat(result.output)
    for fragment in fragments:
        assert fragment in text, result.output
    assert "Traceback" not in result.output
    assert tree(tmp_path) == before  # no model folder, no temporary leftovers


def test_missing_target_rows_can_be_dropped_and_odd_columns_are_warned_about(tmp_path):
    rows = "".join(f"{i},{i % 3},c{i},7,{['x', 'y'][i % 2] if i % 10 else ''}\n"
                   for i in range(60))  # fmt: skip
    path = _csv(tmp_path, "a,b,id,const,label\n" + rows)
    result = run("train", path, "--target", "label", "--drop-missing-target", "--no-baseline",
                 "--max-iter", "5", "--out", tmp_path / "m")  # fmt: skip
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert "'const' is constant" in text
    assert "left out column 'id': a distinct value in every row (an id)" in text
    assert "left out column 'a': integers counting up by one (a row index)" in text
    assert "left out 6 of the 60 rows: no 'label' value (--drop-missing-target)" in text
    # evaluate leaves rows without a target out too, and says how many
    result = run("evaluate", tmp_path / "m", path)
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert "left out 6 of the 60 rows: no 'label' value to score against" in text
    assert "54 rows: accuracy" in text


def test_a_column_of_1050_categories_is_target_encoded_and_said(tmp_path):
    rows = "".join(f"{i % 5},k{i % 1050},{'xy'[i % 2]}\n" for i in range(1100))
    path = _csv(tmp_path, "a,key,label\n" + rows)
    result = run("train", path, "--target", "label", "--no-baseline", "--max-iter", "2",
                 "--out", tmp_path / "m")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "target-encoded (more values than --max-onehot): key (" in flat(result.output)


def test_an_existing_model_is_not_overwritten_without_force(trained, wine, tmp_path):
    _, path, _ = wine
    model_dir, _ = trained
    before = (model_dir / "model.json").read_bytes()
    result = run("train", path, "--target", "cultivar", "--out", model_dir, "--max-iter", "3")
    assert result.exit_code == 2 and "already exists" in flat(result.output)
    assert "--force" in flat(result.output)
    assert (model_dir / "model.json").read_bytes() == before


def test_config_file_sets_options_and_flags_override_it(wine, tmp_path):
    _, path, _ = wine
    config = tmp_path / "model.toml"
    config.write_text(
        '[model]\nhidden = [12, 6]\nsolver = "lbfgs"\nmax_iter = 15\nalpha = 0.01\n'
        'dtype = "float32"\n'
    )
    result = run("train", path, "--target", "cultivar", "--config", config, "--alpha", "0.5",
                 "--no-baseline", "--json", "--out", tmp_path / "m", "--ensemble", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary) >= {"model", "report", "validation", "fit_time_s"}
    params = json.loads((tmp_path / "m" / "model.json").read_text())["estimator"]["params"]
    assert params["hidden_layer_sizes"] == [12, 6] and params["solver"] == "lbfgs"
    assert params["alpha"] == 0.5 and params["max_iter"] == 15 and params["dtype"] == "float32"
    assert jaxmlp.load(tmp_path / "m").estimator.coefs_[0].dtype == np.float32
    config.write_text("[model]\nhiden = [3]\n")
    before = tree(tmp_path)
    result = run("train", path, "--target", "cultivar", "--config", config,
                 "--out", tmp_path / "m2")  # fmt: skip
    assert result.exit_code == 2 and "unknown key(s) hiden" in flat(result.output)
    result = run("train", path, "--target", "cultivar", "--solver", "newton",
                 "--out", tmp_path / "m3")  # fmt: skip
    assert result.exit_code == 2 and ("--solver 'newton': must be a str among adam, lbfgs, "
                                      "sgd (set by --solver or --config's solver)") in flat(
        result.output)  # fmt: skip
    assert not (tmp_path / "m3").exists()
    result = run("train", path, "--target", "cultivar", "--dtype", "float16",
                 "--out", tmp_path / "m4")  # fmt: skip
    assert result.exit_code == 2
    assert "--dtype 'float16': must be a str among float32, float64 (set" in flat(result.output)
    assert tree(tmp_path) == before  # m2, m3, m4: nothing, no temporary leftovers


def test_bad_rows_at_predict_time(trained, wine, tmp_path):
    model_dir, _ = trained
    _, _, df = wine
    rows = df.drop(columns=["cultivar", "ash"]).iloc[:3]
    rows.to_csv(tmp_path / "missing.csv", index=False)
    result = run("predict", model_dir, tmp_path / "missing.csv")
    assert result.exit_code == 2
    assert "lacks column(s) the model needs: ash" in flat(result.output)
    wrong = df.drop(columns=["cultivar"]).iloc[:3].astype({"magnesium": object})
    wrong.loc[wrong.index[1], "magnesium"] = "lots"
    wrong.to_csv(tmp_path / "wrong.csv", index=False)
    before = tree(tmp_path)
    result = run("predict", model_dir, tmp_path / "wrong.csv", "--out", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert "Column 'magnesium' is declared numeric but has text: 'lots'" in flat(result.output)
    result = run("evaluate", model_dir, tmp_path / "wrong.csv", "--out", tmp_path / "ev")
    assert result.exit_code == 2 and "no target column 'cultivar'" in flat(result.output)
    labelled = df.iloc[:3].astype({"magnesium": object})
    labelled.loc[labelled.index[1], "magnesium"] = "lots"
    labelled.to_csv(tmp_path / "wrong_labelled.csv", index=False)
    before.add("wrong_labelled.csv")
    result = run("evaluate", model_dir, tmp_path / "wrong_labelled.csv", "--out", tmp_path / "ev")
    assert result.exit_code == 2 and "declared numeric but has text" in flat(result.output)
    assert tree(tmp_path) == before  # no p.csv, no ev/, no temporary leftovers


def test_predict_out_keeps_an_existing_file_without_force(trained, wine, tmp_path):
    model_dir, _ = trained
    _, path, _ = wine
    out = tmp_path / "p.csv"
    out.write_text("mine\n")
    result = run("predict", model_dir, path, "--out", out)
    assert result.exit_code == 2 and "already exists" in flat(result.output)
    assert out.read_text() == "mine\n" and tree(tmp_path) == {"p.csv"}
    result = run("predict", model_dir, path, "--out", out, "--force")
    assert result.exit_code == 0 and out.read_text().startswith("predicted_cultivar")
    assert tree(tmp_path) == {"p.csv"}


def _tamper(model_dir, tmp_path, how):
    import shutil

    bad = tmp_path / f"bad-{how}"
    shutil.copytree(model_dir, bad)
    arrays, meta_file = bad / "arrays.safetensors", bad / "model.json"
    meta = json.loads(meta_file.read_text())
    if how == "truncated":
        data = arrays.read_bytes()
        arrays.write_bytes(data[: len(data) // 2])
    elif how == "pickle":
        import pickle

        arrays.write_bytes(pickle.dumps({"coefs.0": np.zeros(3)}))
        meta["arrays_sha256"] = __import__("hashlib").sha256(arrays.read_bytes()).hexdigest()
        meta_file.write_text(json.dumps(meta))
    elif how == "shapes":
        meta["estimator"]["params"]["hidden_layer_sizes"] = [17]
        meta_file.write_text(json.dumps(meta))
    elif how == "json":
        meta_file.write_text(meta_file.read_text()[:-20])
    elif how == "newer":
        meta["format_version"] = FORMAT_VERSION + 1
        meta_file.write_text(json.dumps(meta))
    elif how == "no-meta":
        meta_file.unlink()
    return bad


@pytest.mark.parametrize(
    ("how", "fragment"),
    [
        ("truncated", "does not match its checksum"),
        ("pickle", r"declares [\d,]+ bytes of arrays but arrays.safetensors holds"),
        ("shapes", "layer 0 has weights"),
        ("json", "is not valid JSON"),
        ("newer", f"format version {FORMAT_VERSION + 1}"),
        ("no-meta", "has no model.json"),
    ],
)
def test_damaged_model_folders_are_refused(trained, wine, tmp_path, how, fragment):
    model_dir, _ = trained
    _, path, _ = wine
    bad = _tamper(model_dir, tmp_path, how)
    with pytest.raises(ModelFileError, match=fragment):
        jaxmlp.load(bad)
    result = run("predict", bad, path)
    assert result.exit_code == 2 and re.search(fragment, flat(result.output))
    assert "Traceback" not in result.output


def test_a_missing_model_folder(tmp_path, wine):
    result = run("predict", tmp_path / "nothing", wine[1])
    assert result.exit_code == 2 and "does not exist" in flat(result.output)


@pytest.mark.slow
def test_cli_errors_in_a_real_process_have_no_traceback(tmp_path):
    path = _csv(tmp_path, "a,b,label\n1,2,x\n3,4\n")
    args = ["train", str(path), "--target", "label", "--out", str(tmp_path / "m")]
    proc = subprocess.run([sys.executable, "-m", "jaxmlp.cli", *args], capture_output=True,
                          text=True, env=os.environ | {"COLUMNS": "200"}, timeout=120)  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout and "ragged rows" in proc.stderr


def test_test_file_and_kind_overrides(tmp_path):
    """--test-file gives the validation rows; --categorical turns a numeric column into
    categories (one-hot), --numeric parses a text column as numbers; two numeric
    features give the decision view over the features themselves."""
    rng = np.random.RandomState(0)
    n = 120
    df = pd.DataFrame({"x1": rng.randn(n), "x2": rng.randn(n).astype(str),
                       "grade": rng.choice([1, 2, 3], n)})  # fmt: skip
    df["label"] = np.where(df.x1 + df.x2.astype(float) > 0, "pos", "neg")
    df.iloc[:90].to_csv(tmp_path / "train.csv", index=False)
    df.iloc[90:].to_csv(tmp_path / "test.csv", index=False)
    result = run("train", tmp_path / "train.csv", "--target", "label", "--test-file",
                 tmp_path / "test.csv", "--categorical", "grade", "--numeric", "x2",
                 "--max-iter", "20", "--no-baseline", "--out", tmp_path / "m")  # fmt: skip
    assert result.exit_code == 0, result.output
    said = flat(result.output)  # the 90 rows cross-fitted, the test file scores
    assert "90 rows cross-fitted in 4 folds" in said
    assert "scored on the test file's 30 rows" in said
    meta = json.loads((tmp_path / "m" / "model.json").read_text())["table"]
    assert meta["numeric"] == ["x1", "x2"] and meta["categorical"] == ["grade"]
    assert meta["categories"] == [["1", "2", "3"]]
    # two numeric features and a category: PCA view; drop the category for the raw view
    result = run("train", tmp_path / "train.csv", "--target", "label", "--features", "x1,x2",
                 "--numeric", "x2", "--max-iter", "20", "--no-baseline",
                 "--out", tmp_path / "m2")  # fmt: skip
    assert result.exit_code == 0, result.output
    report = (tmp_path / "m2" / "report.html").read_text()
    assert "Decision surface" in report
    # a test file without a feature column: the message says which file lacks what
    df.iloc[90:].drop(columns="x1").to_csv(tmp_path / "short.csv", index=False)
    result = run("train", tmp_path / "train.csv", "--target", "label", "--test-file",
                 tmp_path / "short.csv", "--no-baseline", "--out", tmp_path / "m3")  # fmt: skip
    assert result.exit_code == 2
    assert "The test file lacks column(s) the training table has: x1" in flat(result.output)
    assert not (tmp_path / "m3").exists()


def test_evaluate_on_rows_of_some_classes_says_what_it_cannot_score(trained, wine, tmp_path):
    """A file without rows of a class: no precision/recall/F1 of zeros for it, and the
    missing ROC AUC is explained (one-vs-rest needs every class)."""
    model_dir, _ = trained
    _, _, df = wine
    df[df["cultivar"] != "barbera"].to_csv(tmp_path / "two.csv", index=False)
    result = run("evaluate", model_dir, tmp_path / "two.csv")
    assert result.exit_code == 0, result.output
    said = flat(result.output)
    assert "no ROC AUC: the rows hold 2 of the model's 3 classes" in said
    assert "barbera: no rows of this class here" in said
    assert "barolo: precision" in said and "support 0" not in said


def test_evaluate_needs_the_target_column(trained, wine, tmp_path):
    model_dir, _ = trained
    _, _, df = wine
    df.drop(columns=["cultivar"]).to_csv(tmp_path / "unlabelled.csv", index=False)
    result = run("evaluate", model_dir, tmp_path / "unlabelled.csv")
    assert result.exit_code == 2
    assert "no target column 'cultivar'" in flat(result.output)
    assert "jaxmlp predict" in flat(result.output)


def test_the_decision_view_names_the_classes_on_its_colour_bar(trained, wine):
    """Three classes: the colour bar's ticks read the class names, not 0, 1, 2."""
    from jaxmlp.reports.table import plot_decision_view

    model = jaxmlp.load(trained[0])
    _, _, df = wine
    y = np.searchsorted(model.classes, df["cultivar"].to_numpy())
    fig = plot_decision_view(model, df.drop(columns="cultivar"), y)
    fig.canvas.draw()  # tick labels are set on drawing
    bar = fig.axes[1]
    assert [t.get_text() for t in bar.get_yticklabels()] == [str(c) for c in model.classes]


def test_an_imbalanced_table_says_what_always_answering_its_main_class_scores(tmp_path):
    """80% of the rows in one class: the score line is followed by what answering that
    class every time would score; a balanced table (wine) gets no such line."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=200)})
    df["label"] = np.where(np.arange(200) % 5 == 0, "rare", "common")
    df.to_csv(tmp_path / "t.csv", index=False)
    result = run("train", tmp_path / "t.csv", "--target", "label", "--max-iter", "3",
                 "--hidden", "4", "--no-baseline", "--out", tmp_path / "m")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert ("answering 'common' every time would score 0.8000: it is 80.0% of these rows"
            in flat(result.output))  # fmt: skip
    done = run("evaluate", tmp_path / "m", tmp_path / "t.csv")
    assert done.exit_code == 0, done.output
    assert ("answering 'common' every time would score 0.8000: it is 80.0% of these rows; "
            "below is each class's recall") in flat(done.output)  # fmt: skip
    # four members: the curves' caption says they are the members' mean, and why they step
    report = (tmp_path / "m" / "report.html").read_text()
    assert "per epoch, averaged over the 4 members while they train" in report


def test_one_networks_curves_are_not_called_a_mean(trained):
    assert "averaged over" not in (trained[0] / "report.html").read_text()


def test_a_balanced_table_gets_no_majority_line(trained):
    assert "every time would score" not in flat(trained[1])


def test_predict_writes_the_rows_ids_beside_the_predictions(trained, wine, tmp_path):
    """Columns the model does not use that look like ids (a distinct name per row, R's
    row names) lead the output, so predictions join back by id, not by row order."""
    model_dir, _ = trained
    _, _, df = wine
    rows = df.drop(columns=["cultivar"]).iloc[:40].copy()
    rows.insert(0, "sample", [f"s{i:03d}" for i in range(40)])
    rows["rownames"] = np.arange(500, 540)[::-1]
    rows["batch"] = "b1"  # not an id: ignored, as before
    rows.to_csv(tmp_path / "new.csv", index=False)
    result = run("predict", model_dir, tmp_path / "new.csv", "--out", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(tmp_path / "p.csv")
    assert list(pred.columns) == ["sample", "rownames", "predicted_cultivar"]
    assert pred["sample"].tolist() == rows["sample"].tolist()
    assert pred["rownames"].tolist() == rows["rownames"].tolist()
    expected = jaxmlp.load(model_dir).predict(rows)
    assert pred["predicted_cultivar"].tolist() == list(expected)


def test_a_float32_models_probabilities_sum_to_one_in_float64(trained, wine):
    """A float32 network's rows sum to 1 within ~1e-7; the table model answers rows that
    sum to 1 to float64 rounding, so scikit-learn's log_loss takes them without warning."""
    import warnings

    from sklearn.metrics import log_loss

    model = jaxmlp.load(trained[0])
    _, _, df = wine
    assert model.members[0].coefs_[0].dtype == np.float32
    proba = model.predict_proba(df)
    assert proba.dtype == np.float64 and np.abs(proba.sum(axis=1) - 1).max() < 1e-15
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_loss(df["cultivar"], proba, labels=model.classes)
