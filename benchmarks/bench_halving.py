"""Issue #20 item 4's benchmark: successive halving inside one program against
scikit-learn's searches, like with like.

    .venv/bin/python benchmarks/bench_halving.py [--repeats 3]

Digits (scikit-learn's bundled copy: 1,797 rows x 64 pixels, 10 classes), scaled to [0, 1],
float32 for every library; 75% to search on (cv=3, stratified) and 25% held out. The grid:
learning_rate_init x alpha x hidden width, 3 x 3 x 3 = 27 candidates, adam, batch 200,
max_iter=81, random_state=0. Halving: factor=3, min_resources='exhaust' -> 27, 9, 3, 1
candidates trained for 3, 9, 27, 81 epochs, then the best refit on all 75%.

Rows: ``MLPHalvingSearchCV`` (survivors continue from their weights, candidates x folds
side by side); ``HalvingGridSearchCV(resource='max_iter')`` over jaxmlp's ``MLPClassifier``
and over scikit-learn's (every rung refit from scratch, one fit at a time; also with
``n_jobs=-1``); ``GridSearchCV`` over scikit-learn's MLP (all 27 candidates for 81 epochs,
sequential and ``n_jobs=-1``); ``MLPSearchCV`` (jaxmlp's full grid); and one jaxmlp fit
of the widest candidate for 81 epochs on the 75%, for scale. Each row: the median, fastest
and slowest of ``--repeats`` runs after one untimed run (warm against warm: jaxmlp's
programs compiled), the best candidate and its accuracy on the held-out 25%.

scikit-learn's sequential rows run with its BLAS limited to one thread (threadpoolctl):
with OpenBLAS's two threads a (128,) fit of 81 epochs on these rows took 7.6 s instead of
0.16 s on a loaded 2-core machine. Its ``n_jobs=-1`` rows use both cores (joblib's loky
workers, one BLAS thread each), as jaxmlp's rows do (one JAX CPU device per core).

Writes benchmarks/results/halving.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    StratifiedKFold,
    train_test_split,
)
from sklearn.neural_network import MLPClassifier as SkMLP
from threadpoolctl import threadpool_limits

from jaxmlp import MLPClassifier, MLPHalvingSearchCV, MLPSearchCV, use_cpu_cores

sys.path.insert(0, str(Path(__file__).parent))
from bench_output import timing, write_results

GRID = {
    "learning_rate_init": [1e-3, 3e-3, 1e-2],
    "alpha": [1e-4, 1e-2, 1.0],
    "hidden_layer_sizes": [(32,), (64,), (128,)],
}
SETTINGS = dict(max_iter=81, random_state=0)


def _quiet_fit(make, X, y, blas_threads=None):
    with warnings.catch_warnings(), threadpool_limits(blas_threads):
        warnings.simplefilter("ignore", ConvergenceWarning)
        return make().fit(X, y)


def _best(search) -> str:
    p = search.best_params_
    return (f"lr {p['learning_rate_init']:g}, alpha {p['alpha']:g}, "
            f"{p['hidden_layer_sizes']}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    use_cpu_cores()  # one JAX CPU device per core, before JAX's first operation
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    X, X_test, y, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    halving = dict(factor=3, resource="max_iter", max_resources=81, cv=cv)
    cases = [
        ("MLPHalvingSearchCV", "", None,
         lambda: MLPHalvingSearchCV(MLPClassifier(**SETTINGS), GRID, **halving)),
        ("HalvingGridSearchCV(jaxmlp.MLPClassifier)", "one fit at a time", None,
         lambda: HalvingGridSearchCV(MLPClassifier(**SETTINGS), GRID, **halving)),
        ("HalvingGridSearchCV(scikit-learn MLP)", "one fit at a time, 1 core", 1,
         lambda: HalvingGridSearchCV(SkMLP(**SETTINGS), GRID, **halving)),
        ("HalvingGridSearchCV(scikit-learn MLP, n_jobs=-1)", "all cores", None,
         lambda: HalvingGridSearchCV(SkMLP(**SETTINGS), GRID, n_jobs=-1, **halving)),
        ("GridSearchCV(scikit-learn MLP)", "27 x 81 epochs, one fit at a time, 1 core", 1,
         lambda: GridSearchCV(SkMLP(**SETTINGS), GRID, cv=cv)),
        ("GridSearchCV(scikit-learn MLP, n_jobs=-1)", "27 x 81 epochs, all cores", None,
         lambda: GridSearchCV(SkMLP(**SETTINGS), GRID, cv=cv, n_jobs=-1)),
        ("MLPSearchCV (jaxmlp's full grid)", "27 x 81 epochs", None,
         lambda: MLPSearchCV(MLPClassifier(**SETTINGS), GRID, cv=cv)),
    ]  # fmt: skip
    lines = ["| what | median (min-max) | best candidate | held-out accuracy | note |",
             "|---|---:|---|---:|---|"]  # fmt: skip
    payload = []
    for name, note, blas, make in cases:
        t = timing(lambda make=make, blas=blas: _quiet_fit(make, X, y, blas), args.repeats)
        search = _quiet_fit(make, X, y, blas)  # the reported model (random_state: the same)
        accuracy = search.best_estimator_.score(X_test, y_test)
        lines.append(f"| {name} | {t} | {_best(search)} | {accuracy:.4f} | {note} |")
        payload.append({"name": name, "seconds": t._asdict(), "best": _best(search),
                        "accuracy": accuracy})  # fmt: skip
        print(lines[-1], flush=True)
    widest = dict(SETTINGS, hidden_layer_sizes=(128,))
    t = timing(lambda: _quiet_fit(lambda: MLPClassifier(**widest), X, y), args.repeats)
    lines.append(f"| one jaxmlp fit, (128,), 81 epochs, all 75% | {t} | | | for scale |")
    payload.append({"name": "one fit", "seconds": t._asdict()})
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    lines.append(f"\nLoad average at the end (1, 5, 15 min): {load}.")
    write_results("halving", "Successive halving on digits, 27 candidates x 3 folds, float32",
                  "\n".join(lines), {"rows": payload, "load": os.getloadavg()})  # fmt: skip


if __name__ == "__main__":
    main()
