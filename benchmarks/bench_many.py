"""Issue #4's benchmark: P1, P3, a grid search and P4, measured side by side in one run,
like with like.

    .venv/bin/python benchmarks/bench_many.py [--models 1000] [--repeats 5]

- matmul: the machine's float32 matmul throughput (2048 x 2048, jit), measured in this run.
- P1: the tutorial's training (250 full-batch epochs, per-epoch train/test metrics), one
  model: the tutorial's own loop, jaxmlp's engine, PyTorch eager; scikit-learn's same 250
  epochs without per-epoch metrics (it has no such option: less work, flagged).
- P3: M tutorial models with different seeds, 250 epochs: jaxmlp's ``train_many`` (one
  plain vmap; cache-sized blocks; blocks over one CPU device per core) and
  ``MLPEnsembleClassifier`` (the estimator path; with its engine share); scikit-learn and
  skorch one model after the other *and* in parallel on every core (joblib), timed on
  ``--baseline-models`` models and scaled to M (their per-model time is flat).
- grid: a 5-fold grid of 9 candidates on digits: MLPSearchCV vs GridSearchCV over
  jaxmlp's MLPClassifier and over scikit-learn's, sequential and ``n_jobs=-1``.
- P4: 160,000 x 50 -> 256 -> 256 -> 5 classes, adam, batch 256, 5 epochs, float32:
  achieved GFLOP/s of the work done (forward 2 MACs, weight gradients 2 MACs, input
  gradients 2 MACs except for the first layer, whose input gradient nobody computes) as a
  share of the matmul peak; jaxmlp, scikit-learn, PyTorch eager and skorch.

Every row is the median of ``--repeats`` runs after one warm-up run (warm against warm),
with the fastest and slowest. PyTorch and skorch rows need the optional extra
(``pip install -e ".[bench]"``); without it they are skipped with a note.

Writes benchmarks/results/many.{json,md}.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from joblib import Parallel, delayed
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLP

from jaxmlp import (
    MLPClassifier,
    MLPEnsembleClassifier,
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
from bench_output import Timing, timing, write_results
from bench_tutorial import tutorial_loop


def matmul_peak() -> float:
    a = jnp.ones((2048, 2048), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    t = timing(lambda: f(a).block_until_ready(), 9).median
    return 2 * 2048**3 / t / 1e9


def quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn()


def sk_tutorial(split, seed: int) -> None:
    """scikit-learn's MLPClassifier doing the tutorial's training, plus the final metrics
    (it cannot record them per epoch)."""
    clf = SkMLP(hidden_layer_sizes=(64,), solver="sgd", learning_rate_init=0.05, momentum=0.9,
                nesterovs_momentum=False, batch_size=len(split.X_train), alpha=0.0,
                max_iter=250, tol=0.0, n_iter_no_change=10**6, shuffle=False,
                random_state=seed)  # fmt: skip
    quiet(lambda: clf.fit(split.X_train, split.y_train))
    clf.score(split.X_train, split.y_train), clf.score(split.X_test, split.y_test)


def scaled(t: Timing, factor: float) -> Timing:
    return Timing(t.median * factor, t.low * factor, t.high * factor)


def p1_rows(split, repeats: int) -> list:
    net, opt = mlp((64,), "swish", 2), make_optimizer("momentum", 0.05, momentum=0.9)
    step, _ = tutorial_loop(net, opt, split)
    rows = [
        ("P1 tutorial loop", timing(lambda: tutorial_loop(net, opt, split, step), repeats)),
        ("P1 jaxmlp fit", timing(lambda: jax.block_until_ready(
            fit(net, opt, split, TrainConfig(250)).params), repeats * 4)),
        ("P1 scikit-learn (less work: no per-epoch metrics)",
         timing(lambda: sk_tutorial(split, 0), repeats)),
    ]  # fmt: skip
    if torch_rows.available():
        rows.append(("P1 PyTorch eager (CPU)", timing(lambda: torch_rows.p1_torch(split), repeats)))
    return rows


def p3_engine(split, m: int, block: int | None, devices: int, repeats: int) -> Timing:
    net = mlp((64,), "swish", 2)
    program = Program(net.apply, solver("sgd", False), batch=None, n_evals=2, l2=False,
                      chunk=250, train_eval=True)  # fmt: skip
    data, test = make_data(split.X_train, split.y_train), make_data(split.X_test, split.y_test)
    hyper = Hyper(**{f: jnp.full(m, getattr(Hyper(), f), jnp.float32) for f in Hyper._fields})
    hyper = hyper._replace(learning_rate=jnp.full(m, 0.05, jnp.float32))
    seeds = np.arange(m)
    params = jax.vmap(lambda s: init_params(net.init, 2, s))(jnp.asarray(seeds))
    states = init_states(program, hyper, params, seeds)
    return timing(lambda: train_many(program, hyper, states, data, (data, test), max_epochs=250,
                                     block=block, devices=devices), repeats)  # fmt: skip


def p3_ensemble(split, m: int, repeats: int) -> list:
    """The same models through the estimator path, and the engine's share of it."""
    from jaxmlp.sklearn.bridge import fit_estimators

    member = MLPClassifier((64,), activation="swish", solver="sgd", batch_size=140,
                           learning_rate_init=0.05, momentum=0.9, nesterovs_momentum=False,
                           alpha=0.0, max_iter=250, tol=0.0, n_iter_no_change=10**6,
                           shuffle=False)  # fmt: skip
    X, y = split.X_train, split.y_train
    ensemble = timing(lambda: quiet(lambda: MLPEnsembleClassifier(
        member, n_estimators=m, random_state=0).fit(X, y)), repeats)  # fmt: skip
    engine = []

    def engine_only():
        blocks: list = []
        fits = [(MLPClassifier(**{**member.get_params(), "random_state": s}), X, y, None)
                for s in range(m)]  # fmt: skip
        quiet(lambda: fit_estimators(fits, blocks=blocks, params_checked=True))
        engine.append(sum(seconds for _, _, seconds in blocks))

    timing(engine_only, repeats)
    share = Timing(float(np.median(engine[1:])), min(engine[1:]), max(engine[1:]))
    return [
        (f"P3 MLPEnsembleClassifier, {m} members (no per-epoch metrics)", ensemble),
        ("P3   of which the engine (run_jobs' compiled blocks)", share),
    ]


def p3_rows(split, m: int, k: int, repeats: int) -> list:
    n_dev = len(jax.local_devices())
    rows = [
        (f"P3 jaxmlp train_many, {m} models, one vmap (naive)", p3_engine(split, m, m, 1, repeats)),
        (f"P3 jaxmlp train_many, {m} models, cache-sized blocks, 1 device",
         p3_engine(split, m, None, 1, repeats)),
        (f"P3 jaxmlp train_many, {m} models, blocks, {n_dev} CPU devices",
         p3_engine(split, m, None, n_dev, repeats)),
        *p3_ensemble(split, m, repeats),
    ]  # fmt: skip
    one = timing(lambda: [sk_tutorial(split, s) for s in range(k)], repeats)
    rows.append((f"P3 scikit-learn, one by one (from {k} models)", scaled(one, m / k)))
    par = Parallel(n_jobs=-1)
    many = timing(lambda: par(delayed(sk_tutorial)(split, s) for s in range(2 * k)), repeats)
    rows.append((f"P3 scikit-learn, joblib on all cores (from {2 * k} models)",
                 scaled(many, m / (2 * k))))  # fmt: skip
    if torch_rows.available("skorch"):
        ks = max(2, k // 5)
        one = timing(lambda: [torch_rows.p3_skorch(split, s) for s in range(ks)], repeats)
        rows.append((f"P3 skorch, one by one (from {ks} models)", scaled(one, m / ks)))
        many = timing(lambda: par(delayed(torch_rows.p3_skorch)(split, s)
                                  for s in range(2 * ks)), repeats)  # fmt: skip
        rows.append((f"P3 skorch, joblib on all cores (from {2 * ks} models)",
                     scaled(many, m / (2 * ks))))  # fmt: skip
    return rows


def grid_rows(repeats: int) -> list:
    """5-fold grid of 9 candidates (lr x alpha) on digits, float32, max_iter=100."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV

    from jaxmlp import MLPSearchCV

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    grid = {"learning_rate_init": [1e-3, 3e-3, 1e-2], "alpha": [1e-4, 1e-3, 1e-2]}
    kw = dict(hidden_layer_sizes=(64,), max_iter=100, random_state=0)

    def search(make):
        return timing(lambda: quiet(lambda: make().fit(X, y)), repeats)

    return [
        ("grid 9x5 digits: MLPSearchCV (all devices)",
         search(lambda: MLPSearchCV(MLPClassifier(**kw), grid, cv=5))),
        ("grid 9x5 digits: GridSearchCV(jaxmlp.MLPClassifier)",
         search(lambda: GridSearchCV(MLPClassifier(**kw), grid, cv=5))),
        ("grid 9x5 digits: GridSearchCV(scikit-learn MLPClassifier)",
         search(lambda: GridSearchCV(SkMLP(**kw), grid, cv=5))),
        ("grid 9x5 digits: GridSearchCV(scikit-learn MLPClassifier, n_jobs=-1)",
         search(lambda: GridSearchCV(SkMLP(**kw), grid, cv=5, n_jobs=-1))),
    ]  # fmt: skip


def p4_rows(n_rows: int, repeats: int) -> tuple[list, float]:
    X, y = make_classification(n_samples=n_rows, n_features=50, n_informative=20, n_classes=5,
                               random_state=0)  # fmt: skip
    X = X.astype(np.float32)
    p4 = dict(hidden_layer_sizes=(256, 256), batch_size=256, max_iter=5, tol=0.0, random_state=0)
    macs = [50 * 256, 256 * 256, 256 * 5]
    # forward + weight gradients: 4 x MACs per layer; input gradients: 2 x MACs, not for
    # the first layer (no implementation computes the gradient of the data)
    flops = n_rows * 5 * (4 * sum(macs) + 2 * sum(macs[1:]))
    rows = [
        ("P4 jaxmlp MLPClassifier float32",
         timing(lambda: quiet(lambda: MLPClassifier(**p4).fit(X, y)), repeats)),
        ("P4 scikit-learn (float32 input, computes in float32)",
         timing(lambda: quiet(lambda: SkMLP(**p4).fit(X, y)), repeats)),
    ]  # fmt: skip
    if torch_rows.available():
        rows.append(("P4 PyTorch eager (CPU, float32)",
                     timing(lambda: torch_rows.p4_torch(X, y), repeats)))  # fmt: skip
    if torch_rows.available("skorch"):
        rows.append(("P4 skorch NeuralNetClassifier (CPU, float32)",
                     timing(lambda: torch_rows.p4_skorch(X, y), repeats)))  # fmt: skip
    return rows, flops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--baseline-models", type=int, default=20)
    parser.add_argument("--rows", type=int, default=160_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    use_cpu_cores()  # one JAX CPU device per core, before JAX's first operation
    peak = matmul_peak()
    split = tutorial_split()
    m, r = args.models, args.repeats
    rows = [*p1_rows(split, r), *p3_rows(split, m, args.baseline_models, r), *grid_rows(r)]
    p4, flops = p4_rows(args.rows, r)
    rows += p4
    notes = [] if torch_rows.available("skorch") else [
        "PyTorch/skorch rows skipped: pip install -e '.[bench]'."]  # fmt: skip
    lines = [f"matmul peak (float32, 2048^2, jit, this run): {peak:.0f} GFLOP/s", "",
             f"Each row: median (fastest-slowest) of {r} runs after a warm-up run.", "",
             "| what | seconds | note |", "|---|---:|---|"]  # fmt: skip
    for name, t in rows:
        note = ""
        if name.startswith("P4"):
            gflops = flops / t.median / 1e9
            note = f"{gflops:.0f} GFLOP/s = {gflops / peak:.0%} of peak"
        elif name.startswith("P3") and "of which" not in name:
            note = f"{t.median / m * 1e3:.2f} ms per model"
        lines.append(f"| {name} | {t} | {note} |")
    write_results("many", "Many-models benchmark", "\n".join([*lines, "", *notes]),
                  {"matmul_gflops": peak, "p4_flops": flops,
                   "seconds": {name: t._asdict() for name, t in rows}})  # fmt: skip


if __name__ == "__main__":
    main()
