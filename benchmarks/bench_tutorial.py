"""Issue #2's benchmark: the tutorial's training, timed side by side in one run.

    .venv/bin/python benchmarks/bench_tutorial.py [--repeats 7] [--demo-runs 3]

Rows (all on SPEC's data: 140 training points, 250 full-batch epochs with per-epoch
train/test loss and accuracy, unless the row says otherwise):

- tutorial loop: a jit-compiled momentum step, then the four metrics evaluated outside jit
  every epoch (SPEC §7's structure), as the tutorial runs it;
- jaxmlp engine: ``jaxmlp.fit``, one compiled program (first call = trace + compile +
  run, with no persistent cache; steady = the compiled program again);
- scikit-learn: SPEC §3's baseline, and the same training as ours (250 full-batch
  momentum epochs, no per-epoch metrics) for an equal-work comparison;
- ``jaxmlp demo`` from a fresh process to a written report, with a warm compilation cache.

Ratios are "how many times slower than jaxmlp's steady state". Results are printed and
written to benchmarks/results/tutorial.{json,md}. Timings are the median of the repeats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import jax
import jax.numpy as jnp
import optax
from bench_output import median_time, write_results
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from jaxmlp import TrainConfig, fit, make_optimizer, mlp, tutorial_split
from jaxmlp.workflows.fit import accuracy, cross_entropy

EPOCHS = 250


def tutorial_loop(net, opt, split, step=None):
    """SPEC §7 as the tutorial writes it: jit step, metrics outside jit each epoch."""
    Xtr, ytr, Xte, yte = (jnp.asarray(a) for a in (split.X_train, split.y_train,
                                                   split.X_test, split.y_test))  # fmt: skip

    def loss(p, X, y):
        return cross_entropy(net.apply(p, X), y)

    if step is None:

        @jax.jit
        def step(p, s, X, y):
            updates, s = opt.update(jax.grad(loss)(p, X, y), s, p)
            return optax.apply_updates(p, updates), s

    _, params = net.init(jax.random.PRNGKey(0), (-1, 2))
    state = opt.init(params)
    log = []
    for _ in range(EPOCHS):
        params, state = step(params, state, Xtr, ytr)
        log.append((float(loss(params, Xtr, ytr)), float(loss(params, Xte, yte)),
                    float(accuracy(net.apply(params, Xtr), ytr)),
                    float(accuracy(net.apply(params, Xte), yte))))  # fmt: skip
    return step, log


def sklearn_same_training(split):
    clf = MLPClassifier(hidden_layer_sizes=(64,), solver="sgd", learning_rate_init=0.05,
                        momentum=0.9, nesterovs_momentum=False, batch_size=len(split.X_train),
                        alpha=0.0, max_iter=EPOCHS, tol=0.0, n_iter_no_change=EPOCHS + 1,
                        shuffle=False, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(split.X_train, split.y_train)


def sklearn_baseline(split):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier(alpha=1, max_iter=1000, random_state=0).fit(split.X_train, split.y_train)


def demo_wall(runs: int) -> tuple[float, float]:
    """Seconds of ``jaxmlp demo`` in a fresh process: (cold cache, warm cache median)."""
    cache = tempfile.mkdtemp(prefix="jaxmlp-bench-cache-")
    out = tempfile.mkdtemp(prefix="jaxmlp-bench-demo-")
    env = os.environ | {"JAXMLP_CACHE_DIR": cache}
    cmd = [sys.executable, "-m", "jaxmlp.cli", "demo", "--quiet", "--out", out]

    def once() -> float:
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True)
        return time.perf_counter() - t0

    cold = once()
    return cold, statistics.median(once() for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--demo-runs", type=int, default=3)
    args = parser.parse_args()

    split = tutorial_split()
    net = mlp((64,), "swish", 2)
    opt = make_optimizer("momentum", 0.05, momentum=0.9)
    config = TrainConfig(epochs=EPOCHS)

    t0 = time.perf_counter()
    step, _ = tutorial_loop(net, opt, split)
    tut_first = time.perf_counter() - t0
    tut_steady = median_time(lambda: tutorial_loop(net, opt, split, step), args.repeats)

    t0 = time.perf_counter()
    jax.block_until_ready(fit(net, opt, split, config).params)
    eng_first = time.perf_counter() - t0
    eng_steady = median_time(
        lambda: jax.block_until_ready(fit(net, opt, split, config).params), args.repeats * 5
    )
    sk_base = median_time(lambda: sklearn_baseline(split), args.repeats)
    sk_same = median_time(lambda: sklearn_same_training(split), args.repeats)
    demo_cold, demo_warm = demo_wall(args.demo_runs)

    rows = [
        ("tutorial loop, first run (compiles)", tut_first),
        ("tutorial loop, steady state", tut_steady),
        ("jaxmlp engine, first call (compiles)", eng_first),
        ("jaxmlp engine, steady state", eng_steady),
        ("scikit-learn, SPEC baseline (alpha=1, max_iter=1000)", sk_base),
        ("scikit-learn, same 250 momentum epochs (no metrics)", sk_same),
        ("`jaxmlp demo` fresh process, cold compilation cache", demo_cold),
        ("`jaxmlp demo` fresh process, warm compilation cache", demo_warm),
    ]
    header = "| what | time | x jaxmlp steady |\n|---|---:|---:|"
    lines = [header] + [
        f"| {name} | {t * 1e3:.1f} ms | {t / eng_steady:.1f}x |" for name, t in rows
    ]
    targets = [
        f"- jaxmlp steady vs tutorial loop steady: {tut_steady / eng_steady:.1f}x faster; "
        f"vs its first run: {tut_first / eng_steady:.0f}x (target >= 200x)",
        f"- `jaxmlp demo` with a warm cache: {demo_warm:.2f} s (target <= 4 s)",
    ]
    write_results(
        "tutorial",
        "Tutorial benchmark",
        "\n".join(lines) + "\n\n" + "\n".join(targets),
        {"seconds": dict(rows)},
    )


if __name__ == "__main__":
    main()
