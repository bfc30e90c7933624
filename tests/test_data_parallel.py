"""One fit data-parallel over a device mesh equals the one-device fit (issue #13, part 2).

JAX fixes its device count at start-up, so each check runs in a fresh Python with
``XLA_FLAGS=--xla_force_host_platform_device_count=4`` (four simulated CPU devices).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

FOUR = {"XLA_FLAGS": "--xla_force_host_platform_device_count=4"}


def run_python(code: str, env: dict | None = None, timeout: int = 240) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line last."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_classifier_on_four_devices_equals_one_device_and_splits_each_batch():
    result = run_python(
        """
        import json, re, warnings
        import numpy as np, jax
        from sklearn.datasets import make_classification
        import jaxmlp
        from jaxmlp.core import compiled
        warnings.simplefilter("ignore")
        X, y = make_classification(1000, 10, n_classes=3, n_informative=5, random_state=0)
        X = X.astype(np.float32)
        kw = dict(hidden_layer_sizes=(32,), solver="adam", max_iter=20, batch_size=64,
                  random_state=0, tol=0.0)
        one = jaxmlp.MLPClassifier(**kw).fit(X, y)
        seen = []
        real = compiled._run_chunk
        def spy(fn, program, *args):
            seen.append((fn, program, args))
            return real(fn, program, *args)
        compiled._run_chunk = spy
        four = jaxmlp.MLPClassifier(**kw, devices=4).fit(X, y)
        fn, program, args = seen[-1]
        hlo = real.lower(fn, program, *args).compile().as_text()
        print(json.dumps({
            "devices": len(jax.devices()),
            "mesh": program.mesh.size,
            "diff": float(np.abs(one.predict_proba(X) - four.predict_proba(X)).max()),
            "curve": float(np.abs(np.subtract(one.loss_curve_, four.loss_curve_)).max()),
            "n_iter": [one.n_iter_, four.n_iter_],
            "all_reduce": "all-reduce" in hlo,
            "hidden_rows": sorted(set(int(m) for m in re.findall(r"f32\\[(\\d+),32\\]", hlo))),
        }))
        """,
        FOUR,
    )
    assert result["devices"] == 4 and result["mesh"] == 4
    assert result["n_iter"] == [20, 20]
    assert result["diff"] < 1e-5
    assert result["curve"] < 1e-5
    # data-parallel, not replicated: the hidden layer of a 64-row batch is computed in
    # parts of 16 rows per device, and the gradients are summed across devices
    assert result["all_reduce"]
    assert 16 in result["hidden_rows"] and 64 not in result["hidden_rows"]


def test_fit_function_on_two_devices_equals_one_and_too_many_devices_is_refused():
    result = run_python(
        """
        import json
        import numpy as np
        import jaxmlp
        from jaxmlp.data.toy import tutorial_split
        from jaxmlp.workflows.fit import TrainConfig
        split = tutorial_split()
        net = jaxmlp.mlp((16,))
        cfg = TrainConfig(epochs=20, batch_size=32)
        one = jaxmlp.fit(net, "adam", split, cfg, learning_rate=0.01)
        two = jaxmlp.fit(net, "adam", split, cfg, learning_rate=0.01, devices=2)
        leaves = jax.tree_util.tree_leaves
        diff = max(float(np.abs(a - b).max())
                   for a, b in zip(leaves(one.params), leaves(two.params)))
        try:
            jaxmlp.fit(net, "adam", split, cfg, devices=8)
            error = ""
        except ValueError as e:
            error = str(e)
        print(json.dumps({"diff": diff, "acc": [float(one.history.test_acc[-1]),
                          float(two.history.test_acc[-1])], "error": error}))
        """.replace("import jaxmlp\n", "import jaxmlp, jax\n", 1),
        FOUR,
    )
    assert result["diff"] < 1e-5
    assert result["acc"][0] == pytest.approx(result["acc"][1], abs=1e-6)
    assert "devices=8 but JAX sees 4 cpu device(s)" in result["error"]
    assert "xla_force_host_platform_device_count=8" in result["error"]
