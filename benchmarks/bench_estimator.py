"""Issue #3's benchmark: jaxmlp.MLPClassifier vs scikit-learn's, side by side in one run.

    .venv/bin/python benchmarks/bench_estimator.py [--rows 200000] [--repeats 5] [--skip-checks]

Rows:
- digits (1797 x 64, 10 classes), default hyperparameters (adam, max_iter=200), the same
  seed in both libraries (n_iter_ recorded: the fits stop after their own number of
  epochs): cold (the first fit in fresh processes, jaxmlp compiling with an empty
  cache) and warm, for float64 input (what scikit-learn users pass; jaxmlp then trains in
  float64 too) and float32 input;
- make_classification(200_000 x 50, 5 classes), hidden_layer_sizes=(256, 256),
  batch_size=256, max_iter=5 (tol=0 so all 5 epochs run);
- scikit-learn's estimator check suite (`check_estimator`) on each library's MLP, each in
  a fresh process; jaxmlp's with a warm persistent compilation cache.

Both libraries get the same input (scikit-learn also trains float32 input in float32); the
rows marked dtype='float32' give both float64 input and ask jaxmlp to train in float32.
Ratios are scikit-learn's median time / jaxmlp's (> 1: jaxmlp is faster); every row is the
median of ``--repeats`` runs with the fastest and slowest. Results are printed and written
to benchmarks/results/estimator.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from bench_output import Timing, of, timing, write_results
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLP

from jaxmlp import MLPClassifier

SETUP_SK = "from sklearn.neural_network import MLPClassifier"
SETUP_JX = "from jaxmlp import MLPClassifier"
CHECKS = """
import warnings, sys, time
warnings.simplefilter("ignore")
{setup}
from sklearn.utils.estimator_checks import check_estimator
t = time.perf_counter()
check_estimator({est}(max_iter=100))
print(time.perf_counter() - t)
"""


def fitted(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def pair(make_sk, make_jx, X, y, repeats: int):
    """The same settings (same seed) in both libraries, warm against warm: (sklearn
    Timing, jaxmlp Timing, sklearn n_iter_, jaxmlp n_iter_)."""
    sk = timing(lambda: fitted(make_sk(), X, y), repeats)
    jx = timing(lambda: fitted(make_jx(), X, y), repeats)
    return sk, jx, fitted(make_sk(), X, y).n_iter_, fitted(make_jx(), X, y).n_iter_


FIRST = """
import sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
from sklearn.datasets import load_digits
{setup}
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.{dtype})
t = time.perf_counter()
MLPClassifier(random_state=0).fit(X, y)
print(time.perf_counter() - t)
"""


def first_fit(setup: str, dtype: str, repeats: int) -> Timing:
    """Cold against cold: the first fit in each of ``repeats`` fresh processes (imports not
    timed), with an empty compilation cache and no stored programs."""
    code = FIRST.format(setup=setup, dtype=dtype)
    times = []
    for _ in range(repeats):
        env = os.environ | {"JAXMLP_CACHE_DIR": tempfile.mkdtemp(prefix="jaxmlp-first-")}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True, timeout=900).stdout  # fmt: skip
        times.append(float(out.split()[-1]))
    return of(times)


def check_suite(est: str, setup: str, env: dict, repeats: int) -> Timing:
    code = CHECKS.format(est=est, setup=setup)
    return of([float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                    text=True, check=True, timeout=900).stdout.split()[-1])
               for _ in range(repeats)])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-checks", action="store_true")
    args = parser.parse_args()
    r = args.repeats
    rows: list[tuple] = []  # (what, sklearn Timing, jaxmlp Timing, sklearn n_iter, jaxmlp n_iter)

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    for dtype in (np.float64, np.float32):
        Xd = X.astype(dtype)
        name = np.dtype(dtype).name
        sk_first = first_fit(SETUP_SK, name, r)
        jx_first = first_fit(SETUP_JX, name, r)
        rows.append((f"digits, adam, max_iter=200, {name}: first fit, fresh processes (cold)",
                     sk_first, jx_first, None, None))  # fmt: skip
        rows.append((f"digits, adam, max_iter=200, {name}: warm",
                     *pair(lambda: SkMLP(random_state=0), lambda: MLPClassifier(random_state=0),
                           Xd, y, r)))  # fmt: skip
    # what a user with float64 data gets by asking for float32 training
    rows.append(
        (
            "digits, float64 input; jaxmlp dtype='float32': warm",
            *pair(
                lambda: SkMLP(random_state=0),
                lambda: MLPClassifier(random_state=0, dtype="float32"),
                X,
                y,
                r,
            ),
        )
    )

    Xl, yl = make_classification(n_samples=args.rows, n_features=50, n_informative=20,
                                 n_classes=5, random_state=0)  # fmt: skip
    params = dict(hidden_layer_sizes=(256, 256), batch_size=256, max_iter=5, tol=0.0,
                  random_state=0)  # fmt: skip
    big = f"{args.rows} x 50, (256, 256), batch 256, 5 epochs"
    for dtype in (np.float64, np.float32):
        rows.append((f"{big}, {np.dtype(dtype).name}: warm",
                     *pair(lambda: SkMLP(**params), lambda: MLPClassifier(**params),
                           Xl.astype(dtype), yl, r)))  # fmt: skip
    rows.append(
        (
            f"{big}, float64 input; jaxmlp dtype='float32': warm",
            *pair(
                lambda: SkMLP(**params), lambda: MLPClassifier(**params, dtype="float32"), Xl, yl, r
            ),
        )
    )

    if not args.skip_checks:
        env = os.environ | {"JAXMLP_CACHE_DIR": tempfile.mkdtemp(prefix="jaxmlp-bench-")}
        setup_jx = "import jaxmlp; jaxmlp.enable_compilation_cache()\n" + SETUP_JX
        sk = check_suite("MLPClassifier", SETUP_SK, env, r)
        check_suite("MLPClassifier", setup_jx, env, 1)  # fills the compilation cache
        warm = check_suite("MLPClassifier", setup_jx, env, r)
        rows.append(("check_estimator suite (fresh processes), warm compilation cache", sk, warm,
                     None, None))  # fmt: skip

    lines = [f"Each row: median (fastest-slowest) of {r} runs; warm rows after a warm-up fit, "
             "both libraries with the same settings and seed.", "",
             "| what | scikit-learn | jaxmlp | speed-up | n_iter_ (sklearn / jaxmlp) |",
             "|---|---:|---:|---:|---:|"]  # fmt: skip
    for w, a, b, na, nb in rows:
        iters = "–" if na is None else f"{na} / {nb}"
        lines.append(f"| {w} | {a} | {b} | {a.median / b.median:.2f}x | {iters} |")
    write_results("estimator", "Estimator benchmark", "\n".join(lines),
                  {"rows": [dict(what=w, sklearn=a._asdict(), jaxmlp=b._asdict(),
                                 n_iter=[na, nb]) for w, a, b, na, nb in rows]})  # fmt: skip


if __name__ == "__main__":
    main()
