"""Where the wall time of a fresh ``jaxmlp train`` goes, against a plain scikit-learn script
(issue #20's speed goal): each row a fresh process, timed from the outside, the median
(min-max) of ``--repeats`` runs after one untimed run (warm disk cache, warm compilation
cache).

Rows:

- ``python -c pass``: the interpreter;
- the imports of the plain script (pandas, scikit-learn's compose, impute, preprocessing,
  ensemble): what every scikit-learn user pays;
- those imports + ``import jax; jax.devices()``: the same plus JAX and its CPU client;
- those + matplotlib's ``Figure``: what a report needs;
- ``jaxmlp --help`` (the command line's own start);
- ``jaxmlp train TABLE --no-baseline`` (the default model, its report and folder);
- the same with ``--ensemble 1`` (one network: how much the members cost);
- the plain HistGradientBoosting script (``suite_sklearn.py``) on the same split.

The difference between the third row and the second is a floor no change inside jaxmlp can
remove while ``train`` trains with JAX; the rest is jaxmlp's::

    .venv/bin/python benchmarks/bench_startup.py                     # breast_cancer, ~2 min
    .venv/bin/python benchmarks/bench_startup.py --table carseats --repeats 7
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from suite_tables import splits, suite_tables  # noqa: E402

SKLEARN_IMPORTS = ("import pandas, sklearn.compose, sklearn.impute, sklearn.preprocessing, "
                   "sklearn.ensemble")  # fmt: skip


def _timed(cmd: list[str], cwd: Path, timeout: float) -> float:
    """Seconds of one run of ``cmd`` (it must succeed)."""
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    start = time.perf_counter()
    run = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    took = time.perf_counter() - start
    if run.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({run.returncode}):\n{run.stderr[-2000:]}")
    return took


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--table", default="breast_cancer", help="a table of suite_tables.py")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--timeout", type=float, default=300.0)
    args = p.parse_args()
    table = next((t for t in suite_tables() if t.name == args.table), None)
    if table is None:
        raise SystemExit(f"--table {args.table!r}: not in suite_tables.py")
    py = sys.executable
    jaxmlp = str(Path(py).with_name("jaxmlp"))
    work = Path(tempfile.mkdtemp(prefix="bench_startup_"))
    try:
        _, train, test = next(iter(splits(table)))
        train.to_csv(work / "train.csv", index=False)
        test.to_csv(work / "test.csv", index=False)
        model = work / "model"
        fit = [jaxmlp, "train", "train.csv", "--target", table.target, "--no-baseline",
               "--out", str(model), "--force", "--quiet"]  # fmt: skip
        rows = [
            ("python -c pass", [py, "-c", "pass"]),
            ("the script's imports", [py, "-c", SKLEARN_IMPORTS]),
            ("... + jax, its CPU client",
             [py, "-c", f"{SKLEARN_IMPORTS}, jax; jax.devices()"]),
            ("... + matplotlib's Figure",
             [py, "-c", f"{SKLEARN_IMPORTS}, jax; jax.devices(); "
                        "from matplotlib.figure import Figure"]),
            ("jaxmlp --help", [jaxmlp, "--help"]),
            ("jaxmlp train --no-baseline", fit),
            ("... --ensemble 1", [*fit, "--ensemble", "1"]),
            ("plain HGB script", [py, str(HERE / "suite_sklearn.py"), "train.csv", "test.csv",
                                  table.target, table.task, "0"]),
        ]  # fmt: skip
        print(
            f"{table.name}: {len(train)} training rows; median (min-max) of "
            f"{args.repeats} fresh processes, after one untimed run\n"
        )
        print("| what | seconds |\n|---|---:|")
        for label, cmd in rows:
            _timed(cmd, work, args.timeout)
            runs = [_timed(cmd, work, args.timeout) for _ in range(args.repeats)]
            print(f"| {label} | {statistics.median(runs):.2f} "
                  f"({min(runs):.2f}-{max(runs):.2f}) |", flush=True)  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
