"""Issue #4's benchmark (first version): P1, P3 and P4, measured side by side in one run.

    .venv/bin/python benchmarks/bench_many.py [--models 1000] [--sklearn-models 20]

- matmul: the machine's float32 matmul throughput (2048 x 2048, jit), the reference.
- P1: the tutorial's training (250 full-batch epochs, per-epoch train/test metrics), one
  model: the tutorial's own loop, jaxmlp's engine (steady state), scikit-learn, PyTorch.
- P3: M tutorial models with different seeds, same 250 epochs and metrics: jaxmlp's
  `train_many` as one plain vmap, in cache-sized blocks, and spread over one CPU device
  per core; vs scikit-learn (and skorch) one model after the other (timed on
  `--sklearn-models` models and scaled to M; their per-model time is flat).
- grid: a 5-fold grid search of 9 candidates on digits -- MLPSearchCV vs GridSearchCV over
  jaxmlp's and over scikit-learn's MLPClassifier.
- P4: 160,000 x 50 -> 256 -> 256 -> 5 classes, adam, batch 256, 5 epochs, float32:
  achieved GFLOP/s (6 x MACs per sample per epoch) as a share of the matmul peak; jaxmlp,
  scikit-learn, PyTorch eager and skorch.

PyTorch and skorch rows need the optional extra (`pip install -e ".[bench]"`); without it
they are skipped with a note.

Writes benchmarks/results/many.{json,md}.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLP

from jaxmlp import (
    MLPClassifier,
    TrainConfig,
    fit,
    make_optimizer,
    mlp,
    tutorial_split,
    use_cpu_cores,
)
from jaxmlp.core.many import init_states, train_many
from jaxmlp.core.program import Hyper, Program, make_data
from jaxmlp.sklearn.solvers import solver
from jaxmlp.workflows.fit import init_params

sys.path.insert(0, str(Path(__file__).parent))
import torch_rows
from bench_output import write_results
from bench_tutorial import tutorial_loop


def best_of(fn, repeats: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def matmul_peak() -> float:
    a = jnp.ones((2048, 2048), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    t = best_of(lambda: f(a).block_until_ready(), 5)
    return 2 * 2048**3 / t / 1e9


def sk_tutorial(split, seed: int) -> None:
    clf = SkMLP(hidden_layer_sizes=(64,), solver="sgd", learning_rate_init=0.05, momentum=0.9,
                nesterovs_momentum=False, batch_size=len(split.X_train), alpha=0.0,
                max_iter=250, tol=0.0, n_iter_no_change=10**6, shuffle=False,
                random_state=seed)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(split.X_train, split.y_train)
    # the per-epoch metrics the other rows record
    clf.score(split.X_train, split.y_train), clf.score(split.X_test, split.y_test)


def p3_jaxmlp(split, m: int, block: int | None, devices: int) -> float:
    net = mlp((64,), "swish", 2)
    program = Program(
        net.apply, solver("sgd", False), batch=None, n_evals=2, l2=False, chunk=250, train_eval=True
    )
    data, test = make_data(split.X_train, split.y_train), make_data(split.X_test, split.y_test)
    hyper = Hyper(**{f: jnp.full(m, getattr(Hyper(), f), jnp.float32) for f in Hyper._fields})
    hyper = hyper._replace(learning_rate=jnp.full(m, 0.05, jnp.float32))
    seeds = np.arange(m)
    params = jax.vmap(lambda s: init_params(net.init, 2, s))(jnp.asarray(seeds))
    states = init_states(program, hyper, params, seeds)

    def run():
        train_many(program, hyper, states, data, (data, test), max_epochs=250, block=block,
                   devices=devices)  # fmt: skip

    return best_of(run, 1)


def grid_search_rows() -> list[tuple[str, float]]:
    """5-fold grid of 9 candidates (lr x alpha) on digits, float32, max_iter=100."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV

    from jaxmlp import MLPSearchCV

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    grid = {"learning_rate_init": [1e-3, 3e-3, 1e-2], "alpha": [1e-4, 1e-3, 1e-2]}
    kw = dict(hidden_layer_sizes=(64,), max_iter=100, random_state=0)

    def search(make):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            make().fit(X, y)

    def run(make):
        return best_of(lambda: search(make), 1)

    return [
        ("grid 9x5 digits: MLPSearchCV (all devices)",
         run(lambda: MLPSearchCV(MLPClassifier(**kw), grid, cv=5))),
        ("grid 9x5 digits: GridSearchCV(jaxmlp.MLPClassifier)",
         run(lambda: GridSearchCV(MLPClassifier(**kw), grid, cv=5))),
        ("grid 9x5 digits: GridSearchCV(scikit-learn MLPClassifier)",
         _once(lambda: search(lambda: GridSearchCV(SkMLP(**kw), grid, cv=5)))),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--sklearn-models", type=int, default=20)
    parser.add_argument("--rows", type=int, default=160_000)
    args = parser.parse_args()
    use_cpu_cores()  # one JAX CPU device per core, before JAX's first operation
    peak = matmul_peak()
    split = tutorial_split()
    rows = []

    net, opt = mlp((64,), "swish", 2), make_optimizer("momentum", 0.05, momentum=0.9)
    step, _ = tutorial_loop(net, opt, split)
    rows.append(
        ("P1 tutorial loop (steady)", best_of(lambda: tutorial_loop(net, opt, split, step)))
    )

    def p1_fit():
        jax.block_until_ready(fit(net, opt, split, TrainConfig(250)).params)

    rows.append(("P1 jaxmlp fit (steady)", best_of(p1_fit, 10)))
    rows.append(("P1 scikit-learn (250 epochs, no per-epoch metrics)",
                 best_of(lambda: sk_tutorial(split, 0))))  # fmt: skip
    notes = []
    if torch_rows.available():
        torch_rows.p1_torch(split)  # warm-up
        rows.append(("P1 PyTorch eager (CPU)", min(torch_rows.p1_torch(split) for _ in range(3))))
    else:
        notes.append("PyTorch rows skipped: torch is not installed (pip install torch==2.13.0).")

    m = args.models
    n_dev = len(jax.local_devices())
    rows.append((f"P3 jaxmlp train_many, {m} models, one vmap (naive)",
                 p3_jaxmlp(split, m, m, 1)))  # fmt: skip
    rows.append((f"P3 jaxmlp train_many, {m} models, cache-sized blocks, 1 device",
                 p3_jaxmlp(split, m, None, 1)))  # fmt: skip
    rows.append((f"P3 jaxmlp train_many, {m} models, blocks, {n_dev} CPU devices",
                 p3_jaxmlp(split, m, None, n_dev)))  # fmt: skip
    k = args.sklearn_models
    t0 = time.perf_counter()
    for seed in range(k):
        sk_tutorial(split, seed)
    rows.append((f"P3 scikit-learn, {m} models one by one (from {k})",
                 (time.perf_counter() - t0) / k * m))  # fmt: skip
    if torch_rows.available("skorch"):
        torch_rows.p3_skorch(split, 0, epochs=5)  # warm-up
        per_model = sum(torch_rows.p3_skorch(split, s) for s in range(k)) / k
        rows.append((f"P3 skorch (PyTorch), {m} models one by one (from {k})", per_model * m))
    else:
        notes.append("skorch rows skipped: skorch is not installed (pip install -e '.[bench]').")

    rows.extend(grid_search_rows())

    X, y = make_classification(n_samples=args.rows, n_features=50, n_informative=20,
                               n_classes=5, random_state=0)  # fmt: skip
    X = X.astype(np.float32)
    p4 = dict(hidden_layer_sizes=(256, 256), batch_size=256, max_iter=5, tol=0.0, random_state=0)
    flops = 6 * args.rows * 5 * (50 * 256 + 256 * 256 + 256 * 5)

    def p4_fit(cls):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            cls(**p4).fit(X, y)

    t_jx = best_of(lambda: p4_fit(MLPClassifier), 1)
    t_sk = _once(lambda: p4_fit(SkMLP))
    rows.append(("P4 jaxmlp MLPClassifier float32 (steady)", t_jx))
    rows.append(("P4 scikit-learn (float32 input, computes in float32)", t_sk))
    if torch_rows.available():
        rows.append(("P4 PyTorch eager (CPU, float32)", torch_rows.p4_torch(X, y)))
    if torch_rows.available("skorch"):
        rows.append(("P4 skorch NeuralNetClassifier (CPU, float32)", torch_rows.p4_skorch(X, y)))

    lines = [f"matmul peak (float32, 2048^2, jit): {peak:.0f} GFLOP/s", "",
             "| what | time | note |", "|---|---:|---|"]  # fmt: skip
    for name, t in rows:
        note = ""
        if name.startswith("P4"):
            note = f"{flops / t / 1e9:.0f} GFLOP/s = {flops / t / 1e9 / peak:.0%} of peak"
        if name.startswith("P3 jaxmlp"):
            note = f"{t / m * 1e3:.2f} ms per model"
        lines.append(f"| {name} | {t:.3f} s | {note} |")
    write_results(
        "many",
        "Many-models benchmark",
        "\n".join([*lines, "", *notes]),
        {"matmul_gflops": peak, "seconds": dict(rows)},
    )


def _once(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
