"""The working tree against an earlier revision, side by side in one run (issue #10: the
new layout must not slow anything down).

    .venv/bin/python benchmarks/bench_revisions.py REV [--repeats 5]

REV (a commit, tag or branch) is checked out into a temporary git worktree; every workload
then runs in fresh processes with ``PYTHONPATH`` pointing at either tree's ``src/``,
alternating old, new, old, new ... so that the machine's drift hits both equally. The
workloads use only the public API (``import jaxmlp``), so the same code measures both:

- ``help``: ``python -m jaxmlp.cli --help``, wall time of the process;
- ``p1``: the tutorial's fit (250 full-batch epochs with metrics), steady state;
- ``estimator``: ``MLPClassifier((64,), max_iter=50)`` on digits (float32), steady state;
- ``many``: ``fit_many`` of 200 tutorial models x 250 epochs, steady state (1 device);
- ``search``: ``MLPSearchCV`` of 4 candidates x 3 folds on digits, steady state;
- ``predict``: ``predict_proba`` of 20,000 rows, steady state;
- ``first_fit``: the tutorial's fit as a fresh process's first call, no compilation cache
  (tracing, lowering and compiling included).

Each process reports the median of its in-process repeats (after a warm-up call); the
table gives, per workload and tree, the median over processes with min and max.
Same machine, same dependencies, same precision, warm vs warm. Writes
benchmarks/results/revisions.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ("help", "p1", "estimator", "many", "search", "predict", "first_fit")


def _median_of(fn, repeats: int) -> float:
    from bench_output import median_time

    fn()  # warm-up: compilation and caches
    return median_time(fn, repeats)


def child(workload: str) -> float:
    """Seconds of one workload, measured in this (fresh) process."""
    import warnings

    warnings.simplefilter("ignore")
    import jax
    import numpy as np

    import jaxmlp

    split = jaxmlp.tutorial_split()
    net = jaxmlp.mlp((64,), "swish", 2)
    opt = jaxmlp.make_optimizer("momentum", 0.05, momentum=0.9)
    cfg = jaxmlp.TrainConfig(epochs=250)
    if workload == "first_fit":
        t0 = time.perf_counter()
        jax.block_until_ready(jaxmlp.fit(net, opt, split, cfg).params)
        return time.perf_counter() - t0
    if workload == "p1":
        return _median_of(lambda: jax.block_until_ready(jaxmlp.fit(net, opt, split, cfg).params),
                          15)  # fmt: skip
    if workload == "many":
        return _median_of(lambda: jaxmlp.fit_many(net, split, cfg, seeds=range(200)), 3)
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    if workload == "estimator":
        est = jaxmlp.MLPClassifier((64,), max_iter=50, random_state=0)
        return _median_of(lambda: est.fit(X, y), 5)
    if workload == "search":
        grid = {"learning_rate_init": [1e-3, 1e-2], "alpha": [1e-4, 1e-2]}
        search = jaxmlp.MLPSearchCV(jaxmlp.MLPClassifier((32,), max_iter=30, random_state=0),
                                    grid, cv=3)  # fmt: skip
        return _median_of(lambda: search.fit(X, y), 3)
    if workload == "predict":
        est = jaxmlp.MLPClassifier((64,), max_iter=20, random_state=0).fit(X, y)
        rows = np.tile(X, (12, 1))[:20_000]
        return _median_of(lambda: est.predict_proba(rows), 15)
    raise ValueError(f"unknown workload {workload!r}")


def _run(src: Path, workload: str) -> float:
    env = os.environ | {"PYTHONPATH": str(src), "JAXMLP_CACHE_DIR": ""}
    # `jaxmlp --help` is timed from outside: interpreter start and imports included
    command = (["-m", "jaxmlp.cli", "--help"] if workload == "help"
               else [__file__, "--child", workload])  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, *command], env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"{workload} on {src}: {proc.stderr[-2000:]}")
    return wall if workload == "help" else float(proc.stdout.strip().splitlines()[-1])


def _table(rev: str, results: dict) -> str:
    lines = [f"| workload | {rev} median (min-max) | working tree median (min-max) | new/old |",
             "|---|---:|---:|---:|"]  # fmt: skip
    for workload, by_tree in results.items():
        cells = []
        for tree in ("old", "new"):
            t = by_tree[tree]
            cells.append(f"{_ms(statistics.median(t))} ({_ms(min(t))}-{_ms(max(t))})")
        ratio = statistics.median(by_tree["new"]) / statistics.median(by_tree["old"])
        lines.append(f"| {workload} | {cells[0]} | {cells[1]} | {ratio:.2f} |")
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", nargs="?", help="the earlier revision, e.g. a commit")
    parser.add_argument("--repeats", type=int, default=5, help="processes per workload and tree")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    if args.child:
        print(child(args.child))
        return
    if not args.rev:
        parser.error("give the revision to compare with, e.g. HEAD~5")
    from bench_output import write_results

    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(old), args.rev],
                       cwd=ROOT, check=True, timeout=120)  # fmt: skip
        try:
            trees = {"old": old / "src", "new": ROOT / "src"}
            results: dict = {}
            for workload in args.workloads.split(","):
                results[workload] = {"old": [], "new": []}
                for _ in range(args.repeats):
                    for tree, src in trees.items():
                        results[workload][tree].append(_run(src, workload))
                print(workload, {k: [round(v, 4) for v in t] for k, t in results[workload].items()},
                      flush=True)  # fmt: skip
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT,
                           timeout=120)  # fmt: skip
    rev = subprocess.run(["git", "rev-parse", "--short", args.rev], cwd=ROOT, text=True,
                         capture_output=True, timeout=60).stdout.strip()  # fmt: skip
    write_results("revisions", f"Working tree vs {rev}, {args.repeats} processes each",
                  _table(rev, results), {"rev": rev, "seconds": results})  # fmt: skip


if __name__ == "__main__":
    main()
