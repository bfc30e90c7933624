"""``jaxmlp train --stream`` (issue #13, part 4): a table read one row group at a time
trains the model an in-memory fit trains on the same rows (shuffling off), in memory that
does not grow with the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.datasets import make_classification

import jaxmlp
from jaxmlp.data.schema import clean_features
from jaxmlp.workflows import stream as ws
from jaxmlp.workflows.table import TableTrainConfig

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "jaxmlp.cli"]


def _table(n_classes: int, seed: int = 0) -> pd.DataFrame:
    X, y = make_classification(5000, 8, n_classes=n_classes, n_informative=5, random_state=seed)
    df = pd.DataFrame(X.astype(np.float32), columns=[f"x{i}" for i in range(8)])
    df["colour"] = np.array(["red", "green", "blue"])[np.arange(5000) % 3]
    df.loc[::97, "x3"] = np.nan  # imputed
    df["label"] = np.array(["no", "yes", "maybe"])[y]
    return df


@pytest.mark.parametrize(
    ("n_classes", "schedule"),
    [
        (2, {}),
        (3, {}),
        # issue #21: the streamed driver kept its own epoch-end rule, without the schedules
        (2, {"solver": "sgd", "learning_rate": "invscaling", "learning_rate_init": 0.1}),
        (2, {"solver": "sgd", "learning_rate": "adaptive", "tol": 0.05, "n_iter_no_change": 2}),
    ],
    ids=["binary", "three-classes", "invscaling", "adaptive"],
)
def test_streamed_fit_equals_the_in_memory_fit_on_the_same_rows(tmp_path, monkeypatch,
                                                                  n_classes, schedule):  # fmt: skip
    monkeypatch.setattr(ws, "CHUNK_ROWS", 1000)  # chunks of 960 rows regroup row groups of 700
    df = _table(n_classes)
    path = tmp_path / "t.parquet"
    df.to_parquet(path, row_group_size=700)
    params = {**dict(hidden_layer_sizes=(16,), max_iter=15, batch_size=64, shuffle=False,
                     random_state=0, tol=0.0), **schedule}  # fmt: skip
    result = ws.train_table_stream(TableTrainConfig(path, "label", params, stream=True))
    model = result.model
    # the training rows, in file order: all but the validation rows the first pass drew
    p = min(0.25, ws.VALIDATION / len(df))
    parts = [pq.ParquetFile(path).read_row_group(g).to_pandas() for g in range(8)]
    train = pd.concat([f[~ws.validation_mask(0, g, len(f), p)] for g, f in enumerate(parts)])
    assert result.model.info["rows"] == {"train": len(train), "validation": len(df) - len(train)}
    X = model.preprocessor.transform(clean_features(train, model.schema)).astype(np.float32)
    _, y = np.unique(train["label"].astype(str), return_inverse=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = jaxmlp.MLPClassifier(**params).fit(X, y)
    X_val = result.table.split.X_test
    np.testing.assert_allclose(model.estimator.predict_proba(X_val),
                               reference.predict_proba(X_val), atol=1e-5)  # fmt: skip
    np.testing.assert_allclose(model.estimator.loss_curve_, reference.loss_curve_, rtol=1e-5)
    # every category of the table is known, though the preprocessing saw a sample
    assert list(model.preprocessor.named_transformers_["categorical"][-1].categories_[0]) == [
        "blue", "green", "red"]  # fmt: skip


def test_a_table_ten_times_larger_than_the_memory_growth_cap_trains_within_it(tmp_path):
    # 3M rows x 12 float32 columns (~210 MB of Parquet); the process's resident memory may
    # grow by a tenth of the file over its high-water mark after a warm-up run that
    # compiled the same programs (Python, JAX and scikit-learn alone take ~600 MB)
    big, small = tmp_path / "big.parquet", tmp_path / "small.parquet"
    schema = pa.schema([(f"x{i}", pa.float32()) for i in range(12)] + [("label", pa.int32())])
    rng = np.random.default_rng(0)
    with pq.ParquetWriter(big, schema) as writer:
        for start in range(0, 3_000_000, 262_144):
            n = min(262_144, 3_000_000 - start)
            X = rng.standard_normal((n, 12), dtype=np.float32)
            y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.int32)
            columns = {**{f"x{i}": X[:, i] for i in range(12)}, "label": y}
            writer.write_table(pa.table(columns, schema=schema), row_group_size=16_384)
    pq.write_table(pq.read_table(big).slice(0, 100_000), small, row_group_size=16_384)
    code = textwrap.dedent(f"""
        import json, resource, time
        import jaxmlp.workflows.stream as ws
        from jaxmlp.workflows.table import TableTrainConfig
        ws.SAMPLE, ws.VALIDATION, ws.CHUNK_ROWS = 20_000, 5_000, 16_384
        params = dict(hidden_layer_sizes=(16,), max_iter=1, batch_size=512, random_state=0)
        def peak():
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        ws.train_table_stream(TableTrainConfig({str(small)!r}, "label", params, stream=True))
        base = peak()
        result = ws.train_table_stream(TableTrainConfig({str(big)!r}, "label", params,
                                                        stream=True))
        print(json.dumps({{"growth": peak() - base, "acc": result.metrics["accuracy"],
                          "rows": result.model.info["rows"]}}))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    size = os.path.getsize(big)
    assert size > 150e6
    assert out["growth"] * 10 < size, (out["growth"], size)
    assert sum(out["rows"].values()) == 3_000_000
    assert out["acc"] > 0.9  # it learned x0 + x1 * x2 > 0 in one epoch


def _cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_cli_streams_a_csv_converted_once_and_the_model_predicts(tmp_path):
    df = _table(3)
    csv = tmp_path / "t.csv"
    df.to_csv(csv, index=False)
    done = _cli("train", str(csv), "--target", "label", "--stream", "--max-iter", "5",
                "--out", str(tmp_path / "m"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    converted = tmp_path / "t.csv.rowgroups.parquet"
    assert converted.exists() and pq.ParquetFile(converted).metadata.num_rows == 5000
    stamp = converted.stat().st_mtime_ns
    again = _cli("train", str(csv), "--target", "label", "--stream", "--max-iter", "5",
                 "--out", str(tmp_path / "m"), "--force")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert converted.stat().st_mtime_ns == stamp  # converted once, then reused
    assert "validation accuracy" in done.stdout
    assert "Note: no baselines: scikit-learn's MLP and gradient boosting need the whole" in (
        " ".join(done.stderr.split()))  # fmt: skip
    # the precision it trained in, in the report's settings (not the None it was given)
    assert (
        "<tr><td>dtype</td><td>float32 (chosen)</td></tr>"
        in (tmp_path / "m" / "report.html").read_text()
    )
    predicted = _cli("predict", str(tmp_path / "m"), str(csv), "--out", str(tmp_path / "p.csv"))
    assert predicted.returncode == 0, predicted.stderr
    assert len(pd.read_csv(tmp_path / "p.csv")) == 5000


@pytest.mark.parametrize("dtype", [None, "float64"])
def test_a_streamed_fit_trains_in_the_precision_an_in_memory_fit_does(tmp_path, dtype):
    """One precision rule: float32 unless ``--dtype`` says otherwise, streamed or not."""
    from jaxmlp.workflows.table import train_table

    path = tmp_path / "t.parquet"
    _table(2).iloc[:600].to_parquet(path)
    params = {"hidden_layer_sizes": (4,), "max_iter": 2, "dtype": dtype}
    streamed = ws.train_table_stream(TableTrainConfig(path, "label", params, stream=True))
    in_memory = train_table(TableTrainConfig(path, "label", params, baseline=False,
                                             ensemble=1, cv=None))  # fmt: skip
    expected = np.dtype(dtype or "float32")
    assert streamed.model.members[0].coefs_[0].dtype == expected
    assert in_memory.model.members[0].coefs_[0].dtype == expected


def test_a_missing_text_cell_is_missing_in_the_streamed_copy_as_in_memory(tmp_path):
    """pyarrow reads an empty text cell as the string ''; the copy keeps it missing, as
    pandas reads it (so '' is no category of its own), and a copy written under the older
    rule is converted again."""
    from jaxmlp.data import stream

    csv = tmp_path / "t.csv"
    csv.write_text("x,colour,label\n1,red,a\n2,,b\n3,NA,a\n4,blue,b\n")
    copy = stream.csv_to_parquet(csv)
    colour = pq.read_table(copy).column("colour").to_pylist()
    in_memory = pd.read_csv(csv)["colour"]
    assert [c is None for c in colour] == in_memory.isna().tolist() == [False, True, True, False]
    assert colour == ["red", None, None, "blue"]
    # an older copy (no rule in its schema, '' as a value) is not reused
    old = pa.table({"x": [1, 2, 3, 4], "colour": ["red", "", "NA", "blue"],
                    "label": ["a", "b", "a", "b"]})  # fmt: skip
    pq.write_table(old, copy)
    os.utime(copy, (csv.stat().st_mtime + 10, csv.stat().st_mtime + 10))
    again = stream.csv_to_parquet(csv)
    assert pq.read_table(again).column("colour").to_pylist() == ["red", None, None, "blue"]


def test_stream_bad_inputs_are_one_clear_error_and_write_nothing(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    df = _table(2)
    df.iloc[:2500].to_parquet(folder / "a.parquet")
    odd = df.iloc[2500:].copy()
    odd["x1"] = odd["x1"].astype(str)
    odd.to_parquet(folder / "b.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    csv = tmp_path / "t.csv"
    df.to_csv(csv, index=False)
    (tmp_path / "t.csv.rowgroups.parquet").mkdir()  # the converted file cannot be written
    cases = [
        (
            (str(folder),),
            f"differ in schema: '{folder / 'b.parquet'}' 'x1' is large_string there but float",
        ),
        ((str(tmp_path / "broken.parquet"),), "Cannot read '"),
        ((str(csv),), "--stream converts '" + str(csv) + "' to Parquet once"),
        ((str(csv), "--devices", "2"), "--stream trains on one device of one process"),
        (
            (str(folder), "--ensemble", "3"),
            "--ensemble 3 trains its members side by side in "
            "memory; --stream trains one network. Drop --ensemble, or drop --stream.",
        ),
        (
            (str(folder), "--cv", "3"),
            "--cv 3 cross-fits its members in memory; --stream trains one network on a hold-out.",
        ),
    ]
    for args, message in cases:
        out = tmp_path / "m"
        done = _cli("train", *args, "--target", "label", "--stream", "--out", str(out))
        assert done.returncode == 2, (args, done.stderr)
        assert message in " ".join(done.stderr.split()), (message, done.stderr)
        assert "Traceback" not in done.stderr
        assert not out.exists()
