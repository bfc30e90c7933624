"""Real tables (issue #14): a numeric target trains a regressor, dates become calendar
features, high-cardinality categories are target-encoded -- through train -> predict ->
evaluate on the CLI, checked against scikit-learn and hand computations -- and every bad
input of the issue is one message and exit 2 with nothing written."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import jaxmlp
from jaxmlp.cli import app
from jaxmlp.data.dates import CalendarFeatures, date_values, looks_like_dates
from jaxmlp.data.schema import infer_schema
from jaxmlp.data.tables import TableError

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def flat(output: str) -> str:
    return " ".join(output.replace("│", " ").split())


def _houses(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"sqft": rng.uniform(500, 4000, n).round(),
                       "rooms": rng.integers(1, 7, n),
                       "city": rng.choice(["a", "b", "c"], n)})  # fmt: skip
    df["price"] = (100 * df.sqft + 2e4 * df.rooms + df.city.map({"a": 0, "b": 5e4, "c": 1e5})
                   + rng.normal(0, 2e4, n)).round(2)  # fmt: skip
    return df


def _days(seed: int = 1) -> pd.DataFrame:
    """Two years of days; whether a day is busy follows the season and the weekend."""
    rng = np.random.default_rng(seed)
    d = pd.date_range("2011-01-01", "2012-12-31", freq="D")
    score = (1.5 * np.sin(2 * np.pi * (d.day_of_year - 100) / 365.25)
             + 0.8 * (d.day_of_week >= 5) + rng.normal(0, 0.5, len(d)))  # fmt: skip
    return pd.DataFrame({"date": d.strftime("%Y-%m-%d"), "noise": rng.normal(size=len(d)),
                         "busy": np.where(score > 0.3, "yes", "no")})  # fmt: skip


@pytest.fixture(scope="module")
def houses(tmp_path_factory):
    folder = tmp_path_factory.mktemp("houses")
    path = folder / "houses.csv"
    _houses().to_csv(path, index=False)
    model = folder / "model"
    result = run("train", path, "--target", "price", "--out", model, "--json", "--max-iter",
                 "300", "--lr", "0.01", "--hidden", "32", "--ensemble", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    return folder, path, model, json.loads(result.output[result.output.index("{") :])


def test_a_numeric_target_trains_a_regressor_and_compares_with_both_baselines(houses):
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.metrics import r2_score

    _, _, model, summary = houses
    assert summary["task"] == "regression"
    jx, gbm = summary["validation"], summary["gradient_boosting"]
    assert jx["r2"] > 0.9 and summary["sklearn"]["r2"] > 0.9
    # the gradient-boosting row is scikit-learn's own fit on the same split and inputs
    loaded = jaxmlp.load(model)
    df = _houses()
    from sklearn.model_selection import train_test_split

    tr, te = train_test_split(df, test_size=0.25, random_state=0)
    X_tr, X_te = loaded.encode_features(tr), loaded.encode_features(te)
    theirs = HistGradientBoostingRegressor(random_state=0).fit(X_tr, tr.price)
    assert abs(r2_score(te.price, theirs.predict(X_te)) - gbm["r2"]) < 1e-9
    # and jaxmlp's R² is the loaded model's on the same validation rows
    assert abs(r2_score(te.price, loaded.predict(te)) - jx["r2"]) < 1e-9


def test_regression_predict_writes_numbers_and_evaluate_gives_r2_rmse_mae(houses, tmp_path):
    _, _, model, _ = houses
    new = _houses(50, seed=5)
    new.drop(columns="price").to_csv(tmp_path / "new.csv", index=False)
    result = run("predict", model, tmp_path / "new.csv", "--out", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(tmp_path / "p.csv")["predicted_price"].to_numpy()
    loaded = jaxmlp.load(model)
    # the loaded network by hand: preprocess, forward pass, undo the target scaling
    X = loaded.encode_features(new)
    h = X @ loaded.estimator.coefs_[0] + loaded.estimator.intercepts_[0]
    z = np.maximum(h, 0) @ loaded.estimator.coefs_[1] + loaded.estimator.intercepts_[1]
    np.testing.assert_allclose(pred, z[:, 0] * loaded.target_scale + loaded.target_mean,
                               rtol=1e-6)  # fmt: skip
    new.to_csv(tmp_path / "labelled.csv", index=False)
    result = run("evaluate", model, tmp_path / "labelled.csv", "--json", "--out", tmp_path / "r")
    assert result.exit_code == 0, result.output
    got = json.loads(result.output[result.output.index("{") :])
    err = new.price.to_numpy() - pred
    assert abs(got["rmse"] - np.sqrt(np.mean(err**2))) < 1e-6 * got["rmse"]
    assert abs(got["mae"] - np.mean(np.abs(err))) < 1e-6 * got["mae"]
    report = (tmp_path / "r" / "report.html").read_text()
    assert "Predicted vs actual" in report or "predicted" in report
    assert report.count("data:image/png;base64,") == 2  # predicted-vs-actual, residuals
    assert "--proba" in flat(run("predict", model, tmp_path / "new.csv", "--proba").output)


def test_the_training_report_has_the_regression_panels(houses):
    report = (houses[2] / "report.html").read_text()
    assert "HistGradientBoostingRegressor" in report and "MLPRegressor" in report
    assert report.count("data:image/png;base64,") == 3  # curves, predicted, residuals
    assert "R²" in report and "RMSE" in report and "MAE" in report


def test_task_auto_chooses_and_says_so(tmp_path):
    df = _houses(300)
    df["rooms_class"] = df.rooms.astype(str)
    df.to_csv(tmp_path / "h.csv", index=False)
    out = flat(run("train", tmp_path / "h.csv", "--target", "price", "--no-baseline",
                   "--max-iter", "3", "--out", tmp_path / "a").output)  # fmt: skip
    assert "target 'price' holds fractional numbers: training a regressor" in out
    # integers with few values are classes; with --task regression they are numbers
    out = flat(run("train", tmp_path / "h.csv", "--target", "rooms", "--no-baseline",
                   "--max-iter", "3", "--out", tmp_path / "b").output)  # fmt: skip
    assert "6 classes" in out
    out = flat(run("train", tmp_path / "h.csv", "--target", "rooms", "--task", "regression",
                   "--no-baseline", "--max-iter", "3", "--out", tmp_path / "c").output)  # fmt: skip
    assert "a numeric target (regression)" in out
    assert jaxmlp.load(tmp_path / "c").regression


def test_dates_become_calendar_features_computed_as_by_hand():
    dates = pd.Series(["2012-01-01", "2012-07-01T06:00:00", None, "2013-03-15"])
    values = date_values(dates, "d")
    cal = CalendarFeatures().fit(pd.DataFrame({"d": values}))
    assert cal.has_time_.tolist() == [True]
    out = cal.transform(pd.DataFrame({"d": values}))
    assert out.shape == (4, 9)
    years = np.array([2012, 2012, 2013])
    # year standardised over the training rows' dates; row 2 (missing) takes the median
    median = np.median(values.dropna().to_numpy().astype(np.int64)).astype("datetime64[ns]")
    assert pd.Timestamp(median) == pd.Timestamp("2012-07-01T06:00:00")
    np.testing.assert_allclose(out[[0, 1, 3], 0], (years - years.mean()) / years.std())
    # 2012-07-01 06:00 is a Sunday, month 7, day 183 of the year, a quarter of the day
    a = 2 * np.pi * np.array([6 / 12, 182 / 365.25, 6 / 7, 6 / 24])
    expect = np.ravel(np.c_[np.sin(a), np.cos(a)])
    np.testing.assert_allclose(out[1, 1:], expect, atol=1e-12)
    np.testing.assert_allclose(out[2], out[1])  # the missing date: the median date


def test_date_columns_are_found_and_declared():
    df = _days()
    schema, _ = infer_schema(df, "busy")
    assert schema.datetime == ["date"] and schema.numeric == ["noise"]
    assert looks_like_dates(pd.Series(["2020-01-01 10:00", "2021-12-31T00:00:00+02:00"]))
    assert not looks_like_dates(pd.Series(["a", "b"]))
    parquet_dates = pd.DataFrame({"d": pd.to_datetime(df.date).dt.date, "busy": df.busy})
    assert infer_schema(parquet_dates, "busy")[0].datetime == ["d"]
    odd = pd.DataFrame({"d": ["01/02/2020", "03/04/2021"] * 20, "y": ["a", "b"] * 20})
    assert infer_schema(odd, "y", datetime=("d",))[0].datetime == ["d"]


def test_a_daily_table_learns_the_season_one_hot_dates_could_not(tmp_path):
    _days().to_csv(tmp_path / "days.csv", index=False)
    result = run("train", tmp_path / "days.csv", "--target", "busy", "--json", "--out",
                 tmp_path / "m")  # fmt: skip
    assert result.exit_code == 0, result.output
    ours = json.loads(result.output[result.output.index("{") :])["validation"]["accuracy"]
    model = jaxmlp.load(tmp_path / "m")
    assert model.schema.datetime == ["date"] and model.estimator.n_features_in_ == 8
    report = (tmp_path / "m" / "report.html").read_text()
    assert "date: year (standardised) + sin/cos of month, day of year, weekday" in report
    old = run("train", tmp_path / "days.csv", "--target", "busy", "--json", "--categorical",
              "date", "--max-onehot", "100000", "--out", tmp_path / "old")  # fmt: skip
    before = json.loads(old.output[old.output.index("{") :])["validation"]["accuracy"]
    assert ours > 0.85 and ours - before > 0.25, (ours, before)
    # the saved model reads its dates back: the same predictions after loading
    df = _days()
    result = run("predict", tmp_path / "m", tmp_path / "days.csv", "--out", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(tmp_path / "p.csv")["predicted_busy"]
    assert (pred.to_numpy() == model.predict(df)).all()
    assert (pred == df.busy).mean() > 0.85
    result = run("evaluate", tmp_path / "m", tmp_path / "days.csv", "--json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.output[result.output.index("{") :])["accuracy"]
    assert got == pytest.approx((pred == df.busy).mean(), abs=1e-12)


def test_a_5000_level_category_is_target_encoded_through_train_predict_evaluate(tmp_path):
    from sklearn.preprocessing import TargetEncoder

    rng = np.random.default_rng(0)
    n, levels = 12000, np.array([f"z{i:04d}" for i in range(5000)])
    effect, z, x = rng.normal(size=5000), rng.integers(0, 5000, n), rng.normal(size=n)
    label = np.where(effect[z] + 0.5 * x + rng.normal(0, 0.5, n) > 0, "a", "b")
    df = pd.DataFrame({"zip": levels[z], "x": x, "label": label})
    df.to_csv(tmp_path / "z.csv", index=False)
    result = run("train", tmp_path / "z.csv", "--target", "label", "--out", tmp_path / "m",
                 "--max-iter", "50", "--no-baseline")  # fmt: skip
    assert result.exit_code == 0, result.output
    model = jaxmlp.load(tmp_path / "m")
    assert model.schema.target_encoded == ["zip"]
    assert model.estimator.n_features_in_ == 2  # x and the zip's encoding, not 5000 columns
    # the stored encoding is scikit-learn's TargetEncoder fitted on the training rows
    from sklearn.model_selection import train_test_split

    tr, _ = train_test_split(df, test_size=0.25, random_state=0, stratify=df.label)
    y = (tr.label == "b").astype(int)
    theirs = TargetEncoder().fit(tr[["zip"]], y)  # encodings_: from all training rows
    enc = model.preprocessor.named_transformers_["target"][1]
    np.testing.assert_allclose(enc.encodings_[0], theirs.encodings_[0], rtol=1e-12)
    result = run("evaluate", tmp_path / "m", tmp_path / "z.csv", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output[result.output.index("{") :])["accuracy"] > 0.75
    df.drop(columns="label").head(300).to_csv(tmp_path / "new.csv", index=False)
    result = run("predict", tmp_path / "m", tmp_path / "new.csv", "--out", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(tmp_path / "p.csv")["predicted_label"].to_numpy()
    assert (pred == model.predict(df.head(300))).all()


@pytest.mark.parametrize(
    ("frame", "args", "message"),
    [
        (
            pd.DataFrame({"d": ["2020-01-01"] * 30 + ["not a date"], "y": ["a", "b"] * 15 + ["a"]}),
            ("--target", "y"),
            "Column 'd' holds dates but 'not a date' (row 31 of the data",
        ),
        (
            pd.DataFrame(
                {"x": np.arange(40.0) % 7, "y": [1.5, np.inf, *list(np.arange(38.0) / 3)]}
            ),
            ("--target", "y"),
            "Target column 'y' has an infinite value (inf, row 2",
        ),
        (
            pd.DataFrame({"x": np.arange(40.0) % 7, "y": [2.5] * 40}),
            ("--target", "y", "--task", "regression"),
            "has the same value (2.5) in every row",
        ),
        (
            pd.DataFrame({"x": np.arange(10000.0) % 13, "y": np.arange(10000) / 7}),
            ("--target", "y", "--task", "classification"),
            "Target column 'y' holds continuous numbers (10000 distinct values",
        ),
        (
            pd.DataFrame({"x": np.arange(40.0) % 7, "y": ["a", "b"] * 20}),
            ("--target", "y", "--datetime", "x"),
            "Column 'x' holds numbers, not dates",
        ),
        (
            pd.DataFrame({"x": np.arange(40.0) % 7, "y": ["a", "b"] * 19 + ["c", "d"]}),
            ("--target", "y", "--task", "regression"),
            "is to be predicted as a number but has text",
        ),
    ],
    ids=[
        "bad-date",
        "inf-target",
        "constant-target",
        "continuous-as-classes",
        "datetime-on-numbers",
        "text-as-regression",
    ],
)
def test_bad_real_table_input_is_one_message_and_exit_2(tmp_path, frame, args, message):
    frame.to_csv(tmp_path / "t.csv", index=False)
    result = run("train", tmp_path / "t.csv", *args, "--out", tmp_path / "m", "--max-iter", "2")
    assert result.exit_code == 2, result.output
    assert message in flat(result.output), result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "m").exists()


def test_the_continuous_target_refusal_gives_the_advice():
    from jaxmlp.data.target import check_classes

    with pytest.raises(TableError, match="--task regression"):
        check_classes(pd.Series(np.arange(100) / 3), "y")


def test_early_stopping_is_on_by_default_and_marked_and_can_be_turned_off(tmp_path):
    _houses(600).to_csv(tmp_path / "h.csv", index=False)
    result = run("train", tmp_path / "h.csv", "--target", "price", "--no-baseline",
                 "--max-iter", "400", "--out", tmp_path / "on", "--ensemble", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    on = jaxmlp.load(tmp_path / "on").estimator
    assert on.early_stopping and on.n_iter_ < 400 and on.early_stopping_metric == "loss"
    assert len(on.validation_scores_) == on.n_iter_
    # the report's curves mark the restored epoch: the lowest validation loss's
    from jaxmlp.reports.table_regression import plot_regression_curves, restored_epoch

    best = int(np.argmin(on.validation_loss_curve_)) + 1
    assert restored_epoch(on) == best
    curves = np.random.default_rng(0).uniform(size=(on.n_iter_, 2, 2))
    fig = plot_regression_curves(curves, None, best)
    marks = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(marks) == 2 and all(ln.get_xdata()[0] == best for ln in marks)
    result = run("train", tmp_path / "h.csv", "--target", "price", "--no-baseline",
                 "--max-iter", "20", "--no-early-stopping", "--out", tmp_path / "off")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert not any(m.early_stopping for m in jaxmlp.load(tmp_path / "off").members)


def test_a_regressor_with_dates_and_target_encoding_saves_and_loads_exactly(tmp_path):
    """Everything a regression table model learned comes back from its folder: the
    target-encoder (continuous target, plain folds), the calendar features, the target
    scaling -- the loaded model predicts what the trained one did, bit for bit. And the
    default precision is float32 (as PyTorch's tabular MLPs), --dtype float64 on request."""
    from jaxmlp.reports.table import write_table_model
    from jaxmlp.workflows.table import TableTrainConfig, train_table

    rng = np.random.default_rng(3)
    n = 900
    day = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "h") * 24
    df = pd.DataFrame({"zip": [f"z{i}" for i in rng.integers(0, 120, n)],
                       "day": day.strftime("%Y-%m-%dT%H:00"), "x": rng.normal(size=n)})  # fmt: skip
    df["y"] = rng.normal(size=n) + df.x * 3 + np.sin(day.day_of_year.to_numpy() / 58) * 2
    df.to_csv(tmp_path / "t.csv", index=False)
    params = {"hidden_layer_sizes": (16,), "max_iter": 30, "random_state": 0}
    result = train_table(TableTrainConfig(tmp_path / "t.csv", "y", params, baseline=False))
    model = result.model
    assert model.regression and model.schema.target_encoded == ["zip"]
    assert model.schema.datetime == ["day"] and model.members[0].coefs_[0].dtype == np.float32
    assert len(model.members) == 4  # the default ensemble: every member comes back
    write_table_model(result, tmp_path / "m")
    back = jaxmlp.load(tmp_path / "m")
    np.testing.assert_array_equal(back.predict(df), model.predict(df))
    assert (back.target_mean, back.target_scale) == (model.target_mean, model.target_scale)
    f64 = train_table(TableTrainConfig(tmp_path / "t.csv", "y", {**params, "dtype": "float64"},
                                       baseline=False))  # fmt: skip
    assert all(m.coefs_[0].dtype == np.float64 for m in f64.model.members)


def test_parquet_timestamp_and_date_columns_are_dates(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from jaxmlp.data.tables import read_table

    df = _days()
    d = pd.to_datetime(df.date)
    pq.write_table(pa.table({"ts": pa.array(d.to_numpy(), pa.timestamp("us", tz="UTC")),
                             "dd": pa.array(d.dt.date, pa.date32()), "busy": df.busy}),
                   tmp_path / "d.parquet")  # fmt: skip
    schema, _ = infer_schema(read_table(tmp_path / "d.parquet"), "busy")
    assert schema.datetime == ["ts", "dd"]
    result = run("train", tmp_path / "d.parquet", "--target", "busy", "--no-baseline",
                 "--max-iter", "5", "--out", tmp_path / "m")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert jaxmlp.load(tmp_path / "m").estimator.n_features_in_ == 14  # 7 per date column
