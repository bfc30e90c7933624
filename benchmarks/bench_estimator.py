"""Issue #3's benchmark: jaxmlp.MLPClassifier vs scikit-learn's, side by side in one run.

    .venv/bin/python benchmarks/bench_estimator.py [--rows 200000] [--skip-checks]

Rows:
- digits (1797 x 64, 10 classes), default hyperparameters (adam, max_iter=200): first
  fit in the process (compiles) and steady state, for float64 input (what scikit-learn
  users pass; jaxmlp then trains in float64 too) and float32 input;
- make_classification(200_000 x 50, 5 classes), hidden_layer_sizes=(256, 256),
  batch_size=256, max_iter=5 (tol=0 so all 5 epochs run);
- scikit-learn's estimator check suite (`check_estimator`) on each library's MLP, each in
  a fresh process; jaxmlp's with a warm persistent compilation cache.

Both libraries get the same input (scikit-learn also trains float32 input in float32); the
rows marked dtype='float32' give both float64 input and ask jaxmlp to train in float32.
Ratios are scikit-learn's time / jaxmlp's time (> 1: jaxmlp is faster). Results are printed
and written to benchmarks/results/estimator.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from bench_output import write_results
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLP

from jaxmlp import MLPClassifier

CHECKS = """
import warnings, sys, time
warnings.simplefilter("ignore")
{setup}
from sklearn.utils.estimator_checks import check_estimator
t = time.perf_counter()
check_estimator({est}(max_iter=100))
print(time.perf_counter() - t)
"""


def timed_fit(est, X, y) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - t0


def check_suite(est: str, setup: str, env: dict) -> float:
    code = CHECKS.format(est=est, setup=setup)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--skip-checks", action="store_true")
    args = parser.parse_args()
    rows: list[tuple[str, float, float]] = []  # (what, sklearn s, jaxmlp s)

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    for dtype in (np.float64, np.float32):
        Xd = X.astype(dtype)
        sk = timed_fit(SkMLP(random_state=0), Xd, y)  # scikit-learn keeps float32 too
        first = timed_fit(MLPClassifier(random_state=0), Xd, y)
        steady = min(timed_fit(MLPClassifier(random_state=s), Xd, y) for s in (1, 2, 3))
        name = np.dtype(dtype).name
        rows.append((f"digits, adam, max_iter=200, {name}: first fit (compiles)", sk, first))
        rows.append((f"digits, adam, max_iter=200, {name}: steady state", sk, steady))
        if dtype == np.float64:
            sk_digits64 = sk

    # what a user with float64 data gets by asking for float32 training (compiled above)
    fast = min(timed_fit(MLPClassifier(random_state=s, dtype="float32"), X, y) for s in (1, 2, 3))
    rows.append(("digits, float64 input, jaxmlp dtype='float32': steady", sk_digits64, fast))

    Xl, yl = make_classification(n_samples=args.rows, n_features=50, n_informative=20,
                                 n_classes=5, random_state=0)  # fmt: skip
    params = dict(hidden_layer_sizes=(256, 256), batch_size=256, max_iter=5, tol=0.0,
                  random_state=0)  # fmt: skip
    for dtype in (np.float64, np.float32):
        Xd = Xl.astype(dtype)
        sk = timed_fit(SkMLP(**params), Xd, yl)
        first = timed_fit(MLPClassifier(**params), Xd, yl)
        steady = timed_fit(MLPClassifier(**params), Xd, yl)
        name = np.dtype(dtype).name
        rows.append((f"{args.rows} x 50, (256, 256), batch 256, 5 epochs, {name}: first", sk,
                     first))  # fmt: skip
        rows.append((f"{args.rows} x 50, (256, 256), batch 256, 5 epochs, {name}: steady", sk,
                     steady))  # fmt: skip
        if dtype == np.float64:
            sk_large64 = sk
    fast = timed_fit(MLPClassifier(**params, dtype="float32"), Xl, yl)
    rows.append((f"{args.rows} x 50 ... float64 input, jaxmlp dtype='float32': steady",
                 sk_large64, fast))  # fmt: skip

    if not args.skip_checks:
        env = os.environ | {"JAXMLP_CACHE_DIR": tempfile.mkdtemp(prefix="jaxmlp-bench-")}
        setup_jx = "import jaxmlp; jaxmlp.enable_compilation_cache()\nfrom jaxmlp import " \
                   "MLPClassifier"  # fmt: skip
        setup_sk = "from sklearn.neural_network import MLPClassifier"
        sk = check_suite("MLPClassifier", setup_sk, env)
        cold = check_suite("MLPClassifier", setup_jx, env)
        warm = check_suite("MLPClassifier", setup_jx, env)
        rows.append(("check_estimator suite, cold compilation cache", sk, cold))
        rows.append(("check_estimator suite, warm compilation cache", sk, warm))

    lines = ["| what | scikit-learn | jaxmlp | speed-up |", "|---|---:|---:|---:|"]
    lines += [f"| {w} | {a:.2f} s | {b:.2f} s | {a / b:.2f}x |" for w, a, b in rows]
    write_results(
        "estimator",
        "Estimator benchmark",
        "\n".join(lines),
        {"rows": [dict(what=w, sklearn_s=a, jaxmlp_s=b) for w, a, b in rows]},
    )


if __name__ == "__main__":
    main()
