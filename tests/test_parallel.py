"""Blocks of models in joblib workers: local processes, Dask and Ray on 127.0.0.1 (issue #13,
part 1). The reference is the same blocks trained one after the other in this process
(``models_per_program`` = the block size): the numbers must be identical, bit for bit.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import warnings

import jax
import numpy as np
import pytest
from sklearn.datasets import load_iris

import jaxmlp
from jaxmlp import TrainConfig, fit_many, mlp
from jaxmlp.data.toy import tutorial_split

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "jaxmlp.cli"]


def same_leaves(a, b) -> bool:
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    return len(la) == len(lb) and all(np.array_equal(x, y) for x, y in zip(la, lb, strict=True))


def test_fit_many_blocks_in_two_worker_processes_equal_the_same_blocks_here():
    split = tutorial_split()
    kw = dict(seeds=np.arange(12), learning_rate=np.linspace(0.01, 0.2, 12))
    cfg = TrainConfig(epochs=20, batch_size=32)
    here = fit_many(mlp((16,)), split, cfg, models_per_program=6, **kw)
    seen = []
    there = fit_many(mlp((16,)), split, cfg, n_jobs=2, progress=lambda d, t: seen.append(d),
                     **kw)  # fmt: skip
    assert same_leaves(here.params, there.params)
    np.testing.assert_array_equal(here.history.test_acc, there.history.test_acc)
    assert seen == [6, 12]  # one progress call per block, as blocks come back


def test_search_and_ensemble_with_n_jobs_equal_the_same_blocks_here():
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    base = jaxmlp.MLPClassifier((8,), solver="sgd", learning_rate_init=0.1, max_iter=30,
                                batch_size=50, random_state=0)  # fmt: skip
    grid = {"alpha": [1e-4, 1e-2], "learning_rate_init": [0.05, 0.1, 0.2]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # 6 candidates x 5 folds = 30 fits: 2 blocks of 15
        here = jaxmlp.MLPSearchCV(base, grid, cv=5, models_per_program=15).fit(X, y)
        there = jaxmlp.MLPSearchCV(base, grid, cv=5, n_jobs=2).fit(X, y)
        e_here = jaxmlp.MLPEnsembleClassifier(base, 6, random_state=0,
                                              models_per_program=3).fit(X, y)  # fmt: skip
        e_there = jaxmlp.MLPEnsembleClassifier(base, 6, random_state=0, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(here.cv_results_["mean_test_score"],
                                  there.cv_results_["mean_test_score"])  # fmt: skip
    assert here.best_params_ == there.best_params_
    np.testing.assert_array_equal(e_here.predict_proba(X), e_there.predict_proba(X))


def _sweep(tmp_path, name: str, *extra: str, env: dict | None = None):
    out = tmp_path / name
    args = [*CLI, "sweep", "--lr", "0.03,0.1", "--alpha", "0", "--seeds", "3", "--epochs", "20",
            "--quiet", "--out", str(out), *extra]  # fmt: skip
    began = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})  # fmt: skip
    return done, out, time.perf_counter() - began


def test_sweep_on_dask_and_ray_equals_the_local_sweep(tmp_path):
    local, out_local, _ = _sweep(tmp_path, "local", "--n-jobs", "2")
    assert local.returncode == 0, local.stderr
    assert "leaked" not in local.stderr  # joblib's temporary folders removed at exit
    reference = (out_local / "results.csv").read_bytes()
    for backend in ("dask", "ray"):
        done, out, _ = _sweep(tmp_path, backend, "--backend", backend, "--n-jobs", "2")
        assert done.returncode == 0, done.stderr
        assert (out / "results.csv").read_bytes() == reference, backend
        assert "Traceback" not in done.stderr and "WARNING" not in done.stderr


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--backend", "dask", "--address", "tcp://127.0.0.1:{port}"],
         "could not reach the Dask scheduler at tcp://127.0.0.1:{port} within 2 s"),
        (["--backend", "ray", "--address", "127.0.0.1:{port}"],
         "could not reach a Ray cluster at 127.0.0.1:{port} within 2 s"),
        (["--address", "127.0.0.1:{port}"], "--address needs --backend ray or --backend dask"),
        (["--backend", "spark"], "--backend 'spark' is not one of local, ray, dask"),
        (["--n-jobs", "0"], "--n-jobs 0 trains nothing"),
    ],
)  # fmt: skip
def test_unreachable_clusters_and_wrong_backends_are_one_clear_error(tmp_path, extra, message):
    port = _closed_port()
    extra = [e.format(port=port) for e in extra]
    done, out, seconds = _sweep(tmp_path, "bad", *extra, env={"JAXMLP_CONNECT_TIMEOUT": "2"})
    assert done.returncode == 2, done.stderr
    assert message.format(port=port) in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
    assert not (out / "results.csv").exists()
    assert seconds < 60


@pytest.mark.parametrize("backend", ["ray", "dask"])
def test_a_missing_backend_package_says_which_extra_to_install(tmp_path, backend):
    module = {"ray": "ray", "dask": "distributed"}[backend]
    code = textwrap.dedent(f"""
        import sys
        sys.modules[{module!r}] = None  # as if not installed
        from jaxmlp.cli.app import main
        sys.argv = ["jaxmlp", "sweep", "--backend", {backend!r}, "--seeds", "1", "--epochs",
                    "1", "--quiet", "--out", {str(tmp_path / "out")!r}]
        main()
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"pip install 'jaxmlp[{backend}]'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores to tell")
def test_a_worker_limited_to_one_thread_uses_one_core():
    # XLA ignores OMP_NUM_THREADS and its own thread flags; limit_xla_threads works through
    # the cores the process may use while the backend starts
    code = textwrap.dedent("""
        import time, json
        from jaxmlp.core.devices import limit_xla_threads
        assert limit_xla_threads(1) == 1
        import jax, jax.numpy as jnp, os
        assert len(os.sched_getaffinity(0)) >= 2   # all cores allowed again afterwards
        x = jnp.ones((1200, 1200), jnp.float32)
        f = jax.jit(lambda x: (x @ x @ x @ x).sum())
        f(x).block_until_ready()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(6):
            f(x).block_until_ready()
        print(json.dumps((time.process_time() - cpu) / (time.perf_counter() - wall)))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip().splitlines()[-1]) < 1.3  # ~1.0; ~1.95 unlimited
