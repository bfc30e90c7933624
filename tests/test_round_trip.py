"""What ``train`` writes, ``predict`` reads, exactly (issue #27 item 1).

Hypothesis draws tables of every kind a user brings -- targets float, whole-number,
boolean, text and integer-coded classes; columns numeric, whole-number, text with few and
with many levels (target-encoded), dates, ID-like, with or without missing values --
trains each as ``jaxmlp train`` does, writes the model folder, and asserts that a fresh
process gives exactly the in-memory model's predictions, through ``jaxmlp predict`` and
through ``jaxmlp.load``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

COLUMNS = ("float", "whole", "few", "many", "date", "id", "flag")
TARGETS = ("float", "whole", "bool", "text", "codes")

# the fresh process: every folder through jaxmlp.load and through the CLI's predict
CHECK = """
import json, sys
import numpy as np, pandas as pd
import jaxmlp
from jaxmlp.cli.app import app

for folder, csv in json.loads(sys.argv[1]):
    model = jaxmlp.load(folder)
    X = pd.read_csv(csv).drop(columns=["y"])
    out = model.predict(X) if model.regression else model.predict_proba(X)
    np.save(folder + "/loaded.npy", np.asarray(out, np.float64))
    args = ["predict", folder, csv, "--out", folder + "/cli.csv"]
    app(args + ([] if model.regression else ["--proba"]), standalone_mode=False)
"""


def _column(kind: str, n: int, rng: np.random.Generator) -> pd.Series:
    if kind == "float":
        values = pd.Series(rng.normal(50.0, 20.0, n))
    elif kind == "whole":
        values = pd.Series(rng.integers(0, 10**6, n))
    elif kind == "few":
        values = pd.Series(rng.choice(["red", "green", "blue"], n))
    elif kind == "many":  # more levels than --max-onehot 5: target-encoded
        values = pd.Series([f"zip{v}" for v in rng.integers(0, 40, n)])
    elif kind == "date":
        days = rng.integers(0, 3 * 365, n)
        values = pd.Series((pd.Timestamp("2020-01-01") + pd.to_timedelta(days, "D"))
                           .strftime("%Y-%m-%d"))  # fmt: skip
    elif kind == "id":
        values = pd.Series([f"row-{i:05d}" for i in rng.permutation(n)])
    else:
        values = pd.Series(rng.choice([True, False], n))
    return values


def _target(kind: str, n: int, rng: np.random.Generator) -> pd.Series:
    if kind == "float":
        return pd.Series(rng.normal(0.0, 3.0, n))
    if kind == "whole":  # prices in whole dollars: a quantity, not classes
        return pd.Series(rng.integers(50_000, 900_000, n))
    labels = {"bool": [True, False], "text": ["cat", "dog", "bird"], "codes": [0, 1, 2]}[kind]
    values = np.resize(np.array(labels, dtype=object), n)  # every class >= n // 3 rows
    return pd.Series(rng.permutation(values))


@st.composite
def tables(draw) -> tuple[pd.DataFrame, str]:
    """A table of 40 to 90 rows, target column 'y', and a name saying its kinds (in the
    file names, so that a failure names what was drawn: shrinking is off, as every
    example trains six models)."""
    n = draw(st.integers(40, 90))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kinds = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=4))
    if set(kinds) == {"id"}:  # an ID alone is refused (tests/test_id_columns.py)
        kinds.append("float")
    target = draw(st.sampled_from(TARGETS))
    df = pd.DataFrame({f"{k}{i}": _column(k, n, rng) for i, k in enumerate(kinds)})
    if draw(st.booleans()):  # missing cells (never in an ID column or the target)
        for col in df.columns:
            if not col.startswith("id"):
                df[col] = df[col].astype(object).where(rng.random(n) >= 0.1, None)
    df["y"] = _target(target, n, rng)
    return df, f"{target}-{'-'.join(kinds)}"


@pytest.mark.slow
@settings(
    max_examples=2,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(tables(), min_size=6, max_size=6))
def test_train_then_predict_in_a_fresh_process_gives_the_same_predictions(tmp_path, drawn):
    from jaxmlp.reports.table import write_table_model
    from jaxmlp.workflows.table import TableTrainConfig, train_table
    from jaxmlp.workflows.table_use import predict_table

    root = Path(__import__("tempfile").mkdtemp(dir=tmp_path))
    expected, pairs = {}, []
    for i, (df, name) in enumerate(drawn):
        csv = root / f"{i}-{name}.csv"
        df.to_csv(csv, index=False)
        config = TableTrainConfig(data=csv, target="y", baseline=False, max_onehot=5,
                                  ensemble=2, params={"max_iter": 3,
                                                      "hidden_layer_sizes": (8,)})  # fmt: skip
        result = train_table(config)
        folder = root / f"{i}-model"
        write_table_model(result, folder)
        model = result.model
        assert model.regression == (name.split("-")[0] in ("float", "whole")), name
        frame, _ = predict_table(model, csv, proba=not model.regression)
        X = df.drop(columns=["y"])
        direct = model.predict(X) if model.regression else model.predict_proba(X)
        expected[str(folder)] = (frame, np.asarray(direct, np.float64), model)
        pairs.append((str(folder), str(csv)))
    done = subprocess.run([sys.executable, "-c", CHECK, json.dumps(pairs)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for folder, (frame, direct, model) in expected.items():
        loaded = np.load(Path(folder) / "loaded.npy")
        np.testing.assert_array_equal(loaded, direct, err_msg=folder)
        cli = pd.read_csv(Path(folder) / "cli.csv")
        assert list(cli.columns) == list(frame.columns), folder
        for col in frame.columns:
            if not col.startswith(("predicted_", "proba_")):  # a row id, carried as written
                assert (cli[col].astype(str) == frame[col].astype(str)).all(), folder
            elif col.startswith("proba_") or model.regression:
                np.testing.assert_array_equal(
                    cli[col].to_numpy(np.float64), frame[col].to_numpy(np.float64), err_msg=folder
                )
            else:  # the labels, as the CSV spells them
                assert (cli[col].astype(str) == frame[col].astype(str)).all(), folder
