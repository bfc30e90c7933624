"""Stored lowered training programs (jaxmlp.core.compiled): same results, no re-lowering."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from conftest import quiet_fit

from jaxmlp import MLPClassifier
from jaxmlp.core import compiled as exported


@pytest.fixture
def store(tmp_path):
    previous = exported._folder[0]
    exported.set_folder(tmp_path)
    yield tmp_path / "jaxmlp-exported"
    exported._folder[0] = previous
    exported._memo.clear()


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_a_stored_program_trains_exactly_like_a_fresh_one(iris, store, compiles, solver):
    X, y = iris
    X = X.astype(np.float32)

    def fit():
        return quiet_fit(MLPClassifier((7,), solver=solver, max_iter=30, random_state=3), X, y)

    stored = fit()  # lowers and stores the program
    assert len(list(store.glob("*.bin"))) == 1
    exported._memo.clear()  # as a new process: the program comes from the file
    compiles.clear()
    loaded = fit()
    assert compiles.count("flat") == 0 and compiles.count("call") == 1
    exported.set_folder(None)  # the plain jit path
    plain = fit()
    for a, b in ((stored, plain), (loaded, plain)):
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
        assert a.n_iter_ == b.n_iter_ and a.loss_ == b.loss_


ENSEMBLE_SCRIPT = """
import sys, warnings
import jax, numpy as np
jax.config.update("jax_num_cpu_devices", int(sys.argv[1]))
from sklearn.datasets import load_iris
from jaxmlp import MLPClassifier, MLPEnsembleClassifier
from jaxmlp.core import compiled
warnings.simplefilter("ignore")
X, y = load_iris(return_X_y=True)
X = X.astype(np.float32)

def fit():
    base = MLPClassifier((8,), max_iter=150, tol=0.0, random_state=0)
    calls = []  # 150 epochs run in two chunks (CHUNK): the state goes back in
    ens = MLPEnsembleClassifier(base, 4, random_state=1)
    ens.fit(X, y, callback=lambda epochs, loss: calls.append(epochs))
    assert len(calls) > 1, calls
    return ens.predict_proba(X)

compiled.set_folder(__import__("pathlib").Path(sys.argv[2]))
stored = fit()
compiled._memo.clear()  # as a new process: the program comes from the file
loaded = fit()
compiled.set_folder(None)  # the plain jit path
plain = fit()
assert len(jax.local_devices()) == int(sys.argv[1])
np.save(sys.argv[3], np.stack([stored, loaded, plain]))
"""


@pytest.mark.parametrize("devices", [1, 2])
def test_many_models_train_through_a_stored_program_exactly_as_through_a_fresh_one(
    tmp_path, devices
):
    """An ensemble's program (its members side by side, spread over the local devices)
    is stored too; loaded in a new process it trains every member bitwise as the plain
    program, and on two devices as on one to float rounding (the members are vmapped in
    blocks of another size)."""
    import subprocess
    import sys

    script = tmp_path / "ensemble.py"
    script.write_text(ENSEMBLE_SCRIPT)
    out = {}
    for n in sorted({1, devices}):
        proc = subprocess.run([sys.executable, str(script), str(n), str(tmp_path / f"s{n}"),
                               str(tmp_path / f"p{n}.npy")], capture_output=True, text=True,
                              timeout=300)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        out[n] = np.load(tmp_path / f"p{n}.npy")
        assert list((tmp_path / f"s{n}" / "jaxmlp-exported").glob("*.bin"))
    stored, loaded, plain = out[devices]
    np.testing.assert_array_equal(stored, plain)
    np.testing.assert_array_equal(loaded, plain)
    np.testing.assert_allclose(plain, out[1][2], rtol=0, atol=1e-6)


def test_programs_with_user_code_are_not_stored(iris, store):
    X, y = iris
    quiet_fit(MLPClassifier((5,), activation=jax.nn.softplus, max_iter=5), X, y)
    assert not store.exists() or not list(store.glob("*.bin"))


def test_a_damaged_stored_program_is_replaced(iris, store):
    X, y = iris

    def fit():
        return quiet_fit(MLPClassifier((6,), max_iter=10, random_state=0), X, y)

    first = fit()
    (path,) = store.glob("*.bin")
    path.write_bytes(b"not a program")
    exported._memo.clear()
    second = fit()
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert path.read_bytes() != b"not a program"


def test_a_new_optax_does_not_reuse_programs_the_old_one_lowered(iris, store, monkeypatch):
    """Issue #21 defect 7: the key had JAX's version only. optax's code is traced into the
    program, so another optax version must lower and store a program of its own."""
    X, y = iris

    def fit():
        return quiet_fit(MLPClassifier((6,), max_iter=5, random_state=0), X, y)

    fit()
    assert len(list(store.glob("*.bin"))) == 1
    versions = dict(exported._versions())
    assert {"jax", "jaxlib", "optax", "numpy"} <= versions.keys()
    bumped = tuple((k, v + ".post1" if k == "optax" else v) for k, v in versions.items())
    monkeypatch.setattr(exported, "_versions", lambda: bumped)
    exported._memo.clear()
    fit()
    assert len(list(store.glob("*.bin"))) == 2


def _maps() -> int:
    with open("/proc/self/maps", "rb") as f:
        return sum(1 for _ in f)


@pytest.mark.skipif(exported._max_map_count() is None, reason="Linux's per-process map limit")
def test_a_process_crowded_with_programs_releases_them_before_the_next_fit(monkeypatch):
    """Each live XLA:CPU program holds memory maps; a test worker that had fitted a few
    hundred models passed the kernel's vm.max_map_count and XLA crashed (a segmentation
    fault in CI). Past the mark, the next fit releases every compiled program first."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), rng.integers(0, 2, 60)
    for width in range(2, 8):  # distinct programs, kept by JAX
        quiet_fit(MLPClassifier(hidden_layer_sizes=(width,), max_iter=2), X, y)
    crowded = _maps()
    assert not exported.release_if_crowded(limit=crowded + 10_000)  # below the mark: kept
    assert _maps() >= crowded - 50
    monkeypatch.setattr(exported, "CROWDED", 0.0)  # every fit now finds the process crowded
    quiet_fit(MLPClassifier(hidden_layer_sizes=(9,), max_iter=2), X, y)
    assert _maps() < crowded - 500  # the six fits' programs were unmapped
    monkeypatch.setattr(exported, "CROWDED", 0.5)
    ref = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    again = quiet_fit(MLPClassifier(**ref.get_params()), X, y)  # compiled anew: same model
    np.testing.assert_array_equal(again.coefs_[0], quiet_fit(ref, X, y).coefs_[0])
