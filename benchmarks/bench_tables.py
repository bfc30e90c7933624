"""``jaxmlp train`` on a 100,000-row table against scikit-learn's own pipeline (issue #14).

The table is what a practitioner has: numbers with gaps, a small categorical column, a
5,000-level categorical column, a date column, and a numeric target. Both sides start in a
fresh process (cold against cold: imports, reading the CSV, preprocessing, compiling where
there is compiling, training, scoring the validation rows) and do the same work:

- same split (75 / 25, seed 0), same preprocessing (median-impute + standardise numbers;
  one-hot the small category; target-encode the 5,000-level one and standardise it;
  calendar features of the date; the target standardised),
- same network and solver: ``MLPRegressor(hidden_layer_sizes=(100,), solver='adam',
  batch_size=200, max_iter=20, tol=0, early_stopping=False)`` in float64 -- a fixed 20
  epochs on both sides (no stopping rule can end one side earlier),
- the validation R².

jaxmlp's command also writes the model folder and its HTML report (figures included);
the scikit-learn script writes nothing. Run with ``--no-baseline`` so jaxmlp does not train
scikit-learn's MLP and gradient boosting too.

    .venv/bin/python benchmarks/bench_tables.py [--quick]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_output import of, write_results

PY = sys.executable
JAXMLP = str(Path(PY).with_name("jaxmlp"))
EPOCHS = 20

SKLEARN = """
import sys, time, json
t0 = time.perf_counter()
import numpy as np, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold, train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler, TargetEncoder, FunctionTransformer

def calendar(frame):
    out = []
    for c in frame.columns:
        d = pd.to_datetime(frame[c])
        year = d.dt.year.to_numpy(float)
        out.append(year)
        for part, period in ((d.dt.month - 1, 12), (d.dt.day_of_year - 1, 365.25),
                             (d.dt.day_of_week, 7)):
            a = 2 * np.pi * part.to_numpy(float) / period
            out += [np.sin(a), np.cos(a)]
    return np.stack(out, axis=1)

df = pd.read_csv(sys.argv[1])
train, test = train_test_split(df, test_size=0.25, random_state=0)
frequent = SimpleImputer(strategy="most_frequent")
folds = KFold(5, shuffle=True, random_state=0)
pre = ColumnTransformer([
    ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
     ["x0", "x1", "x2", "x3"]),
    ("cat", make_pipeline(frequent, OneHotEncoder(handle_unknown="ignore",
                                                  sparse_output=False)), ["shop"]),
    ("te", make_pipeline(frequent, TargetEncoder(cv=folds), StandardScaler()), ["zip"]),
    ("date", make_pipeline(FunctionTransformer(calendar), StandardScaler()), ["day"]),
])
y = train["sales"].to_numpy()
mean, std = y.mean(), y.std()
X_tr = pre.fit_transform(train, y)
X_te = pre.transform(test)
model = MLPRegressor(hidden_layer_sizes=(100,), batch_size=200, max_iter=EPOCHS, tol=0.0,
                     random_state=0).fit(X_tr, (y - mean) / std)
r2 = r2_score(test["sales"], model.predict(X_te) * std + mean)
print(json.dumps({"seconds": time.perf_counter() - t0, "r2": r2, "epochs": model.n_iter_}))
""".replace("EPOCHS", str(EPOCHS))


def make_table(path: Path, rows: int) -> None:
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, 4))
    X[rng.random((rows, 4)) < 0.02] = np.nan
    day = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1096, rows), "D")
    zips = rng.integers(0, 5000, rows)
    shop = rng.choice(["north", "south", "east", "west", "web"], rows)
    season = np.sin(2 * np.pi * day.day_of_year.to_numpy() / 365.25)
    effect = rng.normal(0, 1, 5000)[zips]
    sales = (100 + 20 * np.nan_to_num(X[:, 0]) + 10 * np.nan_to_num(X[:, 1]) ** 2
             + 15 * season + 8 * effect + 5 * (day.day_of_week.to_numpy() >= 5)
             + rng.normal(0, 5, rows))  # fmt: skip
    pd.DataFrame({"x0": X[:, 0], "x1": X[:, 1], "x2": X[:, 2], "x3": X[:, 3], "shop": shop,
                  "zip": [f"z{z:04d}" for z in zips], "day": day.strftime("%Y-%m-%d"),
                  "sales": sales.round(2)}).to_csv(path, index=False)  # fmt: skip


def jaxmlp_run(table: Path, out: Path, dtype: str, cache: Path | None) -> dict:
    """One ``jaxmlp train`` in a fresh process; ``cache``: the compilation cache folder
    (None: a new, empty one -- the first run on a machine)."""
    import os

    fresh = None if cache is not None else tempfile.TemporaryDirectory()
    env = {**os.environ, "JAXMLP_CACHE_DIR": str(cache or fresh.name)}  # type: ignore[union-attr]
    t0 = time.perf_counter()
    done = subprocess.run([JAXMLP, "train", str(table), "--target", "sales", "--out", str(out),
                           "--force", "--no-baseline", "--no-early-stopping", "--max-iter",
                           str(EPOCHS), "--tol", "0", "--dtype", dtype, "--json", "-q"],
                          capture_output=True, text=True, timeout=1800, env=env)  # fmt: skip
    if fresh is not None:
        fresh.cleanup()
    seconds = time.perf_counter() - t0
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    return {"seconds": seconds, "r2": summary["validation"]["r2"]}


def sklearn_run(table: Path) -> dict:
    t0 = time.perf_counter()
    done = subprocess.run([PY, "-c", textwrap.dedent(SKLEARN), str(table)], capture_output=True,
                          text=True, timeout=1800)  # fmt: skip
    seconds = time.perf_counter() - t0
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "seconds": seconds}


def main() -> None:
    quick = "--quick" in sys.argv
    rows, repeats = (10_000, 2) if quick else (100_000, 5)
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "sales.csv"
        make_table(table, rows)
        cache, out = Path(tmp) / "cache", Path(tmp) / "m"
        for dtype in ("float64", "float32"):  # fill the cache: what a second run finds
            jaxmlp_run(table, out, dtype, cache)
        runs = {"scikit-learn pipeline (float64)": [sklearn_run(table) for _ in range(repeats)],
                "jaxmlp train (float64), first run: empty compilation cache":
                    [jaxmlp_run(table, out, "float64", None) for _ in range(repeats)],
                "jaxmlp train (float64), later runs: programs cached":
                    [jaxmlp_run(table, out, "float64", cache) for _ in range(repeats)],
                "jaxmlp train --dtype float32, programs cached":
                    [jaxmlp_run(table, out, "float32", cache) for _ in range(repeats)]}  # fmt: skip
    base = of([r["seconds"] for r in runs["scikit-learn pipeline (float64)"]])
    lines = [f"{rows:,} rows (4 numeric with 2% missing, 5-level and 5,000-level categories, "
             f"a date), numeric target; {EPOCHS} epochs of adam, batch 200, (100,); cold: a "
             f"fresh process per run, {repeats} runs, wall time from start to exit.", "",
             "| run | wall time, median (min-max) | baseline / this | validation R² |",
             "|---|---:|---:|---:|"]  # fmt: skip
    for name, rs in runs.items():
        t = of([r["seconds"] for r in rs])
        lines.append(f"| {name} | {t} | {base.median / t.median:.2f}x | "
                     f"{np.median([r['r2'] for r in rs]):.4f} |")  # fmt: skip
    lines.append("")
    lines.append("jaxmlp's runs also write the model folder and report.html (3 figures, ~1 s "
                 "of matplotlib); the scikit-learn script writes nothing. Importing jax costs "
                 "jaxmlp ~2 s that the scikit-learn script does not pay: on a table this "
                 "size that start-up, not the training, is the gap.")  # fmt: skip
    write_results("tables", "jaxmlp train vs scikit-learn's pipeline", "\n".join(lines),
                  {"rows": rows, "epochs": EPOCHS, "runs": runs})  # fmt: skip


if __name__ == "__main__":
    main()
