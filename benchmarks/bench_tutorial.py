"""Issue #2's benchmark: the tutorial's training, timed side by side in one run.

    .venv/bin/python benchmarks/bench_tutorial.py [--repeats 7] [--demo-runs 5]

Rows (all on SPEC's data: 140 training points, 250 full-batch epochs with per-epoch
train/test loss and accuracy, unless the row says otherwise):

- tutorial loop: a jit-compiled momentum step, then the four metrics evaluated outside jit
  every epoch (SPEC §7's structure), as the tutorial runs it;
- jaxmlp engine: ``jaxmlp.fit``, one compiled program (first call = trace + compile +
  run, with no persistent cache; steady = the compiled program again);
- scikit-learn: SPEC §3's baseline, and the same training as ours (250 full-batch
  momentum epochs, no per-epoch metrics) for an equal-work comparison;
- ``jaxmlp demo`` from a fresh process to a written report, with a warm compilation cache.

Like is compared with like: warm rows (steady state, after a warm-up call, in one
process) are divided only by jaxmlp's warm time, cold rows (the first call in a fresh
process, tracing and compiling included, no persistent cache) only by jaxmlp's cold time.
Every row is the median of its repeats with the fastest and slowest. Results are printed
and written to benchmarks/results/tutorial.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings

import jax
import jax.numpy as jnp
import optax
from bench_output import Timing, of, timing, write_results
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


def demo_wall(runs: int) -> tuple[Timing, Timing]:
    """``jaxmlp demo`` in fresh processes: cold compilation cache (a new empty one each run)
    and warm cache."""
    out = tempfile.mkdtemp(prefix="jaxmlp-bench-demo-")
    cmd = [sys.executable, "-m", "jaxmlp.cli", "demo", "--quiet", "--out", out]

    def once(cache: str) -> float:
        t0 = time.perf_counter()
        subprocess.run(cmd, env=os.environ | {"JAXMLP_CACHE_DIR": cache}, check=True,
                       timeout=600)  # fmt: skip
        return time.perf_counter() - t0

    cold = [once(tempfile.mkdtemp(prefix="jaxmlp-bench-cache-")) for _ in range(runs)]
    warm_cache = tempfile.mkdtemp(prefix="jaxmlp-bench-cache-")
    once(warm_cache)
    return of(cold), of([once(warm_cache) for _ in range(runs)])


# a first call in a fresh process (no persistent cache): tracing, compiling and running
_COLD = """
import sys, time, warnings
sys.path.insert(0, {here!r})
import jax
from bench_tutorial import sklearn_same_training, tutorial_loop
from jaxmlp import TrainConfig, fit, make_optimizer, mlp, tutorial_split
split, net = tutorial_split(), mlp((64,), "swish", 2)
opt = make_optimizer("momentum", 0.05, momentum=0.9)
t0 = time.perf_counter()
if sys.argv[1] == "tutorial":
    tutorial_loop(net, opt, split)
elif sys.argv[1] == "jaxmlp":
    jax.block_until_ready(fit(net, opt, split, TrainConfig(epochs=250)).params)
else:
    sklearn_same_training(split)
print(time.perf_counter() - t0)
"""


def cold(which: str, runs: int) -> Timing:
    """The first call of ``which`` in ``runs`` fresh processes."""
    script = _COLD.format(here=os.path.dirname(os.path.abspath(__file__)))
    env = os.environ | {"JAXMLP_CACHE_DIR": ""}
    return of([float(subprocess.run([sys.executable, "-c", script, which], env=env, timeout=600,
                                    capture_output=True, text=True, check=True).stdout)
               for _ in range(runs)])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--demo-runs", type=int, default=5)
    args = parser.parse_args()

    split = tutorial_split()
    net = mlp((64,), "swish", 2)
    opt = make_optimizer("momentum", 0.05, momentum=0.9)
    config = TrainConfig(epochs=EPOCHS)
    step, _ = tutorial_loop(net, opt, split)
    warm = {
        "tutorial loop": timing(lambda: tutorial_loop(net, opt, split, step), args.repeats),
        "jaxmlp fit": timing(lambda: jax.block_until_ready(fit(net, opt, split, config).params),
                             args.repeats * 5),
        "scikit-learn, same 250 momentum epochs (no per-epoch metrics)":
            timing(lambda: sklearn_same_training(split), args.repeats),
        "scikit-learn, SPEC baseline (alpha=1, max_iter=1000; other work)":
            timing(lambda: sklearn_baseline(split), args.repeats),
    }  # fmt: skip
    first = {name: cold(key, args.repeats) for name, key in (
        ("tutorial loop", "tutorial"), ("jaxmlp fit", "jaxmlp"),
        ("scikit-learn, same 250 momentum epochs (no per-epoch metrics)", "sklearn"))}  # fmt: skip
    demo_cold, demo_warm = demo_wall(args.demo_runs)
    jx_w, jx_c = warm["jaxmlp fit"], first["jaxmlp fit"]
    lines = ["Warm (steady state, in one process, after a warm-up call):", "",
             "| what | median (min-max) | / jaxmlp |", "|---|---:|---:|"]  # fmt: skip
    lines += [f"| {k} | {t} | {'–' if 'other work' in k else t.ratio(jx_w)} |"
              for k, t in warm.items()]  # fmt: skip
    lines += [
        "",
        f"Cold (first call in a fresh process, no compilation cache; {args.repeats} "
        "processes each):",
        "",
        "| what | median (min-max) | / jaxmlp |",
        "|---|---:|---:|",
    ]
    lines += [f"| {k} | {t} | {t.ratio(jx_c)} |" for k, t in first.items()]
    lines += [
        "",
        "| `jaxmlp demo`, fresh process | median (min-max) |",
        "|---|---:|",
        f"| cold compilation cache | {demo_cold} |",
        f"| warm compilation cache | {demo_warm} |",
        "",
        "Headlines (like with like):",
        f"- warm: the tutorial's loop takes {warm['tutorial loop'].ratio(jx_w)} jaxmlp's "
        "time for the same 250 epochs and metrics;",
        f"- cold: {first['tutorial loop'].ratio(jx_c)} (both trace and compile first).",
    ]
    write_results("tutorial", "Tutorial benchmark", "\n".join(lines),
                  {"warm": {k: t._asdict() for k, t in warm.items()},
                   "cold": {k: t._asdict() for k, t in first.items()},
                   "demo": {"cold_cache": demo_cold._asdict(),
                            "warm_cache": demo_warm._asdict()}})  # fmt: skip


if __name__ == "__main__":
    main()
